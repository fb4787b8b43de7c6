"""Notify service: tells each member what concerns them."""

from __future__ import annotations

from flask import Flask

from services.notify.api import blp, preferences_blp
from services.notify.settings import mail_settings
from shared.service import Runtime
from shared.web import create_service_app


def create_app(runtime: Runtime) -> Flask:
    mail_settings()  # bad SMTP settings stop the service at start, not at its first mail
    return create_service_app(runtime, title="Academy notify", blueprints=[blp, preferences_blp])
