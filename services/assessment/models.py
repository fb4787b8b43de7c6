"""Assessment's tables: its read model of the catalog's offers."""

from __future__ import annotations

from sqlalchemy import JSON, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class OfferRecord(Base):
    """What assessment knows of a published offer (from offer.published): what it teaches, to whom."""

    __tablename__ = "offers"
    offer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    competences: Mapped[list[str]] = mapped_column(JSON)
    level: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(20))
