"""The checked-in topology is the one the services' handler registries give, and workers bind by it."""

from __future__ import annotations

from academy.registry import load_all
from shared.config import SERVICES
from shared.events import REGISTRY, topology


def test_the_checked_in_topology_is_generated_from_the_handler_registries():
    derived = topology.render(topology.derive({name: service.handlers for name, service in load_all().items()}))
    assert topology.TOPOLOGY_FILE.read_text() == derived, (
        "shared/events/topology.json is out of date: run `academy events topology --write`"
    )


def test_every_service_has_a_queue_and_every_consumed_event_is_bound_to_it():
    bindings = topology.queue_bindings(SERVICES)
    assert set(bindings) == set(SERVICES)
    for name, service in load_all().items():
        assert bindings[name] == {payload.event_type.routing_key for payload in service.handlers}


def test_consumers_of_an_event_are_the_services_that_handle_it():
    handled_by = {
        name: {payload.event_type.type for payload in service.handlers} for name, service in load_all().items()
    }
    for ce_type in REGISTRY:
        assert topology.consumers_of(ce_type) == sorted(name for name, types in handled_by.items() if ce_type in types)
