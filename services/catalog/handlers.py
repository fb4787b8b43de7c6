"""Catalog's event handlers: the competence framework's read model (ratings and demand will arrive here)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.catalog import framework
from shared.consumer import HandlerRegistry
from shared.events import ParsedEvent
from shared.events.declarations import FrameworkPublished


def framework_published(event: ParsedEvent[FrameworkPublished], db: Session) -> None:
    framework.keep_latest(db, event.data)


HANDLERS: HandlerRegistry = {
    FrameworkPublished: framework_published,
}
