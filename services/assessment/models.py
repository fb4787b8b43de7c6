"""Assessment's tables: framework versions, self-assessments, demand aggregates and its read models of the
catalog's offers and sessions, booking's availability and the members' profiles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class FrameworkVersion(Base):
    """One version of the competence framework, loaded by a migration from services/assessment/framework/."""

    __tablename__ = "frameworks"
    version: Mapped[str] = mapped_column(String(20), primary_key=True)
    document: Mapped[dict] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Set once framework.published for this version is in the outbox.
    announced_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class OfferRecord(Base):
    """What assessment knows of a published offer (offer.published v2, offer.updated, offer.withdrawn)."""

    __tablename__ = "offers"
    offer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(20))
    languages: Mapped[list[str]] = mapped_column(JSON)
    competences: Mapped[list[str]] = mapped_column(JSON)
    level: Mapped[int] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # The time of the snapshot kept: an older snapshot arriving late does not replace a newer one.
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SessionRecord(Base):
    """A session of an offer (session.* from the catalog) with its free seats (availability.changed)."""

    __tablename__ = "sessions"
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(36), index=True)
    # Unknown while only booking's availability has arrived.
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    seats: Mapped[dict] = mapped_column(JSON, default=dict)
    # Free seats per format as booking last announced them; None until the first announcement.
    free_seats: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    availability_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class MemberRecord(Base):
    """A member's profile as far as recommendations, demand and teams need it (member.updated)."""

    __tablename__ = "members"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    region: Mapped[str | None] = mapped_column(String(10), nullable=True)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    preferred_formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    team_opt_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # A deleted member stays as this tombstone, so that a profile update overtaken on the bus brings nothing back.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Assessment(Base):
    """A member's self-assessment against a career path, in the framework version it was started in."""

    __tablename__ = "assessments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    career_path: Mapped[str] = mapped_column(String(60))
    framework_version: Mapped[str] = mapped_column(ForeignKey("frameworks.version"))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Who the member was when completing, for the demand analysis (profiles change later).
    quarter: Mapped[str | None] = mapped_column(String(7), nullable=True)
    region: Mapped[str | None] = mapped_column(String(10), nullable=True)
    preferred_format: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # Whether its ratings are in the demand cells: only a member's latest completed one in a quarter is.
    in_demand: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'completed')", name="ck_assessments_status"),
        Index("ix_assessments_member_created", "member_id", "created_at"),
    )


class Rating(Base):
    """A member's answer for one competence: current level 0-5, importance in three years 1-5."""

    __tablename__ = "ratings"
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"),
                                               primary_key=True)
    competence: Mapped[str] = mapped_column(String(20), primary_key=True)
    current_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    future_importance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    confidence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        CheckConstraint("current_level BETWEEN 0 AND 5", name="ck_ratings_current_level"),
        CheckConstraint("future_importance BETWEEN 1 AND 5", name="ck_ratings_future_importance"),
        CheckConstraint("confidence BETWEEN 1 AND 5", name="ck_ratings_confidence"),
    )


class DemandCell(Base):
    """Sums over the members of one group and competence; the demand analysis reads only these.

    A group is (quarter, career path, region, preferred format); a member counts once per quarter with their
    latest completed assessment.
    """

    __tablename__ = "demand_cells"
    quarter: Mapped[str] = mapped_column(String(7), primary_key=True)
    career_path: Mapped[str] = mapped_column(String(60), primary_key=True)
    region: Mapped[str] = mapped_column(String(10), primary_key=True)
    format: Mapped[str] = mapped_column(String(20), primary_key=True)
    competence: Mapped[str] = mapped_column(String(20), primary_key=True)
    members: Mapped[int] = mapped_column(Integer)
    gap_sum: Mapped[int] = mapped_column(Integer)
    importance_sum: Mapped[int] = mapped_column(Integer)
    members_with_gap: Mapped[int] = mapped_column(Integer)
    # What answers show: the sums as they stood when five members had changed the group since the last time.
    published_members: Mapped[int] = mapped_column(Integer, server_default="0")
    published_gap_sum: Mapped[int] = mapped_column(Integer, server_default="0")
    published_importance_sum: Mapped[int] = mapped_column(Integer, server_default="0")
    published_members_with_gap: Mapped[int] = mapped_column(Integer, server_default="0")


class DemandChange(Base):
    """A member who joined, left or changed a demand group since its cells were last published."""

    __tablename__ = "demand_changes"
    quarter: Mapped[str] = mapped_column(String(7), primary_key=True)
    career_path: Mapped[str] = mapped_column(String(60), primary_key=True)
    region: Mapped[str] = mapped_column(String(10), primary_key=True)
    format: Mapped[str] = mapped_column(String(20), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class Reassessment(Base):
    """An attendee's invitation to reassess an offer's competences after a session, and their answer."""

    __tablename__ = "reassessments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    offer_id: Mapped[str] = mapped_column(String(36), index=True)
    session_id: Mapped[str] = mapped_column(String(36))
    # Levels per competence before (from the member's latest completed assessment) and after the session.
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    invited_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (UniqueConstraint("member_id", "session_id", name="uq_reassessments_member_session"),)


class PendingAnnouncement(Base):
    """Something changed that a coalesced event announces: `demand`, or `learning_gain:<offer id>`."""

    __tablename__ = "pending_announcements"
    topic: Mapped[str] = mapped_column(String(80), primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
