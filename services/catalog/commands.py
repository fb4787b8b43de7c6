"""What catalog's API asks of it, each in the caller's transaction: rules from domain, events to the outbox."""

from __future__ import annotations

import functools
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from services.catalog import proposals, ratings, topic_requests
from services.catalog.credentials import (
    FAILURE_MEMORY,
    RefreshStep,
    TokenStatus,
    check_not_locked,
    lock_until,
    login_key,
    new_refresh_token,
    next_failure_count,
    refresh_digest,
    refresh_step,
)
from services.catalog.domain import (
    check_password,
    login_identifier,
    normalise_email,
    with_role,
)
from services.catalog.framework import check_career_path
from services.catalog.models import LoginThrottle, Member, RefreshToken
from services.catalog.profiles import PROFILE_FIELDS, anonymised_member
from shared.errors import NotFound, Unauthorized, Unprocessable
from shared.events.declarations import (
    MemberDeleted,
    MemberUpdated,
)
from shared.outbox import record_event

WRONG_CREDENTIALS = "the e-mail address or the password is wrong"
REFRESH_REFUSED = "this refresh token has expired or was revoked; sign in again"
REFRESH_REPLAYED = "this refresh token was used before, so every token of its session is revoked now; sign in again"
_INSERT_BY_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclass(frozen=True)
class Renewal:
    """A member's new refresh token (the view signs the access token that goes with it)."""

    member: Member
    refresh_token: str


# --- members ----------------------------------------------------------------------------------------------
def update_profile(db: Session, member_id: str, changes: dict[str, Any]) -> Member:
    """Apply the fields a member changed and publish the whole profile, once per change that changed something."""
    member = db.get(Member, member_id, with_for_update=True)
    if member is None:
        raise NotFound(f"member {member_id} not found")
    if changes.get("career_stage") is not None:
        check_career_path(db, changes["career_stage"])
    changed = {name: value for name, value in changes.items() if getattr(member, name) != value}
    if not changed:
        return member
    # `changes` comes from the strict profile schema, which holds only what a member may set.
    for name, value in changed.items():
        setattr(member, name, value)
    member.updated_at = datetime.now(UTC)
    record_event(db, MemberUpdated(
        member_id=member.id, updated_at=member.updated_at,
        **{name: getattr(member, name) for name in PROFILE_FIELDS},
    ))
    return member


@functools.cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def _throttle(db: Session, identifier: str, now: datetime) -> LoginThrottle:
    """The failure count of an address, locked until the caller's transaction ends.

    The lock makes the attempts at one address take turns across processes and hosts, so exactly the allowed
    number of passwords is checked before the address is locked, however many arrive at once.
    """
    key = login_key(identifier)
    insert = _INSERT_BY_DIALECT[db.get_bind().dialect.name]
    throttle = None
    while throttle is None:  # a success elsewhere may delete the row between these two statements
        db.execute(insert(LoginThrottle).values(key=key, failures=0).on_conflict_do_nothing(index_elements=["key"]))
        throttle = db.scalars(
            select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
    check_not_locked(throttle.locked_until, now)
    return throttle


def lift_lock(db: Session, email: str) -> None:
    """Forget an address's failed sign-ins: a link mailed to it proved whose it is."""
    throttle = db.get(LoginThrottle, login_key(email))
    if throttle is not None:
        db.delete(throttle)


def _count_failure(throttle: LoginThrottle, max_failures: int, now: datetime) -> None:
    throttle.failures = next_failure_count(throttle.failures, throttle.last_failure_at, now)
    throttle.last_failure_at = now
    throttle.locked_until = lock_until(throttle.failures, max_failures, now)


def authenticate(db: Session, email: str, password: str, now: datetime, *, max_failures: int) -> Member | Unauthorized:
    """The member these credentials belong to, or the refusal to answer once the failure it counted is committed.

    An unknown or unconfirmed address and a wrong password fail alike, are counted and locked alike
    (TooManyRequests while locked), and cost one password hash alike, so neither the answer nor its time tells
    which one was wrong.
    """
    identifier = login_identifier(email)
    throttle = _throttle(db, identifier, now)
    member = db.scalar(select(Member).where(Member.email == identifier))
    # An address not yet confirmed signs in as little as an unknown one, and fails the same way.
    usable = member is not None and member.email_verified_at is not None
    password_matches = check_password_hash(member.password_hash if usable else _decoy_hash(), password)
    if not usable or not password_matches:
        _count_failure(throttle, max_failures, now)
        return Unauthorized(WRONG_CREDENTIALS)
    db.delete(throttle)
    return member


def sign_in(db: Session, email: str, password: str, now: datetime, *, max_failures: int,
            lifetime: timedelta) -> Renewal | Unauthorized:
    member = authenticate(db, email, password, now, max_failures=max_failures)
    if isinstance(member, Unauthorized):
        return member
    return Renewal(member, start_session(db, member.id, now, lifetime))


def change_password(db: Session, member_id: str, old_password: str, new_password: str, now: datetime, *,
                    max_failures: int, lifetime: timedelta) -> Renewal | Unprocessable:
    """Set a new password once the old one is proven; every session ends, and this client gets a new one.

    A wrong old password counts towards the lock like a failed sign-in: a stolen access token must not become
    a way to guess the password.
    """
    member = member_by_id(db, member_id)
    check_password(new_password, context=[member.email, member.display_name], field="new_password")
    throttle = _throttle(db, member.email, now)
    if not check_password_hash(member.password_hash, old_password):
        _count_failure(throttle, max_failures, now)
        return Unprocessable("the old password is wrong", errors={"old_password": ["does not match"]})
    db.delete(throttle)
    member.password_hash = generate_password_hash(new_password)
    revoke_sessions(db, member.id)
    return Renewal(member, start_session(db, member.id, now, lifetime))


def delete_account(db: Session, member_id: str, password: str, now: datetime, *,
                   max_failures: int) -> None | Unprocessable:
    """Delete a member's account once their password is proven: every session ends, the personal data goes,
    and member.deleted tells the other services to anonymise theirs.

    A wrong password counts towards the lock like a failed sign-in, as for a password change.
    """
    member = member_by_id(db, member_id)
    throttle = _throttle(db, member.email, now)
    if not check_password_hash(member.password_hash, password):
        _count_failure(throttle, max_failures, now)
        return Unprocessable("the password is wrong", errors={"password": ["does not match"]})
    db.delete(throttle)
    db.execute(delete(RefreshToken).where(RefreshToken.member_id == member.id))
    topic_requests.forget_member(db, member.id)
    ratings.forget_member(db, member.id)
    proposals.forget_member(db, member.id)
    for name, value in anonymised_member(member.id).items():
        setattr(member, name, value)
    member.updated_at = member.deleted_at = now
    record_event(db, MemberDeleted(member_id=member.id, deleted_at=now))
    return None


def is_deleted(db: Session | Connection, member_id: str) -> bool:
    """Whether `member_id` deleted their account (a member this catalog never registered was not deleted)."""
    return db.scalar(select(Member.deleted_at).where(Member.id == member_id)) is not None


def grant_role(db: Session, email: str, role: str) -> Member:
    """Give a registered member another role; every session ends, so new tokens carry it within minutes."""
    member = db.scalar(select(Member).where(Member.email == normalise_email(email)).with_for_update())
    if member is None:
        raise NotFound(f"no member is registered with {email}")
    member.roles = with_role(member.roles, role)
    revoke_sessions(db, member.id)
    return member


# --- refresh tokens ---------------------------------------------------------------------------------------
def start_session(db: Session, member_id: str, now: datetime, lifetime: timedelta) -> str:
    """A new refresh token, the first of a new family; only its digest is stored."""
    token = new_refresh_token()
    db.add(RefreshToken(
        id=str(uuid.uuid4()), digest=refresh_digest(token), family_id=str(uuid.uuid4()), member_id=member_id,
        status=TokenStatus.ACTIVE.value, created_at=now, expires_at=now + lifetime,
    ))
    return token


def rotate_refresh_token(db: Session, presented: str, now: datetime) -> Renewal | Unauthorized:
    """Exchange a refresh token for its successor by the rule of `credentials.refresh_step`; a refusal is returned
    for the caller to answer after its transaction committed what the refusal revoked."""
    token = db.scalar(select(RefreshToken).where(RefreshToken.digest == refresh_digest(presented)).with_for_update())
    if token is None:
        return Unauthorized(REFRESH_REFUSED)
    successor = db.get(RefreshToken, token.successor_id, with_for_update=True) if token.successor_id else None
    step = refresh_step(TokenStatus(token.status), token.expires_at, token.rotated_at,
                        successor is not None and successor.status == TokenStatus.ACTIVE, now)
    if step is RefreshStep.REFUSE:
        return Unauthorized(REFRESH_REFUSED)
    if step is RefreshStep.REVOKE_FAMILY:
        _revoke(db, RefreshToken.family_id == token.family_id)
        return Unauthorized(REFRESH_REPLAYED)
    spent = successor if step is RefreshStep.REPLACE_SUCCESSOR else token
    spent.status, spent.rotated_at = TokenStatus.ROTATED.value, now
    issued = new_refresh_token()
    follower = RefreshToken(
        id=str(uuid.uuid4()), digest=refresh_digest(issued), family_id=token.family_id, member_id=token.member_id,
        status=TokenStatus.ACTIVE.value, created_at=now, expires_at=token.expires_at,
    )
    db.add(follower)
    token.successor_id = follower.id
    return Renewal(member_by_id(db, token.member_id), issued)


def end_session(db: Session, presented: str) -> None:
    """Log out: revoke the family of `presented`; a token nobody issued changes nothing and says so to no one."""
    token = db.scalar(select(RefreshToken).where(RefreshToken.digest == refresh_digest(presented)))
    if token is not None:
        _revoke(db, RefreshToken.family_id == token.family_id)


def revoke_sessions(db: Session, member_id: str) -> None:
    """End every session of a member: after a password or role change (and, once it exists, account deletion)."""
    _revoke(db, RefreshToken.member_id == member_id)


def _revoke(db: Session, which: ColumnElement[bool]) -> None:
    db.execute(update(RefreshToken).where(which, RefreshToken.status != TokenStatus.REVOKED)
               .values(status=TokenStatus.REVOKED.value))


def forget_stale_credentials(session_factory: sessionmaker) -> int:
    """Scheduled: delete failure counts older than FAILURE_MEMORY and refresh tokens past their expiry."""
    now = datetime.now(UTC)
    with session_factory.begin() as db:
        counts = db.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FAILURE_MEMORY)
                            .execution_options(synchronize_session=False)).rowcount
        tokens = db.execute(delete(RefreshToken).where(RefreshToken.expires_at < now)
                            .execution_options(synchronize_session=False)).rowcount
    return counts + tokens


def member_by_id(db: Session, member_id: str) -> Member:
    member = db.get(Member, member_id)
    if member is None or member.deleted_at is not None:
        raise NotFound(f"member {member_id} not found")
    return member
