"""Notify's request and response bodies."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from services.notify.domain import Category
from shared.schemas import PageArgs, StrictSchema


class JsonBoolean(fields.Boolean):
    """JSON true or false only: "yes", 1 or "off" are refused, not guessed at."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean: send true or false.")
        return value


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


class NotificationPage(Schema):
    items = fields.List(fields.Nested(NotificationOut), required=True)
    total = fields.Integer(required=True, metadata={"description": "messages matching the query"})
    unread = fields.Integer(required=True, metadata={"description": "all my unread messages"})
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class MarkedAllRead(Schema):
    marked = fields.Integer(required=True, metadata={"description": "messages marked read by this request"})
    unread = fields.Integer(required=True)


class PreferenceIn(StrictSchema):
    email = JsonBoolean(required=True, metadata={"description": "e-mail on or off"})


class PreferenceOut(Schema):
    email = fields.Boolean(required=True)
    inbox = fields.Boolean(required=True, metadata={
        "description": "whether the inbox gets these messages: always, but for mail-only ones (a password reset link)"})
    locked = fields.Boolean(required=True, metadata={"description": "true: e-mail cannot be switched off"})


_CATEGORIES = [category.value for category in Category]
PreferencesIn = StrictSchema.from_dict(
    {name: fields.Nested(PreferenceIn) for name in _CATEGORIES}, name="PreferencesIn")
PreferencesOut = Schema.from_dict(
    {name: fields.Nested(PreferenceOut, required=True) for name in _CATEGORIES}, name="PreferencesOut")


class UnsubscribeArgs(StrictSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=64),
                          metadata={"description": "the member's key, from the link in their mail"})
    category = fields.String(required=True, validate=validate.OneOf(_CATEGORIES))


class UnsubscribeOut(Schema):
    category = fields.String(required=True)
    email = fields.Boolean(required=True, metadata={"description": "whether this category still comes by e-mail"})
