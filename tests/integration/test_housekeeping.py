"""Old published outbox rows and inbox ids are purged; anything still unpublished never is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from shared.db import make_engine, make_session_factory
from shared.housekeeping import purge_messages
from shared.tables import inbox, messaging_metadata, outbox


def test_purge_keeps_recent_and_unpublished_rows(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'service.sqlite3'}")
    messaging_metadata.create_all(engine)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    old = now - timedelta(days=40)

    def row(event_id: str, created: datetime, published: datetime | None) -> dict:
        return {"event_id": event_id, "routing_key": "x.y", "body": "{}", "created_at": created,
                "published_at": published}

    with sessions.begin() as session:
        session.execute(outbox.insert(), [
            row("old-published", old, old),
            row("old-unpublished", old, None),
            row("new-published", now, now),
        ])
        session.execute(inbox.insert(), [
            {"consumer": "c", "event_id": "old", "event_type": "t", "handled_at": old},
            {"consumer": "c", "event_id": "new", "event_type": "t", "handled_at": now},
        ])

    assert purge_messages(sessions, timedelta(days=30)) == (1, 1)

    with sessions() as session:
        assert sorted(session.scalars(select(outbox.c.event_id))) == ["new-published", "old-unpublished"]
        assert list(session.scalars(select(inbox.c.event_id))) == ["new"]
