"""Anonymised demand: sums of gaps and future importance per group of members, never about fewer than five.

A completed assessment adds its member's ratings to the demand cells of its group (quarter, career path,
region, preferred format) and competence; the member's earlier assessment of the same quarter leaves them, so a
member counts once per quarter. Every answer is a sum of whole cells, and a cell of fewer than five members
is left out of every answer: two answers can therefore only differ by cells of five or more members,
whatever the filters.

Over time the same holds: answers read the cells' published sums, which a group's cells take over from their
live sums only once five different members have joined, left or changed the group since the last time. So no
answer differs from an earlier one by the change of fewer than five members (one member completing their
assessment shows nothing until four more have).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from services.assessment.domain import MINIMUM_GROUP, Framework, gap
from services.assessment.models import (
    Assessment,
    DemandCell,
    DemandChange,
    FrameworkVersion,
    PendingAnnouncement,
    Rating,
)
from shared.events.declarations import CompetenceDemand, DemandUpdated
from shared.outbox import record_event

UNKNOWN = "unknown"  # region or preferred format the member did not state
DIMENSIONS = ("quarter", "career_path", "region", "format", "competence", "area")
DEMAND = "demand:"
MEASURES = ("gap_sum", "importance_sum", "members_with_gap")


def _cells_of(framework: Framework, assessment: Assessment, ratings: dict[str, Rating]) -> list[dict]:
    targets = framework.targets(assessment.career_path)
    cells = []
    for code, rating in ratings.items():
        if code not in targets or rating.current_level is None or rating.future_importance is None:
            continue
        missing = gap(targets[code], rating.current_level)
        cells.append({"quarter": assessment.quarter, "career_path": assessment.career_path,
                      "region": assessment.region, "format": assessment.preferred_format, "competence": code,
                      "members": 1, "gap_sum": missing, "importance_sum": rating.future_importance,
                      "members_with_gap": int(missing > 0)})
    return cells


def _add(db: Session, cells: list[dict], sign: int) -> None:
    if not cells:
        return
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    measures = ("members", "gap_sum", "importance_sum", "members_with_gap")
    rows = [{**cell, **{m: cell[m] * sign for m in measures}} for cell in cells]
    statement = insert(DemandCell)
    table = DemandCell.__table__
    db.execute(statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={m: table.c[m] + statement.excluded[m] for m in measures}), rows)


def count_in(db: Session, assessment: Assessment, framework: Framework, ratings: dict[str, Rating]) -> None:
    """Add a just-completed assessment to the demand cells, replacing the member's earlier one of its quarter."""
    earlier = db.scalars(select(Assessment).where(
        Assessment.member_id == assessment.member_id, Assessment.quarter == assessment.quarter,
        Assessment.in_demand.is_(True), Assessment.id != assessment.id)).all()
    for previous in earlier:
        count_out(db, previous, {r.competence: r for r in
                                 db.scalars(select(Rating).where(Rating.assessment_id == previous.id))})
    _add(db, _cells_of(framework, assessment, ratings), +1)
    assessment.in_demand = True
    _changed_by(db, assessment)


def count_out(db: Session, assessment: Assessment, ratings: dict[str, Rating]) -> None:
    document = db.get(FrameworkVersion, assessment.framework_version).document
    _add(db, _cells_of(Framework(document), assessment, ratings), -1)
    assessment.in_demand = False
    _changed_by(db, assessment)


def _changed_by(db: Session, assessment: Assessment) -> None:
    """Note the member among the group's changes; from the fifth member on, publish the group's cells."""
    group = {"quarter": assessment.quarter, "career_path": assessment.career_path, "region": assessment.region,
             "format": assessment.preferred_format}
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.execute(insert(DemandChange).values(**group, member_id=assessment.member_id).on_conflict_do_nothing())
    in_group = [getattr(DemandChange, name) == value for name, value in group.items()]
    if db.scalar(select(func.count()).select_from(DemandChange).where(*in_group)) < MINIMUM_GROUP:
        return
    db.execute(update(DemandCell).where(*(getattr(DemandCell, name) == value for name, value in group.items()))
               .values({f"published_{m}": getattr(DemandCell, m) for m in ("members", *MEASURES)})
               .execution_options(synchronize_session=False))
    db.execute(delete(DemandChange).where(*in_group))
    _mark_changed(db, assessment.quarter)


def _mark_changed(db: Session, quarter: str) -> None:
    topic = f"{DEMAND}{quarter}"
    if db.get(PendingAnnouncement, topic) is None:
        db.add(PendingAnnouncement(topic=topic, changed_at=datetime.now(UTC)))
        db.flush()


def area_of_competences(db: Session) -> dict[str, str]:
    """Every competence code of every loaded framework version and its area."""
    areas = {}
    for document in db.scalars(select(FrameworkVersion.document)):
        areas.update({code: c["area"] for code, c in Framework(document).competences.items()})
    return areas


def _area_expression(areas: dict[str, str]):
    """The area of a cell's competence, in SQL (cells keep only the competence code)."""
    if not areas:
        return literal(UNKNOWN)
    return case(*((DemandCell.competence == code, area) for code, area in areas.items()), else_=literal(UNKNOWN))


def analyse(db: Session, group_by: list[str], filters: dict[str, str]) -> list[dict]:
    """Demand per combination of `group_by` values over the cells `filters` select, leaving out every cell of
    fewer than five members. `members` counts each member once per quarter (a member rates every competence)."""
    areas = area_of_competences(db)
    columns = {"quarter": DemandCell.quarter, "career_path": DemandCell.career_path, "region": DemandCell.region,
               "format": DemandCell.format, "competence": DemandCell.competence, "area": _area_expression(areas)}
    members = DemandCell.published_members
    conditions = [members >= MINIMUM_GROUP]
    conditions += [columns[name] == value for name, value in filters.items()]
    group = (DemandCell.quarter, DemandCell.career_path, DemandCell.region, DemandCell.format)
    keys = [columns[name].label(name) for name in group_by]
    # Per output row and group first: a group's members are those of any of its cells, not their sum.
    per_group = (
        select(*keys, func.max(members).label("members"), func.sum(members).label("ratings"),
               *(func.sum(getattr(DemandCell, f"published_{m}")).label(m) for m in MEASURES))
        .where(*conditions).group_by(*(columns[name] for name in group_by), *group).subquery())
    outer_keys = [per_group.c[name] for name in group_by]
    query = select(*outer_keys, *(func.sum(per_group.c[m]).label(m) for m in ("members", "ratings", *MEASURES))
                   ).group_by(*outer_keys)
    result = []
    for row in db.execute(query).mappings():
        ratings = row["ratings"]
        result.append({**{name: row[name] for name in group_by},
                       **{m: int(row[m]) for m in ("members", "ratings", *MEASURES)},
                       "mean_gap": round(row["gap_sum"] / ratings, 3),
                       "mean_future_importance": round(row["importance_sum"] / ratings, 3),
                       "share_with_gap": round(row["members_with_gap"] / ratings, 3)})
    result.sort(key=lambda r: (-r["mean_gap"] * r["mean_future_importance"], *(str(r[n]) for n in group_by)))
    return result


def announce_demand(session_factory: sessionmaker) -> int:
    """demand.updated per quarter whose cells changed since the last one (scheduled job: coalesced)."""
    with session_factory.begin() as db:
        pending = db.scalars(select(PendingAnnouncement).where(PendingAnnouncement.topic.startswith(DEMAND))
                             .with_for_update(skip_locked=True)).all()
        for row in pending:
            quarter = row.topic.removeprefix(DEMAND)
            rows = analyse(db, ["competence", "area"], {"quarter": quarter})
            record_event(db, DemandUpdated(quarter=quarter, updated_at=datetime.now(UTC), competences=[
                CompetenceDemand(competence=r["competence"], area=r["area"], members=r["members"],
                                 gap_sum=r["gap_sum"], importance_sum=r["importance_sum"],
                                 members_with_gap=r["members_with_gap"])
                for r in sorted(rows, key=lambda r: r["competence"])]))
            db.delete(row)
        return len(pending)
