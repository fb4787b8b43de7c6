"""Typed events: a declaration gives a frozen payload whose wire schema is derived from its fields."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError, validate

from shared.events import REGISTRY, Event, build_event, declare, parse_event
from shared.events.declarations import BookingConfirmed, SessionScheduled
from shared.events.payload import data_schema, wire
from shared.testing import sample


@pytest.fixture
def scratch_registry():
    """Declarations made by a test are forgotten after it."""
    before = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(before)


def test_a_misspelt_or_missing_field_fails_where_the_event_is_built():
    with pytest.raises(TypeError, match="booking_idd"):
        BookingConfirmed(booking_idd="b", session_id="s", offer_id="o", member_id="m", format="online",
                         confirmed_at=datetime.now(UTC))
    with pytest.raises(TypeError, match="confirmed_at"):
        BookingConfirmed(booking_id="b", session_id="s", offer_id="o", member_id="m", format="online")
    with pytest.raises(TypeError, match="nonsense"):
        sample(BookingConfirmed, nonsense=1)


def test_payloads_are_frozen_and_keyword_only():
    event = sample(BookingConfirmed)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.format = "in_person"  # type: ignore[misc]
    with pytest.raises(TypeError):
        BookingConfirmed("b", "s", "o", "m", "online", datetime.now(UTC))  # type: ignore[misc]


@pytest.mark.parametrize("event_type", REGISTRY.values(), ids=lambda event_type: event_type.type)
def test_every_declared_event_goes_over_the_wire_and_back_unchanged(event_type):
    event = sample(event_type.payload)
    received = parse_event(json.dumps(build_event(event)))
    assert received.data == event
    assert received.subject == event.subject == getattr(event, event_type.subject_field)


def test_the_publisher_refuses_data_its_schema_refuses():
    with pytest.raises(ValidationError, match="format"):
        build_event(sample(BookingConfirmed, format="telepathy"))
    with pytest.raises(ValidationError, match="seats"):
        build_event(sample(SessionScheduled, seats={"balcony": 3}))


@dataclasses.dataclass(frozen=True)
class Line:
    """A nested part of a payload (declared at module level, where type hints resolve)."""

    account: str
    cents: int = wire(validate=validate.Range(min=0))


def test_optional_nested_and_collection_fields_derive_their_wire_form(scratch_registry):
    @declare("ledger.posted", 1, owner="billing", subject="posting_id")
    class LedgerPosted(Event):
        """Lines were posted to the ledger."""

        posting_id: str
        lines: list[Line]
        tags: tuple[str, ...]
        note: str | None = None

    event = LedgerPosted(posting_id="p-1", lines=[Line(account="a", cents=5)], tags=("x",))
    wire_form = build_event(event)["data"]
    assert wire_form == {"posting_id": "p-1", "lines": [{"account": "a", "cents": 5}], "tags": ["x"], "note": None}
    loaded = parse_event(json.dumps(build_event(event))).data
    assert loaded.lines == [Line(account="a", cents=5)] and loaded.note is None
    with pytest.raises(ValidationError, match="cents"):
        build_event(LedgerPosted(posting_id="p", lines=[Line(account="a", cents=-1)], tags=()))


def test_declarations_refuse_what_would_break_later(scratch_registry):
    with pytest.raises(ValueError, match="past-tense"):
        declare("booking", 1, owner="booking", subject="id")
    with pytest.raises(ValueError, match="docstring"):
        @declare("thing.happened", 1, owner="booking", subject="thing_id")
        class Undocumented(Event):
            thing_id: str
    with pytest.raises(ValueError, match="no field 'thing_id'"):
        @declare("thing.happened", 1, owner="booking", subject="thing_id")
        class NoSubject(Event):
            """Something happened."""

            other_id: str
    with pytest.raises(ValueError, match="declared twice"):
        @declare("booking.confirmed", 1, owner="booking", subject="booking_id")
        class Again(Event):
            """Again."""

            booking_id: str


def test_a_type_without_a_wire_form_fails_at_declaration():
    @dataclasses.dataclass
    class Odd:
        value: complex

    with pytest.raises(TypeError, match="complex"):
        data_schema(Odd)
