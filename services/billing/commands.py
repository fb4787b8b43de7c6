"""What billing does in the caller's transaction: invoices, credit notes and releases with their postings."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.billing import batch_reads, ledger
from services.billing.domain import (
    ACADEMY,
    COMMUNITY_FUND,
    PROVIDER,
    VAT,
    ShareLine,
    credit_shares,
    invoice_number,
    invoice_shares,
)
from services.billing.models import CreditNote, HeldSession, Invoice, InvoiceSequence, MemberRecord, OfferVersion
from services.billing.payments import refund_overpayment
from services.billing.policies import policy_versions, snapshot_of
from shared.auth import Principal
from shared.db import fetch_page
from shared.errors import NotFound
from shared.events.declarations import CreditNoteIssued, InvoiceIssued
from shared.outbox import record_event

log = logging.getLogger(__name__)

# Roles that may read any member's invoice (support). Not partners: invoices are personal data, and partners
# are to get anonymised revenue reports instead.
INVOICE_READERS = ("operator",)
SELLER = "Virtual Cluster Academy eG, Friedrichstraße 100, 10117 Berlin, USt-IdNr. DE000000000"
FULL_CREDIT_REASONS = ("session_cancelled", "called_off")
_INSERT_BY_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def next_invoice_number(db: Session, year: int) -> str:
    """The year's next document number; taken in the document's transaction, so a rollback leaves no gap."""
    # The UPDATE locks the year's row until commit, so concurrent issuers queue instead of sharing a number.
    # Only a year's first number finds no row: it is created (a concurrent creator waits, then does nothing)
    # and the UPDATE runs again.
    taken = db.scalar(_TAKE_NUMBER, {"of_year": year})
    if taken is None:
        insert = _INSERT_BY_DIALECT[db.get_bind().dialect.name](InvoiceSequence.__table__)
        db.execute(insert.values(year=year, last_number=0).on_conflict_do_nothing(index_elements=["year"]))
        taken = db.scalar(_TAKE_NUMBER, {"of_year": year})
    return invoice_number(year, taken)


_sequences = InvoiceSequence.__table__
_TAKE_NUMBER = (update(_sequences).where(_sequences.c.year == bindparam("of_year"))
                .values(last_number=_sequences.c.last_number + 1).returning(_sequences.c.last_number))


def offer_terms(db: Session, offer_id: str, at: datetime) -> OfferVersion | None:
    """The offer's version in force at `at`; the first one for a booking older than every version we know."""
    versions = batch_reads.offer_versions(db, offer_id)
    if versions is not None:
        in_force = [version for version in versions if version.effective_at <= at]
        return in_force[-1] if in_force else (versions[0] if versions else None)
    newest_before = db.scalars(
        select(OfferVersion).where(OfferVersion.offer_id == offer_id, OfferVersion.effective_at <= at)
        .order_by(OfferVersion.effective_at.desc()).limit(1)
    ).first()
    if newest_before is not None:
        return newest_before
    return db.scalars(
        select(OfferVersion).where(OfferVersion.offer_id == offer_id).order_by(OfferVersion.effective_at).limit(1)
    ).first()


def _party_account(line: ShareLine, provider_kind: str) -> tuple[str, str]:
    return {
        VAT: (ledger.VAT_PAYABLE, ledger.ACADEMY_OWNER),
        PROVIDER: (provider_kind, line.provider_id),
        ACADEMY: (ledger.ACADEMY_REVENUE, ledger.ACADEMY_OWNER),
        COMMUNITY_FUND: (ledger.COMMUNITY_FUND, ledger.ACADEMY_OWNER),
    }[line.purpose]


def _lines(shares: list[dict] | None) -> list[ShareLine]:
    return [ShareLine(**share) for share in shares or []]


def _dimensions(invoice: Invoice, at: datetime) -> ledger.Dimensions:
    return ledger.Dimensions(occurred_at=at, invoice_id=invoice.id, offer_id=invoice.offer_id,
                             member_id=invoice.member_id, format=invoice.format, area=invoice.area,
                             region=invoice.region)


def issue_invoice(db: Session, *, booking_id: str, session_id: str, member_id: str, format: str,
                  offer: OfferVersion, booked_at: datetime) -> Invoice | None:
    """Invoice a held seat by the offer's terms and the policy in force when it was booked, and post the split;
    None if the booking was invoiced already."""
    if (not batch_reads.not_invoiced(db, booking_id)
            and db.scalar(select(Invoice.id).where(Invoice.booking_id == booking_id)) is not None):
        return None
    version, policy = policy_versions(db).in_force(booked_at)
    providers = {member: percent for member, percent in offer.providers}
    shares = invoice_shares(offer.price_cents, offer.vat_rate, policy, providers)
    vat_cents = sum(line.cents for line in shares if line.purpose == VAT)
    buyer = batch_reads.get(db, MemberRecord, member_id, batch_reads.members_named)
    now = datetime.now(UTC)
    invoice = Invoice(
        id=str(uuid.uuid4()), number=next_invoice_number(db, now.year), booking_id=booking_id,
        session_id=session_id, member_id=member_id, buyer_name=_buyer_name(buyer), buyer_address=_buyer_address(buyer),
        seller=SELLER,
        offer_id=offer.offer_id, description=offer.title, format=format, total_cents=offer.price_cents,
        net_cents=offer.price_cents - vat_cents, vat_cents=vat_cents, vat_rate=offer.vat_rate,
        currency=offer.currency, policy=f"v{version}", policy_version=version, policy_shares=snapshot_of(policy),
        providers=[[member, percent] for member, percent in providers.items()],
        shares=[line.__dict__ for line in shares], area=offer.area, region=offer.region, booked_at=booked_at,
        issued_at=now,
    )
    db.add(invoice)
    # Flushed before the ledger, so a concurrent invoice for the same booking fails here on the unique key.
    db.flush()
    receivable = (ledger.MEMBER_RECEIVABLE, member_id)
    ledger.post(db, ledger.invoice_cause(booking_id), "invoice", [
        ledger.Transfer(receivable, _party_account(line, ledger.PROVIDER_PENDING), line.cents, line.purpose,
                        line.provider_id)
        for line in shares
    ], _dimensions(invoice, booked_at))
    record_event(db, InvoiceIssued(
        invoice_id=invoice.id, number=invoice.number, booking_id=booking_id, member_id=member_id,
        offer_id=offer.offer_id, total_cents=invoice.total_cents, currency=invoice.currency, issued_at=now,
    ))
    log.info("invoice issued", extra={"invoice_number": invoice.number, "booking_id": booking_id})
    held = batch_reads.get(db, HeldSession, session_id, batch_reads.sessions_named)
    if held is not None:  # attendance was recorded before this invoice reached us
        release_invoice(db, invoice, held.recorded_at)
    return invoice


def _buyer_name(member: MemberRecord | None) -> str | None:
    if member is None or member.deleted_at is not None:
        return None
    return f"{member.display_name}, {member.organisation}" if member.organisation else member.display_name


def _buyer_address(member: MemberRecord | None) -> list[str] | None:
    return None if member is None or member.deleted_at is not None else member.postal_address


def refund_of(gross_cents: int, fee_cents: int, refund_cents: int, reason: str) -> int:
    """What to credit of an invoice: all of it when the session is off, else the refund booking computed.

    Booking priced the seat when it was booked; should its price differ from the invoice's, the refund keeps
    its proportion of what was paid.
    """
    if reason in FULL_CREDIT_REASONS:
        return gross_cents
    paid = fee_cents + refund_cents
    if paid == gross_cents or paid == 0:
        return min(refund_cents, gross_cents)
    return (refund_cents * gross_cents * 2 + paid) // (2 * paid)


def issue_credit_note(db: Session, invoice: Invoice, *, reason: str, refund_cents: int,
                      cancelled_at: datetime) -> CreditNote | None:
    """Credit `refund_cents` of the invoice, reversing its shares so that the kept fee stays split by the
    invoice's policy; None if it was credited already or nothing is refunded."""
    if refund_cents == 0 or db.scalar(select(CreditNote.id).where(CreditNote.invoice_id == invoice.id)):
        return None
    policy = policy_versions(db).by_number(invoice.policy_version)
    providers = {member: percent for member, percent in invoice.providers}
    lines = credit_shares(invoice.total_cents, refund_cents, invoice.vat_rate, policy, providers)
    vat_cents = sum(line.cents for line in lines if line.purpose == VAT)
    now = datetime.now(UTC)
    note = CreditNote(
        id=str(uuid.uuid4()), number=next_invoice_number(db, now.year), invoice_id=invoice.id,
        member_id=invoice.member_id, reason=reason, total_cents=refund_cents, net_cents=refund_cents - vat_cents,
        vat_cents=vat_cents, fee_cents=invoice.total_cents - refund_cents, currency=invoice.currency,
        shares=[line.__dict__ for line in lines], cancelled_at=cancelled_at, issued_at=now,
    )
    db.add(note)
    db.flush()
    # A share already released is taken back from what the provider holds for payout.
    released = ledger.is_posted(db, f"release:{invoice.id}")
    provider_kind = ledger.PROVIDER_RELEASED if released else ledger.PROVIDER_PENDING
    receivable = (ledger.MEMBER_RECEIVABLE, invoice.member_id)
    ledger.post(db, f"credit_note:{invoice.id}", "credit_note", [
        ledger.Transfer(_party_account(line, provider_kind), receivable, line.cents, line.purpose, line.provider_id)
        for line in lines
    ], _dimensions(invoice, cancelled_at))
    refund_overpayment(db, invoice, now)
    record_event(db, CreditNoteIssued(
        credit_note_id=note.id, number=note.number, invoice_id=invoice.id, invoice_number=invoice.number,
        booking_id=invoice.booking_id, member_id=invoice.member_id, offer_id=invoice.offer_id,
        total_cents=refund_cents, currency=invoice.currency, reason=reason, issued_at=now,
    ))
    log.info("credit note issued", extra={"credit_note_number": note.number, "invoice_number": invoice.number})
    return note


def release_invoice(db: Session, invoice: Invoice, recorded_at: datetime) -> bool:
    """Move the providers' shares of a held session's invoice, less what was credited, from pending to
    released; True if posted now."""
    provider_lines: dict[str, int] = {}
    for line in _lines(invoice.shares):
        if line.purpose == PROVIDER:
            provider_lines[line.provider_id] = provider_lines.get(line.provider_id, 0) + line.cents
    note = db.scalar(select(CreditNote).where(CreditNote.invoice_id == invoice.id))
    for line in _lines(note.shares if note else None):
        if line.purpose == PROVIDER:
            provider_lines[line.provider_id] = provider_lines.get(line.provider_id, 0) - line.cents
    return ledger.post(db, f"release:{invoice.id}", "release", [
        ledger.Transfer((ledger.PROVIDER_PENDING, provider), (ledger.PROVIDER_RELEASED, provider), cents, "release",
                        provider)
        for provider, cents in provider_lines.items()
    ], _dimensions(invoice, recorded_at))


def record_attendance(db: Session, session_id: str, recorded_at: datetime) -> int:
    """The session was held: release its invoices (now and any that arrive later); how many were released."""
    if db.get(HeldSession, session_id) is None:
        db.add(HeldSession(session_id=session_id, recorded_at=recorded_at))
    held = db.get(HeldSession, session_id)
    invoices = db.scalars(select(Invoice).where(Invoice.session_id == session_id).order_by(Invoice.number))
    return sum(release_invoice(db, invoice, held.recorded_at) for invoice in invoices)


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


def credit_note_of(db: Session, invoice_id: str) -> CreditNote | None:
    return db.scalar(select(CreditNote).where(CreditNote.invoice_id == invoice_id))
