"""Forget what no longer protects anything: published outbox rows and inbox ids past the retention period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker

from shared.tables import inbox, outbox


def purge_messages(session_factory: sessionmaker, retention: timedelta) -> tuple[int, int]:
    """Delete published outbox rows and inbox rows older than `retention`; returns how many of each.

    Unpublished outbox rows are never deleted. An inbox row only has to outlive every redelivery of its
    event (retries take minutes), so a retention of weeks leaves a wide margin.
    """
    cutoff = datetime.now(UTC) - retention
    with session_factory.begin() as session:
        published = session.execute(
            delete(outbox).where(outbox.c.published_at.is_not(None), outbox.c.published_at < cutoff)
        ).rowcount
        handled = session.execute(delete(inbox).where(inbox.c.handled_at < cutoff)).rowcount
    return published, handled
