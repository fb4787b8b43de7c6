"""Cross-origin requests from the front ends an operator names (ALLOWED_ORIGINS), none by default.

A WSGI middleware around the public gateway, so that every answer gets the same headers whichever service gave
it: the distributed gateway's proxied ones and the embedded dispatcher's alike. Tokens travel in the
Authorization header, never in cookies, so credentials are not allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Accept-Language"
EXPOSED_HEADERS = "Retry-After, Location, Content-Disposition, X-Request-ID"
PREFLIGHT_MAX_AGE_S = "600"
APPLIED = "academy.cors"  # set in the environ, so a second wrapper (catalog's inside the dispatcher) adds nothing


class Cors:
    def __init__(self, app: Callable, allowed_origins: Iterable[str]):
        self.app = app
        self.allowed = frozenset(allowed_origins)

    def __call__(self, environ, start_response):
        if environ.get(APPLIED) or not self.allowed:
            return self.app(environ, start_response)
        environ[APPLIED] = True
        origin = environ.get("HTTP_ORIGIN")
        allowed = origin in self.allowed
        if allowed and environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            start_response("204 No Content", [
                ("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Methods", ALLOWED_METHODS),
                ("Access-Control-Allow-Headers", ALLOWED_HEADERS), ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_S),
                ("Vary", "Origin")])
            return [b""]

        def with_cors_headers(status, headers, exc_info=None):
            # The answer depends on the Origin header whenever origins are configured: caches must keep them apart.
            headers = [*headers, ("Vary", "Origin")]
            if allowed:
                headers += [("Access-Control-Allow-Origin", origin), ("Access-Control-Expose-Headers", EXPOSED_HEADERS)]
            return start_response(status, headers, exc_info)

        return self.app(environ, with_cors_headers)
