"""CloudEvents 1.0 structured JSON envelopes: built and checked on publish, parsed and checked on consume."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError

from shared.events.registry import EventType, lookup

CONTENT_TYPE = "application/cloudevents+json"
MAX_ID_LENGTH = 36  # the inbox keeps ids in a column of this width
MAX_ATTRIBUTE_LENGTH = 200
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data")


class InvalidEvent(Exception):
    """A message that is not a valid CloudEvent of a declared type; it goes to the dead-letter queue."""


def build_event(
    event_type: EventType,
    subject: str,
    data: dict[str, Any],
    *,
    traceparent: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    """The envelope as a JSON-ready dict; `data` must match the declared schema exactly."""
    schema = event_type.schema()
    payload = schema.dump(data)
    errors = schema.validate(payload)
    if errors:
        raise ValidationError(errors)
    envelope = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": event_type.source,
        "type": event_type.type,
        "time": (time or datetime.now(UTC)).isoformat(),
        "subject": str(subject),
        "datacontenttype": "application/json",
        "data": payload,
    }
    if traceparent:
        envelope["traceparent"] = traceparent
    return envelope


class ParsedEvent:
    """A received event: the declared type, the raw envelope and `data` loaded through its schema."""

    __slots__ = ("event_type", "envelope", "data")

    def __init__(self, event_type: EventType, envelope: dict[str, Any], data: dict[str, Any]):
        self.event_type = event_type
        self.envelope = envelope
        self.data = data

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


@cache
def _reader(event_type: EventType) -> Schema:
    # Building a marshmallow schema costs more than loading with it; one per type is reused.
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
