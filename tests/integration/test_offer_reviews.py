"""Offers through peer review, co-teaching and withdrawal on a real database: who may do what, what is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from services.catalog import SERVICE
from services.catalog.domain import TRANSITIONS, OfferAction, OfferStatus
from shared.events import parse_event
from shared.tables import outbox
from shared.testing import bearer
from tests.integration.member_helpers import register
from tests.integration.offer_helpers import APPROVAL, REVIEWER, approve, know_framework, publish

PASSWORD = "correct horse battery"
PROBLEM_JSON = "application/problem+json"
CHANGES = {"decision": "request_changes", "comment": "Say which programmes, and for whom.",
           "checklist": {"competences_justified": False, "level_plausible": True, "format_and_dates_complete": True}}


@pytest.fixture
def client(runtime):
    know_framework(runtime)
    return SERVICE.create_app(runtime).test_client()


def member(client, name: str) -> tuple[str, dict[str, str]]:
    """A registered member: (id, headers of their token)."""
    email = f"{name}@cluster.example"
    registered = register(client, email, PASSWORD, name)
    assert registered.status_code == 200, registered.json
    token = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}).json["access_token"]
    return registered.json["id"], {"Authorization": f"Bearer {token}"}


@pytest.fixture
def ann(client):
    return member(client, "ann")


@pytest.fixture
def ben(client):
    return member(client, "ben")


def offer_body(**overrides) -> dict:
    return {"title": "Funding international cluster cooperation", "summary": "EU programmes for clusters.",
            "description": "Which programmes pay for what.", "format": "online", "competences": ["GOV-3", "INT-1"],
            "level": 3, "languages": ["en", "de"], "price_cents": 14_900, **overrides}


def session_body(days_ahead: int = 30, **overrides) -> dict:
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days_ahead)
    return {"starts_at": starts_at.isoformat(), "ends_at": (starts_at + timedelta(hours=3)).isoformat(),
            "seats": {"online": 20}, "link": "https://meet.example/room-7", **overrides}


def draft(client, headers, **overrides) -> str:
    """A draft with one upcoming session, ready to submit; its id."""
    created = client.post("/api/v1/offers", json=offer_body(**overrides), headers=headers)
    assert created.status_code == 201, created.json
    scheduled = client.post(f"/api/v1/offers/{created.json['id']}/sessions", json=session_body(), headers=headers)
    assert scheduled.status_code == 201, scheduled.json
    return created.json["id"]


def submit(client, headers, offer_id: str):
    return client.post(f"/api/v1/offers/{offer_id}/submit", headers=headers)


def events(runtime, routing_key: str):
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.body).where(outbox.c.routing_key == routing_key)
                                  .order_by(outbox.c.seq)).all()
    return [parse_event(row.body) for row in rows]


def assert_problem(answer, status: int, field: str | None = None) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    if field:
        assert field in answer.json.get("errors", {}), answer.json


# --- reviews ----------------------------------------------------------------------------------------------
def test_changes_requested_send_the_offer_back_and_the_edited_offer_goes_to_review_again(client, runtime, ann):
    ann_id, ann_headers = ann
    offer_id = draft(client, ann_headers)
    assert submit(client, ann_headers, offer_id).json["status"] == "in_review"

    sent_back = client.post(f"/api/v1/offers/{offer_id}/reviews", json=CHANGES, headers=REVIEWER)
    assert sent_back.status_code == 201, sent_back.json
    assert client.get(f"/api/v1/offers/{offer_id}", headers=ann_headers).json["status"] == "changes_requested"
    edited = client.patch(f"/api/v1/offers/{offer_id}", json={"description": "Horizon Europe and Interreg."},
                          headers=ann_headers)
    assert edited.json["status"] == "changes_requested"
    assert submit(client, ann_headers, offer_id).json["status"] == "in_review"
    approve(client, offer_id)

    assert client.get(f"/api/v1/offers/{offer_id}").json["status"] == "published"
    reviewed = events(runtime, "offer.reviewed")
    assert [(event.data.decision, event.data.comment) for event in reviewed] == [
        ("request_changes", CHANGES["comment"]), ("approve", APPROVAL["comment"])]
    assert reviewed[0].data.provider_ids == [ann_id]
    history = client.get(f"/api/v1/offers/{offer_id}/history", headers=ann_headers).json["items"]
    assert [(entry["action"], entry["status"]) for entry in history] == [
        ("create", "draft"), ("schedule_session", "draft"), ("submit", "in_review"),
        ("request_changes", "changes_requested"), ("update", "changes_requested"), ("submit", "in_review"),
        ("approve", "published")]
    assert history[3]["actor_id"] == "reviewer-of-tests" and history[3]["detail"] == CHANGES["comment"]


def test_a_member_lists_their_own_offers_in_every_status_and_nobody_elses(client, ann, ben):
    first = draft(client, ann[1], title="First draft")
    in_review = draft(client, ann[1], title="In review")
    assert submit(client, ann[1], in_review).status_code == 200
    draft(client, ben[1], title="Ben's")

    mine = client.get("/api/v1/members/me/offers", headers=ann[1])

    assert mine.status_code == 200, mine.json
    assert [(offer["id"], offer["status"]) for offer in mine.json["items"]] == \
        [(in_review, "in_review"), (first, "draft")], "the last changed first"
    assert mine.json["total"] == 2
    assert client.get("/api/v1/members/me/offers").status_code == 401


def test_the_queue_shows_offers_in_review_oldest_first_and_never_the_reviewers_own(client, ann, ben):
    ann_id, ann_headers = ann
    ben_id, ben_headers = ben
    first, second = draft(client, ann_headers), draft(client, ben_headers, title="Second offer in review")
    never_submitted = draft(client, ann_headers, title="Still a draft")
    submit(client, ann_headers, first)
    submit(client, ben_headers, second)

    queue = client.get("/api/v1/reviews", headers=REVIEWER).json
    ben_as_reviewer = client.get("/api/v1/reviews", headers=bearer(ben_id, "member", "reviewer")).json

    assert [offer["id"] for offer in queue["items"]] == [first, second]
    assert queue["total"] == 2 and never_submitted not in [offer["id"] for offer in queue["items"]]
    assert [offer["id"] for offer in ben_as_reviewer["items"]] == [first]
    assert_problem(client.get("/api/v1/reviews", headers=ann_headers), 403)
    assert_problem(client.get("/api/v1/reviews"), 401)


def test_nobody_reviews_their_own_offer_and_members_without_the_role_review_nothing(client, runtime, ann, ben):
    ann_id, ann_headers = ann
    _, ben_headers = ben
    offer_id = draft(client, ann_headers)
    submit(client, ann_headers, offer_id)

    own = client.post(f"/api/v1/offers/{offer_id}/reviews", json=APPROVAL,
                      headers=bearer(ann_id, "member", "reviewer"))
    unentitled = client.post(f"/api/v1/offers/{offer_id}/reviews", json=APPROVAL, headers=ben_headers)

    assert_problem(own, 403)
    assert_problem(unentitled, 403)
    assert client.get(f"/api/v1/offers/{offer_id}", headers=ann_headers).json["status"] == "in_review"
    assert events(runtime, "offer.reviewed") == []


@pytest.mark.parametrize(("review", "field"), [
    ({**APPROVAL, "checklist": {**APPROVAL["checklist"], "level_plausible": False}}, "checklist"),
    ({**CHANGES, "comment": "  "}, "comment"),
    ({**APPROVAL, "decision": "reject"}, "decision"),
    ({**APPROVAL, "checklist": {"competences_justified": True}}, "checklist"),
    ({**APPROVAL, "reviewer_id": "someone-else"}, "reviewer_id"),
    ({**APPROVAL, "status": "published"}, "status"),
])
def test_a_review_that_breaks_a_rule_is_refused_by_field(client, ann, review, field):
    _, ann_headers = ann
    offer_id = draft(client, ann_headers)
    submit(client, ann_headers, offer_id)

    assert_problem(client.post(f"/api/v1/offers/{offer_id}/reviews", json=review, headers=REVIEWER), 422, field)
    assert client.get(f"/api/v1/offers/{offer_id}", headers=ann_headers).json["status"] == "in_review"


def test_a_step_the_life_cycle_does_not_allow_is_a_409_naming_the_ones_it_does(client, ann):
    _, ann_headers = ann
    offer_id = draft(client, ann_headers)

    early_review = client.post(f"/api/v1/offers/{offer_id}/reviews", json=APPROVAL, headers=REVIEWER)
    early_withdrawal = client.post(f"/api/v1/offers/{offer_id}/withdraw", headers=ann_headers)
    submit(client, ann_headers, offer_id)
    edit_in_review = client.patch(f"/api/v1/offers/{offer_id}", json={"title": "Changed"}, headers=ann_headers)

    for refused in (early_review, early_withdrawal):
        assert_problem(refused, 409, "allowed_actions")
        assert refused.json["errors"]["allowed_actions"] == ["submit"]
    assert_problem(edit_in_review, 409, "allowed_actions")
    assert edit_in_review.json["errors"]["allowed_actions"] == ["approve", "request_changes"]


def test_an_offer_in_review_is_seen_by_its_providers_and_reviewers_only(client, ann, ben):
    _, ann_headers = ann
    _, ben_headers = ben
    offer_id = draft(client, ann_headers)
    submit(client, ann_headers, offer_id)

    assert client.get(f"/api/v1/offers/{offer_id}", headers=REVIEWER).status_code == 200
    assert client.get(f"/api/v1/offers/{offer_id}/history", headers=REVIEWER).status_code == 200
    assert_problem(client.get(f"/api/v1/offers/{offer_id}", headers=ben_headers), 404)
    assert_problem(client.get(f"/api/v1/offers/{offer_id}"), 404)
    assert_problem(client.get(f"/api/v1/offers/{offer_id}/history", headers=ben_headers), 404)
    assert client.get("/api/v1/offers").json["total"] == 0


def test_the_history_of_a_published_offer_is_still_only_for_its_providers_and_reviewers(client, ann, ben):
    _, ann_headers = ann
    _, ben_headers = ben
    offer_id = draft(client, ann_headers)
    publish(client, ann_headers, offer_id)

    assert client.get(f"/api/v1/offers/{offer_id}", headers=ben_headers).status_code == 200
    assert_problem(client.get(f"/api/v1/offers/{offer_id}/history", headers=ben_headers), 404)


# --- co-teaching ------------------------------------------------------------------------------------------
def test_a_co_provider_is_invited_and_accepts_before_the_offer_can_be_submitted(client, runtime, ann, ben):
    ann_id, ann_headers = ann
    ben_id, ben_headers = ben
    assert client.patch("/api/v1/members/me", json={"region": "DE-BW"}, headers=ann_headers).status_code == 200
    providers = [{"member_id": ann_id, "share_percent": 60}, {"member_id": ben_id, "share_percent": 40}]
    offer_id = draft(client, ann_headers, providers=providers)

    [invited] = events(runtime, "coprovider.invited")
    assert (invited.data.member_id, invited.data.invited_by, invited.data.share_percent) == (ben_id, ann_id, 40)
    waiting = submit(client, ann_headers, offer_id)
    assert_problem(waiting, 409, "providers")
    assert client.get(f"/api/v1/offers/{offer_id}", headers=ben_headers).status_code == 200
    accepted = client.post(f"/api/v1/offers/{offer_id}/providers/me/acceptance", headers=ben_headers)
    again = client.post(f"/api/v1/offers/{offer_id}/providers/me/acceptance", headers=ben_headers)
    assert accepted.status_code == again.status_code == 200
    assert [provider["accepted_at"] is not None for provider in accepted.json["providers"]] == [True, True]

    publish(client, ann_headers, offer_id)

    [published] = [event for event in events(runtime, "offer.published") if event.event_type.version == 2]
    assert [(share.member_id, share.share_percent) for share in published.data.offer.providers] == [
        (ann_id, 60), (ben_id, 40)]
    assert published.data.offer.region == "DE-BW"


def test_a_changed_share_asks_the_co_provider_again(client, runtime, ann, ben):
    ann_id, ann_headers = ann
    ben_id, ben_headers = ben
    offer_id = draft(client, ann_headers, providers=[{"member_id": ann_id, "share_percent": 60},
                                                     {"member_id": ben_id, "share_percent": 40}])
    client.post(f"/api/v1/offers/{offer_id}/providers/me/acceptance", headers=ben_headers)

    changed = client.patch(f"/api/v1/offers/{offer_id}", headers=ann_headers, json={
        "providers": [{"member_id": ann_id, "share_percent": 70}, {"member_id": ben_id, "share_percent": 30}]})

    assert [provider["accepted_at"] is None for provider in changed.json["providers"]] == [False, True]
    assert [event.data.share_percent for event in events(runtime, "coprovider.invited")] == [40, 30]
    assert_problem(submit(client, ann_headers, offer_id), 409, "providers")


@pytest.mark.parametrize("shares", [
    lambda ann, ben: [{"member_id": ann, "share_percent": 60}, {"member_id": ben, "share_percent": 30}],
    lambda ann, ben: [{"member_id": ben, "share_percent": 100}],
    lambda ann, ben: [{"member_id": ann, "share_percent": 50}, {"member_id": "no-such-member", "share_percent": 50}],
    lambda ann, ben: [{"member_id": ann, "share_percent": 50}, {"member_id": ann, "share_percent": 50}],
    lambda ann, ben: [{"member_id": ann, "share_percent": 100, "accepted_at": "2030-01-01T00:00:00+00:00"}],
    lambda ann, ben: [{"member_id": ann, "share_percent": 0}, {"member_id": ben, "share_percent": 100}],
])
def test_providers_whose_shares_do_not_make_up_the_whole_or_who_are_no_members_are_refused(client, ann, ben, shares):
    ann_id, ann_headers = ann
    ben_id, _ = ben

    answer = client.post("/api/v1/offers", json=offer_body(providers=shares(ann_id, ben_id)), headers=ann_headers)

    assert_problem(answer, 422, "providers")


@pytest.mark.parametrize("entries", [
    [{"share_percent": 100}],
    [{"member_id": "whoever"}],
    [{"days_before": 3}],
])
def test_a_change_names_each_provider_and_fee_tier_whole(client, ann, entries):
    # A PATCH loads partially; that must not reach the entries of these lists (once a 500).
    _, ann_headers = ann
    offer_id = draft(client, ann_headers)
    field = "fee_tiers" if "days_before" in entries[0] else "providers"
    body = {field: entries, **({"cancellation_policy": "custom"} if field == "fee_tiers" else {})}

    assert_problem(client.patch(f"/api/v1/offers/{offer_id}", json=body, headers=ann_headers), 422, field)


def test_a_co_provider_neither_changes_the_offer_nor_its_shares(client, ann, ben):
    ann_id, ann_headers = ann
    ben_id, ben_headers = ben
    offer_id = draft(client, ann_headers, providers=[{"member_id": ann_id, "share_percent": 60},
                                                     {"member_id": ben_id, "share_percent": 40}])

    grab = client.patch(f"/api/v1/offers/{offer_id}", headers=ben_headers, json={
        "providers": [{"member_id": ann_id, "share_percent": 10}, {"member_id": ben_id, "share_percent": 90}]})

    assert_problem(grab, 403)
    shares = client.get(f"/api/v1/offers/{offer_id}", headers=ann_headers).json["providers"]
    assert [provider["share_percent"] for provider in shares] == [60, 40]


# --- withdrawal -------------------------------------------------------------------------------------------
def test_a_withdrawn_offer_is_announced_and_no_longer_found(client, runtime, ann):
    _, ann_headers = ann
    offer_id = draft(client, ann_headers)
    publish(client, ann_headers, offer_id)

    withdrawn = client.post(f"/api/v1/offers/{offer_id}/withdraw", headers=ann_headers)
    again = client.post(f"/api/v1/offers/{offer_id}/withdraw", headers=ann_headers)

    assert withdrawn.json["status"] == "withdrawn"
    assert_problem(again, 409, "allowed_actions")
    assert [event.subject for event in events(runtime, "offer.withdrawn")] == [offer_id]
    assert client.get("/api/v1/offers").json["total"] == 0
    assert_problem(client.get(f"/api/v1/offers/{offer_id}"), 404)
    assert client.get(f"/api/v1/offers/{offer_id}", headers=ann_headers).json["status"] == "withdrawn"


# --- another member's token on every object route ---------------------------------------------------------
def test_another_members_token_opens_no_route_of_someone_elses_offer(client, runtime, ann, ben):
    ann_id, ann_headers = ann
    _, ben_headers = ben
    drafted = draft(client, ann_headers)
    published = draft(client, ann_headers, title="Published offer")
    publish(client, ann_headers, published)
    session_ids = {offer_id: client.get(f"/api/v1/offers/{offer_id}", headers=ann_headers).json["sessions"][0]["id"]
                   for offer_id in (drafted, published)}
    outbox_before = {key: len(events(runtime, key)) for key in (
        "offer.updated", "offer.withdrawn", "session.rescheduled", "session.cancelled", "session.scheduled")}

    for offer_id in (drafted, published):
        session_id = session_ids[offer_id]
        answers = [
            client.patch(f"/api/v1/offers/{offer_id}", json={"price_cents": 1}, headers=ben_headers),
            client.post(f"/api/v1/offers/{offer_id}/submit", headers=ben_headers),
            client.post(f"/api/v1/offers/{offer_id}/withdraw", headers=ben_headers),
            client.post(f"/api/v1/offers/{offer_id}/providers/me/acceptance", headers=ben_headers),
            client.post(f"/api/v1/offers/{offer_id}/reviews", json=APPROVAL, headers=ben_headers),
            client.get(f"/api/v1/offers/{offer_id}/history", headers=ben_headers),
            client.post(f"/api/v1/offers/{offer_id}/sessions", json=session_body(), headers=ben_headers),
            client.patch(f"/api/v1/sessions/{session_id}", json={"seats": {"online": 1}}, headers=ben_headers),
            client.post(f"/api/v1/sessions/{session_id}/cancel", json={"reason": "mine now"}, headers=ben_headers),
        ]
        if offer_id == drafted:
            answers += [client.get(f"/api/v1/offers/{offer_id}", headers=ben_headers),
                        client.get(f"/api/v1/sessions/{session_id}", headers=ben_headers)]
        for answer in answers:
            assert answer.status_code in (403, 404), (answer.request.path, answer.status_code)
            assert answer.mimetype == PROBLEM_JSON

    assert {key: len(events(runtime, key)) for key in outbox_before} == outbox_before
    mine = client.get(f"/api/v1/offers/{published}", headers=ann_headers).json
    assert (mine["status"], mine["price_cents"], mine["sessions"][0]["seats"]["online"]) == ("published", 14_900, 20)
    assert client.get(f"/api/v1/offers/{drafted}", headers=ann_headers).json["status"] == "draft"


# --- the life cycle as a state machine --------------------------------------------------------------------
def test_the_life_cycle_follows_its_table_whatever_is_tried_in_whatever_order(client, runtime, ann):
    _, provider = ann
    reviews = {OfferAction.APPROVE: APPROVAL, OfferAction.REQUEST_CHANGES: CHANGES}

    class LifeCycle(RuleBasedStateMachine):
        """Every step against a fresh offer: the API does exactly what TRANSITIONS allows, and refuses the rest."""

        def __init__(self):
            super().__init__()
            self.offer_id = draft(client, provider)
            self.status = OfferStatus.DRAFT
            self.published_before = len(events(runtime, "offer.published"))

        def attempt(self, action: OfferAction, answer) -> None:
            if action in TRANSITIONS[self.status]:
                assert answer.status_code in (200, 201), answer.json
                self.status = TRANSITIONS[self.status][action]
            else:
                assert_problem(answer, 409, "allowed_actions")
                assert answer.json["errors"]["allowed_actions"] == list(TRANSITIONS[self.status])

        @rule()
        def submit(self):
            self.attempt(OfferAction.SUBMIT, submit(client, provider, self.offer_id))

        @rule(action=st.sampled_from(list(reviews)))
        def review(self, action):
            answer = client.post(f"/api/v1/offers/{self.offer_id}/reviews", json=reviews[action], headers=REVIEWER)
            self.attempt(action, answer)

        @rule()
        def withdraw(self):
            answer = client.post(f"/api/v1/offers/{self.offer_id}/withdraw", headers=provider)
            self.attempt(OfferAction.WITHDRAW, answer)

        @rule()
        def edit(self):
            answer = client.patch(f"/api/v1/offers/{self.offer_id}", json={"price_cents": 9_900}, headers=provider)
            assert answer.status_code == (409 if self.status in (OfferStatus.IN_REVIEW, OfferStatus.WITHDRAWN) else 200)

        @invariant()
        def the_catalog_agrees_and_publishes_at_most_once(self):
            shown = client.get(f"/api/v1/offers/{self.offer_id}", headers=provider).json
            assert shown["status"] == self.status
            published = len(events(runtime, "offer.published")) - self.published_before
            assert published == (2 if self.status in (OfferStatus.PUBLISHED, OfferStatus.WITHDRAWN) else 0)
            public = client.get(f"/api/v1/offers/{self.offer_id}").status_code
            assert public == (200 if self.status is OfferStatus.PUBLISHED else 404)

    run_state_machine_as_test(LifeCycle, settings=settings(
        max_examples=25, stateful_step_count=8, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
