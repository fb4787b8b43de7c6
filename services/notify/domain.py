"""What notify tells people: the kinds of message, their categories, and which events concern nobody in person."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MessageKind(StrEnum):
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_WAITLISTED = "booking_waitlisted"
    BOOKING_PROMOTED = "booking_promoted"
    BOOKING_CANCELLED = "booking_cancelled"
    SESSION_RESCHEDULED = "session_rescheduled"
    SESSION_CANCELLED = "session_cancelled"
    CERTIFICATE_ISSUED = "certificate_issued"
    INVOICE_ISSUED = "invoice_issued"
    CREDIT_NOTE_ISSUED = "credit_note_issued"
    PAYOUT_ISSUED = "payout_issued"
    OFFER_REVIEWED = "offer_reviewed"
    COPROVIDER_INVITED = "coprovider_invited"
    TOPIC_REQUEST_ANSWERED = "topic_request_answered"
    GO_DECISION_MADE = "go_decision_made"
    REASSESSMENT_INVITED = "reassessment_invited"
    PASSWORD_RESET = "password_reset"
    REGISTRATION = "registration"
    VOTE_OPENED = "vote_opened"
    VOTE_CLOSED = "vote_closed"


class Category(StrEnum):
    """What a member switches e-mail on or off for; the inbox always receives every message."""

    BOOKINGS = "bookings"
    CANCELLATIONS = "cancellations"
    INVOICES = "invoices"
    CERTIFICATES = "certificates"
    OFFERS = "offers"
    TOPIC_REQUESTS = "topic_requests"
    ASSESSMENTS = "assessments"
    ACCOUNT = "account"
    GOVERNANCE = "governance"


# Money, lost seats and the account itself must reach the member whatever they chose.
ALWAYS_MAILED = frozenset({Category.INVOICES, Category.CANCELLATIONS, Category.ACCOUNT})
# Mail only: the message carries a secret (a reset or confirmation link) that an inbox, read once signed in, must
# not keep; a registration's mail also goes to someone who cannot sign in yet.
MAIL_ONLY = frozenset({MessageKind.PASSWORD_RESET, MessageKind.REGISTRATION})

CATEGORY_OF: dict[MessageKind, Category] = {
    MessageKind.BOOKING_CONFIRMED: Category.BOOKINGS,
    MessageKind.BOOKING_WAITLISTED: Category.BOOKINGS,
    MessageKind.BOOKING_PROMOTED: Category.BOOKINGS,
    MessageKind.SESSION_RESCHEDULED: Category.BOOKINGS,
    MessageKind.BOOKING_CANCELLED: Category.CANCELLATIONS,
    MessageKind.SESSION_CANCELLED: Category.CANCELLATIONS,
    MessageKind.CERTIFICATE_ISSUED: Category.CERTIFICATES,
    MessageKind.INVOICE_ISSUED: Category.INVOICES,
    MessageKind.CREDIT_NOTE_ISSUED: Category.INVOICES,
    MessageKind.PAYOUT_ISSUED: Category.INVOICES,
    MessageKind.OFFER_REVIEWED: Category.OFFERS,
    MessageKind.COPROVIDER_INVITED: Category.OFFERS,
    MessageKind.GO_DECISION_MADE: Category.OFFERS,
    MessageKind.TOPIC_REQUEST_ANSWERED: Category.TOPIC_REQUESTS,
    MessageKind.REASSESSMENT_INVITED: Category.ASSESSMENTS,
    MessageKind.PASSWORD_RESET: Category.ACCOUNT,
    MessageKind.REGISTRATION: Category.ACCOUNT,
    MessageKind.VOTE_OPENED: Category.GOVERNANCE,
    MessageKind.VOTE_CLOSED: Category.GOVERNANCE,
}

# Every declared event (CloudEvents type) that tells a person something, and the message it becomes.
KIND_OF_EVENT: dict[str, MessageKind] = {
    "academy.booking.confirmed.v1": MessageKind.BOOKING_CONFIRMED,
    "academy.booking.waitlisted.v1": MessageKind.BOOKING_WAITLISTED,
    "academy.booking.promoted.v1": MessageKind.BOOKING_PROMOTED,
    "academy.booking.cancelled.v1": MessageKind.BOOKING_CANCELLED,
    "academy.session.rescheduled.v1": MessageKind.SESSION_RESCHEDULED,
    "academy.session.cancelled.v1": MessageKind.SESSION_CANCELLED,
    "academy.attendance.recorded.v1": MessageKind.CERTIFICATE_ISSUED,
    "academy.invoice.issued.v1": MessageKind.INVOICE_ISSUED,
    "academy.credit_note.issued.v1": MessageKind.CREDIT_NOTE_ISSUED,
    "academy.payout.issued.v1": MessageKind.PAYOUT_ISSUED,
    "academy.offer.reviewed.v1": MessageKind.OFFER_REVIEWED,
    "academy.coprovider.invited.v1": MessageKind.COPROVIDER_INVITED,
    "academy.topic_request.answered.v1": MessageKind.TOPIC_REQUEST_ANSWERED,
    "academy.go_decision.made.v1": MessageKind.GO_DECISION_MADE,
    "academy.reassessment.invited.v1": MessageKind.REASSESSMENT_INVITED,
    "academy.password_reset.requested.v1": MessageKind.PASSWORD_RESET,
    "academy.registration.requested.v1": MessageKind.REGISTRATION,
    "academy.proposal.opened.v1": MessageKind.VOTE_OPENED,
    "academy.proposal.accepted.v1": MessageKind.VOTE_CLOSED,
    "academy.proposal.rejected.v1": MessageKind.VOTE_CLOSED,
}

# Every other declared event, with the reason no person is told of it; a new event belongs in one of the two.
NOT_FOR_A_PERSON: dict[str, str] = {
    "academy.member.registered.v1": "read model; registration.requested mails the confirmation link",
    "academy.member.updated.v1": "read model: name, address, language, time zone",
    "academy.member.deleted.v1": "erases the member's messages; nobody is left to tell",
    "academy.offer.published.v1": "superseded by v2",
    "academy.offer.published.v2": "read model of titles and providers; the review decision tells the providers",
    "academy.offer.updated.v1": "read model of titles and providers",
    "academy.offer.withdrawn.v1": "booked sessions stay; their cancellation is told if it comes",
    "academy.session.scheduled.v1": "read model of dates; nobody holds a booking yet",
    "academy.availability.changed.v1": "seat counts for search, no person concerned",
    "academy.framework.published.v1": "reference data",
    "academy.learning_gain.recorded.v1": "anonymised sums",
    "academy.demand.updated.v1": "anonymised sums",
    "academy.notification.delivered.v1": "notify's own record",
    "academy.notification.failed.v1": "notify's own record, for operators",
    "academy.payment.recorded.v1": "the invoice shows it paid; a refund comes with the credit note's message",
    "academy.revenue_policy.adopted.v1": "the vote's result told the voters already",
    "academy.policy.proposed.v1": "billing's question for the what-if; the vote's opening is told",
    "academy.proposal.simulated.v1": "shown on the proposal; the vote's opening is told",
}


# Categories none of whose messages reach the inbox.
MAIL_ONLY_CATEGORIES = frozenset(category for category in Category
                                 if all(kind in MAIL_ONLY for kind, of in CATEGORY_OF.items() if of is category))


@dataclass(frozen=True)
class Message:
    """One rendered message: the subject, the plain-text body (the inbox shows it), and the e-mail's plain-text
    and HTML parts, which add a footer."""

    kind: MessageKind
    subject: str
    text: str
    mail_text: str
    html: str

    @property
    def category(self) -> Category:
        return CATEGORY_OF[self.kind]


def wants_email(category: Category, chosen: bool | None) -> bool:
    """Whether a member gets this category by e-mail; no choice yet means yes."""
    return category in ALWAYS_MAILED or chosen is not False
