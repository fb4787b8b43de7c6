"""Rules of sign-in locks and of refresh-token rotation: pure functions, no Flask, no database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from shared.errors import TooManyRequests

# --- locks after failed sign-ins --------------------------------------------------------------------------
LOCK_BASE = timedelta(minutes=1)
LOCK_CAP = timedelta(minutes=15)
# Failures further apart than this are typos over weeks, not an attack: the count starts again.
FAILURE_MEMORY = timedelta(days=1)
LOCKED = "too many failed sign-ins for this address; try again later"


def lock_until(failures: int, max_failures: int, now: datetime) -> datetime | None:
    """When the lock after `failures` consecutive failures ends: none below `max_failures`, then 1 minute,
    doubling with each further failure, at most 15 minutes (an attacker gets about 100 guesses a day)."""
    if failures < max_failures:
        return None
    doublings = min(failures - max_failures, 4)  # 2^4 minutes is past the cap already
    return now + min(LOCK_BASE * 2**doublings, LOCK_CAP)


def next_failure_count(failures: int, last_failure_at: datetime | None, now: datetime) -> int:
    if last_failure_at is None or now - last_failure_at > FAILURE_MEMORY:
        return 1
    return failures + 1


def check_not_locked(locked_until: datetime | None, now: datetime) -> None:
    """Refuse while locked, before any password is checked: the right one too, so guessing on is pointless."""
    if locked_until is not None and locked_until > now:
        raise TooManyRequests(LOCKED, retry_after_s=int((locked_until - now).total_seconds() + 0.999))


def login_key(identifier: str) -> str:
    """What failures are counted under: a digest, so the table holds no addresses, mistyped ones included."""
    return hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()


# --- refresh tokens ---------------------------------------------------------------------------------------
class TokenStatus(StrEnum):
    ACTIVE = "active"  # may be exchanged once
    ROTATED = "rotated"  # exchanged (or replaced by a retry): presenting it again is a replay
    REVOKED = "revoked"  # by logout, a password or role change, or a detected replay


class RefreshStep(StrEnum):
    ROTATE = "rotate"
    REPLACE_SUCCESSOR = "replace_successor"
    REVOKE_FAMILY = "revoke_family"
    REFUSE = "refuse"


# A client whose answer got lost retries with the token it still has; this long that retry is served.
REUSE_GRACE = timedelta(seconds=30)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


def refresh_digest(token: str) -> str:
    """Stored instead of the token. 256 random bits need no slow hash: a leaked digest cannot be reversed."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def refresh_step(status: TokenStatus, expires_at: datetime, rotated_at: datetime | None,
                 successor_active: bool, now: datetime) -> RefreshStep:
    """What presenting a refresh token does.

    An active token is exchanged for a new one (rotation). A token exchanged already is a replay: the whole
    family (every token descending from one sign-in) is revoked, since either the client or a thief holds a
    copy and there is no telling which. Except a retry: within REUSE_GRACE of the exchange, while the token it
    was exchanged for is still unused, a new successor replaces that one (which is spent and, if it ever comes
    back, revokes the family). Revoked and expired tokens are refused.
    """
    if status is TokenStatus.REVOKED or now >= expires_at:
        return RefreshStep.REFUSE
    if status is TokenStatus.ACTIVE:
        return RefreshStep.ROTATE
    if rotated_at is not None and now - rotated_at < REUSE_GRACE and successor_active:
        return RefreshStep.REPLACE_SUCCESSOR
    return RefreshStep.REVOKE_FAMILY
