"""Invoices and credit notes as PDFs: the essentials of a German invoice, for their owners and operators only."""

from __future__ import annotations

import io

from pypdf import PdfReader

from services import billing
from services.billing.commands import SELLER
from services.billing.invoice_pdf import money
from shared.events.declarations import BookingCancelled, MemberRegistered, MemberUpdated
from shared.testing import bearer, delivery, sample
from tests.integration.test_billing_ledger import OPERATOR, confirm, invoice_of, new_id, publish_v2, settle

SERVICE = billing.SERVICE


def text_of(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.data)).pages)


def test_an_invoice_pdf_shows_seller_buyer_number_date_line_net_vat_and_gross(runtime, consumer, client):
    settle(consumer, delivery(sample(MemberRegistered, member_id="member-1", display_name="Zoë Łukasiewicz")))
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)  # 120.00 EUR gross at 19 % VAT
    confirm(consumer, offer_id, booking_id)
    invoice = invoice_of(runtime, booking_id)

    text = text_of(client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=bearer("member-1")))

    for expected in (SELLER.split(",")[0], "USt-IdNr. DE000000000", "Zoë Łukasiewicz", invoice.number,
                     f"{invoice.issued_at:%d.%m.%Y}", invoice.description, "100,84 EUR", "USt. / VAT 19 %",
                     "19,16 EUR", "120,00 EUR"):
        assert expected in text, expected
    assert client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=OPERATOR).status_code == 200


def test_the_buyers_postal_address_is_invoiced_as_it_was_at_issue(runtime, consumer, client):
    address = ["Königstraße 1", "70173 Stuttgart", "Deutschland"]
    settle(consumer, delivery(sample(MemberUpdated, member_id="member-1", display_name="Ann Muster",
                                     organisation="Cluster BW", postal_address=address)))
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)
    confirm(consumer, offer_id, booking_id)
    invoice = invoice_of(runtime, booking_id)
    settle(consumer, delivery(sample(MemberUpdated, member_id="member-1", display_name="Ann Muster",
                                     postal_address=["Elsewhere 2", "10115 Berlin"],
                                     updated_at=sample(MemberUpdated).updated_at.replace(year=2030))))

    assert client.get(f"/api/v1/invoices/{invoice.id}", headers=bearer("member-1")).json["buyer_address"] == address
    text = text_of(client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=bearer("member-1")))
    assert "Ann Muster, Cluster BW Königstraße 1 70173 Stuttgart Deutschland" in text
    assert "Elsewhere" not in text


def test_a_credit_note_pdf_names_the_invoice_it_corrects_and_shows_what_is_credited(runtime, consumer, client):
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)
    confirm(consumer, offer_id, booking_id)
    invoice = invoice_of(runtime, booking_id)
    path = f"/api/v1/invoices/{invoice.id}/credit-note.pdf"
    assert client.get(path, headers=bearer("member-1")).status_code == 404, "no credit note yet"

    settle(consumer, delivery(sample(BookingCancelled, booking_id=booking_id, offer_id=offer_id, fee_cents=3_000,
                                     refund_cents=9_000, reason="member")))
    note = client.get(f"/api/v1/invoices/{invoice.id}", headers=bearer("member-1")).json["credit_note"]
    text = text_of(client.get(path, headers=bearer("member-1")))

    for expected in ("Gutschrift", note["number"], f"corrects invoice {invoice.number}",
                     f"{invoice.issued_at:%d.%m.%Y}", money(-note["net_cents"], "EUR"),
                     money(-note["vat_cents"], "EUR"), "-90,00 EUR"):
        assert expected in text, expected


def test_other_members_and_partners_get_no_pdf(runtime, consumer, client):
    offer_id, booking_id = new_id(), new_id()
    publish_v2(consumer, offer_id)
    confirm(consumer, offer_id, booking_id)
    invoice = invoice_of(runtime, booking_id)

    for headers in (bearer("member-2"), bearer("partner-1", "partner")):
        response = client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=headers)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/invoices/{new_id()}.pdf", headers=OPERATOR).status_code == 404
    assert client.get(f"/api/v1/invoices/{invoice.id}.pdf").status_code == 401


def test_money_is_written_the_german_way():
    assert [money(cents, "EUR") for cents in (0, 5, 123_456, -9_000)] == [
        "0,00 EUR", "0,05 EUR", "1.234,56 EUR", "-90,00 EUR"]
