"""A minimal service wired to a real bus: a table of effects, handlers that can be told to fail, a worker."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Column, MetaData, String, Table, func, select

from shared.bus import make_bus
from shared.config import Settings
from shared.consumer import EventConsumer
from shared.db import make_engine, make_session_factory
from shared.events.declarations import BookingConfirmed, InvoiceIssued
from shared.outbox import OutboxRelay, record_event
from shared.tables import messaging_metadata, outbox
from shared.testing import sample

effects_metadata = MetaData()
effects = Table(
    "effects",
    effects_metadata,
    Column("event_id", String(36), primary_key=True),
    Column("subject", String(100), nullable=False),
)


def booking_confirmed(booking_id: str) -> BookingConfirmed:
    return sample(BookingConfirmed, booking_id=booking_id, confirmed_at=datetime.now(UTC))


class Harness:
    """One 'service' on a bus: its own database with outbox/processed_events, a consumer thread, a relay."""

    def __init__(self, service: str, database_url: str, env: dict[str, str]):
        self.service = service
        self.settings = Settings.from_env("billing", {"EVENT_RETRY_DELAYS": "0.2,0.4", **env})
        self.engine = make_engine(database_url)
        messaging_metadata.create_all(self.engine)
        effects_metadata.create_all(self.engine)
        self.session_factory = make_session_factory(self.engine)
        self.bus = make_bus(self.settings)
        self.failing_subjects: set[str] = set()
        self.database_outages = 0  # batches that fail as a whole, as when the service database is away
        self.calls: dict[str, int] = {}
        self.consumer = EventConsumer(service, {BookingConfirmed: self._handle}, self.session_factory)
        self.bus.declare(service, self.consumer.routing_keys)
        self.relay = OutboxRelay(service, self.session_factory, self.bus)
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def _handle(self, event, db) -> None:
        self.calls[event.subject] = self.calls.get(event.subject, 0) + 1
        db.execute(effects.insert().values(event_id=event.id, subject=event.subject))
        if event.subject in self.failing_subjects:
            raise RuntimeError(f"cannot handle {event.subject}")

    def _handle_batch(self, deliveries):
        if self.database_outages:
            self.database_outages -= 1
            raise ConnectionError("service database unreachable")
        return self.consumer.handle_batch(deliveries)

    def start(self) -> Harness:
        self.thread = threading.Thread(
            target=self.bus.consume, args=(self.service, self._handle_batch, self.stop), daemon=True
        )
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join(10)
        self.bus.close()
        self.engine.dispose()

    def commit_events(self, subjects: list[str], *, rollback: bool = False) -> list[str]:
        db = self.session_factory()
        with db.begin():
            ids = [record_event(db, booking_confirmed(s))["id"] for s in subjects]
            if rollback:
                db.rollback()
        db.close()
        return ids

    def commit_other_event(self) -> str:
        with self.session_factory.begin() as db:
            return record_event(db, sample(InvoiceIssued))["id"]

    def handled_subjects(self) -> list[str]:
        with self.session_factory() as db:
            return sorted(db.scalars(select(effects.c.subject)))

    def unpublished(self) -> int:
        with self.session_factory() as db:
            return db.scalar(select(func.count()).select_from(outbox))


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
