"""Side effects: work that leaves the process, recorded in a transaction and carried out by the worker's dispatcher.

A handler or command records a row (`record_side_effect`) in its own transaction, so the effect exists exactly
when the business change does. The dispatcher claims due rows under a lease, calls the performer for the row's
kind outside any transaction with the row's idempotency key, records the outcome and retries failures with
back-off; a row marked done is never called again. One window remains: a dispatcher killed after the call but
before it recorded the outcome leaves the row pending, so once its lease runs out the call is made once more,
with the same idempotency key; only the other side's dedupe by that key makes this second call harmless.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from shared.db import one_statement
from shared.tables import side_effects

log = logging.getLogger(__name__)

Performer = Callable[[dict, str], str | None]
IDLE_POLL_SECONDS = 0.5
ERROR_BACKOFF_SECONDS = (0.5, 1, 2, 5)
_INSERT_BY_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_MAX_TEXT = 2000


class PermanentFailure(Exception):
    """Raised by a performer when trying again cannot help (the other side refused the request)."""


def record_side_effect(db: Session, kind: str, idempotency_key: str, payload: dict) -> None:
    """Add the effect to the transaction of `db`; recording the same key again changes nothing."""
    record_side_effects(db, [(kind, idempotency_key, payload)])


def record_side_effects(db: Session, effects: Iterable[tuple[str, str, dict]]) -> None:
    """Add each (kind, idempotency key, payload) to the transaction of `db`, all in one statement."""
    now = datetime.now(UTC)
    rows = [{"id": str(uuid.uuid4()), "kind": kind, "idempotency_key": idempotency_key,
             "payload": json.dumps(payload, separators=(",", ":")), "status": "pending", "attempts": 0,
             "due_at": now, "created_at": now} for kind, idempotency_key, payload in effects]
    if rows:
        # A handler that runs twice records twice: the first row stands and the call is made once.
        db.execute(_INSERT_BY_DIALECT[db.get_bind().dialect.name](side_effects)
                   .on_conflict_do_nothing(index_elements=[side_effects.c.idempotency_key]), rows)


class SideEffectDispatcher:
    """Claims due side effects, calls their performers, records the outcome and retries with back-off."""

    def __init__(self, service: str, performers: Mapping[str, Performer], session_factory: sessionmaker, *,
                 lease_seconds: float = 60.0, backoff: Sequence[float] = (1, 10, 60, 300, 900),
                 max_attempts: int | None = None, batch_size: int = 20):
        self.service = service
        self.performers = performers
        self.session_factory = session_factory
        self.lease_seconds = lease_seconds
        self.backoff = tuple(backoff)
        self.max_attempts = len(self.backoff) + 1 if max_attempts is None else max_attempts
        self.batch_size = batch_size
        with session_factory() as db:
            self.engine = db.get_bind()  # for the outcome of each call, written on a bare connection

    def dispatch_once(self) -> int:
        """Claim one batch of due rows and work on each; returns how many rows were claimed."""
        leased_until, rows = self._claim()
        claimed_at = time.monotonic()
        for index, row in enumerate(rows):
            # A performer must finish well within the lease, or another dispatcher claims the row and calls
            # too; rows not started in the first half of the lease go back rather than risk that.
            if time.monotonic() - claimed_at > self.lease_seconds / 2:
                self._release(rows[index:], leased_until)
                break
            self._perform(row, leased_until)
        return len(rows)

    def _claim(self) -> tuple[datetime, list]:
        now = datetime.now(UTC)
        leased_until = now + timedelta(seconds=self.lease_seconds)
        with self.session_factory.begin() as db:
            # SKIP LOCKED lets several dispatchers share the table; SQLite serialises writers instead.
            rows = db.execute(
                select(side_effects.c.id, side_effects.c.kind, side_effects.c.idempotency_key,
                       side_effects.c.payload, side_effects.c.attempts)
                .where(side_effects.c.status == "pending", side_effects.c.due_at <= now)
                .order_by(side_effects.c.due_at, side_effects.c.created_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if rows:
                # The lease's end doubles as the claim's token: due_at keeps it until the outcome is written.
                db.execute(update(side_effects).where(side_effects.c.id.in_([row.id for row in rows]))
                           .values(due_at=leased_until, attempts=side_effects.c.attempts + 1))
        return leased_until, rows

    def _perform(self, row, leased_until: datetime) -> None:
        attempt = row.attempts + 1
        performer = self.performers.get(row.kind)
        if performer is None:
            self._fail(row, leased_until, f"no performer for kind {row.kind!r} in service {self.service}")
            return
        try:
            result = performer(json.loads(row.payload), row.idempotency_key)
        except PermanentFailure as exc:
            self._fail(row, leased_until, _describe(exc))
            return
        except Exception as exc:  # noqa: BLE001 - any other failure of the call is tried again after a back-off
            error = _describe(exc)
            if attempt >= self.max_attempts:
                self._fail(row, leased_until, error)
                return
            delay = self.backoff[min(attempt, len(self.backoff)) - 1]
            log.warning("side effect %s %s failed (attempt %s of %s), retrying in %ss: %s",
                        row.kind, row.idempotency_key, attempt, self.max_attempts, delay, error)
            self._write(row, leased_until, last_error=error, due_at=datetime.now(UTC) + timedelta(seconds=delay))
            return
        # Killed here, after the call and before this write, the row stays pending and is called once more
        # (same idempotency key) when the lease runs out: the at-most-once window only the other side closes.
        with one_statement(self.engine) as connection:
            # Done is true whoever holds the lease now, so only a row already finished is left alone.
            connection.execute(update(side_effects)
                               .where(side_effects.c.id == row.id, side_effects.c.status == "pending")
                               .values(status="done", completed_at=datetime.now(UTC), last_error=None,
                                       result=None if result is None else str(result)[:_MAX_TEXT]))

    def _fail(self, row, leased_until: datetime, error: str) -> None:
        log.error("side effect %s %s failed for good: %s", row.kind, row.idempotency_key, error)
        self._write(row, leased_until, status="failed", last_error=error, completed_at=datetime.now(UTC))

    def _write(self, row, leased_until: datetime, **values) -> None:
        with one_statement(self.engine) as connection:
            # Only while our lease holds: a dispatcher that took the row over after it ran out decides now.
            connection.execute(update(side_effects)
                               .where(side_effects.c.id == row.id, side_effects.c.status == "pending",
                                      side_effects.c.due_at == leased_until)
                               .values(**values))

    def _release(self, rows: list, leased_until: datetime) -> None:
        with self.session_factory.begin() as db:
            db.execute(update(side_effects)
                       .where(side_effects.c.id.in_([row.id for row in rows]), side_effects.c.status == "pending",
                              side_effects.c.due_at == leased_until)
                       .values(due_at=datetime.now(UTC), attempts=side_effects.c.attempts - 1))

    def backlog(self) -> tuple[int, float]:
        """Pending rows and the age in seconds of the oldest one."""
        with self.session_factory() as db:
            count, oldest = db.execute(
                select(func.count(), func.min(side_effects.c.created_at)).where(side_effects.c.status == "pending")
            ).one()
        if oldest is None:
            return count, 0.0
        return count, (datetime.now(UTC) - oldest).total_seconds()

    def run(self, stop_event: threading.Event) -> None:
        """Dispatch until `stop_event` is set: a worker thread's target."""
        failures = 0
        while not stop_event.is_set():
            try:
                worked = self.dispatch_once()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - database away: claimed rows come back when their lease ends
                delay = ERROR_BACKOFF_SECONDS[min(failures, len(ERROR_BACKOFF_SECONDS) - 1)]
                failures += 1
                log.warning("side effect dispatcher of %s failed (%s); retrying in %ss", self.service, exc, delay)
                stop_event.wait(delay)
                continue
            if not worked:
                stop_event.wait(IDLE_POLL_SECONDS)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:_MAX_TEXT]
