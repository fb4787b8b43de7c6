"""Notify's inbox and preferences API: unread counts, marking all read, e-mail per category, only one's own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services import notify
from services.notify.domain import Category
from services.notify.models import InboxMessage
from shared.events.declarations import BookingConfirmed, InvoiceIssued, MemberRegistered
from shared.testing import bearer, delivery, sample

SERVICE = notify.SERVICE
PREFERENCES = "/api/v1/notification-preferences"


@pytest.fixture
def inbox(runtime, consumer):
    """member-1 with three messages, member-2 with one."""
    consumer.handle_batch([delivery(sample(MemberRegistered, member_id=member_id)) for member_id in
                           ("member-1", "member-2")])
    consumer.handle_batch([delivery(sample(BookingConfirmed, booking_id=f"booking-{number}"))
                           for number in range(2)])
    consumer.handle_batch([delivery(sample(InvoiceIssued)),
                           delivery(sample(InvoiceIssued, member_id="member-2", invoice_id="invoice-2"))])


def listing(client, member_id: str = "member-1", query: str = "") -> dict:
    response = client.get(f"/api/v1/notifications{query}", headers=bearer(member_id))
    assert response.status_code == 200
    return response.json


def test_the_list_says_how_many_are_unread(client, inbox):
    mine = listing(client)
    first_id = mine["items"][0]["id"]

    assert (mine["total"], mine["unread"]) == (3, 3)
    client.post(f"/api/v1/notifications/{first_id}/read", headers=bearer("member-1"))
    assert (listing(client)["unread"], listing(client, query="?per_page=1")["unread"]) == (2, 2)
    assert listing(client, "member-2")["unread"] == 1


def test_marking_all_read_touches_only_my_unread_messages(runtime, client, inbox):
    first_id = listing(client)["items"][0]["id"]
    client.post(f"/api/v1/notifications/{first_id}/read", headers=bearer("member-1"))
    with runtime.session_factory() as db:
        first_read_at = db.get(InboxMessage, first_id).read_at

    response = client.post("/api/v1/notifications/read", headers=bearer("member-1"))

    assert response.status_code == 200
    assert response.json == {"marked": 2, "unread": 0}
    assert listing(client)["unread"] == 0
    assert listing(client, "member-2")["unread"] == 1, "another member's messages stay unread"
    with runtime.session_factory() as db:
        assert db.get(InboxMessage, first_id).read_at == first_read_at, "the first reading keeps its time"
    again = client.post("/api/v1/notifications/read", headers=bearer("member-1"), json={})
    assert again.json == {"marked": 0, "unread": 0}


def test_marking_all_read_refuses_a_body_and_wants_a_token(client, inbox):
    refused = client.post("/api/v1/notifications/read", headers=bearer("member-1"), json={"member_id": "member-2"})

    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert client.post("/api/v1/notifications/read").status_code == 401
    assert listing(client, "member-2")["unread"] == 1


def test_pages_are_bounded(client, inbox):
    response = client.get("/api/v1/notifications?per_page=101", headers=bearer("member-1"))

    assert response.status_code == 422 and "per_page" in response.json["errors"]


def test_preferences_start_with_every_mail_on_and_say_which_are_locked(client):
    response = client.get(PREFERENCES, headers=bearer("member-1"))

    assert response.status_code == 200
    assert set(response.json) == {category.value for category in Category}
    assert all(choice["email"] for choice in response.json.values())
    assert {name for name, choice in response.json.items() if not choice["inbox"]} == {"account"}, "reset links"
    assert {name for name, choice in response.json.items() if choice["locked"]} == {"invoices", "cancellations",
                                                                                    "account"}
    assert client.get(PREFERENCES).status_code == 401


def test_a_member_switches_mail_off_and_on_again_for_their_own_account_only(client):
    off = client.put(PREFERENCES, headers=bearer("member-1"),
                     json={"bookings": {"email": False}, "offers": {"email": False}})

    assert off.status_code == 200
    assert (off.json["bookings"]["email"], off.json["offers"]["email"], off.json["invoices"]["email"]) == (
        False, False, True)
    assert client.get(PREFERENCES, headers=bearer("member-2")).json["bookings"]["email"] is True
    on = client.put(PREFERENCES, headers=bearer("member-1"), json={"bookings": {"email": True}})
    assert (on.json["bookings"]["email"], on.json["offers"]["email"]) == (True, False)


@pytest.mark.parametrize("category", ["invoices", "cancellations"])
def test_invoices_and_cancellations_cannot_be_switched_off(client, category):
    response = client.put(PREFERENCES, headers=bearer("member-1"),
                          json={"bookings": {"email": False}, category: {"email": False}})

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"] == {category: {"email": ["always sent by e-mail; cannot be switched off"]}}
    assert client.get(PREFERENCES, headers=bearer("member-1")).json["bookings"]["email"] is True, \
        "nothing of a refused request is kept"
    assert client.put(PREFERENCES, headers=bearer("member-1"), json={category: {"email": True}}).status_code == 200


@pytest.mark.parametrize("body", [
    {"newsletter": {"email": False}},
    {"bookings": {"email": "no"}},
    {"bookings": {"email": 0}},
    {"bookings": {}},
    {"bookings": {"email": False, "inbox": False}},
    {"bookings": False},
    [],
])
def test_bad_preferences_are_a_problem_naming_the_field(client, body):
    response = client.put(PREFERENCES, headers=bearer("member-1"), json=body)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"], "the problem names what is wrong"
    assert client.get(PREFERENCES, headers=bearer("member-1")).json["bookings"]["email"] is True


def test_nobody_reads_someone_elses_messages(runtime, client, inbox):
    with runtime.session_factory() as db:
        theirs = db.scalar(select(InboxMessage.id).where(InboxMessage.member_id == "member-2"))

    assert client.post(f"/api/v1/notifications/{theirs}/read", headers=bearer("member-1")).status_code == 404
    assert all(item["id"] != theirs for item in listing(client)["items"])
