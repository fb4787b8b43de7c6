"""Billing's reactions to events: a read model of offers, and an invoice for every confirmed booking."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.billing.commands import issue_invoice
from services.billing.models import OfferRecord
from shared.consumer import RetryLater
from shared.events import ParsedEvent
from shared.events.declarations import BOOKING_CONFIRMED, OFFER_PUBLISHED


def offer_published(event: ParsedEvent, session: Session) -> None:
    data = event.data
    session.merge(
        OfferRecord(
            offer_id=data["offer_id"],
            provider_id=data["provider_id"],
            title=data["title"],
            price_cents=data["price_cents"],
            currency=data["currency"],
        )
    )


def booking_confirmed(event: ParsedEvent, session: Session) -> None:
    data = event.data
    offer = session.get(OfferRecord, data["offer_id"])
    if offer is None:
        # Events may overtake each other; the offer's own event is on its way.
        raise RetryLater(f"offer {data['offer_id']} is not known yet")
    issue_invoice(session, booking_id=data["booking_id"], member_id=data["member_id"], offer=offer)


HANDLERS = {
    OFFER_PUBLISHED.type: offer_published,
    BOOKING_CONFIRMED.type: booking_confirmed,
}
