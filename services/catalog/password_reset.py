"""A forgotten password reset by a link mailed to the member's address: asked for without saying whether the
address has an account, used once, within the hour."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from services.catalog.commands import lift_lock, revoke_sessions
from services.catalog.domain import check_password, login_identifier
from services.catalog.models import Member, PasswordReset
from services.catalog.registration import mark_confirmed
from shared.errors import Unprocessable
from shared.events.declarations import PasswordResetRequested
from shared.outbox import record_event

RESET_LIFETIME = timedelta(hours=1)
INVALID = "this reset link is not valid: it was used already, has expired, or was never sent"


def reset_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_reset(db: Session, email: str, now: datetime) -> None:
    """Mail a reset link if the address belongs to a member; the caller answers the same either way."""
    member = db.scalar(select(Member).where(Member.email == login_identifier(email), Member.deleted_at.is_(None)))
    if member is None:
        return
    token = secrets.token_urlsafe(32)
    expires_at = now + RESET_LIFETIME
    db.add(PasswordReset(digest=reset_digest(token), member_id=member.id, created_at=now, expires_at=expires_at))
    record_event(db, PasswordResetRequested(member_id=member.id, reset_token=token, requested_at=now,
                                            expires_at=expires_at))


def confirm_reset(db: Session, token: str, new_password: str, now: datetime) -> Member:
    """Set the new password of the member the token was mailed to; every session of theirs ends, every other
    reset link of theirs stops working, a lock from failed sign-ins is lifted, and the address counts as
    confirmed (the link reached it)."""
    reset = db.get(PasswordReset, reset_digest(token), with_for_update=True)
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise Unprocessable(INVALID, errors={"token": ["not valid (any more)"]})
    member = db.get(Member, reset.member_id)
    if member is None or member.deleted_at is not None:
        raise Unprocessable(INVALID, errors={"token": ["not valid (any more)"]})
    check_password(new_password, context=[member.email, member.display_name], field="new_password")
    member.password_hash = generate_password_hash(new_password)
    mark_confirmed(member, now)
    for pending in db.scalars(select(PasswordReset).where(PasswordReset.member_id == member.id,
                                                          PasswordReset.used_at.is_(None))):
        pending.used_at = now
    lift_lock(db, member.email)
    revoke_sessions(db, member.id)
    return member
