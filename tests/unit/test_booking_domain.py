"""Booking rules: seats are never overbooked, one active booking per member, a seat for whoever finds one free."""

from __future__ import annotations

from collections import Counter

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


@given(seats=st.integers(min_value=0, max_value=50), confirmed=st.integers(min_value=0, max_value=50))
def test_a_seat_is_given_exactly_while_one_is_left(seats, confirmed):
    expected = BookingStatus.CONFIRMED if confirmed < seats else BookingStatus.WAITLISTED
    assert decide_status(seats, confirmed) is expected


@given(seats=st.integers(min_value=-2, max_value=5), has_active_booking=st.booleans(), format=formats)
def test_check_bookable_refuses_formats_without_seats_then_second_bookings(seats, has_active_booking, format):
    # A format without seats is refused whatever the member holds: "not offered" is the more useful answer.
    if seats <= 0:
        with pytest.raises(Unprocessable) as refused:
            check_bookable(format, seats, has_active_booking)
        assert refused.value.errors == {"format": ["not offered"]}
    elif has_active_booking:
        with pytest.raises(Conflict):
            check_bookable(format, seats, has_active_booking)
    else:
        assert check_bookable(format, seats, has_active_booking) is None


def test_cancelled_bookings_are_not_active():
    assert set(ACTIVE) == {BookingStatus.CONFIRMED, BookingStatus.WAITLISTED}


class BookingRules(RuleBasedStateMachine):
    """One session; members try to book it in any order, each attempt decided by the domain's rules.

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
            check_bookable(format, seats, has_active)
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
