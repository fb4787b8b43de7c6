"""The anonymised demand per competence as the catalog knows it: kept from demand.updated, shown beside requests."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.catalog.models import CompetenceDemandRow, DemandQuarter
from shared.events.declarations import DemandUpdated


def keep_latest(db: Session, update: DemandUpdated) -> bool:
    """Replace the demand with `update` unless the one kept is of a later quarter or a later update of the same
    one; whether it replaced it. Quarters are written YYYY-Qn, so they sort as text."""
    current = db.scalar(select(DemandQuarter).with_for_update())
    if current is not None and (current.quarter, current.updated_at) >= (update.quarter, update.updated_at):
        return False
    db.execute(delete(CompetenceDemandRow))
    db.execute(delete(DemandQuarter))
    db.add(DemandQuarter(quarter=update.quarter, updated_at=update.updated_at))
    db.add_all(CompetenceDemandRow(competence=cell.competence, area=cell.area, members=cell.members,
                                   members_with_gap=cell.members_with_gap, gap_sum=cell.gap_sum,
                                   importance_sum=cell.importance_sum)
               for cell in update.competences)
    return True


def demand_for(db: Session, codes: Iterable[str]) -> dict[str, CompetenceDemandRow]:
    """The kept demand of each of `codes` that has any (assessment leaves out groups too small to be anonymous)."""
    codes = set(codes)
    if not codes:
        return {}
    rows = db.scalars(select(CompetenceDemandRow).where(CompetenceDemandRow.competence.in_(codes)))
    return {row.competence: row for row in rows}


def current_quarter(db: Session) -> str | None:
    return db.scalar(select(DemandQuarter.quarter))
