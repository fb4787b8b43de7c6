"""Catalog's request and response bodies."""

from __future__ import annotations

import re
from datetime import UTC

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates

from services.catalog.domain import LEVELS, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from services.catalog.profiles import DEFAULT_LANGUAGE, DEFAULT_TIME_ZONE, is_language, is_region, is_time_zone
from shared.events.declarations import FORMATS, LANGUAGES
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


# --- sessions ---------------------------------------------------------------------------------------------
class Seats(StrictSchema):
    online = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=MAX_SEATS))
    in_person = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=MAX_SEATS))


class SessionRequest(StrictSchema):
    starts_at = UtcTimestamp(required=True)
    ends_at = UtcTimestamp(required=True)
    seats = fields.Nested(Seats, required=True)
    location = Text(validate=validate.Length(min=1, max=200))
    link = fields.Url(schemes={"https", "http"}, validate=validate.And(validate.Length(max=500), plain_link))


class SessionOut(Schema):
    id = fields.String()
    offer_id = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    seats = fields.Dict(keys=fields.String(), values=fields.Integer())
    location = fields.String(allow_none=True)
    link = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


# --- offers -----------------------------------------------------------------------------------------------
class OfferRequest(StrictSchema):
    """What a provider may say about an offer; status, provider and ids are the catalog's to set."""

    title = Text(required=True, validate=validate.Length(min=3, max=200))
    topic = Text(required=True, validate=validate.Length(min=1, max=100))
    description = Text(required=True, validate=validate.Length(min=1, max=5000))
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    competences = fields.List(
        Text(validate=validate.Length(min=1, max=100)),
        required=True,
        validate=validate.Length(min=1, max=MAX_COMPETENCES),
    )
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    language = fields.String(required=True, validate=LANGUAGE)
    price_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_PRICE_CENTS))
    currency = fields.String(load_default=lambda: accepted_currencies()[0], validate=CURRENCY, metadata={
        "description": "ISO 4217 code; one of the installation's ACADEMY_CURRENCIES, the first of them by default "
                       "(EUR unless it names others)"
    })

    @validates("competences")
    def competences_are_distinct(self, competences: list[str], **_kwargs) -> None:
        if len({name.lower() for name in competences}) != len(competences):
            raise ValidationError("each competence may be listed once")


class OfferPatch(OfferRequest):
    """Loaded with partial=True: every field optional and no defaults, so a PATCH changes only what it names."""


class OfferSearchArgs(SearchArgs):
    q = Text(validate=validate.Length(min=1, max=200))
    format = fields.String(validate=validate.OneOf(FORMATS))
    competence = Text(validate=validate.Length(min=1, max=100))
    level = fields.String(validate=validate.OneOf(LEVELS))
    language = fields.String(validate=LANGUAGE)


class OfferOut(Schema):
    id = fields.String()
    provider_id = fields.String()
    status = fields.String()
    title = fields.String()
    topic = fields.String()
    description = fields.String()
    format = fields.String()
    competences = fields.List(fields.String())
    level = fields.String()
    language = fields.String()
    price_cents = fields.Integer()
    currency = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    published_at = fields.AwareDateTime(allow_none=True)


class OfferDetailOut(OfferOut):
    sessions = fields.List(fields.Nested(SessionOut))


OfferPage = page_schema(OfferOut, "OfferPage")
