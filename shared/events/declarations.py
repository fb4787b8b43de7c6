"""Every event the academy publishes, declared once as a typed payload, grouped by the service that owns it.

A publisher builds one (`record_event(db, BookingConfirmed(...))`), a handler receives one as `event.data`.
Who consumes an event is not written here: it follows from the services' handler registries
(see shared/events/topology.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marshmallow import fields, validate

from shared.events.payload import wire
from shared.events.registry import Event, declare

FORMATS = ("online", "in_person", "hybrid")
SEAT_FORMATS = ("online", "in_person")
NOT_NEGATIVE = validate.Range(min=0)
CURRENCY = validate.Length(equal=3)


# --- catalog ----------------------------------------------------------------------------------------------
@declare("member.registered", 1, owner="catalog", subject="member_id")
class MemberRegistered(Event):
    """A person joined the academy as a member."""

    member_id: str
    email: str = wire(validate=validate.Email())
    display_name: str
    registered_at: datetime


@declare("offer.published", 1, owner="catalog", subject="offer_id")
class OfferPublished(Event):
    """An offer passed review and can be booked."""

    offer_id: str
    provider_id: str
    title: str
    topic: str
    format: str = wire(validate=validate.OneOf(FORMATS))
    competences: list[str]
    level: str
    language: str
    price_cents: int = wire(validate=NOT_NEGATIVE)
    currency: str = wire(validate=CURRENCY)
    published_at: datetime
    # Go / no-go: this many days before its start a session with fewer seats taken than the minimum is called off.
    minimum_participants: int = wire(default=0, validate=NOT_NEGATIVE)
    decision_days_before: int = wire(default=7, validate=validate.Range(min=0, max=365))


@declare("session.scheduled", 1, owner="catalog", subject="session_id")
class SessionScheduled(Event):
    """A date of a published offer, with seats."""

    session_id: str
    offer_id: str
    starts_at: datetime
    ends_at: datetime
    seats: dict[str, int] = wire(
        keys=fields.String(validate=validate.OneOf(SEAT_FORMATS)),
        values=fields.Integer(strict=True, validate=NOT_NEGATIVE),
    )
    location: str | None = None
    link: str | None = None


@declare("session.rescheduled", 1, owner="catalog", subject="session_id")
class SessionRescheduled(Event):
    """A provider moved a published session: bookings stay, and holders may cancel free until the new start."""

    session_id: str
    offer_id: str
    starts_at: datetime
    ends_at: datetime
    location: str | None = None
    link: str | None = None
    rescheduled_at: datetime


@declare("session.cancelled", 1, owner="catalog", subject="session_id")
class SessionCancelled(Event):
    """A provider cancelled a published session: every booking ends with a full refund."""

    session_id: str
    offer_id: str
    cancelled_at: datetime


# --- booking ----------------------------------------------------------------------------------------------
@declare("booking.confirmed", 1, owner="booking", subject="booking_id")
class BookingConfirmed(Event):
    """A member holds a seat of a session."""

    booking_id: str
    session_id: str
    offer_id: str
    member_id: str
    format: str = wire(validate=validate.OneOf(SEAT_FORMATS))
    confirmed_at: datetime


@declare("booking.waitlisted", 1, owner="booking", subject="booking_id")
class BookingWaitlisted(Event):
    """A member waits for a seat of a full session."""

    booking_id: str
    session_id: str
    offer_id: str
    member_id: str
    format: str = wire(validate=validate.OneOf(SEAT_FORMATS))
    position: int = wire(validate=validate.Range(min=1))
    waitlisted_at: datetime


@declare("booking.promoted", 1, owner="booking", subject="booking_id")
class BookingPromoted(Event):
    """A waiting member got a freed seat; for billing it counts as a confirmation."""

    booking_id: str
    session_id: str
    offer_id: str
    member_id: str
    format: str = wire(validate=validate.OneOf(SEAT_FORMATS))
    promoted_at: datetime


@declare("booking.cancelled", 1, owner="booking", subject="booking_id")
class BookingCancelled(Event):
    """A booking ended before its session: by the member, or because the session is off.

    `fee_cents` and `refund_cents` split what was paid for a confirmed seat (both 0 for a waiting one).
    """

    booking_id: str
    session_id: str
    offer_id: str
    member_id: str
    format: str = wire(validate=validate.OneOf(SEAT_FORMATS))
    previous_status: str = wire(validate=validate.OneOf(("confirmed", "waitlisted")))
    reason: str = wire(validate=validate.OneOf(("member", "session_cancelled", "called_off")))
    fee_cents: int = wire(validate=NOT_NEGATIVE)
    refund_cents: int = wire(validate=NOT_NEGATIVE)
    currency: str | None = None
    cancelled_at: datetime


@dataclass(frozen=True)
class Attendee:
    """A member who attended, with the certificate they were given."""

    booking_id: str
    member_id: str
    certificate_id: str


@declare("attendance.recorded", 1, owner="booking", subject="session_id")
class AttendanceRecorded(Event):
    """A session's providers recorded who attended; a later record of the same session replaces this one."""

    session_id: str
    offer_id: str
    provider_id: str
    attendees: list[Attendee]
    recorded_at: datetime


@dataclass(frozen=True)
class SeatsLeft:
    """The seats of one format of a session as they stand."""

    format: str = wire(validate=validate.OneOf(SEAT_FORMATS))
    capacity: int = wire(validate=NOT_NEGATIVE)
    free: int = wire(validate=NOT_NEGATIVE)
    waiting: int = wire(validate=NOT_NEGATIVE)


@declare("availability.changed", 1, owner="booking", subject="session_id")
class AvailabilityChanged(Event):
    """Free seats or the waiting list of a session changed. Coalesced: one event stands for every change since
    the previous one, so consumers keep the latest by `changed_at`."""

    session_id: str
    offer_id: str
    formats: list[SeatsLeft]
    changed_at: datetime


@declare("go_decision.made", 1, owner="booking", subject="session_id")
class GoDecisionMade(Event):
    """At its decision time a session went ahead ("go") or, short of its minimum, was called off with every
    booking cancelled at a full refund ("called_off")."""

    session_id: str
    offer_id: str
    outcome: str = wire(validate=validate.OneOf(("go", "called_off")))
    confirmed: int = wire(validate=NOT_NEGATIVE)
    minimum: int = wire(validate=NOT_NEGATIVE)
    decided_at: datetime


# --- billing ----------------------------------------------------------------------------------------------
@declare("invoice.issued", 1, owner="billing", subject="invoice_id")
class InvoiceIssued(Event):
    """A member was invoiced for a confirmed booking."""

    invoice_id: str
    number: str
    booking_id: str
    member_id: str
    offer_id: str
    total_cents: int = wire(validate=NOT_NEGATIVE)
    currency: str = wire(validate=CURRENCY)
    issued_at: datetime


# --- notify -----------------------------------------------------------------------------------------------
@declare("notification.delivered", 1, owner="notify", subject="notification_id")
class NotificationDelivered(Event):
    """A message reached a member's inbox or mailbox."""

    notification_id: str
    member_id: str
    channel: str = wire(validate=validate.OneOf(("inbox", "email")))
    cause_event_id: str
    delivered_at: datetime
