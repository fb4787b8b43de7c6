"""Domain errors every service may raise; the web layer turns each into an RFC 9457 problem."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class Unprocessable(DomainError):
    status, slug, title = 422, "unprocessable", "Request cannot be processed"


class TooManyRequests(DomainError):
    """Refused for now; `retry_after_s` says when to try again (the Retry-After header)."""

    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int):
        super().__init__(detail)
        self.retry_after_s = max(1, retry_after_s)


class UpstreamUnavailable(DomainError):
    status, slug, title = 503, "upstream-unavailable", "A service behind the gateway is unavailable"


class BusUnavailable(DomainError):
    status, slug, title = 503, "bus-unavailable", "The message bus cannot be reached"
