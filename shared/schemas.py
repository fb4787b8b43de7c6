"""Request and response pieces every service's API uses: strict bodies, pagination."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

MAX_PER_PAGE = 100


class StrictSchema(Schema):
    """Rejects unknown fields, so nothing a client sends is silently stored or ignored."""

    class Meta:
        unknown = RAISE
        ordered = True


class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


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
