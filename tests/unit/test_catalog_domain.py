"""Catalog rules: the offer status machine, who sees what, which seats a format may sell, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.catalog.domain import (
    EDITABLE,
    PUBLIC,
    SEAT_KINDS_BY_FORMAT,
    TRANSITIONS,
    OfferAction,
    OfferStatus,
    can_view,
    check_editable,
    check_format_change,
    check_location,
    check_schedule,
    check_seats,
    check_submittable,
    next_status,
    normalise_email,
    with_role,
)
from shared.errors import Conflict, Unprocessable
from shared.events.declarations import FORMATS, SEAT_FORMATS

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)

statuses = st.sampled_from(list(OfferStatus))
actions = st.sampled_from(list(OfferAction))
seats = st.fixed_dictionaries({kind: st.integers(min_value=0, max_value=50) for kind in SEAT_FORMATS})
member_ids = st.sampled_from(["ann", "ben", "cem"])


# --- the offer status machine -----------------------------------------------------------------------------
def test_the_transition_table_covers_every_status_and_leads_only_to_known_ones():
    assert set(TRANSITIONS) == set(OfferStatus)
    for steps in TRANSITIONS.values():
        assert set(steps.values()) <= set(OfferStatus)


def test_a_submitted_draft_waits_for_review_and_a_published_offer_cannot_be_submitted_again():
    assert next_status(OfferStatus.DRAFT, OfferAction.SUBMIT) is OfferStatus.IN_REVIEW
    assert next_status(OfferStatus.IN_REVIEW, OfferAction.APPROVE) is OfferStatus.PUBLISHED
    with pytest.raises(Conflict) as refused:
        next_status(OfferStatus.PUBLISHED, OfferAction.SUBMIT)
    assert refused.value.errors == {"allowed_actions": ["withdraw"]}


@given(status=statuses, action=actions)
def test_next_status_follows_the_table_and_refuses_every_step_it_does_not_list(status, action):
    if action in TRANSITIONS[status]:
        assert next_status(status, action) is TRANSITIONS[status][action]
    else:
        with pytest.raises(Conflict):
            next_status(status, action)


@given(steps=st.lists(actions, max_size=20))
def test_any_sequence_of_actions_never_leads_back_to_draft_and_publishes_at_most_once(steps):
    status, published = OfferStatus.DRAFT, 0
    for action in steps:
        try:
            following = next_status(status, action)
        except Conflict:
            continue
        assert following is not OfferStatus.DRAFT
        if following is OfferStatus.PUBLISHED:
            published += 1
        status = following
    assert published <= 1
    assert status in set(OfferStatus)


@given(status=statuses)
def test_offers_in_review_and_withdrawn_ones_cannot_be_edited(status):
    if status in EDITABLE:
        check_editable(status)
    else:
        with pytest.raises(Conflict):
            check_editable(status)
    assert (status in EDITABLE) == (status not in (OfferStatus.IN_REVIEW, OfferStatus.WITHDRAWN))


def test_a_published_offer_changes_only_what_needs_no_new_review():
    check_editable(OfferStatus.PUBLISHED, ["price_cents", "vat_rate", "cancellation_policy", "fee_tiers"])
    with pytest.raises(Conflict) as refused:
        check_editable(OfferStatus.PUBLISHED, ["price_cents", "competences", "level"])
    assert set(refused.value.errors) == {"competences", "level"}
    check_editable(OfferStatus.DRAFT, ["competences", "level", "providers"])


@given(status=statuses, provider=member_ids, viewer=st.one_of(st.none(), member_ids),
       roles=st.sets(st.sampled_from(["member", "reviewer", "operator", "partner"])))
def test_providers_and_reviewers_see_an_unpublished_offer_and_everyone_a_public_one(status, provider, viewer, roles):
    reviewer = viewer is not None and bool(roles & {"reviewer", "operator"})
    assert can_view(status, [provider], viewer, roles) == (viewer == provider or reviewer or status in PUBLIC)
    assert can_view(status, [provider], provider)


# --- sessions ---------------------------------------------------------------------------------------------
@given(offer_format=st.sampled_from(FORMATS), sold=seats)
def test_a_session_sells_only_the_seat_kinds_of_its_format_and_at_least_one_seat(offer_format, sold):
    fits = all(count == 0 or kind in SEAT_KINDS_BY_FORMAT[offer_format] for kind, count in sold.items())
    if fits and any(sold.values()):
        check_seats(offer_format, sold)
    else:
        with pytest.raises(Unprocessable) as refused:
            check_seats(offer_format, sold)
        assert "seats" in refused.value.errors


@given(new_format=st.sampled_from(FORMATS), scheduled=st.lists(seats, max_size=4))
def test_a_draft_changes_format_only_when_its_sessions_still_fit(new_format, scheduled):
    fits = all(
        count == 0 or kind in SEAT_KINDS_BY_FORMAT[new_format] for sold in scheduled for kind, count in sold.items()
    )
    if fits:
        check_format_change(new_format, scheduled)
    else:
        with pytest.raises(Unprocessable) as refused:
            check_format_change(new_format, scheduled)
        assert "format" in refused.value.errors


@pytest.mark.parametrize(
    ("offer_format", "sold"),
    [
        ("online", {"online": 10, "in_person": 0}),
        ("in_person", {"online": 0, "in_person": 8}),
        ("hybrid", {"online": 10, "in_person": 8}),
        ("hybrid", {"online": 0, "in_person": 8}),
    ],
)
def test_seats_that_fit_the_format_are_accepted(offer_format, sold):
    check_seats(offer_format, sold)


@pytest.mark.parametrize(
    ("offer_format", "sold"),
    [
        ("online", {"online": 10, "in_person": 1}),
        ("in_person", {"online": 1, "in_person": 8}),
        ("hybrid", {"online": 0, "in_person": 0}),
    ],
)
def test_seats_that_do_not_fit_the_format_are_refused(offer_format, sold):
    with pytest.raises(Unprocessable):
        check_seats(offer_format, sold)


def test_in_person_seats_need_a_location():
    with pytest.raises(Unprocessable) as refused:
        check_location({"online": 0, "in_person": 5}, None)
    assert "location" in refused.value.errors
    check_location({"online": 0, "in_person": 5}, "Leipzig, Haus der Cluster")
    check_location({"online": 5, "in_person": 0}, None)


def test_a_session_starts_in_the_future_and_ends_after_it_starts():
    check_schedule(NOW + timedelta(days=1), NOW + timedelta(days=1, hours=2), NOW)
    with pytest.raises(Unprocessable) as started:
        check_schedule(NOW, NOW + timedelta(hours=2), NOW)
    assert "starts_at" in started.value.errors
    with pytest.raises(Unprocessable) as backwards:
        check_schedule(NOW + timedelta(days=1), NOW + timedelta(days=1), NOW)
    assert "ends_at" in backwards.value.errors


def test_an_offer_is_submittable_only_with_an_upcoming_session():
    with pytest.raises(Unprocessable):
        check_submittable([], NOW)
    with pytest.raises(Unprocessable):
        check_submittable([NOW - timedelta(days=1)], NOW)
    check_submittable([NOW - timedelta(days=1), NOW + timedelta(days=1)], NOW)


# --- members ----------------------------------------------------------------------------------------------
def test_granting_adds_a_role_once_and_only_grantable_ones():
    assert with_role(["member"], "operator") == ["member", "operator"]
    assert with_role(["member", "operator"], "operator") == ["member", "operator"]
    for role in ("member", "admin", ""):
        with pytest.raises(Unprocessable):
            with_role(["member"], role)


def test_addresses_are_compared_without_case_and_surrounding_space():
    assert normalise_email("  Ann.Muster@Example.ORG ") == "ann.muster@example.org"
