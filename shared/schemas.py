"""Request and response pieces every service's API uses: strict bodies, pagination."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

MAX_PER_PAGE = 100


class StrictSchema(Schema):
    """Rejects unknown fields, so nothing a client sends is silently stored or ignored."""

    class Meta:
        unknown = RAISE
        ordered = True

    @pre_load
    def refuse_unstorable_text(self, data, **kwargs):
        # NUL and unpaired surrogates pass JSON parsing but no database stores them; say so per field.
        if isinstance(data, dict):
            bad = {key: [UNSTORABLE] for key, value in data.items() if has_unstorable_text(key, value)}
            if bad:
                raise ValidationError(bad)
        return data


UNSTORABLE = "contains characters that cannot be stored (NUL or unpaired surrogates)"


def has_unstorable_text(*values) -> bool:
    """True if any text in `values` (searched through dicts and lists) holds NUL or an unpaired surrogate."""
    pending = list(values)  # a loop, not recursion: a deeply nested body must not exhaust the stack
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value or not value.isascii() and not _encodes(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class Problem(Schema):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    type = fields.String(required=True, metadata={"description": "what kind of problem: /problems/<slug> or "
                                                                 "about:blank"})
    title = fields.String(required=True, metadata={"description": "the kind of problem, for people"})
    status = fields.Integer(required=True, metadata={"description": "the HTTP status code"})
    detail = fields.String(metadata={"description": "what went wrong with this request"})
    instance = fields.String(metadata={"description": "this request, as urn:request:<X-Request-ID>"})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "per field: a list of messages; for a nested object or a list, an object of the same shape "
                       "keyed by field name or position"
    })


class SearchArgs(PageArgs):
    """The query of a search form, which sends every field: an empty one means "any", not an invalid value.

    The OpenAPI document says so with `allowEmptyValue` on each of these parameters (see `shared.web`).
    """

    @pre_load
    def ignore_blank_filters(self, args, **_kwargs):
        return {name: value for name, value in args.items() if value != ""}


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A list envelope: the page's items plus what a client needs to page through all of them."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "total": fields.Integer(required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
        },
        name=name,
    )


def paginate(query_total: int, items: list, args: dict) -> dict:
    return {"items": items, "total": query_total, "page": args["page"], "per_page": args["per_page"]}
