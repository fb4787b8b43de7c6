"""Catalog's request and response bodies."""

from __future__ import annotations

import re
from datetime import UTC

from flask import current_app
from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from services.catalog.domain import (
    CANCELLATION_POLICIES,
    CUSTOM_POLICY,
    DEFAULT_DECISION_DAYS,
    DEFAULT_POLICY,
    DEFAULT_VAT_RATE,
    LEVELS,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
)
from services.catalog.profiles import DEFAULT_LANGUAGE, DEFAULT_TIME_ZONE, is_language, is_region, is_time_zone
from services.catalog.search import SORTS
from shared.events.declarations import FORMATS, LANGUAGES, VAT_RATES
from shared.schemas import SearchArgs, StrictSchema, page_schema
from shared.web import runtime_of

MAX_COMPETENCES = 20
MAX_SEATS = 10_000
MAX_PRICE_CENTS = 100_000_000
# The length check keeps out the trailing newline that `$` would let through; `\Z` is no anchor in the
# JavaScript dialect OpenAPI patterns use.
LANGUAGE = validate.And(
    validate.Length(equal=2), validate.Regexp(r"^[a-z]{2}$", error="a two-letter ISO 639-1 code in lower case")
)
# Markup a link could smuggle into a page or a mail that shows it; a plain URL never needs these.
MARKUP_IN_LINK = re.compile(r"""[\s<>"'`\\]""")


def accepted_currencies() -> tuple[str, ...]:
    """ACADEMY_CURRENCIES of this installation (EUR unless it names others), read when a request is checked."""
    return runtime_of(current_app).settings.currencies


def allowed_currency(code: str) -> None:
    allowed = accepted_currencies()
    if code not in allowed:
        raise ValidationError(f"one of the currencies accepted here: {', '.join(allowed)}")


def plain_link(link: str) -> None:
    if MARKUP_IN_LINK.search(link):
        raise ValidationError("a plain http(s) URL: no spaces, quotes, backticks, backslashes or angle brackets")


CURRENCY = validate.And(
    validate.Length(equal=3), validate.Regexp(r"^[A-Z]{3}$", error="a three-letter ISO 4217 code in upper case"),
    allowed_currency,
)


class Text(fields.String):
    """A string with surrounding whitespace removed, so "   " cannot pass for a title."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class UtcTimestamp(fields.AwareDateTime):
    """An aware timestamp in any offset, turned into UTC, the offset the academy stores and answers in."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("out of the supported range") from exc


# --- members and tokens -----------------------------------------------------------------------------------
NEW_PASSWORD_RULES = {
    "description": "at least 12 characters, no composition rules; refused (422) when it is among the common or "
                   "leaked passwords, a keyboard pattern, a repetition, or the member's own address or name"
}


def _checked_by(check, error: str) -> validate.Validator:
    def validator(value: str) -> None:
        if not check(value):
            raise ValidationError(error)

    return validator


def message_language_field(**options) -> fields.String:
    return fields.String(validate=validate.OneOf(LANGUAGES), **options,
                         metadata={"description": "the language of the academy's messages to the member"})


def time_zone_field(**options) -> fields.String:
    return fields.String(validate=validate.And(
        validate.Length(max=64), _checked_by(is_time_zone, "an IANA time zone such as Europe/Berlin")
    ), **options, metadata={"description": "IANA time zone in which the member sees dates"})


def _distinct(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("each value may be listed once")


class Registration(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254), metadata={
        "description": "stored normalised (NFKC, lower case, IDNA domain); addresses mixing scripts are refused"
    })
    password = fields.String(required=True, validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH),
                             metadata=NEW_PASSWORD_RULES)
    display_name = Text(required=True, validate=validate.Length(min=1, max=100))
    preferred_language = message_language_field(load_default=DEFAULT_LANGUAGE)
    time_zone = time_zone_field(load_default=DEFAULT_TIME_ZONE)


class RegistrationAccepted(Schema):
    detail = fields.String(metadata={"description": "the same for every address, with an account or without"})


class RegistrationConfirmation(StrictSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=100),
                          metadata={"description": "from the link in the registration mail"})


class ProfilePatch(StrictSchema):
    """The profile fields a member may change; a PATCH changes only those it names (null clears an optional one)."""

    display_name = Text(validate=validate.Length(min=1, max=100))
    organisation = Text(allow_none=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "the cluster initiative or network the member works for"
    })
    region = fields.String(allow_none=True, validate=_checked_by(
        is_region, "a German state as ISO 3166-2 (DE-BW) or a country as ISO 3166-1 alpha-2 (AT)"))
    languages = fields.List(fields.String(validate=_checked_by(is_language, "an ISO 639-1 code in lower case")),
                            validate=validate.And(validate.Length(max=10), _distinct),
                            metadata={"description": "the languages the member speaks"})
    preferred_language = message_language_field()
    career_stage = fields.String(allow_none=True, validate=validate.Length(min=1, max=60), metadata={
        "description": "the code of a career path of the competence framework (GET /api/v1/career-paths)"
    })
    preferred_formats = fields.List(fields.String(validate=validate.OneOf(FORMATS)),
                                    validate=validate.And(validate.Length(max=len(FORMATS)), _distinct))
    time_zone = time_zone_field()
    postal_address = fields.List(
        Text(validate=validate.And(validate.Length(min=1, max=100), validate.Regexp(r"^[^\r\n]*$",
                                                                                      error="one line each"))),
        allow_none=True, validate=validate.Length(min=1, max=5),
        metadata={"description": "the address invoices are made out to, one to five lines (street, postcode and "
                                 "town, country); the organisation's name goes in `organisation`"})


class AccountDeletion(StrictSchema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))


class MemberOut(Schema):
    id = fields.String()
    email = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String())
    created_at = fields.AwareDateTime()
    organisation = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    languages = fields.List(fields.String())
    preferred_language = fields.String()
    career_stage = fields.String(allow_none=True)
    preferred_formats = fields.List(fields.String())
    time_zone = fields.String()
    postal_address = fields.List(fields.String(), allow_none=True)
    updated_at = fields.AwareDateTime(allow_none=True)


class TokenRequest(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenOut(Schema):
    access_token = fields.String()
    token_type = fields.String(dump_default="Bearer")
    expires_in = fields.Integer(metadata={"description": "seconds the access token is valid (ACCESS_TOKEN_MINUTES)"})
    refresh_token = fields.String(metadata={
        "description": "opaque; exchange it once at /api/v1/auth/refresh for a new pair. Presenting it again "
                       "revokes its whole session, except a retry within 30 seconds while the pair it was "
                       "exchanged for is unused, which gets a new pair instead"
    })


class RefreshRequest(StrictSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PasswordChange(StrictSchema):
    old_password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))
    new_password = fields.String(required=True, metadata=NEW_PASSWORD_RULES,
                                 validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH))


class PasswordResetRequest(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))


class PasswordResetAccepted(Schema):
    detail = fields.String(metadata={"description": "the same for every address, with an account or without"})


class PasswordResetConfirmation(StrictSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=100),
                          metadata={"description": "from the link in the mail"})
    new_password = fields.String(required=True, metadata=NEW_PASSWORD_RULES,
                                 validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH))


# --- sessions ---------------------------------------------------------------------------------------------
class Seats(StrictSchema):
    online = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=MAX_SEATS))
    in_person = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=MAX_SEATS))


class SessionRequest(StrictSchema):
    starts_at = UtcTimestamp(required=True)
    ends_at = UtcTimestamp(required=True)
    seats = fields.Nested(Seats, required=True)
    location = Text(validate=validate.Length(min=1, max=200))
    link = fields.Url(schemes={"https", "http"}, validate=validate.And(validate.Length(max=500), plain_link),
                      metadata={"description": "the meeting link of online seats; never public (booking shows it "
                                               "on a confirmed booking)"})


class SeatsPatch(StrictSchema):
    """Loaded with partial=True: only the formats named change."""

    online = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_SEATS))
    in_person = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_SEATS))


class SessionPatch(SessionRequest):
    """Loaded with partial=True: a PATCH changes only what it names."""

    seats = fields.Nested(SeatsPatch)


class SessionCancellation(StrictSchema):
    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class SessionOut(Schema):
    """A session as anyone who may see its offer sees it: without the meeting link."""

    id = fields.String()
    offer_id = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    seats = fields.Dict(keys=fields.String(), values=fields.Integer())
    location = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    cancelled_at = fields.AwareDateTime(allow_none=True)
    cancellation_reason = fields.String(allow_none=True)


class ProviderSessionOut(SessionOut):
    """A session as its provider sees it after changing it: with the meeting link."""

    link = fields.String(allow_none=True)


# --- offers -----------------------------------------------------------------------------------------------
def _distinct_codes(codes: list[str]) -> None:
    if len({code.lower() for code in codes}) != len(codes):
        raise ValidationError("each code may be listed once")


class CompleteEntry(StrictSchema):
    """An entry of a list that is always given whole, also inside a PATCH (whose partial load reaches it)."""

    @validates_schema
    def every_field_given(self, data: dict, **_kwargs) -> None:
        missing = [name for name, field in self.fields.items() if field.required and name not in data]
        if missing:
            raise ValidationError({name: ["Missing data for required field."] for name in missing})


def _distinct_members(entries: list[dict]) -> None:
    if len({entry.get("member_id") for entry in entries}) != len(entries):
        raise ValidationError("each member may be listed once")


class ProviderShareIn(CompleteEntry):
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    share_percent = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))


class FeeTierIn(CompleteEntry):
    days_before = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=365))
    fee_percent = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))


class OfferRequest(StrictSchema):
    """What a provider may say about an offer; status, reviews and ids are the catalog's to set, shares only the
    proposing member's."""

    title = Text(required=True, validate=validate.Length(min=3, max=200))
    summary = Text(load_default="", validate=validate.Length(max=500))
    description = Text(required=True, validate=validate.Length(min=1, max=5000))
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    languages = fields.List(fields.String(validate=LANGUAGE), required=True,
                            validate=validate.And(validate.Length(min=1, max=5), _distinct_codes))
    competences = fields.List(
        Text(validate=validate.Length(min=1, max=60)),
        required=True,
        validate=validate.And(validate.Length(min=1, max=MAX_COMPETENCES), _distinct_codes),
        metadata={"description": "codes of the competence framework (GET /api/v1/competence-framework)"},
    )
    level = fields.Integer(required=True, strict=True, validate=validate.OneOf(LEVELS),
                           metadata={"description": "the framework's level 1-5 the offer brings its attendees to"})
    price_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_PRICE_CENTS))
    currency = fields.String(load_default=lambda: accepted_currencies()[0], validate=CURRENCY, metadata={
        "description": "ISO 4217 code; one of the installation's ACADEMY_CURRENCIES, the first of them by default "
                       "(EUR unless it names others)"
    })
    vat_rate = fields.Integer(load_default=DEFAULT_VAT_RATE, strict=True, validate=validate.OneOf(VAT_RATES),
                              metadata={"description": "percent"})
    cancellation_policy = fields.String(load_default=DEFAULT_POLICY, validate=validate.OneOf(
        [*CANCELLATION_POLICIES, CUSTOM_POLICY]), metadata={
        "description": "flexible (free until the start), standard (50 % from 14 days, 100 % from 3 days before the "
                       "start), strict (50 % from 30 days, 100 % from 14), or custom with fee_tiers"})
    fee_tiers = fields.List(fields.Nested(FeeTierIn), validate=validate.Length(min=1, max=10), metadata={
        "description": "with cancellation_policy custom: cancelling fewer than days_before days before the start "
                       "costs fee_percent of the price"})
    minimum_participants = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=MAX_SEATS))
    maximum_participants = fields.Integer(load_default=None, allow_none=True, strict=True,
                                          validate=validate.Range(min=1, max=MAX_SEATS))
    decision_days_before = fields.Integer(load_default=DEFAULT_DECISION_DAYS, strict=True,
                                          validate=validate.Range(min=0, max=365),
                                          metadata={"description": "the go / no-go decision: this many days before "
                                                    "its start a session short of minimum_participants is called off"})
    providers = fields.List(fields.Nested(ProviderShareIn), validate=validate.And(
        validate.Length(min=1, max=10), _distinct_members), metadata={
        "description": "every provider with their percent of the providers' part, summing to 100, you among them "
                       "(default: you alone); each co-provider accepts before the offer can be submitted"})


class OfferPatch(OfferRequest):
    """Loaded with partial=True: every field optional and no defaults, so a PATCH changes only what it names."""


class OfferSearchArgs(SearchArgs):
    q = Text(validate=validate.Length(min=1, max=200), metadata={
        "description": "words in title, summary or description, each matched by its German or English stem"})
    format = fields.String(validate=validate.OneOf(FORMATS))
    competence = Text(validate=validate.Length(min=1, max=60), metadata={"description": "a framework code"})
    area = Text(validate=validate.Length(min=1, max=60), metadata={"description": "a framework area's code"})
    level = fields.Integer(validate=validate.OneOf(LEVELS))
    language = fields.String(validate=LANGUAGE)
    provider = fields.String(validate=validate.Length(min=1, max=36), metadata={"description": "a member id"})
    max_price_cents = fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE_CENTS))
    starts_from = UtcTimestamp(data_key="from", metadata={"description": "a session starts at or after this"})
    starts_before = UtcTimestamp(data_key="to", metadata={"description": "a session starts before this"})
    free_seats = fields.Boolean(load_default=False, metadata={
        "description": "only offers with an upcoming session that has a free seat (in `format`, if given), as "
                       "booking last reported"})
    sort = fields.String(validate=validate.OneOf(SORTS), metadata={
        "description": "relevance (words in the title count double; the default with `q`), newest (the "
                       "default without), price, next_session, rating (best average stars first)"})


class ProviderOut(Schema):
    member_id = fields.String()
    share_percent = fields.Integer()
    accepted_at = fields.AwareDateTime(allow_none=True)


class OfferOut(Schema):
    id = fields.String()
    provider_id = fields.String(metadata={"description": "the member who proposed the offer"})
    providers = fields.List(fields.Nested(ProviderOut))
    status = fields.String()
    title = fields.String()
    summary = fields.String()
    description = fields.String()
    format = fields.String()
    languages = fields.List(fields.String())
    competences = fields.List(fields.String())
    level = fields.Integer()
    price_cents = fields.Integer()
    currency = fields.String()
    vat_rate = fields.Integer()
    cancellation_policy = fields.String()
    fee_tiers = fields.Method("tiers")
    minimum_participants = fields.Integer()
    maximum_participants = fields.Integer(allow_none=True)
    decision_days_before = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    submitted_at = fields.AwareDateTime(allow_none=True)
    published_at = fields.AwareDateTime(allow_none=True)

    def tiers(self, offer) -> list[dict]:
        return [{"days_before": days, "fee_percent": percent} for days, percent in offer.fee_tiers]


class CompetenceGainOut(Schema):
    competence = fields.String()
    mean_before = fields.Float(metadata={"description": "the attendees' mean level before the session"})
    mean_after = fields.Float(metadata={"description": "their mean level when they reassessed afterwards"})


class LearningGainOut(Schema):
    respondents = fields.Integer(metadata={"description": "attendees who reassessed (five or more)"})
    recorded_at = fields.AwareDateTime()
    competences = fields.List(fields.Nested(CompetenceGainOut))

    @pre_dump
    def means(self, gain, **_kwargs) -> dict:
        """Sums become means: what a reader compares, and no sum tells more than the means do."""
        return {"respondents": gain.respondents, "recorded_at": gain.recorded_at, "competences": [
            {"competence": c["competence"], "mean_before": round(c["before_sum"] / gain.respondents, 2),
             "mean_after": round(c["after_sum"] / gain.respondents, 2)} for c in gain.competences]}


class OfferDetailOut(OfferOut):
    sessions = fields.List(fields.Nested(SessionOut))
    learning_gain = fields.Nested(LearningGainOut, allow_none=True, metadata={
        "description": "what attendees say they learned, once five of them have reassessed; null before"})


class OfferSearchPage(page_schema(OfferOut, "OfferPage")):
    facets = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                         metadata={"description": "offers found per format, level and language, each counted "
                                                  "under the other filters"})


# --- reviews ----------------------------------------------------------------------------------------------
class Checklist(StrictSchema):
    competences_justified = fields.Boolean(required=True, metadata={
        "description": "each claimed competence is justified by the description"})
    level_plausible = fields.Boolean(required=True)
    format_and_dates_complete = fields.Boolean(required=True)


class ReviewRequest(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "request_changes")))
    comment = Text(load_default="", validate=validate.Length(max=5000))
    checklist = fields.Nested(Checklist, required=True)


class ReviewOut(Schema):
    id = fields.String()
    offer_id = fields.String()
    reviewer_id = fields.String()
    decision = fields.String()
    comment = fields.String()
    checklist = fields.Dict(keys=fields.String(), values=fields.Boolean())
    reviewed_at = fields.AwareDateTime()


class HistoryEntryOut(Schema):
    actor_id = fields.String()
    action = fields.String()
    status = fields.String(metadata={"description": "the offer's status after this step"})
    detail = fields.String()
    at = fields.AwareDateTime()


class OfferHistoryOut(Schema):
    items = fields.List(fields.Nested(HistoryEntryOut))


ReviewQueuePage = page_schema(OfferOut, "ReviewQueuePage")
MyOffersPage = page_schema(OfferOut, "MyOffersPage")
