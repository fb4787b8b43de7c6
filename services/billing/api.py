"""Billing's HTTP API: a member's invoices, revenue-share policies, ledger balances."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response
from flask.views import MethodView

from services.billing import ledger
from services.billing.commands import INVOICE_READERS, credit_note_of, invoices_of, visible_invoice
from services.billing.credits import (
    available_earnings,
    convert_earnings,
    credits_balance,
    movements_of,
    pay_with_credits,
)
from services.billing.documents import credit_note_document, invoice_document
from services.billing.invoice_pdf import AccountingDocument, render_document
from services.billing.payments import payments_of, record_payment, state_of
from services.billing.payouts import lines_of, payouts_of
from services.billing.policies import add_policy, policy_versions
from services.billing.schemas import (
    BalancesOut,
    ConversionIn,
    ConversionOut,
    CreditsOut,
    InvoiceOut,
    InvoicePage,
    PaymentIn,
    PaymentOut,
    PayoutArgs,
    PayoutPage,
    PayWithCreditsIn,
    PolicyIn,
    PolicyList,
    PolicyOut,
)
from services.billing.settings import billing_settings
from shared.auth import current_principal, require_roles
from shared.schemas import PageArgs, paginate
from shared.web import Blueprint, transaction

blp = Blueprint("invoices", __name__, url_prefix="/api/v1/invoices", description="Invoices for confirmed bookings")
policies_blp = Blueprint("revenue-policies", __name__, url_prefix="/api/v1/revenue-policies",
                         description="Versions of the revenue-share policy")
payouts_blp = Blueprint("payouts", __name__, url_prefix="/api/v1/payouts",
                        description="Providers' monthly payout statements")
credits_blp = Blueprint("credits", __name__, url_prefix="/api/v1/credits",
                        description="Teach-to-learn credits: earnings turned into credits that pay invoices")
ledger_blp = Blueprint("ledger", __name__, url_prefix="/api/v1/ledger", description="The double-entry ledger")


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
            return paginate(total, [_InvoiceView(db, invoice) for invoice in items], args)


@blp.route("/<string:invoice_id>")
class InvoiceById(MethodView):
    @require_roles()
    @blp.response(200, InvoiceOut)
    @blp.doc(security=[{"bearer": []}])
    def get(self, invoice_id):
        """Read one of my invoices, with its lines, the revenue split and any credit note"""
        with transaction() as db:
            return _InvoiceView(db, visible_invoice(db, current_principal(), invoice_id))


def _pdf(document: AccountingDocument) -> Response:
    # Made outside the database transaction, from what it read.
    return Response(render_document(document), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{document.number}.pdf"'})


@blp.route("/<string:invoice_id>.pdf")
class InvoicePdf(MethodView):
    @require_roles()
    @blp.response(200, content_type="application/pdf", description="The invoice as a PDF")
    @blp.doc(security=[{"bearer": []}])
    def get(self, invoice_id):
        """One of my invoices as a PDF"""
        with transaction() as db:
            document = invoice_document(db, current_principal(), invoice_id)
        return _pdf(document)


@blp.route("/<string:invoice_id>/credit-note.pdf")
class CreditNotePdf(MethodView):
    @require_roles()
    @blp.response(200, content_type="application/pdf", description="The credit note as a PDF")
    @blp.doc(security=[{"bearer": []}])
    def get(self, invoice_id):
        """The credit note of one of my invoices as a PDF"""
        with transaction() as db:
            document = credit_note_document(db, current_principal(), invoice_id)
        return _pdf(document)


@blp.route("/<string:invoice_id>/payments")
class InvoicePayments(MethodView):
    @require_roles("operator")
    @blp.idempotent
    @blp.arguments(PaymentIn)
    @blp.response(201, PaymentOut)
    @blp.doc(security=[{"bearer": []}])
    def post(self, payment, invoice_id):
        """Record a payment received for an invoice, in part or in full (operators); more than is open is a 422"""
        with transaction() as db:
            invoice = visible_invoice(db, current_principal(), invoice_id)
            return record_payment(db, invoice, recorded_by=current_principal().member_id, **payment)


@blp.route("/<string:invoice_id>/pay-with-credits")
class InvoicePaidWithCredits(MethodView):
    @require_roles()
    @blp.idempotent
    @blp.arguments(PayWithCreditsIn)
    @blp.response(201, PaymentOut)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, invoice_id):
        """Pay one of my invoices from my academy credits: what is open, or part of it"""
        with transaction() as db:
            invoice = visible_invoice(db, current_principal(), invoice_id)
            return pay_with_credits(db, current_principal(), invoice, body.get("amount_cents"))


class _InvoiceView:
    """An invoice as the API shows it: its own columns, its credit note if any, its state and payments."""

    def __init__(self, db, invoice):
        self._invoice = invoice
        self.credit_note = credit_note_of(db, invoice.id)
        state = state_of(db, invoice)
        self.status, self.due_cents, self.paid_cents = state.status, state.due_cents, state.paid_cents
        self.open_cents = state.open_cents
        self.payments = payments_of(db, invoice.id)

    def __getattr__(self, name):
        return getattr(self._invoice, name)


@policies_blp.route("")
class RevenuePolicies(MethodView):
    @require_roles()
    @policies_blp.response(200, PolicyList)
    @policies_blp.doc(security=[{"bearer": []}])
    def get(self):
        """List every version of the revenue-share policy (members govern it, so all may read it)"""
        with transaction() as db:
            versions = policy_versions(db)
            in_force, _ = versions.in_force(datetime.now(UTC))
            return {"items": versions.rows, "in_force": in_force}

    @require_roles("operator")
    @policies_blp.idempotent
    @policies_blp.arguments(PolicyIn)
    @policies_blp.response(201, PolicyOut)
    @policies_blp.doc(security=[{"bearer": []}])
    def post(self, policy):
        """Add a policy version taking effect at a future date (operators)"""
        with transaction() as db:
            return add_policy(db, created_by=current_principal().member_id, **policy)


@ledger_blp.route("/balances")
class LedgerBalances(MethodView):
    @require_roles("operator")
    @ledger_blp.response(200, BalancesOut)
    @ledger_blp.doc(security=[{"bearer": []}])
    def get(self):
        """Every account's debits, credits and balance, and the ledger's totals (which are always equal)"""
        with transaction() as db:
            accounts = ledger.balances(db)
            return {"accounts": accounts, "debit_cents": sum(account.debit_cents for account in accounts),
                    "credit_cents": sum(account.credit_cents for account in accounts)}


@payouts_blp.route("")
class Payouts(MethodView):
    @require_roles()
    @payouts_blp.arguments(PayoutArgs, location="query")
    @payouts_blp.response(200, PayoutPage)
    @payouts_blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """List my payout statements with their lines, newest first (operators: everyone's, or one provider's)"""
        principal = current_principal()
        provider = args.get("provider_id") if principal.has_any(INVOICE_READERS) else principal.member_id
        with transaction() as db:
            total, items = payouts_of(db, provider, args["page"], args["per_page"])
            for payout in items:
                payout.lines = lines_of(db, payout.id)
            return paginate(total, items, args)


@credits_blp.route("")
class Credits(MethodView):
    @require_roles()
    @credits_blp.arguments(PageArgs, location="query")
    @credits_blp.response(200, CreditsOut)
    @credits_blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """My credits: the balance, earnings I may convert, the bonus, and the movements, newest first"""
        member = current_principal().member_id
        with transaction() as db:
            total, movements = movements_of(db, member, args["page"], args["per_page"])
            return {**paginate(total, movements, args), "balance_cents": credits_balance(db, member),
                    "available_earnings_cents": available_earnings(db, member),
                    "bonus_percent": billing_settings().credit_bonus_percent}


@credits_blp.route("/conversions")
class CreditConversions(MethodView):
    @require_roles()
    @credits_blp.idempotent
    @credits_blp.arguments(ConversionIn)
    @credits_blp.response(201, ConversionOut)
    @credits_blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Turn released earnings into academy credits, with the academy's bonus on top"""
        with transaction() as db:
            return convert_earnings(db, current_principal().member_id, body["amount_cents"],
                                    billing_settings().credit_bonus_percent)
