"""What an invoice's or credit note's PDF shows, for whoever may read it, taken from the issued rows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.billing.commands import credit_note_of, visible_invoice
from services.billing.invoice_pdf import AccountingDocument, DocumentLine
from services.billing.models import Invoice
from shared.auth import Principal
from shared.errors import NotFound

REASONS = {
    "member": "Stornierung durch das Mitglied / cancelled by the member",
    "session_cancelled": "Termin abgesagt / session cancelled",
    "called_off": "Mindestteilnehmerzahl nicht erreicht / called off, too few participants",
}


def _buyer(invoice: Invoice) -> str:
    # The name and address as invoiced; an invoice issued before billing knew the member's name shows who they are
    # by id.
    name = invoice.buyer_name or f"Mitglied / member {invoice.member_id}"
    return "\n".join([name, *(invoice.buyer_address or [])])


def invoice_document(db: Session, principal: Principal, invoice_id: str) -> AccountingDocument:
    """The invoice as its PDF shows it; a 404 for anyone who may not read it."""
    invoice = visible_invoice(db, principal, invoice_id)
    booked = f"Gebucht am / booked on {invoice.booked_at:%d.%m.%Y}" if invoice.booked_at else None
    return AccountingDocument(
        title="Rechnung / Invoice", number=invoice.number, issued_at=invoice.issued_at, seller=invoice.seller or "",
        buyer=_buyer(invoice), buyer_reference=invoice.member_id, currency=invoice.currency, note=booked,
        line=DocumentLine(invoice.description, invoice.net_cents or 0, invoice.vat_rate or 0, invoice.vat_cents or 0,
                          invoice.total_cents),
    )


def credit_note_document(db: Session, principal: Principal, invoice_id: str) -> AccountingDocument:
    """The credit note of the invoice, with negative amounts and the invoice it corrects; a 404 if there is none."""
    invoice = visible_invoice(db, principal, invoice_id)
    note = credit_note_of(db, invoice.id)
    if note is None:
        raise NotFound(f"invoice {invoice_id} has no credit note")
    reason = REASONS.get(note.reason, note.reason)
    return AccountingDocument(
        title="Gutschrift / Credit note", number=note.number, issued_at=note.issued_at, seller=invoice.seller or "",
        buyer=_buyer(invoice), buyer_reference=invoice.member_id, currency=note.currency,
        corrects=(invoice.number, invoice.issued_at), note=reason,
        line=DocumentLine(invoice.description, -note.net_cents, invoice.vat_rate or 0, -note.vat_cents,
                          -note.total_cents),
    )
