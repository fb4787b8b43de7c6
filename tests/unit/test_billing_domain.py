"""Billing rules: the revenue-share split is cent-exact, fair to a cent, and the ledger always balances."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.billing.domain import (
    ACADEMY,
    ACADEMY_REVENUE,
    BASIS_POINTS,
    COMMUNITY_FUND,
    COMMUNITY_FUND_ACCOUNT,
    DEFAULT_POLICY,
    MEMBER_RECEIVABLE,
    PARTIES,
    PROVIDER,
    RevenueSharePolicy,
    invoice_ledger_lines,
    invoice_number,
    split_by_policy,
)

totals = st.integers(min_value=0, max_value=10**9)


@st.composite
def policies(draw) -> RevenueSharePolicy:
    """Any split of 100 % among the parties, zero shares and a single party included."""
    parties = draw(st.lists(st.sampled_from(PARTIES), min_size=1, max_size=len(PARTIES), unique=True))
    cuts = sorted(draw(st.lists(st.integers(0, BASIS_POINTS), min_size=len(parties) - 1, max_size=len(parties) - 1)))
    bounds = [0, *cuts, BASIS_POINTS]
    return RevenueSharePolicy("drawn", {party: bounds[i + 1] - bounds[i] for i, party in enumerate(parties)})


@given(total=totals, policy=policies())
def test_split_parts_are_whole_cents_that_add_up_to_the_total(total, policy):
    parts = split_by_policy(total, policy)

    assert set(parts) == set(policy.shares)
    assert all(isinstance(cents, int) and cents >= 0 for cents in parts.values())
    assert sum(parts.values()) == total


@given(total=totals, policy=policies())
def test_each_part_is_within_one_cent_of_its_exact_share(total, policy):
    parts = split_by_policy(total, policy)

    for party, share in policy.shares.items():
        # |part - total * share / 10000| < 1, in integers
        assert abs(parts[party] * BASIS_POINTS - total * share) < BASIS_POINTS


@given(total=totals, policy=policies(), provider_id=st.uuids().map(str))
def test_ledger_lines_of_an_invoice_balance(total, policy, provider_id):
    lines = invoice_ledger_lines(total, provider_id, policy)

    assert sum(line.debit_cents for line in lines) == sum(line.credit_cents for line in lines) == total
    assert all(line.debit_cents >= 0 and line.credit_cents >= 0 for line in lines)
    assert all(bool(line.debit_cents) != bool(line.credit_cents) for line in lines)


def test_default_policy_splits_seventy_twenty_ten():
    assert split_by_policy(10_000, DEFAULT_POLICY) == {PROVIDER: 7_000, ACADEMY: 2_000, COMMUNITY_FUND: 1_000}


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (1, {PROVIDER: 1, ACADEMY: 0, COMMUNITY_FUND: 0}),  # remainders .7 .2 .1: the cent goes to the provider
        (3, {PROVIDER: 2, ACADEMY: 1, COMMUNITY_FUND: 0}),  # 2.1 0.6 0.3: the left-over cent goes to the academy
        (9_999, {PROVIDER: 6_999, ACADEMY: 2_000, COMMUNITY_FUND: 1_000}),  # 6999.3 1999.8 999.9
        (0, {PROVIDER: 0, ACADEMY: 0, COMMUNITY_FUND: 0}),
    ],
)
def test_left_over_cents_go_to_the_largest_remainders(total, expected):
    assert split_by_policy(total, DEFAULT_POLICY) == expected


def test_ties_go_to_the_party_named_first():
    even = RevenueSharePolicy("even", {PROVIDER: 5_000, ACADEMY: 5_000})

    assert split_by_policy(101, even) == {PROVIDER: 51, ACADEMY: 50}


def test_ledger_lines_name_the_accounts():
    lines = invoice_ledger_lines(12_345, "provider-1", DEFAULT_POLICY)

    assert [(line.account, line.debit_cents, line.credit_cents) for line in lines] == [
        (MEMBER_RECEIVABLE, 12_345, 0),
        ("provider_payable:provider-1", 0, 8_642),  # 8641.5 and 2469.0 and 1234.5: the tie goes to the provider
        (ACADEMY_REVENUE, 0, 2_469),
        (COMMUNITY_FUND_ACCOUNT, 0, 1_234),
    ]


def test_a_free_offer_books_no_lines():
    assert invoice_ledger_lines(0, "provider-1", DEFAULT_POLICY) == []


@pytest.mark.parametrize(
    "shares",
    [
        {PROVIDER: 7_000, ACADEMY: 2_000},  # 90 %
        {PROVIDER: 11_000, ACADEMY: -1_000},
        {PROVIDER: 7_000, ACADEMY: 2_000, "reseller": 1_000},
        {},
    ],
)
def test_a_policy_must_share_out_exactly_everything_among_known_parties(shares):
    with pytest.raises(ValueError):
        RevenueSharePolicy("broken", shares)


def test_a_negative_total_cannot_be_split():
    with pytest.raises(ValueError):
        split_by_policy(-1, DEFAULT_POLICY)


def test_invoice_numbers_have_year_and_six_digits():
    assert invoice_number(2026, 42) == "VCA-2026-000042"
