"""Teach-to-learn credits: a provider turns released earnings into academy credits with a bonus; credits pay
invoices. Credits are a ledger account like any other, so a converted cent leaves the provider's payout."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.billing import ledger
from services.billing.models import Account, Invoice, Payment, Posting
from services.billing.payments import CREDITS, record_payment, state_of
from shared.auth import Principal
from shared.db import fetch_page
from shared.errors import Forbidden, Unprocessable


@dataclass(frozen=True)
class Conversion:
    id: str
    amount_cents: int
    bonus_cents: int
    balance_cents: int

    @property
    def credits_cents(self) -> int:
        return self.amount_cents + self.bonus_cents


@dataclass(frozen=True)
class Movement:
    """One change of a member's credits: positive when credits came in, negative when they were spent."""

    kind: str
    cents: int
    invoice_id: str | None
    occurred_at: datetime


def bonus_of(amount_cents: int, bonus_percent: int) -> int:
    """The bonus in whole cents, rounded half up."""
    return (2 * amount_cents * bonus_percent + 100) // 200


def _locked_account(db: Session, kind: str, owner: str) -> Account | None:
    # Spending from an account (a conversion, a payment with credits) holds its row lock, so two at once cannot
    # both spend the same balance (SQLite serialises writers instead).
    return db.scalar(select(Account).where(Account.kind == kind, Account.owner == owner).with_for_update())


def _held(db: Session, kind: str, owner: str) -> int:
    """What the academy holds for the owner on a liability account: its credits less its debits."""
    [balance] = ledger.balances(db, (kind,), owner) or [ledger.Balance(kind, owner, 0, 0)]
    return -balance.balance_cents


def credits_balance(db: Session, member_id: str) -> int:
    return _held(db, ledger.MEMBER_CREDITS, member_id)


def available_earnings(db: Session, provider_id: str) -> int:
    """Released shares not yet paid out or converted."""
    return _held(db, ledger.PROVIDER_RELEASED, provider_id)


def convert_earnings(db: Session, provider_id: str, amount_cents: int, bonus_percent: int) -> Conversion:
    """Turn released earnings into credits plus the bonus; more than is available is refused (422)."""
    _locked_account(db, ledger.PROVIDER_RELEASED, provider_id)
    available = available_earnings(db, provider_id)
    if amount_cents > available:
        raise Unprocessable("you cannot convert more than your released earnings", errors={"amount_cents": [
            f"at most {available} cents are available"]})
    conversion_id, bonus = str(uuid.uuid4()), bonus_of(amount_cents, bonus_percent)
    credits = (ledger.MEMBER_CREDITS, provider_id)
    ledger.post(db, f"conversion:{conversion_id}", "conversion", [
        ledger.Transfer((ledger.PROVIDER_RELEASED, provider_id), credits, amount_cents, "conversion", provider_id),
        ledger.Transfer((ledger.CREDIT_BONUS, ledger.ACADEMY_OWNER), credits, bonus, "credit_bonus", provider_id),
    ], ledger.Dimensions(occurred_at=datetime.now(UTC), member_id=provider_id))
    return Conversion(conversion_id, amount_cents, bonus, credits_balance(db, provider_id))


def pay_with_credits(db: Session, principal: Principal, invoice: Invoice, amount_cents: int | None) -> Payment:
    """Pay the member's own invoice from their credits: what is open, or `amount_cents` of it."""
    if invoice.member_id != principal.member_id:
        raise Forbidden("only the invoiced member pays with their credits")
    _locked_account(db, ledger.MEMBER_CREDITS, invoice.member_id)
    amount = state_of(db, invoice).open_cents if amount_cents is None else amount_cents
    if amount == 0:
        raise Unprocessable("nothing is open on this invoice", errors={"amount_cents": ["nothing to pay"]})
    balance = credits_balance(db, invoice.member_id)
    if amount > balance:
        raise Unprocessable("not enough credits", errors={"amount_cents": [f"you hold {balance} cents of credits"]})
    return record_payment(db, invoice, amount_cents=amount, method=CREDITS, recorded_by=principal.member_id)


def movements_of(db: Session, member_id: str, page: int, per_page: int) -> tuple[int, list[Movement]]:
    """One page of the member's credit movements, newest first, and how many there are."""
    account = db.scalar(select(Account.id).where(Account.kind == ledger.MEMBER_CREDITS, Account.owner == member_id))
    if account is None:
        return 0, []
    query = (select(Posting).where(or_(Posting.debit_account_id == account, Posting.credit_account_id == account))
             .order_by(Posting.occurred_at.desc(), Posting.id.desc()))
    total, postings = fetch_page(db, query, page, per_page)
    return total, [Movement(posting.purpose, posting.amount_cents if posting.credit_account_id == account
                            else -posting.amount_cents, posting.invoice_id, posting.occurred_at)
                   for posting in postings]
