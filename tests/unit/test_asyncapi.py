"""The generated AsyncAPI document is valid AsyncAPI 3.0.0 and its payload schemas match real envelopes."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from shared.events import REGISTRY, build_event
from shared.events.asyncapi import build_asyncapi
from shared.events.declarations import BookingConfirmed, OfferPublished, SessionScheduled
from shared.testing import sample

SPEC_PATH = Path(__file__).resolve().parents[1] / "schemas" / "asyncapi-3.0.0.json"
SPEC_URI = "urn:asyncapi:3.0.0"

CONSUMERS = {
    "catalog": set(),
    "booking": {OfferPublished.event_type.type, SessionScheduled.event_type.type},
    "billing": {BookingConfirmed.event_type.type, OfferPublished.event_type.type},
    "notify": {BookingConfirmed.event_type.type, "academy.booking.waitlisted.v1", "academy.invoice.issued.v1"},
}

# One event of every declared type, so a new declaration is checked against the catalogue at once.
SAMPLES = [sample(event_type.payload) for event_type in REGISTRY.values()]
SAMPLE_IDS = [event.event_type.type for event in SAMPLES]


# jsonschema checks date-time only with an optional package installed; this one needs nothing extra and
# also insists on an offset, as AwareDateTime does.
AWARE_DATE_TIME = FormatChecker([])


@AWARE_DATE_TIME.checks("date-time", raises=ValueError)
def _is_aware_date_time(value) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def _refuse_remote(uri: str):
    # The vendored schema must resolve every $ref by itself; reaching out would hide a broken vendoring.
    raise NoSuchResource(ref=uri)


@pytest.fixture(scope="module")
def spec_validator() -> Draft7Validator:
    spec = json.loads(SPEC_PATH.read_text())
    assert spec["$schema"].startswith("http://json-schema.org/draft-07/schema")
    Draft7Validator.check_schema(spec)
    registry = Registry(retrieve=_refuse_remote).with_resource(SPEC_URI, Resource.from_contents(spec))
    return Draft7Validator({"$ref": SPEC_URI}, registry=registry)


@pytest.fixture(scope="module")
def document() -> dict:
    return build_asyncapi(CONSUMERS)


def _errors(validator: Draft7Validator, instance) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(instance)]


def _payload(document: dict, ce_type: str) -> dict:
    return document["components"]["messages"][ce_type]["payload"]


def test_document_is_valid_asyncapi_3(spec_validator, document):
    assert _errors(spec_validator, document) == []
    # The CLI prints it as JSON, so it must survive a round trip unchanged.
    assert json.loads(json.dumps(document)) == document


def test_document_without_consumers_is_valid(spec_validator):
    document = build_asyncapi()
    assert _errors(spec_validator, document) == []
    assert {operation["action"] for operation in document["operations"].values()} == {"send"}


def test_validator_rejects_a_broken_document(spec_validator, document):
    broken = copy.deepcopy(document)
    broken["channels"]["offer.published"]["bindings"]["amqp"]["exchange"]["type"] = "round-robin"
    assert _errors(spec_validator, broken)

    broken = copy.deepcopy(document)
    broken["channels"]["offer.published"]["address"] = 42
    assert _errors(spec_validator, broken)

    broken = copy.deepcopy(document)
    broken["operations"]["catalog.publish.offer.published.v1"]["action"] = "publish"
    assert _errors(spec_validator, broken)


def test_every_declared_event_is_a_message_on_its_channel(document):
    messages = document["components"]["messages"]
    assert set(messages) == set(REGISTRY)
    for ce_type, event_type in REGISTRY.items():
        message = messages[ce_type]
        assert message["name"] == ce_type
        assert message["contentType"] == "application/cloudevents+json"
        assert message["bindings"]["amqp"]["contentEncoding"] == "utf-8"
        channel = document["channels"][event_type.routing_key]
        assert channel["address"] == event_type.routing_key
        assert channel["bindings"]["amqp"]["is"] == "routingKey"
        assert channel["bindings"]["amqp"]["exchange"] == {
            "name": "academy",
            "type": "topic",
            "durable": True,
            "autoDelete": False,
            "vhost": "/",
        }
        assert channel["messages"][ce_type] == {"$ref": f"#/components/messages/{ce_type}"}


def test_operations_send_from_owner_and_receive_on_consumer_queues(document):
    operations = document["operations"]
    for event_type in REGISTRY.values():
        send = operations[f"{event_type.owner}.publish.{event_type.name}.v{event_type.version}"]
        assert send["action"] == "send"
        assert send["channel"] == {"$ref": f"#/channels/{event_type.name}"}
        assert send["bindings"]["amqp"]["deliveryMode"] == 2

    receives = {op_id: op for op_id, op in operations.items() if op["action"] == "receive"}
    assert len(receives) == sum(len(types) for types in CONSUMERS.values())
    receive = receives["booking.receive.offer.published.v1"]
    assert receive["channel"] == {"$ref": "#/channels/offer.published"}
    assert receive["messages"] == [{"$ref": f"#/channels/offer.published/messages/{OfferPublished.event_type.type}"}]
    assert receive["bindings"]["amqp"]["ack"] is True
    assert receive["bindings"]["amqp"]["x-queue"] == "booking"


def test_every_internal_reference_resolves(document):
    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = list(refs(document))
    assert found
    for ref in found:
        assert ref.startswith("#/")
        target = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]


def test_unknown_consumed_type_is_refused():
    with pytest.raises(ValueError, match="academy.nothing.happened.v1"):
        build_asyncapi({"booking": {"academy.nothing.happened.v1"}})


def test_description_names_the_reliability_pieces(document):
    description = document["info"]["description"]
    for word in ("CloudEvents", "outbox", "processed_events", "<service>.dead"):
        assert word in description
    assert document["servers"]["production"] == {
        "host": "rabbitmq:5672",
        "protocol": "amqp",
        "description": "The RabbitMQ broker shared by all services.",
    }


@pytest.mark.parametrize("event", SAMPLES, ids=SAMPLE_IDS)
def test_payload_schema_accepts_built_envelope(document, event):
    payload = _payload(document, event.event_type.type)
    Draft7Validator.check_schema(payload)
    envelope = build_event(event, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    wire = json.loads(json.dumps(envelope))
    validator = Draft7Validator(payload, format_checker=AWARE_DATE_TIME)
    assert _errors(validator, wire) == []
    # The `data` part alone is the converted marshmallow schema.
    assert _errors(Draft7Validator(payload["properties"]["data"]), wire["data"]) == []
    # Times go out as ISO 8601 strings with an offset; a naive time must not pass.
    wire["time"] = "2025-03-01T09:30:00"
    assert _errors(validator, wire)


@pytest.mark.parametrize("event", SAMPLES, ids=SAMPLE_IDS)
def test_payload_schema_rejects_missing_required_field(document, event):
    payload = _payload(document, event.event_type.type)
    wire = json.loads(json.dumps(build_event(event)))
    required = payload["properties"]["data"]["required"]
    assert required
    del wire["data"][required[0]]
    assert _errors(Draft7Validator(payload), wire)


def test_aware_datetimes_are_date_time_strings(document):
    data = _payload(document, OfferPublished.event_type.type)["properties"]["data"]
    assert data["properties"]["published_at"] == {"type": "string", "format": "date-time"}
    assert data["properties"]["format"]["enum"] == ["online", "in_person", "hybrid"]


def test_payload_schema_rejects_an_envelope_of_another_type(document):
    wire = json.loads(json.dumps(build_event(sample(OfferPublished))))
    assert _errors(Draft7Validator(_payload(document, BookingConfirmed.event_type.type)), wire)
