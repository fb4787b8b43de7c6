"""Booking: seats per format, waiting lists, cancellations and attendance."""

from pathlib import Path

from services.booking.app import create_app
from services.booking.commands import announce_availability, decide_due_sessions
from services.booking.handlers import HANDLERS
from services.booking.models import Base
from shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="booking",
    metadata=Base.metadata,
    handlers=HANDLERS,
    create_app=create_app,
    migrations=Path(__file__).parent / "migrations",
    scheduled={"go/no-go": decide_due_sessions, "availability": announce_availability},
)
