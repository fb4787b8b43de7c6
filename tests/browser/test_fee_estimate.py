"""The fee the page shows before cancelling is the fee booking charges: the page's rule, run in Chromium, against
booking's own `cancellation_terms` for any price, tiers, time left and promotion (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.booking.domain import DEFAULT_CANCELLATION_POLICY, cancellation_terms, policy_from_offer

pytestmark = pytest.mark.slow
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

tiers = st.lists(st.tuples(st.integers(1, 60), st.integers(0, 100)), max_size=4, unique_by=lambda tier: tier[0])


@pytest.fixture
def policy_module(page):
    page.goto("/")
    page.wait_for_load_state("networkidle")
    page.evaluate("async () => { window.policy = await import('/assets/js/pages/policy.js'); }")
    return page


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paid=st.integers(0, 100_000_000), offer_tiers=tiers,
       minutes_ahead=st.integers(1, 90 * 24 * 60), promoted_minutes_ago=st.none() | st.integers(0, 3 * 24 * 60))
def test_the_expected_fee_is_bookings_fee(policy_module, paid, offer_tiers, minutes_ahead, promoted_minutes_ago):
    starts_at = NOW + timedelta(minutes=minutes_ahead)
    promoted_at = None if promoted_minutes_ago is None else NOW - timedelta(minutes=promoted_minutes_ago)
    policy = policy_from_offer(offer_tiers) if offer_tiers else policy_from_offer([])
    charged = cancellation_terms(paid_cents=paid, policy=policy, starts_at=starts_at, now=NOW, free_since=promoted_at)

    shown = policy_module.evaluate(
        "([booking, tiers, now]) => window.policy.expectedFee(booking, tiers, new Date(now))",
        [{"status": "confirmed", "price_cents": paid, "starts_at": starts_at.isoformat(),
          "promoted_at": promoted_at and promoted_at.isoformat()},
         [{"days_before": days, "fee_percent": percent} for days, percent in offer_tiers], NOW.isoformat()])

    assert shown == charged.fee_cents


def test_the_pages_standard_tiers_are_bookings_default_policy(policy_module):
    standard = policy_module.evaluate("() => window.policy.STANDARD_TIERS")
    assert policy_from_offer([(tier["days_before"], tier["fee_percent"]) for tier in standard]) \
        == DEFAULT_CANCELLATION_POLICY
