"""An AMQP_URL that lists several brokers (kombu's ';' form): every client reaches the first one that answers."""

from __future__ import annotations

import threading
from urllib.parse import urlparse, urlunparse

from shared.bus import Outcome, Settlement
from shared.bus.amqp import AmqpBus
from tests.system.processes import free_port
from tests.system.slice import eventually


def _elsewhere(amqp_url: str, port: int) -> str:
    parsed = urlparse(amqp_url)
    return urlunparse(parsed._replace(netloc=f"{parsed.username}:{parsed.password}@127.0.0.1:{port}"))


def test_publisher_consumer_and_health_skip_every_dead_host_before_the_live_one(amqp_url):
    # Two addresses where nothing listens come first: kombu's own connect() would give up after the second.
    dead = [_elsewhere(amqp_url, free_port()) for _ in range(2)]
    bus = AmqpBus(";".join([*dead, amqp_url]))
    assert bus.is_reachable()
    bus.declare("billing", ["booking.confirmed"])
    bus.publish([("booking.confirmed", b'{"id": "1"}', "message-1")])

    received, stop = [], threading.Event()

    def handle(deliveries):
        received.extend(delivery.body for delivery in deliveries)
        return [Settlement(Outcome.ACK) for _ in deliveries]

    consumer = threading.Thread(target=bus.consume, args=("billing", handle, stop), daemon=True)
    consumer.start()
    try:
        assert eventually(lambda: received == [b'{"id": "1"}'], timeout=20)
    finally:
        stop.set()
        consumer.join(10)
        bus.close()
    assert not AmqpBus(";".join(dead)).is_reachable()
