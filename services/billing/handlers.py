"""Billing's reactions to events: a read model of offers, and an invoice for every confirmed booking."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.billing.commands import issue_invoice
from services.billing.models import OfferRecord
from shared.consumer import RetryLater
from shared.events import ParsedEvent
from shared.events.declarations import BookingConfirmed, BookingPromoted, OfferPublished


def offer_published(event: ParsedEvent[OfferPublished], db: Session) -> None:
    offer = event.data
    db.merge(
        OfferRecord(
            offer_id=offer.offer_id,
            provider_id=offer.provider_id,
            title=offer.title,
            price_cents=offer.price_cents,
            currency=offer.currency,
        )
    )


def booking_confirmed(event: ParsedEvent[BookingConfirmed | BookingPromoted], db: Session) -> None:
    """A seat is held (booked at once, or promoted from the waiting list): invoice it once."""
    booking = event.data
    offer = db.get(OfferRecord, booking.offer_id)
    if offer is None:
        # Events may overtake each other; the offer's own event is on its way.
        raise RetryLater(f"offer {booking.offer_id} is not known yet")
    issue_invoice(db, booking_id=booking.booking_id, member_id=booking.member_id, offer=offer)


HANDLERS = {
    OfferPublished: offer_published,
    BookingConfirmed: booking_confirmed,
    BookingPromoted: booking_confirmed,
}
