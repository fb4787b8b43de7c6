"""An operator sees the events services gave up on and puts them back into a queue, in the browser."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from shared.bus.local import LocalBus
from shared.events.declarations import BookingConfirmed
from tests.browser.test_journeys import assert_accessible, register, sign_in
from tests.browser.test_provider_journeys import grant
from tests.system.slice import eventually

pytestmark = pytest.mark.slow


def dead_letter(academy) -> str:
    """An event nobody can read, published into the embedded academy's bus: each service that takes bookings
    gives up on it at once. Its id."""
    message_id = f"unreadable-{uuid.uuid4().hex[:8]}"
    bus = LocalBus(f"sqlite:///{academy.keys_dir.parent / 'bus.sqlite3'}")
    try:
        bus.publish([(BookingConfirmed.event_type.routing_key, b"not an event", message_id)])
        eventually(lambda: any(letter.message_id == message_id for letter in bus.dead_letters("billing")),
                   timeout=30)
    finally:
        bus.close()
    return message_id


def test_an_operator_replays_a_dead_letter(page, academy):
    message_id = dead_letter(academy)
    email = register(page, "Olga Operator")
    expect(page.get_by_role("link", name="Dead letters")).to_have_count(0)
    grant(academy, email, "operator")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/#/login")
    sign_in(page, email)  # a new token carries the new role

    page.get_by_role("link", name="Dead letters").click()
    billing = page.get_by_role("region", name="billing")
    expect(billing.get_by_role("table")).to_contain_text(message_id)
    expect(billing.get_by_role("checkbox", name=f"Replay {message_id}")).to_be_checked()
    assert_accessible(page, "dead-letters")

    billing.get_by_role("button", name="Replay the ticked letters").click()
    expect(page.get_by_role("region", name="billing").get_by_role("status")).to_contain_text(
        "letter(s) put back into the queue")
