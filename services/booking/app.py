"""Booking service: seats, waiting lists and attendance."""

from __future__ import annotations

from flask import Flask

from services.booking.api import attendance_blp, blp, certificates_blp
from shared.service import Runtime
from shared.web import create_service_app


def create_app(runtime: Runtime) -> Flask:
    return create_service_app(runtime, title="Academy booking", blueprints=[blp, attendance_blp, certificates_blp])
