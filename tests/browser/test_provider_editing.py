"""A provider changes their offer in a real Chromium: edits a draft's title and price, invites a co-provider who
accepts in their own browser, moves a date, and is refused at the field when a published offer's level changes."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_journeys import register
from tests.browser.test_provider_journeys import assert_accessible, local_minutes
from tests.system.slice import APPROVAL, COMPETENCE, eventually

pytestmark = pytest.mark.slow


def signed_in_member(page: Page) -> tuple[str, str]:
    """The member id and access token the page keeps for its tab."""
    session = page.evaluate("() => JSON.parse(sessionStorage.getItem('academy.session'))")
    return session["member"]["id"], session["access_token"]


def draft_with_a_date(api, token: str) -> tuple[str, dict]:
    body = {"title": f"Cluster finance {uuid.uuid4().hex[:6]}", "summary": "Money for clusters.",
            "description": "Where clusters find their money.", "format": "online", "competences": [COMPETENCE],
            "level": 2, "languages": ["en"], "price_cents": 10_000}

    def propose():
        # Refused (422) until the catalog has heard of the competence framework that assessment announces.
        answer = api.call("POST", "/api/v1/offers", token, json=body)
        return answer.json() if answer.status_code == 201 else None

    offer = eventually(propose)
    starts = (datetime.now(UTC) + timedelta(days=20)).replace(hour=9, minute=0, second=0, microsecond=0)
    session = api.call("POST", f"/api/v1/offers/{offer['id']}/sessions", token, json={
        "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "seats": {"online": 12}, "link": "https://meet.example.org/finance"})
    assert session.status_code == 201, session.text
    return offer["id"], session.json()


def open_edit_form(page: Page) -> None:
    page.locator("details.edit-offer > summary").click()
    expect(page.get_by_role("heading", name="Change the offer")).to_be_visible()


def test_a_provider_edits_invites_a_co_provider_moves_a_date_and_is_refused_a_published_level(
        browser, academy, page, api):
    register(page, "Anna Weber")
    _, token = signed_in_member(page)
    offer_id, session = draft_with_a_date(api, token)
    # A draft made elsewhere (here through the API) is among My offers all the same.
    page.get_by_role("link", name="Offer a seminar").click()
    page.get_by_role("link", name=re.compile(r"^Cluster finance ")).click()
    expect(page).to_have_url(re.compile(rf"#/offers/{offer_id}$"))
    expect(page.get_by_text("Status: Draft")).to_be_visible()

    # A draft changes freely: title and price (in euros, read as cents).
    open_edit_form(page)
    expect(page.get_by_label("Price per seat")).to_have_value("100.00")
    assert_accessible(page, "offer-edit")
    page.get_by_label("Title").first.fill("Cluster finance, revised")
    page.get_by_label("Price per seat").fill("312,50")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_role("heading", name="Cluster finance, revised", level=1)).to_be_visible()
    expect(page.get_by_text("Price €312.50 plus")).to_be_visible()
    offer = api.call("GET", f"/api/v1/offers/{offer_id}", token).json()
    assert (offer["title"], offer["price_cents"], offer["level"]) == ("Cluster finance, revised", 31_250, 2)

    # A co-provider for 40 %, named by member id, accepts in their own browser.
    carla_context = browser.new_context(base_url=academy.url, locale="en-GB")
    try:
        carla = carla_context.new_page()
        register(carla, "Carla Koch")
        carla_id, _ = signed_in_member(carla)
        open_edit_form(page)
        page.get_by_role("button", name="Add a co-provider").click()
        page.get_by_label("Member id").nth(1).fill(carla_id)
        page.get_by_label("Share in percent").nth(0).fill("60")
        page.get_by_label("Share in percent").nth(1).fill("40")
        page.get_by_role("button", name="Save the changes").click()
        expect(page.get_by_text(f"{carla_id}: 40 %, not accepted yet")).to_be_visible()

        carla.goto(f"/#/offers/{offer_id}")
        expect(carla.get_by_text("for 40 % of the providers' part")).to_be_visible()
        carla.get_by_role("button", name="Accept to co-teach").click()
        expect(carla.get_by_text("you: 40 %, accepted")).to_be_visible()
    finally:
        carla_context.close()
    page.reload()
    expect(page.get_by_text(f"{carla_id}: 40 %, accepted")).to_be_visible()

    # The date moves a day and a half later; the list shows the new time.
    moved = datetime.fromisoformat(session["starts_at"]).astimezone() + timedelta(days=1, hours=5, minutes=30)
    mover = page.locator("details.move-session")
    mover.locator("summary").click()
    mover.get_by_label("Starts").fill(local_minutes(moved))
    mover.get_by_label("Ends").fill(local_minutes(moved + timedelta(hours=2)))
    mover.get_by_role("button", name="Save the date").click()
    shown = page.evaluate("""([start, end]) => {
        const format = new Intl.DateTimeFormat(document.documentElement.lang,
                                               { dateStyle: 'medium', timeStyle: 'short' });
        return `${format.format(new Date(start))} to ${format.format(new Date(end))}`;
    }""", [moved.isoformat(), (moved + timedelta(hours=2)).isoformat()])
    expect(page.locator("li.session h3")).to_have_text(shown)
    moved_session = api.call("GET", f"/api/v1/sessions/{session['id']}", token).json()
    assert datetime.fromisoformat(moved_session["starts_at"]) == moved

    # Published, the offer keeps its level: the API's refusal stands at the level field.
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Status: In review")).to_be_visible()
    reviewed = api.call("POST", f"/api/v1/offers/{offer_id}/reviews", api.reviewer(), json=APPROVAL)
    assert reviewed.status_code == 201, reviewed.text
    page.reload()
    expect(page.get_by_text("Status: Published")).to_be_visible()
    open_edit_form(page)
    level = page.get_by_label("Level")
    level.select_option("3")
    page.get_by_role("button", name="Save the changes").click()
    expect(level).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{level.get_attribute('id')}-error")).to_have_text("cannot change once published")
    expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    assert_accessible(page, "offer-edit-refused")
    assert api.call("GET", f"/api/v1/offers/{offer_id}", token).json()["level"] == 2
