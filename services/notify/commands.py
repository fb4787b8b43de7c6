"""What notify does in the caller's transaction: messages into inboxes, events to the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notify.domain import Message
from services.notify.models import InboxMessage
from shared.db import fetch_page
from shared.errors import NotFound
from shared.events.declarations import NotificationDelivered
from shared.outbox import record_event

INBOX_CHANNEL = "inbox"


def deliver_to_inbox(db: Session, member_id: str, cause_event_id: str, message: Message) -> InboxMessage | None:
    """Put `message` in the member's inbox once per cause; None if this event already reached them."""
    already = db.scalar(
        select(InboxMessage.id).where(
            InboxMessage.member_id == member_id, InboxMessage.cause_event_id == cause_event_id
        )
    )
    if already is not None:
        return None
    now = datetime.now(UTC)
    delivered = InboxMessage(
        id=str(uuid.uuid4()),
        member_id=member_id,
        cause_event_id=cause_event_id,
        kind=message.kind.value,
        subject=message.subject,
        body=message.body,
        created_at=now,
    )
    db.add(delivered)
    db.flush()
    record_event(db, NotificationDelivered(
        notification_id=delivered.id,
        member_id=member_id,
        channel=INBOX_CHANNEL,
        cause_event_id=cause_event_id,
        delivered_at=now,
    ))
    return delivered


def messages_of(db: Session, member_id: str, unread_only: bool, page: int, per_page: int
                ) -> tuple[int, list[InboxMessage]]:
    """One page of the member's own messages, newest first, and how many there are in all."""
    conditions = [InboxMessage.member_id == member_id]
    if unread_only:
        conditions.append(InboxMessage.read_at.is_(None))
    query = select(InboxMessage).where(*conditions).order_by(InboxMessage.created_at.desc(), InboxMessage.id)
    return fetch_page(db, query, page, per_page)


def mark_read(db: Session, member_id: str, notification_id: str) -> InboxMessage:
    """Mark one of the member's messages read; reading it again keeps the first time."""
    message = db.get(InboxMessage, notification_id)
    # Someone else's message is reported as missing, so ids cannot be probed.
    if message is None or message.member_id != member_id:
        raise NotFound(f"notification {notification_id} not found")
    if message.read_at is None:
        message.read_at = datetime.now(UTC)
    return message
