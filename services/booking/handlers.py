"""Booking's read model of the catalog, kept from catalog's events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.booking.models import OfferRecord, SessionRecord
from shared.events import ParsedEvent
from shared.events.declarations import OfferPublished, SessionScheduled


def offer_published(event: ParsedEvent[OfferPublished], db: Session) -> None:
    offer = event.data
    db.merge(OfferRecord(offer_id=offer.offer_id, provider_id=offer.provider_id, title=offer.title))


def session_scheduled(event: ParsedEvent[SessionScheduled], db: Session) -> None:
    scheduled = event.data
    db.merge(
        SessionRecord(
            session_id=scheduled.session_id,
            offer_id=scheduled.offer_id,
            starts_at=scheduled.starts_at,
            ends_at=scheduled.ends_at,
            seats_online=scheduled.seats.get("online", 0),
            seats_in_person=scheduled.seats.get("in_person", 0),
        )
    )


HANDLERS = {
    OfferPublished: offer_published,
    SessionScheduled: session_scheduled,
}
