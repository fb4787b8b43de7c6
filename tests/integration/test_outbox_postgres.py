"""The outbox relay on PostgreSQL: rows committed out of order still go out, other processes' commits wake it,
and its idle look costs the same after a million relayed events with no vacuum."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import func, select, text

from shared.db import make_engine, make_session_factory
from shared.events.declarations import BookingConfirmed
from shared.outbox import OutboxRelay, listen_for_outbox, record_event, wait_for_outbox
from shared.tables import messaging_metadata, outbox
from shared.testing import sample


class Collector:
    """Stands in for the broker: the relay's database work is what these tests look at."""

    def __init__(self) -> None:
        self.published: list[str] = []

    def publish(self, messages) -> None:
        self.published += [message_id for _, _, message_id in messages]


@pytest.fixture
def postgres(make_postgres_database):
    engine = make_engine(make_postgres_database("outbox"))
    messaging_metadata.create_all(engine)
    # Whatever the server's setting: dead index entries stay until a vacuum, which this table never gets.
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE outbox SET (autovacuum_enabled = false)"))
    yield engine
    engine.dispose()


def test_a_row_committed_after_a_newer_one_was_published_still_goes_out(postgres):
    sessions, bus = make_session_factory(postgres), Collector()
    relay = OutboxRelay("svc", sessions, bus)
    slow = sessions()
    slow.begin()
    late = record_event(slow, sample(BookingConfirmed, booking_id="late"))["id"]  # takes the lower number
    with sessions.begin() as db:
        early = record_event(db, sample(BookingConfirmed, booking_id="early"))["id"]

    assert relay.relay_once() == 1 and bus.published == [early]
    slow.commit()
    slow.close()

    assert relay.relay_once() == 1 and bus.published == [early, late]
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(outbox)) == 0, "published rows leave the table"


def test_a_commit_in_another_process_wakes_the_relay(postgres):
    """Another engine stands for the web process: its NOTIFY reaches this process's listener."""
    stop = threading.Event()
    listener = threading.Thread(target=listen_for_outbox, args=(postgres, stop, 0.2), daemon=True)
    listener.start()
    other = make_engine(postgres.url.render_as_string(hide_password=False))
    try:
        time.sleep(0.5)  # LISTEN is in place
        woken = []
        waiter = threading.Thread(target=lambda: (wait_for_outbox(10.0), woken.append(time.monotonic())))
        waiter.start()
        time.sleep(0.1)
        committed = time.monotonic()
        with make_session_factory(other).begin() as db:
            record_event(db, sample(BookingConfirmed))
        waiter.join(10)
        assert woken and woken[0] - committed < 2.0
    finally:
        stop.set()
        listener.join(5)
        other.dispose()


def idle_look_buffers(engine, floor: int) -> int:
    """Shared buffers the relay's look from `floor` touches (hit or read): work, not time."""
    query = (select(outbox.c.seq, outbox.c.routing_key, outbox.c.body, outbox.c.event_id)
             .where(outbox.c.seq > floor).order_by(outbox.c.seq).limit(500).with_for_update(skip_locked=True))
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.begin() as connection:
        [[plan]] = connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}")).all()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    top = plan[0]["Plan"]
    return top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)


def test_the_idle_look_costs_the_same_after_a_million_relayed_events(postgres):
    sessions, bus = make_session_factory(postgres), Collector()
    relay = OutboxRelay("svc", sessions, bus, batch_size=50_000)
    with sessions.begin() as db:
        record_event(db, sample(BookingConfirmed))
    relay.relay_once()
    before = idle_look_buffers(postgres, relay.watermark.floor())

    with postgres.begin() as connection:
        connection.execute(text(
            "INSERT INTO outbox (event_id, routing_key, body, created_at) "
            "SELECT md5(n::text), 'booking.confirmed', '{}', now() FROM generate_series(1, 1000000) AS n"))
    relayed = 0
    while sent := relay.relay_once():
        relayed += sent
    assert relayed == 1_000_000

    after = idle_look_buffers(postgres, relay.watermark.floor())
    from_the_start = idle_look_buffers(postgres, 0)
    # One descent of the key's B-tree, a level or two deeper than in an empty table: no dead entries walked.
    assert after <= before + 6, (before, after)
    # What a look from the start (the relay's old way) costs now: the dead entries the watermark steps over.
    assert from_the_start > 100 * after, (from_the_start, after)
