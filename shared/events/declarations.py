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
LANGUAGES = ("de", "en")
VAT_RATES = (0, 7, 19)
NOT_NEGATIVE = validate.Range(min=0)
CURRENCY = validate.Length(equal=3)
LEVEL = validate.Range(min=1, max=5)
PERCENT = validate.Range(min=0, max=100)


# --- catalog ----------------------------------------------------------------------------------------------
@declare("member.registered", 1, owner="catalog", subject="member_id")
class MemberRegistered(Event):
    """A person joined the academy as a member."""

    member_id: str
    email: str = wire(validate=validate.Email())
    display_name: str
    registered_at: datetime
    # Added compatibly: members registered before these existed read as English speakers in Berlin.
    preferred_language: str = wire(default="en", validate=validate.OneOf(LANGUAGES))
    time_zone: str = "Europe/Berlin"


@declare("member.updated", 1, owner="catalog", subject="member_id")
class MemberUpdated(Event):
    """A member changed their profile. The whole profile, so consumers keep the latest by `updated_at`."""

    member_id: str
    email: str = wire(validate=validate.Email())
    display_name: str
    organisation: str | None = None
    # ISO 3166-2 for a German state (`DE-BW`) or ISO 3166-1 alpha-2 for a country.
    region: str | None = None
    languages: list[str] = wire(default_factory=list)
    preferred_language: str = wire(validate=validate.OneOf(LANGUAGES))
    career_stage: str | None = None
    preferred_formats: list[str] = wire(default_factory=list)
    time_zone: str
    updated_at: datetime
    # Added compatibly: the lines of the address invoices are made out to, if the member gave one.
    postal_address: list[str] | None = None


@declare("password_reset.requested", 1, owner="catalog", subject="member_id")
class PasswordResetRequested(Event):
    """A member asked to reset a forgotten password. It carries the reset token itself, since only a mail to the
    member's address may deliver it: single use, valid until `expires_at` (an hour), kept by catalog only as a
    digest, and mailed by notify without an inbox copy."""

    member_id: str
    reset_token: str
    requested_at: datetime
    expires_at: datetime


@declare("registration.requested", 1, owner="catalog", subject="member_id")
class RegistrationRequested(Event):
    """Someone registered with a member's address. For an address not yet confirmed it carries the confirmation
    token (single use, valid until `expires_at`, kept by catalog only as a digest), which only a mail to the address
    may deliver; for a confirmed account it carries none, and the mail says the address has an account already.
    Registration answers the same either way, so only the address's owner learns which case it was."""

    member_id: str
    verification_token: str | None = None
    expires_at: datetime | None = None
    requested_at: datetime


@declare("member.deleted", 1, owner="catalog", subject="member_id")
class MemberDeleted(Event):
    """A member deleted their account: every service anonymises what it holds about them."""

    member_id: str
    deleted_at: datetime


@dataclass(frozen=True)
class ProviderShare:
    """One provider of an offer and their percent of the providers' part; an offer's shares sum to 100."""

    member_id: str
    share_percent: int = wire(validate=validate.Range(min=1, max=100))


@dataclass(frozen=True)
class FeeTier:
    """Cancelling fewer than `days_before` days before the start costs `fee_percent` of the price."""

    days_before: int = wire(validate=NOT_NEGATIVE)
    fee_percent: int = wire(validate=PERCENT)


@dataclass(frozen=True, kw_only=True)
class OfferSnapshot:
    """What the other services need of an offer, so nobody calls the catalog back."""

    title: str
    summary: str = ""
    format: str = wire(validate=validate.OneOf(FORMATS))
    languages: list[str]
    # Codes of the competence framework (framework.published) and the areas they belong to.
    competences: list[str]
    areas: list[str]
    level: int = wire(validate=LEVEL)
    price_cents: int = wire(validate=NOT_NEGATIVE)
    currency: str = wire(validate=CURRENCY)
    vat_rate: int = wire(validate=validate.OneOf(VAT_RATES))
    providers: list[ProviderShare]
    # Ordered from the most days before the start; no tier applies -> free cancellation.
    cancellation_policy: str
    fee_tiers: list[FeeTier] = wire(default_factory=list)
    minimum_participants: int = wire(default=0, validate=NOT_NEGATIVE)
    maximum_participants: int | None = None
    decision_days_before: int = wire(default=7, validate=validate.Range(min=0, max=365))
    region: str | None = None


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


@declare("offer.published", 2, owner="catalog", subject="offer_id")
class OfferPublishedV2(Event):
    """An offer passed peer review and can be booked: its full snapshot (v1 named one provider and a
    basic/advanced/expert level; v2 has co-providers with shares, framework levels 1-5, VAT and the policy)."""

    offer_id: str
    offer: OfferSnapshot
    published_at: datetime


@declare("offer.updated", 1, owner="catalog", subject="offer_id")
class OfferUpdated(Event):
    """A published offer changed; price, VAT and policy apply to bookings made from `updated_at` on."""

    offer_id: str
    offer: OfferSnapshot
    updated_at: datetime


@declare("offer.withdrawn", 1, owner="catalog", subject="offer_id")
class OfferWithdrawn(Event):
    """A provider withdrew a published offer: it can no longer be found or booked; booked sessions stay."""

    offer_id: str
    withdrawn_at: datetime


@declare("offer.reviewed", 1, owner="catalog", subject="offer_id")
class OfferReviewed(Event):
    """A reviewer approved an offer or asked its providers for changes."""

    offer_id: str
    title: str
    provider_ids: list[str]
    reviewer_id: str
    decision: str = wire(validate=validate.OneOf(("approve", "request_changes")))
    comment: str = ""
    reviewed_at: datetime


@declare("coprovider.invited", 1, owner="catalog", subject="offer_id")
class CoproviderInvited(Event):
    """A provider invited a member to co-teach an offer; the offer waits for every co-provider's consent."""

    offer_id: str
    title: str
    member_id: str
    invited_by: str
    share_percent: int = wire(validate=validate.Range(min=1, max=100))
    invited_at: datetime


@declare("topic_request.answered", 1, owner="catalog", subject="topic_request_id")
class TopicRequestAnswered(Event):
    """A provider answered a topic request with an offer; `member_ids` are everyone who asked or voted."""

    topic_request_id: str
    title: str
    offer_id: str
    offer_title: str
    member_ids: list[str]
    answered_at: datetime


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
    # Added compatibly: the provider's words for the members who booked (empty in events from before).
    reason: str = ""


@declare("proposal.opened", 1, owner="catalog", subject="proposal_id")
class ProposalOpened(Event):
    """A proposal's discussion ended and its vote opened; `member_ids` are the members eligible to vote then
    (only the catalog knows who booked or offered within two years)."""

    proposal_id: str
    kind: str = wire(validate=validate.OneOf(("policy", "reviewer", "motion")))
    title: str
    voting_closes_at: datetime
    member_ids: list[str]
    opened_at: datetime


@declare("policy.proposed", 1, owner="catalog", subject="proposal_id")
class PolicyProposed(Event):
    """A member proposed a revenue-share policy; billing answers with what it would have done over the last year."""

    proposal_id: str
    shares_bp: dict[str, int] = wire(keys=fields.String(), values=fields.Integer(strict=True, validate=NOT_NEGATIVE))
    effective_from: datetime
    proposed_at: datetime


@declare("proposal.accepted", 1, owner="catalog", subject="proposal_id")
class ProposalAccepted(Event):
    """The members accepted a proposal: quorum and majority reached. Counts only; `voter_ids` are told the
    result. A policy carries its shares in basis points and effective date, a reviewer proposal the member
    and whether the role is granted or removed."""

    proposal_id: str
    kind: str = wire(validate=validate.OneOf(("policy", "reviewer", "motion")))
    title: str
    yes: int = wire(validate=NOT_NEGATIVE)
    no: int = wire(validate=NOT_NEGATIVE)
    abstain: int = wire(validate=NOT_NEGATIVE)
    eligible: int = wire(validate=NOT_NEGATIVE)
    voter_ids: list[str]
    closed_at: datetime
    shares_bp: dict[str, int] | None = wire(default=None, keys=fields.String(),
                                            values=fields.Integer(strict=True, validate=NOT_NEGATIVE))
    effective_from: datetime | None = None
    member_id: str | None = None
    action: str | None = wire(default=None, validate=validate.OneOf(("grant", "remove")))


@declare("proposal.rejected", 1, owner="catalog", subject="proposal_id")
class ProposalRejected(Event):
    """A proposal's vote closed without quorum or majority; nothing changes."""

    proposal_id: str
    kind: str = wire(validate=validate.OneOf(("policy", "reviewer", "motion")))
    title: str
    yes: int = wire(validate=NOT_NEGATIVE)
    no: int = wire(validate=NOT_NEGATIVE)
    abstain: int = wire(validate=NOT_NEGATIVE)
    eligible: int = wire(validate=NOT_NEGATIVE)
    quorum_reached: bool
    voter_ids: list[str]
    closed_at: datetime


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


@declare("credit_note.issued", 1, owner="billing", subject="credit_note_id")
class CreditNoteIssued(Event):
    """An invoice was credited, in part (a cancellation's refund) or in full (a session cancelled or called
    off)."""

    credit_note_id: str
    number: str
    invoice_id: str
    invoice_number: str
    booking_id: str
    member_id: str
    offer_id: str
    total_cents: int = wire(validate=NOT_NEGATIVE)
    currency: str = wire(validate=CURRENCY)
    reason: str
    issued_at: datetime


@declare("payment.recorded", 1, owner="billing", subject="payment_id")
class PaymentRecorded(Event):
    """Money came in for an invoice (`bank` or `credits`) or went back to the member after a credit note
    (`bank_refund`, `credits_refund`); `open_cents` is what the invoice asks for afterwards."""

    payment_id: str
    invoice_id: str
    invoice_number: str
    member_id: str
    method: str = wire(validate=validate.OneOf(("bank", "credits", "bank_refund", "credits_refund")))
    amount_cents: int = wire(validate=validate.Range(min=1))
    currency: str = wire(validate=CURRENCY)
    open_cents: int = wire(validate=NOT_NEGATIVE)
    recorded_at: datetime


@declare("payout.issued", 1, owner="billing", subject="payout_id")
class PayoutIssued(Event):
    """A provider's monthly statement: released shares minus reversals, paid out or converted into credits."""

    payout_id: str
    provider_id: str
    period: str = wire(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))
    amount_cents: int
    credits_cents: int = wire(default=0, validate=NOT_NEGATIVE)
    currency: str = wire(validate=CURRENCY)
    issued_at: datetime


@declare("revenue_policy.adopted", 1, owner="billing", subject="proposal_id")
class RevenuePolicyAdopted(Event):
    """Billing added the policy version an accepted proposal asked for (effective from the proposal's date, or
    from its acceptance if that date had passed)."""

    proposal_id: str
    version: int = wire(validate=validate.Range(min=1))
    effective_from: datetime
    adopted_at: datetime


@declare("proposal.simulated", 1, owner="billing", subject="proposal_id")
class ProposalSimulated(Event):
    """The what-if of a proposed policy over [period_start, period_end): each party's part of the net revenue in
    cents as it was and as it would have been (provider, academy, community_fund)."""

    proposal_id: str
    period_start: datetime
    period_end: datetime
    actual_cents: dict[str, int] = wire(keys=fields.String(), values=fields.Integer(strict=True))
    simulated_cents: dict[str, int] = wire(keys=fields.String(), values=fields.Integer(strict=True))
    simulated_at: datetime


# --- assessment -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FrameworkEntry:
    """A competence area, a competence or a career path of the framework, named in German and English."""

    code: str
    name_de: str
    name_en: str
    # For a competence: the code of its area; empty for areas and career paths.
    area: str = ""


@declare("framework.published", 1, owner="assessment", subject="framework_version")
class FrameworkPublished(Event):
    """A version of the competence framework took effect: its areas, competences (levels 1-5) and career
    paths. Consumers keep the latest version."""

    framework_version: str
    areas: list[FrameworkEntry]
    competences: list[FrameworkEntry]
    career_paths: list[FrameworkEntry]
    published_at: datetime


@dataclass(frozen=True)
class CompetenceGain:
    """How the attendees who answered rated one competence of an offer before and after its session, as sums of
    their levels (0-5) over the event's `respondents`: the mean change is (after_sum - before_sum) / respondents."""

    competence: str
    before_sum: int = wire(validate=NOT_NEGATIVE)
    after_sum: int = wire(validate=NOT_NEGATIVE)


@declare("reassessment.invited", 1, owner="assessment", subject="member_id")
class ReassessmentInvited(Event):
    """An attendee of a session is asked to rate the offer's competences again, so that the offer's learning gain
    can be measured; one per attendee and session."""

    reassessment_id: str
    member_id: str
    offer_id: str
    session_id: str
    competences: list[str]
    invited_at: datetime


@declare("learning_gain.recorded", 1, owner="assessment", subject="offer_id")
class LearningGainRecorded(Event):
    """Attendees of an offer reassessed its competences. Anonymised: only sums over every attendee who answered,
    published once at least five answered; consumers keep the latest by `recorded_at`."""

    offer_id: str
    respondents: int = wire(validate=validate.Range(min=5))
    competences: list[CompetenceGain]
    recorded_at: datetime


@dataclass(frozen=True)
class CompetenceDemand:
    """The members' need in one competence, as sums over `members`: levels missing to their career path's target
    (gap_sum), expected importance in three years 1-5 (importance_sum), and how many miss at least one level."""

    competence: str
    area: str
    members: int = wire(validate=validate.Range(min=5))
    gap_sum: int = wire(validate=NOT_NEGATIVE)
    importance_sum: int = wire(validate=NOT_NEGATIVE)
    members_with_gap: int = wire(validate=NOT_NEGATIVE)


@declare("demand.updated", 1, owner="assessment", subject="quarter")
class DemandUpdated(Event):
    """The members' training needs of a quarter changed. Anonymised: only groups of at least five members
    (by career path, region and preferred format) are counted, and no member is named. Coalesced: one event
    stands for every change since the previous one; consumers keep the latest by `updated_at`."""

    quarter: str = wire(validate=validate.Regexp(r"^\d{4}-Q[1-4]$"))
    competences: list[CompetenceDemand]
    updated_at: datetime


# --- notify -----------------------------------------------------------------------------------------------
@declare("notification.delivered", 1, owner="notify", subject="notification_id")
class NotificationDelivered(Event):
    """A message reached a member's inbox or mailbox."""

    notification_id: str
    member_id: str
    channel: str = wire(validate=validate.OneOf(("inbox", "email")))
    cause_event_id: str
    delivered_at: datetime


@declare("notification.failed", 1, owner="notify", subject="notification_id")
class NotificationFailed(Event):
    """A message could not be delivered for good (the mail server refused it permanently)."""

    notification_id: str
    member_id: str
    channel: str = wire(validate=validate.OneOf(("inbox", "email")))
    cause_event_id: str
    reason: str
    failed_at: datetime
