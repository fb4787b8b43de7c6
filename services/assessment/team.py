"""Team view: how the opted-in members of one organisation cover each area against a career path."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.assessment.domain import MINIMUM_GROUP, Framework, localised
from services.assessment.models import Assessment, MemberRecord, Rating
from shared.errors import Conflict, Unprocessable


def set_team_opt_in(db: Session, member_id: str, opt_in: bool) -> MemberRecord:
    member = db.get(MemberRecord, member_id)
    if member is None or not member.organisation:
        raise Conflict("name your organisation in your profile before joining its team view")
    member.team_opt_in_at = datetime.now(UTC) if opt_in else None
    return member


def team_coverage(db: Session, member_id: str, framework: Framework, career_path: str, lang: str) -> dict:
    """Per area the team's mean level against the path's target and the share at or above it. Shown only for
    five members or more, or for a smaller team when every member of the organisation opted in."""
    if career_path not in framework.career_paths:
        raise Unprocessable("unknown career path", errors={"career_path": [
            f"must be one of: {', '.join(framework.career_paths)}"]})
    me = db.get(MemberRecord, member_id)
    if me is None or me.team_opt_in_at is None or not me.organisation:
        raise Conflict("join your organisation's team view first (PUT /api/v1/assessments/team-consent)")
    colleagues = db.scalars(select(MemberRecord).where(MemberRecord.organisation == me.organisation)).all()
    opted_in = [m.member_id for m in colleagues if m.team_opt_in_at is not None]
    levels = _latest_levels(db, opted_in, framework.version)
    everyone_agreed = len(opted_in) == len(colleagues)
    shown = len(levels) >= MINIMUM_GROUP or (everyone_agreed and len(levels) > 0)
    answer = {"organisation": me.organisation, "career_path": career_path, "members": len(levels),
              "shown": shown, "areas": []}
    if not shown:
        return answer
    targets = framework.targets(career_path)
    for area in framework.areas:
        codes = [c["code"] for c in area["competences"]]
        values = [(member_levels.get(code, 0), targets[code]) for member_levels in levels for code in codes]
        answer["areas"].append({
            "area": area["code"], **localised(area, lang, "name"),
            "mean_level": round(sum(v for v, _ in values) / len(values), 2),
            "mean_target": round(sum(t for _, t in values) / len(values), 2),
            "share_at_target": round(sum(v >= t for v, t in values) / len(values), 3)})
    return answer


def _latest_levels(db: Session, member_ids: list[str], version: str) -> list[dict[str, int]]:
    """Each member's current levels from their latest completed assessment in framework `version`."""
    latest: dict[str, Assessment] = {}
    for assessment in db.scalars(select(Assessment).where(
            Assessment.member_id.in_(member_ids), Assessment.status == "completed",
            Assessment.framework_version == version).order_by(Assessment.completed_at)):
        latest[assessment.member_id] = assessment
    if not latest:
        return []
    by_assessment: dict[str, dict[str, int]] = {a.id: {} for a in latest.values()}
    for rating in db.scalars(select(Rating).where(Rating.assessment_id.in_(list(by_assessment)))):
        by_assessment[rating.assessment_id][rating.competence] = rating.current_level or 0
    return list(by_assessment.values())
