"""Billing's HTTP API: a member's invoices."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from services.billing.models import Invoice
from services.billing.schemas import InvoiceOut, InvoicePage
from shared.auth import current_principal, require_roles
from shared.db import fetch_page
from shared.errors import NotFound
from shared.schemas import PageArgs, paginate
from shared.web import Blueprint, transaction

blp = Blueprint("invoices", __name__, url_prefix="/api/v1/invoices", description="Invoices for confirmed bookings")

# Roles that may read any member's invoice (support and revenue reporting).
INVOICE_READERS = ("operator", "partner")


@blp.route("")
class Invoices(MethodView):
    @require_roles()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, InvoicePage)
    @blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """List my invoices, newest first"""
        member_id = current_principal().member_id
        with transaction() as session:
            query = (
                select(Invoice)
                .where(Invoice.member_id == member_id)
                .order_by(Invoice.issued_at.desc(), Invoice.number.desc())
            )
            total, items = fetch_page(session, query, args["page"], args["per_page"])
            return paginate(total, items, args)


@blp.route("/<string:invoice_id>")
class InvoiceById(MethodView):
    @require_roles()
    @blp.response(200, InvoiceOut)
    @blp.doc(security=[{"bearer": []}])
    def get(self, invoice_id):
        """Read one of my invoices"""
        principal = current_principal()
        with transaction() as session:
            invoice = session.get(Invoice, invoice_id)
            # Someone else's invoice is reported as missing, so ids cannot be probed.
            if invoice is None or (
                invoice.member_id != principal.member_id and not principal.has_any(INVOICE_READERS)
            ):
                raise NotFound(f"invoice {invoice_id} not found")
            return invoice
