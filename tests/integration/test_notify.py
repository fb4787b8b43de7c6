"""Notify on a real database: one inbox message per event and person, each member reading only their own."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from services import notify
from services.notify.handlers import booking_confirmed as handle_booking_confirmed
from services.notify.models import InboxMessage
from services.notify.rendering import format_money
from shared.bus import Outcome
from shared.events import parse_event
from shared.events.declarations import (
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    BookingWaitlisted,
    InvoiceIssued,
    MemberRegistered,
    NotificationDelivered,
)
from shared.tables import outbox
from shared.testing import bearer, delivery, sample

SERVICE = notify.SERVICE  # the service under test, for the fixtures in conftest.py

MEMBER_ID = "member-1"


def member_registered(member_id: str = MEMBER_ID, name: str = "Ada Lovelace"):
    return delivery(sample(MemberRegistered, member_id=member_id, email=f"{member_id}@example.org",
                           display_name=name))


def booking_confirmed(member_id: str = MEMBER_ID, booking_id: str = "booking-1", format: str = "in_person"):
    return delivery(sample(BookingConfirmed, booking_id=booking_id, member_id=member_id, format=format))


def booking_waitlisted(member_id: str = MEMBER_ID, position: int = 3):
    return delivery(sample(BookingWaitlisted, booking_id="booking-2", member_id=member_id, position=position))


def invoice_issued(member_id: str = MEMBER_ID, total_cents: int = 12_345):
    return delivery(sample(InvoiceIssued, invoice_id=str(uuid.uuid4()), number="VCA-2026-000042",
                           member_id=member_id, total_cents=total_cents))


def messages(runtime) -> list[InboxMessage]:
    with runtime.session_factory() as db:
        return list(db.scalars(select(InboxMessage).order_by(InboxMessage.created_at)))


def delivered_events(runtime) -> list[dict]:
    with runtime.session_factory() as db:
        delivered = outbox.c.routing_key == NotificationDelivered.event_type.routing_key
        bodies = db.scalars(select(outbox.c.body).where(delivered))
        return [json.loads(body) for body in bodies]


def event_id(event_delivery) -> str:
    return json.loads(event_delivery.body)["id"]


def outcomes(settlements) -> list[Outcome]:
    return [settlement.outcome for settlement in settlements]


def test_a_confirmed_booking_reaches_the_members_inbox(runtime, consumer):
    consumer.handle_batch([member_registered()])
    confirmed = booking_confirmed()

    assert outcomes(consumer.handle_batch([confirmed])) == [Outcome.ACK]

    [message] = messages(runtime)
    assert message.member_id == MEMBER_ID
    assert message.cause_event_id == event_id(confirmed)
    assert message.kind == "booking_confirmed"
    assert message.subject.startswith("Your seat is confirmed")
    assert "Ada Lovelace" in message.body and "in-person" in message.body and "booking-1" in message.body
    assert message.read_at is None
    assert message.created_at.tzinfo is not None

    [envelope] = delivered_events(runtime)
    event = parse_event(json.dumps(envelope))
    assert event.event_type is NotificationDelivered.event_type
    assert event.subject == message.id
    assert event.data.notification_id == message.id
    assert event.data.member_id == MEMBER_ID
    assert event.data.channel == "inbox"
    assert event.data.cause_event_id == event_id(confirmed)


def test_waitlist_and_invoice_messages_carry_their_facts(runtime, consumer):
    consumer.handle_batch([member_registered()])

    consumer.handle_batch([booking_waitlisted(position=3), invoice_issued(total_cents=12_345)])

    waitlisted, invoiced = messages(runtime)
    assert waitlisted.kind == "booking_waitlisted"
    assert "number 3 on the waiting list" in waitlisted.body
    assert "online" in waitlisted.body
    assert invoiced.kind == "invoice_issued"
    assert invoiced.subject == "Invoice VCA-2026-000042: €123.45"
    assert "VCA-2026-000042" in invoiced.body and "€123.45" in invoiced.body
    assert len(delivered_events(runtime)) == 2


@pytest.mark.parametrize(
    ("cents", "english", "german"),
    [(123_450, "€1,234.50", "1.234,50 €"), (5, "€0.05", "0,05 €"), (100, "€1.00", "1,00 €"),
     (0, "€0.00", "0,00 €"), (-250, "-€2.50", "-2,50 €")],
)
def test_amounts_are_written_from_cents_per_language(cents, english, german):
    assert format_money(cents, "EUR", "en") == english
    # German puts a no-break space between amount and sign, so a line never ends in the middle.
    assert format_money(cents, "EUR", "de") == german.replace(" ", "\u00a0")


def test_an_event_reaches_a_member_once_however_often_it_is_delivered(runtime, consumer):
    consumer.handle_batch([member_registered()])
    confirmed = booking_confirmed()

    settlements = consumer.handle_batch([confirmed, confirmed]) + consumer.handle_batch([confirmed])

    assert outcomes(settlements) == [Outcome.ACK] * 3
    assert len(messages(runtime)) == 1
    assert len(delivered_events(runtime)) == 1


def test_a_handler_run_twice_on_one_event_still_delivers_once(runtime, consumer):
    # Past the consumer's processed events (e.g. replayed under another consumer name) the message table still guards.
    consumer.handle_batch([member_registered()])
    event = parse_event(booking_confirmed().body)

    for _ in range(2):
        with runtime.session_factory.begin() as db:
            handle_booking_confirmed(event, db)

    assert len(messages(runtime)) == 1
    assert len(delivered_events(runtime)) == 1


def test_different_events_each_get_their_message(runtime, consumer):
    consumer.handle_batch([member_registered()])

    consumer.handle_batch([booking_confirmed(booking_id="booking-1"), booking_confirmed(booking_id="booking-3")])

    assert len(messages(runtime)) == 2


def test_an_event_for_an_unknown_member_is_retried_until_the_member_arrives(runtime, consumer):
    confirmed = booking_confirmed()

    [settlement] = consumer.handle_batch([confirmed])

    assert settlement.outcome is Outcome.RETRY
    assert "not known yet" in settlement.reason
    assert messages(runtime) == []
    assert delivered_events(runtime) == []

    consumer.handle_batch([member_registered()])
    assert outcomes(consumer.handle_batch([confirmed])) == [Outcome.ACK]
    assert len(messages(runtime)) == 1


def test_members_see_only_their_own_inbox_newest_first(runtime, consumer, client):
    consumer.handle_batch([member_registered(MEMBER_ID), member_registered("member-2", "Grace Hopper")])
    consumer.handle_batch([booking_confirmed()])
    consumer.handle_batch([invoice_issued()])
    consumer.handle_batch([booking_confirmed("member-2", booking_id="booking-9")])

    mine = client.get("/api/v1/notifications", headers=bearer(MEMBER_ID))
    theirs = client.get("/api/v1/notifications", headers=bearer("member-2"))

    assert mine.status_code == 200
    assert mine.json["total"] == 2
    assert [item["kind"] for item in mine.json["items"]] == ["invoice_issued", "booking_confirmed"]
    assert theirs.json["total"] == 1
    assert "Grace Hopper" in theirs.json["items"][0]["body"]
    assert client.get("/api/v1/notifications").status_code == 401


def test_paging_through_the_inbox(runtime, consumer, client):
    consumer.handle_batch([member_registered()])
    for number in range(3):
        consumer.handle_batch([booking_confirmed(booking_id=f"booking-{number}")])

    first = client.get("/api/v1/notifications?per_page=2", headers=bearer(MEMBER_ID)).json
    second = client.get("/api/v1/notifications?per_page=2&page=2", headers=bearer(MEMBER_ID)).json

    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    assert "booking-0" in second["items"][0]["body"], "the oldest comes last"


def test_marking_a_message_read(runtime, consumer, client):
    consumer.handle_batch([member_registered()])
    consumer.handle_batch([booking_confirmed(), invoice_issued()])
    confirmed_message, invoice_message = messages(runtime)
    path = f"/api/v1/notifications/{confirmed_message.id}/read"

    marked = client.post(path, headers=bearer(MEMBER_ID))

    assert marked.status_code == 200
    assert marked.json["id"] == confirmed_message.id
    assert marked.json["read_at"] is not None
    again = client.post(path, headers=bearer(MEMBER_ID), json={})
    assert again.status_code == 200
    assert again.json["read_at"] == marked.json["read_at"], "reading again keeps the first time"
    unread = client.get("/api/v1/notifications?unread=true", headers=bearer(MEMBER_ID)).json
    assert [item["id"] for item in unread["items"]] == [invoice_message.id]
    assert unread["total"] == 1
    everything = client.get("/api/v1/notifications?unread=false", headers=bearer(MEMBER_ID)).json
    assert everything["total"] == 2


def test_nobody_marks_someone_elses_message(runtime, consumer, client):
    consumer.handle_batch([member_registered()])
    consumer.handle_batch([booking_confirmed()])
    [message] = messages(runtime)

    foreign = client.post(f"/api/v1/notifications/{message.id}/read", headers=bearer("member-2"))
    operator = client.post(f"/api/v1/notifications/{message.id}/read", headers=bearer("member-3", "operator"))
    unknown = client.post(f"/api/v1/notifications/{uuid.uuid4()}/read", headers=bearer(MEMBER_ID))

    assert foreign.status_code == operator.status_code == unknown.status_code == 404
    assert foreign.mimetype == "application/problem+json"
    assert client.post(f"/api/v1/notifications/{message.id}/read").status_code == 401
    assert messages(runtime)[0].read_at is None


@pytest.mark.parametrize(
    "body",
    [{"read_at": "2020-01-01T00:00:00+00:00"}, {"member_id": "member-2"}, [], "read", 1],
)
def test_a_mark_read_body_with_anything_in_it_is_refused(runtime, consumer, client, body):
    consumer.handle_batch([member_registered()])
    consumer.handle_batch([booking_confirmed()])
    [message] = messages(runtime)

    response = client.post(f"/api/v1/notifications/{message.id}/read", headers=bearer(MEMBER_ID), json=body)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert messages(runtime)[0].read_at is None


def test_a_mark_read_body_that_is_not_json_is_a_problem(client):
    response = client.post(
        f"/api/v1/notifications/{uuid.uuid4()}/read",
        headers=bearer(MEMBER_ID),
        data="{not json",
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("query", ["unread=perhaps", "per_page=0", "page=-1"])
def test_bad_list_arguments_are_a_problem_not_a_crash(client, query):
    response = client.get(f"/api/v1/notifications?{query}", headers=bearer(MEMBER_ID))

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"



def test_a_promotion_and_cancellations_reach_the_member_with_their_facts(runtime, consumer):
    consumer.handle_batch([member_registered()])
    events = [
        delivery(sample(BookingPromoted, member_id=MEMBER_ID, booking_id="b-promoted")),
        delivery(sample(BookingCancelled, member_id=MEMBER_ID, booking_id="b-paid", fee_cents=5_000,
                        refund_cents=7_345, currency="EUR")),
        delivery(sample(BookingCancelled, member_id=MEMBER_ID, booking_id="b-waiting", previous_status="waitlisted",
                        fee_cents=0, refund_cents=0)),
    ]

    assert outcomes(consumer.handle_batch(events)) == [Outcome.ACK] * 3

    bodies = {message.kind: [] for message in messages(runtime)}
    for message in messages(runtime):
        bodies[message.kind].append(message.body)
    assert any("b-promoted" in body and "free of charge for 24 hours" in body for body in bodies["booking_promoted"])
    cancelled = " | ".join(bodies["booking_cancelled"])
    assert "The cancellation fee is €50.00, and €73.45 will be refunded" in cancelled
    assert "left the waiting list (booking b-waiting)" in cancelled
