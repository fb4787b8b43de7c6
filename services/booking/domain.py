"""Booking rules: seats and the waiting list of a session, cancellation fees, when a session can be booked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from shared.errors import Conflict, Unprocessable


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


ACTIVE = (BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)


def decide_status(seats: int, confirmed: int) -> BookingStatus:
    """A seat while any is left, else a place on the waiting list."""
    return BookingStatus.CONFIRMED if confirmed < seats else BookingStatus.WAITLISTED


def check_bookable(format: str, seats_offered: int, member_has_active_booking: bool, *,
                   starts_at: datetime, now: datetime) -> None:
    """Refuse a booking the rules forbid; return quietly when it may go ahead."""
    # Checked first: once a session has begun nothing about it can be booked, whatever format or retry.
    if starts_at <= now:
        raise Conflict("this session has already started")
    if seats_offered <= 0:
        raise Unprocessable(
            f"this session has no {format.replace('_', '-')} seats", errors={"format": ["not offered"]}
        )
    if member_has_active_booking:
        raise Conflict("you already hold a booking for this session")


# --- seats and the waiting list ---------------------------------------------------------------------------
@dataclass
class FormatSeats:
    """The seats of one format of one session: how many, how many are taken, who waits in which order.

    `waiting` holds booking ids, first in line first; a booking's position is its index plus one. Counts are
    kept, not counted, so booking a free seat never reads the session's bookings.
    """

    capacity: int
    confirmed: int
    waiting: list[str] = field(default_factory=list)

    @property
    def free(self) -> int:
        return self.capacity - self.confirmed

    def book(self, booking_id: str) -> BookingStatus:
        """A seat while one is free, else the end of the waiting list."""
        if self.confirmed < self.capacity:
            self.confirmed += 1
            return BookingStatus.CONFIRMED
        self.waiting.append(booking_id)
        return BookingStatus.WAITLISTED

    def position(self, booking_id: str) -> int:
        return self.waiting.index(booking_id) + 1

    def release(self, booking_id: str, status: BookingStatus) -> list[str]:
        """A booking leaves: a waiting one its place in line, a confirmed one its seat to the first in line.

        Returns the bookings promoted to a seat, in order.
        """
        if status is BookingStatus.WAITLISTED:
            self.waiting.remove(booking_id)
            return []
        if self.confirmed <= 0:
            raise ValueError("no confirmed booking to release")
        self.confirmed -= 1
        return self._promote()

    def resize(self, capacity: int) -> list[str]:
        """More seats promote waiting members; fewer than are taken is refused, nobody loses a held seat."""
        if capacity < self.confirmed:
            raise Conflict(
                f"{self.confirmed} seats are booked; the session cannot have fewer",
                errors={"seats": [f"at least {self.confirmed}"]},
            )
        self.capacity = capacity
        return self._promote()

    def close(self) -> list[str]:
        """The session is off: every waiting booking leaves the list and every seat is given back."""
        left, self.waiting, self.confirmed = self.waiting, [], 0
        return left

    def _promote(self) -> list[str]:
        promoted = []
        while self.waiting and self.confirmed < self.capacity:
            promoted.append(self.waiting.pop(0))
            self.confirmed += 1
        return promoted


# --- cancellation -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeeTier:
    """Cancelled at least `days_before` days before the start, the member pays `percent` of the price."""

    days_before: int
    percent: int


# Free until 14 days before the start, half until 3 days before, the full price after that.
DEFAULT_CANCELLATION_POLICY = (FeeTier(14, 0), FeeTier(3, 50), FeeTier(0, 100))
PROMOTION_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class CancellationTerms:
    fee_cents: int
    refund_cents: int


def cancellation_terms(
    *,
    paid_cents: int,
    policy: Sequence[FeeTier],
    starts_at: datetime,
    now: datetime,
    free_since: datetime | None = None,
    free_until: datetime | None = None,
) -> CancellationTerms:
    """What a member pays and gets back for cancelling a seat at `now`; the two always add up to what was paid.

    The first tier whose `days_before` the remaining time reaches applies (tiers are ordered from the
    earliest); none reached means the last tier. `free_since` (a promotion from the waiting list) makes
    cancelling free for `PROMOTION_GRACE` after it; `free_until` (a rescheduled session) until then.
    """
    if now >= starts_at:
        raise Conflict("this session has already started; a seat can no longer be cancelled")
    promoted_lately = free_since is not None and now - free_since < PROMOTION_GRACE
    if paid_cents <= 0 or promoted_lately or (free_until is not None and now < free_until):
        return CancellationTerms(0, max(paid_cents, 0))
    ahead = starts_at - now
    percent = next((tier.percent for tier in policy if ahead >= timedelta(days=tier.days_before)), policy[-1].percent)
    fee = (paid_cents * percent + 50) // 100  # whole cents, half a cent up
    return CancellationTerms(fee, paid_cents - fee)


def policy_from_offer(tiers: Sequence[tuple[int, int]]) -> tuple[FeeTier, ...]:
    """Booking's tiers from an offer's `(days_before, fee_percent)` tiers, where cancelling fewer than
    `days_before` days before the start costs `fee_percent` (the nearest such tier wins, none: free)."""
    policy, percent = [], 0
    for days_before, fee_percent in sorted(tiers, reverse=True):
        policy.append(FeeTier(days_before, percent))
        percent = fee_percent
    return (*policy, FeeTier(0, percent))


def policy_to_json(policy: Sequence[FeeTier]) -> list[dict[str, int]]:
    return [{"days_before": tier.days_before, "percent": tier.percent} for tier in policy]


def policy_from_json(rows: Sequence[dict[str, int]]) -> tuple[FeeTier, ...]:
    return tuple(FeeTier(row["days_before"], row["percent"]) for row in rows)


# --- go / no-go ------------------------------------------------------------------------------------------
DEFAULT_DECISION_DAYS = 7


def decision_time(starts_at: datetime, days_before: int) -> datetime:
    return starts_at - timedelta(days=days_before)


def go_or_call_off(*, confirmed: int, minimum: int, starts_at: datetime, now: datetime) -> str:
    """"go" when enough seats are taken; a session already begun (the decision came late) is never called off."""
    return "go" if confirmed >= minimum or now >= starts_at else "called_off"


# --- attendance -------------------------------------------------------------------------------------------
ATTENDANCE_EDITABLE = timedelta(days=14)


def check_attendance_window(*, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """Attendance is recorded once the session has begun, and can be corrected for 14 days after its end."""
    if now < starts_at:
        raise Conflict("this session has not started yet; attendance is recorded once it has")
    if now > ends_at + ATTENDANCE_EDITABLE:
        raise Conflict("attendance of this session can no longer be changed (14 days after its end)")


def session_hours(starts_at: datetime, ends_at: datetime) -> float:
    """Hours of a session for its certificate, to the quarter hour."""
    return round((ends_at - starts_at).total_seconds() / 900) / 4
