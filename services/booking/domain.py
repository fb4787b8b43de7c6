"""Booking rules: who gets a seat, who waits, and when a session can no longer be booked."""

from __future__ import annotations

from datetime import datetime
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
