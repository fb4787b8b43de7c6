"""What booking's API and handlers ask of it, each in the caller's transaction: rules from domain, events out."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from services.booking.calendar import booking_calendar
from services.booking.certificate_pdf import CertificateContent, render_certificate
from services.booking.domain import (
    ACTIVE,
    DEFAULT_CANCELLATION_POLICY,
    DEFAULT_DECISION_DAYS,
    BookingStatus,
    FormatSeats,
    cancellation_terms,
    check_attendance_window,
    check_bookable,
    decision_time,
    go_or_call_off,
    policy_from_json,
    policy_to_json,
    session_hours,
)
from services.booking.models import Booking, Certificate, MemberRecord, OfferRecord, SeatCount, SessionRecord
from shared.auth import Principal
from shared.consumer import RetryLater
from shared.db import fetch_page
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.events.declarations import (
    SEAT_FORMATS,
    AttendanceRecorded,
    Attendee,
    AvailabilityChanged,
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    BookingWaitlisted,
    GoDecisionMade,
    SeatsLeft,
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
        self.row = row
        self.before = (row.capacity, row.confirmed, row.waiting) if row else (0, 0, 0)
        # Seats are free only while nobody waits, so a booking reads the list only when every seat is taken.
        waiting = self._waiting_ids() if with_waiting or (row and row.confirmed >= row.capacity) else []
        self.seats = FormatSeats(self.before[0], self.before[1], waiting)

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
        # The session row is locked and loaded already; marked once until the next availability.changed.
        record = self.db.get(SessionRecord, self.session_id)
        if record is not None and record.availability_changed_at is None:
            record.availability_changed_at = datetime.now(UTC)
        if self.row is None:
            self.db.add(SeatCount(session_id=self.session_id, format=self.format, **after))
            return
        capacity, confirmed, waiting = self.before
        changed = self.db.execute(
            update(SeatCount)
            .where(SeatCount.session_id == self.session_id, SeatCount.format == self.format,
                   SeatCount.capacity == capacity, SeatCount.confirmed == confirmed, SeatCount.waiting == waiting)
            .values(**after)
            # The one row it changes is loaded: set below, where the ORM would evaluate the conditions against every
            # SeatCount in the session, under SQLite's write turn (bench/booking_write_turn.py).
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            # Only a writer that skipped the row lock gets here; the database kept the seats consistent.
            raise Conflict("the seats of this session changed meanwhile; try again")
        for name, value in after.items():
            set_committed_value(self.row, name, value)
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
    if record.cancelled_at is not None or record.outcome == "called_off":
        raise Conflict("this session does not take place")
    seats = SeatsOfFormat(db, session_id, format, with_waiting=False)
    active = Booking.status.in_([status.value for status in ACTIVE])
    already = db.scalar(
        select(func.count()).where(Booking.session_id == session_id, Booking.member_id == member_id, active)
    )
    now = datetime.now(UTC)
    check_bookable(format, seats.seats.capacity, bool(already), starts_at=record.starts_at, now=now)
    offer = db.get(OfferRecord, record.offer_id)
    if offer is not None and offer.withdrawn_at is not None:
        raise Conflict("this offer was withdrawn by its providers and takes no more bookings")
    if offer is not None and offer.is_provider(member_id):
        raise Conflict("providers do not book their own sessions")
    booking = Booking(
        id=str(uuid.uuid4()),
        session_id=session_id,
        offer_id=record.offer_id,
        member_id=member_id,
        format=format,
        price_cents=offer.price_cents if offer else None,
        currency=offer.currency if offer else None,
        # The policy in force when the seat was booked: a later change of the offer does not reach it.
        cancellation_policy=(offer.cancellation_policy if offer and offer.cancellation_policy
                             else policy_to_json(DEFAULT_CANCELLATION_POLICY)),
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
            free_until=booking.free_cancellation_until,
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


# --- attendance and certificates --------------------------------------------------------------------------
def record_attendance(db: Session, principal: Principal, session_id: str, booking_ids: list[str]) -> list[Booking]:
    """The session's provider says who attended (the whole list; a correction replaces it): attendees get a
    certificate, anyone dropped from the list loses theirs. Returns the session's seat holders."""
    record = _lock_session(db, session_id)
    offer = db.get(OfferRecord, record.offer_id) if record else None
    if record is None or offer is None:
        raise NotFound(f"session {session_id} not found")
    if not offer.is_provider(principal.member_id):
        raise Forbidden("only a provider of this session records its attendance")
    now = datetime.now(UTC)
    check_attendance_window(starts_at=record.starts_at, ends_at=record.ends_at, now=now)
    holders = list(db.scalars(
        select(Booking).where(Booking.session_id == session_id, Booking.status == BookingStatus.CONFIRMED.value)
        .order_by(Booking.created_at, Booking.id)
    ))
    attended = set(booking_ids)
    unknown = attended - {booking.id for booking in holders}
    if unknown:
        raise Unprocessable("only seat holders of this session can have attended",
                            errors={"booking_ids": [f"no seat of this session: {', '.join(sorted(unknown))}"]})
    certificates = {c.booking_id: c for c in db.scalars(
        select(Certificate).where(Certificate.booking_id.in_([booking.id for booking in holders])))}
    attendees = []
    for booking in holders:
        booking.attended = booking.id in attended
        certificate = certificates.get(booking.id)
        if booking.attended:
            if certificate is None:
                certificate = Certificate(id=secrets.token_urlsafe(32), booking_id=booking.id,
                                          member_id=booking.member_id, issued_at=now)
                db.add(certificate)
            certificate.revoked_at = None
            attendees.append(Attendee(booking_id=booking.id, member_id=booking.member_id,
                                      certificate_id=certificate.id))
        elif certificate is not None and certificate.revoked_at is None:
            certificate.revoked_at = now
    record_event(db, AttendanceRecorded(session_id=session_id, offer_id=record.offer_id,
                                        provider_id=offer.provider_id, attendees=attendees, recorded_at=now))
    return holders


def certificate_for_verification(db: Session, certificate_id: str) -> dict:
    """What anyone holding the id may learn: the holder's name, the offer, the date, and whether it is valid."""
    certificate = db.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound("no certificate has this id")
    content = _certificate_content(db, certificate)
    return {"id": certificate.id, "holder": content.holder, "offer_title": content.offer_title,
            "date": content.starts_at.date(), "valid": certificate.revoked_at is None}


def certificate_pdf(db: Session, principal: Principal, certificate_id: str) -> bytes:
    """The holder's certificate as a PDF; to anyone else it does not exist, and a revoked one is gone."""
    certificate = db.get(Certificate, certificate_id)
    if (certificate is None or certificate.revoked_at is not None
            or not principal.may_read(certificate.member_id, BOOKING_READERS)):
        raise NotFound("no certificate has this id")
    return render_certificate(_certificate_content(db, certificate))


def _certificate_content(db: Session, certificate: Certificate) -> CertificateContent:
    booking = certificate.booking
    offer = db.get(OfferRecord, booking.offer_id)
    holder = db.get(MemberRecord, booking.member_id)
    providers = db.scalars(select(MemberRecord).where(
        MemberRecord.member_id.in_(offer.provider_ids or [offer.provider_id]))).all() if offer else []
    return CertificateContent(
        certificate_id=certificate.id,
        holder=holder.display_name if holder else "Academy member",
        offer_title=offer.title if offer else "Academy session",
        starts_at=booking.session.starts_at,
        hours=session_hours(booking.session.starts_at, booking.session.ends_at),
        competences=list(offer.competences or []) if offer else [],
        level=offer.level if offer else None,
        providers=sorted(provider.display_name for provider in providers),
        verify_path=f"/api/v1/certificates/{certificate.id}",
    )


# --- read model of the catalog ----------------------------------------------------------------------------
def open_session(db: Session, session_id: str, offer_id: str, starts_at: datetime, ends_at: datetime,
                 seats: dict[str, int], location: str | None, link: str | None) -> None:
    """Keep a session as catalog announced it; more seats than before promote waiting members."""
    _lock_session(db, session_id)
    offer = db.get(OfferRecord, offer_id)
    days_before = offer.decision_days_before if offer else DEFAULT_DECISION_DAYS
    db.merge(SessionRecord(session_id=session_id, offer_id=offer_id, starts_at=starts_at, ends_at=ends_at,
                           location=location, link=link, decision_at=decision_time(starts_at, days_before)))
    db.flush()
    now = datetime.now(UTC)
    for format in SEAT_FORMATS:
        format_seats = SeatsOfFormat(db, session_id, format, with_waiting=True)
        # Catalog refuses fewer seats than are booked; an announcement that still has fewer keeps every holder.
        promoted = format_seats.seats.resize(max(seats.get(format, 0), format_seats.seats.confirmed))
        _promote(db, promoted, now)
        format_seats.save()


def reschedule_session(db: Session, session_id: str, starts_at: datetime, ends_at: datetime,
                       location: str | None, link: str | None) -> None:
    """The provider moved the session: bookings stay, holders may cancel free until the new start."""
    record = _lock_session(db, session_id)
    if record is None:
        raise RetryLater(f"session {session_id} is not known yet")
    offer = db.get(OfferRecord, record.offer_id)
    record.starts_at, record.ends_at, record.location, record.link = starts_at, ends_at, location, link
    if record.decided_at is None:
        days_before = offer.decision_days_before if offer else DEFAULT_DECISION_DAYS
        record.decision_at = decision_time(starts_at, days_before)
    db.execute(update(Booking).where(Booking.session_id == session_id,
                                     Booking.status == BookingStatus.CONFIRMED.value)
               .values(free_cancellation_until=starts_at))


def cancel_session(db: Session, session_id: str, cancelled_at: datetime) -> None:
    """The provider cancelled the session: every booking ends with a full refund; nothing more can be booked."""
    record = _lock_session(db, session_id)
    if record is None:
        raise RetryLater(f"session {session_id} is not known yet")
    if record.cancelled_at is not None:
        return
    record.cancelled_at = cancelled_at
    _end_every_booking(db, record, datetime.now(UTC), reason="session_cancelled")


def keep_offer(db: Session, offer: OfferRecord) -> None:
    """Keep what catalog published of an offer; sessions not yet decided take its decision time."""
    db.merge(offer)
    for record in db.scalars(select(SessionRecord).where(SessionRecord.offer_id == offer.offer_id,
                                                         SessionRecord.decided_at.is_(None))):
        record.decision_at = decision_time(record.starts_at, offer.decision_days_before)


def withdraw_offer(db: Session, offer_id: str, withdrawn_at: datetime) -> None:
    """No more bookings for a withdrawn offer; seats already booked stay, as their sessions still take place."""
    offer = db.get(OfferRecord, offer_id)
    if offer is None:
        raise RetryLater(f"offer {offer_id} is not known yet")
    offer.withdrawn_at = withdrawn_at


# --- availability -----------------------------------------------------------------------------------------
def announce_availability(session_factory: sessionmaker) -> int:
    """One availability.changed per session whose seats changed since its last one; returns how many went out."""
    with session_factory.begin() as db:
        changed = db.scalars(
            select(SessionRecord).where(SessionRecord.availability_changed_at.is_not(None))
            .order_by(SessionRecord.availability_changed_at).limit(500).with_for_update(skip_locked=True)
        ).all()
        counts = db.scalars(select(SeatCount).where(SeatCount.session_id.in_([r.session_id for r in changed])))
        by_session: dict[str, list[SeatCount]] = {}
        for count in counts:
            by_session.setdefault(count.session_id, []).append(count)
        for record in changed:
            formats = [SeatsLeft(format=count.format, capacity=count.capacity, free=count.capacity - count.confirmed,
                                 waiting=count.waiting)
                       for count in sorted(by_session.get(record.session_id, []), key=lambda count: count.format)]
            record_event(db, AvailabilityChanged(session_id=record.session_id, offer_id=record.offer_id,
                                                 formats=formats, changed_at=record.availability_changed_at))
            record.availability_changed_at = None
    return len(changed)


# --- go / no-go --------------------------------------------------------------------------------------------
DECISIONS_PER_TRANSACTION = 20


def decide_due_sessions(session_factory: sessionmaker) -> int:
    """Decide every session whose decision time has come, however long ago (after downtime too); returns how
    many were decided. Safe with two workers at once: a session is decided under its row lock, and only once."""
    decided = 0
    while True:
        with session_factory.begin() as db:
            now = datetime.now(UTC)
            due = db.scalars(
                select(SessionRecord)
                .where(SessionRecord.decision_at <= now, SessionRecord.decided_at.is_(None))
                .order_by(SessionRecord.decision_at).limit(DECISIONS_PER_TRANSACTION)
                .with_for_update(skip_locked=True)
            ).all()
            for record in due:
                _decide(db, record, now)
        decided += len(due)
        if len(due) < DECISIONS_PER_TRANSACTION:
            return decided


def _decide(db: Session, record: SessionRecord, now: datetime) -> None:
    offer = db.get(OfferRecord, record.offer_id)
    minimum = offer.minimum_participants if offer else 0
    confirmed = sum(db.scalars(select(SeatCount.confirmed).where(SeatCount.session_id == record.session_id)))
    outcome = go_or_call_off(confirmed=confirmed, minimum=minimum, starts_at=record.starts_at, now=now)
    record.decided_at, record.outcome = now, outcome
    if outcome == "called_off":
        _end_every_booking(db, record, now, reason="called_off")
    record_event(db, GoDecisionMade(session_id=record.session_id, offer_id=record.offer_id, outcome=outcome,
                                    confirmed=confirmed, minimum=minimum, decided_at=now))


def _end_every_booking(db: Session, record: SessionRecord, now: datetime, *, reason: str) -> None:
    """Every booking of the session ends with what was paid refunded in full, and nobody waits any more."""
    for format in SEAT_FORMATS:
        seats = SeatsOfFormat(db, record.session_id, format, with_waiting=True)
        seats.seats.close()
        seats.save()
    active = [status.value for status in ACTIVE]
    for booking in db.scalars(select(Booking).where(Booking.session_id == record.session_id,
                                                    Booking.status.in_(active))):
        previous = booking.status
        refund = (booking.price_cents or 0) if previous == BookingStatus.CONFIRMED.value else 0
        booking.status, booking.waiting_position = BookingStatus.CANCELLED.value, None
        booking.cancelled_at, booking.fee_cents, booking.refund_cents = now, 0, refund
        record_event(db, BookingCancelled(
            booking_id=booking.id, session_id=booking.session_id, offer_id=booking.offer_id,
            member_id=booking.member_id, format=booking.format, previous_status=previous, reason=reason,
            fee_cents=0, refund_cents=refund, currency=booking.currency, cancelled_at=now,
        ))


# --- reading ----------------------------------------------------------------------------------------------
def bookings_of(db: Session, principal: Principal, filters: dict, page: int, per_page: int
                ) -> tuple[int, list[Booking]]:
    """One page of bookings, newest first, and how many match: a member's own; an operator's of anyone."""
    conditions = []
    if principal.has_any(BOOKING_READERS):
        if "member_id" in filters:
            conditions.append(Booking.member_id == filters["member_id"])
    elif filters.get("member_id", principal.member_id) != principal.member_id:
        raise Forbidden("only operators see other members' bookings")
    else:
        conditions.append(Booking.member_id == principal.member_id)
    if "status" in filters:
        conditions.append(Booking.status == filters["status"])
    if "session_id" in filters:
        conditions.append(Booking.session_id == filters["session_id"])
    if "when" in filters:
        now = datetime.now(UTC)
        ahead = SessionRecord.starts_at > now if filters["when"] == "upcoming" else SessionRecord.starts_at <= now
        conditions.append(Booking.session.has(ahead))
    query = select(Booking).where(*conditions).order_by(Booking.created_at.desc(), Booking.id)
    return fetch_page(db, query, page, per_page)


def participants_of(db: Session, principal: Principal, session_id: str) -> list[dict]:
    """A session's seat holders and waiting members, by name only, for its provider."""
    record = db.get(SessionRecord, session_id)
    offer = db.get(OfferRecord, record.offer_id) if record else None
    if offer is None:
        raise NotFound(f"session {session_id} not found")
    if not offer.is_provider(principal.member_id):
        raise Forbidden("only a provider of this session sees its participants")
    rows = db.execute(
        select(Booking, MemberRecord.display_name, MemberRecord.organisation)
        .outerjoin(MemberRecord, MemberRecord.member_id == Booking.member_id)
        .where(Booking.session_id == session_id, Booking.status != BookingStatus.CANCELLED.value)
        .order_by(Booking.status, Booking.waiting_position, Booking.created_at)
    ).all()
    return [{"booking_id": booking.id, "name": name or "Academy member", "organisation": organisation,
             "format": booking.format, "status": booking.status, "waiting_position": booking.waiting_position,
             "attended": booking.attended}
            for booking, name, organisation in rows]


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
