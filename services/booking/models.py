"""Booking's tables: its read model of offers and sessions, the seats per format, and the bookings it owns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class MemberRecord(Base):
    """What booking knows of a member (from member.registered and member.updated): the name and organisation a
    certificate and a provider's participant list show."""

    __tablename__ = "members"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Profiles arrive in any order: the newest update wins, and nothing brings back a deleted member.
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class OfferRecord(Base):
    """What booking knows of a published offer (from offer.published and offer.updated): title, price and
    cancellation policy for the booking's snapshot, its providers, competences and level for the certificate."""

    __tablename__ = "offers"
    offer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36))  # the first provider
    # Every provider, co-providers included (offer.published v2); None for an offer known only from v1.
    provider_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # The offer's fee tiers in booking's form (domain.policy_to_json); None: the default policy.
    cancellation_policy: Mapped[list | None] = mapped_column(JSON, nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    competences: Mapped[list | None] = mapped_column(JSON, nullable=True)
    level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    minimum_participants: Mapped[int] = mapped_column(Integer, default=0)
    decision_days_before: Mapped[int] = mapped_column(Integer, default=7)

    def is_provider(self, member_id: str) -> bool:
        return member_id in (self.provider_ids or [self.provider_id])


class SessionRecord(Base):
    """A bookable session (from session.scheduled): when, where, and the link that confirmed members get."""

    __tablename__ = "sessions"
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(36), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    location: Mapped[str | None] = mapped_column(String(200), nullable=True)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Go / no-go: when the minimum is checked, and what came of it ("go" or "called_off").
    decision_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # Set when its provider cancelled it (session.cancelled): no more bookings.
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Set when its seats change, cleared when availability.changed went out: a rush makes one event, not many.
    availability_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)


class SeatCount(Base):
    """The seats of one format of a session and how many are taken or waited for, kept as counts.

    Every change is a conditional update of this row, and the database itself refuses more confirmed bookings
    than seats, whichever worker or host books.
    """

    __tablename__ = "session_seats"
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.session_id"), primary_key=True)
    format: Mapped[str] = mapped_column(String(20), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    waiting: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("confirmed >= 0 AND confirmed <= capacity AND waiting >= 0", name="ck_session_seats_bounds"),
    )


class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.session_id"))
    offer_id: Mapped[str] = mapped_column(String(36))
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    format: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    # Place in the waiting list of its format (1 is next); empty unless waiting.
    waiting_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The price and cancellation policy in force when booked: later changes of the offer do not apply.
    price_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    cancellation_policy: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    promoted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    fee_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    refund_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # After the session was moved, its holders may cancel free until its new start.
    free_cancellation_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Recorded by the session's providers after the start: true attended, false did not, empty not yet recorded.
    attended: Mapped[bool | None] = mapped_column(Boolean, nullable=True)

    session: Mapped[SessionRecord] = relationship(lazy="joined", innerjoin=True)

    # Part of the answer to a new booking only: free seats of the session's other format when this one is full.
    other_format_free_seats = None

    __table_args__ = (
        Index("ix_bookings_session_status", "session_id", "format", "status"),
        Index("ix_bookings_waiting", "session_id", "format", "waiting_position"),
    )


class Certificate(Base):
    """A participation certificate: its id is unguessable, since the public verification shows the holder."""

    __tablename__ = "certificates"
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), unique=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Set when a corrected attendance record drops the holder; verification then says it is not valid.
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    booking: Mapped[Booking] = relationship(lazy="joined", innerjoin=True)
