"""What notify tells a member about each event: short English messages with the facts that matter."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.events.declarations import BookingConfirmed, BookingWaitlisted, InvoiceIssued


class MessageKind(StrEnum):
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_WAITLISTED = "booking_waitlisted"
    INVOICE_ISSUED = "invoice_issued"


@dataclass(frozen=True)
class Message:
    kind: MessageKind
    subject: str
    body: str


def format_amount(cents: int, currency: str) -> str:
    """12345 and "EUR" -> "123.45 EUR"."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{units}.{rest:02d} {currency}"


def _seat(format: str) -> str:
    return format.replace("_", "-")


def booking_confirmed_message(name: str, booking: BookingConfirmed) -> Message:
    return Message(
        MessageKind.BOOKING_CONFIRMED,
        "Your seat is confirmed",
        f"Hello {name}, your {_seat(booking.format)} seat is confirmed (booking {booking.booking_id}).",
    )


def booking_waitlisted_message(name: str, booking: BookingWaitlisted) -> Message:
    return Message(
        MessageKind.BOOKING_WAITLISTED,
        "You are on the waiting list",
        f"Hello {name}, all {_seat(booking.format)} seats are taken, so you are number {booking.position} "
        f"on the waiting list (booking {booking.booking_id}). We will tell you as soon as a seat is yours.",
    )


def invoice_issued_message(name: str, invoice: InvoiceIssued) -> Message:
    amount = format_amount(invoice.total_cents, invoice.currency)
    return Message(
        MessageKind.INVOICE_ISSUED,
        f"Invoice {invoice.number}: {amount}",
        f"Hello {name}, invoice {invoice.number} over {amount} for booking {invoice.booking_id} has been issued.",
    )
