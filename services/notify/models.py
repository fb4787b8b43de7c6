"""Notify's tables: its read model of members, and the in-app messages it owns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class MemberRecord(Base):
    """What notify knows of a member (from member.registered): whom to address, and where."""

    __tablename__ = "members"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200))


class InboxMessage(Base):
    """A message in a member's in-app inbox."""

    __tablename__ = "inbox_messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    cause_event_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (
        # Once per event and person, even if the same event reaches us again past the consumer's inbox.
        UniqueConstraint("member_id", "cause_event_id", name="uq_inbox_messages_member_cause"),
        Index("ix_inbox_messages_member_created", "member_id", "created_at"),
    )
