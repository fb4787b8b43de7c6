"""What booking's API and handlers ask of it, each in the caller's transaction: rules from domain, events out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from services.booking.calendar import booking_calendar
from services.booking.domain import (
    ACTIVE,
    DEFAULT_CANCELLATION_POLICY,
    BookingStatus,
    FormatSeats,
    cancellation_terms,
    check_bookable,
    policy_from_json,
    policy_to_json,
)
from services.booking.models import Booking, OfferRecord, SeatCount, SessionRecord
from shared.auth import Principal
from shared.db import fetch_page
from shared.errors import Conflict, NotFound
from shared.events.declarations import (
    SEAT_FORMATS,
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    BookingWaitlisted,
)
from shared.outbox import record_event

# Roles that may read any member's booking (support); everyone else sees only their own.
BOOKING_READERS = ("operator",)


# --- seats ------------------------------------------------------------------------------------------------
class SeatsOfFormat:
    """A format's seats loaded under a row lock, saved back with a conditional update of its counts."""

    def __init__(self, db: Session, session_id: str, format: str, *, with_waiting: bool):
        self.db, self.session_id, self.format = db, session_id, format
        row = db.scalars(
            select(SeatCount).where(SeatCount.session_id == session_id, SeatCount.format == format).with_for_update()
        ).first()
        self.before = (row.capacity, row.confirmed, row.waiting) if row else (0, 0, 0)
        # Seats are free only while nobody waits, so a booking reads the list only when every seat is taken.
        waiting = self._waiting_ids() if with_waiting or (row and row.confirmed >= row.capacity) else []
        self.seats = FormatSeats(self.before[0], self.before[1], waiting)
        self.exists = row is not None

    def _waiting_ids(self) -> list[str]:
        return list(self.db.scalars(
            select(Booking.id)
            .where(Booking.session_id == self.session_id, Booking.format == self.format,
                   Booking.status == BookingStatus.WAITLISTED.value)
            .order_by(Booking.waiting_position)
        ))

    def save(self, *, renumber: bool = True) -> None:
        """Write the counts back; `renumber` stores the places in line again after someone left the list."""
        seats = self.seats
        after = {"capacity": seats.capacity, "confirmed": seats.confirmed, "waiting": len(seats.waiting)}
        if not self.exists:
            self.db.add(SeatCount(session_id=self.session_id, format=self.format, **after))
            return
        capacity, confirmed, waiting = self.before
        changed = self.db.execute(
            update(SeatCount)
            .where(SeatCount.session_id == self.session_id, SeatCount.format == self.format,
                   SeatCount.capacity == capacity, SeatCount.confirmed == confirmed, SeatCount.waiting == waiting)
            .values(**after)
        ).rowcount
        if changed != 1:
            # Only a writer that skipped the row lock gets here; the database kept the seats consistent.
            raise Conflict("the seats of this session changed meanwhile; try again")
        if renumber:
            self._renumber()

    def _renumber(self) -> None:
        """Store each waiting booking's place in line after people left or were promoted."""
        if self.seats.waiting:
            self.db.execute(
                update(Booking.__table__).where(Booking.__table__.c.id == bindparam("booking_id"))
                .values(waiting_position=bindparam("position")),
                [{"booking_id": booking_id, "position": index + 1}
                 for index, booking_id in enumerate(self.seats.waiting)],
            )


def _lock_session(db: Session, session_id: str) -> SessionRecord | None:
    """Lock the session first, in every writer the same order (session, seats, bookings), so none deadlock;
    it also keeps a member from holding two bookings of it through two formats at once."""
    return db.scalars(
        select(SessionRecord).where(SessionRecord.session_id == session_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _promote(db: Session, promoted_ids: list[str], now: datetime) -> None:
    by_id = {booking.id: booking for booking in db.scalars(select(Booking).where(Booking.id.in_(promoted_ids)))}
    for booking in (by_id[booking_id] for booking_id in promoted_ids):  # in the order of the line
        booking.status = BookingStatus.CONFIRMED.value
        booking.waiting_position = None
        booking.confirmed_at = booking.promoted_at = now
        record_event(db, BookingPromoted(
            booking_id=booking.id, session_id=booking.session_id, offer_id=booking.offer_id,
            member_id=booking.member_id, format=booking.format, promoted_at=now,
        ))


# --- booking ----------------------------------------------------------------------------------------------
def place_booking(db: Session, member_id: str, session_id: str, format: str) -> Booking:
    record = _lock_session(db, session_id)
    if record is None:
        raise NotFound(f"session {session_id} is not open for booking")
    seats = SeatsOfFormat(db, session_id, format, with_waiting=False)
    active = Booking.status.in_([status.value for status in ACTIVE])
    already = db.scalar(
        select(func.count()).where(Booking.session_id == session_id, Booking.member_id == member_id, active)
    )
    now = datetime.now(UTC)
    check_bookable(format, seats.seats.capacity, bool(already), starts_at=record.starts_at, now=now)
    offer = db.get(OfferRecord, record.offer_id)
    booking = Booking(
        id=str(uuid.uuid4()),
        session_id=session_id,
        offer_id=record.offer_id,
        member_id=member_id,
        format=format,
        price_cents=offer.price_cents if offer else None,
        currency=offer.currency if offer else None,
        cancellation_policy=policy_to_json(DEFAULT_CANCELLATION_POLICY),
        created_at=now,
        session=record,
    )
    status = seats.seats.book(booking.id)
    booking.status = status.value
    common = dict(booking_id=booking.id, session_id=session_id, offer_id=record.offer_id, member_id=member_id,
                  format=format)
    if status is BookingStatus.CONFIRMED:
        booking.confirmed_at = now
        record_event(db, BookingConfirmed(**common, confirmed_at=now))
    else:
        booking.waiting_position = seats.seats.position(booking.id)
        booking.other_format_free_seats = _free_seats_of_other_format(db, session_id, format)
        record_event(db, BookingWaitlisted(**common, position=booking.waiting_position, waitlisted_at=now))
    db.add(booking)
    seats.save(renumber=False)  # a newcomer joins at the end: nobody else's place changes
    return booking


def _free_seats_of_other_format(db: Session, session_id: str, format: str) -> int | None:
    """For a hybrid session: how many seats the other format has free (None when it offers none)."""
    other = next(name for name in SEAT_FORMATS if name != format)
    row = db.get(SeatCount, (session_id, other))
    if row is None or row.capacity == 0:
        return None
    return row.capacity - row.confirmed


def cancel_booking(db: Session, principal: Principal, booking_id: str) -> Booking:
    """The member cancels a seat or leaves the waiting list; cancelling again answers the first result."""
    booking = _own_booking(db, principal, booking_id)
    if booking.status == BookingStatus.CANCELLED.value:
        return booking
    _lock_session(db, booking.session_id)
    db.refresh(booking)  # a promotion or a cancellation may have changed it while we waited for the lock
    if booking.status == BookingStatus.CANCELLED.value:
        return booking
    now = datetime.now(UTC)
    previous = BookingStatus(booking.status)
    if previous is BookingStatus.CONFIRMED:
        terms = cancellation_terms(
            paid_cents=booking.price_cents or 0,
            policy=policy_from_json(booking.cancellation_policy),
            starts_at=booking.session.starts_at,
            now=now,
            free_since=booking.promoted_at,
        )
        fee, refund = terms.fee_cents, terms.refund_cents
    else:
        if now >= booking.session.starts_at:
            raise Conflict("this session has already started")
        fee = refund = 0  # nothing was paid for a place in line
    seats = SeatsOfFormat(db, booking.session_id, booking.format, with_waiting=True)
    promoted = seats.seats.release(booking.id, previous)
    booking.status = BookingStatus.CANCELLED.value
    booking.waiting_position = None
    booking.cancelled_at, booking.fee_cents, booking.refund_cents = now, fee, refund
    db.flush()
    _promote(db, promoted, now)
    seats.save()
    record_event(db, BookingCancelled(
        booking_id=booking.id, session_id=booking.session_id, offer_id=booking.offer_id, member_id=booking.member_id,
        format=booking.format, previous_status=previous.value, reason="member", fee_cents=fee, refund_cents=refund,
        currency=booking.currency, cancelled_at=now,
    ))
    return booking


def _own_booking(db: Session, principal: Principal, booking_id: str) -> Booking:
    booking = db.get(Booking, booking_id)
    # Someone else's booking is reported as missing, so ids cannot be probed.
    if booking is None or booking.member_id != principal.member_id:
        raise NotFound(f"booking {booking_id} not found")
    return booking


# --- read model of the catalog ----------------------------------------------------------------------------
def open_session(db: Session, session_id: str, offer_id: str, starts_at: datetime, ends_at: datetime,
                 seats: dict[str, int], location: str | None, link: str | None) -> None:
    """Keep a session as catalog announced it; more seats than before promote waiting members."""
    _lock_session(db, session_id)
    db.merge(SessionRecord(session_id=session_id, offer_id=offer_id, starts_at=starts_at, ends_at=ends_at,
                           location=location, link=link))
    db.flush()
    now = datetime.now(UTC)
    for format in SEAT_FORMATS:
        format_seats = SeatsOfFormat(db, session_id, format, with_waiting=True)
        # Catalog refuses fewer seats than are booked; an announcement that still has fewer keeps every holder.
        promoted = format_seats.seats.resize(max(seats.get(format, 0), format_seats.seats.confirmed))
        _promote(db, promoted, now)
        format_seats.save()


# --- reading ----------------------------------------------------------------------------------------------
def bookings_of(db: Session, member_id: str, page: int, per_page: int) -> tuple[int, list[Booking]]:
    """One page of the member's own bookings, newest first, and how many they hold in all."""
    query = select(Booking).where(Booking.member_id == member_id).order_by(Booking.created_at.desc(), Booking.id)
    return fetch_page(db, query, page, per_page)


def calendar_entry(db: Session, principal: Principal, booking_id: str) -> bytes:
    """The iCalendar file of one of the member's confirmed seats."""
    booking = visible_booking(db, principal, booking_id)
    if booking.status != BookingStatus.CONFIRMED.value:
        raise Conflict(f"booking {booking_id} holds no seat, so there is nothing to put in a calendar")
    offer = db.get(OfferRecord, booking.offer_id)
    session = booking.session
    return booking_calendar(booking_id=booking.id, title=offer.title if offer else "Academy session",
                            starts_at=session.starts_at, ends_at=session.ends_at, location=session.location,
                            link=session.link, stamp=datetime.now(UTC))


def visible_booking(db: Session, principal: Principal, booking_id: str) -> Booking:
    """The booking, if `principal` may read it; anyone else is told it does not exist, so ids cannot be probed."""
    booking = db.get(Booking, booking_id)
    if booking is None or not principal.may_read(booking.member_id, BOOKING_READERS):
        raise NotFound(f"booking {booking_id} not found")
    return booking
