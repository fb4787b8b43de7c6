"""Registration with a confirmed address: the answer never says whether the address has an account (the mail to it
does), a member signs in only after opening the mailed link, and registrations never confirmed are removed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import generate_password_hash

from services.catalog.commands import lift_lock, update_profile

# Links carry the same kind of token as refresh tokens: 256 random bits, kept as a SHA-256 digest only.
from services.catalog.credentials import new_refresh_token as new_token
from services.catalog.credentials import refresh_digest as token_digest
from services.catalog.domain import MEMBER_ROLE, check_password, normalise_email
from services.catalog.models import EmailVerification, Member
from services.catalog.profiles import anonymised_member
from shared.errors import NotFound, Unprocessable
from shared.events.declarations import MemberDeleted, MemberRegistered, RegistrationRequested
from shared.outbox import record_event

VERIFICATION_LIFETIME = timedelta(hours=24)
INVALID = "this confirmation link is not valid: it was used already, has expired, or was never sent"


def register(db: Session, email: str, password: str, display_name: str, *, preferred_language: str,
             time_zone: str, now: datetime) -> None:
    """Mail the address either a confirmation link or, if it has a confirmed account, word of this attempt; the
    caller answers the same in both cases. Invalid input is refused alike whether or not the address is known."""
    address = normalise_email(email)
    check_password(password, context=[address, display_name])
    # Hashed in every case, so that the answer's time does not tell a member's address from a new one.
    password_hash = generate_password_hash(password)
    member = db.scalar(select(Member).where(Member.email == address).with_for_update())
    if member is None:
        member = _new_member(db, address, display_name, preferred_language, time_zone, now)
        if member is None:  # registered at the same moment by another request: the same as found
            member = db.scalar(select(Member).where(Member.email == address).with_for_update())
    if member.email_verified_at is not None:
        record_event(db, RegistrationRequested(member_id=member.id, requested_at=now))
        return
    token = new_token()
    expires_at = now + VERIFICATION_LIFETIME
    db.add(EmailVerification(
        digest=token_digest(token), member_id=member.id, password_hash=password_hash,
        display_name=display_name, preferred_language=preferred_language, time_zone=time_zone,
        created_at=now, expires_at=expires_at))
    record_event(db, RegistrationRequested(member_id=member.id, verification_token=token, expires_at=expires_at,
                                           requested_at=now))


def _new_member(db: Session, address: str, display_name: str, preferred_language: str, time_zone: str,
                now: datetime) -> Member | None:
    """A member not yet confirmed, announced at once so that notify can mail the link; None if the address was
    taken meanwhile (the unique index decides between two registrations racing)."""
    member = Member(id=str(uuid.uuid4()), email=address, display_name=display_name,
                    password_hash="!",  # no password signs in until a confirmation link sets one
                    roles=[MEMBER_ROLE], created_at=now, languages=[], preferred_language=preferred_language,
                    preferred_formats=[], time_zone=time_zone)
    try:
        with db.begin_nested():
            db.add(member)
    except IntegrityError:
        return None
    record_event(db, MemberRegistered(
        member_id=member.id, email=member.email, display_name=member.display_name, registered_at=now,
        preferred_language=preferred_language, time_zone=time_zone))
    return member


def confirm(db: Session, token: str, now: datetime) -> Member:
    """Confirm the address the link was mailed to, with the password and profile of the registration that asked for
    that link; every other link for the address stops working, and a lock from failed sign-ins is lifted."""
    verification = db.get(EmailVerification, token_digest(token), with_for_update=True)
    if verification is None or verification.used_at is not None or verification.expires_at <= now:
        raise Unprocessable(INVALID, errors={"token": ["not valid (any more)"]})
    member = db.get(Member, verification.member_id, with_for_update=True)
    if member is None or member.deleted_at is not None or member.email_verified_at is not None:
        raise Unprocessable(INVALID, errors={"token": ["not valid (any more)"]})
    return _confirmed(db, member, verification, now)


def confirm_newest(db: Session, email: str, now: datetime) -> Member:
    """An operator's confirmation (the demo's members; a member whose mail never arrived): as if the newest link
    mailed to the address had been opened."""
    member = db.scalar(select(Member).where(Member.email == normalise_email(email), Member.deleted_at.is_(None),
                                            Member.email_verified_at.is_(None)).with_for_update())
    newest = member and db.scalar(
        select(EmailVerification).where(EmailVerification.member_id == member.id, EmailVerification.used_at.is_(None),
                                        EmailVerification.expires_at > now)
        .order_by(EmailVerification.created_at.desc()).limit(1))
    if not newest:
        raise NotFound(f"no registration of {email} waits for confirmation")
    return _confirmed(db, member, newest, now)


def _confirmed(db: Session, member: Member, verification: EmailVerification, now: datetime) -> Member:
    member.password_hash = verification.password_hash
    member.email_verified_at = now
    for pending in db.scalars(select(EmailVerification).where(EmailVerification.member_id == member.id,
                                                              EmailVerification.used_at.is_(None))):
        pending.used_at = now
    lift_lock(db, member.email)
    return update_profile(db, member.id, {"display_name": verification.display_name,
                                          "preferred_language": verification.preferred_language,
                                          "time_zone": verification.time_zone})


def mark_confirmed(member: Member, now: datetime) -> None:
    """A password-reset link proves the address as well as a confirmation link does."""
    if member.email_verified_at is None:
        member.email_verified_at = now


def forget_unconfirmed(session_factory: sessionmaker, now: datetime | None = None) -> int:
    """Scheduled: remove registrations whose every link expired unopened (member.deleted tells the other services
    to forget them), so an address someone else registered is free again. Returns how many."""
    now = now or datetime.now(UTC)
    pending = exists().where(EmailVerification.member_id == Member.id, EmailVerification.expires_at > now)
    with session_factory.begin() as db:
        members = list(db.scalars(select(Member).where(
            Member.email_verified_at.is_(None), Member.deleted_at.is_(None),
            Member.created_at < now - VERIFICATION_LIFETIME, ~pending).with_for_update(skip_locked=True)))
        for member in members:
            db.execute(delete(EmailVerification).where(EmailVerification.member_id == member.id))
            for name, value in anonymised_member(member.id).items():
                setattr(member, name, value)
            member.updated_at = member.deleted_at = now
            record_event(db, MemberDeleted(member_id=member.id, deleted_at=now))
    return len(members)
