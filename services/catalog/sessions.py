"""An offer's sessions: scheduled, moved and cancelled by its provider, announced once the offer is published."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from services.catalog.domain import PUBLIC, OfferStatus, check_location, check_schedule, check_seats, is_upcoming
from services.catalog.models import OfferSession
from services.catalog.offer_events import announce
from services.catalog.offers import Viewer, note, own_offer, visible_offer
from shared.errors import Conflict, NotFound
from shared.events.declarations import SessionCancelled, SessionRescheduled
from shared.outbox import record_event


def schedule_session(db: Session, offer_id: str, member_id: str, details: dict[str, Any]) -> OfferSession:
    offer = own_offer(db, offer_id, member_id)
    if OfferStatus(offer.status) is OfferStatus.WITHDRAWN:
        raise Conflict("a withdrawn offer gets no new sessions", errors={"allowed_actions": []})
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
    note(db, offer, member_id, "schedule_session", now, scheduled.id)
    # A draft's sessions are announced when the offer is published; a published offer's at once.
    if OfferStatus(offer.status) in PUBLIC:
        announce(db, scheduled)
    return scheduled


def visible_session(db: Session, session_id: str, viewer: Viewer) -> OfferSession:
    scheduled = db.get(OfferSession, session_id)
    if scheduled is None:
        raise NotFound(f"session {session_id} not found")
    try:
        visible_offer(db, scheduled.offer_id, viewer)
    except NotFound:
        raise NotFound(f"session {session_id} not found") from None
    return scheduled


def _own_session(db: Session, session_id: str, member_id: str) -> OfferSession:
    scheduled = visible_session(db, session_id, Viewer(member_id))
    own_offer(db, scheduled.offer_id, member_id)  # locks the offer: one change of its sessions at a time
    if scheduled.cancelled_at is not None:
        raise Conflict("this session is cancelled", errors={"allowed_actions": []})
    if not is_upcoming(scheduled.starts_at, datetime.now(UTC)):
        raise Conflict("a session that has begun cannot be changed or cancelled", errors={"allowed_actions": []})
    return scheduled


def change_session(db: Session, session_id: str, member_id: str, changes: dict[str, Any]) -> OfferSession:
    """Move a session, change its place, link or seats. Once announced, a move is session.rescheduled and new
    seats a new session.scheduled; booking keeps every seat already booked, whatever the seats say."""
    scheduled = _own_session(db, session_id, member_id)
    now = datetime.now(UTC)
    starts_at, ends_at = changes.get("starts_at", scheduled.starts_at), changes.get("ends_at", scheduled.ends_at)
    seats = {**scheduled.seats, **changes.get("seats", {})}
    location = changes.get("location", scheduled.location)
    check_schedule(starts_at, ends_at, now)
    check_seats(scheduled.offer.format, seats)
    check_location(seats, location)
    moved = (starts_at, ends_at, location, changes.get("link", scheduled.link)) != (
        scheduled.starts_at, scheduled.ends_at, scheduled.location, scheduled.link)
    reseated = seats != scheduled.seats
    scheduled.starts_at, scheduled.ends_at, scheduled.location = starts_at, ends_at, location
    scheduled.link = changes.get("link", scheduled.link)
    scheduled.seats_online, scheduled.seats_in_person = seats["online"], seats["in_person"]
    scheduled.updated_at = now
    note(db, scheduled.offer, member_id, "change_session", now, f"{scheduled.id}: {', '.join(sorted(changes))}")
    if OfferStatus(scheduled.offer.status) in PUBLIC:
        if moved:
            record_event(db, SessionRescheduled(
                session_id=scheduled.id, offer_id=scheduled.offer_id, starts_at=starts_at, ends_at=ends_at,
                location=location, link=scheduled.link, rescheduled_at=now))
        if reseated:
            announce(db, scheduled)
    return scheduled


def cancel_session(db: Session, session_id: str, member_id: str, reason: str) -> OfferSession:
    """Call a session off; booking ends every booking of it with a full refund."""
    scheduled = _own_session(db, session_id, member_id)
    now = datetime.now(UTC)
    scheduled.cancelled_at, scheduled.cancellation_reason = now, reason
    note(db, scheduled.offer, member_id, "cancel_session", now, f"{scheduled.id}: {reason}")
    # Every upcoming session of an offer that was ever published has been announced.
    if scheduled.offer.published_at is not None:
        record_event(db, SessionCancelled(session_id=scheduled.id, offer_id=scheduled.offer_id, cancelled_at=now,
                                          reason=reason))
    return scheduled
