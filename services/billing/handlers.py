"""Billing's reactions to events: read models of offers and members, invoices, credit notes and releases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.billing import batch_reads
from services.billing.commands import issue_credit_note, issue_invoice, offer_terms, record_attendance, refund_of
from services.billing.domain import V1_VAT_RATE
from services.billing.governance import policy_proposed, proposal_accepted
from services.billing.models import Invoice, MemberRecord, OfferVersion
from shared.consumer import RetryLater
from shared.events import ParsedEvent
from shared.events.declarations import (
    AttendanceRecorded,
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    MemberDeleted,
    MemberRegistered,
    MemberUpdated,
    OfferPublished,
    OfferPublishedV2,
    OfferSnapshot,
    OfferUpdated,
    PolicyProposed,
    ProposalAccepted,
)

FORMER_MEMBER = "Former member"


def offer_published_v1(event: ParsedEvent[OfferPublished], db: Session) -> None:
    """An older offer event: one provider with all of the providers' part, 19 % VAT; kept only while no v2
    event has told more about the offer (the catalog publishes both until every consumer has moved)."""
    offer = event.data
    if db.scalar(select(OfferVersion.offer_id).where(OfferVersion.offer_id == offer.offer_id).limit(1)):
        return
    db.add(OfferVersion(
        offer_id=offer.offer_id, effective_at=offer.published_at, event_version=1, title=offer.title,
        price_cents=offer.price_cents, currency=offer.currency, vat_rate=V1_VAT_RATE,
        providers=[[offer.provider_id, 100]], area=None, region=None,
    ))
    batch_reads.offer_written(db, offer.offer_id)


def _keep_snapshot(db: Session, offer_id: str, snapshot: OfferSnapshot, effective_at: datetime) -> None:
    batch_reads.offer_written(db, offer_id)
    # What v1 told of the same offer is superseded by the fuller snapshot.
    db.execute(delete(OfferVersion).where(OfferVersion.offer_id == offer_id, OfferVersion.event_version == 1))
    db.merge(OfferVersion(
        offer_id=offer_id, effective_at=effective_at, event_version=2, title=snapshot.title,
        price_cents=snapshot.price_cents, currency=snapshot.currency, vat_rate=snapshot.vat_rate,
        providers=[[provider.member_id, provider.share_percent] for provider in snapshot.providers],
        # A posting carries one area, so reports add up: the offer's first (main) area.
        area=snapshot.areas[0] if snapshot.areas else None, region=snapshot.region,
    ))


def offer_published(event: ParsedEvent[OfferPublishedV2], db: Session) -> None:
    _keep_snapshot(db, event.data.offer_id, event.data.offer, event.data.published_at)


def offer_updated(event: ParsedEvent[OfferUpdated], db: Session) -> None:
    """Price, VAT and shares for bookings made from `updated_at` on; earlier bookings keep their terms."""
    _keep_snapshot(db, event.data.offer_id, event.data.offer, event.data.updated_at)


def booking_confirmed(event: ParsedEvent[BookingConfirmed | BookingPromoted], db: Session) -> None:
    """A seat is held (booked at once, or promoted from the waiting list): invoice it once."""
    booking = event.data
    booked_at = booking.confirmed_at if isinstance(booking, BookingConfirmed) else booking.promoted_at
    offer = offer_terms(db, booking.offer_id, booked_at)
    if offer is None:
        # Events may overtake each other; the offer's own event is on its way.
        raise RetryLater(f"offer {booking.offer_id} is not known yet")
    issue_invoice(db, booking_id=booking.booking_id, session_id=booking.session_id, member_id=booking.member_id,
                  format=booking.format, offer=offer, booked_at=booked_at)


def booking_cancelled(event: ParsedEvent[BookingCancelled], db: Session) -> None:
    """A held seat was given up: credit its invoice (the refund, or all of it when the session is off)."""
    cancelled = event.data
    if cancelled.previous_status != "confirmed":
        return  # a waiting member was never invoiced
    invoice = db.scalar(select(Invoice).where(Invoice.booking_id == cancelled.booking_id))
    if invoice is None:
        raise RetryLater(f"booking {cancelled.booking_id} is not invoiced yet")
    refund = refund_of(invoice.total_cents, cancelled.fee_cents, cancelled.refund_cents, cancelled.reason)
    issue_credit_note(db, invoice, reason=cancelled.reason, refund_cents=refund, cancelled_at=cancelled.cancelled_at)


def attendance_recorded(event: ParsedEvent[AttendanceRecorded], db: Session) -> None:
    record_attendance(db, event.data.session_id, event.data.recorded_at)


def member_registered(event: ParsedEvent[MemberRegistered], db: Session) -> None:
    member = event.data
    # An update may have overtaken it.
    if batch_reads.get(db, MemberRecord, member.member_id, batch_reads.members_named) is None:
        db.add(MemberRecord(member_id=member.member_id, display_name=member.display_name))


def member_updated(event: ParsedEvent[MemberUpdated], db: Session) -> None:
    member = event.data
    record = batch_reads.get(db, MemberRecord, member.member_id, batch_reads.members_named)
    if record is None:
        record = MemberRecord(member_id=member.member_id)
        db.add(record)
    elif record.deleted_at is not None or (record.updated_at and record.updated_at >= member.updated_at):
        return
    record.display_name, record.organisation = member.display_name, member.organisation
    record.postal_address = member.postal_address
    record.updated_at = member.updated_at


def member_deleted(event: ParsedEvent[MemberDeleted], db: Session) -> None:
    """The profile is erased; issued invoices and credit notes keep the buyer as issued (tax law, see README)."""
    db.merge(MemberRecord(member_id=event.data.member_id, display_name=FORMER_MEMBER, organisation=None,
                          postal_address=None, deleted_at=event.data.deleted_at))


HANDLERS = {
    OfferPublished: offer_published_v1,
    OfferPublishedV2: offer_published,
    OfferUpdated: offer_updated,
    BookingConfirmed: booking_confirmed,
    BookingPromoted: booking_confirmed,
    BookingCancelled: booking_cancelled,
    AttendanceRecorded: attendance_recorded,
    MemberRegistered: member_registered,
    MemberUpdated: member_updated,
    MemberDeleted: member_deleted,
    ProposalAccepted: proposal_accepted,
    PolicyProposed: policy_proposed,
}
