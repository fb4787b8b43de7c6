"""Notify's request and response bodies."""

from __future__ import annotations

from marshmallow import Schema, fields

from shared.schemas import PageArgs, StrictSchema, page_schema


class NotificationArgs(PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "only messages not read yet"})


class MarkReadRequest(StrictSchema):
    """No fields: the body may be empty or {}, anything else is refused."""


class NotificationOut(Schema):
    id = fields.String()
    kind = fields.String()
    subject = fields.String()
    body = fields.String()
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


NotificationPage = page_schema(NotificationOut, "NotificationPage")
