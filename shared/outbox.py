"""Transactional outbox: events saved with the business change, relayed once the broker confirmed them."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.event import listens_for
from sqlalchemy.orm import Session, sessionmaker

from shared import metrics
from shared.events import Event, build_event
from shared.tables import outbox
from shared.tracing import current_traceparent

log = logging.getLogger(__name__)

# Notified after a commit that wrote outbox rows, so in-process relays publish at once instead of polling.
_outbox_written = threading.Condition()


def wait_for_outbox(timeout: float) -> None:
    with _outbox_written:
        _outbox_written.wait(timeout)


def record_event(db: Session, event: Event) -> dict:
    """Add the event to the transaction of `db`; it is published only if that transaction commits."""
    envelope = build_event(event, traceparent=current_traceparent.get())
    db.execute(
        outbox.insert().values(
            event_id=envelope["id"],
            routing_key=event.event_type.routing_key,
            body=json.dumps(envelope, separators=(",", ":")),
            created_at=datetime.now(UTC),
        )
    )
    db.info["outbox_written"] = True
    return envelope


@listens_for(Session, "after_commit")
def _signal_relay(db: Session) -> None:
    if db.info.pop("outbox_written", False):
        with _outbox_written:
            _outbox_written.notify_all()


@listens_for(Session, "after_rollback")
def _forget_rolled_back(db: Session) -> None:
    db.info.pop("outbox_written", None)


class OutboxRelay:
    """Publishes unpublished outbox rows in order, in batches, marking them only after the broker confirmed."""

    def __init__(self, service: str, session_factory: sessionmaker, bus, batch_size: int = 500):
        self.service = service
        self.session_factory = session_factory
        self.bus = bus
        self.batch_size = batch_size

    def relay_once(self) -> int:
        """Publish one batch; returns how many rows went out."""
        with self.session_factory.begin() as db:
            # SKIP LOCKED lets several relay replicas share one outbox without publishing the same rows.
            rows = db.execute(
                select(outbox.c.seq, outbox.c.routing_key, outbox.c.body, outbox.c.event_id)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            self.bus.publish([(row.routing_key, row.body.encode(), row.event_id) for row in rows])
            # A crash before this commit republishes the batch after restart; consumers skip events they processed.
            db.execute(
                update(outbox)
                .where(outbox.c.seq.in_([row.seq for row in rows]))
                .values(published_at=datetime.now(UTC))
            )
        for row in rows:
            metrics.EVENTS_PUBLISHED.labels(self.service, row.routing_key).inc()
        return len(rows)

    def backlog(self) -> tuple[int, float]:
        """Unpublished rows and the age in seconds of the oldest one."""
        with self.session_factory() as db:
            count, oldest = db.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
            ).one()
        if oldest is None:
            return count, 0.0
        return count, (datetime.now(UTC) - oldest).total_seconds()
