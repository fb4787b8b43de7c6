"""Operators see each service's dead letters through the gateway and replay them, on the embedded SQLite bus and on
RabbitMQ alike; nobody else does."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from werkzeug.test import Client

from academy.embedded import GatewayDispatcher
from academy.registry import load_all
from shared.consumer import EventConsumer
from shared.events.declarations import BookingConfirmed
from shared.testing import bearer, make_runtime

OPERATOR = bearer("operator-1", "member", "operator")
BAD_BODY = b"not an event at all"


@pytest.fixture(params=["local", "rabbitmq"])
def academy(request, tmp_path):
    env = {"AMQP_URL": request.getfixturevalue("amqp_url")} if request.param == "rabbitmq" else {}
    # One data folder for all: embedded, the services share one SQLite bus file there.
    runtimes = {name: make_runtime(definition, tmp_path, **env) for name, definition in load_all().items()}
    client = Client(GatewayDispatcher({name: definition.create_app(runtimes[name])
                                       for name, definition in load_all().items()}))
    yield client, runtimes
    for runtime in runtimes.values():
        runtime.close()


def dead_letter_in(runtime, service: str) -> str:
    """Publish an event billing can never read and let its consumer give up on it; the letter's id."""
    bus, message_id = runtime.bus, f"bad-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(service, load_all()[service].handlers, runtime.session_factory)
    bus.declare(service, consumer.routing_keys)
    bus.publish([(BookingConfirmed.event_type.routing_key, BAD_BODY, message_id)])
    stop = threading.Event()
    worker = threading.Thread(target=bus.consume, args=(service, consumer.handle_batch, stop), daemon=True)
    worker.start()
    deadline = time.monotonic() + 20
    while not bus.dead_letters(service):
        assert time.monotonic() < deadline, "the letter never died"
        time.sleep(0.1)
    stop.set()
    worker.join(10)
    return message_id


def test_an_operator_sees_a_services_dead_letters_and_replays_them(academy):
    client, runtimes = academy
    message_id = dead_letter_in(runtimes["billing"], "billing")

    listed = client.get("/api/v1/dead-letters/billing", headers=OPERATOR)
    assert listed.status_code == 200, listed.get_data(as_text=True)
    [letter] = listed.json["items"]
    assert listed.json == {"service": "billing", "count": 1, "items": [letter]}
    assert (letter["message_id"], letter["routing_key"]) == (message_id, "booking.confirmed")
    assert letter["attempts"] == 1 and letter["reason"] and letter["dead_at"]
    assert client.get("/api/v1/dead-letters/booking", headers=OPERATOR).json["count"] == 0

    unknown = client.post("/api/v1/dead-letters/billing/replay", json={"message_ids": ["never-died"]},
                          headers=OPERATOR)
    assert (unknown.status_code, unknown.json) == (200, {"replayed": 0})
    replayed = client.post("/api/v1/dead-letters/billing/replay", json={"message_ids": [message_id]},
                           headers=OPERATOR)
    assert (replayed.status_code, replayed.json) == (200, {"replayed": 1})
    assert client.get("/api/v1/dead-letters/billing", headers=OPERATOR).json["count"] == 0


@pytest.mark.parametrize("service", ["catalog", "booking", "assessment", "billing", "notify"])
def test_only_operators_see_dead_letters(academy, service):
    client, _ = academy
    assert client.get(f"/api/v1/dead-letters/{service}").status_code == 401
    member = client.get(f"/api/v1/dead-letters/{service}", headers=bearer("member-1"))
    assert member.status_code == 403 and member.mimetype == "application/problem+json"
    assert client.post(f"/api/v1/dead-letters/{service}/replay", json={}, headers=bearer("member-1")).status_code == 403
    bad = client.post(f"/api/v1/dead-letters/{service}/replay", json={"message_ids": []}, headers=OPERATOR)
    assert bad.status_code == 422 and "message_ids" in bad.json["errors"]


def test_a_broker_that_does_not_answer_is_a_503_to_try_again(tmp_path):
    definition = load_all()["billing"]
    runtime = make_runtime(definition, tmp_path, AMQP_URL="amqp://guest:guest@127.0.0.1:9/")  # nothing listens
    try:
        answer = definition.create_app(runtime).test_client().get("/api/v1/dead-letters/billing", headers=OPERATOR)
    finally:
        runtime.close()
    assert answer.status_code == 503 and answer.mimetype == "application/problem+json"
    assert answer.headers["Retry-After"]
