"""Applies a batch of deliveries to a service: each handler's effects and its processed-event row commit together.

Handlers touch only their service's database session. A failed batch is applied again event by event, so a
handler may run twice with its database effects rolled back in between, which is harmless only for database
effects: an e-mail or a webhook would go out twice. So a handler that opens a connection or starts a process
fails (`HandlerDidIO`); work that leaves the process is recorded as a side effect (shared/side_effects.py)
and carried out by the worker's dispatcher.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared import metrics
from shared.bus import Delivery, Outcome, Settlement
from shared.events import Event, InvalidEvent, ParsedEvent, lookup, parse_event
from shared.outbox import collect_events, write_collected_events
from shared.tables import processed_events
from shared.tracing import child_of, current_traceparent

log = logging.getLogger(__name__)

Handler = Callable[[ParsedEvent[Any], Session], None]
HandlerRegistry = Mapping[type[Event], Handler]
_BATCH = "consumer_batch"
_AT_BATCH_END = "consumer_batch_end"


class RetryLater(Exception):
    """The event refers to something this service has not seen yet; deliver it again after a back-off."""


class HandlerDidIO(Exception):
    """A handler tried to reach outside the process; it must record a side effect instead."""


# Audit events of everything that leaves the process, except the database the handler's session already holds.
_OUTSIDE_WORLD = frozenset({
    "socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname",
    "http.client.connect", "smtplib.connect", "ftplib.connect", "urllib.Request", "webbrowser.open",
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
})
_handler_running: contextvars.ContextVar[bool] = contextvars.ContextVar("handler_running", default=False)


def _refuse_io_in_handlers(audit_event: str, _args: tuple) -> None:
    if audit_event in _OUTSIDE_WORLD and _handler_running.get():
        raise HandlerDidIO(f"a handler may not reach outside the process ({audit_event}); record a side effect")


# An audit hook sees every socket and process a handler would open, however deep in a library it happens.
sys.addaudithook(_refuse_io_in_handlers)


class EventConsumer:
    def __init__(self, service: str, handlers: HandlerRegistry, session_factory: sessionmaker):
        self.service = service
        self.handlers = {payload.event_type.type: handler for payload, handler in handlers.items()}
        self.session_factory = session_factory

    @property
    def routing_keys(self) -> set[str]:
        return {lookup(ce_type).routing_key for ce_type in self.handlers}

    def _count(self, ce_type: str, outcome: str) -> None:
        metrics.EVENTS_CONSUMED.labels(self.service, ce_type, outcome).inc()

    def handle_batch(self, deliveries: list[Delivery]) -> list[Settlement]:
        """Settle every delivery. Raises (settling nothing, so the batch comes again) only when the service's
        own database fails, since every problem of a single event is settled as a retry or a dead letter."""
        settlements: list[Settlement | None] = [None] * len(deliveries)
        runnable: list[tuple[int, ParsedEvent]] = []
        for index, delivery in enumerate(deliveries):
            try:
                event = parse_event(delivery.body)
            except InvalidEvent as exc:
                log.error("dead-lettering an invalid event", extra={"reason": str(exc)})
                self._count("invalid", "dead_lettered")
                settlements[index] = Settlement(Outcome.DEAD, str(exc))
                continue
            if event.event_type.type not in self.handlers:
                # Declared, but another version or not for us (e.g. a v2 beside the v1 we handle).
                self._count(event.event_type.type, "ignored")
                settlements[index] = Settlement(Outcome.ACK)
                continue
            runnable.append((index, event))
        if runnable:
            self._apply(runnable, settlements)
        return settlements  # type: ignore[return-value]

    def _apply(self, runnable: list[tuple[int, ParsedEvent]], settlements: list) -> None:
        # Fast path: the whole batch in one transaction. Only when a handler fails is the batch applied
        # again with a savepoint per event, so one bad event cannot take its neighbours' effects with it.
        try:
            self._apply_batch(runnable, settlements, isolate=False)
        except _HandlerFailed:
            self._apply_batch(runnable, settlements, isolate=True)

    def _apply_batch(self, runnable: list[tuple[int, ParsedEvent]], settlements: list, *, isolate: bool) -> None:
        outcomes: list[tuple[int, str, str]] = []  # (index, type, outcome) counted only once committed
        with self.session_factory() as db, db.begin():
            db.info[_BATCH] = [event for _, event in runnable]
            seen = set(
                db.scalars(
                    select(processed_events.c.event_id).where(
                        processed_events.c.consumer == self.service,
                        processed_events.c.event_id.in_([event.id for _, event in runnable]),
                    )
                )
            )
            handled = []
            if not isolate:  # with savepoints, each event's own must hold its outbox rows
                collect_events(db)
                db.info[_AT_BATCH_END] = []
            for index, event in runnable:
                ce_type = event.event_type.type
                if event.id in seen:
                    outcomes.append((index, ce_type, "duplicate"))
                    continue
                token = current_traceparent.set(child_of(event.traceparent))
                try:
                    if isolate:
                        with db.begin_nested():
                            self._run(event, db)
                    else:
                        self._run(event, db)
                except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                    if not isolate:
                        raise _HandlerFailed from exc
                    self._log_failure(event, exc)
                    settlements[index] = Settlement(Outcome.RETRY, f"{type(exc).__name__}: {exc}")
                    outcomes.append((index, ce_type, "retried"))
                    continue
                finally:
                    current_traceparent.reset(token)
                seen.add(event.id)
                handled.append({"consumer": self.service, "event_id": event.id, "event_type": ce_type,
                                "handled_at": datetime.now(UTC)})
                outcomes.append((index, ce_type, "handled"))
            for work in db.info.pop(_AT_BATCH_END, []):
                try:
                    work(db)
                except Exception as exc:  # noqa: BLE001 - as a handler's failure: event by event, it finds its event
                    raise _HandlerFailed from exc
            write_collected_events(db)
            if handled:
                db.execute(processed_events.insert(), handled)
        for index, ce_type, outcome in outcomes:
            if outcome != "retried":
                settlements[index] = Settlement(Outcome.ACK)
            self._count(ce_type, outcome)

    def _run(self, event: ParsedEvent, db: Session) -> None:
        token = _handler_running.set(True)
        try:
            self.handlers[event.event_type.type](event, db)
        finally:
            _handler_running.reset(token)
        # Handlers' writes must reach the database inside the savepoint that guards them.
        db.flush()

    @staticmethod
    def _log_failure(event: ParsedEvent, exc: Exception) -> None:
        expected = isinstance(exc, RetryLater)
        log.log(
            logging.INFO if expected else logging.ERROR,
            "handler failed",
            extra={"event_id": event.id, "event_type": event.event_type.type, "reason": str(exc)},
            exc_info=not expected,
        )


def at_batch_end(db: Session, work: Callable[[Session], None]) -> bool:
    """Have `work` run once after the last handler of the batch that `db` applies without savepoints, so that
    handlers can keep their rows and write the whole batch's in one statement; whether `db` applies such a batch
    (if not, nothing is kept for later). A failure of `work` is a handler's: the batch is applied again event by
    event, with savepoints, where each event writes its own rows at once."""
    waiting = db.info.get(_AT_BATCH_END)
    if waiting is None:
        return False
    waiting.append(work)
    return True


def batch_of(db: Session) -> list[ParsedEvent]:
    """The events of the batch that `db` applies (none outside a consumer), so that a handler can read what the
    whole batch needs in one query instead of one per event."""
    return db.info.get(_BATCH, [])


class _HandlerFailed(Exception):
    """A handler failed on the fast path; the batch is applied again event by event."""
