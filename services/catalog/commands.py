"""What catalog's API asks of it, each in the caller's transaction: rules from domain, events to the outbox."""

from __future__ import annotations

import functools
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from services.catalog.domain import (
    MEMBER_ROLE,
    PUBLIC,
    OfferAction,
    OfferStatus,
    can_view,
    check_editable,
    check_format_change,
    check_location,
    check_schedule,
    check_seats,
    check_submittable,
    is_upcoming,
    next_status,
    normalise_email,
    with_role,
)
from services.catalog.models import Member, Offer, OfferCompetence, OfferSession
from shared.db import fetch_page
from shared.errors import Conflict, Forbidden, NotFound, Unauthorized
from shared.events.declarations import MemberRegistered, OfferPublished, SessionScheduled
from shared.outbox import record_event

WRONG_CREDENTIALS = "the e-mail address or the password is wrong"


# --- members ----------------------------------------------------------------------------------------------
def register_member(db: Session, email: str, password: str, display_name: str) -> Member:
    member = Member(
        id=str(uuid.uuid4()),
        email=normalise_email(email),
        display_name=display_name,
        password_hash=generate_password_hash(password),
        roles=[MEMBER_ROLE],
        created_at=datetime.now(UTC),
    )
    db.add(member)
    try:
        db.flush()
    except IntegrityError as exc:
        # The unique index on the normalised address decides, so two registrations racing cannot both win.
        raise Conflict(
            "a member with this e-mail address exists already", errors={"email": ["already registered"]}
        ) from exc
    record_event(db, MemberRegistered(
        member_id=member.id, email=member.email, display_name=member.display_name, registered_at=member.created_at,
    ))
    return member


@functools.cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(db: Session, email: str, password: str) -> Member:
    """The member these credentials belong to; an unknown address and a wrong password fail alike."""
    member = db.scalar(select(Member).where(Member.email == normalise_email(email)))
    # An unknown address still costs one hash check, so the answer time does not tell which one was wrong.
    password_matches = check_password_hash(member.password_hash if member else _decoy_hash(), password)
    if member is None or not password_matches:
        raise Unauthorized(WRONG_CREDENTIALS)
    return member


def grant_role(db: Session, email: str, role: str) -> Member:
    """Give a registered member another role; it is in the tokens issued from now on."""
    member = db.scalar(select(Member).where(Member.email == normalise_email(email)).with_for_update())
    if member is None:
        raise NotFound(f"no member is registered with {email}")
    member.roles = with_role(member.roles, role)
    return member


def member_by_id(db: Session, member_id: str) -> Member:
    member = db.get(Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} not found")
    return member


# --- offers -----------------------------------------------------------------------------------------------
def visible_offer(db: Session, offer_id: str, viewer_id: str | None, *, lock: bool = False) -> Offer:
    offer = db.get(Offer, offer_id, with_for_update=lock)
    # An offer the caller may not see is reported as missing, so drafts cannot be probed by id.
    if offer is None or not can_view(OfferStatus(offer.status), offer.provider_id, viewer_id):
        raise NotFound(f"offer {offer_id} not found")
    return offer


def _own_offer(db: Session, offer_id: str, member_id: str) -> Offer:
    # Locked, so that a session scheduled while the offer is being submitted is announced exactly once.
    offer = visible_offer(db, offer_id, member_id, lock=True)
    if offer.provider_id != member_id:
        raise Forbidden("only the provider of this offer may change it")
    return offer


def create_offer(db: Session, provider_id: str, fields: dict[str, Any]) -> Offer:
    now = datetime.now(UTC)
    offer = Offer(
        id=str(uuid.uuid4()),
        provider_id=provider_id,
        status=OfferStatus.DRAFT.value,
        created_at=now,
        updated_at=now,
        sessions=[],
    )
    _apply(offer, fields)
    db.add(offer)
    return offer


def update_offer(db: Session, offer_id: str, member_id: str, changes: dict[str, Any]) -> Offer:
    offer = _own_offer(db, offer_id, member_id)
    check_editable(OfferStatus(offer.status))
    if "format" in changes:
        check_format_change(changes["format"], [scheduled.seats for scheduled in offer.sessions])
    _apply(offer, changes)
    offer.updated_at = datetime.now(UTC)
    return offer


def _apply(offer: Offer, fields: dict[str, Any]) -> None:
    # `fields` comes from the strict request schema, which holds only what a provider may set.
    for name, value in fields.items():
        setattr(offer, name, value)


def submit_offer(db: Session, offer_id: str, member_id: str) -> Offer:
    offer = _own_offer(db, offer_id, member_id)
    now = datetime.now(UTC)
    new_status = next_status(OfferStatus(offer.status), OfferAction.SUBMIT)
    check_submittable([scheduled.starts_at for scheduled in offer.sessions], now)
    offer.status = new_status.value
    offer.updated_at = now
    if new_status is OfferStatus.PUBLISHED:
        _publish(db, offer, now)
    return offer


def _publish(db: Session, offer: Offer, now: datetime) -> None:
    offer.published_at = now
    record_event(db, OfferPublished(
        offer_id=offer.id,
        provider_id=offer.provider_id,
        title=offer.title,
        topic=offer.topic,
        format=offer.format,
        competences=list(offer.competences),
        level=offer.level,
        language=offer.language,
        price_cents=offer.price_cents,
        currency=offer.currency,
        published_at=now,
    ))
    for scheduled in offer.sessions:
        if is_upcoming(scheduled.starts_at, now):
            _announce(db, scheduled)


def search_offers(db: Session, filters: dict[str, Any], page: int, per_page: int) -> tuple[int, list[Offer]]:
    """Published offers matching every given filter, most recently published first, and how many there are."""
    conditions = [Offer.status.in_([status.value for status in PUBLIC])]
    if "q" in filters:
        text_columns = (Offer.title, Offer.topic, Offer.description)
        conditions.append(or_(*(column.icontains(filters["q"], autoescape=True) for column in text_columns)))
    if "competence" in filters:
        wanted = filters["competence"].lower()
        conditions.append(Offer.competence_rows.any(func.lower(OfferCompetence.name) == wanted))
    for name in ("format", "level", "language"):
        if name in filters:
            conditions.append(getattr(Offer, name) == filters[name])
    query = select(Offer).where(*conditions).order_by(Offer.published_at.desc(), Offer.id)
    return fetch_page(db, query, page, per_page)


# --- sessions ---------------------------------------------------------------------------------------------
def schedule_session(db: Session, offer_id: str, member_id: str, details: dict[str, Any]) -> OfferSession:
    offer = _own_offer(db, offer_id, member_id)
    now = datetime.now(UTC)
    seats, location = details["seats"], details.get("location")
    check_schedule(details["starts_at"], details["ends_at"], now)
    check_seats(offer.format, seats)
    check_location(seats, location)
    scheduled = OfferSession(
        id=str(uuid.uuid4()),
        offer_id=offer.id,
        starts_at=details["starts_at"],
        ends_at=details["ends_at"],
        seats_online=seats["online"],
        seats_in_person=seats["in_person"],
        location=location,
        link=details.get("link"),
        created_at=now,
    )
    offer.sessions.append(scheduled)
    # A draft's sessions are announced when the offer is published; a published offer's at once.
    if OfferStatus(offer.status) in PUBLIC:
        _announce(db, scheduled)
    return scheduled


def visible_session(db: Session, session_id: str, viewer_id: str | None) -> OfferSession:
    scheduled = db.get(OfferSession, session_id)
    if scheduled is None or not can_view(OfferStatus(scheduled.offer.status), scheduled.offer.provider_id, viewer_id):
        raise NotFound(f"session {session_id} not found")
    return scheduled


def _announce(db: Session, scheduled: OfferSession) -> None:
    record_event(db, SessionScheduled(
        session_id=scheduled.id,
        offer_id=scheduled.offer_id,
        starts_at=scheduled.starts_at,
        ends_at=scheduled.ends_at,
        seats=scheduled.seats,
        location=scheduled.location,
        link=scheduled.link,
    ))
