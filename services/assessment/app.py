"""Assessment service: competence framework, career paths and (later) self-assessments."""

from __future__ import annotations

from flask import Flask

from services.assessment.api import blp
from shared.service import Runtime
from shared.web import create_service_app


def create_app(runtime: Runtime) -> Flask:
    return create_service_app(runtime, title="Academy assessment", blueprints=[blp])
