"""Catalog's tables: members with their credentials and sign-in state, offers with their competences, sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    pass


# The full-text index is kept by the migrations, as no model declares it on both backends: SQLite's FTS5 table
# offer_search (and its shadow tables) with the column offers.search_id it is keyed by and the facet count's
# covering index on it, PostgreSQL's generated columns offers.search_vector (every term) and offers.weighed_vector
# (the title's and summary's terms, which relevance weighs) and their GIN indexes.
Base.metadata.info["unmodelled"] = ("offer_search", "search_id", "ix_offers_search_id", "ix_offers_search_facets",
                                    "search_vector", "ix_offers_search_vector", "weighed_vector",
                                    "ix_offers_weighed_vector")


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
    # The lines of the address invoices are made out to (street, postcode and town, country), if the member gave one.
    postal_address: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Set when the member deleted their account: the row stays, anonymised, so that ids elsewhere still resolve.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Set when the member opened the mailed confirmation link (or a password-reset link); no sign-in before.
    email_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class PasswordReset(Base):
    """A password reset asked for by mail: its token as a digest, valid once until it expires."""

    __tablename__ = "password_resets"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class EmailVerification(Base):
    """A registration waiting for its address to be confirmed by the mailed link. It holds the password and profile
    of that registration, so the link sets what the person who registered chose, whoever registered the address
    before or after."""

    __tablename__ = "email_verifications"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    preferred_language: Mapped[str] = mapped_column(String(2))
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


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
    name: Mapped[str] = mapped_column(String(100))  # a code of the competence framework


class OfferLanguage(Base):
    """One language an offer is taught in; a row each, so search can filter on it on every backend."""

    __tablename__ = "offer_languages"
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(2), index=True)


class OfferProvider(Base):
    """A member who teaches an offer and their percent of the providers' part; a co-provider accepts first."""

    __tablename__ = "offer_providers"
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
    share_percent: Mapped[int] = mapped_column(Integer)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class OfferLearningGain(Base):
    """How much an offer's attendees say they learned (learning_gain.recorded): sums over five or more answers."""

    __tablename__ = "offer_learning_gains"
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    respondents: Mapped[int] = mapped_column(Integer)
    competences: Mapped[list] = mapped_column(JSON)  # [{competence, before_sum, after_sum}, ...]
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Offer(Base):
    __tablename__ = "offers"
    # Search filters on offers' own columns among the published ones (the first also covers the facet count), and
    # the newest first: publication time, then id, both descending (search.ORDERS), read backwards.
    __table_args__ = (Index("ix_offers_status_format_level", "status", "format", "level", "language_codes"),
                      Index("ix_offers_status_price_cents", "status", "price_cents"),
                      Index("ix_offers_status_published_at", "status", "published_at", "id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36), index=True)  # who proposed it and may change it
    status: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer)  # 1-5, the framework's levels
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    vat_rate: Mapped[int] = mapped_column(Integer)
    cancellation_policy: Mapped[str] = mapped_column(String(20))  # a name of domain.CANCELLATION_POLICIES or custom
    fee_tiers: Mapped[list] = mapped_column(JSON)  # [[days_before, fee_percent], ...] as the policy resolves
    minimum_participants: Mapped[int] = mapped_column(Integer)
    maximum_participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decision_days_before: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # the review queue's order
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The German and English stems of title, summary and description, space-separated (search.index_offer): what
    # the full-text index holds, stemmed here so both backends find the same offers.
    search_terms: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The stems of the title and of the summary alone, each between spaces (" clust cluster "): relevance finds a
    # word's stem in them with a plain substring search, where lowering the text of every offer found cost more
    # than matching it.
    title_terms: Mapped[str] = mapped_column(Text, default=" ", server_default=" ")
    summary_terms: Mapped[str] = mapped_column(Text, default=" ", server_default=" ")
    # The codes of `languages`, comma-separated in their order (kept by search on every flush): the language facet
    # counts them without reading offer_languages for every offer found.
    language_codes: Mapped[str] = mapped_column(String(100), default="", server_default="")

    competence_rows: Mapped[list[OfferCompetence]] = relationship(
        order_by=OfferCompetence.position,
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    # Read and assigned as a plain list of codes; the rows and their order follow.
    competences: AssociationProxy[list[str]] = association_proxy(
        "competence_rows", "name", creator=lambda name: OfferCompetence(name=name)
    )
    language_rows: Mapped[list[OfferLanguage]] = relationship(
        order_by=OfferLanguage.position,
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    languages: AssociationProxy[list[str]] = association_proxy(
        "language_rows", "code", creator=lambda code: OfferLanguage(code=code)
    )
    providers: Mapped[list[OfferProvider]] = relationship(
        order_by=OfferProvider.position, cascade="all, delete-orphan", lazy="selectin"
    )
    # Loaded with the offer, so an answer can show them after its transaction has ended.
    sessions: Mapped[list[OfferSession]] = relationship(
        back_populates="offer", order_by="OfferSession.starts_at", lazy="selectin"
    )
    learning_gain: Mapped[OfferLearningGain | None] = relationship(lazy="selectin", viewonly=True)

    @property
    def provider_ids(self) -> list[str]:
        return [provider.member_id for provider in self.providers]


class OfferReview(Base):
    """A reviewer's decision on an offer in review, with the comment and checklist it rests on."""

    __tablename__ = "offer_reviews"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), index=True)
    reviewer_id: Mapped[str] = mapped_column(String(36))
    decision: Mapped[str] = mapped_column(String(20))  # domain.OfferAction.APPROVE or REQUEST_CHANGES
    comment: Mapped[str] = mapped_column(Text)
    checklist: Mapped[dict] = mapped_column(JSON)
    reviewed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OfferHistoryEntry(Base):
    """One step in an offer's audit trail: who did what, when, and the status it left the offer in."""

    __tablename__ = "offer_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), index=True)
    actor_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


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
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)  # never public: see schemas.SessionOut
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    cancellation_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Free seats as booking last told (availability.changed); None until it has, when the seats offered count.
    free_online: Mapped[int | None] = mapped_column(Integer, nullable=True)
    free_in_person: Mapped[int | None] = mapped_column(Integer, nullable=True)
    availability_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

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


# --- topic requests: what members ask to be taught, their votes and the offers that answer them ----------
class TopicRequest(Base):
    __tablename__ = "topic_requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Who asked; none once they deleted their account (the request stays for those who voted).
    member_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    competences: Mapped[list[str]] = mapped_column(JSON)
    preferred_formats: Mapped[list[str]] = mapped_column(JSON)
    region: Mapped[str | None] = mapped_column(String(6), nullable=True)
    # The number of topic_request_votes rows, kept beside them so the list sorts by it without counting.
    votes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TopicRequestVote(Base):
    """One member's vote for a request; asking is the first vote."""

    __tablename__ = "topic_request_votes"
    topic_request_id: Mapped[str] = mapped_column(ForeignKey("topic_requests.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    voted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TopicRequestAnswer(Base):
    """A provider's published offer that answers a request; each offer answers a request once."""

    __tablename__ = "topic_request_answers"
    topic_request_id: Mapped[str] = mapped_column(ForeignKey("topic_requests.id"), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer_title: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[str] = mapped_column(String(36))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- the anonymised demand per competence, as assessment last published it (demand.updated) -------------
class DemandQuarter(Base):
    """The quarter (and its update) the competence_demand rows are of: one row, replaced by later ones."""

    __tablename__ = "demand_quarters"
    quarter: Mapped[str] = mapped_column(String(7), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CompetenceDemandRow(Base):
    __tablename__ = "competence_demand"
    competence: Mapped[str] = mapped_column(String(60), primary_key=True)
    area: Mapped[str] = mapped_column(String(60))
    members: Mapped[int] = mapped_column(Integer)
    members_with_gap: Mapped[int] = mapped_column(Integer)
    gap_sum: Mapped[int] = mapped_column(Integer)
    importance_sum: Mapped[int] = mapped_column(Integer)


# --- ratings: who attended which session (attendance.recorded), and what attendees thought of it -----------
class AttendanceRecord(Base):
    """The latest attendance list booking recorded for a session."""

    __tablename__ = "attendance_records"
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(36))
    provider_id: Mapped[str] = mapped_column(String(36))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SessionAttendee(Base):
    __tablename__ = "session_attendees"
    session_id: Mapped[str] = mapped_column(ForeignKey("attendance_records.session_id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class Rating(Base):
    """An attendee's stars and comment for a session, and the provider's public answer to it."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("session_id", "member_id"), CheckConstraint("stars BETWEEN 1 AND 5"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36))
    offer_id: Mapped[str] = mapped_column(String(36), index=True)
    provider_id: Mapped[str] = mapped_column(String(36), index=True)
    # None once the member deleted their account; the stars still count.
    member_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


# --- what search answers are kept under ---------------------------------------------------------------
class SearchGeneration(Base):
    """One row: raised by every transaction that changes what an offer search reads (search_cache)."""

    __tablename__ = "search_generation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)
    # Raised instead when a transaction changes only booking's counts of free seats, which only searches for free
    # seats read.
    seats_generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


# --- self-governance: proposals, their comments and votes, and who may vote ------------------------------
class Proposal(Base):
    """A member's proposal: discussed until voting opens, voted on until it closes, then accepted or rejected."""

    __tablename__ = "proposals"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # governance.ProposalKind
    title: Mapped[str] = mapped_column(String(200))
    reasons: Mapped[str] = mapped_column(Text)
    # None once the proposer deleted their account; the proposal stays for those who voted.
    proposer_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # policy: {shares_bp, effective_from}; reviewer: {member_id, action: grant|remove}; motion: {}
    terms: Mapped[dict] = mapped_column(JSON)
    # The quorum and majorities in force when it was proposed, as fractions ("1/10"), so later settings
    # do not change a running vote.
    rules: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    voting_opens_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    voting_closes_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    opening_announced_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)  # accepted | rejected
    # The counts at closing (who voted how is never kept beyond the votes themselves).
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    carried_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # What carrying it out made, e.g. {"policy_version": 3}.
    carried_out: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # A policy's what-if from billing: each party's cents over the last year as they were and as they would have
    # been (None until billing answers).
    what_if: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class ProposalComment(Base):
    __tablename__ = "proposal_comments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), index=True)
    member_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ProposalVote(Base):
    """A member's current choice on a proposal; changing it replaces it."""

    __tablename__ = "proposal_votes"
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    choice: Mapped[str] = mapped_column(String(10))
    voted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MemberBookingActivity(Base):
    """A member's latest booking, from booking's events: a booking within two years makes a member eligible."""

    __tablename__ = "member_booking_activity"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_booked_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
