"""Notify reads its read models once per batch of events: the same messages as event by event, fewer queries."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from services import notify
from services.notify.mail import mail_key
from services.notify.models import BookingRecord, EmailDelivery, InboxMessage, Preference
from shared.bus import Outcome
from shared.events.declarations import (
    BookingCancelled,
    BookingConfirmed,
    InvoiceIssued,
    MemberDeleted,
    MemberRegistered,
    NotificationDelivered,
    OfferPublishedV2,
    SessionScheduled,
)
from shared.tables import outbox, processed_events, side_effects
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


def inserts_by_table(runtime, work) -> Counter:
    tables = (re.search(r"^\s*INSERT\s+INTO\s+(\w+)", statement, re.IGNORECASE)
              for statement in statements_sent(runtime.engine, work))
    return Counter(table.group(1) for table in tables if table)


def test_a_batch_writes_its_messages_mails_and_their_events_in_one_statement_each(runtime, consumer):
    members = [f"member-{number}" for number in range(10)]
    consumer.handle_batch([registered(member_id) for member_id in members])
    batch = [event for member_id in members for event in booked_and_invoiced(member_id)]

    inserts = inserts_by_table(runtime, lambda: consumer.handle_batch(batch))

    for table in ("inbox_messages", "email_deliveries", "side_effects", "outbox", "processed_events"):
        assert inserts[table] == 1, (table, inserts)
    with runtime.session_factory() as db:
        messages = set(db.scalars(select(InboxMessage.id)))
        mails = set(db.scalars(select(EmailDelivery.id)))
        effects = set(db.scalars(select(side_effects.c.idempotency_key)))
        told = [json.loads(body)["data"]["notification_id"] for body in db.scalars(
            select(outbox.c.body).where(outbox.c.routing_key == NotificationDelivered.event_type.routing_key))]
    assert len(messages) == len(mails) == 2 * len(members)
    assert sorted(told) == sorted(messages), "one notification.delivered per message"
    assert effects == {mail_key(mail_id) for mail_id in mails}, "one side effect per mail"


def test_a_message_already_there_for_its_event_is_not_written_or_announced_again(runtime, consumer):
    """A redelivery past the consumer's memory (its processed events purged) meets the table's unique key."""
    consumer.handle_batch([registered("member-1")])
    again = delivery(sample(BookingConfirmed, member_id="member-1"), event_id="event-once")
    consumer.handle_batch([again])
    with runtime.session_factory.begin() as db:
        db.execute(processed_events.delete())
        announced = db.scalar(select(func.count()).select_from(outbox))

    outcomes = consumer.handle_batch([again, *booked_and_invoiced("member-1")[1:]])

    assert {settlement.outcome for settlement in outcomes} == {Outcome.ACK}
    with runtime.session_factory() as db:
        causes = Counter(db.scalars(select(InboxMessage.cause_event_id)))
        mailed = Counter(db.scalars(select(EmailDelivery.cause_event_id)))
        effects = db.scalar(select(func.count()).select_from(side_effects))
        announced_since = db.scalar(select(func.count()).select_from(outbox)) - announced
    assert causes["event-once"] == mailed["event-once"] == 1
    assert sum(causes.values()) == sum(mailed.values()) == effects == 2
    assert announced_since == 1, "only the invoice's message is announced"


def test_a_member_deleted_later_in_the_batch_keeps_nothing_earlier_events_told_them(runtime, consumer):
    consumer.handle_batch([registered("member-1"), registered("member-2")])
    batch = [*booked_and_invoiced("member-1"), *booked_and_invoiced("member-2"),
             delivery(sample(MemberDeleted, member_id="member-1"))]

    assert {settlement.outcome for settlement in consumer.handle_batch(batch)} == {Outcome.ACK}

    with runtime.session_factory() as db:
        assert set(db.scalars(select(InboxMessage.member_id))) == {"member-2"}
        assert set(db.scalars(select(EmailDelivery.member_id))) == {"member-2"}
        mails = set(db.scalars(select(EmailDelivery.id)))
        assert set(db.scalars(select(side_effects.c.idempotency_key))) == {mail_key(mail_id) for mail_id in mails}
