"""The read models a batch of events needs, read once per batch (one query per table) instead of once per event.

The rows found stay in the session, so the handlers' `get` finds them there; the keys not found are noted, so
that an event about a new booking or an unknown offer does not ask again. Outside a consumer's batch (a handler
called on its own) every `get` asks the database, as `Session.get` does.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from services.notify.models import BookingRecord, MemberRecord, OfferRecord, Preference, SessionRecord
from shared.consumer import batch_of

R = TypeVar("R", MemberRecord, OfferRecord, SessionRecord, BookingRecord)
_READ = "notify_batch_reads"
# Fields of an event's data that name members, one or a list.
_MEMBER_FIELDS = ("member_id", "provider_id", "invited_by")
_MEMBER_LIST_FIELDS = ("member_ids", "voter_ids", "provider_ids")


class _BatchReads:
    def __init__(self) -> None:
        self.rows: list[Any] = []  # held here: the session keeps only weak references to unchanged rows
        self.missing: set[tuple[type, str]] = set()
        self.preferences_of: set[str] = set()  # the members whose choices were read
        self.choices: dict[tuple[str, str], bool] = {}


def get(db: Session, model: type[R], key: str) -> R | None:
    """`db.get`, but a key the batch's reading did not find is not asked for again."""
    if (model, key) in _batch_reads(db).missing:
        return None
    return db.get(model, key)


def email_choice(db: Session, member_id: str, category: str) -> bool | None:
    """The member's e-mail choice for the category, None if they made none."""
    reads = _batch_reads(db)
    if member_id in reads.preferences_of:
        return reads.choices.get((member_id, category))
    return db.scalar(select(Preference.email).where(Preference.member_id == member_id,
                                                    Preference.category == category))


def _batch_reads(db: Session) -> _BatchReads:
    reads = db.info.get(_READ)
    if reads is None:
        reads = db.info[_READ] = _BatchReads()
        _read_batch(db, reads)

        def written(session: Session, instance: Any) -> None:
            # A row this batch adds exists from now on (and is asked for again if its savepoint rolls back).
            # Merge adds a row before it has its key, so the key is looked at once more when it is flushed.
            key = inspect(instance).mapper.primary_key_from_instance(instance)
            reads.missing.discard((type(instance), key[0]))

        event.listen(db, "transient_to_pending", written)
        event.listen(db, "pending_to_persistent", written)

    return reads


def _read_batch(db: Session, reads: _BatchReads) -> None:
    members, offers, sessions, bookings = set(), set(), set(), set()
    for parsed in batch_of(db):
        data = parsed.data
        members.update(filter(None, (getattr(data, field, None) for field in _MEMBER_FIELDS)))
        for field in _MEMBER_LIST_FIELDS:
            members.update(getattr(data, field, None) or ())
        members.update(attendee.member_id for attendee in getattr(data, "attendees", None) or ())
        offers.update(filter(None, [getattr(data, "offer_id", None)]))
        sessions.update(filter(None, [getattr(data, "session_id", None)]))
        bookings.update(filter(None, [getattr(data, "booking_id", None)]))
    for model, column, keys in ((MemberRecord, MemberRecord.member_id, members),
                                (OfferRecord, OfferRecord.offer_id, offers),
                                (SessionRecord, SessionRecord.session_id, sessions),
                                (BookingRecord, BookingRecord.booking_id, bookings)):
        if keys:
            found = list(db.scalars(select(model).where(column.in_(keys))))
            reads.rows.extend(found)
            reads.missing.update((model, key) for key in keys - {getattr(row, column.key) for row in found})
    if members:
        reads.choices = {(member_id, category): email for member_id, category, email in db.execute(
            select(Preference.member_id, Preference.category, Preference.email)
            .where(Preference.member_id.in_(members)))}
        reads.preferences_of = members
