"""Lists of bookings: a member's own with filters, an operator's of anyone, a provider's participants by name."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services import booking
from shared.bus import Outcome
from shared.events.declarations import MemberRegistered, OfferPublished, SessionScheduled
from shared.testing import bearer, delivery, sample

SERVICE = booking.SERVICE  # the service under test, for the fixtures in conftest.py
PROVIDER = "provider-9"


def open_session(consumer, starts_in: timedelta, seats: int = 1) -> str:
    offer_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    starts_at = datetime.now(UTC) + starts_in
    events = [
        delivery(sample(OfferPublished, offer_id=offer_id, provider_id=PROVIDER)),
        delivery(sample(SessionScheduled, session_id=session_id, offer_id=offer_id, starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=2), seats={"online": seats})),
    ]
    assert [s.outcome for s in consumer.handle_batch(events)] == [Outcome.ACK, Outcome.ACK]
    return session_id


def book(client, session_id: str, member: str):
    return client.post("/api/v1/bookings", json={"session_id": session_id, "format": "online"},
                       headers=bearer(member))


def listed(client, query: str, member: str = "ann", *roles: str) -> list[str]:
    answer = client.get(f"/api/v1/bookings?{query}", headers=bearer(member, *roles))
    assert answer.status_code == 200, answer.json
    return [item["id"] for item in answer.json["items"]]


def test_filters_by_status_and_by_upcoming_or_past(client, consumer):
    soon, later = open_session(consumer, timedelta(days=3)), open_session(consumer, timedelta(days=40))
    seat = book(client, soon, "ann").json
    book(client, later, "ben")
    waiting = book(client, later, "ann").json

    assert listed(client, "status=waitlisted") == [waiting["id"]]
    assert sorted(listed(client, "when=upcoming")) == sorted([seat["id"], waiting["id"]])
    assert listed(client, f"session_id={soon}") == [seat["id"]]
    assert client.get("/api/v1/bookings?when=someday", headers=bearer("ann")).status_code == 422


def test_members_see_only_their_own_and_operators_anyones(client, consumer):
    session_id = open_session(consumer, timedelta(days=10), seats=2)
    ann, ben = book(client, session_id, "ann").json, book(client, session_id, "ben").json

    assert client.get("/api/v1/bookings?member_id=ben", headers=bearer("ann")).status_code == 403
    assert listed(client, "member_id=ben", "olga", "operator") == [ben["id"]]
    assert sorted(listed(client, f"session_id={session_id}", "olga", "operator")) == sorted([ann["id"], ben["id"]])


def test_the_provider_sees_participants_by_name_and_nobody_else_does(client, consumer):
    consumer.handle_batch([delivery(sample(MemberRegistered, member_id=member, display_name=name))
                           for member, name in (("ann", "Ann Weber"), ("ben", "Ben Roth"))])
    session_id = open_session(consumer, timedelta(days=10))
    book(client, session_id, "ann")
    book(client, session_id, "ben")

    answer = client.get(f"/api/v1/sessions/{session_id}/participants", headers=bearer(PROVIDER))

    assert answer.status_code == 200
    assert [(p["name"], p["status"], p["waiting_position"]) for p in answer.json["items"]] == \
        [("Ann Weber", "confirmed", None), ("Ben Roth", "waitlisted", 1)]
    assert set(answer.json["items"][0]) == {"booking_id", "name", "organisation", "format", "status",
                                            "waiting_position", "attended"}
    assert client.get(f"/api/v1/sessions/{session_id}/participants", headers=bearer("ann")).status_code == 403


def test_a_provider_cannot_book_their_own_session(client, consumer):
    session_id = open_session(consumer, timedelta(days=10))
    refused = book(client, session_id, PROVIDER)
    assert refused.status_code == 409 and "own sessions" in refused.json["detail"]
