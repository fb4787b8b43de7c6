"""Old processed event ids and idempotency keys are purged; outbox rows are not (they leave as they are published)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from shared.db import make_engine, make_session_factory
from shared.housekeeping import Purged, purge_messages
from shared.tables import idempotency_keys, messaging_metadata, outbox, processed_events


def test_purge_keeps_recent_rows_and_every_outbox_row(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'service.sqlite3'}")
    messaging_metadata.create_all(engine)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    old = now - timedelta(days=40)

    def row(event_id: str, created: datetime) -> dict:
        return {"event_id": event_id, "routing_key": "x.y", "body": "{}", "created_at": created}

    def key(name: str, created: datetime) -> dict:
        return {"principal": "m", "key": name, "request_fingerprint": "f", "status_code": 201,
                "response_body": "{}", "created_at": created}

    with sessions.begin() as db:
        db.execute(outbox.insert(), [row("old-unpublished", old), row("new-unpublished", now)])
        db.execute(processed_events.insert(), [
            {"consumer": "c", "event_id": "old", "event_type": "t", "handled_at": old},
            {"consumer": "c", "event_id": "new", "event_type": "t", "handled_at": now},
        ])
        db.execute(idempotency_keys.insert(), [key("yesterday", now - timedelta(hours=25)), key("now", now)])

    assert purge_messages(sessions, timedelta(days=30), timedelta(hours=24)) == Purged(1, 1)

    with sessions() as db:
        assert sorted(db.scalars(select(outbox.c.event_id))) == ["new-unpublished", "old-unpublished"]
        assert list(db.scalars(select(processed_events.c.event_id))) == ["new"]
        assert list(db.scalars(select(idempotency_keys.c.key))) == ["now"]
