"""Free seats and the waiting list go out as availability.changed, one event per session for a rush of changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services import booking
from services.booking.commands import announce_availability, cancel_booking, place_booking
from shared.auth import Principal
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.events import parse_event
from shared.events.declarations import AvailabilityChanged, OfferPublished, SeatsLeft, SessionScheduled
from shared.tables import outbox
from shared.testing import delivery, sample

SERVICE = booking.SERVICE  # the service under test, for the fixtures in conftest.py


def open_session(runtime, seats: dict[str, int]) -> str:
    offer_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    starts_at = datetime.now(UTC) + timedelta(days=30)
    consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime.session_factory)
    assert [s.outcome for s in consumer.handle_batch([
        delivery(sample(OfferPublished, offer_id=offer_id)),
        delivery(sample(SessionScheduled, session_id=session_id, offer_id=offer_id, starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=2), seats=seats)),
    ])] == [Outcome.ACK, Outcome.ACK]
    return session_id


def announced(runtime) -> list[AvailabilityChanged]:
    with runtime.session_factory() as db:
        bodies = db.scalars(select(outbox.c.body).where(
            outbox.c.routing_key == AvailabilityChanged.event_type.routing_key).order_by(outbox.c.seq)).all()
    return [parse_event(body).data for body in bodies]


def test_a_rush_of_bookings_is_announced_once_with_the_latest_counts(runtime):
    session_id = open_session(runtime, {"online": 2, "in_person": 1})
    assert announce_availability(runtime.session_factory) == 1  # the new session's seats
    bookings = []
    for index in range(4):
        with runtime.session_factory.begin() as db:
            bookings.append(place_booking(db, f"m{index}", session_id, "online"))

    assert announce_availability(runtime.session_factory) == 1
    assert announce_availability(runtime.session_factory) == 0, "nothing changed since"

    first, latest = announced(runtime)
    assert first.formats == [SeatsLeft(format="in_person", capacity=1, free=1, waiting=0),
                             SeatsLeft(format="online", capacity=2, free=2, waiting=0)]
    assert latest.formats[1] == SeatsLeft(format="online", capacity=2, free=0, waiting=2)

    with runtime.session_factory.begin() as db:
        cancel_booking(db, Principal("m0", ("member",)), bookings[0].id)
    assert announce_availability(runtime.session_factory) == 1
    assert announced(runtime)[-1].formats[1] == SeatsLeft(format="online", capacity=2, free=0, waiting=1)
