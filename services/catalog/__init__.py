"""Catalog: members and their tokens, offers and their sessions, and the public gateway."""

from pathlib import Path

# search_cache's listeners raise the search generation wherever the catalog writes, the worker included.
from services.catalog import search_cache  # noqa: F401
from services.catalog.app import create_app
from services.catalog.commands import forget_stale_credentials
from services.catalog.handlers import HANDLERS
from services.catalog.models import Base
from services.catalog.proposals import open_and_close_due_votes
from services.catalog.registration import forget_unconfirmed
from shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="catalog",
    metadata=Base.metadata,
    handlers=HANDLERS,
    create_app=create_app,
    migrations=Path(__file__).parent / "migrations",
    scheduled={"stale credentials": forget_stale_credentials, "votes": open_and_close_due_votes,
               "unconfirmed registrations": forget_unconfirmed},
)
