"""Notify: the in-app inbox and e-mail, German and English, once per event and person."""

from pathlib import Path

from services.notify.app import create_app
from services.notify.commands import record_mail_outcomes
from services.notify.handlers import HANDLERS
from services.notify.mail import MAIL_EFFECT, MailSender
from services.notify.models import Base
from shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="notify",
    metadata=Base.metadata,
    handlers=HANDLERS,
    create_app=create_app,
    migrations=Path(__file__).parent / "migrations",
    side_effects={MAIL_EFFECT: MailSender()},
    scheduled={"record_mail_outcomes": record_mail_outcomes},
)
