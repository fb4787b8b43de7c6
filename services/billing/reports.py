"""Partner revenue reports from the ledger's invoice and credit-note postings, and the what-if under another policy."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.billing.domain import ACADEMY, BASIS_POINTS, COMMUNITY_FUND, PARTIES, PROVIDER, VAT, largest_remainder
from services.billing.models import ReportLine

GROUPINGS = ("day", "week", "month", "format", "area", "provider", "region")
MAX_RANGE = timedelta(days=5 * 366)
# What the database groups by: the day for days and weeks (weeks are made in Python, alike on both databases).
_COLUMNS = {"day": ReportLine.day, "week": ReportLine.day, "month": ReportLine.period, "format": ReportLine.format,
            "area": ReportLine.area, "provider": ReportLine.provider_id, "region": ReportLine.region}
_PARTS = {VAT: ReportLine.vat_cents, PROVIDER: ReportLine.provider_cents, ACADEMY: ReportLine.academy_cents,
          COMMUNITY_FUND: ReportLine.community_fund_cents}


def _check(start: datetime, end: datetime, group_by: str) -> None:
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}; one of {', '.join(GROUPINGS)}")
    if start >= end:
        raise ValueError("a report's range starts before it ends")
    if end - start > MAX_RANGE:
        raise ValueError("a report covers at most five years")


def _bucket(group_by: str, value: date | str | None) -> str:
    """The group of a value of the grouping's column: its day, ISO week, month or dimension ('' for none)."""
    if group_by == "day":
        return value.isoformat()
    if group_by == "week":
        year, week, _ = value.isocalendar()
        return f"{year}-W{week:02d}"
    return value or ""


def _in_range(start: datetime, end: datetime):
    return (ReportLine.occurred_at >= start, ReportLine.occurred_at < end)


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


def _groups(db: Session, start: datetime, end: datetime, group_by: str) -> dict[str, dict[str, int]]:
    column = _COLUMNS[group_by]
    query = (select(column, ReportLine.set_kind, *(func.sum(part) for part in _PARTS.values()))
             .where(*_in_range(start, end)).group_by(column, ReportLine.set_kind))
    groups: dict[str, dict[str, int]] = defaultdict(_empty)
    for value, set_kind, *sums in db.execute(query):
        figures = groups[_bucket(group_by, value)]
        for purpose, cents in zip(_PARTS, sums, strict=True):
            if cents is not None:
                _add(figures, set_kind, purpose, int(cents))
    return groups


def revenue_report(db: Session, start: datetime, end: datetime, group_by: str) -> dict:
    """Gross, refunds, VAT, net revenue and each party's part per group over [start, end), with totals.

    Gross minus refunds is net revenue plus VAT, and academy + community fund + providers is net revenue.
    """
    _check(start, end, group_by)
    groups = _groups(db, start, end, group_by)
    earnings = {provider_id: int(cents) for provider_id, cents in db.execute(
        select(ReportLine.provider_id, func.sum(ReportLine.provider_cents)).where(*_in_range(start, end))
        .group_by(ReportLine.provider_id).having(func.count(ReportLine.provider_cents) > 0))}
    values = list(earnings.values())
    invoiced = (*_in_range(start, end), ReportLine.set_kind == "invoice")
    teachers = select(ReportLine.provider_id).where(*invoiced, ReportLine.provider_id != "")
    both = db.scalar(select(func.count()).select_from(
        teachers.intersect(select(ReportLine.member_id).where(*invoiced)).subquery()))
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
    Gross, refunds and VAT stay as they were.
    """
    if set(shares_bp) != set(PARTIES) or min(shares_bp.values()) < 0 or sum(shares_bp.values()) != BASIS_POINTS:
        raise ValueError(f"shares for {', '.join(PARTIES)} adding up to {BASIS_POINTS} basis points")
    actual = revenue_report(db, start, end, group_by)
    weights = {party: shares_bp[party] for party in PARTIES}
    groups = {group["group"]: {**group, "net_revenue_cents": 0, **{party + "_cents": 0 for party in PARTIES}}
              for group in actual["groups"]}
    by_group = _provider_parts if group_by == "provider" else _group_parts
    for (group, party), cents in by_group(db, start, end, group_by, weights).items():
        figures = groups.setdefault(group, {"group": group, **_empty()})
        figures[party + "_cents"] += cents
        figures["net_revenue_cents"] += cents
    simulated = [groups[key] for key in sorted(groups)]
    total = {figure: sum(group[figure] for group in simulated) for figure in _empty()}
    return {
        "actual": actual,
        "simulated": {"shares_bp": weights, "groups": simulated, "total": total},
        "difference": {party: total[party + "_cents"] - actual["total"][party + "_cents"] for party in PARTIES},
    }


def _split(net, weights: dict[str, int]) -> dict:
    """`largest_remainder(net, weights)` as SQL over a column of nets of zero or more, weights adding up to
    BASIS_POINTS: each party gets the floor of its exact share, and the cents left over go one each to the
    largest remainders, ties in the order of `weights`."""
    floors = {party: net * weight // BASIS_POINTS for party, weight in weights.items()}
    rests = {party: net * weight % BASIS_POINTS for party, weight in weights.items()}
    left_over = net - sum(floors.values())
    order = list(weights)
    parts = {}
    for i, party in enumerate(order):
        # How many parties come before this one for a left-over cent: a larger remainder, or an equal one earlier.
        ahead = sum(case((rests[other] >= rests[party] if j < i else rests[other] > rests[party], 1), else_=0)
                    for j, other in enumerate(order) if other != party)
        parts[party] = floors[party] + case((left_over > ahead, 1), else_=0)
    return parts


def _sums(weights: dict[str, int]) -> list:
    """Each party's part of the sets summed, every set split by largest remainder as billing splits it."""
    net, whole = ReportLine.set_net_cents, ReportLine.invoice_net_cents
    invoiced, before, kept = _split(net, weights), _split(whole, weights), _split(whole + net, weights)
    return [func.sum(case((ReportLine.set_kind == "invoice", invoiced[party]), else_=kept[party] - before[party]))
            for party in PARTIES]


def _group_parts(db: Session, start: datetime, end: datetime, group_by: str,
                 weights: dict[str, int]) -> dict[tuple[str, str], int]:
    """Each party's part per group, split set by set inside the database: a million postings return as groups."""
    column = _COLUMNS[group_by]
    parts: dict[tuple[str, str], int] = defaultdict(int)
    for value, *cents in db.execute(select(column, *_sums(weights))
                                    .where(*_in_range(start, end), ReportLine.first_of_set).group_by(column)):
        for party, party_cents in zip(PARTIES, cents, strict=True):
            parts[(_bucket(group_by, value), party)] += int(party_cents or 0)
    return parts


def _shares(providers: str | None) -> dict[str, int]:
    return {member: int(percent) for member, percent in (json.loads(providers) if providers else [])}


def _provider_parts(db: Session, start: datetime, end: datetime, group_by: str,
                    weights: dict[str, int]) -> dict[tuple[str, str], int]:
    """Each party's part per provider: a set's net is split once and then among its providers by their percent,
    as billing does. A sole provider takes the whole parts, summed by the database per provider; sets with
    co-providers alike in kind, net, invoice net and providers are counted by the database and split once."""
    parts: dict[tuple[str, str], int] = defaultdict(int)
    several = []
    for providers, *cents in db.execute(select(ReportLine.providers, *_sums(weights))
                                        .where(*_in_range(start, end), ReportLine.first_of_set)
                                        .group_by(ReportLine.providers)):
        shares = _shares(providers)
        if len(shares) > 1:
            several.append(providers)
            continue
        for party, party_cents in zip(PARTIES, cents, strict=True):
            parts[(next(iter(shares), ""), party)] += int(party_cents or 0)
    if not several:
        return parts
    alike = (ReportLine.set_kind, ReportLine.set_net_cents, ReportLine.invoice_net_cents, ReportLine.providers)
    query = (select(*alike, func.count()).where(*_in_range(start, end), ReportLine.first_of_set,
                                                ReportLine.providers.in_(several)).group_by(*alike))
    for set_kind, net, whole, providers, count in db.execute(query):
        shares = _shares(providers)
        if set_kind == "invoice":
            split = _by_provider(net, weights, shares)
        else:
            before, kept = _by_provider(whole, weights, shares), _by_provider(whole + net, weights, shares)
            split = {where: kept[where] - before[where] for where in before}
        for where, cents in split.items():
            parts[where] += cents * count
    return parts


def _by_provider(net: int, weights: dict[str, int], providers: dict[str, int]) -> dict[tuple[str, str], int]:
    """Each party's part of a net per provider ('' for an invoice without providers)."""
    split = largest_remainder(net, weights)
    if not providers:
        return {("", party): cents for party, cents in split.items()}
    return {(provider_id, party): cents
            for party in PARTIES for provider_id, cents in largest_remainder(split[party], providers).items()}
