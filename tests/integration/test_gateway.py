"""The gateway's proxy against real upstreams: what reaches a service, what comes back, and where it goes.

Each upstream is a tiny HTTP server on a free port that notes every request exactly as it arrived on the
wire (the raw request target, not a decoded path), so a path decoded or encoded twice shows up here.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

import services.catalog
from academy.embedded import GatewayDispatcher
from shared.testing import make_runtime
from shared.tracing import trace_id
from shared.web import PROBLEM_JSON

ROUTED_SERVICES = ("booking", "assessment", "billing", "notify")
TRACE = "0af7651916cd43dd8448eb211c80319c"


@dataclass
class Received:
    target: str  # the request target as sent on the wire: path and query, still percent-encoded
    path: str  # the path as the upstream decodes it
    method: str
    headers: dict[str, str]
    body: bytes


class Upstream:
    """A service stand-in that notes each request and gives the answer a test sets up."""

    def __init__(self, name: str):
        self.name = name
        self.received: list[Received] = []
        self.reset()
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def reset(self) -> None:
        self.received.clear()
        self.answer = lambda: Response(json.dumps({"answered_by": self.name}), mimetype="application/json")

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.received.append(Received(
            target=environ["REQUEST_URI"],
            path=request.path,
            method=request.method,
            headers=dict(request.headers),
            body=request.get_data(),
        ))
        return self.answer()(environ, start_response)

    def only_request(self) -> Received:
        assert len(self.received) == 1, f"{self.name} received {len(self.received)} requests"
        return self.received[0]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def upstreams():
    started = {name: Upstream(name) for name in ROUTED_SERVICES}
    yield started
    for upstream in started.values():
        upstream.close()


def gateway_client(data_dir, **urls: str):
    runtime = make_runtime(services.catalog.SERVICE, data_dir, **urls)
    return runtime, services.catalog.SERVICE.create_app(runtime).test_client()


@pytest.fixture(scope="module")
def module_gateway(upstreams, tmp_path_factory):
    urls = {f"{name.upper()}_URL": upstream.url for name, upstream in upstreams.items()}
    runtime, client = gateway_client(tmp_path_factory.mktemp("gateway"), **urls)
    yield client
    runtime.close()


@pytest.fixture
def gateway(module_gateway, upstreams):
    for upstream in upstreams.values():
        upstream.reset()
    return module_gateway


def answered_by(upstreams) -> str:
    """The upstream that received the one request sent, or catalog when none did (the gateway answered)."""
    reached = [name for name, upstream in upstreams.items() if upstream.received]
    assert len(reached) <= 1, f"one request reached {reached}"
    return reached[0] if reached else "catalog"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the path and the query string -------------------------------------------------------------------------
# (sent, what the service receives, what it decodes). The gateway only has the decoded path, so it encodes
# what a path segment may not hold as such; "=" and the like may travel as they are and decode the same.
@pytest.mark.parametrize(
    ("path", "target", "decoded"),
    [
        pytest.param("/api/v1/bookings/abc%3Fpage%3D2", "/api/v1/bookings/abc%3Fpage=2",
                     "/api/v1/bookings/abc?page=2", id="question mark"),
        pytest.param("/api/v1/invoices/x%23y", "/api/v1/invoices/x%23y", "/api/v1/invoices/x#y", id="hash"),
        pytest.param("/api/v1/bookings/100%25", "/api/v1/bookings/100%25", "/api/v1/bookings/100%", id="percent"),
        pytest.param("/api/v1/bookings/%2541", "/api/v1/bookings/%2541", "/api/v1/bookings/%41",
                     id="an encoded percent escape"),
        pytest.param("/api/v1/bookings/a%20b", "/api/v1/bookings/a%20b", "/api/v1/bookings/a b", id="space"),
        pytest.param("/api/v1/notifications/%C3%A9t%C3%A9/read", "/api/v1/notifications/%C3%A9t%C3%A9/read",
                     "/api/v1/notifications/été/read", id="unicode"),
        pytest.param("/api/v1/reports/a+b;c=d,e:f@g", "/api/v1/reports/a+b;c=d,e:f@g",
                     "/api/v1/reports/a+b;c=d,e:f@g", id="characters a path segment allows"),
    ],
)
def test_a_path_segment_reaches_the_service_encoded_exactly_once(gateway, upstreams, path, target, decoded):
    gateway.get(path)

    received = upstreams[answered_by(upstreams)].only_request()
    assert received.target == target
    assert received.path == decoded


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("page=2&page=3", id="repeated keys"),
        pytest.param("q=fish%26chips&from=2025-01-01", id="an encoded ampersand"),
        pytest.param("q=%C3%A9t%C3%A9+and%20more&flag&empty=", id="unicode, plus, flag and empty value"),
        pytest.param("next=%2Fapi%2Fv1%3Fa%3D1%23top", id="an encoded URL"),
    ],
)
def test_the_query_string_reaches_the_service_as_sent(gateway, upstreams, query):
    gateway.get(f"/api/v1/bookings?{query}")

    assert upstreams["booking"].only_request().target == f"/api/v1/bookings?{query}"


def test_a_request_without_a_query_string_is_forwarded_without_one(gateway, upstreams):
    gateway.get("/api/v1/bookings")

    assert upstreams["booking"].only_request().target == "/api/v1/bookings"


# --- the request: method, body and headers -----------------------------------------------------------------
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_method_body_and_the_callers_headers_reach_the_service(gateway, upstreams, method):
    body = json.dumps({"session_id": "s-1", "format": "online", "note": "ünïcode"}).encode()
    headers = {
        "Authorization": "Bearer abc.def.ghi",
        "Content-Type": "application/json",
        "Idempotency-Key": "key-123",
        "Accept": "application/json",
    }

    gateway.open("/api/v1/bookings", method=method, data=body, headers=headers)

    received = upstreams["booking"].only_request()
    assert received.method == method
    assert received.body == body
    assert {name: received.headers.get(name) for name in headers} == headers


def test_request_id_and_trace_reach_the_service(gateway, upstreams):
    caller_span = f"00-{TRACE}-b7ad6b7169203331-01"

    response = gateway.get("/api/v1/invoices", headers={"X-Request-ID": "req-42", "traceparent": caller_span})

    received = upstreams["billing"].only_request()
    assert received.headers["X-Request-Id"] == "req-42"
    assert response.headers["X-Request-ID"] == "req-42"
    # The upstream continues the gateway's span, which itself continues the caller's trace.
    assert received.headers["Traceparent"] == response.headers["traceparent"]
    assert trace_id(received.headers["Traceparent"]) == TRACE
    assert received.headers["Traceparent"] != caller_span


def test_a_request_without_trace_headers_starts_one_the_service_shares(gateway, upstreams):
    response = gateway.get("/api/v1/invoices")

    received = upstreams["billing"].only_request()
    assert received.headers["X-Request-Id"] == response.headers["X-Request-ID"] != ""
    assert trace_id(received.headers["Traceparent"]) == trace_id(response.headers["traceparent"]) is not None


# --- the answer --------------------------------------------------------------------------------------------
def test_the_services_answer_comes_back_unchanged(gateway, upstreams):
    problem = json.dumps({"type": "/problems/x", "title": "Request cannot be processed", "status": 422}).encode()
    upstreams["booking"].answer = lambda: Response(problem, status=422, mimetype=PROBLEM_JSON,
                                                   headers={"Location": "/api/v1/bookings/b-1", "X-Upstream": "yes"})

    response = gateway.post("/api/v1/bookings", json={})

    assert response.status_code == 422
    assert response.mimetype == PROBLEM_JSON
    assert response.get_data() == problem
    assert response.headers["Location"] == "/api/v1/bookings/b-1"
    assert response.headers["X-Upstream"] == "yes"


def test_hop_by_hop_headers_of_the_answer_are_not_copied(gateway, upstreams):
    def streamed():
        # No length, so the upstream sends it chunked; the gateway answers with a length of its own.
        response = Response(iter([b"part one, ", b"part two"]), mimetype="text/plain")
        response.headers.update({
            "Connection": "close, X-Connection-Scoped",
            "X-Connection-Scoped": "only for this hop",
            "Keep-Alive": "timeout=5",
            "Trailer": "X-Checksum",
            "Upgrade": "h2c",
            "Proxy-Authenticate": 'Basic realm="upstream"',
            "X-Upstream": "yes",
        })
        return response

    upstreams["notify"].answer = streamed

    response = gateway.get("/api/v1/notifications")

    assert response.get_data() == b"part one, part two"
    assert response.headers["Content-Length"] == str(len(b"part one, part two"))
    assert response.headers["X-Upstream"] == "yes"
    copied = {name.lower() for name, _value in response.headers.items()}
    hop_by_hop = {"connection", "x-connection-scoped", "keep-alive", "trailer", "upgrade", "proxy-authenticate",
                  "transfer-encoding"}
    assert copied & hop_by_hop == set()


def test_a_proxy_named_in_the_environment_is_not_used_to_reach_the_services(gateway, upstreams, monkeypatch):
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    response = gateway.get("/api/v1/bookings/b-1")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert answered_by(upstreams) == "booking"


def test_an_unreachable_service_is_a_503_problem_naming_it_while_catalog_answers(tmp_path):
    runtime, client = gateway_client(tmp_path, BOOKING_URL=f"http://127.0.0.1:{free_port()}")
    try:
        unreachable = client.get("/api/v1/bookings/b-1")
        unconfigured = client.get("/api/v1/invoices/i-1")
        own = client.get("/api/v1/offers")
    finally:
        runtime.close()

    for response, service in ((unreachable, "booking"), (unconfigured, "billing")):
        assert response.status_code == 503
        assert response.mimetype == PROBLEM_JSON
        assert response.get_json()["status"] == 503
        assert f"the {service} service" in response.get_json()["detail"]
        assert int(response.headers["Retry-After"]) > 0
    assert own.status_code == 200, "catalog's own routes do not depend on the others"


def test_a_service_slower_than_the_read_timeout_is_a_503(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts the connection, never answers
    runtime, client = gateway_client(tmp_path, BOOKING_URL=f"http://127.0.0.1:{listener.getsockname()[1]}",
                                     UPSTREAM_READ_TIMEOUT_MS="300")
    try:
        answer = client.get("/api/v1/bookings")
    finally:
        runtime.close()
        listener.close()
    assert answer.status_code == 503 and "ReadTimeout" in answer.get_json()["detail"]


# --- where each path goes ----------------------------------------------------------------------------------
# One path per routed prefix, and paths catalog answers itself next to them.
ROUTES = {
    "/api/v1/bookings": "booking",
    "/api/v1/bookings/b-1/cancel": "booking",
    "/api/v1/sessions/s-1/attendance": "booking",
    "/api/v1/competence-framework": "assessment",
    "/api/v1/career-paths": "assessment",
    "/api/v1/assessments/a-1/recommendations": "assessment",
    "/api/v1/demand": "assessment",
    "/api/v1/invoices/i-1": "billing",
    "/api/v1/payouts": "billing",
    "/api/v1/reports/revenue": "billing",
    "/api/v1/notifications/preferences": "notify",
    "/api/v1/sessions/s-1": "catalog",
    "/api/v1/offers/o-1/sessions": "catalog",
    "/api/v1/members/me": "catalog",
    "/api/v1/bookingsx": "catalog",
}


def test_the_proxy_sends_each_path_to_its_service(gateway, upstreams):
    sent_to = {}
    for path in ROUTES:
        for upstream in upstreams.values():
            upstream.reset()
        gateway.get(path)
        sent_to[path] = answered_by(upstreams)

    assert sent_to == ROUTES


def test_the_embedded_dispatcher_sends_each_path_where_the_proxy_does():
    def named(name):
        return Response(name, mimetype="text/plain")

    dispatcher = Client(GatewayDispatcher({name: named(name) for name in ("catalog", *ROUTED_SERVICES)}))

    sent_to = {path: dispatcher.get(path).get_data(as_text=True) for path in ROUTES}

    assert sent_to == ROUTES
