"""Notify's reactions to events: read models of members, offers, sessions and bookings, and a message for each
person an event concerns (domain.KIND_OF_EVENT)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notify.batch_reads import get
from services.notify.commands import erase_member, tell
from services.notify.domain import KIND_OF_EVENT
from services.notify.models import BookingRecord, MemberRecord, OfferRecord, SessionRecord
from services.notify.rendering import render
from services.notify.settings import public_url
from shared.consumer import RetryLater
from shared.events import ParsedEvent
from shared.events.declarations import (
    AttendanceRecorded,
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    BookingWaitlisted,
    CoproviderInvited,
    CreditNoteIssued,
    GoDecisionMade,
    InvoiceIssued,
    MemberDeleted,
    MemberRegistered,
    MemberUpdated,
    OfferPublishedV2,
    OfferReviewed,
    OfferSnapshot,
    OfferUpdated,
    PasswordResetRequested,
    PayoutIssued,
    ProposalAccepted,
    ProposalOpened,
    ProposalRejected,
    ReassessmentInvited,
    RegistrationRequested,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
    TopicRequestAnswered,
)

# A booking only moves forward, whatever order its events arrive in.
_BOOKING_RANK = {"waitlisted": 0, "confirmed": 1, "cancelled": 2}
SESSION_CANCELLED = "session_cancelled"


# --- read models ---------------------------------------------------------------------------------------------
def member_registered(event: ParsedEvent[MemberRegistered], db: Session) -> None:
    member = event.data
    if get(db, MemberRecord, member.member_id) is None:  # an update (or the deletion) may have overtaken it
        db.add(MemberRecord(member_id=member.member_id, email=member.email, display_name=member.display_name,
                            preferred_language=member.preferred_language, time_zone=member.time_zone))


def member_updated(event: ParsedEvent[MemberUpdated], db: Session) -> None:
    member = event.data
    record = get(db, MemberRecord, member.member_id)
    if record is None:
        record = MemberRecord(member_id=member.member_id)
        db.add(record)
    elif record.deleted_at is not None or (record.updated_at and record.updated_at >= member.updated_at):
        return
    record.email, record.display_name = member.email, member.display_name
    record.preferred_language, record.time_zone = member.preferred_language, member.time_zone
    record.updated_at = member.updated_at


def member_deleted(event: ParsedEvent[MemberDeleted], db: Session) -> None:
    erase_member(db, event.data.member_id, event.data.deleted_at)


def _keep_offer(db: Session, offer_id: str, offer: OfferSnapshot, as_of) -> None:
    record = get(db, OfferRecord, offer_id)
    if record is not None and record.updated_at >= as_of:
        return
    db.merge(OfferRecord(offer_id=offer_id, title=offer.title,
                         provider_ids=[provider.member_id for provider in offer.providers], updated_at=as_of))


def offer_published(event: ParsedEvent[OfferPublishedV2], db: Session) -> None:
    _keep_offer(db, event.data.offer_id, event.data.offer, event.data.published_at)


def offer_updated(event: ParsedEvent[OfferUpdated], db: Session) -> None:
    _keep_offer(db, event.data.offer_id, event.data.offer, event.data.updated_at)


def session_scheduled(event: ParsedEvent[SessionScheduled], db: Session) -> None:
    session = event.data
    if get(db, SessionRecord, session.session_id) is None:  # a rescheduling may have overtaken it
        db.add(SessionRecord(session_id=session.session_id, offer_id=session.offer_id,
                             starts_at=session.starts_at, ends_at=session.ends_at,
                             location=session.location, link=session.link))


def _keep_booking(db: Session, booking_id: str, session_id: str, member_id: str, status: str,
                  cancel_reason: str | None = None) -> None:
    record = get(db, BookingRecord, booking_id)
    if record is None:
        db.add(BookingRecord(booking_id=booking_id, session_id=session_id, member_id=member_id, status=status,
                             cancel_reason=cancel_reason))
    elif _BOOKING_RANK[status] > _BOOKING_RANK[record.status]:
        record.status, record.cancel_reason = status, cancel_reason


# --- telling people ------------------------------------------------------------------------------------------
def _tell(event: ParsedEvent[Any], db: Session, member_ids: Iterable[str], facts: dict) -> None:
    """Render the event's message for each member in their language and time zone, and deliver it."""
    kind = KIND_OF_EVENT[event.event_type.type]
    members = []
    for member_id in dict.fromkeys(member_ids):
        member = get(db, MemberRecord, member_id)
        if member is None:
            # Events may overtake each other; the member's registration is on its way (dead-lettered if never).
            raise RetryLater(f"member {member_id} is not known yet")
        if member.deleted_at is None:  # a deleted member is told nothing
            members.append(member)
    for member in members:
        message = render(kind, member.preferred_language, member.time_zone,
                         {"name": member.display_name, **facts}, public_url())
        tell(db, member, event.id, message)


def _session_facts(db: Session, session_id: str, offer_id: str) -> dict:
    session = get(db, SessionRecord, session_id)
    offer = get(db, OfferRecord, offer_id)
    return {
        "offer_title": offer.title if offer else None,
        "starts_at": session.starts_at if session else None,
        "location": session.location if session else None,
        "link_url": session.link if session else None,
    }


def _booking_facts(db: Session, booking) -> dict:
    return {"booking_id": booking.booking_id, "format": booking.format,
            **_session_facts(db, booking.session_id, booking.offer_id)}


def booking_confirmed(event: ParsedEvent[BookingConfirmed], db: Session) -> None:
    booking = event.data
    _keep_booking(db, booking.booking_id, booking.session_id, booking.member_id, "confirmed")
    _tell(event, db, [booking.member_id], _booking_facts(db, booking))


def booking_waitlisted(event: ParsedEvent[BookingWaitlisted], db: Session) -> None:
    booking = event.data
    _keep_booking(db, booking.booking_id, booking.session_id, booking.member_id, "waitlisted")
    _tell(event, db, [booking.member_id], {**_booking_facts(db, booking), "position": booking.position})


def booking_promoted(event: ParsedEvent[BookingPromoted], db: Session) -> None:
    booking = event.data
    _keep_booking(db, booking.booking_id, booking.session_id, booking.member_id, "confirmed")
    _tell(event, db, [booking.member_id], _booking_facts(db, booking))


def booking_cancelled(event: ParsedEvent[BookingCancelled], db: Session) -> None:
    booking = event.data
    known = get(db, BookingRecord, booking.booking_id)
    # One message per member and cancelled session, whichever of the two events comes first: session.cancelled
    # already told the holders it knew of (and ended their bookings here), so their booking's end says nothing new.
    told_by_session = known is not None and known.status == "cancelled" and known.cancel_reason == SESSION_CANCELLED
    _keep_booking(db, booking.booking_id, booking.session_id, booking.member_id, "cancelled", booking.reason)
    if told_by_session and booking.reason == SESSION_CANCELLED:
        return
    _tell(event, db, [booking.member_id], {
        **_booking_facts(db, booking), "previous_status": booking.previous_status, "reason": booking.reason,
        "fee_cents": booking.fee_cents, "refund_cents": booking.refund_cents, "currency": booking.currency})


def _holders(db: Session, session_id: str) -> list[BookingRecord]:
    """Bookings of the session that are held (confirmed or waiting), as far as notify has heard."""
    return list(db.scalars(select(BookingRecord).where(BookingRecord.session_id == session_id,
                                                       BookingRecord.status != "cancelled")
                           .order_by(BookingRecord.booking_id)))


def session_rescheduled(event: ParsedEvent[SessionRescheduled], db: Session) -> None:
    moved = event.data
    session = get(db, SessionRecord, moved.session_id)
    if session is None:
        session = SessionRecord(session_id=moved.session_id, offer_id=moved.offer_id)
        db.add(session)
    session.starts_at, session.ends_at = moved.starts_at, moved.ends_at
    session.location, session.link = moved.location, moved.link
    db.flush()
    _tell(event, db, [booking.member_id for booking in _holders(db, moved.session_id)],
          {**_session_facts(db, moved.session_id, moved.offer_id), "ends_at": moved.ends_at})


def session_cancelled(event: ParsedEvent[SessionCancelled], db: Session) -> None:
    """Every holder is told once; their bookings end here too, so that booking.cancelled (reason
    session_cancelled) arriving later does not tell them twice. Holders whose booking.cancelled came first were
    told by it and are no longer holders."""
    cancelled = event.data
    holders = _holders(db, cancelled.session_id)
    _tell(event, db, [booking.member_id for booking in holders],
          {**_session_facts(db, cancelled.session_id, cancelled.offer_id), "reason": cancelled.reason})
    for booking in holders:
        booking.status, booking.cancel_reason = "cancelled", SESSION_CANCELLED


def attendance_recorded(event: ParsedEvent[AttendanceRecorded], db: Session) -> None:
    """Each attendee hears of their own certificate: one render per attendee, for their certificate id."""
    recorded = event.data
    facts = _session_facts(db, recorded.session_id, recorded.offer_id)
    for attendee in recorded.attendees:
        _tell(event, db, [attendee.member_id], {**facts, "certificate_id": attendee.certificate_id})


def invoice_issued(event: ParsedEvent[InvoiceIssued], db: Session) -> None:
    invoice = event.data
    offer = get(db, OfferRecord, invoice.offer_id)
    _tell(event, db, [invoice.member_id], {
        "number": invoice.number, "total_cents": invoice.total_cents, "currency": invoice.currency,
        "booking_id": invoice.booking_id, "invoice_id": invoice.invoice_id,
        "offer_title": offer.title if offer else None})


def credit_note_issued(event: ParsedEvent[CreditNoteIssued], db: Session) -> None:
    note = event.data
    _tell(event, db, [note.member_id], {
        "number": note.number, "invoice_number": note.invoice_number, "invoice_id": note.invoice_id,
        "booking_id": note.booking_id, "total_cents": note.total_cents, "currency": note.currency})


def payout_issued(event: ParsedEvent[PayoutIssued], db: Session) -> None:
    payout = event.data
    _tell(event, db, [payout.provider_id], {
        "period": payout.period, "amount_cents": payout.amount_cents, "credits_cents": payout.credits_cents,
        "currency": payout.currency})


def offer_reviewed(event: ParsedEvent[OfferReviewed], db: Session) -> None:
    review = event.data
    _tell(event, db, review.provider_ids, {"title": review.title, "decision": review.decision,
                                           "comment": review.comment, "offer_id": review.offer_id})


def coprovider_invited(event: ParsedEvent[CoproviderInvited], db: Session) -> None:
    invitation = event.data
    inviter = get(db, MemberRecord, invitation.invited_by)
    _tell(event, db, [invitation.member_id], {
        "title": invitation.title, "share_percent": invitation.share_percent, "offer_id": invitation.offer_id,
        "inviter": inviter.display_name if inviter and inviter.deleted_at is None else None})


def topic_request_answered(event: ParsedEvent[TopicRequestAnswered], db: Session) -> None:
    answer = event.data
    _tell(event, db, answer.member_ids, {"title": answer.title, "offer_title": answer.offer_title,
                                         "offer_id": answer.offer_id})


def proposal_opened(event: ParsedEvent[ProposalOpened], db: Session) -> None:
    """The catalog names the eligible members in the event: only it knows who booked or offered lately."""
    opened = event.data
    _tell(event, db, opened.member_ids, {"title": opened.title, "voting_closes_at": opened.voting_closes_at,
                                         "proposal_id": opened.proposal_id})


def proposal_closed(event: ParsedEvent[ProposalAccepted] | ParsedEvent[ProposalRejected], db: Session) -> None:
    """Everyone who voted learns the counts, accepted or not."""
    closed = event.data
    accepted = isinstance(closed, ProposalAccepted)
    _tell(event, db, closed.voter_ids, {
        "proposal_id": closed.proposal_id, "title": closed.title, "accepted": accepted,
        "quorum_reached": accepted or closed.quorum_reached,
        "yes": closed.yes, "no": closed.no, "abstain": closed.abstain, "eligible": closed.eligible})


def go_decision_made(event: ParsedEvent[GoDecisionMade], db: Session) -> None:
    decision = event.data
    offer = get(db, OfferRecord, decision.offer_id)
    if offer is None:
        raise RetryLater(f"offer {decision.offer_id} is not known yet")
    _tell(event, db, offer.provider_ids, {
        **_session_facts(db, decision.session_id, decision.offer_id), "offer_id": decision.offer_id,
        "outcome": decision.outcome, "confirmed": decision.confirmed, "minimum": decision.minimum})


def reassessment_invited(event: ParsedEvent[ReassessmentInvited], db: Session) -> None:
    invitation = event.data
    _tell(event, db, [invitation.member_id], {
        **_session_facts(db, invitation.session_id, invitation.offer_id),
        "reassessment_id": invitation.reassessment_id, "competence_count": len(invitation.competences)})


def password_reset_requested(event: ParsedEvent[PasswordResetRequested], db: Session) -> None:
    reset = event.data
    _tell(event, db, [reset.member_id], {"reset_token": reset.reset_token, "expires_at": reset.expires_at})


def registration_requested(event: ParsedEvent[RegistrationRequested], db: Session) -> None:
    """The confirmation link, or, without one, word that the address has an account already."""
    registration = event.data
    _tell(event, db, [registration.member_id], {"verification_token": registration.verification_token,
                                                "expires_at": registration.expires_at})


HANDLERS = {
    MemberRegistered: member_registered,
    MemberUpdated: member_updated,
    MemberDeleted: member_deleted,
    OfferPublishedV2: offer_published,
    OfferUpdated: offer_updated,
    SessionScheduled: session_scheduled,
    SessionRescheduled: session_rescheduled,
    SessionCancelled: session_cancelled,
    BookingConfirmed: booking_confirmed,
    BookingWaitlisted: booking_waitlisted,
    BookingPromoted: booking_promoted,
    BookingCancelled: booking_cancelled,
    AttendanceRecorded: attendance_recorded,
    InvoiceIssued: invoice_issued,
    CreditNoteIssued: credit_note_issued,
    PayoutIssued: payout_issued,
    OfferReviewed: offer_reviewed,
    CoproviderInvited: coprovider_invited,
    TopicRequestAnswered: topic_request_answered,
    GoDecisionMade: go_decision_made,
    ReassessmentInvited: reassessment_invited,
    PasswordResetRequested: password_reset_requested,
    RegistrationRequested: registration_requested,
    ProposalOpened: proposal_opened,
    ProposalAccepted: proposal_closed,
    ProposalRejected: proposal_closed,
}
