"""Booking's HTTP API on a real database: booking a seat, one's own bookings, and Idempotency-Key under races."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services import booking
from services.booking.models import Booking
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.errors import Conflict
from shared.events.declarations import SessionScheduled
from shared.idempotency import claim_key
from shared.tables import outbox
from shared.testing import bearer, delivery, sample

SERVICE = booking.SERVICE  # the service under test, for the fixtures in conftest.py

MEMBER_ID = "member-1"
BOOKINGS = "/api/v1/bookings"


def new_id() -> str:
    return str(uuid.uuid4())


def schedule_session(consumer, seats: dict[str, int] | None = None, starts_in: timedelta = timedelta(days=14)) -> str:
    """Open a session for booking the way production does: through catalog's session.scheduled event."""
    session_id = new_id()
    starts_at = datetime.now(UTC) + starts_in
    scheduled = delivery(sample(SessionScheduled, session_id=session_id, offer_id=new_id(), starts_at=starts_at,
                                ends_at=starts_at + timedelta(hours=3), seats=seats or {"online": 5}))
    assert [settlement.outcome for settlement in consumer.handle_batch([scheduled])] == [Outcome.ACK]
    return session_id


def book(client, session_id: str, member_id: str = MEMBER_ID, format: str = "online", key: str | None = None):
    headers = bearer(member_id)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(BOOKINGS, json={"session_id": session_id, "format": format}, headers=headers)


def count_rows(runtime, query) -> int:
    with runtime.session_factory() as db:
        return db.scalar(select(func.count()).select_from(query.subquery()))


# --- booking and reading ------------------------------------------------------------------------------------

def test_a_free_seat_is_confirmed(client, consumer):
    session_id = schedule_session(consumer, {"online": 2})

    response = book(client, session_id)

    assert response.status_code == 201
    assert response.json["status"] == "confirmed"
    assert (response.json["session_id"], response.json["member_id"]) == (session_id, MEMBER_ID)


def test_members_list_only_their_own_bookings(client, consumer):
    mine = [book(client, schedule_session(consumer)).json["id"] for _ in range(3)]
    book(client, schedule_session(consumer), member_id="member-2")

    page_one = client.get(f"{BOOKINGS}?per_page=2", headers=bearer(MEMBER_ID))
    page_two = client.get(f"{BOOKINGS}?per_page=2&page=2", headers=bearer(MEMBER_ID))

    assert page_one.status_code == page_two.status_code == 200
    assert page_one.json["total"] == 3
    listed = [item["id"] for item in page_one.json["items"] + page_two.json["items"]]
    assert sorted(listed) == sorted(mine)


def test_another_members_booking_is_missing_to_members_and_visible_to_operators(client, consumer):
    theirs = book(client, schedule_session(consumer), member_id="member-2").json
    path = f"{BOOKINGS}/{theirs['id']}"

    foreign = client.get(path, headers=bearer(MEMBER_ID))
    assert foreign.status_code == 404
    assert foreign.mimetype == "application/problem+json"
    assert client.get(path, headers=bearer("member-2")).json == theirs
    assert client.get(path, headers=bearer("operator-1", "operator")).json == theirs
    assert client.get(path, headers=bearer("partner-1", "partner")).status_code == 404
    assert client.get(f"{BOOKINGS}/{new_id()}", headers=bearer(MEMBER_ID)).status_code == 404


def test_an_unknown_session_is_a_404(client):
    response = book(client, new_id())

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_a_format_without_seats_is_a_422_naming_the_format(client, consumer):
    session_id = schedule_session(consumer, {"online": 3})

    response = book(client, session_id, format="in_person")

    assert response.status_code == 422
    assert "format" in response.json["errors"]


def test_a_second_booking_of_the_same_session_is_a_409(client, consumer):
    session_id = schedule_session(consumer)
    assert book(client, session_id).status_code == 201

    again = book(client, session_id)

    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"


@pytest.mark.parametrize("starts_in", [timedelta(0), -timedelta(minutes=5)])
def test_a_session_that_has_started_cannot_be_booked(runtime, client, consumer, starts_in):
    session_id = schedule_session(consumer, starts_in=starts_in)

    response = book(client, session_id)

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"] == "this session has already started"
    assert count_rows(runtime, select(Booking)) == 0


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101", "page=0"])
def test_paging_out_of_bounds_is_a_422(client, query):
    response = client.get(f"{BOOKINGS}?{query}", headers=bearer(MEMBER_ID))

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


# --- Idempotency-Key ----------------------------------------------------------------------------------------

def test_a_replayed_key_gets_the_identical_answer_and_books_nothing_new(runtime, client, consumer):
    session_id = schedule_session(consumer)
    first = book(client, session_id, key="retry-1")

    again = book(client, session_id, key="retry-1")

    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert count_rows(runtime, select(Booking)) == 1
    assert count_rows(runtime, select(outbox)) == 1, "the replay announced nothing"


def test_a_key_reused_for_another_body_is_a_422_naming_the_header(runtime, client, consumer):
    first_session, other_session = schedule_session(consumer), schedule_session(consumer)
    assert book(client, first_session, key="retry-1").status_code == 201

    reused = book(client, other_session, key="retry-1")

    assert reused.status_code == 422
    assert reused.mimetype == "application/problem+json"
    assert "Idempotency-Key" in reused.json["errors"]
    assert count_rows(runtime, select(Booking)) == 1


def test_keys_belong_to_their_member(client, consumer):
    session_id = schedule_session(consumer)
    mine = book(client, session_id, key="retry-1")

    theirs = book(client, session_id, member_id="member-2", key="retry-1")

    assert mine.status_code == theirs.status_code == 201
    assert theirs.json["id"] != mine.json["id"]


def test_a_claimed_key_whose_answer_was_never_saved_is_not_replayed(runtime):
    # Only a transaction that committed without saving its answer leaves a claim behind; a retry must hear
    # that the key is in use rather than get an empty answer replayed.
    with runtime.session_factory.begin() as db:
        assert claim_key(db, MEMBER_ID, "retry-1", "fingerprint") is None

    with pytest.raises(Conflict), runtime.session_factory.begin() as db:
        claim_key(db, MEMBER_ID, "retry-1", "fingerprint")


def post_at_once(runtime, bodies: list[dict], key: str) -> list:
    """POST every body with the same key from its own thread, all released together so the requests overlap."""
    app = SERVICE.create_app(runtime)
    start_together = threading.Barrier(len(bodies))

    def post(body: dict):
        client = app.test_client()
        start_together.wait()
        return client.post(BOOKINGS, json=body, headers={**bearer(MEMBER_ID), "Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


@pytest.mark.parametrize("requests", [2, 8])
def test_simultaneous_retries_with_one_key_book_once_and_all_get_that_booking(runtime_on_each_database, requests):
    runtime = runtime_on_each_database
    consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime.session_factory)
    body = {"session_id": schedule_session(consumer), "format": "online"}

    responses = post_at_once(runtime, [body] * requests, key="retry-1")

    assert [response.status_code for response in responses] == [201] * requests, [r.json for r in responses]
    assert len({response.json["id"] for response in responses}) == 1
    assert len({response.get_data() for response in responses}) == 1, "every retry got the first answer"
    assert count_rows(runtime, select(Booking)) == 1


@pytest.mark.parametrize("requests", [2, 8])
def test_simultaneous_requests_reusing_one_key_for_other_bodies_book_once(runtime_on_each_database, requests):
    runtime = runtime_on_each_database
    consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime.session_factory)
    bodies = [{"session_id": schedule_session(consumer), "format": "online"} for _ in range(requests)]

    responses = post_at_once(runtime, bodies, key="retry-1")

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [422] * (requests - 1), [r.json for r in responses]
    assert count_rows(runtime, select(Booking)) == 1


# --- hostile paths --------------------------------------------------------------------------------------------

def test_a_booking_id_with_a_nul_byte_is_a_404(runtime_on_each_database):
    client = SERVICE.create_app(runtime_on_each_database).test_client()

    response = client.get(f"{BOOKINGS}/abc%00def", headers=bearer(MEMBER_ID))

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_the_idempotency_key_is_documented_on_the_post(client):
    spec = client.get("/api/v1/openapi.json").json
    parameters = spec["paths"]["/api/v1/bookings"]["post"]["parameters"]
    assert [(p["in"], p["name"], p["required"]) for p in parameters] == [("header", "Idempotency-Key", False)]
