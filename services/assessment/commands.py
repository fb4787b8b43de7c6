"""Assessment's use cases, each in the caller's transaction: the framework, self-assessments, results,
recommendations, reassessments after a session, and a member's export and deletion."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from services.assessment import demand
from services.assessment.domain import (
    LANGS,
    Framework,
    OfferFacts,
    SessionFacts,
    localised,
    needs_by_area,
    quarter_of,
    reasons,
    recommend,
    training_needs,
)
from services.assessment.learning_gain import learning_gain_event
from services.assessment.models import (
    Assessment,
    FrameworkVersion,
    MemberRecord,
    OfferRecord,
    PendingAnnouncement,
    Rating,
    Reassessment,
    SessionRecord,
)
from services.assessment.profile_chart import radar_png, radar_svg
from shared.auth import Principal
from shared.errors import Conflict, NotFound, Unprocessable
from shared.events.declarations import FrameworkEntry, FrameworkPublished, ReassessmentInvited
from shared.outbox import record_event


# --- framework --------------------------------------------------------------------------------------------
def framework_of(db: Session, version: str | None = None) -> Framework:
    """The framework of `version`, or the newest loaded one."""
    query = select(FrameworkVersion)
    query = query.where(FrameworkVersion.version == version) if version else query.order_by(
        FrameworkVersion.loaded_at.desc(), FrameworkVersion.version.desc()).limit(1)
    row = db.scalars(query).first()
    if row is None:
        raise NotFound(f"no competence framework {version or ''} is loaded".replace("  ", " "))
    return Framework(row.document)


def framework_view(framework: Framework, lang: str) -> dict:
    levels = [{"level": level["level"], **localised(level, lang, "name", "behaviour", "autonomy", "complexity")}
              for level in framework.document["levels"]]
    areas = [
        {"code": area["code"], **localised(area, lang, "name", "description"), "weight": area["weight"],
         "competences": [
             {"code": competence["code"], **localised(competence, lang, "name"),
              "levels": [{"level": level["level"], **localised(level, lang, "description")}
                         for level in competence["levels"]]}
             for competence in area["competences"]]}
        for area in framework.areas
    ]
    return {"version": framework.version, "language": lang, "levels": levels, "areas": areas}


def career_paths_view(framework: Framework, lang: str) -> dict:
    return {"version": framework.version, "items": [
        {"code": path["code"], **localised(path, lang, "name", "description"),
         "target_levels": path["target_levels"]}
        for path in framework.career_paths.values()]}


def announce_framework(session_factory: sessionmaker) -> int:
    """Put framework.published for every loaded version not yet announced into the outbox (scheduled job)."""
    with session_factory.begin() as db:
        versions = db.scalars(select(FrameworkVersion).where(FrameworkVersion.announced_at.is_(None))
                              .order_by(FrameworkVersion.loaded_at).with_for_update(skip_locked=True)).all()
        for row in versions:
            framework = Framework(row.document)
            now = datetime.now(UTC)
            record_event(db, FrameworkPublished(
                framework_version=framework.version,
                areas=[FrameworkEntry(code=a["code"], name_de=a["name_de"], name_en=a["name_en"])
                       for a in framework.areas],
                competences=[FrameworkEntry(code=code, name_de=c["name_de"], name_en=c["name_en"], area=c["area"])
                             for code, c in framework.competences.items()],
                career_paths=[FrameworkEntry(code=code, name_de=p["name_de"], name_en=p["name_en"])
                              for code, p in framework.career_paths.items()],
                published_at=now))
            row.announced_at = now
        return len(versions)


# --- self-assessment --------------------------------------------------------------------------------------
def start_assessment(db: Session, member_id: str, career_path: str) -> Assessment:
    framework = framework_of(db)
    if career_path not in framework.career_paths:
        raise Unprocessable("unknown career path", errors={"career_path": [
            f"must be one of: {', '.join(framework.career_paths)}"]})
    now = datetime.now(UTC)
    assessment = Assessment(id=str(uuid.uuid4()), member_id=member_id, career_path=career_path,
                            framework_version=framework.version, status="draft", created_at=now, updated_at=now,
                            in_demand=False)
    db.add(assessment)
    db.flush()
    return assessment


def visible_assessment(db: Session, principal: Principal, assessment_id: str, *, lock: bool = False) -> Assessment:
    """The caller's own assessment; anybody else's is as unknown as a missing one."""
    query = select(Assessment).where(Assessment.id == assessment_id, Assessment.member_id == principal.member_id)
    assessment = db.scalars(query.with_for_update() if lock else query).first()
    if assessment is None:
        raise NotFound("no such assessment")
    return assessment


def save_ratings(db: Session, principal: Principal, assessment_id: str, ratings: list[dict]) -> Assessment:
    """Save some or all ratings of a draft; each rating replaces the one of its competence."""
    assessment = visible_assessment(db, principal, assessment_id, lock=True)
    if assessment.status == "completed":
        raise Conflict("this assessment is completed; start a new one to assess yourself again")
    known = framework_of(db, assessment.framework_version).competences
    errors = {}
    seen = set()
    for index, rating in enumerate(ratings):
        if rating["competence"] not in known:
            errors[index] = {"competence": [f"unknown competence code in framework {assessment.framework_version}"]}
        elif rating["competence"] in seen:
            errors[index] = {"competence": ["rated twice in one request"]}
        seen.add(rating["competence"])
    if errors:
        raise Unprocessable("some ratings cannot be saved", errors={"ratings": errors})
    stored = {r.competence: r for r in db.scalars(select(Rating).where(Rating.assessment_id == assessment.id))}
    for rating in ratings:
        row = stored.get(rating["competence"]) or Rating(assessment_id=assessment.id, competence=rating["competence"])
        for field in ("current_level", "future_importance", "confidence", "evidence"):
            if field in rating:
                setattr(row, field, rating[field])
        db.add(row)
    assessment.updated_at = datetime.now(UTC)
    db.flush()
    return assessment


def ratings_of(db: Session, assessment_id: str) -> dict[str, Rating]:
    return {r.competence: r for r in db.scalars(select(Rating).where(Rating.assessment_id == assessment_id))}


def complete_assessment(db: Session, principal: Principal, assessment_id: str) -> Assessment:
    """Complete a draft in which every competence has its current level and future importance."""
    assessment = visible_assessment(db, principal, assessment_id, lock=True)
    if assessment.status == "completed":
        raise Conflict("this assessment is completed already")
    framework = framework_of(db, assessment.framework_version)
    ratings = ratings_of(db, assessment.id)
    missing = [code for code in framework.competences
               if code not in ratings or ratings[code].current_level is None
               or ratings[code].future_importance is None]
    if missing:
        raise Unprocessable("rate every competence before completing", errors={"ratings": [
            f"current_level and future_importance missing for: {', '.join(missing)}"]})
    now = datetime.now(UTC)
    member = db.get(MemberRecord, assessment.member_id)
    assessment.status, assessment.completed_at, assessment.updated_at = "completed", now, now
    assessment.quarter = quarter_of(now)
    assessment.region = member.region if member and member.region else demand.UNKNOWN
    assessment.preferred_format = (member.preferred_formats[0] if member and member.preferred_formats
                                   else demand.UNKNOWN)
    demand.count_in(db, assessment, framework, ratings)
    db.flush()
    return assessment


def assessment_view(db: Session, assessment: Assessment, lang: str) -> dict:
    """The assessment with each competence's level descriptions, target and the member's answers."""
    framework = framework_of(db, assessment.framework_version)
    ratings = ratings_of(db, assessment.id)
    targets = framework.targets(assessment.career_path)
    competences = []
    for code, competence in framework.competences.items():
        rating = ratings.get(code)
        competences.append({
            "code": code, "area": competence["area"], **localised(competence, lang, "name"),
            "target_level": targets[code],
            "levels": [{"level": level["level"], **localised(level, lang, "description")}
                       for level in competence["levels"]],
            "current_level": rating.current_level if rating else None,
            "future_importance": rating.future_importance if rating else None,
            "confidence": rating.confidence if rating else None,
            "evidence": rating.evidence if rating else None,
        })
    return {**summary(assessment), "competences": competences}


def summary(assessment: Assessment) -> dict:
    return {"id": assessment.id, "career_path": assessment.career_path,
            "framework_version": assessment.framework_version, "status": assessment.status,
            "created_at": assessment.created_at, "updated_at": assessment.updated_at,
            "completed_at": assessment.completed_at}


def assessments_of(db: Session, member_id: str) -> list[Assessment]:
    return list(db.scalars(select(Assessment).where(Assessment.member_id == member_id)
                           .order_by(Assessment.created_at.desc(), Assessment.id)))


def history(db: Session, member_id: str) -> list[dict]:
    """The member's assessments, newest first; completed ones with the change in mean level since the one before."""
    items = assessments_of(db, member_id)
    completed = [a for a in reversed(items) if a.status == "completed"]
    means = {}
    for assessment in completed:
        levels = [r.current_level for r in ratings_of(db, assessment.id).values() if r.current_level is not None]
        means[assessment.id] = round(sum(levels) / len(levels), 2) if levels else 0.0
    change = {later.id: round(means[later.id] - means[earlier.id], 2)
              for earlier, later in zip(completed, completed[1:], strict=False)}
    return [{**summary(a), "mean_level": means.get(a.id), "change_since_previous": change.get(a.id)}
            for a in items]


def _needs_of(db: Session, assessment: Assessment):
    framework = framework_of(db, assessment.framework_version)
    ratings = ratings_of(db, assessment.id)
    rated = {code: (r.current_level, r.future_importance) for code, r in ratings.items()
             if r.current_level is not None and r.future_importance is not None}
    return framework, training_needs(framework, assessment.career_path, rated)


def _previous_completed(db: Session, assessment: Assessment) -> Assessment | None:
    if assessment.completed_at is None:
        return None
    return db.scalars(select(Assessment).where(
        Assessment.member_id == assessment.member_id, Assessment.status == "completed",
        Assessment.completed_at < assessment.completed_at).order_by(Assessment.completed_at.desc()).limit(1)).first()


def result(db: Session, principal: Principal, assessment_id: str, lang: str) -> dict:
    """Gaps per competence and per area, ranked, with the change since the member's previous assessment."""
    assessment = visible_assessment(db, principal, assessment_id)
    framework, needs = _needs_of(db, assessment)
    previous = _previous_completed(db, assessment)
    before = {code: r.current_level for code, r in ratings_of(db, previous.id).items()} if previous else {}
    competences = framework.competences
    return {
        **summary(assessment),
        "previous_assessment_id": previous.id if previous else None,
        "needs": [{**need.__dict__, "rank": rank, **localised(competences[need.competence], lang, "name"),
                   "change_since_previous": (need.current - before[need.competence]
                                             if before.get(need.competence) is not None else None)}
                  for rank, need in enumerate(needs, 1)],
        "areas": [{**area.__dict__, "rank": rank,
                   **localised(next(a for a in framework.areas if a["code"] == area.area), lang, "name")}
                  for rank, area in enumerate(needs_by_area(framework, needs), 1)],
    }


# --- recommendations --------------------------------------------------------------------------------------
def recommendations(db: Session, principal: Principal, assessment_id: str, lang: str,
                    now: datetime | None = None) -> dict:
    """Offers with an upcoming session with free seats that close the assessment's largest gaps, with reasons."""
    assessment = visible_assessment(db, principal, assessment_id)
    framework, needs = _needs_of(db, assessment)
    member = db.get(MemberRecord, assessment.member_id)
    wanted = {need.competence for need in needs if need.gap > 0}
    offers = db.scalars(select(OfferRecord).where(OfferRecord.withdrawn_at.is_(None))).all()
    offers = [offer for offer in offers if wanted & set(offer.competences)]
    sessions: dict[str, list[SessionFacts]] = {}
    if offers:
        for row in db.scalars(select(SessionRecord).where(SessionRecord.offer_id.in_([o.offer_id for o in offers]))):
            sessions.setdefault(row.offer_id, []).append(SessionFacts(
                row.session_id, row.starts_at, row.cancelled_at is not None, row.free_seats, row.seats))
    candidates = [(OfferFacts(o.offer_id, o.title, o.format, o.languages, o.competences, o.level,
                              o.withdrawn_at is not None), sessions.get(o.offer_id, [])) for o in offers]
    found = recommend(needs, candidates, now=now or datetime.now(UTC),
                      languages=member.languages if member else (),
                      formats=member.preferred_formats if member else ())
    by_code = {need.competence: need for need in needs}
    return {"assessment_id": assessment.id, "items": [
        {"offer_id": r.offer.offer_id, "title": r.offer.title, "format": r.offer.format,
         "languages": r.offer.languages, "level": r.offer.level, "score": r.score,
         "closes": [{"competence": code, "levels": levels} for code, levels in r.closes.items()],
         "reasons": reasons(framework, r, by_code, lang),
         "sessions": [{"session_id": s.session_id, "starts_at": s.starts_at,
                       "free_seats": dict(s.free_seats if s.free_seats is not None else s.capacity)}
                      for s in r.sessions]}
        for r in found]}


# --- learning gain ----------------------------------------------------------------------------------------
def invite_to_reassess(db: Session, member_id: str, offer_id: str, session_id: str, at: datetime) -> None:
    """After a session: ask the attendee to rate the offer's competences again (once per session)."""
    if db.scalars(select(Reassessment.id).where(Reassessment.member_id == member_id,
                                                Reassessment.session_id == session_id)).first():
        return
    offer = db.get(OfferRecord, offer_id)
    latest = db.scalars(select(Assessment).where(Assessment.member_id == member_id,
                                                 Assessment.status == "completed")
                        .order_by(Assessment.completed_at.desc()).limit(1)).first()
    levels = {code: r.current_level for code, r in ratings_of(db, latest.id).items()} if latest else {}
    competences = offer.competences if offer else []
    before = {code: levels.get(code, 0) for code in competences}
    reassessment = Reassessment(id=str(uuid.uuid4()), member_id=member_id, offer_id=offer_id, session_id=session_id,
                                before=before, after=None, invited_at=at)
    db.add(reassessment)
    if competences:  # an offer unknown here, or one without competences, leaves nothing to rate
        record_event(db, ReassessmentInvited(reassessment_id=reassessment.id, member_id=member_id, offer_id=offer_id,
                                             session_id=session_id, competences=list(competences),
                                             invited_at=at))


def reassessments_of(db: Session, member_id: str) -> list[Reassessment]:
    return list(db.scalars(select(Reassessment).where(Reassessment.member_id == member_id)
                           .order_by(Reassessment.invited_at.desc(), Reassessment.id)))


def answer_reassessment(db: Session, principal: Principal, reassessment_id: str,
                        levels: dict[str, int]) -> Reassessment:
    row = db.scalars(select(Reassessment).where(Reassessment.id == reassessment_id,
                                                Reassessment.member_id == principal.member_id)
                     .with_for_update()).first()
    if row is None:
        raise NotFound("no such reassessment")
    if row.answered_at is not None:
        raise Conflict("this reassessment is answered already")
    asked = set(row.before)
    unknown = sorted(set(levels) - asked)
    missing = sorted(asked - set(levels))
    if unknown or missing:
        raise Unprocessable("rate exactly the offer's competences", errors={"levels": [
            *(f"not a competence of this offer: {code}" for code in unknown),
            *(f"missing: {code}" for code in missing)]})
    row.after, row.answered_at = dict(levels), datetime.now(UTC)
    mark_changed(db, f"{LEARNING_GAIN}{row.offer_id}")
    return row


LEARNING_GAIN = "learning_gain:"


def mark_changed(db: Session, topic: str) -> None:
    """Note that a coalesced event is due for `topic` (one row however many changes)."""
    if db.get(PendingAnnouncement, topic) is None:
        db.add(PendingAnnouncement(topic=topic, changed_at=datetime.now(UTC)))


def announce_learning_gains(session_factory: sessionmaker) -> int:
    """learning_gain.recorded per offer whose answers changed, once at least five attendees answered."""
    with session_factory.begin() as db:
        pending = db.scalars(select(PendingAnnouncement).where(PendingAnnouncement.topic.startswith(LEARNING_GAIN))
                             .limit(200).with_for_update(skip_locked=True)).all()
        sent = 0
        for row in pending:
            event = learning_gain_event(db, row.topic.removeprefix(LEARNING_GAIN))
            if event is not None:
                record_event(db, event)
                sent += 1
            db.delete(row)
        return sent


# --- privacy ----------------------------------------------------------------------------------------------
def export_member_data(db: Session, member_id: str) -> dict:
    """Everything assessment keeps about the member, as they could take it elsewhere."""
    member = db.get(MemberRecord, member_id)
    return {
        "member_id": member_id,
        "exported_at": datetime.now(UTC),
        "team_opt_in_at": member.team_opt_in_at if member else None,
        "assessments": [{**summary(a), "ratings": [
            {"competence": r.competence, "current_level": r.current_level, "future_importance": r.future_importance,
             "confidence": r.confidence, "evidence": r.evidence} for r in ratings_of(db, a.id).values()]}
            for a in assessments_of(db, member_id)],
        "reassessments": [{"id": r.id, "offer_id": r.offer_id, "session_id": r.session_id, "before": r.before,
                           "after": r.after, "invited_at": r.invited_at, "answered_at": r.answered_at}
                          for r in reassessments_of(db, member_id)],
    }


def delete_member_data(db: Session, member_id: str) -> int:
    """Delete the member's assessments and answers (their share of the demand cells leaves with them)."""
    assessments = assessments_of(db, member_id)
    for assessment in assessments:
        if assessment.in_demand:
            demand.count_out(db, assessment, ratings_of(db, assessment.id))
        db.delete(assessment)
    db.execute(delete(Reassessment).where(Reassessment.member_id == member_id))
    member = db.get(MemberRecord, member_id)
    if member is not None:
        member.team_opt_in_at = None
    return len(assessments)


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise Unprocessable("unknown language", errors={"lang": [f"must be one of: {', '.join(LANGS)}"]})
    return lang


# --- profile chart and demand -----------------------------------------------------------------------------
LEGEND = {"en": ("current", "target"), "de": ("aktuell", "Ziel")}


def profile_chart(db: Session, principal: Principal, assessment_id: str, lang: str, image: str = "svg") -> str | bytes:
    """The assessment's areas as a radar chart (SVG or PNG): mean current level against the career path's target."""
    assessment = visible_assessment(db, principal, assessment_id)
    framework, needs = _needs_of(db, assessment)
    by_area = {area.area: area for area in needs_by_area(framework, needs)}
    axes = [(area[f"name_{lang}"], by_area[area["code"]].mean_current, by_area[area["code"]].mean_target)
            for area in framework.areas if area["code"] in by_area]
    title = framework.career_paths[assessment.career_path][f"name_{lang}"]
    return (radar_png if image == "png" else radar_svg)(title, axes, LEGEND[lang])


CSV_COLUMNS = ("members", "ratings", "mean_gap", "mean_future_importance", "share_with_gap", "gap_sum",
               "importance_sum", "members_with_gap")


def demand_view(db: Session, args: dict) -> dict | str:
    """The anonymised demand as the API answers it: a body, or CSV text for `format=csv`."""
    group_by = [name.strip() for name in args["group_by"].split(",")]
    filters = {name: args[name] for name in ("quarter", "career_path", "region", "competence", "area")
               if args.get(name)}
    if args.get("preferred_format"):
        filters["format"] = args["preferred_format"]
    rows = demand.analyse(db, group_by, filters)
    if args["format"] != "csv":
        return {"minimum_group": demand.MINIMUM_GROUP, "group_by": group_by, "items": rows}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*group_by, *CSV_COLUMNS], extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
