"""Ratings on a real database: only attendees rate, once, editable for 30 days, one public answer by the
provider, averages per offer and provider, and what a deleted member leaves behind."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services import catalog
from services.catalog import ratings
from services.catalog.models import Rating, SessionAttendee
from shared.bus import Outcome
from shared.errors import Conflict
from shared.events.declarations import AttendanceRecorded, Attendee
from shared.testing import WHEN, bearer, delivery, sample
from tests.integration.offer_helpers import know_framework
from tests.integration.test_topic_requests import published_offer, registered

SERVICE = catalog.SERVICE  # the service under test, for the fixtures in conftest.py
PROBLEM_JSON = "application/problem+json"
PROVIDER, ANN, BEN, CARL = "provider-1", "member-ann", "member-ben", "member-carl"


def assert_problem(answer, status: int, field: str | None = None) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    if field:
        assert field in answer.json.get("errors", {}), answer.json


def attended(*member_ids: str, session_id: str = "session-1", offer_id: str = "offer-1",
             recorded_at: datetime = WHEN) -> AttendanceRecorded:
    return sample(AttendanceRecorded, session_id=session_id, offer_id=offer_id, provider_id=PROVIDER,
                  recorded_at=recorded_at,
                  attendees=[Attendee(booking_id=f"booking-{member_id}", member_id=member_id,
                                      certificate_id=f"certificate-{member_id}") for member_id in member_ids])


def handled(consumer, *events) -> None:
    assert [s.outcome for s in consumer.handle_batch([delivery(event) for event in events])] == \
        [Outcome.ACK] * len(events)


def rate(client, member_id: str, session_id: str = "session-1", **body):
    return client.post(f"/api/v1/sessions/{session_id}/ratings", json={"stars": 4, "comment": "Useful.", **body},
                       headers=bearer(member_id))


@pytest.fixture
def attendance(consumer):
    handled(consumer, attended(ANN, BEN))


# --- who may rate -----------------------------------------------------------------------------------------
def test_an_attendee_rates_a_session_once(client, attendance):
    first = rate(client, ANN, stars=5, comment="Excellent, hands-on.")

    assert first.status_code == 201, first.json
    assert (first.json["stars"], first.json["comment"], first.json["offer_id"]) == (5, "Excellent, hands-on.",
                                                                                   "offer-1")
    assert "member_id" not in first.json
    assert_problem(rate(client, ANN, stars=1), 409)
    assert client.get(f"/api/v1/ratings/{first.json['id']}").json["stars"] == 5


def test_only_its_author_finds_a_rating_by_its_session(client, attendance):
    mine = "/api/v1/sessions/session-1/ratings/mine"
    assert_problem(client.get(mine, headers=bearer(ANN)), 404)
    given = rate(client, ANN, stars=3).json

    assert client.get(mine, headers=bearer(ANN)).json == given
    assert_problem(client.get(mine, headers=bearer(BEN)), 404)
    assert_problem(client.get(mine), 401)


@pytest.mark.parametrize("who, session_id", [(CARL, "session-1"), (ANN, "session-unknown")])
def test_whoever_did_not_attend_cannot_rate(client, attendance, who, session_id):
    assert_problem(rate(client, who, session_id), 403)


def test_rating_needs_a_token(client, attendance):
    assert_problem(client.post("/api/v1/sessions/session-1/ratings", json={"stars": 4}), 401)


@pytest.mark.parametrize("body, field", [({"stars": 0}, "stars"), ({"stars": 6}, "stars"), ({"stars": "5"}, "stars"),
                                         ({"stars": 4.5}, "stars"), ({"comment": "x"}, "stars"),
                                         ({"stars": 4, "comment": "x" * 2001}, "comment"),
                                         ({"stars": 4, "member_id": BEN}, "member_id")])
def test_bad_ratings_are_a_422_naming_the_field(client, attendance, body, field):
    answer = client.post("/api/v1/sessions/session-1/ratings", json=body, headers=bearer(ANN))

    assert_problem(answer, 422, field)


def test_a_corrected_attendance_list_decides_and_an_older_one_changes_nothing(client, consumer, attendance):
    handled(consumer, attended(CARL, recorded_at=WHEN + timedelta(hours=1)), attended(ANN, BEN))

    assert rate(client, CARL).status_code == 201
    assert_problem(rate(client, ANN), 403)


def test_simultaneous_ratings_of_one_attendee_count_once(runtime_on_each_database):
    runtime = runtime_on_each_database
    with runtime.session_factory.begin() as db:
        ratings.keep_attendance(db, attended(ANN))
    start_together = threading.Barrier(6)

    def try_rating(_):
        start_together.wait()
        try:
            with runtime.session_factory.begin() as db:
                ratings.rate(db, "session-1", ANN, 4, "")
            return "rated"
        except Conflict:
            return "refused"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = sorted(pool.map(try_rating, range(6)))
    with runtime.session_factory() as db:
        assert db.scalar(select(func.count()).select_from(Rating)) == 1
    assert outcomes == ["rated"] + ["refused"] * 5


# --- editing ----------------------------------------------------------------------------------------------
def test_the_author_edits_within_30_days(client, runtime, attendance):
    rating = rate(client, ANN, stars=2).json

    edited = client.patch(f"/api/v1/ratings/{rating['id']}", json={"stars": 3}, headers=bearer(ANN))

    assert edited.status_code == 200, edited.json
    assert (edited.json["stars"], edited.json["comment"]) == (3, "Useful.")
    with runtime.session_factory.begin() as db:
        given = db.get(Rating, rating["id"])
        given.created_at -= timedelta(days=30, minutes=1)
    assert_problem(client.patch(f"/api/v1/ratings/{rating['id']}", json={"stars": 5}, headers=bearer(ANN)), 409)


def test_nobody_else_edits_a_rating(client, attendance):
    rating = rate(client, ANN).json

    assert_problem(client.patch(f"/api/v1/ratings/{rating['id']}", json={"stars": 1}, headers=bearer(BEN)), 404)
    assert_problem(client.patch(f"/api/v1/ratings/{rating['id']}", json={"stars": 1}), 401)
    assert_problem(client.patch("/api/v1/ratings/nope", json={"stars": 1}, headers=bearer(ANN)), 404)
    assert_problem(client.patch(f"/api/v1/ratings/{rating['id']}", json={"offer_id": "x"}, headers=bearer(ANN)),
                   422, "offer_id")


@pytest.mark.parametrize("age, editable", [(timedelta(days=30), True), (timedelta(days=30, seconds=1), False)])
def test_the_edit_window_is_30_days(age, editable):
    now = datetime(2026, 5, 1, tzinfo=UTC)
    if editable:
        ratings.check_editable(now - age, now)
    else:
        with pytest.raises(Conflict):
            ratings.check_editable(now - age, now)


# --- answers ----------------------------------------------------------------------------------------------
def test_the_provider_answers_once_and_only_the_provider(client, attendance):
    rating = rate(client, ANN).json
    answer_url = f"/api/v1/ratings/{rating['id']}/answer"

    assert_problem(client.post(answer_url, json={"text": "Thanks!"}, headers=bearer(BEN)), 403)
    first = client.post(answer_url, json={"text": "Thank you, see you in part two."}, headers=bearer(PROVIDER))
    assert first.status_code == 201, first.json
    assert_problem(client.post(answer_url, json={"text": "Once more"}, headers=bearer(PROVIDER)), 409)
    assert_problem(client.post(answer_url, json={"text": " "}, headers=bearer(PROVIDER)), 422, "text")
    assert_problem(client.post("/api/v1/ratings/nope/answer", json={"text": "Hi"}, headers=bearer(PROVIDER)), 404)
    shown = client.get(f"/api/v1/ratings/{rating['id']}").json
    assert (shown["answer"], shown["answered_at"] is not None) == ("Thank you, see you in part two.", True)


def test_every_provider_of_the_offer_may_answer(client, runtime, consumer):
    know_framework(runtime)
    registered(runtime, "co-provider")
    offer_id = published_offer(client, PROVIDER, co_provider="co-provider")
    handled(consumer, attended(ANN, BEN, offer_id=offer_id))
    first, second = rate(client, ANN, stars=5).json, rate(client, BEN, stars=2).json

    assert client.post(f"/api/v1/ratings/{first['id']}/answer", json={"text": "Thanks!"},
                       headers=bearer("co-provider")).status_code == 201
    assert client.post(f"/api/v1/ratings/{second['id']}/answer", json={"text": "Sorry to hear."},
                       headers=bearer(PROVIDER)).status_code == 201
    # Co-taught offers count for each of their providers.
    assert client.get("/api/v1/providers/co-provider/ratings").json == {"count": 2, "average": 3.5}


# --- averages ---------------------------------------------------------------------------------------------
def test_offers_and_providers_show_count_and_average(client, consumer, attendance):
    handled(consumer, attended(CARL, session_id="session-2"))
    rate(client, ANN, stars=5)
    rate(client, BEN, stars=4)
    rate(client, CARL, "session-2", stars=4)

    offer = client.get("/api/v1/offers/offer-1/ratings?per_page=2").json
    provider = client.get(f"/api/v1/providers/{PROVIDER}/ratings").json

    assert (offer["count"], offer["average"], offer["total"], len(offer["items"])) == (3, 4.33, 3, 2)
    assert provider == {"count": 3, "average": 4.33}
    assert client.get("/api/v1/offers/unrated/ratings").json["count"] == 0
    assert client.get("/api/v1/providers/nobody/ratings").json == {"count": 0, "average": None}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=12))
def test_the_average_is_the_mean_of_the_stars(runtime, stars):
    with runtime.session_factory.begin() as db:
        db.execute(Rating.__table__.delete())
        members = [f"member-{n}" for n in range(len(stars))]
        ratings.keep_attendance(db, attended(*members, recorded_at=datetime.now(UTC)))
        for member_id, given_stars in zip(members, stars, strict=True):
            ratings.rate(db, "session-1", member_id, given_stars, "")
    with runtime.session_factory() as db:
        summary = ratings.offer_summaries(db, ["offer-1"])["offer-1"]
    assert summary.count == len(stars)
    assert abs(summary.average - sum(stars) / len(stars)) <= 0.005


# --- deleted members --------------------------------------------------------------------------------------
def test_a_deleted_members_stars_count_without_their_comment(client, runtime, attendance):
    rating = rate(client, ANN, stars=2, comment="Too fast for me, Ann from Ulm").json

    with runtime.session_factory.begin() as db:
        ratings.forget_member(db, ANN)

    shown = client.get(f"/api/v1/ratings/{rating['id']}").json
    assert (shown["stars"], shown["comment"]) == (2, "")
    with runtime.session_factory() as db:
        assert db.scalars(select(SessionAttendee.member_id)).all() == [BEN]
        assert db.get(Rating, rating["id"]).member_id is None
