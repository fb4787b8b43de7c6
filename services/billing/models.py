"""Billing's tables: its read model of offers, and the invoices, ledger and number sequences it owns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class OfferRecord(Base):
    """What billing knows of a published offer (from offer.published): whom to pay, and how much."""

    __tablename__ = "offers"
    offer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36))
    title: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))


class InvoiceSequence(Base):
    """The last invoice number given out in a year; numbers run without gaps within a year."""

    __tablename__ = "invoice_sequences"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # One invoice per booking, whatever the inbox lets through (a second event about the same booking).
    booking_id: Mapped[str] = mapped_column(String(36), unique=True)
    member_id: Mapped[str] = mapped_column(String(36))
    offer_id: Mapped[str] = mapped_column(String(36))
    description: Mapped[str] = mapped_column(String(200))
    total_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    policy: Mapped[str] = mapped_column(String(60))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("total_cents >= 0", name="ck_invoices_total_not_negative"),
        Index("ix_invoices_member_issued", "member_id", "issued_at"),
    )


class LedgerEntry(Base):
    """One line of a double-entry posting: for every invoice its debits and credits add up to the same sum."""

    __tablename__ = "ledger_entries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    account: Mapped[str] = mapped_column(String(80), index=True)
    debit_cents: Mapped[int] = mapped_column(Integer)
    credit_cents: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint(
            "debit_cents >= 0 AND credit_cents >= 0 AND (debit_cents = 0 OR credit_cents = 0)",
            name="ck_ledger_entries_one_side",
        ),
    )
