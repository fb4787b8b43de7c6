"""Transactional outbox: events saved with the business change, relayed once the broker confirmed them."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.event import listens_for
from sqlalchemy.orm import Session, sessionmaker

from shared import metrics
from shared.events import Event, build_event
from shared.tables import outbox
from shared.tracing import current_traceparent

log = logging.getLogger(__name__)

# Notified after a commit that wrote outbox rows, so in-process relays publish at once instead of polling.
_outbox_written = threading.Condition()
# PostgreSQL: the writing transaction also NOTIFYs this channel, which wakes the relays of other processes
# (each service has its own database, and a channel is per database).
NOTIFY_CHANNEL = "academy_outbox"
# A sequence number below newer published ones may still commit (its transaction began earlier); the relay
# looks back at it this long, and its periodic full scan finds what commits later still.
GAP_PATIENCE_SECONDS = 5.0
FULL_SCAN_SECONDS = 30.0
GAPS_TRACKED = 10_000  # at most this far below the newest row published; the full scan sees further back
_COLLECTED_ROWS = "outbox_rows_collected"


# Embedded mode: the relays run in another process, which listens for a datagram at this address.
_relays_elsewhere: tuple[socket.socket, tuple[str, int]] | None = None


def wake_relays_at(host: str, port: int) -> None:
    """After each commit that wrote outbox rows, also wake the relays of the process listening at host:port."""
    global _relays_elsewhere
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setblocking(False)
    _relays_elsewhere = (sender, (host, port))


def wait_for_outbox(timeout: float) -> bool:
    """Wait until a commit wrote outbox rows (True) or `timeout` passed (False)."""
    with _outbox_written:
        return _outbox_written.wait(timeout)


def outbox_written() -> None:
    """Wake the relays of this process."""
    with _outbox_written:
        _outbox_written.notify_all()


def record_event(db: Session, event: Event) -> dict:
    """Add the event to the transaction of `db`; it is published only if that transaction commits."""
    envelope = build_event(event, traceparent=current_traceparent.get())
    row = {"event_id": envelope["id"], "routing_key": event.event_type.routing_key,
           "body": json.dumps(envelope, separators=(",", ":")), "created_at": datetime.now(UTC)}
    collected = db.info.get(_COLLECTED_ROWS)
    if collected is not None:
        collected.append(row)
    else:
        db.execute(outbox.insert(), row)
    if not db.info.get("outbox_written"):
        db.info["outbox_written"] = True
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    return envelope


def collect_events(db: Session) -> None:
    """From now on, keep the outbox rows of the events recorded in `db` until `write_collected_events`: a
    consumer's batch records an event or more for each event it applies, and one statement writes them all.
    Not for code that may roll back a savepoint after recording an event: the kept row would outlive it."""
    db.info[_COLLECTED_ROWS] = []


def collecting(db: Session) -> bool:
    """Whether `db` keeps its outbox rows for one statement (while a consumer applies a batch without savepoints)."""
    return _COLLECTED_ROWS in db.info


def write_collected_events(db: Session) -> None:
    """Write the collected rows, if any; from now on each event recorded in `db` is written at once again."""
    collected = db.info.pop(_COLLECTED_ROWS, None)
    if collected:
        db.execute(outbox.insert(), collected)


@listens_for(Session, "after_commit")
def _signal_relay(db: Session) -> None:
    if db.info.pop("outbox_written", False):
        outbox_written()
        if _relays_elsewhere:
            sender, address = _relays_elsewhere
            with contextlib.suppress(OSError):  # a lost wake-up only costs the relay's poll interval
                sender.sendto(b"!", address)


@listens_for(Session, "after_rollback")
def _forget_rolled_back(db: Session) -> None:
    db.info.pop("outbox_written", None)


class Watermark:
    """Where a relay's next look into a PostgreSQL outbox starts, so that its cost does not grow with the
    rows already published.

    Published rows are deleted, but PostgreSQL keeps their index entries until a vacuum, and a scan from the
    start would step over every one of them. Starting above the highest sequence number published skips
    them; a number below it that was not seen yet (its transaction was still open, or another relay holds
    it) is looked at again for `GAP_PATIENCE_SECONDS`, and a full scan every `FULL_SCAN_SECONDS` finds
    whatever commits even later.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.seen = 0  # the highest sequence number this relay published
        self.gaps: dict[int, float] = {}  # unseen numbers below `seen` -> when first missed
        self.next_full_scan = clock() + FULL_SCAN_SECONDS

    def floor(self) -> int:
        """Look at rows above this sequence number."""
        now = self.clock()
        if now >= self.next_full_scan:
            self.next_full_scan = now + FULL_SCAN_SECONDS
            return 0
        self.gaps = {seq: since for seq, since in self.gaps.items() if now - since < GAP_PATIENCE_SECONDS}
        return min(self.gaps) - 1 if self.gaps else self.seen

    def advance(self, published: list[int]) -> None:
        """`published` are the numbers one look found (in order) and published."""
        now = self.clock()
        for seq in published:
            self.gaps.pop(seq, None)
        top = published[-1]
        if top <= self.seen:
            return
        # Unseen numbers between what was known and the top may still commit (after a restart, rows far below
        # are long published: only the nearest are watched).
        found = set(published)
        for seq in range(max(self.seen, top - GAPS_TRACKED) + 1, top):
            if seq not in found:
                self.gaps.setdefault(seq, now)
        self.seen = top


class OutboxRelay:
    """Publishes outbox rows in order, in batches, deleting them only after the broker confirmed them."""

    def __init__(self, service: str, session_factory: sessionmaker, bus, batch_size: int = 500):
        self.service = service
        self.session_factory = session_factory
        self.bus = bus
        self.batch_size = batch_size
        # SQLite removes deleted rows from its B-tree at once (and reuses their numbers): it needs no watermark.
        postgres = session_factory.kw["bind"].dialect.name == "postgresql"
        self.watermark = Watermark() if postgres else None

    def relay_once(self) -> int:
        """Publish one batch; returns how many rows went out."""
        floor = self.watermark.floor() if self.watermark else 0
        with self.session_factory.begin() as db:
            # SKIP LOCKED lets several relay replicas share one outbox without publishing the same rows.
            rows = db.execute(
                select(outbox.c.seq, outbox.c.routing_key, outbox.c.body, outbox.c.event_id)
                .where(outbox.c.seq > floor)
                .order_by(outbox.c.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            self.bus.publish([(row.routing_key, row.body.encode(), row.event_id) for row in rows])
            # A crash before this commit republishes the batch after restart; consumers skip events they processed.
            db.execute(delete(outbox).where(outbox.c.seq.in_([row.seq for row in rows])))
        if self.watermark:
            self.watermark.advance([row.seq for row in rows])
        for row in rows:
            metrics.EVENTS_PUBLISHED.labels(self.service, row.routing_key).inc()
        return len(rows)

    def backlog(self) -> tuple[int, float]:
        """Unpublished rows and the age in seconds of the oldest one."""
        with self.session_factory() as db:
            count, oldest = db.execute(select(func.count(), func.min(outbox.c.created_at))).one()
        if oldest is None:
            return count, 0.0
        return count, (datetime.now(UTC) - oldest).total_seconds()


def listen_for_outbox(engine: Engine, stop_event: threading.Event, poll_seconds: float = 1.0) -> None:
    """PostgreSQL: wake this process's relays whenever another process commits outbox rows.

    Runs until `stop_event` is set, on a connection of its own (a LISTEN must not go back into the pool);
    a lost connection is opened again, and meanwhile the relays fall back to polling.
    """
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop_event.is_set():
        try:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                while not stop_event.is_set():
                    for _ in connection.notifies(timeout=poll_seconds, stop_after=1):
                        outbox_written()
        except psycopg.Error as exc:
            log.warning("listening for outbox rows failed (%s); polling meanwhile", exc)
            stop_event.wait(poll_seconds)


def listen_for_wakes(listener: socket.socket, stop_event: threading.Event, poll_seconds: float = 0.5) -> None:
    """Embedded mode: wake this process's relays whenever a web process says it committed outbox rows."""
    listener.settimeout(poll_seconds)
    while not stop_event.is_set():
        try:
            listener.recv(64)
        except TimeoutError:
            continue
        except OSError:
            return  # closed: the process is stopping
        outbox_written()
