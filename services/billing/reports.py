"""Partner revenue reports from the ledger's invoice and credit-note postings, and the what-if under another policy."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from services.billing import ledger
from services.billing.domain import ACADEMY, BASIS_POINTS, COMMUNITY_FUND, PARTIES, PROVIDER, VAT, largest_remainder
from services.billing.models import Account, Invoice, Posting

GROUPINGS = ("day", "week", "month", "format", "area", "provider", "region")
REVENUE_KINDS = ("invoice", "credit_note")
MAX_RANGE = timedelta(days=5 * 366)
_COLUMNS = {"format": Posting.format, "area": Posting.area, "provider": Posting.provider_id, "region": Posting.region}


def _check(start: datetime, end: datetime, group_by: str) -> None:
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}; one of {', '.join(GROUPINGS)}")
    if start >= end:
        raise ValueError("a report's range starts before it ends")
    if end - start > MAX_RANGE:
        raise ValueError("a report covers at most five years")


def _bucket(group_by: str, day: date, value: str | None) -> str:
    """The group a posting falls in: its day, ISO week, month or dimension ('' when the posting has none)."""
    if group_by == "day":
        return day.isoformat()
    if group_by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if group_by == "month":
        return day.strftime("%Y-%m")
    return value or ""


def _signed():
    """The posting's amount seen from the member: positive when invoiced, negative when credited back."""
    return case((Account.kind == ledger.MEMBER_RECEIVABLE, Posting.amount_cents), else_=-Posting.amount_cents)


def _rows(db: Session, start: datetime, end: datetime, group_by: str, *extra):
    column = _COLUMNS.get(group_by, Posting.day)
    signed = _signed()
    query = (
        select(Posting.day, column.label("value"), Posting.set_kind, Posting.purpose, *extra,
               func.sum(signed).label("cents"))
        .join(Account, Account.id == Posting.debit_account_id)
        .where(and_(Posting.occurred_at >= start, Posting.occurred_at < end, Posting.set_kind.in_(REVENUE_KINDS)))
        .group_by(Posting.day, column, Posting.set_kind, Posting.purpose, *extra)
    )
    return db.execute(query)


def _empty() -> dict[str, int]:
    return {"gross_cents": 0, "refunds_cents": 0, "vat_cents": 0, "net_revenue_cents": 0,
            ACADEMY + "_cents": 0, COMMUNITY_FUND + "_cents": 0, PROVIDER + "_cents": 0}


def _add(figures: dict[str, int], set_kind: str, purpose: str, cents: int) -> None:
    if set_kind == "invoice":
        figures["gross_cents"] += cents
    else:
        figures["refunds_cents"] -= cents
    if purpose == VAT:
        figures["vat_cents"] += cents
    else:
        figures[purpose + "_cents"] += cents
        figures["net_revenue_cents"] += cents


def _total(groups: dict[str, dict[str, int]]) -> dict[str, int]:
    total = _empty()
    for figures in groups.values():
        for key, cents in figures.items():
            total[key] += cents
    return total


def _quantile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0


def revenue_report(db: Session, start: datetime, end: datetime, group_by: str) -> dict:
    """Gross, refunds, VAT, net revenue and each party's part per group over [start, end), with totals.

    Gross minus refunds is net revenue plus VAT, and academy + community fund + providers is net revenue.
    """
    _check(start, end, group_by)
    groups: dict[str, dict[str, int]] = defaultdict(_empty)
    for row in _rows(db, start, end, group_by):
        _add(groups[_bucket(group_by, row.day, row.value)], row.set_kind, row.purpose, int(row.cents))
    earnings: dict[str, int] = defaultdict(int)
    provider_rows = db.execute(
        select(Posting.provider_id, func.sum(_signed()))
        .join(Account, Account.id == Posting.debit_account_id)
        .where(Posting.occurred_at >= start, Posting.occurred_at < end, Posting.set_kind.in_(REVENUE_KINDS),
               Posting.purpose == PROVIDER)
        .group_by(Posting.provider_id)
    )
    for provider_id, cents in provider_rows:
        earnings[provider_id or ""] += int(cents)
    values = list(earnings.values())
    learners = select(Posting.member_id).where(
        Posting.occurred_at >= start, Posting.occurred_at < end, Posting.set_kind == "invoice")
    both = db.scalar(select(func.count(func.distinct(Posting.provider_id))).where(
        Posting.occurred_at >= start, Posting.occurred_at < end, Posting.set_kind == "invoice",
        Posting.provider_id.in_(learners)))
    return {
        "from": start.isoformat(), "to": end.isoformat(), "group_by": group_by,
        "groups": [{"group": key, **groups[key]} for key in sorted(groups)],
        "total": _total(groups),
        "providers": {
            "count": len(values),
            "median_cents": _quantile(values, 0.5), "p90_cents": _quantile(values, 0.9),
            "top": [{"provider_id": provider_id, "cents": cents}
                    for provider_id, cents in sorted(earnings.items(), key=lambda item: (-item[1], item[0]))[:10]],
        },
        "members_teaching_and_learning": int(both or 0),
    }


def simulate(db: Session, *, shares_bp: dict[str, int], start: datetime, end: datetime, group_by: str) -> dict:
    """The report beside what it would have been had every invoice been split by `shares_bp`; changes nothing.

    Each invoice's net goes to the parties by largest remainder as billing does; a credit note takes back
    the split of the invoice's net minus the split of what the member kept, as billing's credit notes do.
    """
    if set(shares_bp) != set(PARTIES) or min(shares_bp.values()) < 0 or sum(shares_bp.values()) != BASIS_POINTS:
        raise ValueError(f"shares for {', '.join(PARTIES)} adding up to {BASIS_POINTS} basis points")
    actual = revenue_report(db, start, end, group_by)
    weights = {party: shares_bp[party] for party in PARTIES}
    by_provider = group_by == "provider"
    nets: dict[tuple[str, str, str], int] = defaultdict(int)
    groups: dict[str, dict[str, int]] = defaultdict(_empty)
    for row in _rows(db, start, end, group_by, Posting.invoice_id):
        key = _bucket(group_by, row.day, row.value)
        cents = int(row.cents)
        if row.purpose == VAT:
            _add(groups[key], row.set_kind, VAT, cents)
            continue
        # Per provider, an invoice's net is split once and then among its providers, as billing does.
        nets[("" if by_provider else key, row.set_kind, row.invoice_id)] += cents
        if row.set_kind == "invoice":
            groups[key]["gross_cents"] += cents
        else:
            groups[key]["refunds_cents"] -= cents
    invoices = {invoice_id: (net, providers) for invoice_id, net, providers in db.execute(
        select(Invoice.id, Invoice.net_cents, Invoice.providers).where(
            Invoice.id.in_({invoice_id for _, _, invoice_id in nets})))}
    splits: dict[int, dict[str, int]] = {}  # the split depends on the net only; many invoices share a price
    for (key, set_kind, invoice_id), net in nets.items():
        whole, providers = invoices[invoice_id]
        shares = {member: int(percent) for member, percent in providers or []}
        if set_kind == "invoice":
            parts = _parts(net, weights, shares, by_provider, key, splits)
        else:
            before = _parts(whole, weights, shares, by_provider, key, splits)
            kept = _parts(whole + net, weights, shares, by_provider, key, splits)
            parts = {where: kept[where] - before[where] for where in before}
        for (group, party), cents in parts.items():
            groups[group][party + "_cents"] += cents
            groups[group]["net_revenue_cents"] += cents
    total = _total(groups)
    return {
        "actual": actual,
        "simulated": {"shares_bp": weights, "groups": [{"group": key, **groups[key]} for key in sorted(groups)],
                      "total": total},
        "difference": {party: total[party + "_cents"] - actual["total"][party + "_cents"] for party in PARTIES},
    }


def _parts(net: int, weights: dict[str, int], providers: dict[str, int], by_provider: bool,
           key: str, splits: dict[int, dict[str, int]]) -> dict[tuple[str, str], int]:
    """Each party's part of an invoice's net, per provider when grouping by provider, else in the group `key`."""
    split = splits.get(net)
    if split is None:
        split = splits[net] = largest_remainder(net, weights)
    if not by_provider or not providers:
        return {(key, party): cents for party, cents in split.items()}
    return {(provider_id, party): cents
            for party in PARTIES for provider_id, cents in largest_remainder(split[party], providers).items()}
