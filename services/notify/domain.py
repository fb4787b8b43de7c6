"""What notify tells a member about each event: short English messages with the facts that matter."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.events.declarations import (
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    BookingWaitlisted,
    InvoiceIssued,
)


class MessageKind(StrEnum):
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_WAITLISTED = "booking_waitlisted"
    BOOKING_PROMOTED = "booking_promoted"
    BOOKING_CANCELLED = "booking_cancelled"
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


def booking_promoted_message(name: str, booking: BookingPromoted) -> Message:
    return Message(
        MessageKind.BOOKING_PROMOTED,
        "A seat became free: it is yours",
        f"Hello {name}, a {_seat(booking.format)} seat became free and is now yours (booking "
        f"{booking.booking_id}). Should you no longer need it, you can cancel free of charge for 24 hours.",
    )


def booking_cancelled_message(name: str, booking: BookingCancelled) -> Message:
    if booking.previous_status == "waitlisted":
        text = f"you have left the waiting list (booking {booking.booking_id})."
    elif booking.fee_cents and booking.currency:
        fee = format_amount(booking.fee_cents, booking.currency)
        refund = format_amount(booking.refund_cents, booking.currency)
        text = f"your booking {booking.booking_id} is cancelled; the fee is {fee}, and {refund} will be refunded."
    else:
        text = f"your booking {booking.booking_id} is cancelled free of charge."
    if booking.reason == "session_cancelled":
        text = f"the session was cancelled by its provider, so {text}"
    elif booking.reason == "called_off":
        text = f"the session did not reach its minimum number of participants and was called off, so {text}"
    return Message(MessageKind.BOOKING_CANCELLED, "Your booking is cancelled", f"Hello {name}, {text}")


def invoice_issued_message(name: str, invoice: InvoiceIssued) -> Message:
    amount = format_amount(invoice.total_cents, invoice.currency)
    return Message(
        MessageKind.INVOICE_ISSUED,
        f"Invoice {invoice.number}: {amount}",
        f"Hello {name}, invoice {invoice.number} over {amount} for booking {invoice.booking_id} has been issued.",
    )
