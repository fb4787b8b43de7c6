"""Payments of invoices by bank or academy credits, refunds of what a credit note left overpaid, invoice states."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.billing import ledger
from services.billing.domain import InvoiceState, invoice_state
from services.billing.models import CreditNote, Invoice, Payment
from shared.errors import Unprocessable
from shared.events.declarations import PaymentRecorded
from shared.outbox import record_event
from shared.side_effects import record_side_effect

BANK, CREDITS = "bank", "credits"
# A refund goes back the way the money came: to the member's credits first, the rest to their bank account.
BANK_REFUND, CREDITS_REFUND = "bank_refund", "credits_refund"
RECEIVED = (BANK, CREDITS)
REFUNDED = (BANK_REFUND, CREDITS_REFUND)
REFUND_EFFECT = "billing.refund"
# Where each method's money comes from (a payment) or goes to (a refund).
_MONEY_ACCOUNT = {BANK: ledger.BANK, BANK_REFUND: ledger.BANK, CREDITS: ledger.MEMBER_CREDITS,
                  CREDITS_REFUND: ledger.MEMBER_CREDITS}


def state_of(db: Session, invoice: Invoice) -> InvoiceState:
    credited = db.scalar(select(CreditNote.total_cents).where(CreditNote.invoice_id == invoice.id)) or 0
    by_method = dict(db.execute(
        select(Payment.method, func.sum(Payment.amount_cents)).where(Payment.invoice_id == invoice.id)
        .group_by(Payment.method)
    ).all())
    paid = sum(by_method.get(method, 0) for method in RECEIVED) - sum(by_method.get(method, 0) for method in REFUNDED)
    return invoice_state(invoice.total_cents, credited, paid)


def payments_of(db: Session, invoice_id: str) -> list[Payment]:
    return list(db.scalars(select(Payment).where(Payment.invoice_id == invoice_id)
                           .order_by(Payment.received_at, Payment.id)))


def _lock(db: Session, invoice: Invoice) -> None:
    # Payments and the refund after a credit note read what was paid under the invoice's row lock, so two of them
    # at once cannot both take the same open amount (SQLite serialises writers instead).
    db.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())


def _post(db: Session, payment: Payment, invoice: Invoice) -> None:
    money = (_MONEY_ACCOUNT[payment.method], invoice.member_id if payment.method in (CREDITS, CREDITS_REFUND)
             else ledger.ACADEMY_OWNER)
    receivable = (ledger.MEMBER_RECEIVABLE, invoice.member_id)
    transfer = (ledger.Transfer(money, receivable, payment.amount_cents, payment.method) if payment.method in RECEIVED
                else ledger.Transfer(receivable, money, payment.amount_cents, payment.method))
    ledger.post(db, f"payment:{payment.id}", "payment", [transfer], ledger.Dimensions(
        occurred_at=payment.received_at, invoice_id=invoice.id, offer_id=invoice.offer_id,
        member_id=invoice.member_id, format=invoice.format, area=invoice.area, region=invoice.region))


def _announce(db: Session, payment: Payment, invoice: Invoice) -> None:
    record_event(db, PaymentRecorded(
        payment_id=payment.id, invoice_id=invoice.id, invoice_number=invoice.number, member_id=invoice.member_id,
        method=payment.method, amount_cents=payment.amount_cents, currency=invoice.currency,
        open_cents=state_of(db, invoice).open_cents, recorded_at=payment.received_at))


def record_payment(db: Session, invoice: Invoice, *, amount_cents: int, method: str = BANK,
                   reference: str | None = None, recorded_by: str | None = None,
                   received_at: datetime | None = None, payment_id: str | None = None) -> Payment:
    """Record money received for the invoice and post it against the member's receivable; more than is open is
    refused (422). A payment id recorded before returns that payment: retrying the same payment is harmless."""
    _lock(db, invoice)
    if payment_id is not None and (earlier := db.get(Payment, payment_id)) is not None:
        return earlier
    state = state_of(db, invoice)
    if amount_cents > state.open_cents:
        raise Unprocessable("the payment is more than the invoice asks for", errors={"amount_cents": [
            f"at most {state.open_cents} cents are open on invoice {invoice.number}"]})
    payment = Payment(id=payment_id or str(uuid.uuid4()), invoice_id=invoice.id, member_id=invoice.member_id,
                      method=method, amount_cents=amount_cents, reference=reference, recorded_by=recorded_by,
                      received_at=received_at or datetime.now(UTC))
    db.add(payment)
    db.flush()
    _post(db, payment, invoice)
    _announce(db, payment, invoice)
    return payment


def refund_overpayment(db: Session, invoice: Invoice, at: datetime) -> list[Payment]:
    """After a credit note: pay back what was paid beyond what is still due, credits first, and have the bank
    transfer made by the payout partner."""
    _lock(db, invoice)
    left = state_of(db, invoice).overpaid_cents
    by_credits = db.scalar(select(func.coalesce(func.sum(Payment.amount_cents), 0))
                           .where(Payment.invoice_id == invoice.id, Payment.method == CREDITS))
    refunds = []
    for method, cents in ((CREDITS_REFUND, min(left, by_credits)), (BANK_REFUND, left - min(left, by_credits))):
        if cents <= 0:
            continue
        # Derived from the invoice: it gets one credit note, so one refund of each kind.
        refund = Payment(id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"refund:{method}:{invoice.id}")),
                         invoice_id=invoice.id, member_id=invoice.member_id, method=method, amount_cents=cents,
                         received_at=at)
        db.add(refund)
        db.flush()
        _post(db, refund, invoice)
        _announce(db, refund, invoice)
        refunds.append(refund)
        if method == BANK_REFUND:
            record_side_effect(db, REFUND_EFFECT, f"refund:{refund.id}", {
                "refund_id": refund.id, "member_id": invoice.member_id, "invoice_number": invoice.number,
                "amount_cents": cents, "currency": invoice.currency})
    return refunds
