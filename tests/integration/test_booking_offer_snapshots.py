"""Booking keeps what the catalog's offer and member events say: co-providers, the offer's own cancellation
policy (for bookings made after it), withdrawal, organisations and deleted members."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services import booking
from services.booking.models import MemberRecord, OfferRecord
from shared.bus import Outcome
from shared.events.declarations import (
    FeeTier,
    MemberDeleted,
    MemberRegistered,
    MemberUpdated,
    OfferPublished,
    OfferPublishedV2,
    OfferUpdated,
    OfferWithdrawn,
    ProviderShare,
    SessionScheduled,
)
from shared.testing import OFFER, WHEN, bearer, delivery, sample

SERVICE = booking.SERVICE  # the service under test, for the fixtures in conftest.py
LEAD, CO = "provider-lead", "provider-co"
SHARED = [ProviderShare(member_id=LEAD, share_percent=70), ProviderShare(member_id=CO, share_percent=30)]


def handled(consumer, *events) -> None:
    assert all(s.outcome is Outcome.ACK for s in consumer.handle_batch([delivery(event) for event in events]))


@pytest.fixture
def session_of_two_providers(consumer):
    """An offer taught by two providers whose policy charges half from 10 days and all from 2 days before."""
    offer_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    starts_at = datetime.now(UTC) + timedelta(days=5)
    snapshot = replace(OFFER, providers=SHARED, price_cents=10_000,
                       fee_tiers=[FeeTier(days_before=10, fee_percent=50), FeeTier(days_before=2, fee_percent=100)])
    handled(consumer,
            sample(OfferPublishedV2, offer_id=offer_id, offer=snapshot),
            sample(SessionScheduled, session_id=session_id, offer_id=offer_id, starts_at=starts_at,
                   ends_at=starts_at + timedelta(hours=2), seats={"online": 5, "in_person": 0}))
    return offer_id, session_id, snapshot


def book(client, session_id: str, member: str):
    return client.post("/api/v1/bookings", json={"session_id": session_id, "format": "online"},
                       headers=bearer(member))


def test_a_co_provider_neither_books_nor_is_refused_the_participant_list(client, session_of_two_providers):
    _, session_id, _ = session_of_two_providers

    assert book(client, session_id, CO).status_code == 409
    assert book(client, session_id, "learner").status_code == 201
    for provider in (LEAD, CO):
        answer = client.get(f"/api/v1/sessions/{session_id}/participants", headers=bearer(provider))
        assert answer.status_code == 200 and len(answer.json["items"]) == 1
    assert client.get(f"/api/v1/sessions/{session_id}/participants",
                      headers=bearer("learner")).status_code == 403


def test_the_offers_policy_applies_and_a_later_change_only_to_later_bookings(
        client, consumer, session_of_two_providers):
    offer_id, session_id, snapshot = session_of_two_providers
    early = book(client, session_id, "early").json
    free_policy = replace(snapshot, fee_tiers=[])
    handled(consumer, sample(OfferUpdated, offer_id=offer_id, offer=free_policy))
    late = book(client, session_id, "late").json

    # Five days before the start: half under the policy the early booking was made with, nothing under the new.
    early_cancelled = client.post(f"/api/v1/bookings/{early['id']}/cancel", headers=bearer("early"))
    late_cancelled = client.post(f"/api/v1/bookings/{late['id']}/cancel", headers=bearer("late"))
    assert (early_cancelled.json["fee_cents"], early_cancelled.json["refund_cents"]) == (5_000, 5_000)
    assert (late_cancelled.json["fee_cents"], late_cancelled.json["refund_cents"]) == (0, 10_000)


def test_a_withdrawn_offer_takes_no_more_bookings_but_keeps_the_ones_it_has(
        client, consumer, session_of_two_providers):
    offer_id, session_id, _ = session_of_two_providers
    kept = book(client, session_id, "kept").json

    handled(consumer, sample(OfferWithdrawn, offer_id=offer_id))

    refused = book(client, session_id, "too-late")
    assert refused.status_code == 409 and "withdrawn" in refused.json["detail"]
    assert client.get(f"/api/v1/bookings/{kept['id']}", headers=bearer("kept")).json["status"] == "confirmed"


def test_an_older_v1_event_does_not_overwrite_what_v2_said(runtime, consumer, session_of_two_providers):
    offer_id, _, _ = session_of_two_providers

    handled(consumer, sample(OfferPublished, offer_id=offer_id, provider_id=LEAD, price_cents=1))

    with runtime.session_factory() as db:
        offer = db.get(OfferRecord, offer_id)
        assert (offer.provider_ids, offer.price_cents) == ([LEAD, CO], 10_000)


def test_participants_show_the_organisation_and_a_deleted_member_stays_anonymous(
        runtime, client, consumer, session_of_two_providers):
    _, session_id, _ = session_of_two_providers
    member = f"member-{uuid.uuid4()}"
    handled(consumer, sample(MemberRegistered, member_id=member, display_name="Ada"),
            sample(MemberUpdated, member_id=member, display_name="Ada L.", organisation="Cluster BW",
                   updated_at=WHEN + timedelta(hours=1)))
    book(client, session_id, member)

    [row] = client.get(f"/api/v1/sessions/{session_id}/participants", headers=bearer(LEAD)).json["items"]
    assert (row["name"], row["organisation"]) == ("Ada L.", "Cluster BW")

    # Deleted, then an older update delivered late: the name must not come back.
    handled(consumer, sample(MemberDeleted, member_id=member),
            sample(MemberUpdated, member_id=member, display_name="Ada L.", organisation="Cluster BW",
                   updated_at=WHEN + timedelta(minutes=30)))

    [row] = client.get(f"/api/v1/sessions/{session_id}/participants", headers=bearer(LEAD)).json["items"]
    assert (row["name"], row["organisation"]) == ("Former member", None)
    with runtime.session_factory() as db:
        assert db.get(MemberRecord, member).deleted_at is not None


def test_a_withdrawal_before_the_offer_is_known_waits_for_it(consumer):
    [settled] = consumer.handle_batch([delivery(sample(OfferWithdrawn, offer_id=str(uuid.uuid4())))])
    assert settled.outcome is not Outcome.ACK
