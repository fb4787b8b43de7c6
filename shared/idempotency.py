"""Idempotency-Key for POSTs that create money or seats: the same key and body get the first answer again."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import Unprocessable
from shared.tables import idempotency_keys

MAX_KEY_LENGTH = 200


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


def stored_answer(session: Session, principal: str, key: str, request_fingerprint: str) -> tuple[int, Any] | None:
    """The first answer given to this key, or None; a key reused for another request is refused."""
    row = session.execute(
        select(idempotency_keys).where(idempotency_keys.c.principal == principal, idempotency_keys.c.key == key)
    ).first()
    if row is None:
        return None
    if row.request_fingerprint != request_fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was already used for a different request",
            errors={"Idempotency-Key": ["reused with a different request"]},
        )
    return row.status_code, json.loads(row.response_body)


def remember_answer(session: Session, principal: str, key: str, request_fingerprint: str,
                    status_code: int, body: Any) -> None:
    session.execute(
        idempotency_keys.insert().values(
            principal=principal,
            key=key,
            request_fingerprint=request_fingerprint,
            status_code=status_code,
            response_body=json.dumps(body, default=str),
            created_at=datetime.now(UTC),
        )
    )
