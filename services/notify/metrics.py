"""Notify's metrics: messages sent, failed for good and retried, and how long the oldest one waits, per channel."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

NOTIFICATIONS = Counter(
    "notifications_total", "Messages handed over (sent), refused for good (failed) or tried again (retried)",
    ["channel", "outcome"],
)
PENDING = Gauge("notifications_pending", "Messages recorded but not yet sent", ["channel"],
                multiprocess_mode="livemax")
PENDING_AGE = Gauge("notifications_pending_oldest_age_seconds", "Age of the oldest message not yet sent",
                    ["channel"], multiprocess_mode="livemax")
