"""Teach-to-learn credits: released earnings turned into credits with a bonus, credits paying invoices, and
converted earnings never paid out again."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from services import billing
from services.billing import ledger
from services.billing.credits import bonus_of
from services.billing.payouts import issue_due_payouts
from services.billing.settings import BillingSettings, billing_settings
from shared.config import InvalidSetting
from shared.events.declarations import BookingCancelled, PayoutIssued
from shared.tables import outbox
from shared.testing import bearer, delivery, sample
from tests.integration.test_billing_ledger import OPERATOR, balances, confirm, invoice_of, new_id, publish_v2, settle
from tests.integration.test_billing_payouts import NEXT_MONTH, SHARES, held_booking, statements

SERVICE = billing.SERVICE
PROVIDER = bearer("provider-1")
EARNED = SHARES["provider-1"]


@pytest.fixture(autouse=True)
def default_bonus(monkeypatch):
    monkeypatch.delenv("BILLING_CREDIT_BONUS_PERCENT", raising=False)
    billing_settings.cache_clear()
    yield
    billing_settings.cache_clear()


def convert(client, cents: int, headers=PROVIDER, **extra):
    return client.post("/api/v1/credits/conversions", json={"amount_cents": cents}, headers={**headers, **extra})


def test_a_provider_converts_earnings_into_credits_with_the_bonus(runtime, consumer, client):
    held_booking(consumer)
    before = client.get("/api/v1/credits", headers=PROVIDER).json
    assert (before["balance_cents"], before["available_earnings_cents"], before["bonus_percent"]) == (0, EARNED, 10)

    converted = convert(client, 2_000)

    assert converted.status_code == 201, converted.json
    assert (converted.json["bonus_cents"], converted.json["credits_cents"], converted.json["balance_cents"]) == (
        200, 2_200, 2_200)
    after = client.get("/api/v1/credits", headers=PROVIDER).json
    assert (after["balance_cents"], after["available_earnings_cents"]) == (2_200, EARNED - 2_000)
    assert sorted((item["kind"], item["cents"]) for item in after["items"]) == [("conversion", 2_000),
                                                                               ("credit_bonus", 200)]
    assert balances(runtime)[(ledger.CREDIT_BONUS, "")] == 200, "the academy's cost"
    refused = convert(client, EARNED - 2_000 + 1)
    assert refused.status_code == 422 and "amount_cents" in refused.json["errors"]


def test_converted_earnings_are_not_paid_out_again(runtime, consumer, client):
    held_booking(consumer)
    assert convert(client, 2_000).status_code == 201

    issue_due_payouts(runtime.session_factory, now=NEXT_MONTH)

    statement = statements(runtime)["provider-1"]
    assert (statement.amount_cents, statement.credits_cents) == (EARNED - 2_000, 2_000)
    with runtime.session_factory() as db:
        announced = {event["provider_id"]: event for event in (json.loads(body)["data"] for body in db.scalars(
            select(outbox.c.body).where(outbox.c.routing_key == PayoutIssued.event_type.routing_key)))}
    assert (announced["provider-1"]["amount_cents"], announced["provider-1"]["credits_cents"]) == (EARNED, 2_000), \
        "the statement settles all earnings, of which some were converted"
    assert client.get("/api/v1/credits", headers=PROVIDER).json["available_earnings_cents"] == 0
    assert convert(client, 1).status_code == 422
    assert (ledger.PROVIDER_RELEASED, "provider-1") not in balances(runtime)


def test_earnings_already_due_may_be_converted_until_the_statement_and_are_set_against_it(runtime, consumer, client):
    held_booking(consumer)  # released in April; the April statement not made yet in May
    assert convert(client, EARNED).status_code == 201

    issue_due_payouts(runtime.session_factory, now=NEXT_MONTH)

    statement = statements(runtime)["provider-1"]
    assert (statement.amount_cents, statement.credits_cents) == (0, EARNED)


def test_credits_pay_the_members_own_invoice_and_come_back_with_a_credit_note(runtime, consumer, client):
    held_booking(consumer)
    assert convert(client, EARNED).status_code == 201
    held = EARNED + bonus_of(EARNED, 10)
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id, price_cents=4_000)
    confirm(consumer, offer_id, booking_id, member_id="provider-1")  # learners are teachers
    invoice = invoice_of(runtime, booking_id)
    path = f"/api/v1/invoices/{invoice.id}/pay-with-credits"

    assert client.post(path, json={}, headers=bearer("member-2")).status_code == 404
    assert client.post(path, json={}, headers=OPERATOR).status_code == 403
    assert client.post(path, json={"amount_cents": 4_001}, headers=PROVIDER).status_code == 422
    paid = client.post(path, json={}, headers=PROVIDER)

    assert paid.status_code == 201, paid.json
    assert (paid.json["method"], paid.json["amount_cents"]) == ("credits", 4_000)
    assert client.get(f"/api/v1/invoices/{invoice.id}", headers=PROVIDER).json["status"] == "paid"
    assert client.get("/api/v1/credits", headers=PROVIDER).json["balance_cents"] == held - 4_000
    assert client.post(path, json={}, headers=PROVIDER).status_code == 422, "nothing open"

    settle(consumer, delivery(sample(BookingCancelled, booking_id=booking_id, offer_id=offer_id, fee_cents=0,
                                     refund_cents=4_000, reason="session_cancelled")))
    assert client.get("/api/v1/credits", headers=PROVIDER).json["balance_cents"] == held
    assert (ledger.MEMBER_RECEIVABLE, "provider-1") not in balances(runtime)


def test_paying_with_more_credits_than_held_is_refused(runtime, consumer, client):
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)
    confirm(consumer, offer_id, booking_id, member_id="member-1")
    invoice = invoice_of(runtime, booking_id)

    refused = client.post(f"/api/v1/invoices/{invoice.id}/pay-with-credits", json={}, headers=bearer("member-1"))

    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"


def test_the_bonus_is_a_setting(runtime, consumer, client, monkeypatch):
    monkeypatch.setenv("BILLING_CREDIT_BONUS_PERCENT", "25")
    billing_settings.cache_clear()
    held_booking(consumer)

    assert convert(client, 1_000).json["bonus_cents"] == 250
    for wrong in ("-1", "101", "ten"):
        with pytest.raises(InvalidSetting):
            BillingSettings.from_env({"BILLING_CREDIT_BONUS_PERCENT": wrong})


def test_a_bad_bonus_stops_the_start(runtime, monkeypatch):
    monkeypatch.setenv("BILLING_CREDIT_BONUS_PERCENT", "lots")
    billing_settings.cache_clear()

    with pytest.raises(InvalidSetting, match="BILLING_CREDIT_BONUS_PERCENT"):
        SERVICE.create_app(runtime)


def test_the_bonus_rounds_half_up_to_the_cent():
    assert [bonus_of(cents, 10) for cents in (0, 4, 5, 15, 1_000)] == [0, 0, 1, 2, 100]
