"""An independent AMQP client (pika) that copies every event crossing the `academy` exchange."""

from __future__ import annotations

import threading
import time

import pika


class WireTap:
    def __init__(self, amqp_url: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        # Declared with the academy's own arguments, so it is a no-op if the services got there first.
        self.channel.exchange_declare("academy", exchange_type="topic", durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, "academy", routing_key="#")
        self.messages: list[tuple[pika.spec.Basic.Deliver, pika.BasicProperties, bytes]] = []
        self._lock = threading.Lock()

    def drain(self) -> list:
        """Everything received so far (pika's blocking channel is read from this thread only)."""
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                break
            with self._lock:
                self.messages.append((method, properties, body))
        return list(self.messages)

    def wait_for(self, routing_keys: set[str], timeout: float = 30.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = {method.routing_key for method, _, _ in self.drain()}
            if routing_keys <= seen:
                return self.messages
            time.sleep(0.1)
        seen = {method.routing_key for method, _, _ in self.messages}
        raise AssertionError(f"missing on the wire: {routing_keys - seen}")

    def close(self) -> None:
        self.connection.close()
