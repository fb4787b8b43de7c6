"""What every answer says about itself (caching, sniffing, server), who may read /metrics, and bounded labels."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client

from academy.embedded import GatewayDispatcher
from academy.registry import load_all, load_service
from shared import metrics
from shared.auth import ensure_keypair, issue_token
from shared.config import SERVICES
from shared.testing import bearer, make_runtime, signing_keypair
from tests.integration.member_helpers import register
from tests.system.processes import Process, free_port, wait_until_ready

PUBLIC_ADDRESS = {"REMOTE_ADDR": "203.0.113.7"}  # TEST-NET-3: a caller from the internet


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("edge")
    runtimes = {name: make_runtime(definition, data_dir / name) for name, definition in load_all().items()}
    yield {name: definition.create_app(runtimes[name]) for name, definition in load_all().items()}
    for runtime in runtimes.values():
        runtime.close()


@pytest.fixture(scope="module")
def academy(apps):
    return Client(GatewayDispatcher(apps))


def http_request_series() -> list[dict[str, str]]:
    payload, _content_type = metrics.render()
    return [sample.labels for family in text_string_to_metric_families(payload.decode())
            if family.name == "http_requests" for sample in family.samples]


# --- 4: metrics labels ------------------------------------------------------------------------------------
def test_invented_methods_do_not_add_series(academy):
    academy.open("/api/v1/offers", method="INVENTED")
    before = len(http_request_series())

    for n in range(100):
        academy.open("/api/v1/offers", method=f"X{n:03d}" + "M" * 200)

    series = http_request_series()
    assert len(series) == before
    assert {labels["method"] for labels in series} <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
                                                       "other"}


def test_unrouted_paths_share_one_route_label(academy):
    for n in range(20):
        academy.get(f"/nowhere/{n}")

    routes = {labels["route"] for labels in http_request_series()}
    assert not any(route.startswith("/nowhere") for route in routes)


# --- 7: headers -------------------------------------------------------------------------------------------
ANSWERS = [
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    ("GET", "/api/v1/offers"),
    ("GET", "/api/v1/offers/none"),
    ("DELETE", "/api/v1/offers"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/bookings"),
    ("GET", "/api/v1/invoices/none"),
    ("GET", "/nowhere"),
    ("GET", "/_services/billing/api/v1/openapi.json"),
]


@pytest.mark.parametrize(("method", "path"), ANSWERS)
def test_every_answer_forbids_sniffing(academy, method, path):
    assert academy.open(path, method=method).headers.get("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize(
    "path", ["/api/v1/members/me", "/api/v1/offers", "/api/v1/bookings", "/api/v1/invoices", "/api/v1/notifications",
             "/api/v1/offers/none"],
)
def test_an_answer_to_an_authenticated_request_is_not_stored(academy, path):
    answer = academy.get(path, headers=bearer("member-edge"))

    assert answer.headers.get("Cache-Control") == "no-store"


def test_token_answers_are_not_stored_even_when_refused(academy):
    refused = academy.post("/api/v1/auth/token", json={"email": "nobody@academy.example", "password": "wrong"})
    invalid_token = academy.get("/api/v1/offers/none", headers={"Authorization": "Bearer not-a-token"})

    assert refused.status_code == 401
    assert refused.headers.get("Cache-Control") == "no-store"
    assert invalid_token.headers.get("Cache-Control") == "no-store"



def test_the_gateways_503_says_when_to_retry(tmp_path):
    runtime = make_runtime(load_service("catalog"), tmp_path, BOOKING_URL=f"http://127.0.0.1:{free_port()}")
    try:
        client = load_service("catalog").create_app(runtime).test_client()
        unreachable, unconfigured = client.get("/api/v1/bookings/b-1"), client.get("/api/v1/invoices/i-1")
    finally:
        runtime.close()

    for answer in (unreachable, unconfigured):
        assert answer.status_code == 503
        assert int(answer.headers["Retry-After"]) > 0


# --- 7: who may read /metrics -----------------------------------------------------------------------------
@pytest.mark.parametrize("service", SERVICES)
def test_metrics_are_not_for_callers_from_elsewhere(apps, service):
    client = apps[service].test_client()

    assert client.get("/metrics", environ_base=PUBLIC_ADDRESS).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics").status_code == 200  # from 127.0.0.1


@pytest.mark.parametrize("path", ["/metrics", "/_services/booking/metrics", "/_services/catalog/metrics"])
def test_embedded_metrics_only_from_loopback(academy, path):
    assert academy.get(path, environ_base=PUBLIC_ADDRESS).status_code == 404
    assert academy.get(path, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


@pytest.fixture(scope="module")
def gunicorn_notify(tmp_path_factory):
    """`academy serve notify` with a metrics listener: (HTTP port, metrics port)."""
    home = tmp_path_factory.mktemp("gunicorn")
    _, public_key = ensure_keypair(home / "keys")
    port, metrics_port = free_port(), free_port()
    (home / "tmp").mkdir()
    env = {
        **{key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"},
        "TMPDIR": str(home / "tmp"),  # where serve keeps its metrics folder, which SIGKILL leaves behind
        "DATABASE_URL": f"sqlite:///{home / 'notify.sqlite3'}",
        "AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",  # never connected to: nothing here needs the broker
        "JWT_PUBLIC_KEY_FILE": str(public_key),
        "WEB_CONCURRENCY": "1",
        "METRICS_PORT": str(metrics_port),
    }
    process = Process("notify", ["serve", "notify", "--port", str(port)], env, home).start()
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health/live", process)
        yield port, metrics_port
    finally:
        process.kill()


def test_gunicorn_serves_metrics_only_on_its_metrics_port(gunicorn_notify):
    port, metrics_port = gunicorn_notify

    public = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    internal = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)

    assert public.status_code == 404
    assert internal.status_code == 200
    assert "http_requests_total" in internal.text


def test_gunicorn_names_no_version(gunicorn_notify):
    port, _ = gunicorn_notify

    server = requests.get(f"http://127.0.0.1:{port}/health/live", timeout=5).headers["Server"]

    assert not re.search(r"\d", server), server


# --- 8: an invalid token is refused everywhere, also where no token is needed ------------------------------
def expired_token() -> dict[str, str]:
    token = issue_token(signing_keypair()[0], "member-edge", ["member"], ttl=timedelta(seconds=-60))
    return {"Authorization": f"Bearer {token}"}


BROKEN_TOKENS = {
    "garbage": lambda: {"Authorization": "Bearer not-a-token"},
    "expired": expired_token,
    "another scheme": lambda: {"Authorization": "Basic YWRhOmxvdmVsYWNl"},
}
PUBLIC_READS = {
    "/api/v1/offers": 200,
    "/api/v1/offers/none": 404,
    "/api/v1/sessions/none": 404,
    "/api/v1/competence-framework": 200,
    "/api/v1/career-paths": 200,
}


@pytest.mark.parametrize("broken", BROKEN_TOKENS)
@pytest.mark.parametrize("path", PUBLIC_READS)
def test_a_broken_token_is_a_401_also_where_none_is_needed(academy, path, broken):
    anonymous = academy.get(path)
    refused = academy.get(path, headers=BROKEN_TOKENS[broken]())

    assert anonymous.status_code == PUBLIC_READS[path]
    assert refused.status_code == 401, refused.get_data(as_text=True)
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_token_endpoint_takes_credentials_whatever_token_came_along(apps, academy):
    registered = register(Client(apps["catalog"]), "stale@academy.example", "a long passphrase", "Stale")
    assert registered.status_code == 200, registered.get_data(as_text=True)

    answer = academy.post("/api/v1/auth/token", headers=expired_token(),
                          json={"email": "stale@academy.example", "password": "a long passphrase"})

    assert answer.status_code == 200, answer.get_data(as_text=True)
