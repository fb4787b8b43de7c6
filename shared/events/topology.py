"""Which service consumes which event, generated from the services' handler registries into topology.json.

The handler registries are the one source; the file is their generated copy, so that a worker can declare
every service's queue without importing the other services. `academy events topology --write` regenerates
it, and a unit test fails while it is out of date.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from shared.events.registry import Event, lookup

TOPOLOGY_FILE = Path(__file__).with_name("topology.json")


def derive(handled: Mapping[str, Iterable[type[Event]]]) -> dict[str, list[str]]:
    """Each service and the CloudEvents types its handlers take, as the file holds them."""
    return {service: sorted(payload.event_type.type for payload in handled[service]) for service in sorted(handled)}


def render(topology: Mapping[str, list[str]]) -> str:
    return json.dumps(topology, indent=2) + "\n"


@cache
def consumed_types() -> dict[str, tuple[str, ...]]:
    """The checked-in topology: service -> the CloudEvents types it consumes."""
    topology = json.loads(TOPOLOGY_FILE.read_text())
    for service, ce_types in topology.items():
        undeclared = [ce_type for ce_type in ce_types if lookup(ce_type) is None]
        if undeclared:
            raise ValueError(f"{TOPOLOGY_FILE.name}: {service} consumes undeclared {', '.join(undeclared)}")
    return {service: tuple(ce_types) for service, ce_types in topology.items()}


def consumers_of(ce_type: str) -> list[str]:
    return sorted(service for service, ce_types in consumed_types().items() if ce_type in ce_types)


def queue_bindings(services: Iterable[str]) -> dict[str, set[str]]:
    """Each service's queue and the routing keys bound to it, for every service at once.

    Every worker declares all of it before relaying anything, so an event is never published before the
    queues of its consumers exist (RabbitMQ would confirm it and route it nowhere).
    """
    bindings: dict[str, set[str]] = {service: set() for service in services}
    for service, ce_types in consumed_types().items():
        bindings.setdefault(service, set()).update(lookup(ce_type).routing_key for ce_type in ce_types)
    return bindings
