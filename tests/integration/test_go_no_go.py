"""Go / no-go: at its decision time a session short of its minimum is called off with full refunds, once."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from services import booking
from services.booking.commands import decide_due_sessions, place_booking
from services.booking.models import Booking, SeatCount, SessionRecord
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.events import parse_event
from shared.events.declarations import BookingCancelled, GoDecisionMade, OfferPublished, SessionScheduled
from shared.tables import outbox
from shared.testing import delivery, sample

SERVICE = booking.SERVICE  # the service under test, for the fixtures in conftest.py
PRICE_CENTS = 8_000


def open_session(runtime, *, minimum: int, seats: int, starts_in: timedelta, decision_days: int = 7) -> str:
    offer_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    starts_at = datetime.now(UTC) + starts_in
    consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime.session_factory)
    events = [
        delivery(sample(OfferPublished, offer_id=offer_id, price_cents=PRICE_CENTS, minimum_participants=minimum,
                        decision_days_before=decision_days)),
        delivery(sample(SessionScheduled, session_id=session_id, offer_id=offer_id, starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=2), seats={"online": seats, "in_person": 0})),
    ]
    assert [s.outcome for s in consumer.handle_batch(events)] == [Outcome.ACK, Outcome.ACK]
    return session_id


def book(runtime, session_id: str, *members: str) -> None:
    for member in members:
        with runtime.session_factory.begin() as db:
            place_booking(db, member, session_id, "online")


def events_of(runtime, event_class) -> list:
    with runtime.session_factory() as db:
        bodies = db.scalars(select(outbox.c.body).where(outbox.c.routing_key == event_class.event_type.routing_key)
                            .order_by(outbox.c.seq)).all()
    return [parse_event(body).data for body in bodies]


def test_a_session_short_of_its_minimum_is_called_off_with_full_refunds(runtime):
    session_id = open_session(runtime, minimum=3, seats=2, starts_in=timedelta(days=5))  # decision 2 days ago
    book(runtime, session_id, "ann", "ben", "cem")  # two seats and one waiting: 2 < 3

    assert decide_due_sessions(runtime.session_factory) == 1

    [decision] = events_of(runtime, GoDecisionMade)
    assert (decision.outcome, decision.confirmed, decision.minimum) == ("called_off", 2, 3)
    cancelled = {event.member_id: event for event in events_of(runtime, BookingCancelled)}
    assert {m: (e.reason, e.previous_status, e.fee_cents, e.refund_cents) for m, e in cancelled.items()} == {
        "ann": ("called_off", "confirmed", 0, PRICE_CENTS),
        "ben": ("called_off", "confirmed", 0, PRICE_CENTS),
        "cem": ("called_off", "waitlisted", 0, 0),
    }
    with runtime.session_factory() as db:
        assert {b.status for b in db.scalars(select(Booking).where(Booking.session_id == session_id))} == {"cancelled"}
        seats = db.get(SeatCount, (session_id, "online"))
        assert (seats.confirmed, seats.waiting) == (0, 0)
        assert db.get(SessionRecord, session_id).outcome == "called_off"
    assert decide_due_sessions(runtime.session_factory) == 0, "decided once"


def test_a_session_that_reached_its_minimum_goes_ahead_and_one_not_yet_due_waits(runtime):
    enough = open_session(runtime, minimum=2, seats=5, starts_in=timedelta(days=3))
    later = open_session(runtime, minimum=5, seats=5, starts_in=timedelta(days=30))
    book(runtime, enough, "ann", "ben")

    assert decide_due_sessions(runtime.session_factory) == 1

    [decision] = events_of(runtime, GoDecisionMade)
    assert (decision.session_id, decision.outcome) == (enough, "go")
    assert events_of(runtime, BookingCancelled) == []
    with runtime.session_factory() as db:
        assert db.get(SessionRecord, later).decided_at is None


def test_decisions_missed_during_downtime_are_caught_up_but_a_begun_session_is_not_called_off(runtime):
    overdue = open_session(runtime, minimum=4, seats=5, starts_in=timedelta(days=2))
    book(runtime, overdue, "ann")
    begun = open_session(runtime, minimum=4, seats=5, starts_in=timedelta(days=2))
    book(runtime, begun, "ben")
    with runtime.session_factory.begin() as db:
        db.execute(update(SessionRecord).where(SessionRecord.session_id == begun)
                   .values(starts_at=datetime.now(UTC) - timedelta(hours=1)))

    assert decide_due_sessions(runtime.session_factory) == 2

    outcomes = {event.session_id: event.outcome for event in events_of(runtime, GoDecisionMade)}
    assert outcomes == {overdue: "called_off", begun: "go"}


def test_two_workers_deciding_at_once_decide_each_session_once(runtime_on_each_database):
    runtime = runtime_on_each_database
    sessions = [open_session(runtime, minimum=2, seats=3, starts_in=timedelta(days=4)) for _ in range(30)]
    for index, session_id in enumerate(sessions):
        book(runtime, session_id, f"m{index}")
    start_together = threading.Barrier(2)
    counts = []

    def worker() -> None:
        start_together.wait()
        counts.append(decide_due_sessions(runtime.session_factory))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(counts) == len(sessions)
    decisions = Counter(event.session_id for event in events_of(runtime, GoDecisionMade))
    assert set(decisions) == set(sessions) and set(decisions.values()) == {1}
    assert len(events_of(runtime, BookingCancelled)) == len(sessions)
