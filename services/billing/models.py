"""Billing's tables: read models of offers and members, policies, invoices, credit notes, payments, payouts and
the ledger."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime

# Ids in the ledger grow past 2**31 over the years; SQLite's autoincrement wants INTEGER.
BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class MemberRecord(Base):
    """What billing knows of a member (member.registered / updated): the buyer's name an invoice shows."""

    __tablename__ = "members"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    postal_address: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class OfferVersion(Base):
    """An offer's terms from a moment on (offer.published v1 / v2, offer.updated): a booking is invoiced by the
    version in force when it was made."""

    __tablename__ = "offer_versions"
    offer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    event_version: Mapped[int] = mapped_column(Integer)  # 1 or 2: which offer event told us
    title: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    vat_rate: Mapped[int] = mapped_column(Integer)
    # [[member_id, share_percent], ...] in the offer's order; the shares add up to 100.
    providers: Mapped[list] = mapped_column(JSON)
    area: Mapped[str | None] = mapped_column(String(60), nullable=True)
    region: Mapped[str | None] = mapped_column(String(10), nullable=True)


class RevenuePolicy(Base):
    """A version of the revenue-share policy; versions are only ever added, never changed."""

    __tablename__ = "revenue_policies"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    provider_bp: Mapped[int] = mapped_column(Integer)
    academy_bp: Mapped[int] = mapped_column(Integer)
    community_fund_bp: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(36))

    __table_args__ = (
        CheckConstraint("provider_bp >= 0 AND academy_bp >= 0 AND community_fund_bp >= 0 "
                        "AND provider_bp + academy_bp + community_fund_bp = 10000", name="ck_revenue_policies_whole"),
    )


class InvoiceSequence(Base):
    """The last document number given out in a year; invoices and credit notes share it, without gaps."""

    __tablename__ = "invoice_sequences"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class Invoice(Base):
    """An invoice as issued; never changed afterwards (payments and credit notes are rows of their own)."""

    __tablename__ = "invoices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # One invoice per booking, whatever the inbox lets through (a second event about the same booking).
    booking_id: Mapped[str] = mapped_column(String(36), unique=True)
    session_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    member_id: Mapped[str] = mapped_column(String(36))
    buyer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The lines of the buyer's postal address as the member's profile held them at issue.
    buyer_address: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    seller: Mapped[str | None] = mapped_column(String(300), nullable=True)
    offer_id: Mapped[str] = mapped_column(String(36))
    description: Mapped[str] = mapped_column(String(200))
    format: Mapped[str | None] = mapped_column(String(20), nullable=True)
    total_cents: Mapped[int] = mapped_column(Integer)  # the gross
    net_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vat_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vat_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    policy: Mapped[str] = mapped_column(String(60))
    policy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The policy's shares in basis points and the offer's providers with their percent, as invoiced.
    policy_shares: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    providers: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # [{purpose, provider_id, cents}]: the gross as VAT and each party's part (domain.invoice_shares).
    shares: Mapped[list | None] = mapped_column(JSON, nullable=True)
    area: Mapped[str | None] = mapped_column(String(60), nullable=True)
    region: Mapped[str | None] = mapped_column(String(10), nullable=True)
    booked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("total_cents >= 0", name="ck_invoices_total_not_negative"),
        Index("ix_invoices_member_issued", "member_id", "issued_at"),
    )


class CreditNote(Base):
    """A credit note against an invoice (a cancellation's refund, or all of it); never changed afterwards."""

    __tablename__ = "credit_notes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # A booking is cancelled once, so an invoice gets at most one credit note.
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), unique=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(String(30))
    total_cents: Mapped[int] = mapped_column(Integer)  # the gross credited
    net_cents: Mapped[int] = mapped_column(Integer)
    vat_cents: Mapped[int] = mapped_column(Integer)
    fee_cents: Mapped[int] = mapped_column(Integer)  # what the member still owes of the invoice
    currency: Mapped[str] = mapped_column(String(3))
    shares: Mapped[list] = mapped_column(JSON)  # the lines taken back, as on the invoice
    cancelled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (CheckConstraint("total_cents >= 0", name="ck_credit_notes_total_not_negative"),)


class Payment(Base):
    """Money received for an invoice (by bank, or from the member's academy credits), or a refund of what was paid
    beyond what a credit note left to pay; never changed afterwards."""

    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    member_id: Mapped[str] = mapped_column(String(36))
    method: Mapped[str] = mapped_column(String(20))  # bank, credits or refund
    amount_cents: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(140), nullable=True)
    recorded_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (CheckConstraint("amount_cents > 0", name="ck_payments_amount_positive"),)


class Payout(Base):
    """A provider's statement for a month: their released shares, reversals and conversions not yet on a
    statement, and what is paid out; one per provider and month, whichever worker makes it."""

    __tablename__ = "payouts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    amount_cents: Mapped[int] = mapped_column(Integer)  # paid out
    credits_cents: Mapped[int] = mapped_column(Integer)  # converted into academy credits instead
    currency: Mapped[str] = mapped_column(String(3))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("provider_id", "period", name="uq_payouts_provider_period"),
        CheckConstraint("amount_cents >= 0 AND credits_cents >= 0", name="ck_payouts_not_negative"),
    )


class PayoutLine(Base):
    """A posting on a provider's released account, on the one statement that settled it."""

    __tablename__ = "payout_lines"
    posting_id: Mapped[int] = mapped_column(ForeignKey("postings.id"), primary_key=True, autoincrement=False)
    payout_id: Mapped[str] = mapped_column(ForeignKey("payouts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # release, credit_note or conversion
    invoice_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    cents: Mapped[int] = mapped_column(Integer)  # positive for earnings, negative for reversals and conversions
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())


class HeldSession(Base):
    """A session whose attendance was recorded: its invoices' provider shares are released."""

    __tablename__ = "held_sessions"
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Account(Base):
    """A ledger account, typed: its kind, and whose it is ('' for the academy's own accounts)."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30))
    owner: Mapped[str] = mapped_column(String(36))

    __table_args__ = (UniqueConstraint("kind", "owner", name="uq_accounts_kind_owner"),)


class PostingSet(Base):
    """One business fact in the ledger; its id is derived from what caused it, so it is posted once."""

    __tablename__ = "posting_sets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    cause: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Posting(Base):
    """One transfer of `amount_cents` from the credit account to the debit account: every posting balances.

    It carries what a report groups by (offer, provider, format, area, region, day and month); reports read the
    sums the ledger keeps of them per invoice or credit note and provider (ReportLine), written with them.
    """

    __tablename__ = "postings"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("posting_sets.id"))
    line: Mapped[int] = mapped_column(Integer)
    set_kind: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20))
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BIG_ID)
    invoice_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    offer_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    provider_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    member_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    format: Mapped[str | None] = mapped_column(String(20), nullable=True)
    area: Mapped[str | None] = mapped_column(String(60), nullable=True)
    region: Mapped[str | None] = mapped_column(String(10), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    day: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM, the month of a payout statement

    __table_args__ = (
        UniqueConstraint("set_id", "line", name="uq_postings_set_line"),
        CheckConstraint("amount_cents > 0 AND debit_account_id <> credit_account_id", name="ck_postings_transfer"),
        Index("ix_postings_report", "day", "set_kind", "purpose"),
    )


class ReportLine(Base):
    """An invoice's or credit note's postings summed per provider, written with them: what reports read.

    Amounts are seen from the member (positive invoiced, negative credited back), NULL where the set has no
    posting of that purpose. The set's first line (by provider) also carries what the what-if splits again:
    the set's net, the invoice's net and its providers' percentages, so a million postings are a quarter
    as many narrow rows with no join.
    """

    __tablename__ = "report_lines"
    set_id: Mapped[str] = mapped_column(ForeignKey("posting_sets.id"), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # '' for postings without one
    set_kind: Mapped[str] = mapped_column(String(20))
    invoice_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    member_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    format: Mapped[str | None] = mapped_column(String(20), nullable=True)
    area: Mapped[str | None] = mapped_column(String(60), nullable=True)
    region: Mapped[str | None] = mapped_column(String(10), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    day: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(7))
    vat_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    provider_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    academy_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    community_fund_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    first_of_set: Mapped[bool] = mapped_column(Boolean)
    set_net_cents: Mapped[int] = mapped_column(BigInteger)  # the whole set's, on every line
    invoice_net_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    providers: Mapped[str | None] = mapped_column(Text, nullable=True)  # the invoice's, as JSON text

    __table_args__ = (Index("ix_report_lines_occurred_at", "occurred_at"),)


class ImmutableRecord(Exception):
    """Something tried to change an issued invoice or credit note."""


@event.listens_for(Invoice, "before_update")
@event.listens_for(CreditNote, "before_update")
@event.listens_for(Payment, "before_update")
@event.listens_for(Payout, "before_update")
def _refuse_changes(_mapper, _connection, target) -> None:
    raise ImmutableRecord(f"{type(target).__name__} {target.id} is issued and cannot change")
