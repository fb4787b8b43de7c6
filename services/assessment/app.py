"""Assessment service: competence framework, self-assessments, recommendations and anonymised demand."""

from __future__ import annotations

from flask import Flask

from services.assessment.api import assessments_blp, blp, demand_blp
from shared.service import Runtime
from shared.web import create_service_app


def create_app(runtime: Runtime) -> Flask:
    return create_service_app(runtime, title="Academy assessment", blueprints=[blp, assessments_blp, demand_blp])
