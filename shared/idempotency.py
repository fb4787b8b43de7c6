"""Idempotency-Key for POSTs that create money or seats: the same key and body get the first answer again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.errors import Conflict, Unprocessable
from shared.tables import idempotency_keys

MAX_KEY_LENGTH = 200
# The status code of a claimed key whose answer is not saved yet; the table has no status column of its own.
PENDING = 0


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Any


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
            errors={"Idempotency-Key": ["invalid length"]},
        )
    return key


def claim_key(db: Session, principal: str, key: str, request_fingerprint: str) -> StoredAnswer | None:
    """Claim `key` before doing the request's work; None if claimed, else the answer its first request got.

    Call it first in the transaction, and save_answer() before committing; a rollback frees the key again.
    Claiming first is what makes simultaneous retries safe: a second claim of the same key waits on the
    primary key until the first transaction ends (PostgreSQL; SQLite admits one writer at a time anyway), then
    finds the saved answer, or after a rollback claims the key itself. Looking up before the work and writing
    after it let both requests do the work.
    """
    claim = _insert_unless_present(db).values(
        principal=principal,
        key=key,
        request_fingerprint=request_fingerprint,
        status_code=PENDING,
        response_body="",
        created_at=datetime.now(UTC),
    )
    if db.execute(claim.returning(idempotency_keys.c.key)).first() is not None:
        return None
    # Claimed before, by a request that has finished: its row is visible now.
    row = db.execute(
        select(idempotency_keys).where(idempotency_keys.c.principal == principal, idempotency_keys.c.key == key)
    ).one()
    if row.request_fingerprint != request_fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was already used for a different request",
            errors={"Idempotency-Key": ["reused with a different request"]},
        )
    if row.status_code == PENDING:
        # Only a transaction that committed without saving its answer leaves this; never replay it as an answer.
        raise Conflict(
            "this Idempotency-Key is held by a request that has no answer yet",
            errors={"Idempotency-Key": ["no answer saved for it"]},
        )
    return StoredAnswer(row.status_code, json.loads(row.response_body))


def _insert_unless_present(db: Session):
    """INSERT ... ON CONFLICT DO NOTHING: one statement, where catching the duplicate needed a savepoint around it."""
    insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else postgresql_insert
    return insert(idempotency_keys).on_conflict_do_nothing()


def save_answer(db: Session, principal: str, key: str, status_code: int, body: Any) -> None:
    """Keep the answer to the request that claimed `key`, in its transaction, for the retries to get."""
    db.execute(
        idempotency_keys.update()
        .where(idempotency_keys.c.principal == principal, idempotency_keys.c.key == key)
        .values(status_code=status_code, response_body=json.dumps(body, default=str))
    )
