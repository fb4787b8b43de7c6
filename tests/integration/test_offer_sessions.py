"""Sessions that change: moved, given seats, cancelled by their provider, and what booking is told of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.catalog import SERVICE
from shared.events import parse_event
from shared.tables import outbox
from shared.testing import bearer
from tests.integration.offer_helpers import know_framework, publish

PROVIDER_ID = "provider-of-sessions"
PROVIDER = bearer(PROVIDER_ID)
OTHER = bearer("someone-else")
PROBLEM_JSON = "application/problem+json"
LINK = "https://meet.example/room-7"


@pytest.fixture
def client(runtime_on_each_database):
    know_framework(runtime_on_each_database)
    return SERVICE.create_app(runtime_on_each_database).test_client()


@pytest.fixture
def runtime(runtime_on_each_database):
    return runtime_on_each_database


def in_days(days: int, hour: int = 9) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def offer_with_session(client, offer_format: str = "hybrid") -> tuple[str, dict]:
    offer = client.post("/api/v1/offers", headers=PROVIDER, json={
        "title": "Cluster strategy in practice", "description": "How clusters set and keep a strategy.",
        "format": offer_format, "competences": ["STR-1"], "level": 2, "languages": ["de"], "price_cents": 9_900})
    assert offer.status_code == 201, offer.json
    seats = {"online": 10, "in_person": 5} if offer_format == "hybrid" else {"online": 10}
    session = client.post(f"/api/v1/offers/{offer.json['id']}/sessions", headers=PROVIDER, json={
        "starts_at": in_days(30).isoformat(), "ends_at": in_days(30, 12).isoformat(), "seats": seats,
        "link": LINK, **({"location": "Stuttgart"} if offer_format == "hybrid" else {})})
    assert session.status_code == 201, session.json
    return offer.json["id"], session.json


def events(runtime, *routing_keys: str):
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.routing_key, outbox.c.body).order_by(outbox.c.seq)).all()
    return [parse_event(row.body) for row in rows if row.routing_key in routing_keys]


def assert_problem(answer, status: int, field: str | None = None) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    if field:
        assert field in answer.json.get("errors", {}), answer.json


def test_a_published_session_moved_is_rescheduled_and_new_seats_are_announced_again(client, runtime):
    offer_id, session = offer_with_session(client)
    publish(client, PROVIDER, offer_id)
    [announced] = events(runtime, "session.scheduled")

    moved = client.patch(f"/api/v1/sessions/{session['id']}", headers=PROVIDER, json={
        "starts_at": in_days(40).isoformat(), "ends_at": in_days(40, 13).isoformat(), "location": "Ulm"})
    grown = client.patch(f"/api/v1/sessions/{session['id']}", headers=PROVIDER, json={"seats": {"online": 25}})

    assert moved.status_code == grown.status_code == 200, (moved.json, grown.json)
    assert grown.json["seats"] == {"online": 25, "in_person": 5}
    [rescheduled] = events(runtime, "session.rescheduled")
    assert (rescheduled.data.starts_at, rescheduled.data.ends_at) == (in_days(40), in_days(40, 13))
    assert (rescheduled.data.location, rescheduled.data.link) == ("Ulm", LINK)
    assert rescheduled.data.offer_id == offer_id
    first, again = events(runtime, "session.scheduled")
    assert first.id == announced.id
    assert (again.subject, again.data.seats, again.data.starts_at) == (
        session["id"], {"online": 25, "in_person": 5}, in_days(40))


def test_a_change_that_changes_nothing_tells_nobody(client, runtime):
    offer_id, session = offer_with_session(client)
    publish(client, PROVIDER, offer_id)

    same = client.patch(f"/api/v1/sessions/{session['id']}", headers=PROVIDER,
                        json={"seats": {"online": 10}, "link": LINK})

    assert same.status_code == 200
    assert events(runtime, "session.rescheduled") == []
    assert len(events(runtime, "session.scheduled")) == 1


def test_a_draft_session_changes_without_an_event_and_is_announced_as_it_is_at_publication(client, runtime):
    offer_id, session = offer_with_session(client)

    client.patch(f"/api/v1/sessions/{session['id']}", headers=PROVIDER, json={"seats": {"online": 12}})
    assert events(runtime, "session.scheduled", "session.rescheduled") == []
    publish(client, PROVIDER, offer_id)

    [announced] = events(runtime, "session.scheduled")
    assert announced.data.seats == {"online": 12, "in_person": 5}


def test_the_meeting_link_is_shown_to_the_provider_who_set_it_and_never_publicly(client):
    offer_id, session = offer_with_session(client)
    publish(client, PROVIDER, offer_id)

    assert session["link"] == LINK
    for headers in ({}, OTHER, PROVIDER):
        shown = client.get(f"/api/v1/sessions/{session['id']}", headers=headers).json
        offer = client.get(f"/api/v1/offers/{offer_id}", headers=headers).json
        assert "link" not in shown and "link" not in offer["sessions"][0]
        assert LINK not in client.get(f"/api/v1/offers/{offer_id}", headers=headers).get_data(as_text=True)


@pytest.mark.parametrize(("change", "field"), [
    ({"ends_at": in_days(29).isoformat()}, "ends_at"),
    ({"starts_at": in_days(-1).isoformat()}, "starts_at"),
    ({"seats": {"online": -1}}, "seats"),
    ({"seats": {"online": 0, "in_person": 0}}, "seats"),
    ({"seats": {"seats": 3}}, "seats"),
    ({"offer_id": "someone-elses"}, "offer_id"),
    ({"cancelled_at": "2030-01-01T00:00:00+00:00"}, "cancelled_at"),
    ({"location": None}, "location"),
])
def test_a_change_that_breaks_a_rule_is_refused_by_field(client, runtime, change, field):
    offer_id, session = offer_with_session(client)
    publish(client, PROVIDER, offer_id)

    assert_problem(client.patch(f"/api/v1/sessions/{session['id']}", headers=PROVIDER, json=change), 422, field)
    assert events(runtime, "session.rescheduled") == []


def test_a_cancelled_session_is_announced_once_and_changes_no_more(client, runtime):
    offer_id, session = offer_with_session(client)
    publish(client, PROVIDER, offer_id)

    cancelled = client.post(f"/api/v1/sessions/{session['id']}/cancel", headers=PROVIDER,
                            json={"reason": "The trainer is ill."})
    again = client.post(f"/api/v1/sessions/{session['id']}/cancel", headers=PROVIDER, json={"reason": "Still ill."})
    moved = client.patch(f"/api/v1/sessions/{session['id']}", headers=PROVIDER, json={"seats": {"online": 30}})

    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["cancellation_reason"] == "The trainer is ill."
    assert_problem(again, 409)
    assert_problem(moved, 409)
    [event] = events(runtime, "session.cancelled")
    assert (event.subject, event.data.offer_id, event.data.reason) == (session["id"], offer_id, "The trainer is ill.")
    assert client.get(f"/api/v1/sessions/{session['id']}").json["cancelled_at"] is not None


def test_a_session_cancelled_before_publication_is_never_announced(client, runtime):
    offer_id, session = offer_with_session(client)
    client.post(f"/api/v1/offers/{offer_id}/sessions", headers=PROVIDER, json={
        "starts_at": in_days(60).isoformat(), "ends_at": in_days(60, 12).isoformat(), "seats": {"online": 8},
        "link": LINK})

    client.post(f"/api/v1/sessions/{session['id']}/cancel", headers=PROVIDER, json={"reason": "Moved to spring."})
    publish(client, PROVIDER, offer_id)

    assert events(runtime, "session.cancelled") == []
    assert [event.data.starts_at for event in events(runtime, "session.scheduled")] == [in_days(60)]


def test_a_cancellation_needs_a_reason(client):
    _, session = offer_with_session(client)

    assert_problem(client.post(f"/api/v1/sessions/{session['id']}/cancel", headers=PROVIDER, json={}), 422, "reason")
    assert_problem(client.post(f"/api/v1/sessions/{session['id']}/cancel", headers=PROVIDER,
                               json={"reason": " "}), 422, "reason")


def test_scheduling_again_with_the_same_key_answers_the_first_session(client):
    offer_id, _ = offer_with_session(client)
    body = {"starts_at": in_days(45).isoformat(), "ends_at": in_days(45, 12).isoformat(), "seats": {"online": 4}}
    keyed = {**PROVIDER, "Idempotency-Key": "schedule-45"}

    first = client.post(f"/api/v1/offers/{offer_id}/sessions", headers=keyed, json=body)
    again = client.post(f"/api/v1/offers/{offer_id}/sessions", headers=keyed, json=body)
    other = client.post(f"/api/v1/offers/{offer_id}/sessions", headers=keyed, json={**body, "seats": {"online": 5}})

    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert_problem(other, 422)
    assert len(client.get(f"/api/v1/offers/{offer_id}", headers=PROVIDER).json["sessions"]) == 2
