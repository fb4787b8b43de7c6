"""One registry of every event type and version the academy publishes."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema


@dataclass(frozen=True)
class EventType:
    """An event declared once: `name` is the routing key, the CloudEvents type adds prefix and version."""

    name: str
    version: int
    owner: str
    schema: type[Schema]
    description: str
    consumers: tuple[str, ...] = ()

    @property
    def routing_key(self) -> str:
        return self.name

    @property
    def type(self) -> str:
        return f"academy.{self.name}.v{self.version}"

    @property
    def source(self) -> str:
        return f"/services/{self.owner}"


REGISTRY: dict[str, EventType] = {}


def declare(
    name: str, version: int, owner: str, schema: type[Schema], description: str, consumers: tuple[str, ...] = ()
) -> EventType:
    """Declare an event type; `consumers` are the services whose queues receive it."""
    entity, _, verb = name.partition(".")
    if not entity or not verb or "." in verb:
        raise ValueError(f"event name must be <entity>.<past-tense verb>, got {name!r}")
    event_type = EventType(name, version, owner, schema, description, tuple(sorted(consumers)))
    if event_type.type in REGISTRY:
        raise ValueError(f"event type {event_type.type} declared twice")
    REGISTRY[event_type.type] = event_type
    return event_type


def lookup(ce_type: str) -> EventType | None:
    return REGISTRY.get(ce_type)


def topology(services: tuple[str, ...]) -> dict[str, set[str]]:
    """Each service's queue and the routing keys bound to it, for every service at once.

    Every worker declares all of it before relaying anything, so an event is never published before the
    queues of its consumers exist (RabbitMQ would confirm it and route it nowhere).
    """
    bindings: dict[str, set[str]] = {service: set() for service in services}
    for event_type in REGISTRY.values():
        for consumer in event_type.consumers:
            bindings.setdefault(consumer, set()).add(event_type.routing_key)
    return bindings
