"""A persistent bus in one SQLite file for the embedded academy: topic routing, leases, retries, dead letters.

A message stays in its table until a consumer settles it; a claimed message is only leased, so a process
killed while handling it gets it again after restart (its inbox makes the second delivery harmless).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import (
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    select,
    update,
)

from shared.bus import BatchHandler, DeadLetter, Delivery, Outcome, OutgoingMessage, Settlement, dead_queue
from shared.db import is_reachable, make_engine

LEASE_SECONDS = 120.0
FAILURE_PAUSE_SECONDS = 1.0
POLL_SECONDS = 0.25

log = logging.getLogger(__name__)
metadata = MetaData()
bindings = Table(
    "bus_bindings",
    metadata,
    Column("queue", String(100), primary_key=True),
    Column("pattern", String(200), primary_key=True),
)
messages = Table(
    "bus_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("queue", String(100), nullable=False, index=True),
    Column("routing_key", String(200), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False, default="{}"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("available_at", Float, nullable=False),
    Column("leased_until", Float, nullable=True),
)

# Publishers in this process wake consumers at once instead of leaving them to poll.
_published = threading.Condition()


@lru_cache(maxsize=1024)
def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: `*` stands for exactly one word, `#` for zero or more."""
    return _match(tuple(pattern.split(".")), tuple(routing_key.split(".")))


def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[skip:]) for skip in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _match(rest, words[1:])


class LocalBus:
    def __init__(self, url: str, *, retry_delays: tuple[float, ...] = (1.0, 10.0, 60.0), batch_size: int = 200):
        self.engine = make_engine(url)
        self.retry_delays = retry_delays
        self.batch_size = batch_size
        metadata.create_all(self.engine)

    def declare(self, service: str, routing_keys: Iterable[str]) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(bindings).where(bindings.c.queue == service))
            keys = sorted(set(routing_keys))
            if keys:
                connection.execute(bindings.insert(), [{"queue": service, "pattern": key} for key in keys])

    def publish(self, outgoing: list[OutgoingMessage]) -> None:
        now = time.time()
        with self.engine.begin() as connection:
            routes = connection.execute(select(bindings.c.queue, bindings.c.pattern)).all()
            rows = [
                {
                    "queue": queue,
                    "routing_key": key,
                    "message_id": message_id,
                    "body": body,
                    "headers": "{}",
                    "attempts": 0,
                    "available_at": now,
                }
                for key, body, message_id in outgoing
                for queue in sorted({queue for queue, pattern in routes if topic_matches(pattern, key)})
            ]
            if rows:
                connection.execute(messages.insert(), rows)
        with _published:
            _published.notify_all()

    def consume(self, service: str, handle_batch: BatchHandler, stop: threading.Event) -> None:
        # Only one process consumes a queue of the embedded bus, so leases left by a killed process are void.
        with self.engine.begin() as connection:
            connection.execute(update(messages).where(messages.c.queue == service).values(leased_until=None))
        while not stop.is_set():
            batch = self._claim(service)
            if not batch:
                with _published:
                    _published.wait(POLL_SECONDS)
                continue
            deliveries = [
                Delivery(
                    body=row.body,
                    routing_key=row.routing_key,
                    attempts=row.attempts,
                    tag=row.id,
                    headers=json.loads(row.headers),
                )
                for row in batch
            ]
            try:
                settlements = handle_batch(deliveries)
            except Exception:  # noqa: BLE001 - e.g. the service database is away: offer the batch again later
                log.exception("consumer of %s failed; the batch will be delivered again", service)
                self._release(batch)
                stop.wait(FAILURE_PAUSE_SECONDS)
                continue
            self._settle(service, deliveries, settlements)

    def _release(self, batch: list) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(messages).where(messages.c.id.in_([row.id for row in batch])).values(leased_until=None)
            )

    def _claim(self, service: str) -> list:
        now = time.time()
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(messages)
                .where(messages.c.queue == service, messages.c.available_at <= now)
                .where((messages.c.leased_until.is_(None)) | (messages.c.leased_until < now))
                .order_by(messages.c.id)
                .limit(self.batch_size)
            ).all()
            if rows:
                connection.execute(
                    update(messages)
                    .where(messages.c.id.in_([row.id for row in rows]))
                    .values(leased_until=now + LEASE_SECONDS)
                )
        return rows

    def _settle(self, service: str, deliveries: list[Delivery], settlements: list[Settlement]) -> None:
        now = time.time()
        with self.engine.begin() as connection:
            for delivery, settlement in zip(deliveries, settlements, strict=True):
                if settlement.outcome is Outcome.ACK:
                    connection.execute(delete(messages).where(messages.c.id == delivery.tag))
                    continue
                attempts = delivery.attempts + 1
                headers = {**delivery.headers, "x-last-error": (settlement.reason or "")[:1000]}
                values = {"attempts": attempts, "leased_until": None}
                if settlement.outcome is Outcome.RETRY and attempts <= len(self.retry_delays):
                    values["available_at"] = now + self.retry_delays[attempts - 1]
                else:
                    headers["x-dead-reason"] = headers["x-last-error"]
                    headers["x-dead-at"] = datetime.now(UTC).isoformat()
                    values.update(queue=dead_queue(service), available_at=now)
                values["headers"] = json.dumps(headers)
                connection.execute(update(messages).where(messages.c.id == delivery.tag).values(**values))

    def dead_letters(self, service: str) -> list[DeadLetter]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(messages).where(messages.c.queue == dead_queue(service)).order_by(messages.c.id)
            ).all()
        letters = []
        for row in rows:
            headers = json.loads(row.headers)
            letters.append(
                DeadLetter(
                    message_id=row.message_id,
                    routing_key=row.routing_key,
                    reason=headers.get("x-dead-reason", ""),
                    attempts=row.attempts,
                    dead_at=headers.get("x-dead-at", ""),
                    body=row.body,
                )
            )
        return letters

    def dead_letter_count(self, service: str) -> int:
        return len(self.dead_letters(service))

    def replay_dead_letters(self, service: str, message_ids: set[str] | None = None) -> int:
        statement = update(messages).where(messages.c.queue == dead_queue(service))
        if message_ids is not None:
            statement = statement.where(messages.c.message_id.in_(sorted(message_ids)))
        with self.engine.begin() as connection:
            result = connection.execute(
                statement.values(
                    queue=service, attempts=0, available_at=time.time(), leased_until=None, headers="{}"
                )
            )
        with _published:
            _published.notify_all()
        return result.rowcount

    def is_reachable(self) -> bool:
        return is_reachable(self.engine)

    def close(self) -> None:
        self.engine.dispose()
