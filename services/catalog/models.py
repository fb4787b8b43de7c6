"""Catalog's tables: members with their credentials and sign-in state, offers with their competences, sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "members"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # normalised: see domain.normalise_email
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The profile (member.updated carries all of it); see services/catalog/profiles.py for what each may hold.
    organisation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    region: Mapped[str | None] = mapped_column(String(6), nullable=True)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    preferred_language: Mapped[str] = mapped_column(String(2), default="en")
    career_stage: Mapped[str | None] = mapped_column(String(60), nullable=True)
    preferred_formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Set when the member deleted their account: the row stays, anonymised, so that ids elsewhere still resolve.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class LoginThrottle(Base):
    """Consecutive failed sign-ins for one e-mail address, registered or not, and the lock they led to."""

    __tablename__ = "login_throttles"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # credentials.login_key of the address
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)


class RefreshToken(Base):
    """One refresh token, stored as its digest; a family is every token that descends from one sign-in."""

    __tablename__ = "refresh_tokens"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))  # credentials.TokenStatus
    successor_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The family's: a rotation does not extend it, so a session needs a fresh sign-in after REFRESH_TOKEN_DAYS.
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class OfferCompetence(Base):
    """One competence an offer builds; a row per competence so search can filter on it on every backend."""

    __tablename__ = "offer_competences"
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Offer(Base):
    __tablename__ = "offers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    competence_rows: Mapped[list[OfferCompetence]] = relationship(
        order_by=OfferCompetence.position,
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    # Read and assigned as a plain list of names; the rows and their order follow.
    competences: AssociationProxy[list[str]] = association_proxy(
        "competence_rows", "name", creator=lambda name: OfferCompetence(name=name)
    )
    # Loaded with the offer, so an answer can show them after its transaction has ended.
    sessions: Mapped[list[OfferSession]] = relationship(
        back_populates="offer", order_by="OfferSession.starts_at", lazy="selectin"
    )


class OfferSession(Base):
    """A date of an offer with its seats per kind; announced (session.scheduled) once the offer is published."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    seats_online: Mapped[int] = mapped_column(Integer)
    seats_in_person: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200), nullable=True)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    offer: Mapped[Offer] = relationship(back_populates="sessions")

    @property
    def seats(self) -> dict[str, int]:
        return {"online": self.seats_online, "in_person": self.seats_in_person}


# --- the competence framework, as assessment last published it (framework.published) -------------------
class FrameworkVersion(Base):
    """The version the framework_items are of: one row, replaced when a later version arrives."""

    __tablename__ = "framework_versions"
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FrameworkItem(Base):
    """An area, a competence (with its area) or a career path of the latest framework version."""

    __tablename__ = "framework_items"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # framework.ItemKind
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(60))  # a competence's area; empty for the other kinds
