"""Registration with a confirmed address, on SQLite and PostgreSQL: the answer never tells whether an address has an
account, nobody signs in before opening the mailed link, each link sets the password of its own registration, and
registrations never confirmed are removed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from services.catalog import SERVICE
from services.catalog.models import EmailVerification, Member
from services.catalog.registration import VERIFICATION_LIFETIME, forget_unconfirmed
from shared.events import parse_event
from shared.tables import outbox
from tests.integration.member_helpers import confirmation_token

PASSWORD, OTHER_PASSWORD = "correct horse battery", "a different long phrase"
ANN = "ann@cluster.example"


@pytest.fixture
def runtime(runtime_on_each_database):
    return runtime_on_each_database


@pytest.fixture
def client(runtime):
    return SERVICE.create_app(runtime).test_client()


def register(client, email: str = ANN, password: str = PASSWORD, display_name: str = "Ann"):
    return client.post("/api/v1/members", json={"email": email, "password": password, "display_name": display_name})


def confirm(client, token: str | None):
    return client.post("/api/v1/members/confirmation", json={"token": token})


def sign_in(client, email: str = ANN, password: str = PASSWORD):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def outbox_events(runtime, routing_key: str) -> list:
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.routing_key, outbox.c.body).order_by(outbox.c.seq)).all()
    return [parse_event(row.body).data for row in rows if row.routing_key == routing_key]


def test_the_answer_is_the_same_for_a_new_a_pending_and_a_confirmed_address(client, runtime):
    new = register(client)
    pending = register(client)
    assert confirm(client, confirmation_token(client, ANN)).status_code == 200
    confirmed = register(client)

    assert new.status_code == pending.status_code == confirmed.status_code == 202
    assert new.json == pending.json == confirmed.json
    first, second, third = outbox_events(runtime, "registration.requested")
    assert first.verification_token and second.verification_token and third.verification_token is None
    assert len(outbox_events(runtime, "member.registered")) == 1


def test_nobody_signs_in_before_the_link_is_opened_and_the_refusal_is_a_wrong_password(client):
    register(client)
    unconfirmed = sign_in(client)
    wrong = sign_in(client, "nobody@cluster.example")

    assert unconfirmed.status_code == wrong.status_code == 401
    assert unconfirmed.json["detail"] == wrong.json["detail"]
    confirmed = confirm(client, confirmation_token(client, ANN))
    assert confirmed.status_code == 200 and confirmed.json["email"] == ANN
    assert sign_in(client).status_code == 200


def test_each_link_sets_the_password_and_name_of_its_own_registration(client, runtime):
    """Someone who registers another person's address first cannot sign in once that person confirms."""
    register(client, password=OTHER_PASSWORD, display_name="Mallory")
    squatter_link = confirmation_token(client, ANN)
    register(client, display_name="Ann Muster")
    own_link = confirmation_token(client, ANN)

    assert confirm(client, own_link).json["display_name"] == "Ann Muster"
    assert sign_in(client).status_code == 200
    assert sign_in(client, password=OTHER_PASSWORD).status_code == 401
    assert confirm(client, squatter_link).status_code == 422, "every other link stops working"
    [updated] = outbox_events(runtime, "member.updated")
    assert updated.display_name == "Ann Muster"


def test_a_link_works_once_and_within_its_day(client, runtime):
    register(client)
    token = confirmation_token(client, ANN)
    with runtime.session_factory.begin() as db:
        db.execute(update(EmailVerification).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = confirm(client, token)
    assert expired.status_code == 422 and "token" in expired.json["errors"]

    register(client)
    token = confirmation_token(client, ANN)
    assert confirm(client, token).status_code == 200
    assert confirm(client, token).status_code == 422
    assert confirm(client, "never-sent").status_code == 422


def test_only_a_digest_of_the_link_is_kept(client, runtime):
    register(client)
    with runtime.session_factory() as db:
        [kept] = db.scalars(select(EmailVerification)).all()
    assert kept.digest != confirmation_token(client, ANN)
    assert kept.expires_at - kept.created_at == VERIFICATION_LIFETIME


def test_a_password_reset_link_confirms_the_address_too(client, runtime):
    register(client)
    client.post("/api/v1/auth/password-reset", json={"email": ANN})
    [reset] = outbox_events(runtime, "password_reset.requested")
    answer = client.post("/api/v1/auth/password-reset/confirm",
                         json={"token": reset.reset_token, "new_password": OTHER_PASSWORD})
    assert answer.status_code == 204, answer.json
    assert sign_in(client, password=OTHER_PASSWORD).status_code == 200


def test_registrations_never_confirmed_are_removed_and_free_the_address(client, runtime):
    register(client)
    register(client, "ben@cluster.example")
    assert confirm(client, confirmation_token(client, "ben@cluster.example")).status_code == 200
    later = datetime.now(UTC) + VERIFICATION_LIFETIME + timedelta(minutes=1)
    with runtime.session_factory.begin() as db:  # Ann registered a day and more ago
        db.execute(update(Member).where(Member.email == ANN)
                   .values(created_at=datetime.now(UTC) - VERIFICATION_LIFETIME - timedelta(minutes=1)))

    assert forget_unconfirmed(runtime.session_factory, datetime.now(UTC)) == 0, "her link still works"
    assert forget_unconfirmed(runtime.session_factory, later) == 1
    assert forget_unconfirmed(runtime.session_factory, later) == 0
    [deleted] = outbox_events(runtime, "member.deleted")
    with runtime.session_factory() as db:
        assert db.get(Member, deleted.member_id).deleted_at is not None
        assert db.scalar(select(Member.id).where(Member.email == ANN)) is None
    register(client)
    assert confirm(client, confirmation_token(client, ANN)).status_code == 200
    assert sign_in(client, "ben@cluster.example").status_code == 200, "a confirmed member stays"


def test_two_registrations_of_one_new_address_at_once_make_one_member(runtime):
    apps = [SERVICE.create_app(runtime) for _ in range(2)]
    start = threading.Barrier(6)
    statuses = []

    def attempt(number: int) -> None:
        client = apps[number % 2].test_client()
        start.wait()
        statuses.append(register(client).status_code)

    threads = [threading.Thread(target=attempt, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [202] * 6
    assert len(outbox_events(runtime, "member.registered")) == 1
    assert len(outbox_events(runtime, "registration.requested")) == 6
