"""Booking's request and response bodies."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.declarations import SEAT_FORMATS
from shared.schemas import PageArgs, StrictSchema, page_schema


class BookingRequest(StrictSchema):
    session_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    format = fields.String(required=True, validate=validate.OneOf(SEAT_FORMATS))


class BookingListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(("confirmed", "waitlisted", "cancelled")))
    when = fields.String(validate=validate.OneOf(("upcoming", "past")),
                         metadata={"description": "sessions still ahead, or begun"})
    session_id = fields.String(validate=validate.Length(min=1, max=36))
    member_id = fields.String(validate=validate.Length(min=1, max=36),
                              metadata={"description": "operators only: another member's bookings"})


class BookingOut(Schema):
    id = fields.String()
    session_id = fields.String()
    offer_id = fields.String()
    member_id = fields.String()
    format = fields.String()
    status = fields.String()
    waiting_position = fields.Integer(allow_none=True, metadata={"description": "1 is next in line, else null"})
    starts_at = fields.AwareDateTime(attribute="session.starts_at")
    ends_at = fields.AwareDateTime(attribute="session.ends_at")
    location = fields.Method("_location", allow_none=True, metadata={"description": "for a confirmed seat"})
    link = fields.Method("_link", allow_none=True, metadata={"description": "for a confirmed seat"})
    price_cents = fields.Integer(allow_none=True)
    currency = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    confirmed_at = fields.AwareDateTime(allow_none=True)
    promoted_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    fee_cents = fields.Integer(allow_none=True, metadata={"description": "what a cancellation cost"})
    refund_cents = fields.Integer(allow_none=True, metadata={"description": "what a cancellation gives back"})
    attended = fields.Boolean(allow_none=True, metadata={
        "description": "as the provider recorded it after the start: true, false, or null while not recorded"})
    other_format_free_seats = fields.Integer(
        allow_none=True,
        metadata={"description": "on a new waiting booking of a hybrid session: free seats of the other format"},
    )

    # Where and how to join is for members who hold a seat, not for those still waiting.
    def _location(self, booking) -> str | None:
        return booking.session.location if booking.status == "confirmed" else None

    def _link(self, booking) -> str | None:
        return booking.session.link if booking.status == "confirmed" else None


BookingPage = page_schema(BookingOut, "BookingPage")


class AttendanceRequest(StrictSchema):
    booking_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=36)), required=True,
        validate=validate.Length(max=10_000),
        metadata={"description": "every booking of the session whose holder attended; the rest did not"},
    )


class AttendanceOut(Schema):
    booking_id = fields.String(attribute="id")
    member_id = fields.String()
    attended = fields.Boolean()


class AttendanceList(Schema):
    items = fields.List(fields.Nested(AttendanceOut), required=True)


class CertificateVerification(Schema):
    id = fields.String()
    holder = fields.String()
    offer_title = fields.String()
    date = fields.Date()
    valid = fields.Boolean(metadata={"description": "false once the attendance behind it was corrected"})


class ParticipantOut(Schema):
    booking_id = fields.String()
    name = fields.String()
    organisation = fields.String(allow_none=True)
    format = fields.String()
    status = fields.String()
    waiting_position = fields.Integer(allow_none=True)
    attended = fields.Boolean(allow_none=True)


class ParticipantList(Schema):
    items = fields.List(fields.Nested(ParticipantOut), required=True)
