"""Account deletion in the catalog, on a real database: tokens stop working at once, personal data goes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services import catalog
from services.catalog.models import LoginThrottle, Member, RefreshToken, TopicRequest
from shared.events import parse_event
from shared.tables import outbox
from shared.testing import make_runtime
from tests.integration.member_helpers import register as confirmed_registration

SERVICE = catalog.SERVICE  # the service under test, for the fixtures in conftest.py
PASSWORD = "correct horse battery"
PROBLEM_JSON = "application/problem+json"
ANN = "ann@cluster.example"


def register(client, email: str = ANN, display_name: str = "Ann Muster"):
    return confirmed_registration(client, email, PASSWORD, display_name)


def sign_in(client, email: str = ANN):
    return client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def delete_account(client, tokens: dict, password: str = PASSWORD):
    return client.delete("/api/v1/members/me", json={"password": password}, headers=bearer(tokens))


def outbox_events(runtime, routing_key: str):
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.routing_key, outbox.c.body).order_by(outbox.c.seq)).all()
    return [parse_event(row.body) for row in rows if row.routing_key == routing_key]


def assert_problem(answer, status: int, field: str | None = None) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    if field:
        assert field in answer.json.get("errors", {}), answer.json


def signed_in(client, email: str = ANN, display_name: str = "Ann Muster") -> dict:
    assert register(client, email, display_name).status_code == 200
    answer = sign_in(client, email)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_deletion_ends_every_token_at_once(client, runtime):
    first, second = signed_in(client), sign_in(client).json
    client.patch("/api/v1/members/me", json={"region": "DE-BW"}, headers=bearer(first))

    answer = delete_account(client, first)

    assert answer.status_code == 204, answer.get_data(as_text=True)
    for tokens in (first, second):
        assert_problem(client.get("/api/v1/members/me", headers=bearer(tokens)), 401)
        # Public reads too: a deleted member's token is broken, not anonymous.
        assert_problem(client.get("/api/v1/offers", headers=bearer(tokens)), 401)
        assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401)
    assert_problem(sign_in(client), 401)
    with runtime.session_factory() as db:
        assert db.scalars(select(RefreshToken)).all() == []


def test_deletion_erases_the_personal_data_and_announces_it(client, runtime):
    tokens = signed_in(client)
    client.patch("/api/v1/members/me", headers=bearer(tokens), json={
        "organisation": "Cluster Mobility BW", "region": "DE-BW", "languages": ["de"], "time_zone": "Europe/Vienna"})

    assert delete_account(client, tokens).status_code == 204

    [deleted] = outbox_events(runtime, "member.deleted")
    with runtime.session_factory() as db:
        member = db.get(Member, deleted.subject)
        assert member.deleted_at == deleted.data.deleted_at
        stored = " ".join(str(getattr(member, column.key)) for column in Member.__table__.columns)
    for personal in ("ann", "Muster", "Cluster Mobility", "DE-BW", "Vienna", "pbkdf2", "scrypt"):
        assert personal.lower() not in stored.lower()
    assert member.roles == [] and member.languages == []


def test_the_same_address_can_register_again(client, runtime):
    old = signed_in(client)
    assert delete_account(client, old).status_code == 204

    new = signed_in(client, display_name="Ann Neu")

    me = client.get("/api/v1/members/me", headers=bearer(new)).json
    assert (me["email"], me["display_name"]) == (ANN, "Ann Neu")
    [deleted] = outbox_events(runtime, "member.deleted")
    assert me["id"] != deleted.subject


def test_a_wrong_password_deletes_nothing_and_counts_towards_the_lock(client, runtime):
    tokens = signed_in(client)

    assert_problem(delete_account(client, tokens, password="not my password at all"), 422, "password")

    assert client.get("/api/v1/members/me", headers=bearer(tokens)).status_code == 200
    assert outbox_events(runtime, "member.deleted") == []
    with runtime.session_factory() as db:
        assert db.scalar(select(LoginThrottle.failures)) == 1


def test_deletion_needs_the_password_and_nothing_else(client):
    tokens = signed_in(client)

    assert_problem(client.delete("/api/v1/members/me", json={}, headers=bearer(tokens)), 422, "password")
    assert_problem(client.delete("/api/v1/members/me", json={"password": PASSWORD, "member_id": "x"},
                                 headers=bearer(tokens)), 422, "member_id")
    assert_problem(client.delete("/api/v1/members/me", json={"password": PASSWORD}), 401)


def test_one_members_deletion_leaves_the_others_alone(client):
    ann, ben = signed_in(client), signed_in(client, "ben@cluster.example", "Ben Beispiel")

    assert delete_account(client, ann).status_code == 204

    assert client.get("/api/v1/members/me", headers=bearer(ben)).json["email"] == "ben@cluster.example"
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": ben["refresh_token"]}).status_code == 200


@pytest.fixture
def gateway(tmp_path):
    """The catalog as the distributed gateway, its upstreams at an address where nothing answers."""
    nowhere = "http://127.0.0.1:9"
    runtime = make_runtime(SERVICE, tmp_path, **{f"{name}_URL": nowhere
                                                 for name in ("BOOKING", "ASSESSMENT", "BILLING", "NOTIFY")})
    yield SERVICE.create_app(runtime).test_client()
    runtime.close()


def test_the_gateway_refuses_a_deleted_members_token_before_forwarding(gateway):
    ann, ben = signed_in(gateway), signed_in(gateway, "ben@cluster.example", "Ben Beispiel")
    assert delete_account(gateway, ann).status_code == 204

    assert_problem(gateway.get("/api/v1/bookings", headers=bearer(ann)), 401)
    # Another member's request is forwarded (and finds nobody there).
    assert_problem(gateway.get("/api/v1/bookings", headers=bearer(ben)), 503)


def test_a_deleted_members_votes_are_taken_back(client, runtime):
    tokens = signed_in(client)
    with runtime.session_factory.begin() as db:
        member_id = db.scalar(select(Member.id))
        db.add(TopicRequest(id="request-1", member_id=member_id, title="t", description="d", competences=[],
                            preferred_formats=[], votes=0, created_at=datetime.now(UTC)))
    assert client.post("/api/v1/topic-requests/request-1/votes", headers=bearer(tokens)).status_code == 201

    assert delete_account(client, tokens).status_code == 204

    with runtime.session_factory() as db:
        request = db.get(TopicRequest, "request-1")
        assert (request.member_id, request.votes) == (None, 0)
