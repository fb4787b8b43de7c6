"""The public gateway: which service answers which public path, and the HTTP proxy to it."""

from __future__ import annotations

import re

import requests
from flask import Flask, Response, request

from shared.errors import UpstreamUnavailable
from shared.tracing import current_request_id, current_traceparent

UPSTREAM_ROUTES: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern), service)
    for pattern, service in (
        (r"^/api/v1/bookings(/.*)?$", "booking"),
        (r"^/api/v1/sessions/[^/]+/attendance$", "booking"),
        (r"^/api/v1/(competence-framework|career-paths|assessments|demand)(/.*)?$", "assessment"),
        (r"^/api/v1/(invoices|payouts|reports)(/.*)?$", "billing"),
        (r"^/api/v1/notifications(/.*)?$", "notify"),
    )
)
FORWARDED_HEADERS = ("Authorization", "Content-Type", "Accept", "Idempotency-Key")
PROXY_TIMEOUT_S = (3.05, 30)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length"}


def upstream_for(path: str) -> str | None:
    for pattern, service in UPSTREAM_ROUTES:
        if pattern.match(path):
            return service
    return None


def register_proxy(upstreams: dict[str, str]):
    """Forward the routed paths to the services at `upstreams` (service name -> base URL)."""
    http = requests.Session()

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
            upstream = http.request(
                request.method,
                base + request.full_path.rstrip("?"),
                headers=headers,
                data=request.get_data(),
                timeout=PROXY_TIMEOUT_S,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise UpstreamUnavailable(f"the {service} service did not answer: {type(exc).__name__}") from exc
        response_headers = [(k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP]
        return Response(upstream.content, status=upstream.status_code, headers=response_headers)

    def setup(app: Flask) -> None:
        app.before_request(proxy_routed_paths)

    return setup
