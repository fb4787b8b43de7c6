"""Cancelling and the waiting list through booking's API: fees by the policy booked, promotion in arrival order."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services import booking
from services.booking.commands import cancel_booking, place_booking
from services.booking.models import Booking, SeatCount, SessionRecord
from shared.auth import Principal
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.errors import Conflict
from shared.events import parse_event
from shared.events.declarations import (
    BookingCancelled,
    BookingPromoted,
    OfferPublished,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)
from shared.tables import outbox
from shared.testing import bearer, delivery, sample

SERVICE = booking.SERVICE  # the service under test, for the fixtures in conftest.py
PRICE_CENTS = 10_000


def new_id() -> str:
    return str(uuid.uuid4())


def open_session(consumer, seats: dict[str, int], starts_in: timedelta = timedelta(days=30), **fields) -> str:
    """A published offer with one session, announced as catalog does."""
    offer_id, session_id = new_id(), new_id()
    starts_at = datetime.now(UTC) + starts_in
    events = [
        delivery(sample(OfferPublished, offer_id=offer_id, title="Cluster strategy", price_cents=PRICE_CENTS)),
        delivery(sample(SessionScheduled, session_id=session_id, offer_id=offer_id, starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=3), seats=seats, **fields)),
    ]
    assert [s.outcome for s in consumer.handle_batch(events)] == [Outcome.ACK, Outcome.ACK]
    return session_id


def book(client, session_id: str, member_id: str, format: str = "online"):
    return client.post("/api/v1/bookings", json={"session_id": session_id, "format": format},
                       headers=bearer(member_id))


def cancel(client, booking_id: str, member_id: str):
    return client.post(f"/api/v1/bookings/{booking_id}/cancel", headers=bearer(member_id))


def events_of(runtime, event_class) -> list:
    with runtime.session_factory() as db:
        bodies = db.scalars(select(outbox.c.body).where(outbox.c.routing_key == event_class.event_type.routing_key)
                            .order_by(outbox.c.seq)).all()
    return [parse_event(body).data for body in bodies]


def move_start(runtime, session_id: str, starts_in: timedelta) -> None:
    with runtime.session_factory.begin() as db:
        db.execute(update(SessionRecord).where(SessionRecord.session_id == session_id)
                   .values(starts_at=datetime.now(UTC) + starts_in))


def test_cancelling_a_seat_promotes_the_first_in_line_and_moves_the_line_up(runtime, client, consumer):
    session_id = open_session(consumer, {"online": 1})
    seat = book(client, session_id, "ann").json
    first, second = book(client, session_id, "ben").json, book(client, session_id, "cem").json
    assert (first["status"], first["waiting_position"], second["waiting_position"]) == ("waitlisted", 1, 2)

    cancelled = cancel(client, seat["id"], "ann")

    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled" and cancelled.json["fee_cents"] == 0
    promoted = client.get(f"/api/v1/bookings/{first['id']}", headers=bearer("ben")).json
    assert promoted["status"] == "confirmed" and promoted["waiting_position"] is None
    assert promoted["promoted_at"] is not None
    assert client.get(f"/api/v1/bookings/{second['id']}", headers=bearer("cem")).json["waiting_position"] == 1
    [event] = events_of(runtime, BookingPromoted)
    assert (event.booking_id, event.member_id) == (first["id"], "ben")
    [gone] = events_of(runtime, BookingCancelled)
    assert (gone.booking_id, gone.previous_status, gone.refund_cents) == (seat["id"], "confirmed", PRICE_CENTS)


@pytest.mark.parametrize(("starts_in", "fee"), [
    (timedelta(days=20), 0), (timedelta(days=10), PRICE_CENTS // 2), (timedelta(days=1), PRICE_CENTS),
])
def test_the_fee_follows_the_policy_at_the_moment_of_cancelling(runtime, client, consumer, starts_in, fee):
    session_id = open_session(consumer, {"online": 3})
    seat = book(client, session_id, "ann").json
    move_start(runtime, session_id, starts_in)

    answer = cancel(client, seat["id"], "ann").json

    assert (answer["fee_cents"], answer["refund_cents"]) == (fee, PRICE_CENTS - fee)
    [event] = events_of(runtime, BookingCancelled)
    assert (event.fee_cents, event.refund_cents, event.currency) == (fee, PRICE_CENTS - fee, "EUR")


def test_cancelling_twice_answers_the_first_result_and_changes_nothing(runtime, client, consumer):
    session_id = open_session(consumer, {"online": 1})
    seat = book(client, session_id, "ann").json
    book(client, session_id, "ben")
    first = cancel(client, seat["id"], "ann")

    again = cancel(client, seat["id"], "ann")

    assert again.status_code == 200 and again.json == first.json
    assert len(events_of(runtime, BookingCancelled)) == 1
    assert len(events_of(runtime, BookingPromoted)) == 1


def test_leaving_the_waiting_list_is_free_and_closes_the_gap(runtime, client, consumer):
    session_id = open_session(consumer, {"online": 1})
    book(client, session_id, "ann")
    ben, cem = book(client, session_id, "ben").json, book(client, session_id, "cem").json

    left = cancel(client, ben["id"], "ben").json

    assert (left["status"], left["fee_cents"], left["refund_cents"]) == ("cancelled", 0, 0)
    assert client.get(f"/api/v1/bookings/{cem['id']}", headers=bearer("cem")).json["waiting_position"] == 1
    assert events_of(runtime, BookingPromoted) == []


def test_another_members_booking_cannot_be_cancelled_and_a_started_one_is_a_409(runtime, client, consumer):
    session_id = open_session(consumer, {"online": 2})
    seat = book(client, session_id, "ann").json

    assert cancel(client, seat["id"], "ben").status_code == 404
    move_start(runtime, session_id, -timedelta(minutes=1))
    late = cancel(client, seat["id"], "ann")
    assert late.status_code == 409 and late.mimetype == "application/problem+json"


def test_where_and_how_to_join_is_shown_to_seat_holders_only(client, consumer):
    session_id = open_session(consumer, {"online": 1, "in_person": 1}, location="Haus der Wirtschaft",
                              link="https://meet.academy.example/r1")
    seat = book(client, session_id, "ann").json
    waiting = book(client, session_id, "ben").json

    assert (seat["location"], seat["link"]) == ("Haus der Wirtschaft", "https://meet.academy.example/r1")
    assert (waiting["location"], waiting["link"]) == (None, None)
    assert waiting["other_format_free_seats"] == 1, "the hybrid session still has an in-person seat"


def test_a_confirmed_seat_comes_as_an_icalendar_file(client, consumer):
    session_id = open_session(consumer, {"online": 1}, link="https://meet.academy.example/r2")
    seat = book(client, session_id, "ann").json
    waiting = book(client, session_id, "ben").json

    answer = client.get(f"/api/v1/bookings/{seat['id']}/calendar.ics", headers=bearer("ann"))

    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    [event] = Calendar.from_ical(answer.data).walk("VEVENT")
    assert str(event["summary"]) == "Cluster strategy" and str(event["url"]) == "https://meet.academy.example/r2"
    # iCalendar times are whole seconds.
    assert event.decoded("dtstart") == datetime.fromisoformat(seat["starts_at"]).replace(microsecond=0)
    assert client.get(f"/api/v1/bookings/{waiting['id']}/calendar.ics", headers=bearer("ben")).status_code == 409
    assert client.get(f"/api/v1/bookings/{seat['id']}/calendar.ics", headers=bearer("ben")).status_code == 404


def test_more_seats_announced_promote_waiting_members_in_order(runtime, client, consumer):
    session_id = open_session(consumer, {"online": 1})
    book(client, session_id, "ann")
    ben, cem, dan = (book(client, session_id, name).json for name in ("ben", "cem", "dan"))
    with runtime.session_factory() as db:
        record = db.get(SessionRecord, session_id)
        offer_id, starts_at, ends_at = record.offer_id, record.starts_at, record.ends_at

    grown = delivery(sample(SessionScheduled, session_id=session_id, offer_id=offer_id, starts_at=starts_at,
                            ends_at=ends_at, seats={"online": 3}))
    assert [s.outcome for s in consumer.handle_batch([grown])] == [Outcome.ACK]

    assert [event.booking_id for event in events_of(runtime, BookingPromoted)] == [ben["id"], cem["id"]]
    assert client.get(f"/api/v1/bookings/{dan['id']}", headers=bearer("dan")).json["waiting_position"] == 1


def test_cancellations_racing_bookings_keep_seats_exact_and_the_line_without_gaps(runtime_on_each_database):
    runtime, capacity, racers = runtime_on_each_database, 5, 12
    consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime.session_factory)
    session_id = open_session(consumer, {"online": capacity})
    holders = []
    for index in range(capacity + racers):
        with runtime.session_factory.begin() as db:
            holders.append(place_booking(db, f"early-{index}", session_id, "online"))
    start_together = threading.Barrier(2 * racers)

    def cancel_one(holder: Booking) -> str:
        start_together.wait()
        with runtime.session_factory.begin() as db:
            return cancel_booking(db, Principal(holder.member_id, ("member",)), holder.id).status

    def book_one(index: int) -> str:
        start_together.wait()
        with runtime.session_factory.begin() as db:
            return place_booking(db, f"late-{index}", session_id, "online").status

    with ThreadPoolExecutor(max_workers=2 * racers) as pool:
        cancelled = [pool.submit(cancel_one, holder) for holder in holders[:racers]]
        booked = [pool.submit(book_one, index) for index in range(racers)]
        outcomes = [future.result() for future in cancelled + booked]

    assert Counter(outcomes)["cancelled"] == racers
    with runtime.session_factory() as db:
        bookings = db.scalars(select(Booking).where(Booking.session_id == session_id)).all()
        count = db.get(SeatCount, (session_id, "online"))
    statuses = Counter(b.status for b in bookings)
    assert statuses["confirmed"] == count.confirmed == capacity, "every freed seat was taken again"
    positions = sorted(b.waiting_position for b in bookings if b.status == "waitlisted")
    assert positions == list(range(1, statuses["waitlisted"] + 1)) and count.waiting == statuses["waitlisted"]
    promoted = [json.loads(body) for body in _outbox_bodies(runtime, BookingPromoted)]
    assert len(promoted) == len({event["data"]["booking_id"] for event in promoted}), "each promoted once"


def _outbox_bodies(runtime, event_class) -> list[str]:
    with runtime.session_factory() as db:
        return db.scalars(select(outbox.c.body)
                          .where(outbox.c.routing_key == event_class.event_type.routing_key)).all()


def test_the_database_refuses_more_confirmed_than_seats(runtime, consumer):
    session_id = open_session(consumer, {"online": 1})
    refused = pytest.raises(IntegrityError, match="ck_session_seats_bounds|CHECK constraint")
    with refused, runtime.session_factory.begin() as db:
        db.execute(update(SeatCount).where(SeatCount.session_id == session_id).values(confirmed=2))


def test_a_booking_for_another_format_than_offered_changes_no_counts(runtime, client, consumer):
    session_id = open_session(consumer, {"online": 1})
    assert book(client, session_id, "ann", format="in_person").status_code == 422
    with runtime.session_factory() as db:
        assert db.get(SeatCount, (session_id, "online")).confirmed == 0


def test_conflict_is_raised_when_the_session_has_started(runtime, consumer):
    session_id = open_session(consumer, {"online": 1})
    move_start(runtime, session_id, -timedelta(seconds=1))
    with pytest.raises(Conflict), runtime.session_factory.begin() as db:
        place_booking(db, "ann", session_id, "online")


def session_record(runtime, session_id: str) -> SessionRecord:
    with runtime.session_factory() as db:
        return db.get(SessionRecord, session_id)


def test_a_session_cancelled_by_its_provider_refunds_everyone_and_takes_no_more_bookings(runtime, client, consumer):
    session_id = open_session(consumer, {"online": 1})
    seat, waiting = book(client, session_id, "ann").json, book(client, session_id, "ben").json
    record = session_record(runtime, session_id)
    cancelled = delivery(sample(SessionCancelled, session_id=session_id, offer_id=record.offer_id))

    assert [s.outcome for s in consumer.handle_batch([cancelled, cancelled])] == [Outcome.ACK, Outcome.ACK]

    ended = {event.booking_id: event for event in events_of(runtime, BookingCancelled)}
    assert (ended[seat["id"]].reason, ended[seat["id"]].refund_cents) == ("session_cancelled", PRICE_CENTS)
    assert (ended[waiting["id"]].previous_status, ended[waiting["id"]].refund_cents) == ("waitlisted", 0)
    assert len(ended) == 2, "a second delivery changes nothing"
    late = book(client, session_id, "cem")
    assert late.status_code == 409 and "does not take place" in late.json["detail"]


def test_a_moved_session_keeps_its_bookings_and_lets_holders_cancel_free_until_the_new_start(
        runtime, client, consumer):
    session_id = open_session(consumer, {"online": 2}, starts_in=timedelta(days=2))  # inside the 100 % tier
    seat = book(client, session_id, "ann").json
    record = session_record(runtime, session_id)
    new_start = datetime.now(UTC) + timedelta(days=1)
    moved = delivery(sample(SessionRescheduled, session_id=session_id, offer_id=record.offer_id,
                            starts_at=new_start, ends_at=new_start + timedelta(hours=3), link="https://meet/new"))

    assert [s.outcome for s in consumer.handle_batch([moved])] == [Outcome.ACK]

    shown = client.get(f"/api/v1/bookings/{seat['id']}", headers=bearer("ann")).json
    assert (shown["status"], shown["link"]) == ("confirmed", "https://meet/new")
    assert datetime.fromisoformat(shown["starts_at"]) == new_start
    assert cancel(client, seat["id"], "ann").json["fee_cents"] == 0
    assert session_record(runtime, session_id).decision_at == new_start - timedelta(days=7)


def test_a_move_of_a_session_not_known_yet_waits_for_it(consumer):
    moved = delivery(sample(SessionRescheduled, session_id=new_id()))
    [settlement] = consumer.handle_batch([moved])
    assert settlement.outcome is Outcome.RETRY and "not known yet" in settlement.reason
