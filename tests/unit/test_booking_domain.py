"""Booking rules: seats are never overbooked, one active booking per member, nothing once a session has started."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from services.booking.domain import ACTIVE, BookingStatus, check_bookable, decide_status
from shared.errors import Conflict, Unprocessable

SEAT_FORMATS = ("online", "in_person")
seat_counts = st.integers(min_value=0, max_value=4)
members = st.sampled_from([f"member-{n}" for n in range(8)])
formats = st.sampled_from(SEAT_FORMATS)
NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
STARTS_AT = NOW + timedelta(days=14)


@given(seats=st.integers(min_value=0, max_value=20), arrivals=st.integers(min_value=0, max_value=40))
def test_members_arriving_one_by_one_fill_the_seats_then_queue(seats, arrivals):
    confirmed, statuses = 0, []
    for _ in range(arrivals):
        status = decide_status(seats, confirmed)
        confirmed += status is BookingStatus.CONFIRMED
        statuses.append(status)

    seated = min(seats, arrivals)
    assert statuses == [BookingStatus.CONFIRMED] * seated + [BookingStatus.WAITLISTED] * (arrivals - seated)


def test_a_session_can_be_booked_until_the_moment_it_starts():
    check_bookable("online", 1, False, starts_at=NOW + timedelta(microseconds=1), now=NOW)

    with pytest.raises(Conflict) as refused:
        check_bookable("online", 1, False, starts_at=NOW, now=NOW)
    assert refused.value.detail == "this session has already started"


@given(
    started_ago=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
    seats=st.integers(min_value=-2, max_value=5),
    has_active_booking=st.booleans(),
    format=formats,
)
def test_a_started_session_is_refused_whatever_its_seats_and_bookings(started_ago, seats, has_active_booking, format):
    # "Already started" outranks the other refusals: no format of it and no second try can succeed any more.
    with pytest.raises(Conflict) as refused:
        check_bookable(format, seats, has_active_booking, starts_at=NOW - started_ago, now=NOW)
    assert refused.value.detail == "this session has already started"


class BookingRules(RuleBasedStateMachine):
    """One session, still ahead; members try to book it in any order, each attempt decided by the domain's rules.

    The expected answer comes from a deliberately different bookkeeping (free seats counted down, a set of
    holders) so that an off-by-one or a forgotten check in the domain shows up as a disagreement.
    """

    @initialize(online=seat_counts, in_person=seat_counts)
    def schedule(self, online: int, in_person: int) -> None:
        self.seats = {"online": online, "in_person": in_person}
        self.free_seats = dict(self.seats)
        self.holders: set[str] = set()
        self.bookings: list[tuple[str, str, BookingStatus]] = []  # (member, format, status)
        self.free_when_booked: list[tuple[BookingStatus, bool]] = []

    @rule(member=members, format=formats)
    def attempt(self, member: str, format: str) -> None:
        seats = self.seats[format]
        confirmed = sum(1 for _, f, status in self.bookings if f == format and status is BookingStatus.CONFIRMED)
        has_active = any(m == member and status in ACTIVE for m, _, status in self.bookings)
        try:
            check_bookable(format, seats, has_active, starts_at=STARTS_AT, now=NOW)
        except Unprocessable:
            assert seats == 0, "a format with seats was refused as not offered"
            return
        except Conflict:
            assert member in self.holders, "a member without a booking was refused as already booked"
            return
        assert seats > 0 and member not in self.holders, "a booking the rules forbid was let through"
        status = decide_status(seats, confirmed)
        seat_was_free = self.free_seats[format] > 0
        self.free_when_booked.append((status, seat_was_free))
        if status is BookingStatus.CONFIRMED:
            self.free_seats[format] -= 1
        self.holders.add(member)
        self.bookings.append((member, format, status))

    @invariant()
    def confirmed_never_exceed_seats(self) -> None:
        confirmed = Counter(f for _, f, status in self.bookings if status is BookingStatus.CONFIRMED)
        for format in SEAT_FORMATS:
            assert confirmed[format] <= self.seats[format]

    @invariant()
    def no_member_holds_two_active_bookings(self) -> None:
        active = Counter(member for member, _, status in self.bookings if status in ACTIVE)
        assert all(count == 1 for count in active.values())

    @invariant()
    def confirmed_exactly_when_a_seat_was_free(self) -> None:
        for status, seat_was_free in self.free_when_booked:
            assert (status is BookingStatus.CONFIRMED) == seat_was_free

    @invariant()
    def nobody_waits_while_a_seat_is_free(self) -> None:
        for format in SEAT_FORMATS:
            waiting = any(f == format and status is BookingStatus.WAITLISTED for _, f, status in self.bookings)
            assert not (waiting and self.free_seats[format] > 0)


BookingRules.TestCase.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)
test_booking_rules = BookingRules.TestCase
