"""Notify service: tells each member what concerns them."""

from __future__ import annotations

import logging

from flask import Flask

from services.notify.api import blp, preferences_blp
from services.notify.settings import mail_settings
from shared.service import Runtime
from shared.web import create_service_app

log = logging.getLogger(__name__)


def create_app(runtime: Runtime) -> Flask:
    settings = mail_settings()  # bad SMTP settings stop the service at start, not at its first mail
    if settings.smtp_host:
        log.info("e-mail goes to %s:%s (%s)", settings.smtp_host, settings.smtp_port, settings.smtp_security)
    else:
        log.info("no SMTP_HOST: e-mails are written as .eml files to %s", settings.mail_dir)
    return create_service_app(runtime, title="Academy notify", blueprints=[blp, preferences_blp])
