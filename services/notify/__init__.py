"""Notify: in-app inbox (later e-mail and preferences), once per event and person."""

from pathlib import Path

from services.notify.app import create_app
from services.notify.handlers import HANDLERS
from services.notify.models import Base
from shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="notify",
    metadata=Base.metadata,
    handlers=HANDLERS,
    create_app=create_app,
    migrations=Path(__file__).parent / "migrations",
)
