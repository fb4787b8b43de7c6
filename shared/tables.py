"""Tables every service keeps in its own database: outbox, processed events, side effects, idempotency keys."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from shared.db import UtcDateTime

messaging_metadata = MetaData()

# Events written in the business transaction and relayed to the bus once the broker confirmed them.
outbox = Table(
    "outbox",
    messaging_metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("routing_key", String(120), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("published_at", UtcDateTime(), nullable=True),
    Index("ix_outbox_unpublished", "published_at", "seq"),
)

# Event ids a consumer has applied, written in the handler's transaction so a redelivery changes nothing.
processed_events = Table(
    "processed_events",
    messaging_metadata,
    Column("consumer", String(60), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("event_type", String(120), nullable=False),
    Column("handled_at", UtcDateTime(), nullable=False),
    Index("ix_processed_events_handled", "handled_at"),
)

# Work that leaves the process (an e-mail, a webhook, a payment), recorded by a handler or command in its
# transaction and carried out afterwards by the worker's dispatcher, so a handler that runs twice calls out once.
side_effects = Table(
    "side_effects",
    messaging_metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(60), nullable=False),
    # Unique: recording the same effect twice keeps one row; also sent to the other side where it takes one.
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("payload", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    # When the row may be claimed next: now for new work, after the back-off for a failure, after the lease
    # for a claimed row (so the work of a dispatcher that died is taken up again).
    Column("due_at", UtcDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("result", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("completed_at", UtcDateTime(), nullable=True),
    Index("ix_side_effects_due", "status", "due_at"),
)

# First answer to a POST that created money or seats, replayed for a retry with the same key and body.
idempotency_keys = Table(
    "idempotency_keys",
    messaging_metadata,
    Column("principal", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_idempotency_keys_created", "created_at"),
)
