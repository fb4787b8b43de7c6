"""Notify's reactions to events: a read model of members, and an inbox message for whom an event concerns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from services.notify.commands import deliver_to_inbox
from services.notify.domain import (
    Message,
    booking_confirmed_message,
    booking_waitlisted_message,
    invoice_issued_message,
)
from services.notify.models import MemberRecord
from shared.consumer import RetryLater
from shared.events import ParsedEvent
from shared.events.declarations import BOOKING_CONFIRMED, BOOKING_WAITLISTED, INVOICE_ISSUED, MEMBER_REGISTERED


def member_registered(event: ParsedEvent, session: Session) -> None:
    data = event.data
    session.merge(MemberRecord(member_id=data["member_id"], email=data["email"], display_name=data["display_name"]))


def _tell_member(event: ParsedEvent, session: Session, compose: Callable[[str, Mapping[str, Any]], Message]) -> None:
    member = session.get(MemberRecord, event.data["member_id"])
    if member is None:
        # Events may overtake each other; the member's registration is on its way.
        raise RetryLater(f"member {event.data['member_id']} is not known yet")
    deliver_to_inbox(session, member.member_id, event.id, compose(member.display_name, event.data))


def booking_confirmed(event: ParsedEvent, session: Session) -> None:
    _tell_member(event, session, booking_confirmed_message)


def booking_waitlisted(event: ParsedEvent, session: Session) -> None:
    _tell_member(event, session, booking_waitlisted_message)


def invoice_issued(event: ParsedEvent, session: Session) -> None:
    _tell_member(event, session, invoice_issued_message)


HANDLERS = {
    MEMBER_REGISTERED.type: member_registered,
    BOOKING_CONFIRMED.type: booking_confirmed,
    BOOKING_WAITLISTED.type: booking_waitlisted,
    INVOICE_ISSUED.type: invoice_issued,
}
