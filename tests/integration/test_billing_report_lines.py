"""Reports read report_lines, which the ledger writes with the postings: the report and the what-if equal a
straightforward recomputation from the postings and invoices, to the cent, and the migration's backfill
rebuilds the lines the ledger wrote."""

from __future__ import annotations

import importlib.util
import uuid
from collections import defaultdict
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text

from services import billing
from services.billing import ledger
from services.billing.domain import BASIS_POINTS, PARTIES, VAT, largest_remainder
from services.billing.models import Account, Invoice, Posting, ReportLine
from services.billing.reports import GROUPINGS, revenue_report, simulate
from shared.bus import Outcome
from shared.events.declarations import BookingCancelled, BookingConfirmed, OfferPublishedV2, ProviderShare
from shared.testing import OFFER, WHEN, delivery, sample

SERVICE = billing.SERVICE
START = WHEN - timedelta(days=400)
MIGRATION = billing.SERVICE.migrations / "versions" / "15e15d2393d4_report_lines.py"


@pytest.fixture
def runtime(runtime_on_each_database):
    return runtime_on_each_database


def settle(consumer, *deliveries) -> None:
    assert [s.outcome for s in consumer.handle_batch(list(deliveries))] == [Outcome.ACK] * len(deliveries)


# A booking: price, who books (sometimes a provider, who then both teaches and learns), the providers and
# their percent, the offer's area and region, the format, days after WHEN, and what a cancellation refunds.
PROVIDER_SETS = [[("provider-1", 100)], [("provider-1", 60), ("provider-2", 40)],
                 [("provider-2", 33), ("provider-3", 33), ("provider-1", 34)]]
bookings = st.lists(st.tuples(
    st.integers(1, 200_000), st.sampled_from(["member-1", "member-2", "provider-2"]),
    st.sampled_from(PROVIDER_SETS), st.sampled_from(["INT", "FIN"]), st.sampled_from(["DE-BW", "AT", None]),
    st.sampled_from(["online", "in_person"]), st.integers(-300, 300),
    st.one_of(st.none(), st.floats(0, 1), st.just("session_cancelled")),
), min_size=1, max_size=4)


def book(consumer, price, member_id, providers, area, region, seat_format, days, refund) -> None:
    offer_id, booking_id = str(uuid.uuid4()), str(uuid.uuid4())
    offer = type(OFFER)(**{**OFFER.__dict__, "price_cents": price, "areas": [area], "region": region,
                           "providers": [ProviderShare(member_id=m, share_percent=p) for m, p in providers]})
    at = WHEN + timedelta(days=days, minutes=days * 7)
    settle(consumer, delivery(sample(OfferPublishedV2, offer_id=offer_id, offer=offer, published_at=at)))
    settle(consumer, delivery(sample(BookingConfirmed, booking_id=booking_id, offer_id=offer_id, member_id=member_id,
                                     format=seat_format, session_id="session-1", confirmed_at=at)))
    if refund is None:
        return
    refund_cents = price if refund == "session_cancelled" else int(price * refund)
    settle(consumer, delivery(sample(
        BookingCancelled, booking_id=booking_id, offer_id=offer_id, member_id=member_id, format=seat_format,
        fee_cents=price - refund_cents, refund_cents=refund_cents,
        reason="session_cancelled" if refund == "session_cancelled" else "member",
        cancelled_at=at + timedelta(days=20))))


def _empty() -> dict[str, int]:
    return {"gross_cents": 0, "refunds_cents": 0, "vat_cents": 0, "net_revenue_cents": 0,
            **{party + "_cents": 0 for party in PARTIES}}


def _bucket(group_by: str, posting: Posting) -> str:
    if group_by == "day":
        return posting.day.isoformat()
    if group_by == "week":
        year, week, _ = posting.day.isocalendar()
        return f"{year}-W{week:02d}"
    if group_by == "month":
        return posting.day.strftime("%Y-%m")
    return getattr(posting, {"provider": "provider_id"}.get(group_by, group_by)) or ""


def recompute(db, start, end, group_by, weights) -> dict:
    """The report and the what-if posting by posting, invoice by invoice, as plainly as they can be said."""
    rows = db.execute(select(Posting, Account.kind).join(Account, Account.id == Posting.debit_account_id).where(
        Posting.occurred_at >= start, Posting.occurred_at < end, Posting.set_kind.in_(ledger.REVENUE_KINDS))).all()
    invoices = {invoice.id: invoice for invoice in db.scalars(select(Invoice))}
    by_provider = group_by == "provider"
    actual, simulated = defaultdict(_empty), defaultdict(_empty)
    nets, earnings, teachers, learners = defaultdict(int), defaultdict(int), set(), set()
    for posting, debit_kind in rows:
        cents = posting.amount_cents if debit_kind == ledger.MEMBER_RECEIVABLE else -posting.amount_cents
        key = _bucket(group_by, posting)
        for figures in (actual[key], simulated[key]):
            figures["gross_cents" if posting.set_kind == "invoice" else "refunds_cents"] += \
                cents if posting.set_kind == "invoice" else -cents
        if posting.purpose == VAT:
            actual[key]["vat_cents"] += cents
            simulated[key]["vat_cents"] += cents
        else:
            actual[key][posting.purpose + "_cents"] += cents
            actual[key]["net_revenue_cents"] += cents
            nets[("" if by_provider else key, posting.set_kind, posting.invoice_id)] += cents
        if posting.purpose == "provider":
            earnings[posting.provider_id or ""] += cents
        if posting.set_kind == "invoice":
            teachers.add(posting.provider_id)
            learners.add(posting.member_id)

    def split(net: int, key: str, providers: dict[str, int]) -> dict[tuple[str, str], int]:
        parts = largest_remainder(net, weights)
        if not by_provider or not providers:
            return {(key, party): cents for party, cents in parts.items()}
        return {(provider, party): cents for party in PARTIES
                for provider, cents in largest_remainder(parts[party], providers).items()}

    for (key, set_kind, invoice_id), net in nets.items():
        invoice = invoices[invoice_id]
        providers = {member: percent for member, percent in invoice.providers}
        if set_kind == "invoice":
            parts = split(net, key, providers)
        else:
            before, kept = split(invoice.net_cents, key, providers), split(invoice.net_cents + net, key, providers)
            parts = {where: kept[where] - before[where] for where in before}
        for (group, party), cents in parts.items():
            simulated[group][party + "_cents"] += cents
            simulated[group]["net_revenue_cents"] += cents
    return {"groups": [{"group": key, **actual[key]} for key in sorted(actual)], "earnings": dict(earnings),
            "both": len(teachers & learners - {None}),
            "simulated": [{"group": key, **simulated[key]} for key in sorted(simulated)]}


# Any shares, and some whose remainders tie, where the order of the parties decides who gets a left-over cent.
shares = st.one_of(
    st.tuples(st.integers(0, BASIS_POINTS), st.integers(0, BASIS_POINTS)).map(sorted).map(
        lambda cut: (cut[0], cut[1] - cut[0], BASIS_POINTS - cut[1])),
    st.sampled_from([(5_000, 2_500, 2_500), (2_500, 5_000, 2_500), (3_333, 3_333, 3_334), (2_000, 4_000, 4_000)]),
).map(lambda bp: dict(zip(PARTIES, bp, strict=True)))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(history=bookings, weights=shares, group_by=st.sampled_from(GROUPINGS),
       window=st.tuples(st.integers(0, 1_000_000), st.integers(1, 1_000_000)))
def test_the_report_and_the_what_if_equal_a_recomputation_from_the_postings(runtime, consumer, history, weights,
                                                                          group_by, window):
    for booking in history:
        book(consumer, *booking)
    # Ranges start and end inside days, so a day's postings on either side of an edge are told apart.
    start = START + timedelta(minutes=window[0])
    end = start + timedelta(minutes=window[1])
    with runtime.session_factory() as db:
        report = revenue_report(db, start, end, group_by)
        what_if = simulate(db, shares_bp=weights, start=start, end=end, group_by=group_by)
        expected = recompute(db, start, end, group_by, weights)
    assert report["groups"] == expected["groups"]
    earnings = sorted(expected["earnings"].items(), key=lambda item: (-item[1], item[0]))
    assert report["providers"]["count"] == len(earnings)
    assert report["providers"]["top"] == [{"provider_id": p, "cents": c} for p, c in earnings[:10]]
    assert report["members_teaching_and_learning"] == expected["both"]
    assert what_if["actual"] == report
    assert what_if["simulated"]["groups"] == expected["simulated"]
    total = what_if["simulated"]["total"]
    assert total["net_revenue_cents"] == report["total"]["net_revenue_cents"]
    assert {party: total[party + "_cents"] for party in PARTIES} == {
        party: sum(group[party + "_cents"] for group in expected["simulated"]) for party in PARTIES}


FIXED = [(12_345, "member-1", PROVIDER_SETS[2], "INT", "AT", "online", 3, 0.37),
         (999, "provider-2", PROVIDER_SETS[1], "FIN", None, "in_person", 40, "session_cancelled"),
         (5_000, "member-2", PROVIDER_SETS[0], "INT", "DE-BW", "online", 70, None),
         (7_777, "provider-1", PROVIDER_SETS[0], "FIN", "AT", "online", 70, 0.5)]


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_each_grouping_equals_the_recomputation(runtime, consumer, group_by):
    for booking in FIXED:
        book(consumer, *booking)
    weights = dict(zip(PARTIES, (5_000, 2_500, 2_500), strict=True))
    start, end = WHEN - timedelta(days=30), WHEN + timedelta(days=365)
    with runtime.session_factory() as db:
        what_if = simulate(db, shares_bp=weights, start=start, end=end, group_by=group_by)
        expected = recompute(db, start, end, group_by, weights)
    assert what_if["actual"]["groups"] == expected["groups"]
    assert what_if["simulated"]["groups"] == expected["simulated"]
    assert what_if["actual"]["members_teaching_and_learning"] == expected["both"] == 2
    assert what_if["difference"]["provider"] < 0


def _lines(db) -> list[tuple]:
    columns = [column for column in ReportLine.__table__.columns]
    return sorted(tuple(row) for row in db.execute(select(*columns)))


def test_the_migration_backfills_the_lines_the_ledger_writes(runtime, consumer):
    for booking in FIXED:
        book(consumer, *booking)
    spec = importlib.util.spec_from_file_location("report_lines_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with runtime.session_factory() as db:
        written = _lines(db)
        db.execute(delete(ReportLine))
        db.execute(text(migration.BACKFILL))
        db.commit()
        backfilled = _lines(db)
    assert len(written) == 3 + 3 + 2 + 2 + 1 + 1 + 1  # a line per set and provider, credit notes too
    assert backfilled == written
