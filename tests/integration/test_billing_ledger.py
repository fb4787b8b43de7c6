"""Billing on a real database: offer versions, policy versions, credit notes, releases and a ledger that balances."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services import billing
from services.billing import ledger
from services.billing.domain import DEFAULT_POLICY, invoice_shares
from services.billing.models import CreditNote, Invoice, MemberRecord, Posting
from shared.bus import Outcome
from shared.events.declarations import (
    AttendanceRecorded,
    BookingCancelled,
    BookingConfirmed,
    CreditNoteIssued,
    MemberDeleted,
    MemberRegistered,
    OfferPublished,
    OfferPublishedV2,
    OfferUpdated,
    ProviderShare,
)
from shared.tables import outbox
from shared.testing import OFFER, WHEN, bearer, delivery, sample

SERVICE = billing.SERVICE

OPERATOR = bearer("operator-1", "operator")


def new_id() -> str:
    return str(uuid.uuid4())


def publish_v2(consumer, offer_id: str, *, at=WHEN, **snapshot) -> None:
    offer = OFFER if not snapshot else type(OFFER)(**{**OFFER.__dict__, **snapshot})
    settle(consumer, delivery(sample(OfferPublishedV2, offer_id=offer_id, offer=offer, published_at=at)))


def confirm(consumer, offer_id: str, booking_id: str, *, member_id="member-1", session_id="session-1",
            at=WHEN + timedelta(days=1)) -> None:
    settle(consumer, delivery(sample(BookingConfirmed, booking_id=booking_id, offer_id=offer_id, member_id=member_id,
                                     session_id=session_id, confirmed_at=at)))


def settle(consumer, *deliveries) -> None:
    assert [s.outcome for s in consumer.handle_batch(list(deliveries))] == [Outcome.ACK] * len(deliveries)


def invoice_of(runtime, booking_id: str) -> Invoice:
    with runtime.session_factory() as db:
        return db.scalars(select(Invoice).where(Invoice.booking_id == booking_id)).one()


def balances(runtime) -> dict[tuple[str, str], int]:
    with runtime.session_factory() as db:
        return {(row.kind, row.owner): row.balance_cents for row in ledger.balances(db) if row.balance_cents}


def test_a_co_provided_offer_is_invoiced_with_vat_and_each_providers_share(runtime, consumer, client):
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)
    confirm(consumer, offer_id, booking_id)

    invoice = invoice_of(runtime, booking_id)
    assert (invoice.total_cents, invoice.vat_rate, invoice.vat_cents, invoice.net_cents) == (12_000, 19, 1_916, 10_084)
    assert balances(runtime) == {
        (ledger.MEMBER_RECEIVABLE, "member-1"): 12_000,
        (ledger.VAT_PAYABLE, ""): -1_916,
        (ledger.PROVIDER_PENDING, "provider-1"): -4_235,
        (ledger.PROVIDER_PENDING, "provider-2"): -2_824,
        (ledger.ACADEMY_REVENUE, ""): -2_017,
        (ledger.COMMUNITY_FUND, ""): -1_008,
    }
    with runtime.session_factory() as db:
        postings = db.scalars(select(Posting).where(Posting.invoice_id == invoice.id)).all()
    assert {(p.offer_id, p.format, p.area, p.region, p.period, p.set_kind) for p in postings} == {
        (offer_id, "online", "INT", "DE-BW", "2026-03", "invoice")}
    assert {p.provider_id for p in postings} == {"provider-1", "provider-2"}

    shown = client.get(f"/api/v1/invoices/{invoice.id}", headers=bearer("member-1"))
    assert shown.status_code == 200
    assert shown.json["lines"] == [{"description": OFFER.title, "quantity": 1, "unit_price_cents": 12_000,
                                    "net_cents": 10_084, "vat_rate": 19, "vat_cents": 1_916, "gross_cents": 12_000}]
    assert sum(share["cents"] for share in shown.json["shares"]) == 12_000
    assert shown.json["policy_version"] == 1
    assert shown.json["seller"].startswith("Virtual Cluster Academy")
    assert shown.json["credit_note"] is None


def test_bookings_are_invoiced_by_the_offer_version_in_force_when_booked(runtime, consumer):
    offer_id = new_id()
    publish_v2(consumer, offer_id)
    changed = WHEN + timedelta(days=10)
    settle(consumer, delivery(sample(OfferUpdated, offer_id=offer_id, updated_at=changed,
                                     offer=type(OFFER)(**{**OFFER.__dict__, "price_cents": 15_000, "vat_rate": 7,
                                                          "providers": [ProviderShare("provider-1", 100)]}))))
    before, after = new_id(), new_id()
    confirm(consumer, offer_id, before, at=changed - timedelta(seconds=1))
    confirm(consumer, offer_id, after, at=changed)

    assert (invoice_of(runtime, before).total_cents, invoice_of(runtime, before).vat_rate) == (12_000, 19)
    assert (invoice_of(runtime, after).total_cents, invoice_of(runtime, after).vat_rate) == (15_000, 7)
    assert invoice_of(runtime, after).providers == [["provider-1", 100]]


@pytest.mark.parametrize("v1_first", [True, False])
def test_a_v1_event_beside_v2_yields_to_it(runtime, consumer, v1_first):
    offer_id, booking_id = new_id(), new_id()
    v1 = delivery(sample(OfferPublished, offer_id=offer_id, provider_id="provider-9", price_cents=5_000))
    v2 = delivery(sample(OfferPublishedV2, offer_id=offer_id, offer=OFFER, published_at=WHEN))
    settle(consumer, *([v1, v2] if v1_first else [v2, v1]))
    confirm(consumer, offer_id, booking_id)

    assert (invoice_of(runtime, booking_id).total_cents, invoice_of(runtime, booking_id).vat_rate) == (12_000, 19)


def test_an_offer_known_only_from_v1_has_one_provider_and_19_percent_vat(runtime, consumer):
    offer_id, booking_id = new_id(), new_id()
    settle(consumer, delivery(sample(OfferPublished, offer_id=offer_id, provider_id="provider-9", price_cents=11_900)))
    confirm(consumer, offer_id, booking_id)

    invoice = invoice_of(runtime, booking_id)
    assert (invoice.vat_cents, invoice.net_cents, invoice.providers) == (1_900, 10_000, [["provider-9", 100]])
    assert balances(runtime)[(ledger.PROVIDER_PENDING, "provider-9")] == -7_000


def test_operators_add_policy_versions_that_apply_to_later_bookings(runtime, consumer, client):
    starts = datetime.now(UTC) + timedelta(days=30)
    body = {"provider_percent": 75, "academy_percent": 17.5, "community_fund_percent": 7.5,
            "effective_from": starts.isoformat()}

    created = client.post("/api/v1/revenue-policies", json=body, headers=OPERATOR)
    assert created.status_code == 201, created.json
    assert (created.json["version"], created.json["academy_percent"]) == (2, 17.5)
    listed = client.get("/api/v1/revenue-policies", headers=bearer("member-1"))
    assert [item["version"] for item in listed.json["items"]] == [1, 2]
    assert listed.json["in_force"] == 1

    offer_id, old, new = new_id(), new_id(), new_id()
    publish_v2(consumer, offer_id, providers=[ProviderShare("provider-1", 100)], vat_rate=0, price_cents=10_000)
    confirm(consumer, offer_id, old, at=starts - timedelta(seconds=1))
    confirm(consumer, offer_id, new, at=starts)
    assert invoice_of(runtime, old).policy_version == 1
    shares = {share["purpose"]: share["cents"] for share in invoice_of(runtime, new).shares}
    assert (invoice_of(runtime, new).policy_version, shares) == (2, {"provider": 7_500, "academy": 1_750,
                                                                     "community_fund": 750})


@pytest.mark.parametrize(("change", "field"), [
    ({"provider_percent": 80}, "shares"),
    ({"effective_from": "2020-01-01T00:00:00+00:00"}, "effective_from"),
    ({"effective_from": "2030-01-01T00:00:00"}, "effective_from"),
    ({"academy_percent": 20.001}, "academy_percent"),
    ({"academy_percent": -5, "provider_percent": 95}, "academy_percent"),
    ({"academy_percent": "NaN"}, "academy_percent"),
    ({"name": "mine"}, "name"),
])
def test_a_policy_that_does_not_share_out_everything_or_starts_in_the_past_is_refused(client, change, field):
    body = {"provider_percent": 70, "academy_percent": 20, "community_fund_percent": 10,
            "effective_from": (datetime.now(UTC) + timedelta(days=1)).isoformat(), **change}

    response = client.post("/api/v1/revenue-policies", json=body, headers=OPERATOR)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_only_operators_add_policies_and_read_balances(client):
    body = {"provider_percent": 70, "academy_percent": 20, "community_fund_percent": 10,
            "effective_from": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    for roles in (("member",), ("partner",), ("reviewer",)):
        assert client.post("/api/v1/revenue-policies", json=body, headers=bearer("x", *roles)).status_code == 403
        assert client.get("/api/v1/ledger/balances", headers=bearer("x", *roles)).status_code == 403
    assert client.get("/api/v1/revenue-policies").status_code == 401


def test_a_member_cancellation_credits_the_refund_and_keeps_the_fee_split_by_the_policy(runtime, consumer, client):
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)
    confirm(consumer, offer_id, booking_id)
    cancelled = delivery(sample(BookingCancelled, booking_id=booking_id, offer_id=offer_id, fee_cents=3_000,
                                refund_cents=9_000, reason="member"))
    settle(consumer, cancelled, cancelled)

    invoice = invoice_of(runtime, booking_id)
    with runtime.session_factory() as db:
        note = db.scalars(select(CreditNote)).one()
        published = [json.loads(body) for body in db.scalars(
            select(outbox.c.body).where(outbox.c.routing_key == CreditNoteIssued.event_type.routing_key))]
    assert (note.total_cents, note.fee_cents, note.reason) == (9_000, 3_000, "member")
    year = datetime.now(UTC).year
    assert (invoice.number, note.number) == (f"VCA-{year}-000001", f"VCA-{year}-000002")
    assert [event["data"]["invoice_number"] for event in published] == [invoice.number]
    fee = invoice_shares(3_000, 19, DEFAULT_POLICY, {"provider-1": 60, "provider-2": 40})
    kept = balances(runtime)
    assert kept.pop((ledger.MEMBER_RECEIVABLE, "member-1")) == 3_000
    assert sum(kept.values()) == -3_000
    assert kept[(ledger.PROVIDER_PENDING, "provider-1")] == -sum(
        line.cents for line in fee if (line.purpose, line.provider_id) == ("provider", "provider-1"))

    shown = client.get(f"/api/v1/invoices/{invoice.id}", headers=bearer("member-1")).json
    assert shown["credit_note"]["number"] == note.number
    assert sum(share["cents"] for share in shown["credit_note"]["shares"]) == 9_000


@pytest.mark.parametrize("reason", ["session_cancelled", "called_off"])
def test_a_session_that_does_not_happen_credits_the_whole_invoice(runtime, consumer, reason):
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)
    confirm(consumer, offer_id, booking_id)
    settle(consumer, delivery(sample(BookingCancelled, booking_id=booking_id, offer_id=offer_id, fee_cents=0,
                                     refund_cents=12_000, reason=reason)))

    assert balances(runtime) == {}
    with runtime.session_factory() as db:
        assert db.scalars(select(CreditNote)).one().total_cents == 12_000


def test_a_waiting_members_cancellation_credits_nothing_and_an_uninvoiced_one_waits(runtime, consumer):
    offer_id = new_id()
    publish_v2(consumer, offer_id)
    waiting = delivery(sample(BookingCancelled, booking_id=new_id(), offer_id=offer_id, previous_status="waitlisted",
                              fee_cents=0, refund_cents=0))
    early = delivery(sample(BookingCancelled, booking_id=new_id(), offer_id=offer_id))

    outcomes = [settlement.outcome for settlement in consumer.handle_batch([waiting, early])]

    assert outcomes == [Outcome.ACK, Outcome.RETRY]


def test_attendance_releases_the_providers_shares_whichever_arrives_first(runtime, consumer):
    offer_id, first, late = new_id(), new_id(), new_id()
    publish_v2(consumer, offer_id, providers=[ProviderShare("provider-1", 100)], vat_rate=0, price_cents=10_000)
    confirm(consumer, offer_id, first)
    settle(consumer, delivery(sample(AttendanceRecorded, session_id="session-1", offer_id=offer_id)))
    assert balances(runtime)[(ledger.PROVIDER_RELEASED, "provider-1")] == -7_000
    assert (ledger.PROVIDER_PENDING, "provider-1") not in balances(runtime)

    confirm(consumer, offer_id, late)  # its confirmation reached billing after the attendance record
    assert balances(runtime)[(ledger.PROVIDER_RELEASED, "provider-1")] == -14_000


def test_the_balances_show_every_account_and_equal_totals(runtime, consumer, client):
    offer_id = new_id()
    publish_v2(consumer, offer_id)
    for _ in range(3):
        confirm(consumer, offer_id, new_id())

    response = client.get("/api/v1/ledger/balances", headers=OPERATOR)

    assert response.status_code == 200
    assert response.json["debit_cents"] == response.json["credit_cents"] == 36_000
    by_account = {(row["kind"], row["owner"]): row["balance_cents"] for row in response.json["accounts"]}
    assert by_account[(ledger.MEMBER_RECEIVABLE, "member-1")] == 36_000
    assert sum(by_account.values()) == 0


def test_a_deleted_members_profile_is_erased_but_issued_invoices_keep_the_buyer(runtime, consumer):
    offer_id, booking_id = new_id(), new_id()
    settle(consumer, delivery(sample(MemberRegistered, member_id="member-1", display_name="Ada Lovelace")))
    publish_v2(consumer, offer_id)
    confirm(consumer, offer_id, booking_id)
    settle(consumer, delivery(sample(MemberDeleted, member_id="member-1")))

    with runtime.session_factory() as db:
        assert db.get(MemberRecord, "member-1").display_name == "Former member"
    assert invoice_of(runtime, booking_id).buyer_name == "Ada Lovelace"


def test_an_issued_invoice_cannot_be_changed(runtime, consumer):
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)
    confirm(consumer, offer_id, booking_id)

    with pytest.raises(Exception, match="cannot change"), runtime.session_factory.begin() as db:
        db.get(Invoice, invoice_of(runtime, booking_id).id).total_cents = 1
