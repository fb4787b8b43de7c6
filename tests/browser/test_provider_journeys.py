"""Providers and reviewers in a real Chromium: a provider proposes an offer, schedules a date and submits it; a
reviewer (the role granted by `academy roles grant`, as an operator would) approves it from the queue; then anyone
finds it in the search."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import accessibility_violations, screenshot
from tests.browser.test_journeys import register, sign_in
from tests.system.processes import REPO
from tests.system.slice import COMPETENCE, eventually

pytestmark = pytest.mark.slow


def grant(academy, email: str, role: str) -> None:
    """The operator's command line against the embedded academy's own catalog database."""
    subprocess.run([sys.executable, "-m", "academy.cli", "roles", "grant", email, role], cwd=REPO, check=True,
                   env=academy.process.env, capture_output=True, timeout=60)


def local_minutes(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def propose(page: Page, title: str) -> None:
    page.get_by_role("link", name="Offer a seminar").click()
    expect(page.get_by_role("heading", name="Offer a seminar", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="What members need")).to_be_visible()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Summary in one line").fill("Partnerships with clusters abroad.")
    page.get_by_label("Description").fill("How to find, start and keep partnerships with clusters abroad.")
    page.get_by_label("Price per seat").fill("249,50")

    # Refused without a competence: the API's message stands at the competences, in words.
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator("#competences-error")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    assert_accessible(page, "propose-refused")

    page.locator("fieldset.competences details").first.locator("summary").click()
    page.locator("fieldset.competences input[type=checkbox]").first.check()
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_text("Status: Draft")).to_be_visible()


def schedule_and_submit(page: Page) -> None:
    starts = (datetime.now() + timedelta(days=20)).replace(hour=9, minute=0)
    page.get_by_label("Starts").fill(local_minutes(starts))
    page.get_by_label("Ends").fill(local_minutes(starts + timedelta(hours=3)))
    page.get_by_label("Online seats").fill("12")
    page.get_by_label("Meeting link").fill("https://meet.example.org/partnerships")
    page.get_by_role("button", name="Add the date").click()
    expect(page.get_by_text("Online: 12")).to_be_visible()
    assert_accessible(page, "offer-provider")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Status: In review")).to_be_visible()


def assert_accessible(page: Page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    assert accessibility_violations(page, name) == []


def test_a_provider_proposes_a_reviewer_approves_anyone_finds_it_then_the_provider_calls_a_date_off(
        browser, academy, page, api):
    title = f"Partnerships abroad {uuid.uuid4().hex[:6]}"
    register(page, "Anna Weber")
    propose(page, title)
    offer_url = page.url
    schedule_and_submit(page)
    page.get_by_role("link", name="Offer a seminar").click()
    mine = page.locator("li.card").filter(has=page.get_by_role("link", name=title))
    expect(mine.get_by_text("In review")).to_be_visible()

    reviewer_context = browser.new_context(base_url=academy.url, locale="en-GB")
    try:
        reviewer = reviewer_context.new_page()
        email = register(reviewer, "Rita Review")
        grant(academy, email, "reviewer")
        # Access tokens carry the roles of their sign-in; the grant ended the sessions, a new sign-in has the role.
        reviewer.get_by_role("button", name="Sign out").click()
        reviewer.get_by_role("link", name="Sign in").click()
        sign_in(reviewer, email)
        reviewer.get_by_role("link", name="Reviews").click()
        expect(reviewer.get_by_role("heading", name="Offers waiting for review")).to_be_visible()
        assert_accessible(reviewer, "review-queue")
        reviewer.get_by_role("link", name=title).click()
        for item in ("Each competence is justified by the description", "The level is plausible",
                     "Format and dates are complete"):
            reviewer.get_by_label(item).check()
        reviewer.get_by_label("Comment for the provider").fill("Well prepared.")
        assert_accessible(reviewer, "review-form")
        reviewer.get_by_role("button", name="Approve and publish").click()
        expect(reviewer.get_by_role("heading", name="Review")).to_have_count(0)
    finally:
        reviewer_context.close()

    page.goto(offer_url)
    expect(page.get_by_text("Status: Published")).to_be_visible()
    expect(page.get_by_text("Well prepared.")).to_be_visible()
    page.get_by_role("link", name="Offers").click()
    page.get_by_label("Search words").fill(title)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=title)).to_be_visible()

    # A member books the date; the provider sees them among the participants, then calls the date off.
    offer_id = offer_url.rsplit("/", 1)[-1]
    session_id = api.call("GET", f"/api/v1/offers/{offer_id}").json()["sessions"][0]["id"]
    _, learner = api.member("jonas")
    booking = api.book(learner, session_id)
    page.goto(offer_url)
    page.get_by_role("button", name="Participants").click()
    expect(page.get_by_role("row", name=re.compile("Jonas")).get_by_text("Confirmed")).to_be_visible()
    assert_accessible(page, "participants")
    page.get_by_text("Cancel this date").click()
    page.get_by_label("Reason, for the participants").fill("The speaker is ill.")
    page.get_by_role("button", name="Cancel the date").click()
    expect(page.get_by_text("This date is cancelled.")).to_be_visible()
    expect(page.locator("li.session.cancelled").get_by_text("The speaker is ill.", exact=True)).to_be_visible()
    refunded = eventually(lambda: (answer := api.call("GET", f"/api/v1/bookings/{booking['id']}", learner).json())
                          ["status"] == "cancelled" and answer)
    assert refunded["refund_cents"] == booking["price_cents"] and refunded["fee_cents"] == 0


def test_an_invited_co_provider_accepts_on_the_offers_page(page, api):
    register(page, "Carla Koch")
    me = page.evaluate("() => JSON.parse(sessionStorage.getItem('academy.session')).member.id")
    _, provider_token = api.member("anna")
    body = {"title": f"Co-taught {uuid.uuid4().hex[:6]}", "summary": "Two voices.", "description": "Taught by two.",
            "format": "online", "competences": [COMPETENCE], "level": 2, "languages": ["de"], "price_cents": 10_000}

    def propose():
        answer = api.call("POST", "/api/v1/offers", provider_token, json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()

    anna = propose()["provider_id"]
    offer = api.call("PATCH", f"/api/v1/offers/{propose()['id']}", provider_token, json={
        "providers": [{"member_id": anna, "share_percent": 60}, {"member_id": me, "share_percent": 40}]})
    assert offer.status_code == 200, offer.text

    page.goto(f"/#/offers/{offer.json()['id']}")
    expect(page.get_by_text("for 40 % of the providers' part")).to_be_visible()
    page.get_by_role("button", name="Accept to co-teach").click()
    expect(page.get_by_text("you: 40 %, accepted")).to_be_visible()
    expect(page.get_by_role("button", name="Accept to co-teach")).to_have_count(0)


def completed_self_assessment(api, token: str) -> None:
    """A member's self-assessment through the API: every competence one level in, important in three years."""
    started = api.call("POST", "/api/v1/assessments", token, json={"career_path": first_career_path(api)})
    assert started.status_code == 201, started.text
    assessment = started.json()
    ratings = [{"competence": item["code"], "current_level": 1, "future_importance": 4}
               for item in assessment["competences"]]
    saved = api.call("PATCH", f"/api/v1/assessments/{assessment['id']}", token, json={"ratings": ratings})
    assert saved.status_code == 200, saved.text
    done = api.call("POST", f"/api/v1/assessments/{assessment['id']}/complete", token)
    assert done.status_code == 200, done.text


def first_career_path(api) -> str:
    return api.call("GET", "/api/v1/career-paths").json()["items"][0]["code"]


def test_providers_see_what_members_need_once_enough_assessed_themselves(page, api):
    register(page, "Anna Weber")
    page.get_by_role("link", name="Offer a seminar").click()
    # Assessment shows no group under five members: four self-assessments are not enough for a row.
    for number in range(4):
        completed_self_assessment(api, api.member(f"learner{number}")[1])
    page.reload()
    expect(page.get_by_text("Too few self-assessments yet: each row counts at least 5 members.")).to_be_visible()

    completed_self_assessment(api, api.member("learner4")[1])
    page.reload()
    table = page.get_by_role("table", name=re.compile("Competences most members are below their target"))
    rows = table.locator("tbody tr")
    expect(rows.first).to_be_visible()
    assert 1 <= rows.count() <= 10
    assert_accessible(page, "demand")
