"""Notify's tables: read models of members, offers, sessions and bookings; the messages and mails it owns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class MemberRecord(Base):
    """What notify knows of a member (member.registered / updated / deleted): whom to address, where, and how."""

    __tablename__ = "members"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200))
    preferred_language: Mapped[str] = mapped_column(String(2), server_default="en")
    time_zone: Mapped[str] = mapped_column(String(64), server_default="Europe/Berlin")
    # Profiles arrive in any order: the newest update wins, and nothing brings back a deleted member.
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The key of the member's one-click unsubscribe links (RFC 8058), made with their first optional mail.
    unsubscribe_token: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)


class OfferRecord(Base):
    """An offer's title and providers (offer.published v2, offer.updated): who hears of reviews and decisions."""

    __tablename__ = "offers"
    offer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    provider_ids: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SessionRecord(Base):
    """When and where a session takes place (session.scheduled / rescheduled), for the dates in messages."""

    __tablename__ = "sessions"
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(36))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)


class BookingRecord(Base):
    """Who holds a booking of which session (booking events): whom a moved or cancelled session concerns."""

    __tablename__ = "bookings"
    booking_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20))  # confirmed, waitlisted or cancelled
    cancel_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)


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


class EmailDelivery(Base):
    """One e-mail to one member about one event; sent by the side-effect dispatcher, its outcome recorded here."""

    __tablename__ = "email_deliveries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # also the Message-ID's local part
    member_id: Mapped[str] = mapped_column(String(36))
    cause_event_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # pending, sent or failed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        # Exactly one mail per (event, recipient): the e-mail channel's own guard.
        UniqueConstraint("member_id", "cause_event_id", name="uq_email_deliveries_member_cause"),
        Index("ix_email_deliveries_status", "status"),
    )


class Preference(Base):
    """A member's choice for one category of messages; no row means e-mail on."""

    __tablename__ = "notification_preferences"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)
