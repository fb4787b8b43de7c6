"""Booking's request and response bodies."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.declarations import SEAT_FORMATS
from shared.schemas import StrictSchema, page_schema


class BookingRequest(StrictSchema):
    session_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    format = fields.String(required=True, validate=validate.OneOf(SEAT_FORMATS))


class BookingOut(Schema):
    id = fields.String()
    session_id = fields.String()
    offer_id = fields.String()
    member_id = fields.String()
    format = fields.String()
    status = fields.String()
    created_at = fields.AwareDateTime()


BookingPage = page_schema(BookingOut, "BookingPage")
