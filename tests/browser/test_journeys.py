"""The academy in a real Chromium, through the pages a member uses, against a real embedded academy.

Every page calls only the public API; these journeys prove the pages and the API fit together, that refusals
are shown in words at their field, that an ended session leads to the log-in and back, and that axe-core finds
nothing serious on any main page.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import accessibility_violations, mailbox_of, screenshot
from tests.system.slice import Academy, eventually

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery staple"
PRICE_CENTS = 24_900  # shown as €249.00; a cancellation 3 to 14 days ahead costs half


def published_offer(api: Academy, seats: int = 10) -> tuple[str, str]:
    """A provider's published online offer, 14 days ahead, with a title of its own; (session id, title)."""
    _, provider_token = api.member("provider")
    title = f"Cluster partnerships {uuid.uuid4().hex[:6]}"
    _, session_id = api.published_offer(provider_token, seats=seats, title=title)
    # Booking learns of the session through events; wait until it takes bookings, as a member would find it.
    eventually(lambda: api.call("GET", f"/api/v1/sessions/{session_id}/participants", provider_token)
               .status_code == 200)
    return session_id, title


def register(page: Page, name: str = "Lena Schmidt") -> str:
    email = f"lena-{uuid.uuid4().hex[:8]}@example.org"
    page.goto("/#/register")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_contain_text("We have sent a mail to this address")
    token = eventually(lambda: mailbox_of(page).confirmation_token(email), timeout=30)
    page.goto(f"/#/confirm-email?token={token}")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("status")).to_contain_text("Your address is confirmed")
    page.goto("/#/login?next=/")  # back to the search, where registering led before
    sign_in(page, email)
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    return email


def sign_in(page: Page, email: str) -> None:
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def reload_until(page: Page, locator, timeout: float = 30.0) -> None:
    """Events reach billing and notify after the answer; a member would look again, so does the test."""
    deadline = time.monotonic() + timeout
    while locator.count() == 0:
        assert time.monotonic() < deadline, f"{locator} did not appear within {timeout}s"
        page.wait_for_timeout(500)
        page.reload()
        page.wait_for_load_state("networkidle")


def assert_accessible(page: Page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    screenshot(page, name)
    assert accessibility_violations(page, name) == []


def test_register_search_book_then_see_the_booking_the_invoice_and_the_inbox_message(page, api):
    _, title = published_offer(api)
    page.goto("/")
    expect(page.get_by_role("heading", name="Find a seminar")).to_be_visible()
    assert_accessible(page, "search")

    register(page)
    page.get_by_label("Search words").fill(title)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"#/\?q="))
    page.get_by_role("link", name=title).first.click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_text("Online: 10")).to_be_visible()
    expect(page.get_by_role("region", name="Ratings").get_by_text("Not rated yet.")).to_be_visible()
    assert_accessible(page, "offer")

    page.get_by_role("button", name="Book").click()
    expect(page.get_by_text("Your seat is confirmed.")).to_be_visible()
    page.get_by_role("link", name="See my bookings").click()
    booking = page.locator("li.booking").filter(has_text=title)
    expect(booking.get_by_text("Confirmed")).to_be_visible()
    expect(booking.get_by_role("link", name="https://meet.example.org/vca")).to_be_visible()
    assert_accessible(page, "bookings")
    with page.expect_download() as download:
        booking.get_by_role("button", name="Calendar file").click()
    assert download.value.suggested_filename.endswith(".ics")
    calendar = Path(download.value.path()).read_text()
    assert calendar.startswith("BEGIN:VCALENDAR") and "https://meet.example.org/vca" in calendar

    page.get_by_role("link", name="Invoices").click()
    reload_until(page, page.get_by_role("cell", name="€249.00"))
    assert_accessible(page, "invoices")
    page.get_by_role("row").nth(1).get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Invoice \S+"))).to_be_visible()
    expect(page.locator("dd", has_text="€249.00").last).to_be_visible()
    assert_accessible(page, "invoice")

    page.get_by_role("link", name=re.compile("^Inbox")).click()
    reload_until(page, page.locator("li.message.unread"))
    assert_accessible(page, "inbox")
    expect(page.get_by_text("Your seat is confirmed")).to_be_visible()
    unread = page.locator("li.message.unread")
    before = unread.count()
    unread.first.get_by_role("button", name="Mark as read").click()
    expect(page.locator("li.message.unread")).to_have_count(before - 1)
    if before > 1:
        page.get_by_role("button", name="Mark all as read").click()
        expect(page.locator("li.message.unread")).to_have_count(0)
    expect(page.get_by_text("0 unread")).to_be_visible()
    expect(page.locator("#unread-count")).to_have_count(0)


def test_refusals_are_shown_in_words_at_their_field(page):
    page.goto("/#/register")
    page.get_by_label("Your name").fill("Short Password")
    page.get_by_label("E-mail address").fill(f"short-{uuid.uuid4().hex[:6]}@example.org")
    page.get_by_label("Password").fill("tooshort")
    page.get_by_role("button", name="Register").click()

    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    error = page.locator(f"#{password.get_attribute('id')}-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("12")
    expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    assert "{" not in page.inner_text("main"), "no raw JSON on the page"
    assert_accessible(page, "register-refused")

    page.goto("/#/login")
    page.get_by_label("E-mail address").fill("nobody@example.org")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert "{" not in page.get_by_role("alert").inner_text()
    assert_accessible(page, "login")


def test_an_expired_token_is_renewed_and_an_ended_session_leads_to_the_log_in_and_back(page):
    email = register(page)
    page.goto("/#/bookings")
    expect(page.get_by_role("heading", name="My bookings")).to_be_visible()

    # An access token the API no longer takes: the refresh token gets a new pair and the page loads.
    old = page.evaluate("""() => {
        const session = JSON.parse(sessionStorage.getItem('academy.session'));
        const old = session.refresh_token;
        session.access_token = 'expired.' + session.access_token;
        sessionStorage.setItem('academy.session', JSON.stringify(session));
        return old;
    }""")
    page.goto("/#/inbox")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    renewed = page.evaluate("() => JSON.parse(sessionStorage.getItem('academy.session')).refresh_token")
    assert renewed != old

    # Both tokens ended (a logout elsewhere): the log-in, told why, and back to the page after signing in.
    page.evaluate("""() => {
        const session = JSON.parse(sessionStorage.getItem('academy.session'));
        session.access_token = 'expired.' + session.access_token;
        session.refresh_token = 'ended';
        sessionStorage.setItem('academy.session', JSON.stringify(session));
    }""")
    page.goto("/#/invoices")
    expect(page).to_have_url(re.compile(r"#/login\?next=%2Finvoices&expired=1$"))
    expect(page.get_by_text("Your session has ended")).to_be_visible()
    sign_in(page, email)
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/invoices$"))


def test_cancelling_shows_the_fee_first_and_it_is_the_fee_charged(page, api):
    _, title = published_offer(api)  # starts in 14 days less the moments since: the 50 % tier
    register(page)
    page.goto("/#/")
    page.get_by_label("Search words").fill(title)
    page.keyboard.press("Enter")
    page.get_by_role("link", name=title).first.click()
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_text("Your seat is confirmed.")).to_be_visible()

    page.goto("/#/bookings")
    page.get_by_role("button", name="Cancel booking").click()
    # By the offer's own tiers where the API states them, else by the standard policy: 50 % here either way.
    expect(page.get_by_text(re.compile(r"^Expected fee.*: €124\.50 \(refund €124\.50\)\.$"))).to_be_visible()
    expect(page.get_by_role("button", name="Yes, cancel")).to_be_focused()
    screenshot(page, "cancel")
    page.get_by_role("button", name="Yes, cancel").click()
    expect(page.get_by_text("Cancelled. Fee €124.50, refund €124.50.")).to_be_visible()
    expect(page.locator("li.booking").filter(has_text=title).get_by_text("Cancelled", exact=True)).to_be_visible()


def test_certificate_check_for_an_unknown_number(page):
    page.goto("/#/certificates")
    assert_accessible(page, "certificates")
    page.get_by_label("Certificate number").fill("no-such-certificate")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("alert")).to_have_text("No certificate has this number.")
    expect(page).to_have_url(re.compile(r"#/certificates/no-such-certificate$"))


@pytest.mark.parametrize("page", ["de-DE"], indirect=True)
def test_german_by_default_from_the_browser_and_switchable_to_english(page):
    page.goto("/")
    expect(page.get_by_role("heading", name="Seminar finden")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    screenshot(page, "search-de")
    page.get_by_role("button", name="Show in English").click()
    expect(page.get_by_role("heading", name="Find a seminar")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.get_by_role("heading", name="Find a seminar")).to_be_visible()


@pytest.mark.parametrize("page", ["de-DE"], indirect=True)
def test_german_pages_are_accessible_and_refusals_read_in_german(page):
    page.goto("/#/register")
    expect(page.get_by_role("heading", name="Registrieren")).to_be_visible()
    page.get_by_label("Ihr Name").fill("Kurzes Passwort")
    page.get_by_label("E-Mail-Adresse").fill(f"kurz-{uuid.uuid4().hex[:6]}@example.org")
    page.get_by_label("Passwort").fill("zu kurz")
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("alert")).to_have_text("Bitte korrigieren Sie die markierten Felder.")
    expect(page.get_by_text("Die Länge muss zwischen 12 und 200 liegen.")).to_be_visible()
    assert_accessible(page, "register-de")


def test_keyboard_alone_reaches_the_content_and_signs_in(page):
    page.goto("/#/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("E-mail address")).to_be_focused()


def test_a_phone_sized_window_shows_one_column(browser, academy, api):
    published_offer(api)
    published_offer(api)  # two cards at least, whatever ran before
    context = browser.new_context(base_url=academy.url, locale="en-GB", viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        page.goto("/")
        cards = page.locator("ul.cards > li")
        expect(cards.first).to_be_visible()
        first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
        assert second["y"] > first["y"] and abs(second["x"] - first["x"]) < 1, "cards stack in one column"
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scroll"
        expect(page.get_by_label("Format")).to_be_hidden()  # the filters fold away on a phone ...
        page.get_by_text("Filters and order").click()
        expect(page.get_by_label("Format")).to_be_visible()  # ... and open with one tap
        screenshot(page, "search-phone")
        assert accessibility_violations(page, "search-phone") == []
    finally:
        context.close()


def test_the_accessibility_check_finds_what_it_should(browser):
    """The check above is only worth something if it reports a form control nobody labelled."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
        assert any("label" in finding for finding in accessibility_violations(page, "unlabelled"))
    finally:
        context.close()


def test_self_assessment_saved_area_by_area_then_the_result_with_gaps_chart_and_a_recommendation_booked(page, api):
    published_offer(api)  # builds a competence of the framework, at level 3: above every answer below
    register(page)
    page.get_by_role("link", name="Self-assessment").click()
    expect(page.get_by_role("heading", name="Self-assessment", level=1)).to_be_visible()
    assert_accessible(page, "assessment-start")
    page.get_by_role("button", name="Start a self-assessment").click()
    expect(page.get_by_role("heading", name=re.compile(r"area 1 of \d+"))).to_be_visible()
    steps = int(re.search(r"of (\d+)", page.get_by_role("heading", level=1).inner_text()).group(1))
    assert_accessible(page, "assessment-step")

    for step in range(1, steps + 1):
        expect(page.get_by_role("heading", name=f"area {step} of {steps}", exact=False)).to_be_visible()
        for competence in page.locator("fieldset.competence").all():
            competence.locator("input[name^='current-'][value='1']").check()
            competence.locator("input[name^='importance-'][value='4']").check()
        if step == 1:
            page.get_by_role("button", name="Save and continue").click()
            expect(page.get_by_role("heading", name=f"area 2 of {steps}", exact=False)).to_be_visible()
            # Resumed from the assessment's own address, it opens at the first area not yet rated.
            page.goto(page.url.split("?")[0])
            expect(page.get_by_role("heading", name=f"area 2 of {steps}", exact=False)).to_be_visible()
            expect(page.locator("fieldset.competence input[value='1']:checked")).to_have_count(0)
            continue
        last = step == steps
        page.get_by_role("button", name="Save and see my result" if last else "Save and continue").click()

    expect(page.get_by_role("heading", name="My result")).to_be_visible()
    rows = page.locator("table.needs tbody tr")
    expect(rows.first).to_be_visible()
    expect(rows.first.locator("td").first).to_have_text("1")
    chart = page.get_by_role("img", name=re.compile("Radar chart"))
    expect(chart).to_be_visible()
    assert page.evaluate("(image) => image.complete && image.naturalWidth > 0", chart.element_handle())
    expect(page.get_by_role("heading", name="Recommended offers")).to_be_visible()
    # Assessment learns of offers, dates and free seats through events; a member would look again.
    reload_until(page, page.locator("li.recommendation"))
    recommendation = page.locator("li.recommendation").first
    expect(recommendation.locator("ul.reasons li").first).to_be_visible()
    assert_accessible(page, "assessment-result")

    title = recommendation.get_by_role("heading").inner_text()
    recommendation.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    page.get_by_role("button", name="Book").first.click()
    expect(page.get_by_text("Your seat is confirmed.")).to_be_visible()


def test_the_profile_refuses_a_region_at_its_field_and_keeps_what_was_saved(page):
    register(page)
    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    assert_accessible(page, "profile")
    page.get_by_label("Organisation").fill("Cluster Mobility BW")
    page.get_by_label("Address for invoices").fill("Königstraße 1\n\n70173 Stuttgart ")
    page.get_by_label("Region").fill("Swabia")
    page.get_by_label("Online").check()
    page.get_by_role("button", name="Save profile").click()

    region = page.get_by_label("Region")
    expect(region).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{region.get_attribute('id')}-error")).to_contain_text("ISO 3166-2")
    region.fill("DE-BW")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    expect(region).not_to_have_attribute("aria-invalid", "true")

    page.reload()
    expect(page.get_by_label("Region")).to_have_value("DE-BW")
    expect(page.get_by_label("Organisation")).to_have_value("Cluster Mobility BW")
    expect(page.get_by_label("Address for invoices")).to_have_value("Königstraße 1\n70173 Stuttgart")
    expect(page.get_by_label("Online")).to_be_checked()

    # E-mail per kind of message: invoices cannot be switched off, bookings can, and the choice is kept.
    expect(page.get_by_label("Invoices, credit notes and payouts")).to_be_disabled()
    expect(page.get_by_label("Invoices, credit notes and payouts")).to_be_checked()
    page.get_by_label("Bookings and waiting lists").uncheck()
    page.get_by_role("button", name="Save e-mail choices").click()
    expect(page.get_by_text("Your e-mail choices are saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Bookings and waiting lists")).not_to_be_checked()
    assert_accessible(page, "profile-saved")


def test_search_facets_count_offers_and_a_refused_filter_stands_at_its_field(page, api):
    _, title = published_offer(api)
    page.goto("/")
    expect(page.get_by_label("Format").locator("option", has_text=re.compile(r"^Online \(\d+\)$"))).to_have_count(1)

    page.get_by_label("Price up to (€)").fill("cheap")
    page.get_by_role("button", name="Search").click()
    price = page.get_by_label("Price up to (€)")
    expect(price).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{price.get_attribute('id')}-error")).to_be_visible()

    price.fill("249")
    page.get_by_label("Search words").fill(title)
    page.get_by_label("Order").select_option("price")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"max_price=249.*sort=price"))
    expect(page.get_by_role("link", name=title)).to_be_visible()
    price = page.get_by_label("Price up to (€)")
    price.fill("248,99")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No offer matches.")).to_be_visible()

    page.get_by_label("Price up to (€)").fill("")
    page.get_by_label("Only with free seats").check()
    page.get_by_label("Order").select_option("rating")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"free_seats=true.*sort=rating"))
    expect(page.get_by_role("link", name=title)).to_be_visible()
    assert_accessible(page, "search-free-seats")


def test_a_forgotten_password_is_asked_for_from_the_log_in(page):
    page.goto("/#/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail address").fill("nobody-here@example.org")
    page.get_by_role("button", name="Mail me the link").click()
    expect(page.get_by_role("status")).to_contain_text("If this address has an account")
    page.goto("/#/reset-password?token=made-up")
    page.get_by_label("New password").fill("a meadow of quiet lanterns")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    assert_accessible(page, "reset-password")


def test_a_booking_whose_answer_was_lost_is_retried_with_its_key_and_books_once(page, api):
    session_id, title = published_offer(api, seats=1)
    register(page)
    page.goto("/")
    page.get_by_label("Search words").fill(title)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=title).click()

    keys = []

    def lose_the_first_answer(route):
        keys.append(route.request.headers.get("idempotency-key"))
        answer = route.fetch()  # the booking reaches the academy ...
        if len(keys) == 1:
            route.abort("connectionreset")  # ... but its answer never reaches the page
        else:
            route.fulfill(response=answer)

    page.route("**/api/v1/bookings", lose_the_first_answer)
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be reached")
    page.get_by_role("button", name="Book").click()
    # The one seat is this member's: the retry got the first answer, not a place on the waiting list.
    expect(page.get_by_text("Your seat is confirmed.")).to_be_visible()
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    page.unroute("**/api/v1/bookings")
    page.get_by_role("link", name="See my bookings").click()
    expect(page.locator("li.booking")).to_have_count(1)


def test_a_locked_address_is_told_in_words_how_long_to_wait(page):
    """After five wrong passwords the academy locks the address (429 with Retry-After); the page says so."""
    email = register(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Find a seminar")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    for _ in range(5):
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill("not the password at all")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    sign_in(page, email)  # the right password, while locked
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"Too many attempts\. Please wait \d+ seconds"))


def test_a_member_asks_for_a_topic_and_another_votes_for_it(browser, academy, page):
    register(page, "Lena Schmidt")
    page.get_by_role("link", name="Topic requests").click()
    expect(page.get_by_role("heading", name="Topic requests", level=1)).to_be_visible()
    title = f"Cluster benchmarking {uuid.uuid4().hex[:6]}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("How do other clusters measure their impact?")
    page.get_by_role("button", name="Ask for it").click()
    expect(page.locator("#competences-error")).to_be_visible()  # the API asks for at least one competence
    page.locator("fieldset.competences details").first.locator("summary").click()
    page.locator("fieldset.competences input[type=checkbox]").first.check()
    page.get_by_role("button", name="Ask for it").click()
    mine = page.locator("li.topic-request").filter(has_text=title)
    expect(mine.get_by_text("Votes: 1")).to_be_visible()
    expect(mine.get_by_role("button", name="Take my vote back")).to_be_visible()
    assert_accessible(page, "topics")

    other_context = browser.new_context(base_url=academy.url, locale="en-GB")
    try:
        other = other_context.new_page()
        register(other, "Jonas Becker")
        other.goto("/#/topics")
        theirs = other.locator("li.topic-request").filter(has_text=title)
        theirs.get_by_role("button", name="Vote for it").click()
        expect(theirs.get_by_text("Votes: 2")).to_be_visible()
        theirs.get_by_role("button", name="Take my vote back").click()
        expect(theirs.get_by_text("Votes: 1")).to_be_visible()
    finally:
        other_context.close()


def test_a_member_changes_the_password_then_deletes_the_account(page):
    email = register(page)
    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password").fill("a much longer passphrase of mine")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("form[aria-labelledby=password-heading] [role=alert]")).to_be_visible()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    # The new pair works: the page goes on without asking to sign in.
    page.get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("heading", name="My bookings")).to_be_visible()

    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Password, to confirm").fill("a much longer passphrase of mine")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account is deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("a much longer passphrase of mine")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()


def test_a_seat_is_booked_with_the_keyboard_alone(page, api):
    _, title = published_offer(api)
    register(page)
    page.goto("/")
    page.get_by_label("Search words").focus()
    page.keyboard.type(title)
    page.keyboard.press("Enter")
    link = page.get_by_role("link", name=title)
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=title, level=1)).to_be_focused()  # a new page announces itself
    page.get_by_label("Online").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Book")).to_be_focused()
    page.keyboard.press("Enter")
    outcome = page.get_by_text("Your seat is confirmed.")
    expect(outcome).to_be_visible()
    expect(page.locator(".notice[role=status]")).to_be_focused()  # and the outcome takes the focus
