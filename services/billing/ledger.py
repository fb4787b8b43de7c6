"""The double-entry ledger: typed accounts, posting sets written once, balances per account."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.billing import batch_reads, domain
from services.billing.models import Account, Invoice, Posting, PostingSet, ReportLine
from shared.events import ParsedEvent

# Account kinds; an owner is a member id for the per-member kinds and '' for the academy's own accounts.
MEMBER_RECEIVABLE = "member_receivable"  # what a member owes (debit) or is owed back (credit)
VAT_PAYABLE = "vat_payable"  # VAT owed to the tax office
PROVIDER_PENDING = "provider_pending"  # a provider's share until the session was held
PROVIDER_RELEASED = "provider_released"  # a provider's share once held, until paid out
ACADEMY_REVENUE = "academy_revenue"
COMMUNITY_FUND = "community_fund"
BANK = "bank"  # money received and paid out
MEMBER_CREDITS = "member_credits"  # teach-to-learn credits a member holds
CREDIT_BONUS = "credit_bonus"  # what the academy adds when a provider turns earnings into credits: its cost
ACCOUNT_KINDS = (MEMBER_RECEIVABLE, VAT_PAYABLE, PROVIDER_PENDING, PROVIDER_RELEASED, ACADEMY_REVENUE,
                 COMMUNITY_FUND, BANK, MEMBER_CREDITS, CREDIT_BONUS)
ACADEMY_OWNER = ""

REVENUE_KINDS = ("invoice", "credit_note")  # the posting sets reports read, through report_lines
_NAMESPACE = uuid.UUID("6f1d2b0e-9a41-4c3e-8f57-2d9b1c7a0e11")
_INSERT_BY_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
# Accounts a batch of booking events reads in one query: its members' and providers' and the academy's own.
_BATCH_ACCOUNT_KINDS = (MEMBER_RECEIVABLE, PROVIDER_PENDING, PROVIDER_RELEASED, VAT_PAYABLE, ACADEMY_REVENUE,
                        COMMUNITY_FUND)
# Built once, on the tables, with the values as parameters: building statements and the ORM's unit of work
# around these rows cost more CPU than the database's work.
_INSERT_SET = insert(PostingSet.__table__)
_INSERT_POSTINGS = insert(Posting.__table__)
_INSERT_REPORT_LINES = insert(ReportLine.__table__)


def set_id_for(cause: str) -> str:
    """The posting set id of a business fact (`invoice:<booking>`): the same fact always gets the same id."""
    return str(uuid.uuid5(_NAMESPACE, cause))


def invoice_cause(booking_id: str) -> str:
    return f"invoice:{booking_id}"


def _invoice_sets(events: list[ParsedEvent]) -> set[str]:
    # The posting sets a batch of booking events is about to write: one per booking's invoice.
    return {set_id_for(invoice_cause(booking_id)) for booking_id in batch_reads.bookings_named(events)}


@dataclass(frozen=True)
class Transfer:
    """`amount_cents` moves from the credit account to the debit account (kinds and owners)."""

    debit: tuple[str, str]
    credit: tuple[str, str]
    amount_cents: int
    purpose: str
    provider_id: str | None = None

    def reversed(self, amount_cents: int) -> Transfer:
        return Transfer(self.credit, self.debit, amount_cents, self.purpose, self.provider_id)


@dataclass(frozen=True)
class Dimensions:
    """What every posting of a set carries for reports."""

    occurred_at: datetime
    invoice_id: str | None = None
    offer_id: str | None = None
    member_id: str | None = None
    format: str | None = None
    area: str | None = None
    region: str | None = None


def account_id(db: Session, kind: str, owner: str) -> int:
    """The account's id, opening it on first use; safe when two transactions open the same one at once."""
    reads = batch_reads.of(db)
    known = _batch_accounts(db, reads) if reads is not None else None
    key = (kind, owner)
    if known is not None and key in known:
        return known[key]
    found = None
    if reads is None or key not in reads.no_account:
        found = db.scalar(select(Account.id).where(Account.kind == kind, Account.owner == owner))
    if found is None:
        found = db.scalar(_open_account_statement(db.get_bind().dialect.name), {"kind": kind, "owner": owner})
    if found is None:  # another transaction opened it meanwhile
        found = db.scalar(select(Account.id).where(Account.kind == kind, Account.owner == owner))
    # Kept only outside savepoints: one that rolls back would take the account it opened with it.
    if known is not None and not db.in_nested_transaction():
        known[key] = found
    return found


@cache
def _open_account_statement(dialect: str):
    table = Account.__table__
    return (_INSERT_BY_DIALECT[dialect](table).on_conflict_do_nothing(index_elements=[table.c.kind, table.c.owner])
            .returning(table.c.id))


def _batch_accounts(db: Session, reads: batch_reads.BatchReads) -> dict[tuple[str, str], int]:
    """The ids of the accounts a batch of events names (its members', its offers' providers' and the academy's),
    read in one query on first use."""
    if reads.accounts is None:
        owners = set(batch_reads.members_named(reads.events)) | batch_reads.providers(db) | {ACADEMY_OWNER}
        reads.accounts = {(kind, owner): id_ for id_, kind, owner in db.execute(
            select(Account.id, Account.kind, Account.owner)
            .where(Account.kind.in_(_BATCH_ACCOUNT_KINDS), Account.owner.in_(owners)))}
        reads.no_account = {(kind, owner) for kind in _BATCH_ACCOUNT_KINDS for owner in owners} - set(reads.accounts)
    return reads.accounts


def is_posted(db: Session, cause: str) -> bool:
    return batch_reads.get(db, PostingSet, set_id_for(cause), _invoice_sets) is not None


def post(db: Session, cause: str, kind: str, transfers: list[Transfer], dimensions: Dimensions) -> bool:
    """Write the transfers as one posting set, unless `cause` was posted already; True if written now.

    Negative amounts (a credit note's -1 cent from rounding) are posted the other way round; zero is skipped.
    """
    set_id = set_id_for(cause)
    if is_posted(db, cause):
        return False
    db.flush()  # what the session holds goes first, as it did when the set's row was flushed with it
    # The set's row goes in first: a concurrent writer of the same set fails on its primary key.
    db.execute(_INSERT_SET, {"id": set_id, "kind": kind, "cause": cause[:120], "created_at": datetime.now(UTC)})
    batch_reads.row_written(db, PostingSet, set_id)
    at = dimensions.occurred_at.astimezone(UTC)
    day, period = at.date(), at.strftime("%Y-%m")
    postings = []
    for transfer in transfers:
        if transfer.amount_cents == 0:
            continue
        if transfer.amount_cents < 0:
            transfer = transfer.reversed(-transfer.amount_cents)
        postings.append({
            "set_id": set_id, "line": len(postings) + 1, "set_kind": kind, "purpose": transfer.purpose,
            "debit_account_id": account_id(db, *transfer.debit),
            "credit_account_id": account_id(db, *transfer.credit),
            "amount_cents": transfer.amount_cents, "provider_id": transfer.provider_id,
            "invoice_id": dimensions.invoice_id, "offer_id": dimensions.offer_id, "member_id": dimensions.member_id,
            "format": dimensions.format, "area": dimensions.area, "region": dimensions.region,
            "occurred_at": at, "day": day, "period": period,
        })
    if postings:
        db.execute(_INSERT_POSTINGS, postings)
    if kind in REVENUE_KINDS:
        _report_lines(db, set_id, kind, transfers, dimensions, at)
    return True


def _report_lines(db: Session, set_id: str, kind: str, transfers: list[Transfer], dimensions: Dimensions,
                  at: datetime) -> None:
    """The set's postings summed per provider and purpose, from the member's side, in the same transaction."""
    sums: dict[str, dict[str, int]] = defaultdict(dict)
    for transfer in transfers:
        if transfer.amount_cents == 0:
            continue
        # A posting whose debit is the member's receivable is invoiced to them; the other way, credited back.
        signed = transfer.amount_cents if transfer.debit[0] == MEMBER_RECEIVABLE else -transfer.amount_cents
        purposes = sums[transfer.provider_id or ""]
        purposes[transfer.purpose] = purposes.get(transfer.purpose, 0) + signed
    invoice = db.get(Invoice, dimensions.invoice_id) if dimensions.invoice_id else None
    net = sum(cents for purposes in sums.values() for purpose, cents in purposes.items() if purpose != domain.VAT)
    lines = [{
        "set_id": set_id, "provider_id": provider_id, "set_kind": kind, "invoice_id": dimensions.invoice_id,
        "member_id": dimensions.member_id, "format": dimensions.format, "area": dimensions.area,
        "region": dimensions.region, "occurred_at": at, "day": at.date(), "period": at.strftime("%Y-%m"),
        "vat_cents": purposes.get(domain.VAT), "provider_cents": purposes.get(domain.PROVIDER),
        "academy_cents": purposes.get(domain.ACADEMY), "community_fund_cents": purposes.get(domain.COMMUNITY_FUND),
        "first_of_set": n == 0, "set_net_cents": net,
        "invoice_net_cents": invoice.net_cents if invoice is not None else None,
        "providers": json.dumps(invoice.providers) if invoice is not None and invoice.providers is not None else None,
    } for n, (provider_id, purposes) in enumerate(sorted(sums.items()))]
    if lines:
        db.execute(_INSERT_REPORT_LINES, lines)


@dataclass(frozen=True)
class Balance:
    kind: str
    owner: str
    debit_cents: int
    credit_cents: int

    @property
    def balance_cents(self) -> int:
        """Debits minus credits: positive for what is owed to the academy or held by it, negative for what it owes."""
        return self.debit_cents - self.credit_cents


def balances(db: Session, kinds: tuple[str, ...] = ACCOUNT_KINDS, owner: str | None = None) -> list[Balance]:
    """Every account's debits and credits, by kind and owner."""
    debits = select(Posting.debit_account_id.label("account_id"), Posting.amount_cents.label("debit"),
                    (Posting.amount_cents * 0).label("credit"))
    credits = select(Posting.credit_account_id, Posting.amount_cents * 0, Posting.amount_cents)
    moves = debits.union_all(credits).subquery()
    query = (
        select(Account.kind, Account.owner, func.coalesce(func.sum(moves.c.debit), 0),
               func.coalesce(func.sum(moves.c.credit), 0))
        .join(moves, moves.c.account_id == Account.id)
        .where(Account.kind.in_(kinds))
        .group_by(Account.kind, Account.owner)
        .order_by(Account.kind, Account.owner)
    )
    if owner is not None:
        query = query.where(Account.owner == owner)
    return [Balance(kind, owner_, int(debit), int(credit)) for kind, owner_, debit, credit in db.execute(query)]
