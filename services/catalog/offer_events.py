"""What the catalog tells the others about offers and sessions: the offer snapshot and the events that carry it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services.catalog.framework import areas_of
from services.catalog.models import Member, Offer, OfferSession
from shared.events.declarations import (
    FeeTier,
    OfferPublished,
    OfferPublishedV2,
    OfferSnapshot,
    OfferUpdated,
    ProviderShare,
    SessionScheduled,
)
from shared.outbox import record_event


def snapshot(db: Session, offer: Offer) -> OfferSnapshot:
    proposer = db.get(Member, offer.provider_id)
    return OfferSnapshot(
        title=offer.title,
        summary=offer.summary,
        format=offer.format,
        languages=list(offer.languages),
        competences=list(offer.competences),
        areas=areas_of(db, offer.competences),
        level=offer.level,
        price_cents=offer.price_cents,
        currency=offer.currency,
        vat_rate=offer.vat_rate,
        providers=[ProviderShare(member_id=provider.member_id, share_percent=provider.share_percent)
                   for provider in offer.providers],
        cancellation_policy=offer.cancellation_policy,
        fee_tiers=[FeeTier(days_before=days, fee_percent=percent) for days, percent in offer.fee_tiers],
        minimum_participants=offer.minimum_participants,
        maximum_participants=offer.maximum_participants,
        decision_days_before=offer.decision_days_before,
        # Where the offer is taught from: the proposing member's region, as their profile states it.
        region=proposer.region if proposer is not None else None,
    )


def record_published(db: Session, offer: Offer, now: datetime) -> None:
    """offer.published v2 and, until every consumer reads v2, v1 beside it (DESIGN.md section 3)."""
    offer_snapshot = snapshot(db, offer)
    record_event(db, OfferPublishedV2(offer_id=offer.id, offer=offer_snapshot, published_at=now))
    record_event(db, OfferPublished(
        offer_id=offer.id,
        provider_id=offer_snapshot.providers[0].member_id,
        title=offer.title,
        topic=offer_snapshot.areas[0] if offer_snapshot.areas else "",
        format=offer.format,
        competences=offer_snapshot.competences,
        level=str(offer.level),
        language=offer_snapshot.languages[0],
        price_cents=offer.price_cents,
        currency=offer.currency,
        published_at=now,
        minimum_participants=offer.minimum_participants,
        decision_days_before=offer.decision_days_before,
    ))


def record_updated(db: Session, offer: Offer, now: datetime) -> None:
    record_event(db, OfferUpdated(offer_id=offer.id, offer=snapshot(db, offer), updated_at=now))


def announce(db: Session, scheduled: OfferSession) -> None:
    """session.scheduled: a new date, or new seats of a known one (booking keeps what is booked)."""
    record_event(db, SessionScheduled(
        session_id=scheduled.id,
        offer_id=scheduled.offer_id,
        starts_at=scheduled.starts_at,
        ends_at=scheduled.ends_at,
        seats=scheduled.seats,
        location=scheduled.location,
        link=scheduled.link,
    ))
