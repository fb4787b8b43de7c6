"""Assessment's event handlers: read models of offers, sessions, seats and members; invitations to reassess
after attendance; a deleted member's data."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.assessment.commands import delete_member_data, invite_to_reassess
from services.assessment.models import MemberRecord, OfferRecord, SessionRecord
from shared.events import ParsedEvent
from shared.events.declarations import (
    AttendanceRecorded,
    AvailabilityChanged,
    MemberDeleted,
    MemberUpdated,
    OfferPublishedV2,
    OfferSnapshot,
    OfferUpdated,
    OfferWithdrawn,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)


def _keep_offer(db: Session, offer_id: str, offer: OfferSnapshot, as_of) -> None:
    record = db.get(OfferRecord, offer_id)
    if record is None:
        record = OfferRecord(offer_id=offer_id, withdrawn_at=None)
        db.add(record)
    elif record.as_of >= as_of:
        return  # a newer snapshot (or the withdrawal) arrived first
    record.title, record.format, record.level = offer.title, offer.format, offer.level
    record.languages, record.competences, record.region = list(offer.languages), list(offer.competences), offer.region
    record.as_of = as_of


def offer_published(event: ParsedEvent[OfferPublishedV2], db: Session) -> None:
    _keep_offer(db, event.data.offer_id, event.data.offer, event.data.published_at)


def offer_updated(event: ParsedEvent[OfferUpdated], db: Session) -> None:
    _keep_offer(db, event.data.offer_id, event.data.offer, event.data.updated_at)


def offer_withdrawn(event: ParsedEvent[OfferWithdrawn], db: Session) -> None:
    record = db.get(OfferRecord, event.data.offer_id)
    if record is None:  # withdrawn before its publication reached us: a tombstone that no snapshot replaces
        record = OfferRecord(offer_id=event.data.offer_id, title="", format="online", languages=[], competences=[],
                             level=1, as_of=event.data.withdrawn_at)
        db.add(record)
    record.withdrawn_at = event.data.withdrawn_at
    record.as_of = max(record.as_of, event.data.withdrawn_at)


def _session(db: Session, session_id: str, offer_id: str) -> SessionRecord:
    record = db.get(SessionRecord, session_id)
    if record is None:
        record = SessionRecord(session_id=session_id, offer_id=offer_id, seats={})
        db.add(record)
    return record


def session_scheduled(event: ParsedEvent[SessionScheduled], db: Session) -> None:
    session = event.data
    record = _session(db, session.session_id, session.offer_id)
    record.seats = dict(session.seats)
    if record.starts_at is None:  # a reschedule that arrived first knows the later times
        record.starts_at, record.ends_at = session.starts_at, session.ends_at


def session_rescheduled(event: ParsedEvent[SessionRescheduled], db: Session) -> None:
    record = _session(db, event.data.session_id, event.data.offer_id)
    record.starts_at, record.ends_at = event.data.starts_at, event.data.ends_at


def session_cancelled(event: ParsedEvent[SessionCancelled], db: Session) -> None:
    _session(db, event.data.session_id, event.data.offer_id).cancelled_at = event.data.cancelled_at


def availability_changed(event: ParsedEvent[AvailabilityChanged], db: Session) -> None:
    record = _session(db, event.data.session_id, event.data.offer_id)
    if record.availability_at is not None and record.availability_at >= event.data.changed_at:
        return
    record.free_seats = {seats.format: seats.free for seats in event.data.formats}
    record.availability_at = event.data.changed_at


def attendance_recorded(event: ParsedEvent[AttendanceRecorded], db: Session) -> None:
    for attendee in event.data.attendees:
        invite_to_reassess(db, attendee.member_id, event.data.offer_id, event.data.session_id,
                           event.data.recorded_at)


def member_updated(event: ParsedEvent[MemberUpdated], db: Session) -> None:
    profile = event.data
    record = db.get(MemberRecord, profile.member_id)
    if record is None:
        record = MemberRecord(member_id=profile.member_id, team_opt_in_at=None)
        db.add(record)
    elif record.deleted_at is not None or record.updated_at >= profile.updated_at:
        return
    record.organisation, record.region = profile.organisation, profile.region
    record.languages, record.preferred_formats = list(profile.languages), list(profile.preferred_formats)
    record.updated_at = profile.updated_at


def member_deleted(event: ParsedEvent[MemberDeleted], db: Session) -> None:
    delete_member_data(db, event.data.member_id)
    db.merge(MemberRecord(member_id=event.data.member_id, organisation=None, region=None, languages=[],
                          preferred_formats=[], updated_at=event.data.deleted_at, team_opt_in_at=None,
                          deleted_at=event.data.deleted_at))


HANDLERS = {
    OfferPublishedV2: offer_published,
    OfferUpdated: offer_updated,
    OfferWithdrawn: offer_withdrawn,
    SessionScheduled: session_scheduled,
    SessionRescheduled: session_rescheduled,
    SessionCancelled: session_cancelled,
    AvailabilityChanged: availability_changed,
    AttendanceRecorded: attendance_recorded,
    MemberUpdated: member_updated,
    MemberDeleted: member_deleted,
}
