"""Sign-in throttling: per account in catalog's database, per client address in flask-limiter's store.

Both must hold across gunicorn workers and hosts: the account lock is shown with two app instances on one
PostgreSQL database, the address limit with two app instances sharing one Redis.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from sqlalchemy import update
from werkzeug.test import Client

from academy.embedded import GatewayDispatcher
from services.catalog import SERVICE
from services.catalog.models import LoginThrottle
from shared.testing import make_runtime
from tests.integration.member_helpers import register as confirmed_registration

PASSWORD = "correct horse battery"
EMAIL = "ann@cluster.example"
PROBLEM_JSON = "application/problem+json"
GENEROUS = {"LOGIN_RATE_LIMIT": "1000/minute", "REGISTRATION_RATE_LIMIT": "1000/minute"}
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def some_address() -> str:
    """A client address of its own per test, so that runs sharing one Redis never count each other's tries."""
    return f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"


def app_client(runtime, address: str = "127.0.0.1"):
    client = SERVICE.create_app(runtime).test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def register(client, email: str = EMAIL, password: str = PASSWORD):
    return confirmed_registration(client, email, password, "Ann")


def sign_in(client, email: str = EMAIL, password: str = PASSWORD, **kwargs):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password}, **kwargs)


def assert_too_many(answer, at_least: int, at_most: int) -> None:
    assert answer.status_code == 429, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    assert answer.json["status"] == 429
    assert at_least <= int(answer.headers["Retry-After"]) <= at_most, answer.headers["Retry-After"]


def end_locks(runtime) -> None:
    with runtime.session_factory.begin() as db:
        db.execute(update(LoginThrottle).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))


@pytest.fixture
def runtime(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, **GENEROUS)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime):
    return app_client(runtime)


# --- per account ------------------------------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client, runtime):
    register(client)
    for _ in range(5):
        assert sign_in(client, password="wrong password!").status_code == 401

    assert_too_many(sign_in(client), 55, 60)

    end_locks(runtime)
    assert sign_in(client, password="wrong password!").status_code == 401
    assert_too_many(sign_in(client), 115, 120)  # the next lock lasts twice as long
    end_locks(runtime)
    assert sign_in(client).status_code == 200
    # A success starts the count afresh.
    for _ in range(4):
        assert sign_in(client, password="wrong password!").status_code == 401
    assert sign_in(client).status_code == 200


def test_an_unknown_address_is_refused_and_locked_exactly_like_a_known_one(client):
    register(client)
    known = [sign_in(client, password="wrong password!") for _ in range(6)]
    unknown = [sign_in(client, email="nobody@cluster.example") for _ in range(6)]

    assert [a.status_code for a in known] == [a.status_code for a in unknown] == [401] * 5 + [429]
    assert [a.json["detail"] for a in known] == [a.json["detail"] for a in unknown]
    assert known[-1].headers["Retry-After"] == unknown[-1].headers["Retry-After"]


def test_wrong_old_passwords_count_towards_the_lock(client):
    register(client)
    headers = {"Authorization": f"Bearer {sign_in(client).json['access_token']}"}
    body = {"old_password": "wrong password!", "new_password": "a meadow of quiet lanterns"}
    for _ in range(5):
        assert client.post("/api/v1/members/me/password", json=body, headers=headers).status_code == 422

    assert_too_many(client.post("/api/v1/members/me/password", json={**body, "old_password": PASSWORD},
                                headers=headers), 55, 60)
    assert_too_many(sign_in(client), 55, 60)


@pytest.fixture
def two_hosts(make_postgres_database, tmp_path):
    """Two catalog instances, as on two hosts, on one PostgreSQL database."""
    url = make_postgres_database("throttle")
    runtimes = [make_runtime(SERVICE, tmp_path / name, DATABASE_URL=url, **GENEROUS) for name in ("a", "b")]
    yield runtimes
    for runtime in runtimes:
        runtime.close()


def test_the_lock_holds_across_hosts(two_hosts):
    first, second = (app_client(runtime) for runtime in two_hosts)
    assert register(first).status_code == 200
    for attempt in range(5):
        assert sign_in((first, second)[attempt % 2], password="wrong password!").status_code == 401

    assert_too_many(sign_in(first), 55, 60)
    assert_too_many(sign_in(second), 55, 60)


def at_once(two_hosts, passwords: list[str]) -> list[int]:
    """Sign in with each password at the same moment, alternating between the two hosts; the statuses, sorted."""
    apps = [SERVICE.create_app(runtime) for runtime in two_hosts]
    statuses: list[int] = []
    start = threading.Barrier(len(passwords))

    def attempt(number: int) -> None:
        client = apps[number % 2].test_client()
        start.wait()
        statuses.append(sign_in(client, password=passwords[number]).status_code)

    threads = [threading.Thread(target=attempt, args=(number,)) for number in range(len(passwords))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_simultaneous_guesses_on_two_hosts_get_exactly_five_tries(two_hosts):
    register(app_client(two_hosts[0]))

    assert at_once(two_hosts, [f"wrong password {number}" for number in range(12)]) == [401] * 5 + [429] * 7


def test_simultaneous_right_sign_ins_on_two_hosts_all_succeed(two_hosts):
    register(app_client(two_hosts[0]))

    assert at_once(two_hosts, [PASSWORD] * 8) == [200] * 8


# --- per client address -----------------------------------------------------------------------------------
def test_too_many_sign_ins_from_one_address_are_refused_with_retry_after(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, LOGIN_RATE_LIMIT="3/minute")
    try:
        client, elsewhere = app_client(runtime, "203.0.113.9"), app_client(runtime, "198.51.100.7")
        tries = [sign_in(client, email=f"user{n}@cluster.example") for n in range(4)]

        assert [answer.status_code for answer in tries[:3]] == [401] * 3
        assert_too_many(tries[3], 1, 60)
        assert "address" in tries[3].json["detail"]
        assert sign_in(elsewhere, email="user9@cluster.example").status_code == 401
    finally:
        runtime.close()


def test_registration_and_refresh_are_limited_per_address_too(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, REGISTRATION_RATE_LIMIT="2/hour", REFRESH_RATE_LIMIT="2/minute")
    try:
        client = app_client(runtime, "203.0.113.9")
        registrations = [client.post("/api/v1/members", json={"email": f"user{n}@cluster.example",
                                                              "password": PASSWORD, "display_name": "Ann"})
                         for n in range(3)]
        assert [answer.status_code for answer in registrations[:2]] == [202, 202]
        assert_too_many(registrations[2], 1, 3600)

        refreshes = [client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 43}) for _ in range(3)]
        assert [answer.status_code for answer in refreshes[:2]] == [401, 401]
        assert_too_many(refreshes[2], 1, 60)
    finally:
        runtime.close()


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(tmp_path):
    trusting = make_runtime(SERVICE, tmp_path, LOGIN_RATE_LIMIT="2/minute", TRUSTED_PROXIES="127.0.0.1")
    untrusting = make_runtime(SERVICE, tmp_path / "other", LOGIN_RATE_LIMIT="2/minute")

    def last_of_three(runtime):
        client = app_client(runtime)
        answers = [sign_in(client, email="nobody@cluster.example", headers={"X-Forwarded-For": f"6.6.6.6, {address}"})
                   for address in ("203.0.113.1", "203.0.113.1", "203.0.113.2")]
        return answers[-1]

    try:
        # Behind the proxy each client has its own count; without trust the header changes nothing.
        assert last_of_three(trusting).status_code == 401
        assert_too_many(last_of_three(untrusting), 1, 60)
    finally:
        trusting.close()
        untrusting.close()


def test_the_embedded_gateway_counts_the_real_client(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, LOGIN_RATE_LIMIT="2/minute")
    try:
        academy = Client(GatewayDispatcher({"catalog": SERVICE.create_app(runtime)}))
        tries = [sign_in(academy, email="nobody@cluster.example", environ_base={"REMOTE_ADDR": "203.0.113.5"})
                 for _ in range(3)]
        other = sign_in(academy, email="nobody@cluster.example", environ_base={"REMOTE_ADDR": "203.0.113.6"})

        assert [answer.status_code for answer in tries] == [401, 401, 429]
        assert other.status_code == 401
    finally:
        runtime.close()


@pytest.fixture
def redis_url() -> str:
    parsed = urlparse(REDIS_URL)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=2).close()
    except OSError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis at {REDIS_URL} is not reachable, and CI=true forbids skipping", pytrace=False)
        pytest.skip(f"Redis at {REDIS_URL} is not reachable")
    return REDIS_URL


def test_two_instances_sharing_redis_share_the_address_limit(redis_url, tmp_path):
    settings = {"RATE_LIMIT_STORAGE_URL": redis_url, "LOGIN_RATE_LIMIT": "3/minute"}
    runtimes = [make_runtime(SERVICE, tmp_path / name, **settings) for name in ("a", "b")]
    try:
        address = some_address()
        first, second = (app_client(runtime, address) for runtime in runtimes)
        statuses = [sign_in(client, email="nobody@cluster.example").status_code
                    for client in (first, second, first)]
        assert statuses == [401, 401, 401]

        assert_too_many(sign_in(second, email="nobody@cluster.example"), 1, 60)
        assert sign_in(first, email="nobody@cluster.example",
                       environ_base={"REMOTE_ADDR": some_address()}).status_code == 401
    finally:
        for runtime in runtimes:
            runtime.close()


def test_an_unreachable_limit_store_falls_back_to_counting_in_memory(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    runtime = make_runtime(SERVICE, tmp_path, RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{closed_port}/0",
                           LOGIN_RATE_LIMIT="2/minute")
    try:
        client = app_client(runtime)
        statuses = [sign_in(client, email="nobody@cluster.example").status_code for _ in range(3)]
        assert statuses == [401, 401, 429]
    finally:
        runtime.close()
