"""Notify's members read model: profiles in any order, the newest wins, deletion erases, unknown members wait."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services import notify
from services.notify.models import EmailDelivery, InboxMessage, MemberRecord, Preference
from shared.bus import Outcome
from shared.events.declarations import BookingConfirmed, MemberDeleted, MemberRegistered, MemberUpdated
from shared.tables import side_effects
from shared.testing import WHEN, bearer, delivery, sample

SERVICE = notify.SERVICE


@pytest.fixture
def runtime(runtime_on_each_database):
    """Every test of this module on SQLite and on PostgreSQL."""
    return runtime_on_each_database


def registered(**fields):
    return delivery(sample(MemberRegistered, **fields))


def updated(**fields):
    return delivery(sample(MemberUpdated, **fields))


def member(runtime, member_id: str = "member-1") -> MemberRecord | None:
    with runtime.session_factory() as db:
        return db.get(MemberRecord, member_id)


def count(runtime, table) -> int:
    with runtime.session_factory() as db:
        return db.scalar(select(func.count()).select_from(table))


def test_registration_brings_language_and_time_zone(runtime, consumer):
    consumer.handle_batch([registered(preferred_language="de", time_zone="America/New_York")])

    record = member(runtime)
    assert (record.email, record.display_name) == ("ada@academy.example", "Ada")
    assert (record.preferred_language, record.time_zone) == ("de", "America/New_York")


def test_a_registration_without_the_new_fields_reads_as_english_in_berlin(runtime, consumer):
    consumer.handle_batch([registered()])

    assert (member(runtime).preferred_language, member(runtime).time_zone) == ("en", "Europe/Berlin")


def test_the_newest_update_wins_whatever_the_order(runtime, consumer):
    newer = updated(display_name="Ada King", preferred_language="en", updated_at=WHEN + timedelta(hours=2))
    older = updated(display_name="Ada Byron", preferred_language="de", updated_at=WHEN + timedelta(hours=1))

    consumer.handle_batch([newer])
    consumer.handle_batch([older, registered(display_name="Ada")])

    record = member(runtime)
    assert (record.display_name, record.preferred_language) == ("Ada King", "en")


def test_an_update_changes_the_address_mails_go_to(runtime, consumer):
    consumer.handle_batch([registered()])
    consumer.handle_batch([updated(email="ada@lovelace.example", time_zone="Asia/Tokyo")])

    record = member(runtime)
    assert (record.email, record.time_zone) == ("ada@lovelace.example", "Asia/Tokyo")


def test_deletion_erases_messages_mails_preferences_and_personal_data(runtime, consumer, client):
    consumer.handle_batch([registered(), registered(member_id="member-2", email="grace@academy.example")])
    consumer.handle_batch([delivery(sample(BookingConfirmed, member_id="member-1")),
                           delivery(sample(BookingConfirmed, member_id="member-2", booking_id="booking-2"))])
    client.put("/api/v1/notification-preferences", json={"bookings": {"email": True}}, headers=bearer("member-1"))
    assert count(runtime, InboxMessage) == count(runtime, EmailDelivery) == count(runtime, side_effects) == 2

    consumer.handle_batch([delivery(sample(MemberDeleted, member_id="member-1"))])

    record = member(runtime)
    assert record.deleted_at is not None
    assert (record.email, record.display_name) == ("", "")
    with runtime.session_factory() as db:
        assert set(db.scalars(select(InboxMessage.member_id))) == {"member-2"}
        assert set(db.scalars(select(EmailDelivery.member_id))) == {"member-2"}
        assert db.scalar(select(func.count()).select_from(Preference)) == 0
        [payload] = db.scalars(select(side_effects.c.payload))
    assert "grace@academy.example" in payload, "only the other member's mail is left"


def test_nothing_brings_a_deleted_member_back(runtime, consumer):
    consumer.handle_batch([registered()])
    consumer.handle_batch([delivery(sample(MemberDeleted))])

    late = [updated(updated_at=WHEN + timedelta(days=1)), registered(),
            delivery(sample(BookingConfirmed, booking_id="booking-late"))]
    assert [settlement.outcome for settlement in consumer.handle_batch(late)] == [Outcome.ACK] * 3

    assert member(runtime).email == ""
    assert count(runtime, InboxMessage) == count(runtime, EmailDelivery) == 0


def test_an_event_for_an_unknown_member_is_retried_never_dropped(runtime, consumer):
    confirmed = delivery(sample(BookingConfirmed, member_id="member-9"))

    [settlement] = consumer.handle_batch([confirmed])

    assert settlement.outcome is Outcome.RETRY
    assert "member-9 is not known yet" in settlement.reason
    assert count(runtime, InboxMessage) == count(runtime, side_effects) == 0
    consumer.handle_batch([registered(member_id="member-9")])
    assert [settlement.outcome for settlement in consumer.handle_batch([confirmed])] == [Outcome.ACK]
    assert count(runtime, InboxMessage) == count(runtime, EmailDelivery) == 1


def test_an_event_whose_member_never_comes_is_dead_lettered_then_replayed_once_they_do(runtime, consumer):
    """On the embedded bus (retries after 0.1 s and 0.2 s): kept as a dead letter, not dropped, and replayable."""
    bus = runtime.bus
    bus.declare("notify", consumer.routing_keys)
    confirmed = delivery(sample(BookingConfirmed, member_id="member-9"))
    bus.publish([(confirmed.routing_key, confirmed.body, "message-1")])

    def consume_until(done) -> None:
        stop = threading.Event()
        thread = threading.Thread(target=bus.consume, args=("notify", consumer.handle_batch, stop), daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join(5)

    consume_until(lambda: bus.dead_letter_count("notify") == 1)
    assert bus.dead_letter_count("notify") == 1
    assert count(runtime, InboxMessage) == 0

    consumer.handle_batch([registered(member_id="member-9")])
    assert bus.replay_dead_letters("notify") == 1
    consume_until(lambda: count(runtime, InboxMessage) == 1)
    assert count(runtime, InboxMessage) == 1
    assert bus.dead_letter_count("notify") == 0
