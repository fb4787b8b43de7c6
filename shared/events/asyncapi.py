"""The event catalogue as an AsyncAPI 3.0.0 document, generated from the declarations in the registry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from apispec.ext.marshmallow import OpenAPIConverter

from shared.bus import EXCHANGE
from shared.events.envelope import CONTENT_TYPE
from shared.events.registry import REGISTRY, EventType

AMQP_BINDING_VERSION = "0.3.0"

DESCRIPTION = """\
Every event travels as a CloudEvents 1.0 structured JSON envelope (`specversion`, `id`, `source`, `type`,
`time`, `subject`, `datacontenttype`, `data`, optional `traceparent`) on the durable topic exchange
`academy`, with the routing key `<entity>.<past-tense verb>`. Only the service that owns an entity
publishes its events, through a transactional outbox relayed with publisher confirms. Each consuming
service reads one durable queue named after itself and records every handled event id in its
processed_events table, so a redelivered event changes nothing twice; a handler that keeps failing sends
the event to the dead-letter queue `<service>.dead`, from which an operator replays it."""

# OpenAPI 3.1 output is plain JSON Schema (nullable fields become type arrays), which AsyncAPI accepts.
# No name resolver: nested schemas are inlined, so the converter never needs an APISpec to register them.
_converter = OpenAPIConverter(openapi_version="3.1.0", schema_name_resolver=lambda schema: None, spec=None)


def build_asyncapi(consumers: Mapping[str, Iterable[str]] | None = None) -> dict:
    """The document; `consumers` maps a service to the CloudEvents types it handles, adding its receive operations."""
    event_types = sorted(REGISTRY.values(), key=lambda event_type: (event_type.name, event_type.version))
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}

    for event_type in event_types:
        channel = channels.setdefault(event_type.name, _channel(event_type.name))
        channel["messages"][event_type.type] = {"$ref": f"#/components/messages/{event_type.type}"}
        messages[event_type.type] = _message(event_type)
        operations[f"{event_type.owner}.publish.{_short_id(event_type)}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{event_type.name}"},
            "summary": f"{event_type.owner} publishes {event_type.type} through its outbox.",
            "messages": [{"$ref": f"#/channels/{event_type.name}/messages/{event_type.type}"}],
            # Persistent, so a broker restart does not lose what the outbox already marked as published.
            "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": AMQP_BINDING_VERSION}},
        }

    for service in sorted(consumers or {}):
        for ce_type in sorted(consumers[service]):
            event_type = REGISTRY.get(ce_type)
            if event_type is None:
                raise ValueError(f"{service} handles {ce_type}, which is not declared")
            operations[f"{service}.receive.{_short_id(event_type)}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{event_type.name}"},
                "summary": f"{service} handles {ce_type} from its queue {service}.",
                "messages": [{"$ref": f"#/channels/{event_type.name}/messages/{ce_type}"}],
                # The AMQP operation binding has no field for a queue name, hence the extension.
                "bindings": {"amqp": {"ack": True, "x-queue": service, "bindingVersion": AMQP_BINDING_VERSION}},
            }

    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Virtual Cluster Academy events", "version": "1.0.0", "description": DESCRIPTION},
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "production": {
                "host": "rabbitmq:5672",
                "protocol": "amqp",
                "description": "The RabbitMQ broker shared by all services.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _short_id(event_type: EventType) -> str:
    return f"{event_type.name}.v{event_type.version}"


def _channel(routing_key: str) -> dict[str, Any]:
    return {
        "address": routing_key,
        "description": f"Events with routing key {routing_key} on the topic exchange {EXCHANGE}.",
        "messages": {},
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {"name": EXCHANGE, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"},
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _message(event_type: EventType) -> dict[str, Any]:
    return {
        "name": event_type.type,
        "title": f"{event_type.name} v{event_type.version}",
        "summary": event_type.description,
        "contentType": CONTENT_TYPE,
        "payload": envelope_schema(event_type),
        # deliveryMode is not a message binding field in AMQP binding 0.3.0; it sits on the send operation.
        "bindings": {
            "amqp": {"contentEncoding": "utf-8", "messageType": event_type.type, "bindingVersion": AMQP_BINDING_VERSION}
        },
    }


def envelope_schema(event_type: EventType) -> dict[str, Any]:
    """JSON Schema of the whole CloudEvents envelope, with `data` converted from the declared marshmallow schema."""
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data"],
        "properties": {
            "specversion": {"type": "string", "const": "1.0"},
            "id": {"type": "string", "format": "uuid", "description": "Unique per event; consumers deduplicate by it."},
            "source": {"type": "string", "const": event_type.source},
            "type": {"type": "string", "const": event_type.type},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "description": "The id of the entity the event is about."},
            "datacontenttype": {"type": "string", "const": "application/json"},
            "data": _converter.schema2jsonschema(event_type.schema),
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context of the request that caused the event.",
            },
        },
    }
