"""Request and response bodies of topic requests and ratings."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from services.catalog.profiles import is_region
from services.catalog.ratings import editable_until
from services.catalog.schemas import Text
from shared.events.declarations import FORMATS
from shared.schemas import SearchArgs, StrictSchema, page_schema

MAX_COMPETENCES = 20


def _distinct(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("each value may be listed once")


def _region(code: str) -> None:
    if not is_region(code):
        raise ValidationError("a German state as ISO 3166-2 (DE-BW) or a country as ISO 3166-1 alpha-2 (AT)")


# --- topic requests ---------------------------------------------------------------------------------------
class TopicRequestRequest(StrictSchema):
    title = Text(required=True, validate=validate.Length(min=3, max=200))
    description = Text(required=True, validate=validate.Length(min=1, max=5000))
    competences = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)), required=True,
        validate=validate.And(validate.Length(min=1, max=MAX_COMPETENCES), _distinct),
        metadata={"description": "codes of the competence framework (GET /api/v1/competence-framework)"},
    )
    preferred_formats = fields.List(fields.String(validate=validate.OneOf(FORMATS)), load_default=list,
                                    validate=validate.And(validate.Length(max=len(FORMATS)), _distinct))
    region = fields.String(load_default=None, allow_none=True, validate=_region)


class TopicRequestSearchArgs(SearchArgs):
    region = fields.String(validate=_region)


class TopicRequestAnswerRequest(StrictSchema):
    offer_id = fields.String(required=True, validate=validate.Length(min=1, max=36),
                             metadata={"description": "one of the caller's published offers"})


class AnswerOut(Schema):
    offer_id = fields.String()
    offer_title = fields.String()
    answered_at = fields.AwareDateTime()


class CompetenceDemandOut(Schema):
    """Anonymised: counted over groups of at least five members."""

    competence = fields.String()
    area = fields.String()
    members = fields.Integer(metadata={"description": "members who assessed themselves in this competence"})
    members_with_gap = fields.Integer(metadata={"description": "of them, those below their career path's target"})
    gap_sum = fields.Integer(metadata={"description": "levels missing to the targets, summed over the members"})
    importance_sum = fields.Integer(metadata={"description": "expected importance in three years (1-5), summed"})


class TopicRequestOut(Schema):
    id = fields.String()
    title = fields.String()
    description = fields.String()
    competences = fields.List(fields.String())
    preferred_formats = fields.List(fields.String())
    region = fields.String(allow_none=True)
    votes = fields.Integer()
    voted = fields.Boolean(metadata={"description": "whether the caller asked or voted (false without a token)"})
    created_at = fields.AwareDateTime()
    answers = fields.List(fields.Nested(AnswerOut))
    demand = fields.List(fields.Nested(CompetenceDemandOut), metadata={
        "description": "the anonymised demand for the request's competences from the latest self-assessments; "
                       "empty until assessment publishes it, and for competences too few members assessed"
    })
    demand_quarter = fields.String(allow_none=True)


TopicRequestPage = page_schema(TopicRequestOut, "TopicRequestPage")



# --- ratings ----------------------------------------------------------------------------------------------
class RatingRequest(StrictSchema):
    stars = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = Text(load_default="", validate=validate.Length(max=2000))


class RatingPatch(RatingRequest):
    """Loaded with partial=True: a PATCH changes only what it names."""


class RatingAnswerRequest(StrictSchema):
    text = Text(required=True, validate=validate.Length(min=1, max=2000))


class RatingOut(Schema):
    """A rating is public; who gave it is not shown."""

    id = fields.String()
    session_id = fields.String()
    offer_id = fields.String()
    stars = fields.Integer()
    comment = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    editable_until = fields.Method("_editable_until", metadata={
        "type": "string", "format": "date-time", "description": "the author may change it until then"})
    answer = fields.String(allow_none=True, metadata={"description": "the provider's public answer, given once"})
    answered_at = fields.AwareDateTime(allow_none=True)

    def _editable_until(self, rating) -> str:
        return editable_until(rating.created_at).isoformat()


class RatingSummaryOut(Schema):
    count = fields.Integer()
    average = fields.Float(allow_none=True, metadata={"description": "mean stars to two decimals; null without "
                                                                     "ratings"})


class RatingPage(Schema):
    count = fields.Integer(required=True)
    average = fields.Float(required=True, allow_none=True)
    items = fields.List(fields.Nested(RatingOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
