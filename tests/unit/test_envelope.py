"""Envelopes a consumer cannot safely store or log are refused as invalid, which dead-letters them."""

from __future__ import annotations

import json

import pytest

from shared.events import InvalidEvent, build_event, parse_event
from shared.events.declarations import BookingConfirmed
from shared.testing import sample


def envelope() -> dict:
    return build_event(sample(BookingConfirmed, booking_id="b-1", format="online"),
                       traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01")


def test_a_well_formed_envelope_parses():
    event = parse_event(json.dumps(envelope()))
    assert event.subject == "b-1" and event.data.format == "online"


@pytest.mark.parametrize(
    "attribute, value",
    [
        ("id", ["x"]),
        ("id", ""),
        ("id", "x" * 37),
        ("subject", 42),
        ("source", None),
        ("time", "yesterday"),
        ("time", "2026-11-28T10:00:00"),  # no offset
        ("traceparent", {"trace": 1}),
    ],
)
def test_an_unusable_attribute_makes_the_event_invalid(attribute, value):
    broken = {**envelope(), attribute: value}
    with pytest.raises(InvalidEvent, match=attribute):
        parse_event(json.dumps(broken))
