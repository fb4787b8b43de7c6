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


def declare(name: str, version: int, owner: str, schema: type[Schema], description: str) -> EventType:
    entity, _, verb = name.partition(".")
    if not entity or not verb or "." in verb:
        raise ValueError(f"event name must be <entity>.<past-tense verb>, got {name!r}")
    event_type = EventType(name, version, owner, schema, description)
    if event_type.type in REGISTRY:
        raise ValueError(f"event type {event_type.type} declared twice")
    REGISTRY[event_type.type] = event_type
    return event_type


def lookup(ce_type: str) -> EventType | None:
    return REGISTRY.get(ce_type)
