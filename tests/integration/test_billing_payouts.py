"""Monthly payout statements: released shares less reversals, once per provider and month, even with two
workers, paid out through the payout partner and announced by payout.issued."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services import billing
from services.billing import ledger
from services.billing.domain import DEFAULT_POLICY, PROVIDER, invoice_shares
from services.billing.models import Payout
from services.billing.payout_partner import FilePayoutPartner
from services.billing.payouts import PAYOUT_EFFECT, MonthlyPayouts, issue_due_payouts, month_start, previous_period
from services.billing.settings import BillingSettings, billing_settings
from shared.config import InvalidSetting
from shared.consumer import EventConsumer
from shared.events.declarations import AttendanceRecorded, BookingCancelled, PayoutIssued
from shared.side_effects import SideEffectDispatcher
from shared.tables import outbox, side_effects
from shared.testing import WHEN, bearer, delivery, make_runtime, sample
from tests.integration.test_billing_ledger import OPERATOR, balances, confirm, new_id, publish_v2, settle

SERVICE = billing.SERVICE

HELD = WHEN + timedelta(days=30)  # 2026-04-01
NEXT_MONTH = datetime(2026, 5, 3, tzinfo=UTC)  # the April statement falls due
SHARES = {line.provider_id: line.cents for line in invoice_shares(12_000, 19, DEFAULT_POLICY,
                                                                   {"provider-1": 60, "provider-2": 40})
          if line.purpose == PROVIDER}


def held_booking(consumer, *, session_id: str = "session-1", held_at: datetime = HELD) -> tuple[str, str]:
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)
    confirm(consumer, offer_id, booking_id, session_id=session_id)
    settle(consumer, delivery(sample(AttendanceRecorded, session_id=session_id, offer_id=offer_id,
                                     recorded_at=held_at)))
    return offer_id, booking_id


def statements(runtime) -> dict[str, Payout]:
    with runtime.session_factory() as db:
        return {payout.provider_id: payout for payout in db.scalars(select(Payout))}


def test_the_month_after_a_session_each_provider_gets_a_statement_of_their_released_share(runtime, consumer, tmp_path):
    held_booking(consumer)
    assert issue_due_payouts(runtime.session_factory, now=HELD + timedelta(days=5)) == 0, "April is not over"

    assert issue_due_payouts(runtime.session_factory, now=NEXT_MONTH) == 2

    payouts = statements(runtime)
    assert {provider: payout.amount_cents for provider, payout in payouts.items()} == SHARES
    assert {payout.period for payout in payouts.values()} == {"2026-04"}
    kept = balances(runtime)
    assert (ledger.PROVIDER_RELEASED, "provider-1") not in kept, "all of it paid out"
    assert kept[(ledger.BANK, "")] == -sum(SHARES.values())
    with runtime.session_factory() as db:
        announced = [json.loads(body)["data"] for body in db.scalars(
            select(outbox.c.body).where(outbox.c.routing_key == PayoutIssued.event_type.routing_key))]
    assert sorted(event["amount_cents"] for event in announced) == sorted(SHARES.values())

    partner = FilePayoutPartner(tmp_path)
    assert SideEffectDispatcher("billing", {PAYOUT_EFFECT: partner}, runtime.session_factory).dispatch_once() == 2
    transfers = sorted(json.loads(path.read_text())["amount_cents"] for path in tmp_path.glob("*.json"))
    assert transfers == sorted(SHARES.values())


def test_a_statement_is_issued_once_however_often_the_job_runs(runtime, consumer):
    held_booking(consumer)
    issue_due_payouts(runtime.session_factory, now=NEXT_MONTH)

    assert issue_due_payouts(runtime.session_factory, now=NEXT_MONTH + timedelta(hours=1)) == 0
    assert issue_due_payouts(runtime.session_factory, now=NEXT_MONTH + timedelta(days=31)) == 0, "nothing new"
    with runtime.session_factory() as db:
        assert db.scalar(select(func.count()).select_from(Payout)) == 2
        assert db.scalar(select(func.count()).select_from(side_effects)) == 2


def test_a_reversal_after_payout_is_set_against_the_next_months_earnings(runtime, consumer):
    offer_id, booking_id = held_booking(consumer)
    issue_due_payouts(runtime.session_factory, now=NEXT_MONTH)
    # Cancelled after the session was held (an operator's goodwill): half of it credited, in May.
    settle(consumer, delivery(sample(BookingCancelled, booking_id=booking_id, offer_id=offer_id, fee_cents=6_000,
                                     refund_cents=6_000, reason="member", cancelled_at=NEXT_MONTH)))
    june = datetime(2026, 6, 2, tzinfo=UTC)
    assert issue_due_payouts(runtime.session_factory, now=june) == 0, "reversals alone wait for earnings"

    held_booking(consumer, session_id="session-2", held_at=datetime(2026, 6, 10, tzinfo=UTC))
    assert issue_due_payouts(runtime.session_factory, now=datetime(2026, 7, 1, tzinfo=UTC)) == 2

    with runtime.session_factory() as db:
        july = {payout.provider_id: payout for payout in db.scalars(select(Payout).where(Payout.period == "2026-06"))}
        first = [(line.kind, line.cents) for line in billing.payouts.lines_of(db, july["provider-1"].id)]
    assert [kind for kind, _ in first] == ["credit_note", "release"]
    assert july["provider-1"].amount_cents == sum(cents for _, cents in first) < SHARES["provider-1"]
    assert (ledger.PROVIDER_RELEASED, "provider-1") not in balances(runtime)


def test_providers_read_their_own_statements_and_operators_everyones(runtime, consumer, client):
    held_booking(consumer)
    issue_due_payouts(runtime.session_factory, now=NEXT_MONTH)

    own = client.get("/api/v1/payouts", headers=bearer("provider-1"))
    assert own.status_code == 200
    [statement] = own.json["items"]
    assert (statement["provider_id"], statement["period"], statement["amount_cents"]) == (
        "provider-1", "2026-04", SHARES["provider-1"])
    assert [line["kind"] for line in statement["lines"]] == ["release"]
    assert client.get("/api/v1/payouts?provider_id=provider-1", headers=bearer("member-9")).json["total"] == 0
    assert client.get("/api/v1/payouts", headers=OPERATOR).json["total"] == 2
    assert client.get("/api/v1/payouts?provider_id=provider-2", headers=OPERATOR).json["total"] == 1
    assert client.get("/api/v1/payouts").status_code == 401
    assert client.get("/api/v1/payouts?per_page=0", headers=OPERATOR).status_code == 422


def test_the_workers_job_makes_last_months_statements_once_a_month(runtime, consumer):
    held_booking(consumer, held_at=month_start(datetime.now(UTC)) - timedelta(days=2))
    job = SERVICE.scheduled["payouts"]
    assert isinstance(job, MonthlyPayouts)

    assert job(runtime.session_factory) == 2
    assert job(runtime.session_factory) == 0
    assert MonthlyPayouts()(runtime.session_factory) == 0, "a restarted worker finds them made"


def test_the_previous_period_of_january_is_last_december():
    assert previous_period(datetime(2027, 1, 15, tzinfo=UTC)) == "2026-12"
    assert previous_period(datetime(2026, 11, 1, tzinfo=UTC)) == "2026-10"


@pytest.mark.postgres
def test_two_workers_at_once_issue_each_statement_once(make_postgres_database, tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, DATABASE_URL=make_postgres_database("billing_payouts"))
    try:
        consumer = EventConsumer("billing", SERVICE.handlers, runtime.session_factory)
        for number in range(5):
            held_booking(consumer, session_id=f"session-{number}")
        start, issued = threading.Barrier(2), []

        def work() -> None:
            start.wait()
            issued.append(issue_due_payouts(runtime.session_factory, now=NEXT_MONTH))

        workers = [threading.Thread(target=work) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

        assert sum(issued) == 2
        payouts = statements(runtime)
        assert {provider: payout.amount_cents for provider, payout in payouts.items()} == {
            provider: 5 * cents for provider, cents in SHARES.items()}
        with runtime.session_factory() as db:
            assert db.scalar(select(func.count()).select_from(side_effects)) == 2
    finally:
        runtime.close()


def test_statements_are_in_the_academys_currency_and_billing_refuses_two(runtime, consumer, monkeypatch):
    monkeypatch.setenv("ACADEMY_CURRENCIES", "CHF")
    billing_settings.cache_clear()
    try:
        held_booking(consumer)
        issue_due_payouts(runtime.session_factory, now=NEXT_MONTH)
        assert {payout.currency for payout in statements(runtime).values()} == {"CHF"}
        with pytest.raises(InvalidSetting, match="one currency"):
            BillingSettings.from_env({"ACADEMY_CURRENCIES": "EUR,CHF"})
    finally:
        billing_settings.cache_clear()
