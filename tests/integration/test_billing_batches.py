"""Billing reads what a batch of events needs once per batch: the same invoices and postings as event by event,
far fewer statements."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services import billing
from services.billing.models import Account, CreditNote, Invoice, Posting, PostingSet, ReportLine
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.events.declarations import (
    AttendanceRecorded,
    Attendee,
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    MemberDeleted,
    MemberRegistered,
    MemberUpdated,
    OfferPublished,
    OfferPublishedV2,
    OfferUpdated,
    ProposalAccepted,
    ProviderShare,
)
from shared.testing import OFFER, WHEN, delivery, make_runtime, sample
from tests.integration.sql_statements import statements_sent

SERVICE = billing.SERVICE
# Far enough ahead that a policy accepted now is in force for it.
FUTURE = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def make_billing(request, tmp_path):
    """Factory: billing's runtime and consumer on a database of its own (SQLite, then PostgreSQL)."""
    runtimes = []

    def make():
        env = {}
        if request.param == "postgresql":
            env["DATABASE_URL"] = request.getfixturevalue("make_postgres_database")(SERVICE.name)
        runtime = make_runtime(SERVICE, tmp_path / f"billing-{len(runtimes)}", **env)
        runtimes.append(runtime)
        return runtime, EventConsumer(SERVICE.name, SERVICE.handlers, runtime.session_factory)

    yield make
    for runtime in runtimes:
        runtime.close()


def offer(offer_id: str, price_cents: int, *providers: tuple[str, int]):
    return replace(OFFER, price_cents=price_cents,
                   providers=[ProviderShare(member_id=member, share_percent=percent) for member, percent in providers])


def booked(number: int, offer_id: str, *, session_id: str = "session-open", at: datetime = WHEN,
           promoted: bool = False, booking_id: str | None = None):
    booking_id = booking_id or f"booking-{number}"
    if promoted:
        return delivery(sample(BookingPromoted, booking_id=booking_id, offer_id=offer_id, session_id=session_id,
                               member_id=f"member-{number}", promoted_at=at))
    return delivery(sample(BookingConfirmed, booking_id=booking_id, offer_id=offer_id, session_id=session_id,
                           member_id=f"member-{number}", confirmed_at=at))


def history(retried: bool) -> list:
    """What billing hears of offers, members, a held session, a new policy and bookings, in the order a batch of
    20 mixes them: offers and members learnt within the same batch as their bookings, a booking invoiced twice,
    a deleted member, an offer's later price, a policy in force for later bookings; if `retried`, two bookings of
    offers billing does not know (yet), which the consumer retries."""
    events = [
        delivery(sample(OfferPublishedV2, offer_id="offer-a", published_at=WHEN - timedelta(days=1),
                        offer=offer("offer-a", 12_000, ("provider-1", 60), ("provider-2", 40)))),
        delivery(sample(OfferPublished, offer_id="offer-b", provider_id="provider-3", price_cents=9_900)),
        delivery(sample(AttendanceRecorded, session_id="session-held", offer_id="offer-a",
                        attendees=[Attendee(booking_id="booking-0", member_id="member-0", certificate_id="c-0")],
                        recorded_at=WHEN)),
        *[delivery(sample(MemberRegistered, member_id=f"member-{number}", display_name=f"Member {number}"))
          for number in range(24)],
        delivery(sample(MemberUpdated, member_id="member-1", display_name="Ada", organisation="Cluster BW",
                        updated_at=WHEN)),
        delivery(sample(MemberDeleted, member_id="member-2", deleted_at=WHEN)),
    ]
    events += [booked(number, "offer-a", session_id="session-held" if number % 3 == 0 else "session-open")
               for number in range(8)]
    events += [
        delivery(sample(OfferUpdated, offer_id="offer-a", updated_at=WHEN + timedelta(hours=1),
                        offer=offer("offer-a", 15_000, ("provider-1", 50), ("provider-2", 50)))),
        booked(8, "offer-a", at=WHEN + timedelta(hours=2)),
        booked(9, "offer-a", at=WHEN - timedelta(days=3)),  # older than every version: the first one's terms
        booked(10, "offer-b"),
        *([booked(11, "offer-c")] if retried else []),  # offer-c is published further on
        delivery(sample(OfferPublishedV2, offer_id="offer-c", published_at=WHEN - timedelta(days=1),
                        offer=offer("offer-c", 7_700, ("provider-3", 100)))),
        booked(12, "offer-c", session_id="session-held"),
        booked(3, "offer-a", promoted=True),  # booking-3 again: invoiced once
        delivery(sample(ProposalAccepted, proposal_id="proposal-9", kind="policy", effective_from=WHEN,
                        shares_bp={"provider": 6000, "academy": 3000, "community_fund": 1000})),
        booked(13, "offer-a", at=FUTURE),
        booked(14, "offer-c", at=FUTURE, promoted=True),
    ]
    if retried:
        events.append(booked(15, "offer-unknown"))
    events += [booked(number, "offer-b" if number % 2 else "offer-a") for number in range(16, 24)]
    events.insert(-4, booked(17, "offer-b", promoted=True))  # booking-17 again, in the same batch: invoiced once
    events += [
        booked(11, "offer-c"),  # offer-c is known now
        delivery(sample(BookingCancelled, booking_id="booking-0", session_id="session-held", offer_id="offer-a",
                        member_id="member-0", reason="session_cancelled", fee_cents=0, refund_cents=12_000)),
        delivery(sample(BookingCancelled, booking_id="booking-4", session_id="session-open", offer_id="offer-a",
                        member_id="member-4", fee_cents=6_000, refund_cents=6_000)),
    ]
    return events


def books(runtime) -> dict:
    """Invoices, credit notes, posting sets, postings and report lines, with the invoices' random ids replaced by
    their numbers."""
    with runtime.session_factory() as db:
        numbers = dict(db.execute(select(Invoice.id, Invoice.number)).all())

        def named(text: str | None) -> str | None:
            return None if text is None else re.sub("|".join(numbers) or "^$", lambda found: numbers[found[0]], text)

        accounts = {account.id: (account.kind, account.owner) for account in db.scalars(select(Account))}
        causes = {posting_set.id: (named(posting_set.cause), posting_set.kind)
                  for posting_set in db.scalars(select(PostingSet))}
        return {
            "invoices": [(invoice.number, invoice.booking_id, invoice.session_id, invoice.member_id,
                          invoice.buyer_name, invoice.buyer_address, invoice.offer_id, invoice.description,
                          invoice.total_cents, invoice.net_cents, invoice.vat_cents, invoice.vat_rate,
                          invoice.policy_version, invoice.policy_shares, invoice.providers, invoice.shares,
                          invoice.area, invoice.region, invoice.booked_at)
                         for invoice in db.scalars(select(Invoice).order_by(Invoice.number))],
            "credit_notes": sorted((note.number, numbers[note.invoice_id], note.reason, note.total_cents,
                                    note.vat_cents, note.fee_cents, note.shares)
                                   for note in db.scalars(select(CreditNote))),
            "sets": sorted(causes.values()),
            "postings": sorted((causes[posting.set_id], posting.line, posting.purpose,
                                accounts[posting.debit_account_id], accounts[posting.credit_account_id],
                                posting.amount_cents, posting.provider_id, named(posting.invoice_id),
                                posting.offer_id, posting.member_id, posting.format, posting.area, posting.region,
                                posting.occurred_at, posting.day, posting.period)
                               for posting in db.scalars(select(Posting))),
            "report_lines": sorted((causes[line.set_id], line.provider_id, named(line.invoice_id), line.member_id,
                                    line.occurred_at, line.vat_cents, line.provider_cents, line.academy_cents,
                                    line.community_fund_cents, line.first_of_set, line.set_net_cents,
                                    line.invoice_net_cents, line.providers)
                                   for line in db.scalars(select(ReportLine))),
        }


@pytest.mark.parametrize("retried", [False, True], ids=["one transaction", "savepoint per event"])
def test_a_batch_books_what_events_one_by_one_book(make_billing, retried):
    # A batch with a booking of an offer billing does not know is applied again with a savepoint per event.
    events = history(retried)
    in_batches, batch_consumer = make_billing()
    one_by_one, single_consumer = make_billing()

    batched = [settlement.outcome for start in range(0, len(events), 20)
               for settlement in batch_consumer.handle_batch(events[start:start + 20])]
    singly = [settlement.outcome for delivery_ in events for settlement in single_consumer.handle_batch([delivery_])]

    assert batched == singly
    assert batched.count(Outcome.RETRY) == 2 * retried
    expected = books(one_by_one)
    assert books(in_batches) == expected
    assert len(expected["invoices"]) == 23
    policy_of = {invoice[1]: invoice[12] for invoice in expected["invoices"]}
    assert (policy_of["booking-12"], policy_of["booking-13"]) == (1, 2)  # accepted in between, in the same batch
    buyers = {invoice[1]: invoice[4] for invoice in expected["invoices"]}
    assert (buyers["booking-1"], buyers["booking-2"]) == ("Ada, Cluster BW", None)
    assert len(expected["credit_notes"]) == 2
    assert sum(1 for cause, kind in expected["sets"] if kind == "release") == 4


def test_a_batch_of_bookings_reads_each_table_once_and_costs_few_statements_per_event(make_billing):
    runtime, consumer = make_billing()
    consumer.handle_batch([
        delivery(sample(OfferPublishedV2, offer_id=f"offer-{number}",
                        offer=offer(f"offer-{number}", 10_000 + number, (f"provider-{number}", 70),
                                    (f"provider-{number + 1}", 30))))
        for number in range(4)])
    consumer.handle_batch([delivery(sample(MemberRegistered, member_id=f"member-{number}"))
                           for number in range(40)])
    consumer.handle_batch([booked(number, f"offer-{number % 4}") for number in range(20)])  # accounts opened
    batch = [booked(number, f"offer-{number % 4}", session_id=f"session-{number % 5}") for number in range(20, 40)]

    statements = statements_sent(runtime.engine, lambda: consumer.handle_batch(batch))

    with runtime.session_factory() as db:
        assert len(db.scalars(select(Invoice.id)).all()) == 40
    selects = Counter(found.group(1) for statement in statements
                      if (found := re.search(r"^\s*SELECT\b.*?\bFROM\s+(\w+)", statement, re.IGNORECASE | re.DOTALL)))
    for table in ("offer_versions", "revenue_policies", "members", "invoices", "held_sessions", "posting_sets",
                  "accounts"):
        assert selects[table] == 1, (table, selects)
    # Each invoice still takes its number and writes its invoice, posting set, the new member's account, postings,
    # report lines and event: seven statements, and a few for the whole batch. Reading per event took 38.
    assert len(statements) / len(batch) <= 8, Counter(statement.split("(")[0][:60] for statement in statements)
