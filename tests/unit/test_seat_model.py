"""The seat aggregate against a plain model, and cancellation fees: exact, bounded, never more than paid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.booking.domain import (
    DEFAULT_CANCELLATION_POLICY,
    BookingStatus,
    FeeTier,
    FormatSeats,
    cancellation_terms,
    policy_from_offer,
)
from shared.errors import Conflict

NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


class SeatsAgainstAModel(RuleBasedStateMachine):
    """Book, cancel, leave the line, resize and call off in any order; the aggregate must agree with a model
    that keeps every member's state in one dict and seats a member only by arrival order."""

    @initialize(capacity=st.integers(min_value=0, max_value=4))
    def open(self, capacity):
        self.seats = FormatSeats(capacity=capacity, confirmed=0)
        self.capacity = capacity
        self.state: dict[str, str] = {}  # booking -> "confirmed" | "waiting" | "gone"
        self.arrival: list[str] = []
        self.counter = 0

    def _holders(self) -> list[str]:
        return [b for b in self.arrival if self.state[b] == "confirmed"]

    def _line(self) -> list[str]:
        return [b for b in self.arrival if self.state[b] == "waiting"]

    def _fill(self) -> list[str]:
        promoted = []
        for booking in self._line():
            if len(self._holders()) >= self.capacity:
                break
            self.state[booking] = "confirmed"
            promoted.append(booking)
        return promoted

    @rule()
    def book(self):
        self.counter += 1
        booking = f"b{self.counter}"
        expected = "confirmed" if len(self._holders()) < self.capacity else "waiting"
        status = self.seats.book(booking)
        self.arrival.append(booking)
        self.state[booking] = expected
        assert status is (BookingStatus.CONFIRMED if expected == "confirmed" else BookingStatus.WAITLISTED)

    @precondition(lambda self: any(state == "confirmed" for state in self.state.values()))
    @rule(data=st.data())
    def cancel_a_seat(self, data):
        booking = data.draw(st.sampled_from(self._holders()))
        promoted = self.seats.release(booking, BookingStatus.CONFIRMED)
        self.state[booking] = "gone"
        assert promoted == self._fill()

    @precondition(lambda self: any(state == "waiting" for state in self.state.values()))
    @rule(data=st.data())
    def leave_the_line(self, data):
        booking = data.draw(st.sampled_from(self._line()))
        assert self.seats.release(booking, BookingStatus.WAITLISTED) == []
        self.state[booking] = "gone"

    @rule(capacity=st.integers(min_value=0, max_value=6))
    def resize(self, capacity):
        if capacity < len(self._holders()):
            with pytest.raises(Conflict):
                self.seats.resize(capacity)
            return
        self.capacity = capacity
        assert self.seats.resize(capacity) == self._fill()

    @rule()
    def call_off(self):
        left = self.seats.close()
        assert left == self._line()
        for booking in self.arrival:
            self.state[booking] = "gone"
        self.capacity = self.seats.capacity

    @invariant()
    def agrees_with_the_model(self):
        assert self.seats.confirmed == len(self._holders()) <= self.seats.capacity
        assert self.seats.waiting == self._line(), "first come, first served; positions without gaps"
        assert not self.seats.waiting or self.seats.free == 0, "nobody waits while a seat is free"


TestSeatsAgainstAModel = SeatsAgainstAModel.TestCase


@given(
    paid=st.integers(min_value=0, max_value=10_000_000),
    ahead=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=400)),
)
def test_fee_and_refund_add_up_to_what_was_paid(paid, ahead):
    terms = cancellation_terms(paid_cents=paid, policy=DEFAULT_CANCELLATION_POLICY, starts_at=NOW + ahead, now=NOW)
    assert terms.fee_cents + terms.refund_cents == paid
    assert 0 <= terms.fee_cents <= paid


@given(
    paid=st.integers(min_value=1, max_value=1_000_000),
    earlier=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=60)),
    later=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=60)),
)
def test_cancelling_closer_to_the_start_never_costs_less(paid, earlier, later):
    assume(earlier >= later)
    starts_at = NOW + earlier

    def fee(ahead):
        return cancellation_terms(paid_cents=paid, policy=DEFAULT_CANCELLATION_POLICY, starts_at=starts_at,
                                  now=starts_at - ahead).fee_cents

    assert fee(earlier) <= fee(later)


@pytest.mark.parametrize(
    ("ahead", "fee"),
    [
        (timedelta(days=14), 0),
        (timedelta(days=14) - timedelta(seconds=1), 5_000),
        (timedelta(days=3), 5_000),
        (timedelta(days=3) - timedelta(seconds=1), 10_000),
        (timedelta(minutes=1), 10_000),
    ],
)
def test_the_default_policy_at_its_edges(ahead, fee):
    terms = cancellation_terms(paid_cents=10_000, policy=DEFAULT_CANCELLATION_POLICY, starts_at=NOW + ahead, now=NOW)
    assert terms.fee_cents == fee


def test_half_a_cent_is_rounded_up_and_refunds_stay_exact():
    terms = cancellation_terms(paid_cents=999, policy=(FeeTier(0, 50),), starts_at=NOW + timedelta(days=1), now=NOW)
    assert (terms.fee_cents, terms.refund_cents) == (500, 499)


def test_a_promoted_member_cancels_free_for_a_day():
    starts_at = NOW + timedelta(days=1)
    free = cancellation_terms(paid_cents=10_000, policy=DEFAULT_CANCELLATION_POLICY, starts_at=starts_at, now=NOW,
                              free_since=NOW - timedelta(hours=23))
    charged = cancellation_terms(paid_cents=10_000, policy=DEFAULT_CANCELLATION_POLICY, starts_at=starts_at,
                                 now=NOW, free_since=NOW - timedelta(hours=25))
    assert (free.fee_cents, charged.fee_cents) == (0, 10_000)


def test_nothing_can_be_cancelled_once_the_session_started():
    with pytest.raises(Conflict):
        cancellation_terms(paid_cents=100, policy=DEFAULT_CANCELLATION_POLICY, starts_at=NOW, now=NOW)


@given(
    tiers=st.dictionaries(st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=100),
                          max_size=5),
    ahead=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=90)),
)
def test_an_offers_tiers_charge_the_nearest_tier_the_time_left_falls_under(tiers, ahead):
    """An offer states "fewer than N days before the start costs P %"; booking's tiers must charge the same."""
    under = [days for days in tiers if ahead < timedelta(days=days)]
    percent = tiers[min(under)] if under else 0
    terms = cancellation_terms(paid_cents=10_000, policy=policy_from_offer(list(tiers.items())),
                               starts_at=NOW + ahead, now=NOW)
    assert terms.fee_cents == percent * 100


def test_the_default_policy_stated_as_an_offer_states_it():
    assert policy_from_offer([(3, 100), (14, 50)]) == DEFAULT_CANCELLATION_POLICY
