"""Accounts on a real database: one account per visual address, a password policy, and sessions that can end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.catalog import SERVICE, commands
from services.catalog.models import RefreshToken
from shared.testing import make_runtime
from tests.integration.member_helpers import confirmation_token
from tests.integration.member_helpers import register as confirmed_registration

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a meadow of quiet lanterns"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def runtime(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime):
    return SERVICE.create_app(runtime).test_client()


def register(client, email: str, password: str = PASSWORD, display_name: str = "Ann Muster"):
    return confirmed_registration(client, email, password, display_name)


def sign_in(client, email: str = "ann@cluster.example", password: str = PASSWORD):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def refresh(client, refresh_token: str):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def assert_problem(answer, status: int, field: str | None = None) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    if field:
        assert field in answer.json.get("errors", {}), answer.json


def age_rotations(runtime, by: timedelta) -> None:
    """Move every rotation into the past, as if the client came back that much later."""
    with runtime.session_factory.begin() as db:
        for token in db.scalars(select(RefreshToken).where(RefreshToken.rotated_at.is_not(None))):
            token.rotated_at -= by


@pytest.fixture
def ann(client) -> dict:
    assert register(client, "ann@cluster.example").status_code == 200
    answer = sign_in(client)
    assert answer.status_code == 200, answer.json
    return answer.json


# --- addresses and passwords ------------------------------------------------------------------------------
def test_full_width_letters_are_the_same_address(client):
    assert register(client, "ann@cluster.example").status_code == 200

    again = client.post("/api/v1/members", json={"email": "ａｎｎ@ｃｌｕｓｔｅｒ.example", "password": PASSWORD,
                                                 "display_name": "Mallory"})
    assert again.status_code == 202 and confirmation_token(client, "ann@cluster.example") is None
    assert sign_in(client, "ＡＮＮ@cluster.example").status_code == 200


@pytest.mark.parametrize("look_alike", ["\u0430nn@cluster.example", "ann@cl\u0443ster.example"])
def test_addresses_mixing_scripts_cannot_register(client, look_alike):
    assert register(client, "ann@cluster.example").status_code == 200

    assert_problem(register(client, look_alike, display_name="Mallory"), 422, "email")


def test_an_international_domain_is_stored_as_the_dns_knows_it(client):
    answer = register(client, "Jörg@Bücher.Example")

    assert answer.status_code == 200
    assert answer.json["email"] == "jörg@xn--bcher-kva.example"
    assert sign_in(client, "jörg@bücher.example").status_code == 200


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "password1234", "short pass", "Ann.Muster@Cluster.example"])
def test_weak_passwords_are_refused_by_field(client, weak):
    assert_problem(register(client, "ann.muster@cluster.example", password=weak), 422, "password")


# --- tokens -----------------------------------------------------------------------------------------------
def test_signing_in_gives_a_short_lived_access_token_and_a_refresh_token(client, ann):
    assert ann["token_type"] == "Bearer"
    assert ann["expires_in"] == 15 * 60
    assert len(ann["refresh_token"]) >= 43
    assert client.get("/api/v1/members/me", headers=bearer(ann)).status_code == 200


def test_a_refresh_token_is_exchanged_once_for_a_new_pair(client, runtime, ann):
    renewed = refresh(client, ann["refresh_token"])

    assert renewed.status_code == 200, renewed.json
    assert renewed.json["refresh_token"] != ann["refresh_token"]
    assert client.get("/api/v1/members/me", headers=bearer(renewed.json)).status_code == 200
    assert refresh(client, renewed.json["refresh_token"]).status_code == 200


def test_reusing_a_rotated_token_revokes_the_whole_family(client, runtime, ann):
    renewed = refresh(client, ann["refresh_token"])
    age_rotations(runtime, timedelta(minutes=1))

    replayed = refresh(client, ann["refresh_token"])

    assert_problem(replayed, 401)
    assert "revoked" in replayed.json["detail"]
    assert_problem(refresh(client, renewed.json["refresh_token"]), 401)


def test_a_retry_right_after_a_rotation_gets_a_new_pair_and_the_lost_one_dies(client, ann):
    lost = refresh(client, ann["refresh_token"])  # the client never saw this answer

    retried = refresh(client, ann["refresh_token"])

    assert retried.status_code == 200, retried.json
    assert retried.json["refresh_token"] != lost.json["refresh_token"]
    # Whoever holds the lost one (a thief who raced the client) gives the family away by using it.
    assert_problem(refresh(client, lost.json["refresh_token"]), 401)
    assert_problem(refresh(client, retried.json["refresh_token"]), 401)


def test_an_unknown_or_expired_refresh_token_is_refused(client, runtime, ann):
    assert_problem(refresh(client, "x" * 43), 401)
    with runtime.session_factory.begin() as db:
        db.execute(update(RefreshToken).values(expires_at=RefreshToken.created_at))
    assert_problem(refresh(client, ann["refresh_token"]), 401)


def test_a_session_lasts_at_most_the_refresh_lifetime_from_sign_in(client, runtime, ann):
    renewed = refresh(client, ann["refresh_token"])
    assert refresh(client, renewed.json["refresh_token"]).status_code == 200

    with runtime.session_factory.begin() as db:
        expiries = set(db.scalars(select(RefreshToken.expires_at)))
    assert len(expiries) == 1, "a rotation must not extend the session"


def test_logout_ends_its_session_only(client, ann):
    other_device = sign_in(client).json

    assert client.post("/api/v1/auth/logout", json={"refresh_token": ann["refresh_token"]}).status_code == 204

    assert_problem(refresh(client, ann["refresh_token"]), 401)
    assert refresh(client, other_device["refresh_token"]).status_code == 200
    # Logging out twice, or with a token nobody issued, says nothing about either.
    assert client.post("/api/v1/auth/logout", json={"refresh_token": ann["refresh_token"]}).status_code == 204
    assert client.post("/api/v1/auth/logout", json={"refresh_token": "y" * 43}).status_code == 204


def test_token_bodies_are_strict(client):
    assert_problem(client.post("/api/v1/auth/refresh", json={}), 422, "refresh_token")
    assert_problem(client.post("/api/v1/auth/logout", json={"refresh_token": "x", "all": True}), 422, "all")


# --- password change and role change ----------------------------------------------------------------------
def change_password(client, headers, old: str, new: str):
    return client.post("/api/v1/members/me/password", json={"old_password": old, "new_password": new},
                       headers=headers)


def test_a_password_change_needs_the_old_password_and_a_good_new_one(client, ann):
    headers = bearer(ann)

    assert_problem(change_password(client, headers, "not my password", NEW_PASSWORD), 422, "old_password")
    assert_problem(change_password(client, headers, PASSWORD, "password1234"), 422, "new_password")
    assert_problem(client.post("/api/v1/members/me/password", json={"old_password": PASSWORD,
                                                                    "new_password": NEW_PASSWORD}), 401)
    assert sign_in(client).status_code == 200


def test_a_password_change_ends_every_session_and_hands_this_client_a_new_one(client, ann):
    other_device = sign_in(client).json
    headers = bearer(ann)

    changed = change_password(client, headers, PASSWORD, NEW_PASSWORD)

    assert changed.status_code == 200, changed.json
    assert_problem(refresh(client, ann["refresh_token"]), 401)
    assert_problem(refresh(client, other_device["refresh_token"]), 401)
    assert refresh(client, changed.json["refresh_token"]).status_code == 200
    assert_problem(sign_in(client), 401)
    assert sign_in(client, password=NEW_PASSWORD).status_code == 200


def test_a_role_change_ends_every_session_and_new_tokens_carry_the_role(client, runtime, ann):
    with runtime.session_factory.begin() as db:
        commands.grant_role(db, "ann@cluster.example", "reviewer")

    assert_problem(refresh(client, ann["refresh_token"]), 401)
    again = sign_in(client)
    assert client.get("/api/v1/members/me", headers=bearer(again.json)).json["roles"] == ["member", "reviewer"]


def test_a_refresh_answers_the_roles_the_member_has_now(client, runtime, ann):
    member_id = client.get("/api/v1/members/me", headers=bearer(ann)).json["id"]
    with runtime.session_factory.begin() as db:
        commands.member_by_id(db, member_id).roles = ["member", "partner"]

    renewed = refresh(client, ann["refresh_token"])

    assert client.get("/api/v1/members/me", headers=bearer(renewed.json)).json["roles"] == ["member", "partner"]


def test_the_token_endpoints_are_documented_with_their_refusals(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/members"):
        assert "429" in paths[path]["post"]["responses"], path
    assert "204" in paths["/api/v1/auth/logout"]["post"]["responses"]
    assert "200" in paths["/api/v1/members/me/password"]["post"]["responses"]
