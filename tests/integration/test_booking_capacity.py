"""Booking capacity on real databases: simultaneous bookings never overbook, and the waiting list has no holes."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.booking import SERVICE
from services.booking.commands import SeatsOfFormat, place_booking
from services.booking.domain import ACTIVE, BookingStatus
from services.booking.models import Booking, SeatCount
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.errors import Conflict, Unprocessable
from shared.events import ParsedEvent, parse_event
from shared.events.declarations import BookingConfirmed, BookingWaitlisted, SessionScheduled
from shared.tables import outbox
from shared.testing import delivery, make_runtime, sample

SIMULTANEOUS_MEMBERS = 20
SEAT_FORMATS = ("online", "in_person")


@pytest.fixture
def runtime(runtime_on_each_database):
    return runtime_on_each_database


def new_id() -> str:
    return str(uuid.uuid4())


def schedule_session(runtime, session_id: str, seats: dict[str, int]) -> None:
    """Open a session for booking the way production does: through catalog's session.scheduled event."""
    starts_at = datetime.now(UTC) + timedelta(days=14)
    scheduled = delivery(sample(SessionScheduled, session_id=session_id, offer_id=new_id(), starts_at=starts_at,
                                ends_at=starts_at + timedelta(hours=3), seats=seats))
    consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime.session_factory)
    assert [settlement.outcome for settlement in consumer.handle_batch([scheduled])] == [Outcome.ACK]


def book(runtime, member_id: str, session_id: str, format: str = "online") -> Booking:
    with runtime.session_factory.begin() as db:
        return place_booking(db, member_id, session_id, format)


def recorded_events(runtime, session_id: str) -> list[ParsedEvent]:
    """Booking events of one session, in the order they were written to the outbox."""
    with runtime.session_factory() as db:
        bodies = db.scalars(select(outbox.c.body).order_by(outbox.c.seq)).all()
    events = [parse_event(body.encode()) for body in bodies]
    return [event for event in events if getattr(event.data, "session_id", None) == session_id]


def bookings_of(runtime, session_id: str) -> list[Booking]:
    with runtime.session_factory() as db:
        return list(db.scalars(select(Booking).where(Booking.session_id == session_id)))


def waiting_positions(events: list[ParsedEvent], format: str = "online") -> list[int]:
    return [
        event.data.position
        for event in events
        if event.event_type is BookingWaitlisted.event_type and event.data.format == format
    ]


def test_after_saving_seats_the_transaction_reads_the_seat_counts_it_wrote(runtime):
    # The seat count loaded in the session is kept current after the booking's conditional update, for whatever
    # reads it later in the same transaction (db.get answers from the session without asking the database).
    session_id = new_id()
    schedule_session(runtime, session_id, {"online": 2})
    book(runtime, "member-1", session_id)
    with runtime.session_factory.begin() as db:
        seats = SeatsOfFormat(db, session_id, "online", with_waiting=False)
        seats.seats.book("booking-2")
        seats.save(renumber=False)
        loaded = db.get(SeatCount, (session_id, "online"))

        assert (loaded.capacity, loaded.confirmed, loaded.waiting) == (2, 2, 0)


@pytest.mark.parametrize("seats", [1, 7])
def test_simultaneous_bookings_confirm_exactly_the_seats_and_queue_the_rest(runtime, seats):
    session_id = new_id()
    schedule_session(runtime, session_id, {"online": seats})
    members = [f"member-{n:02d}" for n in range(SIMULTANEOUS_MEMBERS)]
    # Release every thread at once so their transactions overlap instead of running one after another.
    start_together = threading.Barrier(SIMULTANEOUS_MEMBERS)

    def book_at_once(member_id: str) -> str:
        start_together.wait()
        return book(runtime, member_id, session_id).status

    with ThreadPoolExecutor(max_workers=SIMULTANEOUS_MEMBERS) as pool:
        statuses = list(pool.map(book_at_once, members))

    assert Counter(statuses) == {"confirmed": seats, "waitlisted": SIMULTANEOUS_MEMBERS - seats}
    bookings = bookings_of(runtime, session_id)
    assert sorted(booking.member_id for booking in bookings) == members
    assert Counter(booking.status for booking in bookings) == Counter(statuses)

    events = recorded_events(runtime, session_id)
    confirmed_ids = {booking.id for booking in bookings if booking.status == BookingStatus.CONFIRMED}
    waitlisted_ids = {booking.id for booking in bookings if booking.status == BookingStatus.WAITLISTED}
    assert {event.subject for event in events if event.event_type is BookingConfirmed.event_type} == confirmed_ids
    assert {event.subject for event in events if event.event_type is BookingWaitlisted.event_type} == waitlisted_ids
    # In outbox order every newcomer must be one place behind the previous one: no repeats, no gaps.
    positions = waiting_positions(events)
    assert positions == list(range(positions[0], positions[0] + len(waitlisted_ids)))


def test_first_member_on_the_waiting_list_is_told_position_one(runtime):
    session_id = new_id()
    schedule_session(runtime, session_id, {"online": 1})
    for member_id in ("member-a", "member-b", "member-c"):
        book(runtime, member_id, session_id)

    assert waiting_positions(recorded_events(runtime, session_id)) == [1, 2]


# --- the booking rules against place_booking, for any sequence of attempts ----------------------------------

@pytest.fixture(scope="module")
def sqlite_runtime(tmp_path_factory):
    # One database for every example: each example books a session of its own, so examples cannot interfere.
    runtime = make_runtime(SERVICE, tmp_path_factory.mktemp("booking-rules"))
    yield runtime
    runtime.close()


def expected_outcomes(seats: dict[str, int], attempts: list[tuple[str, str]]) -> list[str]:
    """The rules stated plainly: no seats, no booking; one booking per member; a seat while one is free."""
    free = dict(seats)
    holders: set[str] = set()
    outcomes = []
    for member_id, format in attempts:
        if seats[format] == 0:
            outcomes.append("not offered")
        elif member_id in holders:
            outcomes.append("already booked")
        else:
            holders.add(member_id)
            if free[format] > 0:
                free[format] -= 1
                outcomes.append("confirmed")
            else:
                outcomes.append("waitlisted")
    return outcomes


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seats=st.fixed_dictionaries({format: st.integers(min_value=0, max_value=3) for format in SEAT_FORMATS}),
    attempts=st.lists(
        st.tuples(st.sampled_from([f"member-{n}" for n in range(6)]), st.sampled_from(SEAT_FORMATS)),
        max_size=12,
    ),
)
def test_place_booking_follows_the_booking_rules(sqlite_runtime, seats, attempts):
    session_id = new_id()
    schedule_session(sqlite_runtime, session_id, seats)
    outcomes = []
    for member_id, format in attempts:
        try:
            outcomes.append(book(sqlite_runtime, member_id, session_id, format).status)
        except Unprocessable:
            outcomes.append("not offered")
        except Conflict:
            outcomes.append("already booked")

    assert outcomes == expected_outcomes(seats, attempts)
    bookings = bookings_of(sqlite_runtime, session_id)
    confirmed = Counter(booking.format for booking in bookings if booking.status == BookingStatus.CONFIRMED)
    assert all(confirmed[format] <= seats[format] for format in SEAT_FORMATS)
    active = Counter(booking.member_id for booking in bookings if booking.status in ACTIVE)
    assert all(count == 1 for count in active.values())

    events = recorded_events(sqlite_runtime, session_id)
    assert sorted(event.subject for event in events) == sorted(booking.id for booking in bookings)
    for format in SEAT_FORMATS:
        positions = waiting_positions(events, format)
        first = positions[0] if positions else 1
        assert positions == list(range(first, first + len(positions)))
