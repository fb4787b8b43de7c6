"""Payments of invoices on a real database: partial and full, never more than is open, refunds after a credit
note, and the invoice's state."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from services import billing
from services.billing import ledger
from services.billing.models import Invoice
from services.billing.payments import REFUND_EFFECT, record_payment, state_of
from services.billing.payout_partner import FilePayoutPartner
from shared.consumer import EventConsumer
from shared.errors import Unprocessable
from shared.events.declarations import BookingCancelled, PaymentRecorded
from shared.side_effects import SideEffectDispatcher
from shared.tables import outbox, side_effects
from shared.testing import bearer, delivery, make_runtime, sample
from tests.integration.test_billing_ledger import OPERATOR, balances, confirm, invoice_of, new_id, publish_v2, settle

SERVICE = billing.SERVICE


def invoiced(runtime, consumer, member_id: str = "member-1"):
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)  # 120.00 EUR gross
    confirm(consumer, offer_id, booking_id, member_id=member_id)
    return offer_id, booking_id, invoice_of(runtime, booking_id)


def pay(client, invoice_id: str, cents: int, headers=OPERATOR, **extra):
    return client.post(f"/api/v1/invoices/{invoice_id}/payments", json={"amount_cents": cents}, headers={
        **headers, **extra})


def announced(runtime) -> list[dict]:
    with runtime.session_factory() as db:
        return [json.loads(body)["data"] for body in db.scalars(
            select(outbox.c.body).where(outbox.c.routing_key == PaymentRecorded.event_type.routing_key)
            .order_by(outbox.c.seq))]


def test_payments_in_part_then_in_full_make_an_invoice_paid_and_reach_the_bank(runtime, consumer, client):
    _, _, invoice = invoiced(runtime, consumer)
    path = f"/api/v1/invoices/{invoice.id}"
    assert client.get(path, headers=bearer("member-1")).json["status"] == "open"

    first = pay(client, invoice.id, 5_000)
    assert first.status_code == 201, first.json
    assert (first.json["method"], first.json["amount_cents"]) == ("bank", 5_000)
    shown = client.get(path, headers=bearer("member-1")).json
    assert (shown["status"], shown["paid_cents"], shown["open_cents"]) == ("open", 5_000, 7_000)

    too_much = pay(client, invoice.id, 7_001)
    assert too_much.status_code == 422
    assert too_much.mimetype == "application/problem+json"
    assert "amount_cents" in too_much.json["errors"]

    assert pay(client, invoice.id, 7_000).status_code == 201
    shown = client.get(path, headers=bearer("member-1")).json
    assert (shown["status"], shown["open_cents"], len(shown["payments"])) == ("paid", 0, 2)
    assert pay(client, invoice.id, 1).status_code == 422
    kept = balances(runtime)
    assert kept[(ledger.BANK, "")] == 12_000
    assert (ledger.MEMBER_RECEIVABLE, "member-1") not in kept, "the member owes nothing any more"
    assert [(event["method"], event["amount_cents"], event["open_cents"]) for event in announced(runtime)] == [
        ("bank", 5_000, 7_000), ("bank", 7_000, 0)]


def test_a_payment_with_the_same_idempotency_key_is_recorded_once(runtime, consumer, client):
    _, _, invoice = invoiced(runtime, consumer)
    key = {"Idempotency-Key": new_id()}

    first, again = pay(client, invoice.id, 4_000, **key), pay(client, invoice.id, 4_000, **key)
    other_body = pay(client, invoice.id, 3_000, **key)

    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"]
    assert other_body.status_code in (409, 422)
    assert client.get(f"/api/v1/invoices/{invoice.id}", headers=OPERATOR).json["paid_cents"] == 4_000


def test_only_operators_record_payments_and_bad_amounts_are_refused(runtime, consumer, client):
    _, _, invoice = invoiced(runtime, consumer)

    assert pay(client, invoice.id, 100, headers=bearer("member-1")).status_code == 403
    assert pay(client, new_id(), 100).status_code == 404
    for body in ({"amount_cents": 0}, {"amount_cents": -5}, {"amount_cents": "12"}, {"amount_cents": 1.5},
                 {"amount_cents": 100, "method": "cash"}, {"amount_cents": 100, "received_at": "2999-01-01T00:00:00Z"}):
        response = client.post(f"/api/v1/invoices/{invoice.id}/payments", json=body, headers=OPERATOR)
        assert response.status_code == 422, body


def test_a_credit_note_after_payment_refunds_the_difference_through_the_payout_partner(runtime, consumer, client,
                                                                                       tmp_path):
    offer_id, booking_id, invoice = invoiced(runtime, consumer)
    assert pay(client, invoice.id, 12_000).status_code == 201

    settle(consumer, delivery(sample(BookingCancelled, booking_id=booking_id, offer_id=offer_id, fee_cents=3_000,
                                     refund_cents=9_000, reason="member")))

    shown = client.get(f"/api/v1/invoices/{invoice.id}", headers=bearer("member-1")).json
    assert (shown["status"], shown["due_cents"], shown["paid_cents"], shown["open_cents"]) == ("paid", 3_000, 3_000, 0)
    assert [(p["method"], p["amount_cents"]) for p in shown["payments"]] == [("bank", 12_000), ("bank_refund", 9_000)]
    assert [(event["method"], event["amount_cents"]) for event in announced(runtime)] == [
        ("bank", 12_000), ("bank_refund", 9_000)]
    kept = balances(runtime)
    assert kept[(ledger.BANK, "")] == 3_000
    assert (ledger.MEMBER_RECEIVABLE, "member-1") not in kept

    partner = FilePayoutPartner(tmp_path / "transfers")
    dispatcher = SideEffectDispatcher("billing", {REFUND_EFFECT: partner}, runtime.session_factory)
    assert dispatcher.dispatch_once() == 1
    [transfer] = (tmp_path / "transfers").glob("*.json")
    assert json.loads(transfer.read_text())["amount_cents"] == 9_000
    with runtime.session_factory() as db:
        assert db.scalar(select(side_effects.c.status)) == "done"


def test_a_fully_credited_invoice_is_credited_and_takes_no_payment(runtime, consumer, client):
    offer_id, booking_id, invoice = invoiced(runtime, consumer)
    settle(consumer, delivery(sample(BookingCancelled, booking_id=booking_id, offer_id=offer_id, fee_cents=0,
                                     refund_cents=12_000, reason="session_cancelled")))

    shown = client.get(f"/api/v1/invoices/{invoice.id}", headers=bearer("member-1")).json
    assert (shown["status"], shown["open_cents"]) == ("credited", 0)
    assert pay(client, invoice.id, 1).status_code == 422


def test_the_payout_partner_makes_a_transfer_once_per_idempotency_key(tmp_path):
    partner = FilePayoutPartner(tmp_path)

    first = partner({"amount_cents": 100}, "payout:abc")
    again = partner({"amount_cents": 999}, "payout:abc")

    assert first == again
    assert json.loads((tmp_path / "payout-abc.json").read_text())["amount_cents"] == 100


@pytest.mark.postgres
def test_two_payments_at_once_cannot_both_take_what_is_open(make_postgres_database, tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, DATABASE_URL=make_postgres_database("billing_payments"))
    try:
        consumer = EventConsumer("billing", SERVICE.handlers, runtime.session_factory)
        _, _, invoice = invoiced(runtime, consumer)
        start, outcomes = threading.Barrier(4), []

        def pay_all() -> None:
            start.wait()
            try:
                with runtime.session_factory.begin() as db:
                    record_payment(db, db.get(Invoice, invoice.id), amount_cents=8_000)
                outcomes.append("paid")
            except Unprocessable:
                outcomes.append("refused")

        threads = [threading.Thread(target=pay_all) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(outcomes) == ["paid", "refused", "refused", "refused"]
        with runtime.session_factory() as db:
            assert state_of(db, db.get(Invoice, invoice.id)).paid_cents == 8_000
    finally:
        runtime.close()
