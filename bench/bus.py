"""Events per second: outbox -> RabbitMQ (persistent, confirmed) -> consumer (processed ids), beside raw kombu.

    python bench/bus.py [--events N] [--database-url URL] [--amqp-url URL]

Both paths carry the same CloudEvents payloads through the same broker in the same run:
- raw: kombu publishes each message persistently and waits for its confirm, then a kombu consumer takes
  and acks them all;
- academy: rows already committed in a service's outbox are relayed with pipelined confirms and consumed
  by the academy consumer, which commits each event's processed_events row (in batches) before acking.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kombu import Connection, Exchange, Queue  # noqa: E402
from kombu import Consumer as KombuConsumer  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from shared.bus import make_bus  # noqa: E402
from shared.config import Settings  # noqa: E402
from shared.consumer import EventConsumer  # noqa: E402
from shared.db import make_engine, make_session_factory  # noqa: E402
from shared.events import build_event  # noqa: E402
from shared.events.declarations import BookingConfirmed  # noqa: E402
from shared.outbox import OutboxRelay  # noqa: E402
from shared.tables import messaging_metadata, outbox, processed_events  # noqa: E402


def envelopes(count: int) -> list[dict]:
    now = datetime.now(UTC)
    return [
        build_event(BookingConfirmed(booking_id=f"b-{index}", session_id="s-1", offer_id="o-1",
                                     member_id=f"m-{index}", format="online", confirmed_at=now))
        for index in range(count)
    ]


def raw_kombu(amqp_url: str, bodies: list[bytes]) -> float:
    """Seconds to publish every body persistently with a confirm each, then consume and ack them all."""
    exchange = Exchange("bench-raw", type="topic", durable=True)
    queue = Queue(f"bench-raw-{uuid.uuid4().hex[:6]}", exchange, routing_key="booking.confirmed", durable=True)
    with Connection(amqp_url, transport_options={"confirm_publish": True}) as connection:
        queue(connection.channel()).declare()
        producer = connection.Producer(exchange=exchange)
        started = time.perf_counter()
        for body in bodies:
            producer.publish(body, routing_key="booking.confirmed", delivery_mode=2,
                             content_type="application/cloudevents+json", content_encoding="utf-8")
        received = []

        def on_message(message):
            received.append(message.body)
            message.ack()

        with KombuConsumer(connection.channel(), queues=[queue], on_message=on_message, prefetch_count=200):
            while len(received) < len(bodies):
                connection.drain_events(timeout=10)
        elapsed = time.perf_counter() - started
        queue(connection.channel()).delete()
    return elapsed


def academy_path(
    amqp_url: str, database_url: str, data_dir: Path, bodies: list[str], ids: list[str]
) -> tuple[float, float]:
    """(seconds to write the outbox rows, seconds from committed rows to every processed_events row committed)."""
    service = f"bench{uuid.uuid4().hex[:6]}"
    settings = Settings.from_env("billing", {"AMQP_URL": amqp_url, "ACADEMY_DATA_DIR": str(data_dir)})
    engine = make_engine(database_url)
    messaging_metadata.create_all(engine)
    sessions = make_session_factory(engine)
    bus = make_bus(settings)
    consumer = EventConsumer(service, {BookingConfirmed: lambda event, db: None}, sessions)
    bus.declare(service, consumer.routing_keys)
    relay = OutboxRelay(service, sessions, bus)

    started = time.perf_counter()
    now = datetime.now(UTC)
    for first in range(0, len(bodies), 100):  # business transactions of 100 events each
        with sessions.begin() as db:
            db.execute(outbox.insert(), [
                {"event_id": event_id, "routing_key": "booking.confirmed", "body": body, "created_at": now}
                for event_id, body in zip(ids[first:first + 100], bodies[first:first + 100], strict=True)
            ])
    write_seconds = time.perf_counter() - started

    stop = threading.Event()
    started = time.perf_counter()
    consumer_thread = threading.Thread(target=bus.consume, args=(service, consumer.handle_batch, stop), daemon=True)
    consumer_thread.start()
    while relay.relay_once():
        pass
    while True:
        with sessions() as db:
            if db.scalar(select(func.count()).select_from(processed_events)) >= len(bodies):
                break
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    stop.set()
    consumer_thread.join(10)
    bus.close()
    engine.dispose()
    return write_seconds, elapsed


def scratch_vhost(amqp_url: str) -> tuple[str, str | None]:
    """A vhost of its own when rabbitmqctl is at hand, so the run leaves nothing behind."""
    if shutil.which("rabbitmqctl") is None:
        return amqp_url, None
    vhost = f"bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    user = urlparse(amqp_url).username or "guest"
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
                   check=True, capture_output=True)
    return urlunparse(urlparse(amqp_url)._replace(path="/" + vhost)), vhost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--database-url", default=None, help="the service database (default: a SQLite file)")
    args = parser.parse_args()

    amqp_url, vhost = scratch_vhost(args.amqp_url)
    events = envelopes(args.events)
    bodies = [json.dumps(event, separators=(",", ":")) for event in events]
    with tempfile.TemporaryDirectory() as scratch:
        database_url = args.database_url or f"sqlite:///{scratch}/bench.sqlite3"
        try:
            raw_seconds = raw_kombu(amqp_url, [body.encode() for body in bodies])
            write_seconds, academy_seconds = academy_path(
                amqp_url, database_url, Path(scratch), bodies, [event["id"] for event in events]
            )
        finally:
            if vhost:
                subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)
    raw_rate, academy_rate = args.events / raw_seconds, args.events / academy_seconds
    print(f"events: {args.events}, service database: {make_engine(database_url).dialect.name}")
    print(f"raw kombu, confirm each + consume:          {raw_rate:8.0f} events/s")
    print(f"academy outbox -> relay -> consumer + processed: {academy_rate:8.0f} events/s")
    print(f"ratio academy / raw:                         {academy_rate / raw_rate:8.2f}")
    print(f"(writing the outbox rows, 100 per transaction: {args.events / write_seconds:.0f} events/s)")


if __name__ == "__main__":
    main()
