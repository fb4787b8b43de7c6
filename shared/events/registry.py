"""One registry of every event type and version the academy publishes."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from marshmallow import Schema

from shared.events.payload import data_schema, wire


@dataclass(frozen=True)
class EventType:
    """An event declared once: `name` is the routing key, the CloudEvents type adds prefix and version."""

    name: str
    version: int
    owner: str
    payload: type[Event]
    subject_field: str
    description: str
    schema: type[Schema]

    @property
    def routing_key(self) -> str:
        return self.name

    @property
    def type(self) -> str:
        return f"academy.{self.name}.v{self.version}"

    @property
    def source(self) -> str:
        return f"/services/{self.owner}"


class Event:
    """Base of every event payload; `declare` turns a subclass into a frozen, keyword-only dataclass."""

    event_type: ClassVar[EventType]

    @property
    def subject(self) -> str:
        """The id of the entity the event is about (the field its declaration names)."""
        return str(getattr(self, self.event_type.subject_field))


E = TypeVar("E", bound=type[Event])
REGISTRY: dict[str, EventType] = {}


@typing.dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(dataclasses.field, wire))
def declare(name: str, version: int, *, owner: str, subject: str) -> Callable[[E], E]:
    """Declare an event type on its payload class, whose docstring describes it and whose fields are its data.

    The class becomes a frozen, keyword-only dataclass, so a missing or misspelt field fails where the event
    is built; its marshmallow schema is derived from the fields and checks the data on both ends of the wire.
    `subject` names the field that holds the id of the entity the event is about.
    """
    entity, _, verb = name.partition(".")
    if not entity or not verb or "." in verb:
        raise ValueError(f"event name must be <entity>.<past-tense verb>, got {name!r}")

    def register(cls: E) -> E:
        description = inspect.cleandoc(cls.__dict__.get("__doc__") or "").strip()
        if not description:
            raise ValueError(f"{cls.__name__} needs a docstring: it describes the event in the catalogue")
        payload = dataclass(frozen=True, kw_only=True)(cls)
        if subject not in {field.name for field in dataclasses.fields(payload)}:
            raise ValueError(f"{cls.__name__} has no field {subject!r} to be its subject")
        event_type = EventType(name, version, owner, payload, subject, description, data_schema(payload))
        if event_type.type in REGISTRY:
            raise ValueError(f"event type {event_type.type} declared twice")
        REGISTRY[event_type.type] = event_type
        payload.event_type = event_type
        return payload

    return register


def lookup(ce_type: str) -> EventType | None:
    return REGISTRY.get(ce_type)
