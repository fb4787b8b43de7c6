"""Notify's reactions to events: a read model of members, and an inbox message for whom an event concerns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from services.notify.commands import deliver_to_inbox
from services.notify.domain import (
    Message,
    booking_cancelled_message,
    booking_confirmed_message,
    booking_promoted_message,
    booking_waitlisted_message,
    invoice_issued_message,
)
from services.notify.models import MemberRecord
from shared.consumer import RetryLater
from shared.events import ParsedEvent
from shared.events.declarations import (
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    BookingWaitlisted,
    InvoiceIssued,
    MemberRegistered,
)


def member_registered(event: ParsedEvent[MemberRegistered], db: Session) -> None:
    member = event.data
    db.merge(MemberRecord(member_id=member.member_id, email=member.email, display_name=member.display_name))


def _tell_member(event: ParsedEvent[Any], db: Session, compose: Callable[[str, Any], Message]) -> None:
    member = db.get(MemberRecord, event.data.member_id)
    if member is None:
        # Events may overtake each other; the member's registration is on its way.
        raise RetryLater(f"member {event.data.member_id} is not known yet")
    deliver_to_inbox(db, member.member_id, event.id, compose(member.display_name, event.data))


def booking_confirmed(event: ParsedEvent[BookingConfirmed], db: Session) -> None:
    _tell_member(event, db, booking_confirmed_message)


def booking_waitlisted(event: ParsedEvent[BookingWaitlisted], db: Session) -> None:
    _tell_member(event, db, booking_waitlisted_message)


def booking_promoted(event: ParsedEvent[BookingPromoted], db: Session) -> None:
    _tell_member(event, db, booking_promoted_message)


def booking_cancelled(event: ParsedEvent[BookingCancelled], db: Session) -> None:
    _tell_member(event, db, booking_cancelled_message)


def invoice_issued(event: ParsedEvent[InvoiceIssued], db: Session) -> None:
    _tell_member(event, db, invoice_issued_message)


HANDLERS = {
    MemberRegistered: member_registered,
    BookingConfirmed: booking_confirmed,
    BookingWaitlisted: booking_waitlisted,
    BookingPromoted: booking_promoted,
    BookingCancelled: booking_cancelled,
    InvoiceIssued: invoice_issued,
}
