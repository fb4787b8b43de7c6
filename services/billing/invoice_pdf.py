"""Invoices and credit notes as one-page PDFs (fpdf2) with what German VAT law asks of an invoice (§ 14 UStG)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF

from shared.pdf import text_for, unicode_font


@dataclass(frozen=True)
class DocumentLine:
    description: str
    net_cents: int
    vat_rate: int
    vat_cents: int
    gross_cents: int


@dataclass(frozen=True)
class AccountingDocument:
    """An invoice, or a credit note that corrects one (then `corrects` names the invoice and its date)."""

    title: str
    number: str
    issued_at: datetime
    seller: str
    buyer: str
    buyer_reference: str
    line: DocumentLine
    currency: str
    corrects: tuple[str, datetime] | None = None
    note: str | None = None


def money(cents: int, currency: str) -> str:
    """German notation: 1.234,56 EUR."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{part:02d} {currency}"


def render_document(document: AccountingDocument) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{document.title} {document.number}")
    pdf.set_creator("Virtual Cluster Academy")
    # The issue date as creation date: the same document is byte for byte the same whenever it is downloaded.
    pdf.set_creation_date(document.issued_at)
    pdf.add_page()
    family = unicode_font(pdf)
    text = text_for(family)

    def write(value: str, size: int = 10, *, space: float = 1) -> None:
        pdf.set_font(family, size=size)
        pdf.multi_cell(0, size * 0.5, text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(space)

    write(document.seller, 8, space=8)
    write(document.buyer, 11)
    write(f"Mitgliedsnummer / member: {document.buyer_reference}", 8, space=10)
    write(document.title, 18, space=4)
    write(f"Nummer / number: {document.number}")
    write(f"Datum / date: {document.issued_at:%d.%m.%Y}", space=4)
    if document.corrects is not None:
        number, issued_at = document.corrects
        write(f"Korrektur der Rechnung / corrects invoice {number} vom {issued_at:%d.%m.%Y}", space=6)
    line, currency = document.line, document.currency
    rows = [
        ("Leistung / item", line.description),
        ("Menge / quantity", "1"),
        ("Netto / net", money(line.net_cents, currency)),
        (f"USt. / VAT {line.vat_rate} %", money(line.vat_cents, currency)),
        ("Brutto / gross", money(line.gross_cents, currency)),
    ]
    pdf.set_font(family, size=10)
    with pdf.table(col_widths=(60, 120), text_align=("LEFT", "RIGHT"), first_row_as_headings=False) as table:
        for label, value in rows:
            table.row([text(label), text(value)])
    pdf.ln(6)
    if document.note:
        write(document.note, 9)
    return bytes(pdf.output())
