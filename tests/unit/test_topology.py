"""The consumers declared beside each event are exactly the services that handle it."""

from __future__ import annotations

import pytest

from academy.registry import load_all
from shared.config import SERVICES
from shared.events import REGISTRY, lookup
from shared.events.registry import topology


@pytest.mark.parametrize("name", SERVICES)
def test_a_services_handlers_match_the_declared_consumers(name):
    definition = load_all()[name]
    handled = {lookup(ce_type).routing_key for ce_type in definition.handlers}
    assert handled == topology(SERVICES)[name]
    for ce_type in definition.handlers:
        assert name in REGISTRY[ce_type].consumers


def test_every_declared_consumer_is_a_service():
    assert set(topology(SERVICES)) == set(SERVICES)
