"""Notify reads its read models once per batch of events: the same messages as event by event, fewer queries."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from services import notify
from services.notify.models import BookingRecord, EmailDelivery, InboxMessage, Preference
from shared.bus import Outcome
from shared.events.declarations import (
    BookingCancelled,
    BookingConfirmed,
    InvoiceIssued,
    MemberRegistered,
    OfferPublishedV2,
    SessionScheduled,
)
from shared.testing import delivery, sample
from tests.integration.sql_statements import statements_sent

SERVICE = notify.SERVICE


@pytest.fixture
def runtime(runtime_on_each_database):
    """Every test of this module on SQLite and on PostgreSQL."""
    return runtime_on_each_database


def registered(member_id: str):
    return delivery(sample(MemberRegistered, member_id=member_id, email=f"{member_id}@example.org"))


def booked_and_invoiced(member_id: str) -> list:
    booking_id = f"booking-of-{member_id}"
    return [delivery(sample(BookingConfirmed, booking_id=booking_id, member_id=member_id)),
            delivery(sample(InvoiceIssued, invoice_id=f"invoice-of-{member_id}", booking_id=booking_id,
                            member_id=member_id))]


def selects_by_table(runtime, work) -> Counter:
    tables = (re.search(r"^\s*SELECT\b.*?\bFROM\s+(\w+)", statement, re.IGNORECASE | re.DOTALL)
              for statement in statements_sent(runtime.engine, work))
    return Counter(table.group(1) for table in tables if table)


def test_a_batch_reads_each_read_model_once_not_once_per_event(runtime, consumer):
    members = [f"member-{number}" for number in range(10)]
    consumer.handle_batch([registered(member_id) for member_id in members])
    with runtime.session_factory.begin() as db:
        db.add(Preference(member_id="member-3", category="bookings", email=False))
    batch = [event for member_id in members for event in booked_and_invoiced(member_id)]

    selects = selects_by_table(runtime, lambda: consumer.handle_batch(batch))

    for table in ("members", "notification_preferences", "offers", "sessions", "bookings"):
        assert selects[table] == 1, (table, selects)
    with runtime.session_factory() as db:
        assert db.scalar(select(InboxMessage.id).where(InboxMessage.member_id == "member-9")) is not None
        mailed = set(db.execute(select(EmailDelivery.member_id, EmailDelivery.kind)))
    # The member who switched booking mails off still gets the invoice, which is always mailed.
    assert ("member-3", "booking_confirmed") not in mailed
    assert ("member-3", "invoice_issued") in mailed
    assert len(mailed) == 2 * len(members) - 1


def test_later_events_of_a_batch_see_what_earlier_ones_wrote(runtime, consumer):
    batch = [registered("member-1"), delivery(sample(OfferPublishedV2)), delivery(sample(SessionScheduled)),
             delivery(sample(BookingConfirmed)), delivery(sample(BookingCancelled))]

    assert {settlement.outcome for settlement in consumer.handle_batch(batch)} == {Outcome.ACK}

    with runtime.session_factory() as db:
        assert db.get(BookingRecord, "booking-1").status == "cancelled"
        bodies = {message.kind: message.body for message in db.scalars(select(InboxMessage))}
    assert set(bodies) == {"booking_confirmed", "booking_cancelled"}
    assert "Cluster strategy in practice" in bodies["booking_confirmed"]


def test_an_event_retried_within_its_batch_leaves_its_neighbours_reads_right(runtime, consumer):
    """The first event reads the batch's read models and then fails: its savepoint rolls back, and the others
    still find what they need, including the booking a neighbour added."""
    batch = [delivery(sample(BookingConfirmed, booking_id="booking-x", member_id="member-unknown")),
             registered("member-1"), delivery(sample(BookingConfirmed)), delivery(sample(BookingCancelled))]

    outcomes = [settlement.outcome for settlement in consumer.handle_batch(batch)]

    assert outcomes == [Outcome.RETRY, Outcome.ACK, Outcome.ACK, Outcome.ACK]
    with runtime.session_factory() as db:
        assert db.get(BookingRecord, "booking-x") is None
        assert db.get(BookingRecord, "booking-1").status == "cancelled"
        assert {message.kind for message in db.scalars(select(InboxMessage))} == {"booking_confirmed",
                                                                                  "booking_cancelled"}
