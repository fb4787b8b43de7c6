"""Booking's read models of the catalog's members, offers and sessions, kept from catalog's events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.booking.commands import cancel_session, keep_offer, open_session, reschedule_session, withdraw_offer
from services.booking.domain import policy_from_offer, policy_to_json
from services.booking.models import MemberRecord, OfferRecord
from shared.events import ParsedEvent
from shared.events.declarations import (
    MemberDeleted,
    MemberRegistered,
    MemberUpdated,
    OfferPublished,
    OfferPublishedV2,
    OfferSnapshot,
    OfferUpdated,
    OfferWithdrawn,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)

FORMER_MEMBER = "Former member"


def offer_published_v1(event: ParsedEvent[OfferPublished], db: Session) -> None:
    """An older offer event: kept only if v2 has not told more about the offer (the catalog publishes both)."""
    offer = event.data
    if db.get(OfferRecord, offer.offer_id) is not None:
        return
    keep_offer(db, OfferRecord(
        offer_id=offer.offer_id, provider_id=offer.provider_id, title=offer.title, price_cents=offer.price_cents,
        currency=offer.currency, competences=list(offer.competences), level=offer.level,
        minimum_participants=offer.minimum_participants, decision_days_before=offer.decision_days_before,
    ))


def _keep_snapshot(db: Session, offer_id: str, offer: OfferSnapshot) -> None:
    keep_offer(db, OfferRecord(
        offer_id=offer_id, provider_id=offer.providers[0].member_id,
        provider_ids=[provider.member_id for provider in offer.providers], title=offer.title,
        price_cents=offer.price_cents, currency=offer.currency, competences=list(offer.competences),
        level=str(offer.level), minimum_participants=offer.minimum_participants,
        decision_days_before=offer.decision_days_before,
        cancellation_policy=policy_to_json(policy_from_offer(
            [(tier.days_before, tier.fee_percent) for tier in offer.fee_tiers])),
    ))


def offer_published(event: ParsedEvent[OfferPublishedV2], db: Session) -> None:
    _keep_snapshot(db, event.data.offer_id, event.data.offer)


def offer_updated(event: ParsedEvent[OfferUpdated], db: Session) -> None:
    """Price and policy of bookings made from now on; bookings already made keep theirs."""
    _keep_snapshot(db, event.data.offer_id, event.data.offer)


def offer_withdrawn(event: ParsedEvent[OfferWithdrawn], db: Session) -> None:
    withdraw_offer(db, event.data.offer_id, event.data.withdrawn_at)


def member_registered(event: ParsedEvent[MemberRegistered], db: Session) -> None:
    member = event.data
    if db.get(MemberRecord, member.member_id) is None:  # an update may have overtaken it
        db.add(MemberRecord(member_id=member.member_id, display_name=member.display_name))


def member_updated(event: ParsedEvent[MemberUpdated], db: Session) -> None:
    member = event.data
    record = db.get(MemberRecord, member.member_id)
    if record is None:
        record = MemberRecord(member_id=member.member_id)
        db.add(record)
    elif record.deleted_at is not None or (record.updated_at and record.updated_at >= member.updated_at):
        return
    record.display_name, record.organisation = member.display_name, member.organisation
    record.updated_at = member.updated_at


def member_deleted(event: ParsedEvent[MemberDeleted], db: Session) -> None:
    """Bookings stay (seats, fees and certificates were real), under a name that is nobody's."""
    db.merge(MemberRecord(member_id=event.data.member_id, display_name=FORMER_MEMBER, organisation=None,
                          deleted_at=event.data.deleted_at))


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
    MemberUpdated: member_updated,
    MemberDeleted: member_deleted,
    OfferPublished: offer_published_v1,
    OfferPublishedV2: offer_published,
    OfferUpdated: offer_updated,
    OfferWithdrawn: offer_withdrawn,
    SessionScheduled: session_scheduled,
    SessionRescheduled: session_rescheduled,
    SessionCancelled: session_cancelled,
}
