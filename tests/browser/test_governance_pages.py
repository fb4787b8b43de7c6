"""Self-governance in a real Chromium against a real embedded academy whose discussion and voting windows last
seconds: a member proposes a motion, another comments, both vote once voting opens and each sees only their own
vote, then the counts once the worker closed the window; refused proposals are shown at their fields; a policy
proposal shows billing's what-if."""

from __future__ import annotations

import re
import signal
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import MAILBOXES
from tests.browser.test_journeys import PASSWORD, assert_accessible, published_offer, register, reload_until
from tests.browser.test_money_pages import sign_in_as, signed_up, token_of
from tests.system.mailbox import Mailbox
from tests.system.processes import EmbeddedProcess
from tests.system.slice import Academy, eventually

pytestmark = pytest.mark.slow
# Long enough to comment in the discussion and to vote in the window on a slow machine; short enough to wait for.
DISCUSSION_SECONDS = 20
VOTING_SECONDS = 40


@pytest.fixture(scope="module")
def academy(tmp_path_factory):
    """The browser tests' academy (see conftest), with windows of seconds instead of days."""
    folder = tmp_path_factory.mktemp("governance")
    process = EmbeddedProcess(folder / "data", folder, web_workers=1)
    process.process.env.update(REGISTRATION_RATE_LIMIT="1000/hour", LOGIN_RATE_LIMIT="1000/minute",
                               PROPOSAL_DISCUSSION_SECONDS=str(DISCUSSION_SECONDS),
                               PROPOSAL_VOTING_SECONDS=str(VOTING_SECONDS))
    process.start()
    MAILBOXES[process.url] = Mailbox(folder / "data" / "mail")
    try:
        yield process
    finally:
        process.kill(signal.SIGTERM)
        del MAILBOXES[process.url]


def eligible(client: Academy, token: str) -> None:
    """Wait until the catalog has heard of the member's booking: a proposal it refuses for its shares (422), not for
    its proposer (403), proves it without proposing anything."""
    probe = {"kind": "policy", "title": "Probe", "reasons": "Probe.",
             "policy": {"shares_bp": {"provider": 1, "academy": 1, "community_fund": 1},
                        "effective_from": (datetime.now(UTC) + timedelta(days=30)).isoformat()}}
    eventually(lambda: client.call("POST", "/api/v1/proposals", token, json=probe).status_code == 422, timeout=60)


@pytest.fixture(scope="module")
def members(browser, academy):
    """Ann and Ben, registered through the pages, each with a booking, so both may propose and vote."""
    client = Academy(academy.url, academy.keys_dir)
    session_id, _ = published_offer(client)
    emails = {}
    for name in ("Ann Arbeit", "Ben Berger"):
        email = signed_up(browser, academy, name)
        token = token_of(client, email)
        client.book(token, session_id)
        eligible(client, token)
        emails[name.split()[0].lower()] = email
    return {"client": client, **emails}


def propose(page: Page, kind: str, title: str) -> None:
    page.locator("#nav").get_by_role("link", name="Proposals").click()
    page.get_by_role("link", name="Make a proposal").click()
    expect(page.get_by_role("heading", name="Make a proposal", level=1)).to_be_visible()
    page.get_by_label("Kind of proposal").select_option(label=kind)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Reasons").fill("Members should meet in person once a year.")


def test_a_member_proposes_a_motion_another_comments_and_both_vote_seeing_only_their_own_vote(browser, academy,
                                                                                                page, members):
    title = f"A yearly members' meeting {uuid.uuid4().hex[:6]}"
    sign_in_as(page, members["ann"])
    propose(page, "Motion", title)
    page.get_by_role("button", name="Propose").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.locator(".facts").get_by_text("In discussion")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Voting opens "))).to_be_visible()
    expect(page.get_by_role("button", name="Vote", exact=True)).to_have_count(0)
    assert_accessible(page, "proposal")

    ben_context = browser.new_context(base_url=academy.url, locale="en-GB")
    try:
        ben = ben_context.new_page()
        sign_in_as(ben, members["ben"])
        ben.locator("#nav").get_by_role("link", name="Proposals").click()
        card = ben.locator("li.proposal").filter(has_text=title)
        expect(card.get_by_text("Motion")).to_be_visible()
        expect(card.get_by_text("In discussion")).to_be_visible()
        ben_number = ben.evaluate("() => JSON.parse(sessionStorage.getItem('academy.session')).member.id")
        expect(ben.get_by_text(f"Your member number: {ben_number}")).to_be_visible()
        assert_accessible(ben, "proposals")
        card.get_by_role("link", name=title).click()
        ben.get_by_label("Comment", exact=True).fill("Yes, and online for those who cannot travel.")
        ben.get_by_role("button", name="Comment", exact=True).click()
        expect(ben.get_by_role("heading", name="Comments (1)")).to_be_visible()
        expect(ben.get_by_text(re.compile(r"^You, "))).to_be_visible()

        # The phase follows the clock: once the discussion is over the vote form appears.
        reload_until(ben, ben.get_by_role("button", name="Vote", exact=True), timeout=DISCUSSION_SECONDS + 30)
        expect(ben.locator(".facts").get_by_text("Voting open")).to_be_visible()
        ben.get_by_role("radio", name="Yes").check()
        ben.get_by_role("button", name="Vote", exact=True).click()
        expect(ben.locator("#my-vote")).to_have_text("You voted: Yes")
        # A vote may be changed while the window is open; the form starts from the member's own choice.
        expect(ben.get_by_role("radio", name="Yes")).to_be_checked()
        ben.get_by_role("radio", name="Abstain").check()
        ben.get_by_role("button", name="Change my vote").click()
        expect(ben.locator("#my-vote")).to_have_text("You voted: Abstain")
        assert_accessible(ben, "proposal-voting")
    finally:
        ben_context.close()

    # Ann sees Ben's comment but not his vote, and votes herself, with the keyboard.
    page.reload()
    expect(page.get_by_text("Yes, and online for those who cannot travel.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^A member, "))).to_be_visible()
    expect(page.locator("#my-vote")).to_have_count(0)
    page.get_by_role("radio", name="Yes").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Vote", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#my-vote")).to_have_text("You voted: Yes")

    # The worker closes the window on its schedule; the result shows counts only, and Ann's own vote.
    # Past the window the page says the votes are being counted until the worker has closed it.
    counts = page.get_by_text(re.compile(r"^Yes: 1, no: 0, abstentions: 1, of \d+ members eligible"))
    reload_until(page, counts, timeout=VOTING_SECONDS + 60)
    expect(page.get_by_role("heading", name="Result")).to_be_visible()
    expect(page.locator("#my-vote")).to_have_text("You voted: Yes")
    expect(page.get_by_label("Comment", exact=True)).to_have_count(0)
    assert_accessible(page, "proposal-closed")
    page.get_by_role("link", name="All proposals").click()
    card = page.locator("li.proposal").filter(has_text=title)
    expect(card.get_by_text("Closed", exact=True)).to_be_visible()
    expect(card.get_by_text(re.compile(r"^Yes: 1, no: 0, abstentions: 1"))).to_be_visible()


def test_refused_proposals_are_shown_at_their_fields(page, members):
    sign_in_as(page, members["ann"])
    propose(page, "Revenue shares", f"Shares that do not add up {uuid.uuid4().hex[:6]}")
    page.get_by_label("Providers (%)").fill("70")
    page.get_by_label("Academy (%)").fill("20")
    page.get_by_label("Community fund (%)").fill("15")
    page.get_by_label("In effect from").fill((datetime.now(UTC) + timedelta(days=40)).date().isoformat())
    assert_accessible(page, "proposal-new")
    page.get_by_role("button", name="Propose").click()
    shares = page.locator("fieldset.shares[data-api-name='policy.shares_bp']")
    expect(shares).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#shares-error")).to_contain_text("must add up to 10000")
    expect(page.get_by_role("alert").first).to_contain_text("Please correct")
    expect(page).to_have_url(re.compile(r"#/proposals/new$"))
    assert_accessible(page, "proposal-refused")

    # A member may not propose themselves as reviewer: the refusal stands at the member field.
    member_number = page.evaluate("() => JSON.parse(sessionStorage.getItem('academy.session')).member.id")
    page.get_by_label("Kind of proposal").select_option(label="Reviewer")
    expect(page.get_by_label("Providers (%)")).to_be_hidden()
    page.get_by_label("Member", exact=True).fill(member_number)
    page.get_by_role("button", name="Propose").click()
    member_field = page.get_by_label("Member", exact=True)
    expect(member_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{member_field.get_attribute('id')}-error")).to_have_text("that is you")

    # Ben, by the member number he finds on the proposals page, is proposed instead.
    client = members["client"]
    ben_number = client.call("GET", "/api/v1/members/me", token_of(client, members["ben"])).json()["id"]
    member_field.fill(ben_number)
    page.get_by_role("button", name="Propose").click()
    terms = page.get_by_role("region", name="What is proposed")
    expect(terms.get_by_text(ben_number)).to_be_visible()
    expect(terms.get_by_text("Make reviewer")).to_be_visible()
    expect(page.get_by_role("region", name="What it would have meant")).to_have_count(0)


def test_a_policy_proposal_shows_what_it_would_have_meant_last_year(page, members):
    title = f"A larger community fund {uuid.uuid4().hex[:6]}"
    sign_in_as(page, members["ben"])
    propose(page, "Revenue shares", title)
    page.get_by_label("Providers (%)").fill("65")
    page.get_by_label("Academy (%)").fill("20")
    page.get_by_label("Community fund (%)").fill("15")
    page.get_by_label("In effect from").fill((datetime.now(UTC) + timedelta(days=40)).date().isoformat())
    page.get_by_role("button", name="Propose").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    terms = page.get_by_role("region", name="What is proposed")
    expect(terms.get_by_text("65 %")).to_be_visible()
    expect(terms.get_by_text("15 %")).to_be_visible()
    proposal_id = page.url.rsplit("/", 1)[1]

    # Billing simulates the shares over the booked year and answers with an event; until then the page says so.
    reload_until(page, page.locator("table.comparison"))
    what_if = members["client"].call("GET", f"/api/v1/proposals/{proposal_id}").json()["what_if"]
    assert what_if["difference"]["community_fund"] > 0
    fund = page.get_by_role("row", name=re.compile("^Community fund"))
    expect(fund.locator("td.gain")).to_have_text(f"+€{what_if['difference']['community_fund'] / 100:,.2f}")
    expect(page.get_by_role("row", name=re.compile("^Providers")).locator("td.loss")).to_be_visible()
    assert_accessible(page, "proposal-policy")


def test_a_visitor_reads_a_policy_proposal_whose_what_if_is_being_calculated_and_is_asked_to_sign_in(page, members):
    client = members["client"]
    title = f"A smaller academy share {uuid.uuid4().hex[:6]}"
    proposal = client.call("POST", "/api/v1/proposals", token_of(client, members["ann"]), json={
        "kind": "policy", "title": title, "reasons": "More for the providers.",
        "policy": {"shares_bp": {"provider": 7250, "academy": 1750, "community_fund": 1000},
                   "effective_from": (datetime.now(UTC) + timedelta(days=60)).isoformat()}})
    assert proposal.status_code == 201, proposal.text

    def before_billing_answered(route):
        # The proposal as it reads in the moments before billing's what-if has arrived.
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), "what_if": None})

    page.route(f"**/api/v1/proposals/{proposal.json()['id']}", before_billing_answered)
    page.goto(f"/#/proposals/{proposal.json()['id']}")
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    what_if = page.get_by_role("region", name="What it would have meant")
    expect(what_if.get_by_role("status")).to_have_text("Being calculated…")
    expect(page.get_by_role("region", name="What is proposed").get_by_text("72.5 %")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in to vote")).to_be_visible()
    expect(page.get_by_label("Comment", exact=True)).to_have_count(0)
    expect(page.locator("#nav").get_by_role("link", name="Proposals")).to_have_count(0)  # for members


@pytest.mark.parametrize("page", ["de-DE"], indirect=True)
def test_the_proposals_read_in_german_and_fit_a_phone(page, members):
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in_as_de(page, members["ben"])
    page.locator("#nav").get_by_role("link", name="Vorschläge").click()
    expect(page.get_by_role("heading", name="Vorschläge", level=1)).to_be_visible()
    expect(page.locator("li.proposal").first).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scroll"
    assert_accessible(page, "proposals-de-phone")
    page.get_by_role("link", name="Einen Vorschlag machen").click()
    page.get_by_label("Art des Vorschlags").select_option(label="Umsatzanteile")
    expect(page.get_by_label("Anbietende (%)")).to_be_visible()
    page.get_by_role("button", name="Vorschlagen").click()
    expect(page.get_by_role("alert").first).to_have_text("Bitte korrigieren Sie die markierten Felder.")
    expect(page.get_by_label("Titel")).to_have_attribute("aria-invalid", "true")
    effective = page.get_by_label("Gültig ab")
    expect(page.locator(f"#{effective.get_attribute('id')}-error")).to_have_text("Dieses Feld fehlt.")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scroll"
    assert_accessible(page, "proposal-new-de-phone")


def sign_in_as_de(page: Page, email: str) -> None:
    page.goto("/#/login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


def test_the_list_pages_through_many_proposals(page, members):
    asked: list[str] = []

    def many(route):
        # As if forty-one proposals had been made: the page asks for the page it shows, twenty at a time.
        asked.append(route.request.url)
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), "total": 41})

    page.route("**/api/v1/proposals?*", many)
    page.goto("/#/proposals")
    pager = page.get_by_role("navigation", name="Page 1 of 3")
    expect(pager).to_be_visible()
    expect(pager.get_by_role("link", name="Previous page")).to_have_count(0)
    pager.get_by_role("link", name="Next page").click()
    expect(page.get_by_role("navigation", name="Page 2 of 3")).to_be_visible()
    assert "page=2&per_page=20" in asked[-1]


def test_a_member_without_a_booking_or_offer_is_told_why_they_may_not_propose(page):
    register(page, "Carl Neumann")
    propose(page, "Motion", f"Free coffee {uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name="Propose").click()
    expect(page.get_by_role("alert")).to_have_text(
        "only members with a booking or an offer within two years may propose")
    expect(page).to_have_url(re.compile(r"#/proposals/new$"))
