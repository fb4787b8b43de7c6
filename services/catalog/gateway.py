"""The public gateway: which service answers which public path, and the HTTP proxy to it."""

from __future__ import annotations

import re
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import quote

import requests
from flask import Flask, Response, request

from shared.config import SERVICES
from shared.errors import UpstreamUnavailable
from shared.tracing import current_request_id, current_traceparent

UPSTREAM_ROUTES: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern), service)
    for pattern, service in (
        (r"^/api/v1/bookings(/.*)?$", "booking"),
        (r"^/api/v1/sessions/[^/]+/(attendance|participants)(/.*)?$", "booking"),
        (r"^/api/v1/certificates(/.*)?$", "booking"),
        (r"^/api/v1/(competence-framework|career-paths|assessments|demand)(/.*)?$", "assessment"),
        (r"^/api/v1/(invoices|payouts|reports|revenue-policies|ledger|credits)(/.*)?$", "billing"),
        (r"^/api/v1/(notifications|notification-preferences)(/.*)?$", "notify"),
        *((rf"^/api/v1/dead-letters/{service}(/.*)?$", service) for service in SERVICES if service != "catalog"),
    )
)
FORWARDED_HEADERS = ("Authorization", "Content-Type", "Accept", "Idempotency-Key")
# Headers about one connection (RFC 9110 7.6.1), and the body's framing, which requests has already undone
# (it decodes gzip and reads chunks), so the gateway's server frames the body anew. Date and Server are the
# gateway's own server's to send; copied, they would go out twice.
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "upgrade",
    "transfer-encoding", "content-encoding", "content-length", "date", "server",
}
# What RFC 3986 allows unencoded in a path (besides letters, digits and -._~) and in a query; "%" is kept in
# the query because it arrives still encoded, and so goes on as it came.
PATH_SAFE = "/:@!$&'()*+,;="
QUERY_SAFE = PATH_SAFE + "?%"


def upstream_for(path: str) -> str | None:
    for pattern, service in UPSTREAM_ROUTES:
        if pattern.match(path):
            return service
    return None


def upstream_target(path: str, query_string: bytes) -> str:
    """The request target to send on: the decoded path encoded once more, and the raw query as it came.

    Flask's full_path holds the decoded path, where an encoded "?" or "#" would end the path at the upstream.
    """
    target = quote(path, safe=PATH_SAFE)
    if query_string:
        # Only what may not travel in a URL (raw bytes above ASCII, spaces, "#") is encoded.
        target += "?" + quote(query_string, safe=QUERY_SAFE)
    return target


def exact_request(
    http: requests.Session, method: str, url: str, headers: dict, body: bytes
) -> requests.PreparedRequest:
    """A request for exactly `url`: requests would resolve dot segments and re-encode the path while preparing it."""
    prepared = http.prepare_request(requests.Request(method, url, headers=headers, data=body))
    prepared.url = url
    return prepared


def _answer_headers(upstream: requests.Response) -> list[tuple[str, str]]:
    # Connection may name more headers that concern only the hop between the gateway and the service.
    connection_scoped = {name.strip().lower() for name in upstream.headers.get("Connection", "").split(",")}
    dropped = HOP_BY_HOP | connection_scoped
    return [(name, value) for name, value in upstream.headers.items() if name.lower() not in dropped]


def register_proxy(upstreams: dict[str, str], timeout_s: tuple[float, float] = (3.05, 30.0)):
    """Forward the routed paths to the services at `upstreams` (service name -> base URL), giving each
    `timeout_s` (to connect, to answer) before the caller gets a 503 naming it."""
    http = requests.Session()
    # The services are reached directly, never through a proxy named in the environment; reading the environment
    # for proxies and .netrc on every request cost about a tenth of the gateway's CPU per forwarded request.
    http.trust_env = False
    # One session serves every caller: a cookie one caller's answer set must not go out with the next request.
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def proxy_routed_paths():
        service = upstream_for(request.path)
        if service is None:
            return None
        base = upstreams.get(service)
        if base is None:
            raise UpstreamUnavailable(f"no address configured for the {service} service ({service.upper()}_URL)")
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        headers["X-Request-ID"] = current_request_id.get() or ""
        headers["traceparent"] = current_traceparent.get() or ""
        try:
            upstream = http.send(
                exact_request(http, request.method, base + upstream_target(request.path, request.query_string),
                              headers, request.get_data()),
                timeout=timeout_s,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise UpstreamUnavailable(f"the {service} service did not answer: {type(exc).__name__}") from exc
        return Response(upstream.content, status=upstream.status_code, headers=_answer_headers(upstream))

    def setup(app: Flask) -> None:
        app.before_request(proxy_routed_paths)

    return setup
