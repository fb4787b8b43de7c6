"""What billing does in the caller's transaction: ledger rows and events for invoices, and who may read them."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.billing.domain import DEFAULT_POLICY, RevenueSharePolicy, invoice_ledger_lines, invoice_number
from services.billing.models import Invoice, InvoiceSequence, LedgerEntry, OfferRecord
from shared.auth import Principal
from shared.db import fetch_page
from shared.errors import NotFound
from shared.events.declarations import InvoiceIssued
from shared.outbox import record_event

log = logging.getLogger(__name__)

# Roles that may read any member's invoice (support). Not partners: invoices are personal data, and partners
# are to get anonymised revenue reports instead.
INVOICE_READERS = ("operator",)


def next_invoice_number(db: Session, year: int) -> str:
    """The year's next number; taken in the invoice's transaction, so a rollback leaves no gap."""
    # The UPDATE locks the year's row until commit, so concurrent issuers queue instead of sharing a number.
    taken = db.scalar(
        update(InvoiceSequence)
        .where(InvoiceSequence.year == year)
        .values(last_number=InvoiceSequence.last_number + 1)
        .returning(InvoiceSequence.last_number)
    )
    if taken is None:
        # First invoice of the year; a concurrent first one fails on the primary key and is retried.
        taken = 1
        db.add(InvoiceSequence(year=year, last_number=taken))
        db.flush()
    return invoice_number(year, taken)


def issue_invoice(
    db: Session,
    *,
    booking_id: str,
    member_id: str,
    offer: OfferRecord,
    policy: RevenueSharePolicy = DEFAULT_POLICY,
) -> Invoice | None:
    """Invoice a confirmed booking at the offer's price and post the split; None if it was invoiced already."""
    if db.scalar(select(Invoice.id).where(Invoice.booking_id == booking_id)) is not None:
        return None
    now = datetime.now(UTC)
    invoice = Invoice(
        id=str(uuid.uuid4()),
        number=next_invoice_number(db, now.year),
        booking_id=booking_id,
        member_id=member_id,
        offer_id=offer.offer_id,
        description=offer.title,
        total_cents=offer.price_cents,
        currency=offer.currency,
        policy=policy.name,
        issued_at=now,
    )
    db.add(invoice)
    # Flushed before the ledger, so a concurrent invoice for the same booking fails here on the unique key.
    db.flush()
    db.add_all(
        LedgerEntry(
            id=str(uuid.uuid4()),
            invoice_id=invoice.id,
            account=line.account,
            debit_cents=line.debit_cents,
            credit_cents=line.credit_cents,
            created_at=now,
        )
        for line in invoice_ledger_lines(offer.price_cents, offer.provider_id, policy)
    )
    record_event(db, InvoiceIssued(
        invoice_id=invoice.id,
        number=invoice.number,
        booking_id=booking_id,
        member_id=member_id,
        offer_id=offer.offer_id,
        total_cents=invoice.total_cents,
        currency=invoice.currency,
        issued_at=now,
    ))
    log.info("invoice issued", extra={"invoice_number": invoice.number, "booking_id": booking_id})
    return invoice


def invoices_of(db: Session, member_id: str, page: int, per_page: int) -> tuple[int, list[Invoice]]:
    """One page of the member's own invoices, newest first, and how many they have in all."""
    query = (
        select(Invoice)
        .where(Invoice.member_id == member_id)
        .order_by(Invoice.issued_at.desc(), Invoice.number.desc())
    )
    return fetch_page(db, query, page, per_page)


def visible_invoice(db: Session, principal: Principal, invoice_id: str) -> Invoice:
    """The invoice, if `principal` may read it; anyone else is told it does not exist, so ids cannot be probed."""
    invoice = db.get(Invoice, invoice_id)
    if invoice is None or not principal.may_read(invoice.member_id, INVOICE_READERS):
        raise NotFound(f"invoice {invoice_id} not found")
    return invoice
