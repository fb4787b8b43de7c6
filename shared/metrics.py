"""Prometheus metrics, correct under several gunicorn workers (multiprocess mode when PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "Time to answer an HTTP request", ["service", "route"]
)
EVENTS_PUBLISHED = Counter("events_published_total", "Events confirmed by the broker", ["service", "type"])
EVENTS_CONSUMED = Counter(
    "events_consumed_total",
    "Events taken from the service's queue, by outcome",
    ["service", "type", "outcome"],
)
OUTBOX_BACKLOG = Gauge(
    "outbox_backlog", "Outbox rows not yet published", ["service"], multiprocess_mode="livemax"
)
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", ["service"],
    multiprocess_mode="livemax",
)
DEAD_LETTERS = Gauge(
    "dead_letter_queue_depth", "Events waiting in the dead-letter queue", ["service"],
    multiprocess_mode="livemax",
)


def render() -> tuple[bytes, str]:
    """The exposition text: aggregated over all gunicorn workers when running in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
