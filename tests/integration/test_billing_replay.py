"""Billing replays: any order and any redelivery of the events and payments of a booking history gives the same
ledger, and invoice numbers stay gapless under concurrent issuing on PostgreSQL."""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services import billing
from services.billing.models import Account, Invoice, Posting
from services.billing.payments import record_payment
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.events.declarations import (
    AttendanceRecorded,
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    OfferPublishedV2,
    ProviderShare,
)
from shared.testing import OFFER, WHEN, delivery, make_runtime, sample

SERVICE = billing.SERVICE


@st.composite
def histories(draw) -> dict:
    """An offer and what happened to some of its bookings: booked or promoted, maybe paid in part or in full,
    maybe cancelled (refunding what was paid beyond the fee), maybe held."""
    price = draw(st.integers(0, 50_000))
    providers = draw(st.sampled_from([[("p1", 100)], [("p1", 60), ("p2", 40)], [("p1", 34), ("p2", 33), ("p3", 33)]]))
    bookings = draw(st.lists(st.fixed_dictionaries({
        "promoted": st.booleans(),
        "cancel": st.sampled_from([None, "member", "session_cancelled", "called_off"]),
        "fee_percent": st.integers(0, 100),
        "paid_percent": st.sampled_from([None, 30, 100]),
    }), min_size=1, max_size=4))
    return {"price": price, "providers": providers, "bookings": bookings, "held": draw(st.integers(0, 2)),
            "vat_rate": draw(st.sampled_from((0, 7, 19)))}


@dataclass(frozen=True)
class PaymentMade:
    """An operator recording money received for a booking's invoice, after the invoice and before its credit note;
    a retry carries the same payment id."""

    booking_id: str
    payment_id: str
    amount_cents: int


def paid_cents(history: dict, booking: dict) -> int:
    return history["price"] * (booking["paid_percent"] or 0) // 100


def events_of(history: dict, prefix: str) -> list:
    """The history as the publishers and the operator would make it, in order: events, and payments between."""
    offer_id, session_id = f"{prefix}-offer", f"{prefix}-session"
    price = history["price"]
    offer = type(OFFER)(**{**OFFER.__dict__, "price_cents": price, "vat_rate": history["vat_rate"],
                           "providers": [ProviderShare(f"{prefix}-{member}", share)
                                         for member, share in history["providers"]]})
    events = [sample(OfferPublishedV2, offer_id=offer_id, offer=offer, published_at=WHEN)]
    for number, booking in enumerate(history["bookings"]):
        ids = dict(booking_id=f"{prefix}-booking-{number}", offer_id=offer_id, session_id=session_id,
                   member_id=f"{prefix}-member-{number}")
        at = WHEN + timedelta(hours=number + 1)
        events.append(sample(BookingPromoted, **ids, promoted_at=at) if booking["promoted"]
                      else sample(BookingConfirmed, **ids, confirmed_at=at))
        if paid_cents(history, booking):
            events.append(PaymentMade(ids["booking_id"], f"{prefix}-payment-{number}", paid_cents(history, booking)))
        if booking["cancel"]:
            fee = price * booking["fee_percent"] // 100 if booking["cancel"] == "member" else 0
            events.append(sample(BookingCancelled, **ids, reason=booking["cancel"], fee_cents=fee,
                                 refund_cents=price - fee, cancelled_at=at + timedelta(minutes=5)))
    for record in range(history["held"]):
        events.append(sample(AttendanceRecorded, session_id=session_id, offer_id=offer_id,
                             recorded_at=WHEN + timedelta(days=30, minutes=record)))
    return events


def pay(consumer: EventConsumer, payment: PaymentMade) -> bool:
    """Record the payment once its invoice exists; False while it does not."""
    with consumer.session_factory.begin() as db:
        invoice = db.scalar(select(Invoice).where(Invoice.booking_id == payment.booking_id))
        if invoice is None:
            return False
        record_payment(db, invoice, amount_cents=payment.amount_cents, payment_id=payment.payment_id)
        return True


def cancelled_booking(item) -> str | None:
    if item.routing_key != BookingCancelled.event_type.routing_key:
        return None
    return json.loads(item.body)["data"]["booking_id"]


def deliver_like_a_bus(consumer: EventConsumer, items: list) -> None:
    """One at a time; a delivery the consumer wants again later goes to the back of the queue, and so does a
    payment before its invoice or a cancellation before the payment that preceded it."""
    queue = deque(items)
    paid: set[str] = set()
    payments_of = {item.booking_id: item.payment_id for item in items if isinstance(item, PaymentMade)}
    for _ in range(2000):
        if not queue:
            return
        item = queue.popleft()
        if isinstance(item, PaymentMade):
            if pay(consumer, item):
                paid.add(item.payment_id)
            else:
                queue.append(item)
            continue
        waits_for = payments_of.get(cancelled_booking(item))
        if waits_for is not None and waits_for not in paid:
            queue.append(item)
            continue
        [settlement] = consumer.handle_batch([item])
        if settlement.outcome is Outcome.RETRY:
            queue.append(item)
        else:
            assert settlement.outcome is Outcome.ACK, settlement.reason
    raise AssertionError("the events never settled")


def offer_balances(runtime, offer_id: str) -> dict[tuple[str, str], int]:
    """Each account's balance from the postings about one offer, and every posting set's own balance."""
    result: dict[tuple[str, str], int] = {}
    with runtime.session_factory() as db:
        accounts = {account.id: (account.kind, account.owner) for account in db.scalars(select(Account))}
        for posting in db.scalars(select(Posting).where(Posting.offer_id == offer_id)):
            debit, credit = accounts[posting.debit_account_id], accounts[posting.credit_account_id]
            result[debit] = result.get(debit, 0) + posting.amount_cents
            result[credit] = result.get(credit, 0) - posting.amount_cents
    return {account: cents for account, cents in result.items() if cents}


@pytest.fixture
def second_runtime(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path / "second")
    yield runtime
    runtime.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), seed=st.integers(0, 2**32), copies=st.lists(st.integers(1, 3), min_size=20, max_size=20))
def test_any_order_and_redelivery_gives_the_balances_of_one_delivery_in_order(runtime, consumer, second_runtime,
                                                                              history, seed, copies):
    prefix = uuid.uuid4().hex[:8]
    events = events_of(history, prefix)
    in_order = [event if isinstance(event, PaymentMade) else delivery(event) for event in events]
    deliver_like_a_bus(consumer, in_order)

    shuffled = [item for item, times in zip(in_order, copies, strict=False) for _ in range(times)]
    shuffled += in_order[len(copies):]
    random.Random(seed).shuffle(shuffled)
    deliver_like_a_bus(EventConsumer("billing", SERVICE.handlers, second_runtime.session_factory), shuffled)

    offer_id = f"{prefix}-offer"
    expected = offer_balances(runtime, offer_id)
    assert offer_balances(second_runtime, offer_id) == expected
    assert sum(expected.values()) == 0
    # What a member still owes is what is due (the fee of a cancellation, the price otherwise) less what they
    # paid; whatever they paid beyond it was refunded, so the bank keeps what was paid up to what is due.
    price = history["price"]
    due = [price if not booking["cancel"] else
           (price * booking["fee_percent"] // 100 if booking["cancel"] == "member" else 0)
           for booking in history["bookings"]]
    kept = [min(paid_cents(history, booking), owed) for booking, owed in zip(history["bookings"], due, strict=True)]
    owed = sum(cents for (kind, _), cents in expected.items() if kind == "member_receivable")
    assert owed == sum(due) - sum(kept)
    assert expected.get(("bank", ""), 0) == sum(kept)


@pytest.mark.postgres
def test_invoice_numbers_stay_gapless_and_unique_when_issued_concurrently(make_postgres_database, tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, DATABASE_URL=make_postgres_database("billing_numbers"))
    try:
        offer_id = "offer-numbers"
        EventConsumer("billing", SERVICE.handlers, runtime.session_factory).handle_batch(
            [delivery(sample(OfferPublishedV2, offer_id=offer_id, offer=OFFER, published_at=WHEN))])
        threads, per_thread, failures = 8, 10, []
        start = threading.Barrier(threads)

        def issue(worker: int) -> None:
            consumer = EventConsumer("billing", SERVICE.handlers, runtime.session_factory)
            start.wait()
            for number in range(per_thread):
                confirmed = delivery(sample(BookingConfirmed, booking_id=f"b-{worker}-{number}", offer_id=offer_id))
                outcomes = [s.outcome for s in consumer.handle_batch([confirmed])]
                if outcomes != [Outcome.ACK]:
                    failures.append(outcomes)

        workers = [threading.Thread(target=issue, args=(worker,)) for worker in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

        with runtime.session_factory() as db:
            numbers = sorted(db.scalars(select(Invoice.number)))
            postings = db.scalar(select(func.count()).select_from(Posting))
        year = datetime.now(UTC).year
        assert failures == []
        assert numbers == [f"VCA-{year}-{n:06d}" for n in range(1, threads * per_thread + 1)]
        assert postings == threads * per_thread * 8  # VAT and three parties, each for two providers
    finally:
        runtime.close()
