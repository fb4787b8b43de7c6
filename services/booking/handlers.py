"""Booking's read model of the catalog, kept from catalog's events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.booking.models import OfferRecord, SessionRecord
from shared.events import ParsedEvent
from shared.events.declarations import OFFER_PUBLISHED, SESSION_SCHEDULED


def offer_published(event: ParsedEvent, session: Session) -> None:
    data = event.data
    session.merge(OfferRecord(offer_id=data["offer_id"], provider_id=data["provider_id"], title=data["title"]))


def session_scheduled(event: ParsedEvent, session: Session) -> None:
    data = event.data
    session.merge(
        SessionRecord(
            session_id=data["session_id"],
            offer_id=data["offer_id"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            seats_online=data["seats"].get("online", 0),
            seats_in_person=data["seats"].get("in_person", 0),
        )
    )


HANDLERS = {
    OFFER_PUBLISHED.type: offer_published,
    SESSION_SCHEDULED.type: session_scheduled,
}
