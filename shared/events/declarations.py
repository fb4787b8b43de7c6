"""Every event the academy publishes, declared once with the schema of its `data`, grouped by owner."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.registry import declare

FORMATS = ("online", "in_person", "hybrid")
SEAT_FORMATS = ("online", "in_person")


class EventData(Schema):
    """The `data` of an event; publishers may send only declared fields, consumers ignore any others."""

    class Meta:
        ordered = True


# --- catalog ----------------------------------------------------------------------------------------------
class MemberRegisteredData(EventData):
    member_id = fields.String(required=True)
    email = fields.Email(required=True)
    display_name = fields.String(required=True)
    registered_at = fields.AwareDateTime(required=True)


class OfferPublishedData(EventData):
    offer_id = fields.String(required=True)
    provider_id = fields.String(required=True)
    title = fields.String(required=True)
    topic = fields.String(required=True)
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    competences = fields.List(fields.String(), required=True)
    level = fields.String(required=True)
    language = fields.String(required=True)
    price_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    published_at = fields.AwareDateTime(required=True)


class SessionScheduledData(EventData):
    session_id = fields.String(required=True)
    offer_id = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    seats = fields.Dict(
        keys=fields.String(validate=validate.OneOf(SEAT_FORMATS)),
        values=fields.Integer(strict=True, validate=validate.Range(min=0)),
        required=True,
    )
    location = fields.String(allow_none=True, load_default=None)
    link = fields.String(allow_none=True, load_default=None)


MEMBER_REGISTERED = declare(
    "member.registered", 1, "catalog", MemberRegisteredData, "A person joined the academy as a member.",
    consumers=("notify",),
)
OFFER_PUBLISHED = declare(
    "offer.published", 1, "catalog", OfferPublishedData, "An offer passed review and can be booked.",
    consumers=("assessment", "billing", "booking"),
)
SESSION_SCHEDULED = declare(
    "session.scheduled", 1, "catalog", SessionScheduledData, "A date of a published offer, with seats.",
    consumers=("booking",),
)


# --- booking ----------------------------------------------------------------------------------------------
class BookingConfirmedData(EventData):
    booking_id = fields.String(required=True)
    session_id = fields.String(required=True)
    offer_id = fields.String(required=True)
    member_id = fields.String(required=True)
    format = fields.String(required=True, validate=validate.OneOf(SEAT_FORMATS))
    confirmed_at = fields.AwareDateTime(required=True)


class BookingWaitlistedData(EventData):
    booking_id = fields.String(required=True)
    session_id = fields.String(required=True)
    offer_id = fields.String(required=True)
    member_id = fields.String(required=True)
    format = fields.String(required=True, validate=validate.OneOf(SEAT_FORMATS))
    position = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    waitlisted_at = fields.AwareDateTime(required=True)


BOOKING_CONFIRMED = declare(
    "booking.confirmed", 1, "booking", BookingConfirmedData, "A member holds a seat of a session.",
    consumers=("billing", "notify"),
)
BOOKING_WAITLISTED = declare(
    "booking.waitlisted", 1, "booking", BookingWaitlistedData, "A member waits for a seat of a full session.",
    consumers=("notify",),
)


# --- billing ----------------------------------------------------------------------------------------------
class InvoiceIssuedData(EventData):
    invoice_id = fields.String(required=True)
    number = fields.String(required=True)
    booking_id = fields.String(required=True)
    member_id = fields.String(required=True)
    offer_id = fields.String(required=True)
    total_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    issued_at = fields.AwareDateTime(required=True)


INVOICE_ISSUED = declare(
    "invoice.issued", 1, "billing", InvoiceIssuedData, "A member was invoiced for a confirmed booking.",
    consumers=("notify",),
)


# --- notify -----------------------------------------------------------------------------------------------
class NotificationDeliveredData(EventData):
    notification_id = fields.String(required=True)
    member_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(("inbox", "email")))
    cause_event_id = fields.String(required=True)
    delivered_at = fields.AwareDateTime(required=True)


NOTIFICATION_DELIVERED = declare(
    "notification.delivered",
    1,
    "notify",
    NotificationDeliveredData,
    "A message reached a member's inbox or mailbox.",
)
