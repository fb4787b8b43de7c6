"""Applies a batch of deliveries to a service: each handler and its inbox row commit together."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared import metrics
from shared.bus import Delivery, Outcome, Settlement
from shared.events import InvalidEvent, ParsedEvent, lookup, parse_event
from shared.tables import inbox
from shared.tracing import child_of, current_traceparent

log = logging.getLogger(__name__)

Handler = Callable[[ParsedEvent, Session], None]


class RetryLater(Exception):
    """The event refers to something this service has not seen yet; deliver it again after a back-off."""


class EventConsumer:
    def __init__(self, service: str, handlers: Mapping[str, Handler], session_factory: sessionmaker):
        unknown = [ce_type for ce_type in handlers if lookup(ce_type) is None]
        if unknown:
            raise ValueError(f"handlers for undeclared event types: {', '.join(unknown)}")
        self.service = service
        self.handlers = dict(handlers)
        self.session_factory = session_factory

    @property
    def routing_keys(self) -> set[str]:
        return {lookup(ce_type).routing_key for ce_type in self.handlers}

    def _count(self, ce_type: str, outcome: str) -> None:
        metrics.EVENTS_CONSUMED.labels(self.service, ce_type, outcome).inc()

    def handle_batch(self, deliveries: list[Delivery]) -> list[Settlement]:
        """Settle every delivery; raises only if the database itself failed (then nothing is settled)."""
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
        with self.session_factory() as session, session.begin():
            seen = set(
                session.scalars(
                    select(inbox.c.event_id).where(
                        inbox.c.consumer == self.service,
                        inbox.c.event_id.in_([event.id for _, event in runnable]),
                    )
                )
            )
            for index, event in runnable:
                ce_type = event.event_type.type
                if event.id in seen:
                    self._count(ce_type, "duplicate")
                    settlements[index] = Settlement(Outcome.ACK)
                    continue
                seen.add(event.id)
                token = current_traceparent.set(child_of(event.traceparent))
                try:
                    with session.begin_nested():
                        self.handlers[ce_type](event, session)
                        session.execute(
                            inbox.insert().values(
                                consumer=self.service,
                                event_id=event.id,
                                event_type=ce_type,
                                handled_at=datetime.now(UTC),
                            )
                        )
                except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                    seen.discard(event.id)
                    reason = f"{type(exc).__name__}: {exc}"
                    level = logging.INFO if isinstance(exc, RetryLater) else logging.ERROR
                    log.log(level, "handler failed", extra={"event_id": event.id, "reason": reason},
                            exc_info=not isinstance(exc, RetryLater))
                    self._count(ce_type, "retried")
                    settlements[index] = Settlement(Outcome.RETRY, reason)
                else:
                    self._count(ce_type, "handled")
                    settlements[index] = Settlement(Outcome.ACK)
                finally:
                    current_traceparent.reset(token)
