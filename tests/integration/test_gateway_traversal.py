"""Path traversal through the public edge: raw paths over real sockets, against the gateway and real upstreams.

Each form is sent exactly as written (http.client, no client-side normalisation) to the distributed gateway
(catalog's app under a real HTTP server, forwarding to the recording upstreams of test_gateway) and to the
embedded dispatcher (a real catalog app beside recording stand-ins). No upstream may see /metrics, /health or
any path that the gateway does not route to it.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

import services.catalog
from academy.embedded import GatewayDispatcher
from services.catalog.gateway import exact_request, upstream_for
from shared.testing import make_runtime
from shared.web import PROBLEM_JSON
from tests.integration.test_gateway import ROUTED_SERVICES, Upstream

TRAVERSALS = [
    "/api/v1/bookings/../../../metrics",
    "/api/v1/bookings/%2e%2e/%2e%2e/%2e%2e/metrics",
    "/api/v1/bookings/%2E%2E/%2E%2E/%2E%2E/metrics",
    "/api/v1/bookings/.%2e/.%2e/.%2e/metrics",
    "/api/v1/bookings/%2e./%2e./%2e./metrics",
    "/api/v1/bookings/.%2E/%2E./../metrics",
    "/api/v1/bookings/%252e%252e/%252e%252e/%252e%252e/metrics",
    "/api/v1/bookings/%252e%252e%252f%252e%252e%252fmetrics",
    "/api/v1/bookings/..;/..;/..;/metrics",
    "/api/v1/bookings/..;x=1/..;/..;/health/ready",
    "/api/v1/bookings/..%3b/..%3b/..%3b/metrics",
    "/api/v1/bookings/..\\..\\..\\metrics",
    "/api/v1/bookings/..%5c..%5c..%5cmetrics",
    "/api/v1/bookings/..%5C..%5C..%5Cmetrics",
    "/api/v1/bookings/..%2f..%2f..%2fmetrics",
    "/api/v1/bookings/..%2F..%2F..%2Fmetrics",
    "/api/v1/bookings/%2e%2e%2f%2e%2e%2f%2e%2e%2fmetrics",
    "/api/v1/bookings%2f..%2f..%2f..%2fmetrics",
    "/api/v1/bookings/%2e%2e%5c%2e%2e%5cmetrics",
    "/api/v1/bookings//../../../metrics",
    "/api/v1/bookings/b-1/..",
    "/api/v1/bookings/b-1/%2e%2e",
    "/api/v1/bookings/./",
    "/api/v1/bookings/.",
    "/api/v1/bookings/./../../../metrics",
    "/api/v1/invoices/../../../health/ready",
    "/api/v1/invoices/%2e%2e/%2e%2e/%2e%2e/health/ready",
    "/api/v1/reports/%2e%2e/%2e%2e/%2e%2e/health/live",
    "/api/v1/notifications/./../../../metrics",
    "/api/v1/assessments/..%252f..%252f..%252fmetrics",
    "/api/v1/sessions/../attendance",
    "/api/v1/sessions/%2e%2e/attendance",
    "/api/v1/sessions/s-1/attendance/../../../../metrics",
    "/api/v1/offers/../../../metrics",
    "/_services/booking/../../metrics",
    "/_services/booking/%2e%2e/metrics",
    "/_services/booking/api/v1/..%2f..%2f..%2fmetrics",
]
# Not traversals, but close to them: they may be answered, and must still stay within the routed prefix.
LOOK_ALIKES = [
    "/api/v1/bookings/%EF%BC%8E%EF%BC%8E/%EF%BC%8E%EF%BC%8E/metrics",  # full-width full stops
    "/api/v1/bookings/...",
    "/api/v1/bookings/..b",
    "/api/v1/bookings/a..b/c",
]


def served(app) -> tuple[str, int, Callable[[], None]]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop():
        server.shutdown()
        server.server_close()

    return "127.0.0.1", server.server_port, stop


def send_raw(host: str, port: int, path: str) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.getheader("Content-Type", ""), answer.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def upstreams():
    started = {name: Upstream(name) for name in ROUTED_SERVICES}
    yield started
    for upstream in started.values():
        upstream.close()


@pytest.fixture(scope="module")
def distributed(upstreams, tmp_path_factory):
    urls = {f"{name.upper()}_URL": upstream.url for name, upstream in upstreams.items()}
    runtime = make_runtime(services.catalog.SERVICE, tmp_path_factory.mktemp("gateway"), **urls)
    host, port, stop = served(services.catalog.SERVICE.create_app(runtime))
    yield host, port
    stop()
    runtime.close()


@pytest.fixture(scope="module")
def embedded(upstreams, tmp_path_factory):
    runtime = make_runtime(services.catalog.SERVICE, tmp_path_factory.mktemp("embedded"))
    apps = {"catalog": services.catalog.SERVICE.create_app(runtime), **upstreams}
    host, port, stop = served(GatewayDispatcher(apps))
    yield host, port
    stop()
    runtime.close()


@pytest.fixture(params=["distributed", "embedded"])
def edge(request, upstreams):
    for upstream in upstreams.values():
        upstream.reset()
    return request.getfixturevalue(request.param)


def escapes(upstreams) -> list[str]:
    """Every request an upstream received outside the paths the gateway routes to it."""
    return [
        f"{name} received {received.target!r} (decoded {received.path!r})"
        for name, upstream in upstreams.items()
        for received in upstream.received
        if upstream_for(received.path) != name or ".." in received.path.split("/")
    ]


def test_every_traversal_form_is_refused_before_routing(edge, upstreams):
    answered = {path: send_raw(*edge, path) for path in TRAVERSALS}

    reached = {name: [received.target for received in upstream.received] for name, upstream in upstreams.items()}
    assert {name: targets for name, targets in reached.items() if targets} == {}
    not_refused = {path: status for path, (status, _type, _body) in answered.items() if status not in (400, 404)}
    assert not_refused == {}
    assert {content_type for _status, content_type, _body in answered.values()} == {PROBLEM_JSON}


def test_look_alikes_stay_within_the_routed_prefix(edge, upstreams):
    for path in LOOK_ALIKES:
        status, _type, body = send_raw(*edge, path)
        assert status < 500, (path, body)

    assert escapes(upstreams) == []


def test_nothing_internal_is_reached_through_the_edge(edge, upstreams):
    for path in (*TRAVERSALS, *LOOK_ALIKES):
        status, _type, body = send_raw(*edge, path)
        assert b"http_requests_total" not in body, path
        assert b'"checks"' not in body, path

    assert escapes(upstreams) == []


def test_an_ordinary_path_still_goes_through(edge, upstreams):
    status, _type, _body = send_raw(*edge, "/api/v1/bookings/b-1")

    assert status == 200
    assert [received.target for received in upstreams["booking"].received] == ["/api/v1/bookings/b-1"]


def test_the_proxy_sends_exactly_the_url_it_was_given():
    url = "http://127.0.0.1:9/api/v1/bookings/a/../%2e%2e/b?x=%2F"

    assert exact_request(requests.Session(), "GET", url, {}, b"").url == url


def test_a_cookie_set_for_one_caller_never_goes_out_with_the_next(distributed, upstreams):
    upstreams["booking"].reset()
    upstreams["booking"].answer = lambda: Response("{}", mimetype="application/json",
                                                   headers={"Set-Cookie": "session=of-the-first-caller; Path=/"})
    send_raw(*distributed, "/api/v1/bookings")
    send_raw(*distributed, "/api/v1/bookings")

    assert [received.headers.get("Cookie") for received in upstreams["booking"].received] == [None, None]
    upstreams["booking"].reset()
