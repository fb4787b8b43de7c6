"""CloudEvents 1.0 structured JSON envelopes: built and checked on publish, parsed and checked on consume."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Generic, TypeVar

from marshmallow import EXCLUDE, Schema, ValidationError

from shared.events.registry import Event, EventType, lookup

CONTENT_TYPE = "application/cloudevents+json"
MAX_ID_LENGTH = 36  # consumers keep processed event ids in a column of this width
MAX_ATTRIBUTE_LENGTH = 200
E = TypeVar("E", bound=Event)
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data")


class InvalidEvent(Exception):
    """A message that is not a valid CloudEvent of a declared type; it goes to the dead-letter queue."""


def build_event(
    event: Event,
    *,
    traceparent: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    """The envelope of a typed payload as a JSON-ready dict; the data is checked against its schema first."""
    event_type = event.event_type
    schema = _schema(event_type)
    payload = schema.dump(event)
    errors = schema.validate(payload)
    if errors:
        raise ValidationError(errors)
    envelope = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": event_type.source,
        "type": event_type.type,
        "time": (time or datetime.now(UTC)).isoformat(),
        "subject": event.subject,
        "datacontenttype": "application/json",
        "data": payload,
    }
    if traceparent:
        envelope["traceparent"] = traceparent
    return envelope


@dataclass(frozen=True, slots=True)
class ParsedEvent(Generic[E]):
    """A received event: its declared type, the raw envelope and `data` as the typed payload."""

    event_type: EventType
    envelope: dict[str, Any]
    data: E

    @property
    def id(self) -> str:
        return self.envelope["id"]

    @property
    def subject(self) -> str:
        return self.envelope["subject"]

    @property
    def traceparent(self) -> str | None:
        return self.envelope.get("traceparent")


def _check_attributes(envelope: dict[str, Any]) -> None:
    """Attributes a consumer stores or logs must be short strings; anything else can never be handled."""
    for name in ("id", "source", "type", "subject", "time"):
        value = envelope[name]
        if not isinstance(value, str) or not value or len(value) > MAX_ATTRIBUTE_LENGTH:
            raise InvalidEvent(f"attribute {name} must be a string of 1 to {MAX_ATTRIBUTE_LENGTH} characters")
    if len(envelope["id"]) > MAX_ID_LENGTH:
        raise InvalidEvent(f"attribute id must be at most {MAX_ID_LENGTH} characters")
    try:
        aware = datetime.fromisoformat(envelope["time"]).tzinfo is not None
    except ValueError:
        aware = False
    if not aware:
        raise InvalidEvent("attribute time must be an RFC 3339 timestamp with an offset")
    if not isinstance(envelope.get("traceparent", ""), str):
        raise InvalidEvent("attribute traceparent must be a string")


# Building a marshmallow schema costs more than using it; one writer and one reader per type are reused.
@cache
def _schema(event_type: EventType) -> Schema:
    return event_type.schema()


@cache
def _reader(event_type: EventType) -> Schema:
    return event_type.schema(unknown=EXCLUDE)


def parse_event(body: bytes | str) -> ParsedEvent:
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"body is not JSON: {exc}") from exc
    if not isinstance(envelope, dict):
        raise InvalidEvent("body is not a JSON object")
    missing = [name for name in REQUIRED_ATTRIBUTES if name not in envelope]
    if missing:
        raise InvalidEvent("not a CloudEvent, missing: " + ", ".join(missing))
    _check_attributes(envelope)
    if envelope["specversion"] != "1.0":
        raise InvalidEvent(f"unsupported specversion {envelope['specversion']!r}")
    event_type = lookup(envelope["type"])
    if event_type is None:
        raise InvalidEvent(f"unknown event type {envelope['type']!r}")
    try:
        # A tolerant reader: fields added later in the same version are ignored, not fatal.
        data = _reader(event_type).load(envelope["data"])
    except ValidationError as exc:
        raise InvalidEvent(f"invalid data for {event_type.type}: {exc.messages}") from exc
    return ParsedEvent(event_type, envelope, data)
