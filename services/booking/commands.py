"""What booking's API asks of it, each in the caller's transaction: rules from domain, events to the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.booking.domain import ACTIVE, BookingStatus, check_bookable, decide_status
from services.booking.models import Booking, SessionRecord
from shared.auth import Principal
from shared.db import fetch_page
from shared.errors import NotFound
from shared.events.declarations import BookingConfirmed, BookingWaitlisted
from shared.outbox import record_event

# Roles that may read any member's booking (support); everyone else sees only their own.
BOOKING_READERS = ("operator",)


def place_booking(db: Session, member_id: str, session_id: str, format: str) -> Booking:
    # Lock the session row so two members cannot both take the last seat (SQLite serialises writers anyway).
    record = db.scalars(
        select(SessionRecord).where(SessionRecord.session_id == session_id).with_for_update()
    ).first()
    if record is None:
        raise NotFound(f"session {session_id} is not open for booking")
    active = Booking.status.in_([status.value for status in ACTIVE])
    already = db.scalar(
        select(func.count()).where(Booking.session_id == session_id, Booking.member_id == member_id, active)
    )
    now = datetime.now(UTC)
    check_bookable(format, record.seats(format), bool(already), starts_at=record.starts_at, now=now)
    # Counted before the new booking is added, which autoflush would otherwise count along.
    taken = _count_by_status(db, session_id, format)
    status = decide_status(record.seats(format), taken[BookingStatus.CONFIRMED])
    booking = Booking(
        id=str(uuid.uuid4()),
        session_id=session_id,
        offer_id=record.offer_id,
        member_id=member_id,
        format=format,
        status=status.value,
        created_at=now,
    )
    db.add(booking)
    common = dict(booking_id=booking.id, session_id=session_id, offer_id=record.offer_id, member_id=member_id,
                  format=format)
    if status is BookingStatus.CONFIRMED:
        record_event(db, BookingConfirmed(**common, confirmed_at=now))
    else:
        position = taken[BookingStatus.WAITLISTED] + 1
        record_event(db, BookingWaitlisted(**common, position=position, waitlisted_at=now))
    return booking


def _count_by_status(db: Session, session_id: str, format: str) -> dict[BookingStatus, int]:
    rows = db.execute(
        select(Booking.status, func.count())
        .where(Booking.session_id == session_id, Booking.format == format)
        .group_by(Booking.status)
    ).all()
    counts = dict.fromkeys(BookingStatus, 0)
    counts.update({BookingStatus(status): count for status, count in rows})
    return counts


def bookings_of(db: Session, member_id: str, page: int, per_page: int) -> tuple[int, list[Booking]]:
    """One page of the member's own bookings, newest first, and how many they hold in all."""
    query = select(Booking).where(Booking.member_id == member_id).order_by(Booking.created_at.desc(), Booking.id)
    return fetch_page(db, query, page, per_page)


def visible_booking(db: Session, principal: Principal, booking_id: str) -> Booking:
    """The booking, if `principal` may read it; anyone else is told it does not exist, so ids cannot be probed."""
    booking = db.get(Booking, booking_id)
    if booking is None or not principal.may_read(booking.member_id, BOOKING_READERS):
        raise NotFound(f"booking {booking_id} not found")
    return booking
