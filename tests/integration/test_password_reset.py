"""A forgotten password reset by mail: the same answer for every address, a token used once within the hour,
every session ended, and the lock from failed sign-ins lifted."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.catalog import SERVICE
from services.catalog.models import PasswordReset
from shared.tables import outbox
from tests.integration.member_helpers import forged
from tests.integration.test_accounts import PASSWORD, assert_problem, refresh, register, sign_in

NEW_PASSWORD = "a meadow of quiet lanterns"
ANN = "ann@cluster.example"


@pytest.fixture
def runtime(runtime_on_each_database):
    return runtime_on_each_database


@pytest.fixture
def client(runtime):
    return SERVICE.create_app(runtime).test_client()


def mailed_tokens(runtime) -> list[dict]:
    """The password_reset.requested events in the outbox: what notify would mail."""
    with runtime.session_factory() as db:
        bodies = db.scalars(select(outbox.c.body).where(outbox.c.routing_key == "password_reset.requested")).all()
    return [json.loads(body)["data"] for body in bodies]


def ask(client, email: str = ANN):
    return client.post("/api/v1/auth/password-reset", json={"email": email})


def confirm(client, token: str, new_password: str = NEW_PASSWORD):
    return client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password})


def test_asking_answers_alike_for_any_address_and_mails_only_a_member(runtime, client):
    assert register(client, ANN).status_code == 200

    known, unknown = ask(client, " ANN@Cluster.example "), ask(client, "nobody@cluster.example")

    assert (known.status_code, known.json) == (unknown.status_code, unknown.json)
    assert known.status_code == 202 and "link" in known.json["detail"]
    [mailed] = mailed_tokens(runtime)
    with runtime.session_factory() as db:
        [kept] = db.scalars(select(PasswordReset)).all()
    assert kept.digest != mailed["reset_token"], "only a digest is kept"
    assert kept.expires_at - kept.created_at == timedelta(hours=1)


def test_the_token_sets_a_new_password_once_and_ends_every_session(runtime, client):
    register(client, ANN)
    session = sign_in(client).json
    ask(client)
    ask(client)
    first, second = (mail["reset_token"] for mail in mailed_tokens(runtime))

    assert confirm(client, second).status_code == 204

    assert sign_in(client).status_code == 401, "the old password is gone"
    assert sign_in(client, password=NEW_PASSWORD).status_code == 200
    assert refresh(client, session["refresh_token"]).status_code == 401, "earlier sessions ended"
    assert_problem(confirm(client, second, "another quiet lantern meadow"), 422, "token")
    assert_problem(confirm(client, first, "another quiet lantern meadow"), 422, "token")


def test_a_token_is_refused_when_expired_forged_or_with_a_weak_password(runtime, client):
    register(client, ANN)
    ask(client)
    [mail] = mailed_tokens(runtime)

    assert_problem(confirm(client, mail["reset_token"], "password1234"), 422, "new_password")
    assert_problem(confirm(client, forged(mail["reset_token"])), 422, "token")
    with runtime.session_factory.begin() as db:
        db.execute(update(PasswordReset).values(expires_at=PasswordReset.created_at))
    assert_problem(confirm(client, mail["reset_token"]), 422, "token")
    assert sign_in(client, password=PASSWORD).status_code == 200, "nothing changed"


def test_a_reset_lifts_the_lock_that_guessing_put_on_the_address(runtime, client):
    register(client, ANN)
    for _ in range(5):
        sign_in(client, password="wrong guess of a password")
    assert sign_in(client).status_code == 429
    ask(client)
    [mail] = mailed_tokens(runtime)

    assert confirm(client, mail["reset_token"]).status_code == 204

    assert sign_in(client, password=NEW_PASSWORD).status_code == 200


def test_a_deleted_member_gets_no_link(runtime, client):
    register(client, ANN)
    tokens = sign_in(client).json
    deleted = client.delete("/api/v1/members/me", json={"password": PASSWORD},
                            headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert deleted.status_code == 204

    assert ask(client).status_code == 202
    assert mailed_tokens(runtime) == []
