"""The event bus: RabbitMQ through kombu when AMQP_URL is set, else a persistent local bus in SQLite."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

EXCHANGE = "academy"

# (routing key, body, message id): what the outbox relay hands over
OutgoingMessage = tuple[str, bytes, str]


class Outcome(enum.Enum):
    ACK = "ack"  # handled, a duplicate, or not for this service
    RETRY = "retry"  # failed; try again after a back-off, dead-letter once the back-offs are used up
    DEAD = "dead"  # can never succeed (unknown type, invalid data): straight to the dead-letter queue


@dataclass
class Delivery:
    body: bytes
    routing_key: str
    attempts: int
    tag: Any = None
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Settlement:
    outcome: Outcome
    reason: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    routing_key: str
    reason: str
    attempts: int
    dead_at: str
    body: bytes


BatchHandler = Callable[[list[Delivery]], list[Settlement]]


class Bus(Protocol):
    def declare(self, service: str, routing_keys: Iterable[str]) -> None: ...
    def publish(self, messages: list[OutgoingMessage]) -> None: ...
    def consume(self, service: str, handle_batch: BatchHandler, stop) -> None: ...
    def dead_letters(self, service: str) -> list[DeadLetter]: ...
    def replay_dead_letters(self, service: str, message_ids: set[str] | None = None) -> int: ...
    def dead_letter_count(self, service: str) -> int: ...
    def is_reachable(self) -> bool: ...
    def close(self) -> None: ...


def dead_queue(service: str) -> str:
    return f"{service}.dead"


def make_bus(settings) -> Bus:
    if settings.amqp_url:
        from shared.bus.amqp import AmqpBus

        return AmqpBus(
            settings.amqp_url,
            queue_type=settings.queue_type,
            retry_delays=settings.retry_delays,
            prefetch=settings.prefetch,
        )
    from shared.bus.local import LocalBus

    return LocalBus(settings.local_bus_url, retry_delays=settings.retry_delays, batch_size=settings.prefetch)
