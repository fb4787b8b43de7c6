"""Catalog's event handlers: read models of the competence framework, the demand, who attended which session and
what offers' attendees learned."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.catalog import demand, framework, learning_gain, proposals, ratings, search
from shared.consumer import HandlerRegistry
from shared.events import ParsedEvent
from shared.events.declarations import (
    AttendanceRecorded,
    AvailabilityChanged,
    BookingConfirmed,
    BookingPromoted,
    BookingWaitlisted,
    DemandUpdated,
    FrameworkPublished,
    LearningGainRecorded,
    ProposalSimulated,
    RevenuePolicyAdopted,
)


def framework_published(event: ParsedEvent[FrameworkPublished], db: Session) -> None:
    framework.keep_latest(db, event.data)


def demand_updated(event: ParsedEvent[DemandUpdated], db: Session) -> None:
    demand.keep_latest(db, event.data)


def attendance_recorded(event: ParsedEvent[AttendanceRecorded], db: Session) -> None:
    """Who attended may rate the session."""
    ratings.keep_attendance(db, event.data)


def learning_gain_recorded(event: ParsedEvent[LearningGainRecorded], db: Session) -> None:
    learning_gain.keep_latest(db, event.data)


def availability_changed(event: ParsedEvent[AvailabilityChanged], db: Session) -> None:
    """Free seats for the search's filter."""
    search.keep_availability(db, event.data.session_id, {seats.format: seats.free for seats in event.data.formats},
                             event.data.changed_at)


def booking_confirmed(event: ParsedEvent[BookingConfirmed], db: Session) -> None:
    """A booking makes its member eligible to propose and vote for two years."""
    proposals.keep_booking(db, event.data.member_id, event.data.confirmed_at)


def booking_waitlisted(event: ParsedEvent[BookingWaitlisted], db: Session) -> None:
    proposals.keep_booking(db, event.data.member_id, event.data.waitlisted_at)


def booking_promoted(event: ParsedEvent[BookingPromoted], db: Session) -> None:
    proposals.keep_booking(db, event.data.member_id, event.data.promoted_at)


def revenue_policy_adopted(event: ParsedEvent[RevenuePolicyAdopted], db: Session) -> None:
    """Billing carried out an accepted policy proposal."""
    adopted = event.data
    proposals.policy_adopted(db, adopted.proposal_id, adopted.version, adopted.effective_from, adopted.adopted_at)


def proposal_simulated(event: ParsedEvent[ProposalSimulated], db: Session) -> None:
    """Billing's what-if for a policy proposal, for members to vote informed."""
    proposals.keep_what_if(db, event.data)


HANDLERS: HandlerRegistry = {
    FrameworkPublished: framework_published,
    DemandUpdated: demand_updated,
    AttendanceRecorded: attendance_recorded,
    LearningGainRecorded: learning_gain_recorded,
    AvailabilityChanged: availability_changed,
    BookingConfirmed: booking_confirmed,
    BookingWaitlisted: booking_waitlisted,
    BookingPromoted: booking_promoted,
    RevenuePolicyAdopted: revenue_policy_adopted,
    ProposalSimulated: proposal_simulated,
}
