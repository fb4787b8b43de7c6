"""Booking's read models of the catalog's members, offers and sessions, kept from catalog's events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.booking.commands import keep_offer, open_session
from services.booking.models import MemberRecord, OfferRecord
from shared.events import ParsedEvent
from shared.events.declarations import MemberRegistered, OfferPublished, SessionScheduled


def offer_published(event: ParsedEvent[OfferPublished], db: Session) -> None:
    offer = event.data
    keep_offer(db, OfferRecord(
        offer_id=offer.offer_id, provider_id=offer.provider_id, title=offer.title, price_cents=offer.price_cents,
        currency=offer.currency, competences=list(offer.competences), level=offer.level,
        minimum_participants=offer.minimum_participants, decision_days_before=offer.decision_days_before,
    ))


def member_registered(event: ParsedEvent[MemberRegistered], db: Session) -> None:
    member = event.data
    db.merge(MemberRecord(member_id=member.member_id, display_name=member.display_name))


def session_scheduled(event: ParsedEvent[SessionScheduled], db: Session) -> None:
    scheduled = event.data
    open_session(db, scheduled.session_id, scheduled.offer_id, scheduled.starts_at, scheduled.ends_at,
                 scheduled.seats, scheduled.location, scheduled.link)


HANDLERS = {
    MemberRegistered: member_registered,
    OfferPublished: offer_published,
    SessionScheduled: session_scheduled,
}
