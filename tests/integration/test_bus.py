"""The bus contract, on the real RabbitMQ and on the embedded SQLite bus alike."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from prometheus_client import REGISTRY as METRICS

from shared.bus import Outcome, Settlement
from shared.events import build_event
from shared.events.declarations import BookingConfirmed, InvoiceIssued
from tests.integration.bus_harness import Harness, booking_confirmed, wait_for

QUIET_SECONDS = 1.0  # how long "nothing more arrives" is watched for


@pytest.fixture(params=["rabbitmq", "rabbitmq-quorum", "local"])
def harness(request, tmp_path):
    env = {"ACADEMY_DATA_DIR": str(tmp_path)}
    if request.param.startswith("rabbitmq"):
        env["AMQP_URL"] = request.getfixturevalue("amqp_url")
    if request.param == "rabbitmq-quorum":
        env["AMQP_QUEUE_TYPE"] = "quorum"
    service = f"svc{uuid.uuid4().hex[:6]}"
    h = Harness(service, f"sqlite:///{tmp_path / 'service.sqlite3'}", env).start()
    yield h
    h.close()


def test_relay_publishes_exactly_the_committed_rows(harness):
    committed = harness.commit_events(["a", "b", "c"])
    harness.commit_events(["rolled-back-1", "rolled-back-2"], rollback=True)

    assert harness.relay.relay_once() == 3
    wait_for(lambda: len(harness.handled_subjects()) == 3)
    time.sleep(QUIET_SECONDS)

    assert harness.handled_subjects() == ["a", "b", "c"]
    assert harness.unpublished() == 0
    assert harness.relay.relay_once() == 0, "published rows must not go out again"
    assert len(committed) == 3


def test_a_rolled_back_transaction_publishes_nothing(harness):
    harness.commit_events(["never"], rollback=True)
    assert harness.unpublished() == 0
    assert harness.relay.relay_once() == 0
    time.sleep(QUIET_SECONDS)
    assert harness.handled_subjects() == []


def test_redelivering_the_same_event_changes_nothing_twice(harness):
    harness.commit_events(["once"])
    with harness.session_factory() as db:
        from shared.tables import outbox

        row = db.execute(outbox.select()).one()
    harness.relay.relay_once()
    wait_for(lambda: harness.handled_subjects() == ["once"])

    # Publish the very same envelope again, as a relay that crashed before deleting its batch would.
    harness.bus.publish([(row.routing_key, row.body.encode(), row.event_id)] * 3)
    time.sleep(QUIET_SECONDS)

    assert harness.handled_subjects() == ["once"]
    assert harness.calls["once"] == 1


def test_failing_handler_is_retried_then_dead_lettered_while_others_flow(harness):
    harness.failing_subjects.add("poison")
    harness.commit_events(["poison", "good-1", "good-2"])
    harness.relay.relay_once()
    wait_for(lambda: harness.handled_subjects() == ["good-1", "good-2"])

    letters = wait_for(lambda: harness.bus.dead_letters(harness.service), timeout=20)
    assert len(letters) == 1
    letter = letters[0]
    assert "cannot handle poison" in letter.reason
    assert letter.attempts == 3  # the first try and one per back-off (0.2s, 0.4s)
    # Each failed delivery runs the handler twice: in the batch, then alone in its own savepoint.
    assert harness.calls["poison"] == 2 * 3
    # The failing handler's own writes were rolled back with its savepoint.
    assert "poison" not in harness.handled_subjects()

    harness.commit_events(["after"])
    harness.relay.relay_once()
    wait_for(lambda: "after" in harness.handled_subjects())


def test_a_batch_that_fails_as_a_whole_is_delivered_again_without_using_up_retries(harness):
    harness.database_outages = 2
    harness.commit_events(["patient"])
    harness.relay.relay_once()
    wait_for(lambda: harness.handled_subjects() == ["patient"], timeout=20)
    assert harness.database_outages == 0
    assert harness.bus.dead_letters(harness.service) == []


def test_dead_letters_can_be_replayed(harness):
    harness.failing_subjects.add("flaky")
    harness.commit_events(["flaky"])
    harness.relay.relay_once()
    wait_for(lambda: harness.bus.dead_letters(harness.service), timeout=20)

    harness.failing_subjects.clear()
    assert harness.bus.replay_dead_letters(harness.service) == 1
    wait_for(lambda: harness.handled_subjects() == ["flaky"])
    assert harness.bus.dead_letters(harness.service) == []


def test_replay_selects_by_message_id(harness):
    harness.failing_subjects.update({"x", "y"})
    ids = harness.commit_events(["x", "y"])
    harness.relay.relay_once()
    wait_for(lambda: len(harness.bus.dead_letters(harness.service)) == 2, timeout=20)
    harness.failing_subjects.clear()

    assert harness.bus.replay_dead_letters(harness.service, {ids[1]}) == 1
    wait_for(lambda: harness.handled_subjects() == ["y"])
    assert [letter.message_id for letter in harness.bus.dead_letters(harness.service)] == [ids[0]]


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not json at all", "not JSON"),
        (json.dumps({"specversion": "1.0", "id": "1"}).encode(), "not a CloudEvent"),
        (
            json.dumps({
                "specversion": "1.0", "id": "u1", "source": "/x", "type": "academy.booking.exploded.v1",
                "time": "2026-01-01T00:00:00+00:00", "subject": "s", "datacontenttype": "application/json",
                "data": {},
            }).encode(),
            "unknown event type",
        ),
        (
            json.dumps({
                "specversion": "1.0", "id": "u2", "source": "/services/booking",
                "type": BookingConfirmed.event_type.type,
                "time": "2026-01-01T00:00:00+00:00", "subject": "s", "datacontenttype": "application/json",
                "data": {**build_event(booking_confirmed("b"))["data"], "format": "telepathy"},
            }).encode(),
            "invalid data",
        ),
    ],
    ids=["not-json", "not-cloudevent", "unknown-type", "invalid-data"],
)
def test_undecodable_events_are_dead_lettered_not_dropped(harness, body, reason):
    harness.bus.publish([(BookingConfirmed.event_type.routing_key, body, f"bad-{uuid.uuid4().hex[:6]}")])
    letters = wait_for(lambda: harness.bus.dead_letters(harness.service))
    assert len(letters) == 1
    assert reason in letters[0].reason
    assert letters[0].body == body
    assert letters[0].attempts == 1, "a message that can never succeed is not retried"


def test_declared_events_for_other_consumers_are_not_delivered(harness):
    # Another service's queue, bound to the event the harness does not handle, shows it really went out.
    other_queue, seen_by_other, stop = f"{harness.service}-other", [], threading.Event()
    harness.bus.declare(other_queue, {InvoiceIssued.event_type.routing_key})

    def take(deliveries):
        seen_by_other.extend(json.loads(delivery.body)["id"] for delivery in deliveries)
        return [Settlement(Outcome.ACK)] * len(deliveries)

    other = threading.Thread(target=harness.bus.consume, args=(other_queue, take, stop), daemon=True)
    other.start()
    try:
        invoice_event_id = harness.commit_other_event()
        harness.commit_events(["mine"])
        assert harness.relay.relay_once() == 2
        wait_for(lambda: harness.handled_subjects() == ["mine"] and seen_by_other)
        time.sleep(QUIET_SECONDS)
    finally:
        stop.set()
        other.join(10)

    assert seen_by_other == [invoice_event_id]
    # Had the invoice reached the harness's queue, its consumer would have counted it as ignored.
    def consumed(event_type, outcome):
        labels = {"service": harness.service, "type": event_type.type, "outcome": outcome}
        return METRICS.get_sample_value("events_consumed_total", labels)

    assert consumed(BookingConfirmed.event_type, "handled") == 1
    assert consumed(InvoiceIssued.event_type, "ignored") is None
    assert harness.bus.dead_letters(harness.service) == []
