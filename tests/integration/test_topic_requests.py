"""Topic requests on a real database: asking, one vote per member, the list by votes, answers with offers,
the anonymised demand beside each request, and what a deleted member leaves behind."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services import catalog
from services.catalog import topic_requests
from services.catalog.models import Member, TopicRequest, TopicRequestVote
from shared.bus import Outcome
from shared.events import parse_event
from shared.events.declarations import CompetenceDemand, DemandUpdated
from shared.tables import outbox
from shared.testing import WHEN, bearer, delivery, sample
from tests.integration.offer_helpers import know_framework, publish

SERVICE = catalog.SERVICE  # the service under test, for the fixtures in conftest.py
PROBLEM_JSON = "application/problem+json"
ANN, BEN, CARL = "member-ann", "member-ben", "member-carl"


def assert_problem(answer, status: int, field: str | None = None) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    if field:
        assert field in answer.json.get("errors", {}), answer.json


def handled(consumer, *events) -> None:
    assert [s.outcome for s in consumer.handle_batch([delivery(event) for event in events])] == \
        [Outcome.ACK] * len(events)


def outbox_events(runtime, routing_key: str):
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.routing_key, outbox.c.body).order_by(outbox.c.seq)).all()
    return [parse_event(row.body).data for row in rows if row.routing_key == routing_key]


def draft_offer(client, provider: str, co_provider: str | None = None) -> str:
    """A draft offer of `provider` (with `co_provider` invited to teach it too), through the offers' API."""
    shares = [{"member_id": provider, "share_percent": 60 if co_provider else 100}]
    if co_provider:
        shares.append({"member_id": co_provider, "share_percent": 40})
    answer = client.post("/api/v1/offers", headers=bearer(provider), json={
        "title": "EU funding, step by step", "summary": "Programmes and partners.", "description": "How to apply.",
        "format": "online", "competences": ["INT-1"], "level": 3, "languages": ["en"], "price_cents": 9_900,
        "providers": shares})
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def registered(runtime, member_id: str) -> None:
    """A member row for `member_id` (whose token the tests make themselves), as co-providers must be members."""
    with runtime.session_factory.begin() as db:
        db.add(Member(id=member_id, email=f"{member_id}@cluster.example", display_name=member_id, password_hash="",
                      roles=["member"], created_at=datetime.now(UTC), languages=[], preferred_language="en",
                      preferred_formats=[], time_zone="Europe/Berlin"))


def published_offer(client, provider: str, co_provider: str | None = None) -> str:
    offer_id = draft_offer(client, provider, co_provider)
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    scheduled = client.post(f"/api/v1/offers/{offer_id}/sessions", headers=bearer(provider), json={
        "starts_at": starts_at.isoformat(), "ends_at": (starts_at + timedelta(hours=3)).isoformat(),
        "seats": {"online": 20}})
    assert scheduled.status_code == 201, scheduled.json
    if co_provider:
        accepted = client.post(f"/api/v1/offers/{offer_id}/providers/me/acceptance", headers=bearer(co_provider))
        assert accepted.status_code == 200, accepted.json
    publish(client, bearer(provider), offer_id)
    return offer_id


@pytest.fixture(autouse=True)
def known_framework(runtime):
    know_framework(runtime)


def ask(client, asker: str = ANN, **overrides):
    body = {"title": "EU funding for cluster projects", "description": "Which programmes fit, how to apply.",
            "competences": ["INT-1", "GOV-3"], "preferred_formats": ["online"], "region": "DE-BW",
            **overrides}
    return client.post("/api/v1/topic-requests", json=body, headers=bearer(asker))


@pytest.fixture
def request_id(client) -> str:
    answer = ask(client)
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


# --- asking -----------------------------------------------------------------------------------------------
def test_asking_counts_as_the_askers_vote(client):
    answer = ask(client)

    assert answer.status_code == 201, answer.json
    assert (answer.json["votes"], answer.json["voted"], answer.json["answers"]) == (1, True, [])
    assert answer.json["competences"] == ["INT-1", "GOV-3"]


@pytest.mark.parametrize("field, value", [
    ("competences", ["NOT.IN.FRAMEWORK"]), ("competences", []), ("competences", ["INT-1", "INT-1"]),
    ("region", "DE-XX"), ("preferred_formats", ["webinar"]), ("title", "  "), ("votes", 1000),
    ("member_id", BEN),
])
def test_bad_requests_are_a_422_naming_the_field(client, field, value):
    assert_problem(ask(client, **{field: value}), 422, field)


def test_asking_needs_a_token(client):
    assert_problem(client.post("/api/v1/topic-requests", json={"title": "x"}), 401)


# --- votes ------------------------------------------------------------------------------------------------
def test_each_member_votes_once_and_may_take_it_back(client, request_id):
    votes = f"/api/v1/topic-requests/{request_id}/votes"

    first = client.post(votes, headers=bearer(BEN))
    again = client.post(votes, headers=bearer(BEN))

    assert (first.status_code, first.json["votes"], first.json["voted"]) == (201, 2, True)
    assert (again.status_code, again.json["votes"]) == (200, 2)
    assert client.delete(votes, headers=bearer(BEN)).status_code == 204
    assert client.delete(votes, headers=bearer(BEN)).status_code == 204
    seen_by_ben = client.get(f"/api/v1/topic-requests/{request_id}", headers=bearer(BEN)).json
    assert (seen_by_ben["votes"], seen_by_ben["voted"]) == (1, False)


def test_votes_for_a_request_that_does_not_exist_are_a_404(client):
    assert_problem(client.post("/api/v1/topic-requests/nope/votes", headers=bearer(BEN)), 404)
    assert_problem(client.delete("/api/v1/topic-requests/nope/votes", headers=bearer(BEN)), 404)
    assert_problem(client.get("/api/v1/topic-requests/nope"), 404)


def test_voting_needs_a_token(client, request_id):
    assert_problem(client.post(f"/api/v1/topic-requests/{request_id}/votes"), 401)
    assert_problem(client.delete(f"/api/v1/topic-requests/{request_id}/votes"), 401)


def test_the_list_shows_the_most_wanted_first_and_pages(client):
    ids = [ask(client, title=f"Topic number {n}").json["id"] for n in range(3)]
    for voter in (BEN, CARL):
        client.post(f"/api/v1/topic-requests/{ids[1]}/votes", headers=bearer(voter))
    client.post(f"/api/v1/topic-requests/{ids[0]}/votes", headers=bearer(BEN))

    first_page = client.get("/api/v1/topic-requests?per_page=2", headers=bearer(CARL)).json
    second_page = client.get("/api/v1/topic-requests?per_page=2&page=2").json

    assert [(item["id"], item["votes"], item["voted"]) for item in first_page["items"]] == [
        (ids[1], 3, True), (ids[0], 2, False)]
    assert [(item["id"], item["voted"]) for item in second_page["items"]] == [(ids[2], False)]
    assert first_page["total"] == second_page["total"] == 3


def test_the_list_filters_by_region(client):
    ask(client, region="DE-BY")
    wanted = ask(client, region="AT").json["id"]

    assert [item["id"] for item in client.get("/api/v1/topic-requests?region=AT").json["items"]] == [wanted]
    assert_problem(client.get("/api/v1/topic-requests?region=Bavaria"), 422, "region")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from([ANN, BEN, CARL, "member-dora"]), st.booleans()), max_size=12))
def test_the_vote_count_is_the_number_of_members_voting(runtime, steps):
    with runtime.session_factory.begin() as db:
        request_id = topic_requests.ask(db, ANN, {"title": "t", "description": "d", "competences": ["INT-1"],
                                                  "preferred_formats": [], "region": None}).id
    voters = {ANN}
    for member_id, votes in steps:
        with runtime.session_factory.begin() as db:
            if votes:
                topic_requests.vote(db, request_id, member_id)
                voters.add(member_id)
            else:
                topic_requests.take_back_vote(db, request_id, member_id)
                voters.discard(member_id)
    with runtime.session_factory() as db:
        stored = set(db.scalars(select(TopicRequestVote.member_id)
                                .where(TopicRequestVote.topic_request_id == request_id)))
        assert (db.get(TopicRequest, request_id).votes, stored) == (len(voters), voters)


def test_simultaneous_votes_are_each_counted_once(runtime_on_each_database):
    runtime = runtime_on_each_database
    with runtime.session_factory.begin() as db:
        request_id = topic_requests.ask(db, ANN, {"title": "t", "description": "d", "competences": [],
                                                  "preferred_formats": [], "region": None}).id
    voters = [f"member-{n}" for n in range(8)] * 2  # everyone votes twice, at the same time
    start_together = threading.Barrier(len(voters))

    def vote(member_id: str) -> None:
        start_together.wait()
        with runtime.session_factory.begin() as db:
            topic_requests.vote(db, request_id, member_id)

    with ThreadPoolExecutor(max_workers=len(voters)) as pool:
        list(pool.map(vote, voters))
    with runtime.session_factory() as db:
        rows = db.scalar(select(func.count()).select_from(TopicRequestVote)
                         .where(TopicRequestVote.topic_request_id == request_id))
        assert (db.get(TopicRequest, request_id).votes, rows) == (9, 9)


# --- answers ----------------------------------------------------------------------------------------------
def test_an_answer_tells_everyone_who_asked_or_voted_once(client, runtime, request_id):
    for voter in (CARL, BEN):
        client.post(f"/api/v1/topic-requests/{request_id}/votes", headers=bearer(voter))
    offer_id = published_offer(client, BEN)
    answers = f"/api/v1/topic-requests/{request_id}/answers"

    first = client.post(answers, json={"offer_id": offer_id}, headers=bearer(BEN))
    again = client.post(answers, json={"offer_id": offer_id}, headers=bearer(BEN))

    assert first.status_code == 201, first.json
    assert again.status_code == 200
    assert [(a["offer_id"], a["offer_title"]) for a in first.json["answers"]] == [
        (offer_id, "EU funding, step by step")]
    [told] = outbox_events(runtime, "topic_request.answered")
    # The provider who answers is not told of their own answer.
    assert (told.offer_id, told.member_ids, told.title) == (offer_id, [ANN, CARL], "EU funding for cluster projects")


@pytest.mark.parametrize("whose", ["someone else's published offer", "one's own draft"])
def test_only_ones_own_published_offer_answers(client, runtime, request_id, whose):
    offer_id = published_offer(client, CARL) if whose.startswith("someone") else draft_offer(client, BEN)

    answer = client.post(f"/api/v1/topic-requests/{request_id}/answers", json={"offer_id": offer_id},
                         headers=bearer(BEN))

    assert_problem(answer, 422, "offer_id")
    assert outbox_events(runtime, "topic_request.answered") == []


def test_answers_to_unknown_requests_and_without_tokens_are_refused(client, runtime, request_id):
    offer_id = published_offer(client, BEN)

    assert_problem(client.post("/api/v1/topic-requests/nope/answers", json={"offer_id": offer_id},
                               headers=bearer(BEN)), 404)
    assert_problem(client.post(f"/api/v1/topic-requests/{request_id}/answers", json={"offer_id": offer_id}), 401)
    assert_problem(client.post(f"/api/v1/topic-requests/{request_id}/answers", json={"offer": offer_id},
                               headers=bearer(BEN)), 422, "offer")


def test_a_co_provider_answers_with_the_offer_they_co_teach(client, runtime, request_id):
    registered(runtime, BEN)
    offer_id = published_offer(client, CARL, co_provider=BEN)

    answer = client.post(f"/api/v1/topic-requests/{request_id}/answers", json={"offer_id": offer_id},
                         headers=bearer(BEN))

    assert answer.status_code == 201, answer.json
    [told] = outbox_events(runtime, "topic_request.answered")
    assert told.member_ids == [ANN]


# --- demand -----------------------------------------------------------------------------------------------
def cell(code: str, members: int) -> CompetenceDemand:
    return CompetenceDemand(competence=code, area=code.split("-")[0], members=members, gap_sum=2 * members,
                            importance_sum=4 * members, members_with_gap=members - 1)


def test_the_latest_demand_is_shown_beside_each_request(client, consumer, request_id):
    assert client.get(f"/api/v1/topic-requests/{request_id}").json["demand"] == []
    handled(consumer,
            sample(DemandUpdated, quarter="2026-Q2", updated_at=WHEN + timedelta(days=1),
                   competences=[cell("GOV-3", 7), cell("STR-1", 30)]),
            sample(DemandUpdated, quarter="2026-Q2", updated_at=WHEN, competences=[cell("INT-1", 99)]),
            sample(DemandUpdated, quarter="2026-Q1", updated_at=WHEN + timedelta(days=9),
                   competences=[cell("INT-1", 99)]))

    shown = client.get(f"/api/v1/topic-requests/{request_id}").json

    assert shown["demand_quarter"] == "2026-Q2"
    assert shown["demand"] == [{"competence": "GOV-3", "area": "GOV", "members": 7, "members_with_gap": 6,
                                "gap_sum": 14, "importance_sum": 28}]


# --- deleted members --------------------------------------------------------------------------------------
def test_a_deleted_members_votes_go_and_their_requests_stay_unsigned(runtime, client, request_id):
    client.post(f"/api/v1/topic-requests/{request_id}/votes", headers=bearer(BEN))

    with runtime.session_factory.begin() as db:
        topic_requests.forget_member(db, ANN)

    with runtime.session_factory() as db:
        request = db.get(TopicRequest, request_id)
        voters = db.scalars(select(TopicRequestVote.member_id)).all()
    assert (request.member_id, request.votes, voters) == (None, 1, [BEN])
