"""Billing on a real database: one invoice per confirmed booking, a balanced ledger, invoices for their owners."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services import billing
from services.billing import ledger
from services.billing.commands import next_invoice_number
from services.billing.models import Invoice, Posting
from shared.bus import Outcome
from shared.events import parse_event
from shared.events.declarations import BookingConfirmed, BookingPromoted, InvoiceIssued, OfferPublished
from shared.tables import outbox, processed_events
from shared.testing import bearer, delivery, sample

SERVICE = billing.SERVICE  # the service under test, for the fixtures in conftest.py

PROVIDER_ID = "provider-1"
MEMBER_ID = "member-1"


def offer_published(offer_id: str, price_cents: int = 12_345, currency: str = "EUR"):
    return delivery(sample(OfferPublished, offer_id=offer_id, provider_id=PROVIDER_ID,
                           title="Funding programmes for cluster projects", price_cents=price_cents,
                           currency=currency))


def booking_confirmed(booking_id: str, offer_id: str, member_id: str = MEMBER_ID):
    return delivery(sample(BookingConfirmed, booking_id=booking_id, offer_id=offer_id, member_id=member_id))


def new_id() -> str:
    return str(uuid.uuid4())


def invoices(runtime) -> list[Invoice]:
    with runtime.session_factory() as db:
        return list(db.scalars(select(Invoice).order_by(Invoice.number)))


def issued_events(runtime) -> list[dict]:
    with runtime.session_factory() as db:
        bodies = db.scalars(
            select(outbox.c.body)
            .where(outbox.c.routing_key == InvoiceIssued.event_type.routing_key)
            .order_by(outbox.c.seq)
        )
        return [json.loads(body) for body in bodies]


def invoice_for(runtime, consumer, member_id: str = MEMBER_ID, price_cents: int = 12_345) -> Invoice:
    offer_id, booking_id = new_id(), new_id()
    consumer.handle_batch([offer_published(offer_id, price_cents)])
    consumer.handle_batch([booking_confirmed(booking_id, offer_id, member_id)])
    with runtime.session_factory() as db:
        return db.scalars(select(Invoice).where(Invoice.booking_id == booking_id)).one()


def outcomes(settlements) -> list[Outcome]:
    return [settlement.outcome for settlement in settlements]


def test_a_confirmed_booking_is_invoiced_at_the_offer_price(runtime, consumer):
    offer_id, booking_id = new_id(), new_id()
    consumer.handle_batch([offer_published(offer_id, price_cents=12_345, currency="EUR")])

    assert outcomes(consumer.handle_batch([booking_confirmed(booking_id, offer_id)])) == [Outcome.ACK]

    [invoice] = invoices(runtime)
    assert invoice.booking_id == booking_id
    assert invoice.member_id == MEMBER_ID
    assert invoice.offer_id == offer_id
    assert (invoice.total_cents, invoice.currency) == (12_345, "EUR")
    assert invoice.number == f"VCA-{invoice.issued_at.year}-000001"
    assert invoice.issued_at.tzinfo is not None


def test_a_member_promoted_from_the_waiting_list_is_invoiced_once(runtime, consumer):
    offer_id, booking_id = new_id(), new_id()
    consumer.handle_batch([offer_published(offer_id, price_cents=9_900)])
    promoted = delivery(sample(BookingPromoted, booking_id=booking_id, offer_id=offer_id, member_id=MEMBER_ID))

    assert outcomes(consumer.handle_batch([promoted, promoted])) == [Outcome.ACK, Outcome.ACK]

    [invoice] = invoices(runtime)
    assert (invoice.booking_id, invoice.total_cents) == (booking_id, 9_900)


def test_the_same_event_delivered_twice_issues_one_invoice(runtime, consumer):
    offer_id = new_id()
    consumer.handle_batch([offer_published(offer_id)])
    confirmed = booking_confirmed(new_id(), offer_id)

    first = consumer.handle_batch([confirmed, confirmed])
    again = consumer.handle_batch([confirmed])

    assert outcomes(first) + outcomes(again) == [Outcome.ACK] * 3
    assert len(invoices(runtime)) == 1
    assert len(issued_events(runtime)) == 1


@pytest.mark.parametrize("same_batch", [True, False])
def test_two_events_about_the_same_booking_issue_one_invoice(runtime, consumer, same_batch):
    offer_id, booking_id = new_id(), new_id()
    consumer.handle_batch([offer_published(offer_id)])
    first, second = booking_confirmed(booking_id, offer_id), booking_confirmed(booking_id, offer_id)
    assert json.loads(first.body)["id"] != json.loads(second.body)["id"]

    if same_batch:
        settlements = consumer.handle_batch([first, second])
    else:
        settlements = consumer.handle_batch([first]) + consumer.handle_batch([second])

    assert outcomes(settlements) == [Outcome.ACK, Outcome.ACK]
    assert len(invoices(runtime)) == 1
    assert len(issued_events(runtime)) == 1


def test_the_database_refuses_a_second_invoice_for_a_booking(runtime, consumer):
    invoice = invoice_for(runtime, consumer)

    with pytest.raises(IntegrityError), runtime.session_factory.begin() as db:
        db.add(Invoice(
            id=new_id(), number="VCA-1999-000001", booking_id=invoice.booking_id, member_id=MEMBER_ID,
            offer_id=invoice.offer_id, description="again", total_cents=1, currency="EUR", policy="default",
            issued_at=datetime.now(UTC),
        ))


def test_a_booking_of_an_unknown_offer_is_retried_until_the_offer_arrives(runtime, consumer):
    offer_id = new_id()
    confirmed = booking_confirmed(new_id(), offer_id)

    [settlement] = consumer.handle_batch([confirmed])

    assert settlement.outcome is Outcome.RETRY
    assert "not known yet" in settlement.reason
    assert invoices(runtime) == []
    assert issued_events(runtime) == []
    with runtime.session_factory() as db:
        processed = db.scalar(select(func.count()).select_from(processed_events))
    assert processed == 0, "a retried event is not marked handled"

    consumer.handle_batch([offer_published(offer_id)])
    assert outcomes(consumer.handle_batch([confirmed])) == [Outcome.ACK]
    assert len(invoices(runtime)) == 1


def test_the_invoice_is_announced_through_the_outbox(runtime, consumer):
    invoice = invoice_for(runtime, consumer, price_cents=4_990)

    [envelope] = issued_events(runtime)
    event = parse_event(json.dumps(envelope))
    assert event.event_type is InvoiceIssued.event_type
    assert event.subject == invoice.id
    assert event.data.invoice_id == invoice.id
    assert event.data.number == invoice.number
    assert re.fullmatch(r"VCA-\d{4}-\d{6}", event.data.number)
    assert event.data.booking_id == invoice.booking_id
    assert event.data.member_id == MEMBER_ID
    assert (event.data.total_cents, event.data.currency) == (4_990, "EUR")


def test_invoice_numbers_run_on_without_gaps(runtime, consumer):
    numbers = [invoice_for(runtime, consumer).number for _ in range(3)]

    year = datetime.now(UTC).year
    assert numbers == [f"VCA-{year}-000001", f"VCA-{year}-000002", f"VCA-{year}-000003"]


def test_each_year_numbers_from_one(runtime):
    with runtime.session_factory.begin() as db:
        taken = [next_invoice_number(db, year) for year in (2030, 2030, 2031, 2030)]

    assert taken == ["VCA-2030-000001", "VCA-2030-000002", "VCA-2031-000001", "VCA-2030-000003"]


def test_the_ledger_balances_and_splits_the_net_by_the_default_policy(runtime, consumer):
    first = invoice_for(runtime, consumer, price_cents=12_345)
    invoice_for(runtime, consumer, price_cents=999)
    invoice_for(runtime, consumer, price_cents=1)

    with runtime.session_factory() as db:
        balances = {(row.kind, row.owner): row.balance_cents for row in ledger.balances(db)}
        lines = {(posting.purpose, posting.provider_id): posting.amount_cents
                 for posting in db.scalars(select(Posting).where(Posting.invoice_id == first.id))}
    assert sum(balances.values()) == 0
    assert balances[(ledger.MEMBER_RECEIVABLE, MEMBER_ID)] == 12_345 + 999 + 1
    # v1 offers carry 19 % VAT: 12,345 holds 1,971 VAT, and 10,374 net is split 70 / 20 / 10 to the cent.
    assert lines == {("vat", PROVIDER_ID): 1_971, ("provider", PROVIDER_ID): 7_262, ("academy", PROVIDER_ID): 2_075,
                     ("community_fund", PROVIDER_ID): 1_037}
    assert (first.net_cents, first.vat_cents, first.vat_rate, first.policy_version) == (10_374, 1_971, 19, 1)


def test_a_free_offer_gets_a_zero_invoice_and_no_postings(runtime, consumer):
    invoice = invoice_for(runtime, consumer, price_cents=0)

    assert invoice.total_cents == 0
    with runtime.session_factory() as db:
        assert db.scalar(select(func.count()).where(Posting.invoice_id == invoice.id)) == 0


def test_members_list_only_their_own_invoices(runtime, consumer, client):
    mine = [invoice_for(runtime, consumer, MEMBER_ID) for _ in range(3)]
    invoice_for(runtime, consumer, "member-2")

    page_one = client.get("/api/v1/invoices?per_page=2", headers=bearer(MEMBER_ID))
    page_two = client.get("/api/v1/invoices?per_page=2&page=2", headers=bearer(MEMBER_ID))

    assert page_one.status_code == page_two.status_code == 200
    assert page_one.json["total"] == 3
    listed = [item["id"] for item in page_one.json["items"] + page_two.json["items"]]
    assert listed == [invoice.id for invoice in reversed(mine)], "newest first"
    assert page_one.json["items"][0]["total_cents"] == 12_345
    assert page_one.json["items"][0]["number"] == mine[-1].number


def test_an_invoice_is_readable_by_its_owner_and_operators_only(runtime, consumer, client):
    invoice = invoice_for(runtime, consumer, MEMBER_ID)
    path = f"/api/v1/invoices/{invoice.id}"

    own = client.get(path, headers=bearer(MEMBER_ID))
    assert own.status_code == 200
    assert own.json["number"] == invoice.number
    assert own.json["booking_id"] == invoice.booking_id
    assert client.get(path, headers=bearer("member-2", "operator")).status_code == 200

    foreign = client.get(path, headers=bearer("member-2"))
    assert foreign.status_code == 404
    assert foreign.mimetype == "application/problem+json"
    # Invoices are personal data: partners get anonymised revenue reports, never a member's invoice.
    assert client.get(path, headers=bearer("partner-1", "partner")).status_code == 404
    assert client.get(path, headers=bearer("reviewer-1", "member", "reviewer")).status_code == 404
    assert client.get(f"/api/v1/invoices/{new_id()}", headers=bearer(MEMBER_ID)).status_code == 404
    assert client.get(path).status_code == 401
    assert client.get("/api/v1/invoices").status_code == 401


@pytest.mark.parametrize("query", ["per_page=1000", "page=0", "page=first"])
def test_bad_paging_is_a_problem_not_a_crash(client, query):
    response = client.get(f"/api/v1/invoices?{query}", headers=bearer(MEMBER_ID))

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
