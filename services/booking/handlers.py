"""Booking's read models of the catalog's members, offers and sessions, kept from catalog's events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.booking.commands import cancel_session, keep_offer, open_session, reschedule_session
from services.booking.models import MemberRecord, OfferRecord
from shared.events import ParsedEvent
from shared.events.declarations import (
    MemberRegistered,
    OfferPublished,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)


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


def session_rescheduled(event: ParsedEvent[SessionRescheduled], db: Session) -> None:
    moved = event.data
    reschedule_session(db, moved.session_id, moved.starts_at, moved.ends_at, moved.location, moved.link)


def session_cancelled(event: ParsedEvent[SessionCancelled], db: Session) -> None:
    cancel_session(db, event.data.session_id, event.data.cancelled_at)


HANDLERS = {
    MemberRegistered: member_registered,
    OfferPublished: offer_published,
    SessionScheduled: session_scheduled,
    SessionRescheduled: session_rescheduled,
    SessionCancelled: session_cancelled,
}
