"""Forget what no longer protects anything: processed event ids and idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker

from shared.tables import idempotency_keys, processed_events


@dataclass(frozen=True)
class Purged:
    processed_events: int
    idempotency_keys: int


def purge_messages(session_factory: sessionmaker, retention: timedelta, key_retention: timedelta) -> Purged:
    """Delete processed event ids older than `retention` and idempotency keys older than `key_retention`.

    (Outbox rows leave as they are published.) A processed event id only has to outlive every redelivery of
    its event (retries take minutes), so a retention of weeks leaves a wide margin. An idempotency key
    protects a client's retries of one request, which come within hours (Stripe keeps keys for 24).
    """
    now = datetime.now(UTC)
    cutoff, key_cutoff = now - retention, now - key_retention
    with session_factory.begin() as db:
        processed = db.execute(delete(processed_events).where(processed_events.c.handled_at < cutoff)).rowcount
        keys = db.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < key_cutoff)).rowcount
    return Purged(processed, keys)
