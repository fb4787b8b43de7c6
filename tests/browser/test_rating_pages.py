"""Ratings in a real Chromium against a real embedded academy: a learner whose attendance the provider recorded
rates the session on "my bookings" and changes the rating, the rating shows on the offer's page, and the provider
answers it there, publicly."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_journeys import assert_accessible
from tests.browser.test_money_pages import held_session, sign_in_as, signed_up, token_of
from tests.system.slice import Academy

pytestmark = pytest.mark.slow


def send_rating_once_attendance_arrived(page: Page, card) -> None:
    """The catalog learns who attended from booking's event, after the provider's answer; until then the API
    refuses the rating (403), which the page tells in words at the stars, and the learner sends it again."""
    deadline = time.monotonic() + 30
    while True:
        card.get_by_role("button", name="Send rating").click()
        refused = card.get_by_text("Only members the provider recorded as attendees can rate this session.")
        thanked = card.get_by_text("Thank you, your rating is published.")
        expect(refused.or_(thanked)).to_be_visible()
        if thanked.count():
            return
        assert time.monotonic() < deadline, "the catalog did not learn of the attendance within 30 s"
        page.wait_for_timeout(500)


def test_an_attendee_rates_changes_the_rating_and_the_provider_answers_it_on_the_offer_page(browser, academy,
                                                                                              page):
    client = Academy(academy.url, academy.keys_dir)
    provider_email = signed_up(browser, academy, "Paula Provider")
    learner_email = signed_up(browser, academy, "Lara Learner")
    held_session(client, token_of(client, provider_email), token_of(client, learner_email))

    sign_in_as(page, learner_email)
    page.goto("/#/bookings?when=past")
    card = page.locator("li.booking")
    expect(card).to_have_count(1)
    rating = card.get_by_role("region", name="Your rating")
    expect(rating.get_by_role("group", name="Stars (5 is best)")).to_be_visible()
    assert_accessible(page, "rating-form")

    # Without stars the page asks for them, at the stars.
    rating.get_by_label("Comment (optional)").fill("Clear examples, too little time for questions.")
    rating.get_by_role("button", name="Send rating").click()
    expect(rating.locator("[id$='-stars-error']")).to_have_text("Choose from 1 to 5 stars.")
    expect(rating.get_by_label("1 of 5 stars")).to_have_attribute("aria-invalid", "true")

    # The stars are a radio group: the arrow keys move between them.
    rating.get_by_label("1 of 5 stars").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(rating.get_by_label("4 of 5 stars")).to_be_checked()
    send_rating_once_attendance_arrived(page, rating)
    expect(rating.locator(".stars")).to_have_text("4 of 5 stars")
    expect(rating.get_by_text("You can change it until")).to_be_visible()

    # Changed within the 30 days, and still the member's own after a reload.
    rating.get_by_role("button", name="Change my rating").click()
    expect(rating.get_by_label("4 of 5 stars")).to_be_focused()
    rating.get_by_label("5 of 5 stars").check()
    rating.get_by_role("button", name="Save rating").click()
    expect(rating.get_by_text("Your rating is changed.")).to_be_visible()
    page.reload()
    expect(rating.locator(".stars")).to_have_text("5 of 5 stars")
    expect(rating.get_by_text("Clear examples, too little time for questions.")).to_be_visible()

    card.get_by_role("link").first.click()
    ratings = page.get_by_role("region", name="Ratings")
    expect(ratings.get_by_text("5 of 5 stars from 1 ratings")).to_be_visible()
    expect(ratings.get_by_text("Clear examples, too little time for questions.")).to_be_visible()
    # Only the offer's provider is offered to answer.
    expect(ratings.get_by_label("Your public answer")).to_have_count(0)
    offer_address = page.url

    page.get_by_role("button", name="Sign out").click()
    sign_in_as(page, provider_email)
    page.goto(offer_address)
    item = ratings.get_by_role("listitem").filter(has_text="Clear examples")
    expect(item.get_by_label("Your public answer")).to_be_visible()
    assert_accessible(page, "rating-answer-form")
    item.get_by_label("Your public answer").fill("Thank you: the next date has an hour more for questions.")
    item.get_by_role("button", name="Publish answer").click()
    expect(item.get_by_text("Your answer is published.")).to_be_visible()
    page.reload()
    expect(item.get_by_text("The provider answers: Thank you: the next date has an hour more for questions."))\
        .to_be_visible()
    expect(item.get_by_label("Your public answer")).to_have_count(0)

    # The learner sees the answer beside their own rating.
    page.get_by_role("button", name="Sign out").click()
    sign_in_as(page, learner_email)
    page.goto("/#/bookings?when=past")
    expect(rating.get_by_text("The provider answers: Thank you")).to_be_visible()
    assert_accessible(page, "rating-answered")

    # Another browser finds the learner's own rating too (the API tells its author), and no second form.
    elsewhere = browser.new_context(base_url=academy.url, locale="en-GB").new_page()
    try:
        sign_in_as(elsewhere, learner_email)
        elsewhere.goto("/#/bookings?when=past")
        mine = elsewhere.get_by_role("region", name="Your rating")
        expect(mine.locator(".stars")).to_have_text("5 of 5 stars")
        expect(mine.get_by_role("button", name="Send rating")).to_have_count(0)
    finally:
        elsewhere.context.close()
    ratings = client.call("GET", f"/api/v1/offers/{offer_id(client, learner_email)}/ratings").json()
    assert [(item["stars"], item["answer"]) for item in ratings["items"]] == \
        [(5, "Thank you: the next date has an hour more for questions.")]


def offer_id(client: Academy, email: str) -> str:
    [booking] = client.call("GET", "/api/v1/bookings?when=past", token_of(client, email)).json()["items"]
    return booking["offer_id"]
