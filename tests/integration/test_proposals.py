"""Members' proposals on SQLite and PostgreSQL: who may propose and vote, the limits and windows, the scheduled
opening and closing (once, with two workers at once), and carrying out reviewer and policy decisions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from services import catalog
from services.catalog.commands import delete_account
from services.catalog.models import Member, MemberBookingActivity, Proposal
from services.catalog.proposals import keep_booking, open_and_close_due_votes
from shared.bus import Outcome
from shared.events import parse_event
from shared.events.declarations import BookingConfirmed, ProposalSimulated, RevenuePolicyAdopted
from shared.tables import outbox
from shared.testing import bearer, delivery, make_runtime, sample
from tests.integration.sql_statements import statements_sent

SERVICE = catalog.SERVICE  # the service under test, for the fixtures in conftest.py
PROBLEM_JSON = "application/problem+json"
ANN, BEN, CARL, DORA = "member-ann", "member-ben", "member-carl", "member-dora"
POLICY = {"shares_bp": {"provider": 8000, "academy": 1200, "community_fund": 800}}


@pytest.fixture
def runtime(runtime_on_each_database):
    return runtime_on_each_database


def assert_problem(answer, status: int, field: str | None = None) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    if field:
        assert field in answer.json.get("errors", {}), answer.json


def registered(runtime, *member_ids: str, roles: tuple[str, ...] = ("member",)) -> None:
    with runtime.session_factory.begin() as db:
        for member_id in member_ids:
            db.add(Member(id=member_id, email=f"{member_id}@cluster.example", display_name=member_id,
                          password_hash="", roles=list(roles), created_at=datetime.now(UTC), languages=[],
                          preferred_language="en", preferred_formats=[], time_zone="Europe/Berlin"))


def booked(consumer, member_id: str, at: datetime | None = None) -> None:
    event = sample(BookingConfirmed, booking_id=f"booking-{member_id}", member_id=member_id,
                   confirmed_at=at or datetime.now(UTC))
    assert [s.outcome for s in consumer.handle_batch([delivery(event)])] == [Outcome.ACK]


@pytest.fixture
def members(runtime, consumer):
    """Ann, Ben and Carl booked lately; Dora is a member who never booked or offered."""
    registered(runtime, ANN, BEN, CARL, DORA)
    for member_id in (ANN, BEN, CARL):
        booked(consumer, member_id)


def propose(client, proposer: str = ANN, **overrides):
    body = {"kind": "policy", "title": "More for the community fund", "reasons": "Scholarships.",
            "policy": {**POLICY, "effective_from": (datetime.now(UTC) + timedelta(days=30)).isoformat()},
            **overrides}
    return client.post("/api/v1/proposals", json=body, headers=bearer(proposer))


def move_clock(runtime, proposal_id: str, *, opens: timedelta, closes: timedelta) -> None:
    """Set the proposal's window relative to now, as if its discussion and voting time had passed."""
    now = datetime.now(UTC)
    with runtime.session_factory.begin() as db:
        db.execute(update(Proposal).where(Proposal.id == proposal_id)
                   .values(voting_opens_at=now + opens, voting_closes_at=now + closes))


def voting(runtime, proposal_id: str) -> None:
    move_clock(runtime, proposal_id, opens=timedelta(seconds=-1), closes=timedelta(hours=1))


def closed_window(runtime, proposal_id: str) -> None:
    move_clock(runtime, proposal_id, opens=timedelta(hours=-2), closes=timedelta(seconds=-1))


def outbox_events(runtime, routing_key: str):
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.routing_key, outbox.c.body).order_by(outbox.c.seq)).all()
    return [parse_event(row.body).data for row in rows if row.routing_key == routing_key]


# --- proposing ---------------------------------------------------------------------------------------------
def test_an_eligible_member_proposes_and_discussion_comes_first(client, members):
    answer = propose(client)
    assert answer.status_code == 201, answer.json
    proposal = answer.json
    assert proposal["phase"] == "discussion" and proposal["outcome"] is None and proposal["result"] is None
    assert proposal["terms"]["shares_bp"] == POLICY["shares_bp"]
    opens = datetime.fromisoformat(proposal["voting_opens_at"])
    closes = datetime.fromisoformat(proposal["voting_closes_at"])
    assert closes - opens == timedelta(days=14)
    assert proposal["rules"] == {"quorum": "1/10", "simple_majority": "1/2", "policy_majority": "2/3"}
    listed = client.get("/api/v1/proposals").json
    assert [item["id"] for item in listed["items"]] == [proposal["id"]]


def test_a_member_without_booking_or_offer_may_not_propose(client, members):
    assert_problem(propose(client, DORA), 403)


def test_a_booking_older_than_two_years_does_not_count(client, runtime, consumer, members):
    registered(runtime, "member-old")
    booked(consumer, "member-old", datetime.now(UTC) - timedelta(days=731))
    assert_problem(propose(client, "member-old"), 403)


@pytest.mark.parametrize("shares", [
    {"provider": 8000, "academy": 1200, "community_fund": 700},
    {"provider": 8000, "academy": 2000},
])
def test_policy_shares_that_do_not_make_100_percent_are_a_422(client, members, shares):
    answer = propose(client, policy={"shares_bp": shares,
                                     "effective_from": (datetime.now(UTC) + timedelta(days=30)).isoformat()})
    assert_problem(answer, 422, "policy.shares_bp")


def test_a_policy_in_the_past_is_a_422(client, members):
    answer = propose(client, policy={**POLICY, "effective_from": "2020-01-01T00:00:00+00:00"})
    assert_problem(answer, 422, "policy.effective_from")


def test_the_kind_needs_its_terms(client, members):
    assert_problem(propose(client, kind="reviewer"), 422)
    assert_problem(propose(client, kind="motion"), 422, "policy")


def test_nobody_proposes_themselves_as_reviewer(client, members):
    answer = propose(client, kind="reviewer", policy=None, reviewer={"member_id": ANN, "action": "grant"})
    assert_problem(answer, 422)  # policy=None is refused as a field of another kind
    body = {"kind": "reviewer", "title": "Ann reviews", "reasons": "She knows.",
            "reviewer": {"member_id": ANN, "action": "grant"}}
    assert_problem(client.post("/api/v1/proposals", json=body, headers=bearer(ANN)), 422, "reviewer.member_id")
    body["reviewer"]["member_id"] = BEN
    assert client.post("/api/v1/proposals", json=body, headers=bearer(ANN)).status_code == 201


def test_at_most_three_open_proposals_per_member(client, runtime, members):
    ids = [propose(client).json["id"] for _ in range(3)]
    assert_problem(propose(client), 409)
    assert propose(client, BEN).status_code == 201  # others are not limited by Ann's
    closed_window(runtime, ids[0])
    open_and_close_due_votes(runtime.session_factory)
    assert propose(client).status_code == 201


def test_proposing_needs_a_token(client, members):
    assert_problem(client.post("/api/v1/proposals", json={}), 401)


# --- voting ------------------------------------------------------------------------------------------------
def test_votes_only_inside_the_window(client, runtime, members):
    proposal_id = propose(client).json["id"]
    assert_problem(client.put(f"/api/v1/proposals/{proposal_id}/vote", json={"choice": "yes"},
                              headers=bearer(BEN)), 409)
    voting(runtime, proposal_id)
    assert client.put(f"/api/v1/proposals/{proposal_id}/vote", json={"choice": "yes"},
                      headers=bearer(BEN)).status_code == 200
    closed_window(runtime, proposal_id)  # the job has not run yet: the window decides
    assert_problem(client.put(f"/api/v1/proposals/{proposal_id}/vote", json={"choice": "no"},
                              headers=bearer(BEN)), 409)


def test_an_ineligible_member_may_not_vote(client, runtime, members):
    proposal_id = propose(client).json["id"]
    voting(runtime, proposal_id)
    assert_problem(client.put(f"/api/v1/proposals/{proposal_id}/vote", json={"choice": "yes"},
                              headers=bearer(DORA)), 403)


def test_a_vote_changes_and_each_member_sees_only_their_own(client, runtime, members):
    proposal_id = propose(client).json["id"]
    voting(runtime, proposal_id)
    url = f"/api/v1/proposals/{proposal_id}/vote"
    assert client.put(url, json={"choice": "yes"}, headers=bearer(BEN)).json["my_vote"] == "yes"
    assert client.put(url, json={"choice": "no"}, headers=bearer(BEN)).json["my_vote"] == "no"
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=bearer(BEN)).json["my_vote"] == "no"
    seen_by_carl = client.get(f"/api/v1/proposals/{proposal_id}", headers=bearer(CARL)).json
    assert seen_by_carl["my_vote"] is None and seen_by_carl["result"] is None
    assert_problem(client.put(url, json={"choice": "maybe"}, headers=bearer(BEN)), 422, "choice")


def test_unknown_proposals_are_a_404(client, members):
    assert_problem(client.get("/api/v1/proposals/nope"), 404)
    assert_problem(client.put("/api/v1/proposals/nope/vote", json={"choice": "yes"}, headers=bearer(BEN)), 404)
    assert_problem(client.post("/api/v1/proposals/nope/comments", json={"text": "Hm."}, headers=bearer(BEN)), 404)


def test_comments_until_the_vote_closes(client, runtime, members):
    proposal_id = propose(client).json["id"]
    answer = client.post(f"/api/v1/proposals/{proposal_id}/comments", json={"text": "Why 8 %?"},
                         headers=bearer(DORA))
    assert answer.status_code == 201 and [c["text"] for c in answer.json["comments"]] == ["Why 8 %?"]
    closed_window(runtime, proposal_id)
    assert_problem(client.post(f"/api/v1/proposals/{proposal_id}/comments", json={"text": "Late."},
                               headers=bearer(DORA)), 409)


# --- the schedule ------------------------------------------------------------------------------------------
def test_the_job_announces_the_vote_and_closes_it_once_with_counts_only(client, runtime, members):
    proposal_id = propose(client).json["id"]
    voting(runtime, proposal_id)
    assert open_and_close_due_votes(runtime.session_factory) == 1
    assert [event.member_ids for event in outbox_events(runtime, "proposal.opened")] == \
        [sorted([ANN, BEN, CARL])]
    for member_id, choice in ((ANN, "yes"), (BEN, "yes"), (CARL, "no")):
        client.put(f"/api/v1/proposals/{proposal_id}/vote", json={"choice": choice}, headers=bearer(member_id))
    closed_window(runtime, proposal_id)
    assert open_and_close_due_votes(runtime.session_factory) == 1
    assert open_and_close_due_votes(runtime.session_factory) == 0
    [accepted] = outbox_events(runtime, "proposal.accepted")
    assert (accepted.yes, accepted.no, accepted.abstain, accepted.eligible) == (2, 1, 0, 3)
    assert accepted.shares_bp == POLICY["shares_bp"] and accepted.voter_ids == sorted([ANN, BEN, CARL])
    shown = client.get(f"/api/v1/proposals/{proposal_id}", headers=bearer(CARL)).json
    assert shown["phase"] == "closed" and shown["outcome"] == "accepted" and shown["my_vote"] == "no"
    assert shown["result"] == {"yes": 2, "no": 1, "abstain": 0, "eligible": 3, "quorum_reached": True}
    assert shown["carried_out_at"] is None  # until billing answers


def test_billings_answer_marks_a_policy_carried_out_once(client, runtime, consumer, members):
    proposal_id = propose(client).json["id"]
    adopted = sample(RevenuePolicyAdopted, proposal_id=proposal_id, version=2)
    for event in (adopted, sample(RevenuePolicyAdopted, proposal_id=proposal_id, version=3)):
        assert [s.outcome for s in consumer.handle_batch([delivery(event)])] == [Outcome.ACK]
    assert client.get(f"/api/v1/proposals/{proposal_id}").json["carried_out"]["policy_version"] == 2


def test_a_policy_proposal_asks_billing_for_its_what_if_and_shows_the_answer(client, runtime, consumer, members):
    answer = propose(client)
    proposal_id = answer.json["id"]
    assert answer.json["what_if"] is None  # until billing answers
    [asked] = outbox_events(runtime, "policy.proposed")
    assert (asked.proposal_id, asked.shares_bp) == (proposal_id, POLICY["shares_bp"])
    motion = {"kind": "motion", "title": "Sessions in Polish too", "reasons": "Partners in Silesia."}
    assert client.post("/api/v1/proposals", json=motion, headers=bearer(ANN)).status_code == 201
    assert len(outbox_events(runtime, "policy.proposed")) == 1  # only policies have a what-if

    now = datetime.now(UTC)
    older = sample(ProposalSimulated, proposal_id=proposal_id, simulated_at=now - timedelta(minutes=1),
                   actual_cents={"provider": 1, "academy": 1, "community_fund": 1})
    newer = sample(ProposalSimulated, proposal_id=proposal_id, simulated_at=now,
                   actual_cents={"provider": 7_000, "academy": 2_000, "community_fund": 1_000},
                   simulated_cents={"provider": 8_000, "academy": 1_200, "community_fund": 800})
    for event in (newer, older):  # the bus may deliver them in any order: the latest computation stays
        assert [s.outcome for s in consumer.handle_batch([delivery(event)])] == [Outcome.ACK]
    what_if = client.get(f"/api/v1/proposals/{proposal_id}").json["what_if"]
    assert what_if["actual"] == {"provider": 7_000, "academy": 2_000, "community_fund": 1_000}
    assert what_if["simulated"] == {"provider": 8_000, "academy": 1_200, "community_fund": 800}
    assert what_if["difference"] == {"provider": 1_000, "academy": -800, "community_fund": -200}


def test_too_few_votes_reject_and_change_nothing(client, runtime, consumer, members):
    for number in range(40):  # 43 eligible: three votes are under 10 %
        registered(runtime, f"member-{number}")
        booked(consumer, f"member-{number}")
    body = {"kind": "reviewer", "title": "Ben reviews", "reasons": "He knows.",
            "reviewer": {"member_id": BEN, "action": "grant"}}
    proposal_id = client.post("/api/v1/proposals", json=body, headers=bearer(ANN)).json["id"]
    voting(runtime, proposal_id)
    for member_id in (ANN, BEN, CARL):
        client.put(f"/api/v1/proposals/{proposal_id}/vote", json={"choice": "yes"}, headers=bearer(member_id))
    closed_window(runtime, proposal_id)
    open_and_close_due_votes(runtime.session_factory)
    [rejected] = outbox_events(runtime, "proposal.rejected")
    assert not rejected.quorum_reached and rejected.yes == 3
    with runtime.session_factory() as db:
        assert db.get(Member, BEN).roles == ["member"]


def test_an_accepted_reviewer_proposal_grants_the_role_and_ends_sessions(client, runtime, members):
    body = {"kind": "reviewer", "title": "Ben reviews", "reasons": "He knows.",
            "reviewer": {"member_id": BEN, "action": "grant"}}
    proposal_id = client.post("/api/v1/proposals", json=body, headers=bearer(ANN)).json["id"]
    voting(runtime, proposal_id)
    for member_id in (ANN, CARL):
        client.put(f"/api/v1/proposals/{proposal_id}/vote", json={"choice": "yes"}, headers=bearer(member_id))
    closed_window(runtime, proposal_id)
    open_and_close_due_votes(runtime.session_factory)
    with runtime.session_factory() as db:
        assert "reviewer" in db.get(Member, BEN).roles
    shown = client.get(f"/api/v1/proposals/{proposal_id}").json
    assert shown["outcome"] == "accepted" and shown["carried_out_at"] is not None


@pytest.mark.postgres
def test_two_workers_close_a_window_once(make_postgres_database, tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, DATABASE_URL=make_postgres_database("catalog"))
    try:
        registered(runtime, ANN, BEN)
        client = SERVICE.create_app(runtime).test_client()
        with runtime.session_factory.begin() as db:
            keep_booking(db, ANN, datetime.now(UTC))
        ids = [propose(client).json["id"] for _ in range(3)]
        for proposal_id in ids:
            closed_window(runtime, proposal_id)
        start = threading.Barrier(2)
        done: list[int] = []

        def worker() -> None:
            start.wait()
            done.append(open_and_close_due_votes(runtime.session_factory))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(outbox_events(runtime, "proposal.opened")) == 3
        assert len(outbox_events(runtime, "proposal.rejected")) == 3
        assert sum(done) == 6
    finally:
        runtime.close()


def test_a_deleted_member_leaves_no_vote_and_no_name(client, runtime, consumer, members):
    proposal_id = propose(client, BEN).json["id"]
    voting(runtime, proposal_id)
    client.post(f"/api/v1/proposals/{proposal_id}/comments", json={"text": "Yes!"}, headers=bearer(BEN))
    for member_id in (ANN, BEN):
        client.put(f"/api/v1/proposals/{proposal_id}/vote", json={"choice": "yes"}, headers=bearer(member_id))
    with runtime.session_factory.begin() as db:
        db.get(Member, BEN).password_hash = generate_password_hash("a meadow of quiet lanterns")
    with runtime.session_factory.begin() as db:
        assert delete_account(db, BEN, "a meadow of quiet lanterns", datetime.now(UTC), max_failures=5) is None
    shown = client.get(f"/api/v1/proposals/{proposal_id}").json
    assert shown["proposer_id"] is None and [c["member_id"] for c in shown["comments"]] == [None]
    closed_window(runtime, proposal_id)
    open_and_close_due_votes(runtime.session_factory)
    [accepted] = outbox_events(runtime, "proposal.accepted")
    assert (accepted.yes, accepted.eligible, accepted.voter_ids) == (1, 2, [ANN])


def last_booked(runtime) -> dict[str, datetime]:
    with runtime.session_factory() as db:
        return dict(db.execute(select(MemberBookingActivity.member_id, MemberBookingActivity.last_booked_at)).all())


def test_a_batch_keeps_each_members_latest_booking_in_one_statement(runtime, consumer):
    now = datetime.now(UTC).replace(microsecond=0)
    booked(consumer, ANN, now - timedelta(days=3))
    batch = [delivery(sample(BookingConfirmed, booking_id=f"booking-{number}", member_id=member_id,
                             confirmed_at=now - timedelta(days=days)))
             for number, (member_id, days) in enumerate([(ANN, 5), (BEN, 2), (BEN, 1), (CARL, 4), (BEN, 6)])]
    settled = []

    sent = statements_sent(runtime.engine, lambda: settled.extend(consumer.handle_batch(batch)))

    assert [settlement.outcome for settlement in settled] == [Outcome.ACK] * len(batch)
    assert len([statement for statement in sent if "member_booking_activity" in statement]) == 1
    # An older booking arriving late changes nothing, in the batch or against what was kept before.
    assert last_booked(runtime) == {ANN: now - timedelta(days=3), BEN: now - timedelta(days=1),
                                    CARL: now - timedelta(days=4)}
    booked(consumer, ANN, now)
    assert last_booked(runtime)[ANN] == now
