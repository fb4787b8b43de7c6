"""A price typed in euros becomes integer cents in the page, for any amount in German or English writing
(hypothesis, run in Chromium): no floating point on the way to the API."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow


@pytest.fixture
def provide_module(page):
    page.goto("/")
    page.wait_for_load_state("networkidle")
    page.evaluate("async () => { window.provide = await import('/assets/js/pages/provide.js'); }")
    return page


def written(cents: int, decimal: str, grouped: bool, always_cents: bool) -> str:
    """How a person might write the amount: 1.234,50 / 1234,5 / 1,234.50 / 1234."""
    euros, rest = divmod(cents, 100)
    whole = f"{euros:,}".replace(",", "." if decimal == "," else ",") if grouped else str(euros)
    if rest == 0 and not always_cents:
        return whole
    fraction = f"{rest:02d}"
    if fraction.endswith("0") and not always_cents:
        fraction = fraction[0]
    return f"{whole}{decimal}{fraction}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=st.integers(0, 100_000_000), decimal=st.sampled_from([",", "."]), grouped=st.booleans(),
       always_cents=st.booleans())
def test_any_amount_as_written_is_read_as_its_cents(provide_module, cents, decimal, grouped, always_cents):
    text = written(cents, decimal, grouped, always_cents)
    assert provide_module.evaluate("(text) => window.provide.parseCents(text)", text) == cents, text


@pytest.mark.parametrize("text", ["", "abc", "12.345.6", "1,234,5", "1,2,3", "-5", "5.9999", "€5", "1e3", "12 .50"])
def test_what_is_not_an_amount_is_not_read_as_one(provide_module, text):
    assert provide_module.evaluate("(text) => window.provide.parseCents(text)", text) is None
