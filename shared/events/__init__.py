"""Event declarations, the CloudEvents envelope and the registry that ties them together."""

from shared.events import declarations
from shared.events.envelope import CONTENT_TYPE, InvalidEvent, ParsedEvent, build_event, parse_event
from shared.events.registry import REGISTRY, Event, EventType, declare, lookup

__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "Event",
    "EventType",
    "InvalidEvent",
    "ParsedEvent",
    "build_event",
    "declarations",
    "declare",
    "lookup",
    "parse_event",
]
