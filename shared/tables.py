"""Tables every service keeps in its own database: outbox, inbox and idempotency keys."""

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
inbox = Table(
    "inbox",
    messaging_metadata,
    Column("consumer", String(60), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("event_type", String(120), nullable=False),
    Column("handled_at", UtcDateTime(), nullable=False),
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
)
