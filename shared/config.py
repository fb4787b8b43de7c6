"""Settings read once from environment variables into one immutable object per service."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import limits
import limits.storage
from iso4217 import Currency

SERVICE_PORTS = {"catalog": 8000, "booking": 8001, "assessment": 8002, "billing": 8003, "notify": 8004}
SERVICES = tuple(SERVICE_PORTS)
SECRETS = ("JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY")  # the settings that may also be given as a file (NAME_FILE)


class MissingSettings(RuntimeError):
    """Raised at start when required environment variables are absent; names every one of them."""

    def __init__(self, names: list[str]):
        self.names = names
        super().__init__("missing required setting(s): " + ", ".join(names))


class InvalidSetting(RuntimeError):
    """Raised at start when an environment variable holds a value the academy cannot use."""


def _read_secret(env: Mapping[str, str], name: str) -> str | None:
    """A PEM given inline (NAME) or as a file path (NAME_FILE)."""
    if env.get(name):
        return env[name]
    path = env.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise InvalidSetting(f"{name}_FILE: cannot read {path}: {exc.strerror}") from exc
    return None


def _retry_delays(raw: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise InvalidSetting(f"EVENT_RETRY_DELAYS: expected comma-separated seconds, got {raw!r}") from exc
    if any(delay <= 0 for delay in delays):
        raise InvalidSetting("EVENT_RETRY_DELAYS: every delay must be positive")
    return delays


def _currencies(raw: str) -> tuple[str, ...]:
    """ISO 4217 codes of currencies with cents, since every amount is kept in integer minor units of two digits."""
    codes = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not codes:
        raise InvalidSetting("ACADEMY_CURRENCIES: name at least one ISO 4217 code, e.g. EUR")
    for code in codes:
        try:
            exponent = Currency(code).exponent
        except ValueError as exc:
            raise InvalidSetting(f"ACADEMY_CURRENCIES: {code!r} is no ISO 4217 currency code") from exc
        if exponent != 2:
            raise InvalidSetting(f"ACADEMY_CURRENCIES: {code} has no cents (amounts are kept in hundredths)")
    return codes


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """A flask-limiter rate, e.g. "10/minute;100/hour" (every one of them applies)."""
    raw = env.get(name) or default
    try:
        limits.parse_many(raw)
    except ValueError as exc:
        raise InvalidSetting(f"{name}: expected rates like 10/minute;100/hour, got {raw!r}") from exc
    return raw


def _limit_storage(raw: str) -> str:
    if raw.partition("://")[0] not in limits.storage.SCHEMES or "://" not in raw:
        raise InvalidSetting(f"RATE_LIMIT_STORAGE_URL: expected memory:// or redis://host:port/db, got {raw!r}")
    return raw


def _networks(raw: str) -> tuple[str, ...]:
    """Addresses or CIDR networks, kept as text (each checked here), so that Settings stays plain data."""
    networks = tuple(part.strip() for part in raw.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise InvalidSetting(f"TRUSTED_PROXIES: {network!r} is no IP address or network") from exc
    return networks


def _origins(raw: str) -> tuple[str, ...]:
    """Web origins (scheme://host[:port]) allowed to call the public API from a browser."""
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise InvalidSetting(f"ALLOWED_ORIGINS: expected origins like https://app.example, got {origin!r}")
    return origins


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidSetting(f"{name}: expected a whole number, got {raw!r}") from exc
    if not low <= value <= high:
        raise InvalidSetting(f"{name}: expected a number from {low} to {high}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    amqp_url: str | None
    data_dir: Path
    jwt_private_key: str | None = None
    jwt_public_key: str | None = None
    queue_type: str = "classic"
    prefetch: int = 200
    retry_delays: tuple[float, ...] = (1.0, 10.0, 60.0)
    log_level: str = "INFO"
    port: int = 8000
    upstreams: dict[str, str] = field(default_factory=dict)
    # The gateway's patience with a service: to connect, and for its answer.
    upstream_connect_timeout_s: float = 3.05
    upstream_read_timeout_s: float = 30.0
    smtp_host: str | None = None
    smtp_port: int = 25
    message_retention_days: int = 30
    idempotency_retention_hours: int = 24
    web_concurrency: int = 2
    worker_port: int = 9100
    metrics_port: int | None = None
    currencies: tuple[str, ...] = ("EUR",)
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    login_max_failures: int = 5
    login_rate_limit: str = "10/minute;100/hour"
    registration_rate_limit: str = "20/hour"
    refresh_rate_limit: str = "60/minute"
    rate_limit_storage_url: str = "memory://"
    trusted_proxies: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    search_cache_mb: int = 32

    @property
    def local_bus_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'bus.sqlite3'}"

    @classmethod
    def from_env(
        cls,
        service: str,
        env: Mapping[str, str] | None = None,
        *,
        require: tuple[str, ...] = (),
    ) -> Settings:
        """Read the settings of `service`; `require` names variables this entrypoint cannot start without."""
        env = os.environ if env is None else env
        if service not in SERVICE_PORTS:
            raise InvalidSetting(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
        missing = [
            name for name in require if not env.get(name) and not (name in SECRETS and env.get(f"{name}_FILE"))
        ]
        if missing:
            raise MissingSettings(missing)
        data_dir = Path(env.get("ACADEMY_DATA_DIR") or "var").resolve()
        database_url = (
            env.get("DATABASE_URL")
            or env.get(f"{service.upper()}_DATABASE_URL")
            or f"sqlite:///{data_dir / (service + '.sqlite3')}"
        )
        queue_type = env.get("AMQP_QUEUE_TYPE", "classic")
        if queue_type not in ("classic", "quorum"):
            raise InvalidSetting(f"AMQP_QUEUE_TYPE: expected classic or quorum, got {queue_type!r}")
        upstreams = {
            name: env[f"{name.upper()}_URL"].rstrip("/")
            for name in SERVICES
            if name != "catalog" and env.get(f"{name.upper()}_URL")
        }
        return cls(
            service=service,
            database_url=database_url,
            amqp_url=env.get("AMQP_URL") or None,
            data_dir=data_dir,
            jwt_private_key=_read_secret(env, "JWT_PRIVATE_KEY"),
            jwt_public_key=_read_secret(env, "JWT_PUBLIC_KEY"),
            queue_type=queue_type,
            prefetch=_int(env, "AMQP_PREFETCH", 200, 1, 10_000),
            retry_delays=_retry_delays(env.get("EVENT_RETRY_DELAYS", "1,10,60")),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            port=_int(env, "PORT", SERVICE_PORTS[service], 1, 65535),
            upstreams=upstreams,
            upstream_connect_timeout_s=_int(env, "UPSTREAM_CONNECT_TIMEOUT_MS", 3050, 100, 60_000) / 1000,
            upstream_read_timeout_s=_int(env, "UPSTREAM_READ_TIMEOUT_MS", 30_000, 100, 600_000) / 1000,
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=_int(env, "SMTP_PORT", 25, 1, 65535),
            # A consumed event's id must outlive every redelivery of it; a day is the least that is safe.
            message_retention_days=_int(env, "MESSAGE_RETENTION_DAYS", 30, 1, 36_500),
            idempotency_retention_hours=_int(env, "IDEMPOTENCY_RETENTION_HOURS", 24, 1, 876_000),
            web_concurrency=_int(env, "WEB_CONCURRENCY", 2, 1, 64),
            worker_port=_int(env, "WORKER_PORT", 9100, 1, 65535),
            metrics_port=_int(env, "METRICS_PORT", 0, 1, 65535) or None,
            currencies=_currencies(env.get("ACADEMY_CURRENCIES") or "EUR"),
            access_token_minutes=_int(env, "ACCESS_TOKEN_MINUTES", 15, 1, 1440),
            refresh_token_days=_int(env, "REFRESH_TOKEN_DAYS", 30, 1, 365),
            login_max_failures=_int(env, "LOGIN_MAX_FAILURES", 5, 1, 100),
            login_rate_limit=_rate_limit(env, "LOGIN_RATE_LIMIT", "10/minute;100/hour"),
            registration_rate_limit=_rate_limit(env, "REGISTRATION_RATE_LIMIT", "20/hour"),
            refresh_rate_limit=_rate_limit(env, "REFRESH_RATE_LIMIT", "60/minute"),
            rate_limit_storage_url=_limit_storage(env.get("RATE_LIMIT_STORAGE_URL") or "memory://"),
            trusted_proxies=_networks(env.get("TRUSTED_PROXIES", "")),
            allowed_origins=_origins(env.get("ALLOWED_ORIGINS", "")),
            search_cache_mb=_int(env, "SEARCH_CACHE_MB", 32, 0, 100_000),
        )
