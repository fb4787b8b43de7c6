"""Monthly payout statements: each provider's released shares, reversals and conversions not yet settled, paid out."""

from __future__ import annotations

import logging
import uuid
import weakref
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.billing import ledger
from services.billing.models import Account, Payout, PayoutLine, Posting
from services.billing.settings import billing_settings
from shared.db import fetch_page
from shared.events.declarations import PayoutIssued
from shared.outbox import record_event
from shared.side_effects import record_side_effect

log = logging.getLogger(__name__)

PAYOUT_EFFECT = "billing.payout"
# Postings on a provider's released account that a statement settles; its own payout posting is not one of them.
SETTLED_KINDS = ("release", "credit_note", "conversion")
CONVERSION = "conversion"


def month_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def previous_period(at: datetime) -> str:
    start = month_start(at)
    return f"{start.year - 1}-12" if start.month == 1 else f"{start.year}-{start.month - 1:02d}"


def _unsettled(account_id: int, before: datetime):
    """Postings on the account that no statement settled yet: those of months past, and conversions whenever made
    (a conversion spends money already held, so it is set against the earnings it came from)."""
    return (
        select(Posting)
        .outerjoin(PayoutLine, PayoutLine.posting_id == Posting.id)
        .where(PayoutLine.posting_id.is_(None), Posting.set_kind.in_(SETTLED_KINDS),
               or_(Posting.debit_account_id == account_id, Posting.credit_account_id == account_id),
               or_(Posting.occurred_at < before, Posting.set_kind == CONVERSION))
        .order_by(Posting.occurred_at, Posting.id)
    )


def issue_payout(db: Session, provider_id: str, period: str, before: datetime, now: datetime) -> Payout | None:
    """The provider's statement for `period` from everything unsettled before `before`, paid out through the payout
    partner; None when there is nothing to settle or the reversals outweigh the earnings (they wait for more)."""
    account = db.scalar(select(Account).where(Account.kind == ledger.PROVIDER_RELEASED, Account.owner == provider_id)
                        .with_for_update())
    if account is None:
        return None
    postings = db.scalars(_unsettled(account.id, before)).all()
    # Released shares are credited to the account, reversals and conversions debited from it.
    lines = [(posting, posting.amount_cents if posting.credit_account_id == account.id else -posting.amount_cents)
             for posting in postings]
    amount = sum(cents for _, cents in lines)
    if not lines or amount < 0:
        return None
    currency = billing_settings().currency
    payout = Payout(id=str(uuid.uuid4()), provider_id=provider_id, period=period, amount_cents=amount,
                    credits_cents=-sum(cents for posting, cents in lines if posting.set_kind == CONVERSION),
                    currency=currency, issued_at=now)
    db.add(payout)
    # The statement's row first: a second worker making the same one fails here on (provider, period).
    db.flush()
    db.add_all(PayoutLine(posting_id=posting.id, payout_id=payout.id, kind=posting.set_kind,
                          invoice_id=posting.invoice_id, cents=cents, occurred_at=posting.occurred_at)
               for posting, cents in lines)
    if amount:
        ledger.post(db, f"payout:{provider_id}:{period}", "payout", [ledger.Transfer(
            (ledger.PROVIDER_RELEASED, provider_id), (ledger.BANK, ledger.ACADEMY_OWNER), amount, "payout",
            provider_id)], ledger.Dimensions(occurred_at=now))
        record_side_effect(db, PAYOUT_EFFECT, f"payout:{payout.id}", {
            "payout_id": payout.id, "provider_id": provider_id, "period": period, "amount_cents": amount,
            "currency": currency})
    # The event's amount is what the statement settles (released shares less reversals), of which credits_cents
    # were converted into credits and the rest paid out.
    record_event(db, PayoutIssued(payout_id=payout.id, provider_id=provider_id, period=period,
                                  amount_cents=amount + payout.credits_cents, credits_cents=payout.credits_cents,
                                  currency=currency, issued_at=now))
    log.info("payout issued", extra={"provider_id": provider_id, "period": period, "amount_cents": amount})
    return payout


def issue_due_payouts(session_factory: sessionmaker, now: datetime | None = None) -> int:
    """Statements for the month before `now` for every provider with something unsettled; returns how many were
    issued. Safe with two workers at once: a provider's statement is made under its account's row lock, once per
    month by the unique (provider, period)."""
    now = now or datetime.now(UTC)
    period, before = previous_period(now), month_start(now)
    with session_factory() as db:
        providers = db.scalars(
            select(Account.owner).where(Account.kind == ledger.PROVIDER_RELEASED)
            .where(~select(Payout.id).where(Payout.provider_id == Account.owner, Payout.period == period).exists())
            .order_by(Account.owner)
        ).all()
    issued = 0
    for provider_id in providers:
        try:
            with session_factory.begin() as db:
                issued += issue_payout(db, provider_id, period, before, now) is not None
        except IntegrityError:
            log.info("payout of %s for %s was issued by another worker", provider_id, period)
    return issued


class MonthlyPayouts:
    """The worker's scheduled job: one round of statements per month and database in a process (after a restart
    once more, which catches up on what fell due while no worker ran and finds done statements done)."""

    def __init__(self):
        self.done_for: weakref.WeakKeyDictionary[sessionmaker, str] = weakref.WeakKeyDictionary()

    def __call__(self, session_factory: sessionmaker) -> int:
        period = previous_period(datetime.now(UTC))
        if self.done_for.get(session_factory) == period:
            return 0
        issued = issue_due_payouts(session_factory)
        self.done_for[session_factory] = period
        return issued


def payouts_of(db: Session, provider_id: str | None, page: int, per_page: int) -> tuple[int, list[Payout]]:
    """One page of statements, newest first: a provider's own, or everyone's for `provider_id` None."""
    query = select(Payout).order_by(Payout.period.desc(), Payout.provider_id)
    if provider_id is not None:
        query = query.where(Payout.provider_id == provider_id)
    return fetch_page(db, query, page, per_page)


def lines_of(db: Session, payout_id: str) -> list[PayoutLine]:
    return list(db.scalars(select(PayoutLine).where(PayoutLine.payout_id == payout_id)
                           .order_by(PayoutLine.occurred_at, PayoutLine.posting_id)))
