"""Offers from proposal through peer review to publication and withdrawal, each step in the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.catalog.domain import (
    CANCELLATION_POLICIES,
    DEFAULT_DECISION_DAYS,
    DEFAULT_POLICY,
    DEFAULT_VAT_RATE,
    OfferAction,
    OfferStatus,
    can_view,
    check_editable,
    check_format_change,
    check_participants,
    check_providers,
    check_review,
    check_reviewer,
    check_submittable,
    fee_tiers_of,
    is_upcoming,
    next_status,
)
from services.catalog.framework import check_competences
from services.catalog.models import (
    Member,
    Offer,
    OfferHistoryEntry,
    OfferProvider,
    OfferReview,
)
from services.catalog.offer_events import announce, record_published, record_updated
from services.catalog.search import index_offer
from shared.db import fetch_page
from shared.errors import Forbidden, NotFound, Unprocessable
from shared.events.declarations import CoproviderInvited, OfferReviewed, OfferWithdrawn
from shared.outbox import record_event


@dataclass(frozen=True)
class Viewer:
    """Who asks: a member id (None when no token came along) and the roles of the token."""

    member_id: str | None
    roles: frozenset[str] = field(default_factory=frozenset)


ANONYMOUS = Viewer(None)


def visible_offer(db: Session, offer_id: str, viewer: Viewer, *, lock: bool = False) -> Offer:
    offer = db.get(Offer, offer_id, with_for_update=lock)
    # An offer the caller may not see is reported as missing, so drafts cannot be probed by id.
    if offer is None or not can_view(OfferStatus(offer.status), offer.provider_ids, viewer.member_id, viewer.roles):
        raise NotFound(f"offer {offer_id} not found")
    return offer


def own_offer(db: Session, offer_id: str, member_id: str) -> Offer:
    """The offer, locked, if `member_id` proposed it: only they change it, its providers and its sessions."""
    # Locked, so that a session scheduled while the offer is being published is announced exactly once.
    offer = visible_offer(db, offer_id, Viewer(member_id), lock=True)
    if offer.provider_id != member_id:
        raise Forbidden("only the member who proposed this offer may change it")
    return offer


def note(db: Session, offer: Offer, actor_id: str, action: str, now: datetime, detail: str = "") -> None:
    """One line of the offer's audit trail, with the status the step left it in."""
    db.add(OfferHistoryEntry(offer_id=offer.id, actor_id=actor_id, action=action, status=offer.status,
                             detail=detail, at=now))


# --- proposing and changing -------------------------------------------------------------------------------
def create_offer(db: Session, provider_id: str, fields: dict[str, Any]) -> Offer:
    now = datetime.now(UTC)
    offer = Offer(
        id=str(uuid.uuid4()),
        provider_id=provider_id,
        status=OfferStatus.DRAFT.value,
        summary="",
        vat_rate=DEFAULT_VAT_RATE,
        cancellation_policy=DEFAULT_POLICY,
        fee_tiers=[list(tier) for tier in CANCELLATION_POLICIES[DEFAULT_POLICY]],
        minimum_participants=0,
        decision_days_before=DEFAULT_DECISION_DAYS,
        created_at=now,
        updated_at=now,
        sessions=[],
        providers=[],
        learning_gain=None,  # so the answer needs no lazy load after the transaction: a new offer has none yet
    )
    fields = {"providers": [{"member_id": provider_id, "share_percent": 100}], **fields}
    _apply(db, offer, fields, now)  # before the offer joins the session, whose queries would flush it half-filled
    db.add(offer)
    note(db, offer, provider_id, "create", now)
    return offer


def update_offer(db: Session, offer_id: str, member_id: str, changes: dict[str, Any]) -> Offer:
    offer = own_offer(db, offer_id, member_id)
    status = OfferStatus(offer.status)
    check_editable(status, changes)
    if "format" in changes:
        check_format_change(changes["format"], [scheduled.seats for scheduled in offer.sessions])
    now = datetime.now(UTC)
    _apply(db, offer, changes, now)
    offer.updated_at = now
    note(db, offer, member_id, "update", now, ", ".join(sorted(changes)))
    if status is OfferStatus.PUBLISHED:
        # Booking and billing take the new price, VAT and policy for bookings made from now on.
        record_updated(db, offer, now)
    return offer


def _apply(db: Session, offer: Offer, fields: dict[str, Any], now: datetime) -> None:
    # `fields` comes from the strict request schema, which holds only what a provider may set.
    fields = dict(fields)
    providers = fields.pop("providers", None)
    if "competences" in fields:
        check_competences(db, fields["competences"])
    if "cancellation_policy" in fields or "fee_tiers" in fields:
        policy = fields.pop("cancellation_policy", offer.cancellation_policy)
        tiers = fields.pop("fee_tiers", None)
        offer.fee_tiers = [list(tier) for tier in fee_tiers_of(
            policy, [(tier["days_before"], tier["fee_percent"]) for tier in tiers or ()])]
        offer.cancellation_policy = policy
    for name, value in fields.items():
        setattr(offer, name, value)
    check_participants(offer.minimum_participants, offer.maximum_participants)
    if {"title", "summary", "description"} & set(fields):
        index_offer(offer)
    if providers is not None:
        _set_providers(db, offer, {entry["member_id"]: entry["share_percent"] for entry in providers}, now)


def _set_providers(db: Session, offer: Offer, shares: dict[str, int], now: datetime) -> None:
    """Providers and shares as the proposing member wants them; a co-provider who is new or whose share changed
    is invited (again) and must accept before the offer can be submitted."""
    check_providers(offer.provider_id, shares)
    co_providers = set(shares) - {offer.provider_id}
    known = set(db.scalars(select(Member.id).where(Member.id.in_(co_providers)))) if co_providers else set()
    strangers = sorted(co_providers - known)
    if strangers:
        raise Unprocessable("co-providers must be members of the academy",
                            errors={"providers": [f"no member {member_id}" for member_id in strangers]})
    current = {provider.member_id: provider for provider in offer.providers}
    for gone in set(current) - set(shares):
        offer.providers.remove(current[gone])
    for position, (member_id, share) in enumerate(shares.items()):
        provider = current.get(member_id)
        if provider is None:
            provider = OfferProvider(member_id=member_id, share_percent=share)
            offer.providers.append(provider)
        elif provider.share_percent == share:
            provider.position = position
            continue
        provider.position, provider.share_percent = position, share
        if member_id == offer.provider_id:
            provider.accepted_at = now
            continue
        provider.accepted_at = None
        record_event(db, CoproviderInvited(offer_id=offer.id, title=offer.title, member_id=member_id,
                                           invited_by=offer.provider_id, share_percent=share, invited_at=now))
        note(db, offer, offer.provider_id, "invite", now, f"{member_id} for {share} %")


def accept_co_teaching(db: Session, offer_id: str, member_id: str) -> Offer:
    """A co-provider agrees to teach the offer for the share they were invited with; agreeing twice changes nothing."""
    offer = visible_offer(db, offer_id, Viewer(member_id), lock=True)
    provider = next((entry for entry in offer.providers if entry.member_id == member_id), None)
    if provider is None:
        raise NotFound(f"offer {offer_id} not found")
    if provider.accepted_at is None:
        now = datetime.now(UTC)
        provider.accepted_at = now
        note(db, offer, member_id, "accept", now, f"{provider.share_percent} %")
    return offer


# --- the life cycle ---------------------------------------------------------------------------------------
def submit_offer(db: Session, offer_id: str, member_id: str) -> Offer:
    offer = own_offer(db, offer_id, member_id)
    now = datetime.now(UTC)
    offer.status = next_status(OfferStatus(offer.status), OfferAction.SUBMIT).value
    check_submittable([scheduled.starts_at for scheduled in offer.sessions if scheduled.cancelled_at is None], now,
                      awaiting=[provider.member_id for provider in offer.providers if provider.accepted_at is None])
    # The framework may have changed since the draft was written.
    check_competences(db, offer.competences)
    offer.submitted_at = offer.updated_at = now
    note(db, offer, member_id, "submit", now)
    return offer


def review_offer(db: Session, offer_id: str, reviewer: Viewer, review: dict[str, Any]) -> OfferReview:
    """Record a reviewer's decision; an approval publishes the offer with its upcoming sessions."""
    offer = visible_offer(db, offer_id, reviewer, lock=True)
    check_reviewer(reviewer.roles, offer.provider_ids, reviewer.member_id)
    decision = OfferAction(review["decision"])
    offer.status = next_status(OfferStatus(offer.status), decision).value
    check_review(decision, review["comment"], review["checklist"])
    now = datetime.now(UTC)
    recorded = OfferReview(id=str(uuid.uuid4()), offer_id=offer.id, reviewer_id=reviewer.member_id,
                           decision=decision.value, comment=review["comment"], checklist=review["checklist"],
                           reviewed_at=now)
    db.add(recorded)
    offer.updated_at = now
    note(db, offer, reviewer.member_id, decision.value, now, review["comment"])
    record_event(db, OfferReviewed(offer_id=offer.id, title=offer.title, provider_ids=offer.provider_ids,
                                   reviewer_id=reviewer.member_id, decision=decision.value,
                                   comment=review["comment"], reviewed_at=now))
    if OfferStatus(offer.status) is OfferStatus.PUBLISHED:
        offer.published_at = now
        record_published(db, offer, now)
        for scheduled in offer.sessions:
            if scheduled.cancelled_at is None and is_upcoming(scheduled.starts_at, now):
                announce(db, scheduled)
    return recorded


def withdraw_offer(db: Session, offer_id: str, member_id: str) -> Offer:
    """Take a published offer off the market; sessions already booked take place."""
    offer = own_offer(db, offer_id, member_id)
    offer.status = next_status(OfferStatus(offer.status), OfferAction.WITHDRAW).value
    now = datetime.now(UTC)
    offer.updated_at = now
    note(db, offer, member_id, "withdraw", now)
    record_event(db, OfferWithdrawn(offer_id=offer.id, withdrawn_at=now))
    return offer


# --- reading ----------------------------------------------------------------------------------------------
def offers_of(db: Session, member_id: str, page: int, per_page: int) -> tuple[int, list[Offer]]:
    """The offers a member provides or proposed, in any status, the last changed first."""
    query = (select(Offer).where(Offer.providers.any(OfferProvider.member_id == member_id))
             .order_by(Offer.updated_at.desc(), Offer.id))
    return fetch_page(db, query, page, per_page)


def review_queue(db: Session, reviewer: Viewer, page: int, per_page: int) -> tuple[int, list[Offer]]:
    """Offers waiting for review, the longest waiting first, except the reviewer's own."""
    check_reviewer(reviewer.roles, (), reviewer.member_id)
    query = (select(Offer)
             .where(Offer.status == OfferStatus.IN_REVIEW.value,
                    ~Offer.providers.any(OfferProvider.member_id == reviewer.member_id))
             .order_by(Offer.submitted_at, Offer.id))
    return fetch_page(db, query, page, per_page)


def offer_history(db: Session, offer_id: str, viewer: Viewer) -> list[OfferHistoryEntry]:
    """The audit trail of an offer, for its providers and the reviewers (a public offer's too: no one else)."""
    offer = visible_offer(db, offer_id, viewer)
    if not can_view(OfferStatus.DRAFT, offer.provider_ids, viewer.member_id, viewer.roles):
        raise NotFound(f"offer {offer_id} not found")
    return list(db.scalars(select(OfferHistoryEntry).where(OfferHistoryEntry.offer_id == offer.id)
                           .order_by(OfferHistoryEntry.id)))
