"""Booking's tables: its read model of offers and sessions, and the bookings it owns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class OfferRecord(Base):
    """What booking knows of a published offer (from offer.published)."""

    __tablename__ = "offers"
    offer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36))
    title: Mapped[str] = mapped_column(String(200))


class SessionRecord(Base):
    """A bookable session and its seats per format (from session.scheduled)."""

    __tablename__ = "sessions"
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(36), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    seats_online: Mapped[int] = mapped_column(Integer, default=0)
    seats_in_person: Mapped[int] = mapped_column(Integer, default=0)

    def seats(self, format: str) -> int:
        return {"online": self.seats_online, "in_person": self.seats_in_person}.get(format, 0)


class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.session_id"))
    offer_id: Mapped[str] = mapped_column(String(36))
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    format: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_bookings_session_status", "session_id", "format", "status"),)
