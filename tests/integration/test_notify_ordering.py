"""Notify's read models under events in any order (hypothesis): the newest profile wins, a deletion is final, a
booking only moves forward, and a cancelled session is told once to each holder, whichever event comes first."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services import notify
from services.notify.models import BookingRecord, InboxMessage, MemberRecord
from shared.events.declarations import (
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    BookingWaitlisted,
    MemberDeleted,
    MemberRegistered,
    MemberUpdated,
    SessionCancelled,
)
from shared.testing import WHEN, delivery, sample

SERVICE = notify.SERVICE
EXAMPLES = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@EXAMPLES
@given(hours=st.lists(st.integers(min_value=1, max_value=1_000), min_size=1, max_size=5, unique=True),
       deleted=st.booleans(), data=st.data())
def test_the_newest_profile_wins_and_a_deletion_is_final_in_any_order(runtime, consumer, hours, deleted, data):
    member_id = str(uuid.uuid4())
    events = [sample(MemberRegistered, member_id=member_id, display_name="registered")]
    events += [sample(MemberUpdated, member_id=member_id, display_name=f"update {hour}",
                      updated_at=WHEN + timedelta(hours=hour)) for hour in hours]
    if deleted:
        events.append(sample(MemberDeleted, member_id=member_id))
    order = data.draw(st.permutations(events))
    batches = data.draw(st.integers(min_value=1, max_value=len(order)))

    for start in range(0, len(order), batches):
        consumer.handle_batch([delivery(event) for event in order[start:start + batches]])

    with runtime.session_factory() as db:
        record = db.get(MemberRecord, member_id)
    if deleted:
        assert (record.deleted_at is not None, record.display_name, record.email) == (True, "", "")
    else:
        assert record.display_name == f"update {max(hours)}"


BOOKING_EVENTS = {
    "waitlisted": lambda **ids: sample(BookingWaitlisted, **ids),
    "promoted": lambda **ids: sample(BookingPromoted, **ids),
    "confirmed": lambda **ids: sample(BookingConfirmed, **ids),
    "cancelled": lambda **ids: sample(BookingCancelled, reason="session_cancelled", **ids),
}
STATUS_AFTER = {"waitlisted": "waitlisted", "promoted": "confirmed", "confirmed": "confirmed", "cancelled": "cancelled"}
RANK = ["waitlisted", "confirmed", "cancelled"]


@EXAMPLES
@given(happened=st.lists(st.sampled_from(sorted(BOOKING_EVENTS)), min_size=1, max_size=4, unique=True),
       data=st.data())
def test_a_booking_only_moves_forward_and_a_cancelled_session_is_told_once(
        runtime, consumer, happened, data):
    member_id, booking_id, session_id = (str(uuid.uuid4()) for _ in range(3))
    consumer.handle_batch([delivery(sample(MemberRegistered, member_id=member_id))])
    ids = {"member_id": member_id, "booking_id": booking_id, "session_id": session_id}
    events = [BOOKING_EVENTS[name](**ids) for name in happened] + [sample(SessionCancelled, session_id=session_id)]

    order = data.draw(st.permutations(events))
    for event in order:
        consumer.handle_batch([delivery(event)])

    with runtime.session_factory() as db:
        status = db.get(BookingRecord, booking_id).status
        kinds = list(db.scalars(select(InboxMessage.kind).where(InboxMessage.member_id == member_id)))
    # One message about the cancelled session, whichever event tells it: session.cancelled reaches the holders
    # notify knows of by then (and ends their bookings), booking.cancelled (reason session_cancelled) everyone else.
    holder_known = not isinstance(order[0], SessionCancelled)
    latest = max((STATUS_AFTER[name] for name in happened), key=RANK.index)
    assert status == ("cancelled" if holder_known else latest)
    told = kinds.count("session_cancelled") + kinds.count("booking_cancelled")
    assert told == int(holder_known or "cancelled" in happened)
    assert len(kinds) == len([name for name in happened if name != "cancelled"]) + told
