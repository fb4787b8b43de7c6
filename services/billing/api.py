"""Billing's HTTP API: a member's invoices."""

from __future__ import annotations

from flask.views import MethodView

from services.billing.commands import invoices_of, visible_invoice
from services.billing.schemas import InvoiceOut, InvoicePage
from shared.auth import current_principal, require_roles
from shared.schemas import PageArgs, paginate
from shared.web import Blueprint, transaction

blp = Blueprint("invoices", __name__, url_prefix="/api/v1/invoices", description="Invoices for confirmed bookings")


@blp.route("")
class Invoices(MethodView):
    @require_roles()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, InvoicePage)
    @blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """List my invoices, newest first"""
        with transaction() as db:
            total, items = invoices_of(db, current_principal().member_id, args["page"], args["per_page"])
            return paginate(total, items, args)


@blp.route("/<string:invoice_id>")
class InvoiceById(MethodView):
    @require_roles()
    @blp.response(200, InvoiceOut)
    @blp.doc(security=[{"bearer": []}])
    def get(self, invoice_id):
        """Read one of my invoices"""
        with transaction() as db:
            return visible_invoice(db, current_principal(), invoice_id)
