"""Ratings of sessions, in the caller's transaction: who attended (from attendance.recorded), rating once,
editing within 30 days, the provider's one public answer, and averages per offer and per provider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.catalog.models import AttendanceRecord, Offer, OfferProvider, Rating, SessionAttendee
from shared.db import fetch_page
from shared.errors import Conflict, Forbidden, NotFound
from shared.events.declarations import AttendanceRecorded

EDIT_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class RatingSummary:
    count: int
    # Mean stars to two decimals; None without ratings.
    average: float | None


# --- rules ------------------------------------------------------------------------------------------------
def editable_until(created_at: datetime) -> datetime:
    return created_at + EDIT_WINDOW


def check_editable(created_at: datetime, now: datetime) -> None:
    if now > editable_until(created_at):
        raise Conflict("a rating can be changed for 30 days after it was given; this one no longer")


def summary(count: int, stars_total: int | None) -> RatingSummary:
    return RatingSummary(count=count, average=round(stars_total / count, 2) if count else None)


# --- attendance -------------------------------------------------------------------------------------------
def keep_attendance(db: Session, recorded: AttendanceRecorded) -> bool:
    """Keep a session's attendance list unless a later one is kept already (a correction replaces the list)."""
    current = db.get(AttendanceRecord, recorded.session_id, with_for_update=True)
    if current is not None and current.recorded_at >= recorded.recorded_at:
        return False
    if current is None:
        current = AttendanceRecord(session_id=recorded.session_id)
        db.add(current)
    current.offer_id, current.provider_id, current.recorded_at = (
        recorded.offer_id, recorded.provider_id, recorded.recorded_at)
    db.flush()
    db.execute(delete(SessionAttendee).where(SessionAttendee.session_id == recorded.session_id))
    db.add_all(SessionAttendee(session_id=recorded.session_id, member_id=member_id)
               for member_id in sorted({attendee.member_id for attendee in recorded.attendees}))
    return True


# --- ratings ----------------------------------------------------------------------------------------------
def rate(db: Session, session_id: str, member_id: str, stars: int, comment: str) -> Rating:
    attended = db.get(SessionAttendee, (session_id, member_id))
    if attended is None:
        raise Forbidden("only members who attended this session may rate it")
    record = db.get(AttendanceRecord, session_id)
    now = datetime.now(UTC)
    rating = Rating(id=str(uuid.uuid4()), session_id=session_id, offer_id=record.offer_id,
                    provider_id=record.provider_id, member_id=member_id, stars=stars, comment=comment,
                    created_at=now, updated_at=now)
    try:
        with db.begin_nested():
            db.add(rating)
    except IntegrityError as exc:
        # The unique index decides, so two ratings sent at once cannot both count.
        raise Conflict("you rated this session already; change your rating instead",
                       errors={"session_id": ["rated already"]}) from exc
    return rating


def _rating(db: Session, rating_id: str) -> Rating:
    rating = db.get(Rating, rating_id, with_for_update=True)
    if rating is None:
        raise NotFound(f"rating {rating_id} not found")
    return rating


def read(db: Session, rating_id: str) -> Rating:
    return _rating(db, rating_id)


def mine(db: Session, session_id: str, member_id: str) -> Rating:
    """The member's own rating of a session: a rating is public without its author, so only its author finds it
    by the session."""
    rating = db.scalar(select(Rating).where(Rating.session_id == session_id, Rating.member_id == member_id))
    if rating is None:
        raise NotFound(f"you have not rated session {session_id}")
    return rating


def edit(db: Session, rating_id: str, member_id: str, changes: dict[str, Any], now: datetime) -> Rating:
    rating = _rating(db, rating_id)
    if rating.member_id != member_id:
        raise NotFound(f"rating {rating_id} not found among yours")
    check_editable(rating.created_at, now)
    # `changes` comes from the strict rating schema: stars and comment only.
    for name, value in changes.items():
        setattr(rating, name, value)
    rating.updated_at = now
    return rating


def _provider_ids(db: Session, rating: Rating) -> list[str]:
    """Who teaches the rated offer: its providers, or the one who recorded the attendance if the catalog has no
    such offer (a rating is only ever of its own offers, so that is a fallback, not a rule)."""
    offer = db.get(Offer, rating.offer_id)
    return offer.provider_ids if offer is not None else [rating.provider_id]


def answer(db: Session, rating_id: str, provider_id: str, text: str) -> Rating:
    rating = _rating(db, rating_id)
    if provider_id not in _provider_ids(db, rating):
        raise Forbidden("only a provider of the rated offer may answer this rating")
    if rating.answer is not None:
        raise Conflict("this rating has been answered already; a rating gets one answer")
    rating.answer, rating.answered_at = text, datetime.now(UTC)
    return rating


def _summaries(db: Session, column, keys: list[str]) -> dict[str, RatingSummary]:
    rows = db.execute(select(column, func.count(), func.sum(Rating.stars)).where(column.in_(keys))
                      .group_by(column)).all()
    found = {key: summary(count, total) for key, count, total in rows}
    return {key: found.get(key, summary(0, None)) for key in keys}


def offer_summaries(db: Session, offer_ids: list[str]) -> dict[str, RatingSummary]:
    """Count and average stars of each offer in `offer_ids` (for search results and sorting by rating)."""
    return _summaries(db, Rating.offer_id, offer_ids)


def provider_summary(db: Session, provider_id: str) -> RatingSummary:
    """Count and average stars of the sessions of every offer the member teaches or taught, co-taught ones too."""
    taught = select(OfferProvider.offer_id).where(OfferProvider.member_id == provider_id)
    count, total = db.execute(select(func.count(), func.sum(Rating.stars)).where(
        or_(Rating.offer_id.in_(taught), Rating.provider_id == provider_id))).one()
    return summary(count, total)


def of_offer(db: Session, offer_id: str, page: int, per_page: int) -> tuple[RatingSummary, int, list[Rating]]:
    """An offer's count and average, and one page of its ratings, the newest first."""
    query = select(Rating).where(Rating.offer_id == offer_id).order_by(Rating.created_at.desc(), Rating.id)
    total, ratings = fetch_page(db, query, page, per_page)
    return offer_summaries(db, [offer_id])[offer_id], total, ratings


def forget_member(db: Session, member_id: str) -> None:
    """A deleted member's stars still count, but their comments and the record of what they attended go."""
    db.execute(update(Rating).where(Rating.member_id == member_id).values(member_id=None, comment="")
               .execution_options(synchronize_session=False))
    db.execute(delete(SessionAttendee).where(SessionAttendee.member_id == member_id))
