"""Assessment's request and response bodies."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from services.assessment.demand import DIMENSIONS
from services.assessment.domain import CURRENT_LEVELS, IMPORTANCE, LANGS
from shared.schemas import StrictSchema

CODE = validate.Length(min=1, max=20)


class LangArgs(StrictSchema):
    lang = fields.String(load_default="en", validate=validate.OneOf(LANGS))


# --- framework ----------------------------------------------------------------------------------------------
class LevelOut(Schema):
    level = fields.Integer()
    name = fields.String()
    behaviour = fields.String()
    autonomy = fields.String()
    complexity = fields.String()


class CompetenceLevelOut(Schema):
    level = fields.Integer()
    description = fields.String()


class CompetenceOut(Schema):
    code = fields.String()
    name = fields.String()
    levels = fields.List(fields.Nested(CompetenceLevelOut))


class CompetenceAreaOut(Schema):
    code = fields.String()
    name = fields.String()
    description = fields.String()
    weight = fields.Float(metadata={"description": "how much a gap in this area counts (1: as any other)"})
    competences = fields.List(fields.Nested(CompetenceOut))


class CompetenceFrameworkOut(Schema):
    version = fields.String()
    language = fields.String()
    levels = fields.List(fields.Nested(LevelOut))
    areas = fields.List(fields.Nested(CompetenceAreaOut))


class CareerPathOut(Schema):
    code = fields.String()
    name = fields.String()
    description = fields.String()
    target_levels = fields.Dict(keys=fields.String(), values=fields.Integer(),
                                metadata={"description": "competence code -> level 1-5"})


class CareerPathList(Schema):
    version = fields.String()
    items = fields.List(fields.Nested(CareerPathOut))


# --- assessments --------------------------------------------------------------------------------------------
class AssessmentRequest(StrictSchema):
    career_path = fields.String(required=True, validate=validate.Length(min=1, max=60))


class RatingIn(StrictSchema):
    competence = fields.String(required=True, validate=CODE)
    current_level = fields.Integer(strict=True, validate=validate.Range(CURRENT_LEVELS.start, CURRENT_LEVELS.stop - 1),
                                   metadata={"description": "0 (not at all) to 5 (expert)"})
    future_importance = fields.Integer(strict=True, validate=validate.Range(IMPORTANCE.start, IMPORTANCE.stop - 1),
                                       metadata={"description": "expected importance in three years, 1-5"})
    confidence = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 5))
    evidence = fields.String(allow_none=True, validate=validate.Length(max=2000))


class RatingsPatch(StrictSchema):
    ratings = fields.List(fields.Nested(RatingIn), required=True, validate=validate.Length(min=1, max=200))


class AssessmentSummaryOut(Schema):
    id = fields.String()
    career_path = fields.String()
    framework_version = fields.String()
    status = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)


class HistoryItemOut(AssessmentSummaryOut):
    mean_level = fields.Float(allow_none=True)
    change_since_previous = fields.Float(allow_none=True, metadata={
        "description": "mean current level minus that of the previous completed assessment"})


class AssessmentList(Schema):
    items = fields.List(fields.Nested(HistoryItemOut))


class AssessedCompetenceOut(Schema):
    code = fields.String()
    area = fields.String()
    name = fields.String()
    target_level = fields.Integer()
    levels = fields.List(fields.Nested(CompetenceLevelOut))
    current_level = fields.Integer(allow_none=True)
    future_importance = fields.Integer(allow_none=True)
    confidence = fields.Integer(allow_none=True)
    evidence = fields.String(allow_none=True)


class AssessmentOut(AssessmentSummaryOut):
    competences = fields.List(fields.Nested(AssessedCompetenceOut))


class NeedOut(Schema):
    rank = fields.Integer()
    competence = fields.String()
    name = fields.String()
    area = fields.String()
    current = fields.Integer()
    target = fields.Integer()
    importance = fields.Integer()
    gap = fields.Integer(metadata={"description": "target minus current level, at least 0"})
    weighted_gap = fields.Float(metadata={"description": "gap times the area's weight"})
    priority = fields.Float(metadata={"description": "weighted gap times importance / 3: what ranks the needs"})
    change_since_previous = fields.Integer(allow_none=True)


class AreaNeedOut(Schema):
    rank = fields.Integer()
    area = fields.String()
    name = fields.String()
    weight = fields.Float()
    mean_current = fields.Float()
    mean_target = fields.Float()
    gap = fields.Integer()
    weighted_gap = fields.Float()
    priority = fields.Float()


class ResultOut(AssessmentSummaryOut):
    previous_assessment_id = fields.String(allow_none=True)
    needs = fields.List(fields.Nested(NeedOut))
    areas = fields.List(fields.Nested(AreaNeedOut))


class ClosesOut(Schema):
    competence = fields.String()
    levels = fields.Integer()


class RecommendedSessionOut(Schema):
    session_id = fields.String()
    starts_at = fields.AwareDateTime()
    free_seats = fields.Dict(keys=fields.String(), values=fields.Integer())


class RecommendationOut(Schema):
    offer_id = fields.String()
    title = fields.String()
    format = fields.String()
    languages = fields.List(fields.String())
    level = fields.Integer()
    score = fields.Float()
    closes = fields.List(fields.Nested(ClosesOut))
    reasons = fields.List(fields.String())
    sessions = fields.List(fields.Nested(RecommendedSessionOut))


class RecommendationList(Schema):
    assessment_id = fields.String()
    items = fields.List(fields.Nested(RecommendationOut))


# --- reassessments ------------------------------------------------------------------------------------------
class ReassessmentOut(Schema):
    id = fields.String()
    offer_id = fields.String()
    session_id = fields.String()
    before = fields.Dict(keys=fields.String(), values=fields.Integer())
    after = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)
    invited_at = fields.AwareDateTime()
    answered_at = fields.AwareDateTime(allow_none=True)


class ReassessmentList(Schema):
    items = fields.List(fields.Nested(ReassessmentOut))


class ReassessmentAnswer(StrictSchema):
    levels = fields.Dict(keys=fields.String(validate=CODE), required=True,
                         values=fields.Integer(strict=True, validate=validate.Range(0, 5)),
                         metadata={"description": "competence code -> current level 0-5 after the session"})


# --- privacy ------------------------------------------------------------------------------------------------
class ExportedRatingOut(Schema):
    competence = fields.String()
    current_level = fields.Integer(allow_none=True)
    future_importance = fields.Integer(allow_none=True)
    confidence = fields.Integer(allow_none=True)
    evidence = fields.String(allow_none=True)


class ExportedAssessmentOut(AssessmentSummaryOut):
    ratings = fields.List(fields.Nested(ExportedRatingOut))


class MemberDataOut(Schema):
    member_id = fields.String()
    exported_at = fields.AwareDateTime()
    team_opt_in_at = fields.AwareDateTime(allow_none=True)
    assessments = fields.List(fields.Nested(ExportedAssessmentOut))
    reassessments = fields.List(fields.Nested(ReassessmentOut))


class DeletedOut(Schema):
    deleted_assessments = fields.Integer()


# --- team view ----------------------------------------------------------------------------------------------
class TeamConsent(StrictSchema):
    opt_in = fields.Boolean(required=True, metadata={"description": "share my levels with my organisation's team"})


class TeamConsentOut(Schema):
    organisation = fields.String()
    team_opt_in_at = fields.AwareDateTime(allow_none=True)


class TeamArgs(LangArgs):
    career_path = fields.String(required=True, validate=validate.Length(min=1, max=60))


class TeamAreaOut(Schema):
    area = fields.String()
    name = fields.String()
    mean_level = fields.Float()
    mean_target = fields.Float()
    share_at_target = fields.Float()


class TeamOut(Schema):
    organisation = fields.String()
    career_path = fields.String()
    members = fields.Integer()
    shown = fields.Boolean(metadata={"description": "false below five members, unless all of them opted in"})
    areas = fields.List(fields.Nested(TeamAreaOut))


# --- demand -------------------------------------------------------------------------------------------------
FILTERS = ("quarter", "career_path", "region", "preferred_format", "competence", "area")


class DemandArgs(StrictSchema):
    group_by = fields.String(load_default="competence", metadata={
        "description": f"up to three of {', '.join(DIMENSIONS)}, comma-separated"})
    quarter = fields.String(validate=validate.Regexp(r"^\d{4}-Q[1-4]$"))
    career_path = fields.String(validate=validate.Length(min=1, max=60))
    region = fields.String(validate=validate.Length(min=1, max=10))
    preferred_format = fields.String(validate=validate.Length(min=1, max=20))
    competence = fields.String(validate=CODE)
    area = fields.String(validate=CODE)
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")),
                           metadata={"description": "json, or csv for a spreadsheet"})

    @validates("group_by")
    def known_dimensions(self, value, **_kwargs):
        names = [name.strip() for name in value.split(",")]
        if not 1 <= len(names) <= 3 or len(set(names)) != len(names) or set(names) - set(DIMENSIONS):
            raise ValidationError(f"one to three different names of: {', '.join(DIMENSIONS)}")


class DemandRowOut(Schema):
    quarter = fields.String()
    career_path = fields.String()
    region = fields.String()
    format = fields.String()
    competence = fields.String()
    area = fields.String()
    members = fields.Integer(metadata={"description": "at least 5; a member counts once per quarter"})
    ratings = fields.Integer()
    gap_sum = fields.Integer()
    importance_sum = fields.Integer()
    members_with_gap = fields.Integer()
    mean_gap = fields.Float()
    mean_future_importance = fields.Float()
    share_with_gap = fields.Float()


class DemandOut(Schema):
    minimum_group = fields.Integer()
    group_by = fields.List(fields.String())
    items = fields.List(fields.Nested(DemandRowOut))
