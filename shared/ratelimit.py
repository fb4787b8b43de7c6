"""Limits per client address with flask-limiter: in memory, or in a store every process shares (Redis)."""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Iterable, Mapping

from flask import Flask, request
from flask_limiter import Limiter, RateLimitExceeded

from shared.config import Settings
from shared.errors import TooManyRequests
from shared.web import problem

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# One IPv6 subscriber gets at least a /64: counting single addresses of it would count nothing.
IPV6_CLIENT_PREFIX = 64
# A limit store that does not answer must not hold up sign-ins: after this, the limits count in memory instead.
STORE_TIMEOUT_S = 1


def trusted_networks(raw: str | Iterable[str]) -> tuple[Network, ...]:
    parts = raw.split(",") if isinstance(raw, str) else raw
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in parts if part.strip())


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The address a request comes from: its peer, or behind trusted proxies the first hop that is none of them.

    Each proxy appends the address it got the request from to X-Forwarded-For, so only the entries that trusted
    proxies appended can be believed: the walk goes from the right and stops at the first address that is not
    a trusted proxy (everything left of it the client may have written itself).
    """
    address = peer
    for hop in reversed((forwarded_for or "").split(",")):
        current = _ip(address)
        if current is None or not any(current in network for network in trusted) or _ip(hop) is None:
            break
        address = hop.strip()
    return address


def rate_limit_key(address: str) -> str:
    """What an address is counted as: itself, or for IPv6 its /64 network."""
    ip = _ip(address)
    if ip is None:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


def _too_many(detail: str, retry_after_s: int):
    return problem(429, "Too many requests", detail, slug="too-many-requests",
                   headers={"Retry-After": str(max(1, retry_after_s))})


def register_address_limits(settings: Settings, limited: Mapping[str, str]) -> Callable[[Flask], None]:
    """Setup step: count each endpoint of `limited` (endpoint -> rates) per client address, answer 429 beyond.

    The counts live in RATE_LIMIT_STORAGE_URL: memory:// counts per process (right for the embedded academy),
    a shared store such as Redis counts across gunicorn workers and hosts. Should that store fail, the limits
    go on in memory rather than turn sign-ins into errors.
    """
    trusted = trusted_networks(settings.trusted_proxies)
    storage_url = settings.rate_limit_storage_url
    options = {"socket_connect_timeout": STORE_TIMEOUT_S, "socket_timeout": STORE_TIMEOUT_S}

    def key() -> str:
        return rate_limit_key(client_address(request.remote_addr or "", request.headers.get("X-Forwarded-For"),
                                             trusted))

    def setup(app: Flask) -> None:
        limiter = Limiter(
            key_func=key,
            app=app,
            storage_uri=storage_url,
            storage_options=options if storage_url.startswith(("redis", "valkey")) else {},
            strategy="moving-window",
            key_prefix="academy",
            in_memory_fallback_enabled=True,
        )
        for endpoint, rates in limited.items():
            app.view_functions[endpoint] = limiter.limit(rates)(app.view_functions[endpoint])

        def refuse_address(_error: RateLimitExceeded):
            breached = limiter.current_limit
            retry_after_s = max(1, math.ceil(breached.window.reset_time - time.time())) if breached else 60
            return _too_many(f"too many requests of this kind from your address; try again in {retry_after_s} s",
                             retry_after_s)

        def refuse(error: TooManyRequests):
            return _too_many(error.detail, error.retry_after_s)

        app.register_error_handler(RateLimitExceeded, refuse_address)
        app.register_error_handler(TooManyRequests, refuse)

    return setup
