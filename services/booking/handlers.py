"""Booking's read model of the catalog, kept from catalog's events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.booking.commands import open_session
from services.booking.models import OfferRecord
from shared.events import ParsedEvent
from shared.events.declarations import OfferPublished, SessionScheduled


def offer_published(event: ParsedEvent[OfferPublished], db: Session) -> None:
    offer = event.data
    db.merge(OfferRecord(offer_id=offer.offer_id, provider_id=offer.provider_id, title=offer.title,
                         price_cents=offer.price_cents, currency=offer.currency))


def session_scheduled(event: ParsedEvent[SessionScheduled], db: Session) -> None:
    scheduled = event.data
    open_session(db, scheduled.session_id, scheduled.offer_id, scheduled.starts_at, scheduled.ends_at,
                 scheduled.seats, scheduled.location, scheduled.link)


HANDLERS = {
    OfferPublished: offer_published,
    SessionScheduled: session_scheduled,
}
