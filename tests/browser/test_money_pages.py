"""The money pages in a real Chromium against a real embedded academy: a partner reads the revenue report and runs
a what-if; a provider whose session was held converts the released earnings into credits and pays an invoice with
them. The figures on the pages are checked against the public API's own answers."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_journeys import PASSWORD, assert_accessible, register, reload_until, sign_in
from tests.browser.test_provider_journeys import grant
from tests.system.slice import APPROVAL, COMPETENCE, PRICE_CENTS, Academy, eventually

pytestmark = pytest.mark.slow
# A session starting this far ahead leaves time to publish and book it; attendance is recorded once it began.
LEAD = timedelta(seconds=25)


def euros(cents: int) -> str:
    """As the pages write euros in English (Intl.NumberFormat 'en')."""
    return f"{'-' if cents < 0 else ''}€{abs(cents) / 100:,.2f}"


def signed_up(browser, academy, name: str) -> str:
    """A member registered through the pages, as a person does; returns the e-mail address."""
    context = browser.new_context(base_url=academy.url, locale="en-GB")
    try:
        return register(context.new_page(), name)
    finally:
        context.close()


def token_of(client: Academy, email: str) -> str:
    answer = client.call("POST", "/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def held_session(client: Academy, provider_token: str, learner_token: str) -> str:
    """An offer of the provider's whose session a learner booked and attended; returns the session id."""
    body = {"title": f"Partnerships held {uuid.uuid4().hex[:6]}", "summary": "Partnerships with clusters abroad.",
            "description": "How to find, start and keep partnerships with clusters abroad.", "format": "online",
            "competences": [COMPETENCE], "level": 3, "languages": ["en"], "price_cents": PRICE_CENTS}
    offer = eventually(lambda: (answer := client.call("POST", "/api/v1/offers", provider_token, json=body))
                       .status_code == 201 and answer.json())
    starts = datetime.now(UTC) + LEAD
    session = client.call("POST", f"/api/v1/offers/{offer['id']}/sessions", provider_token, json={
        "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "seats": {"online": 5}, "link": "https://meet.example.org/vca"})
    assert session.status_code == 201, session.text
    assert client.call("POST", f"/api/v1/offers/{offer['id']}/submit", provider_token).status_code == 200
    reviewed = client.call("POST", f"/api/v1/offers/{offer['id']}/reviews", client.reviewer(), json=APPROVAL)
    assert reviewed.status_code == 201, reviewed.text
    booking = client.book(learner_token, session.json()["id"])
    assert datetime.now(UTC) < starts, "the session began before it was booked; LEAD is too short for this machine"
    time.sleep(max(0.0, (starts - datetime.now(UTC)).total_seconds()) + 0.5)
    attended = client.call("POST", f"/api/v1/sessions/{session.json()['id']}/attendance", provider_token,
                           json={"booking_ids": [booking["id"]]})
    assert attended.status_code == 200, attended.text
    return session.json()["id"]


@pytest.fixture(scope="module")
def money(browser, academy):
    """A provider with released earnings from a session a learner booked and attended."""
    client = Academy(academy.url, academy.keys_dir)
    provider_email = signed_up(browser, academy, "Paula Provider")
    provider_token = token_of(client, provider_email)
    _, learner_token = client.member("lars")
    held_session(client, provider_token, learner_token)
    # Billing invoices the booking and releases the provider's share through events, after the answers.
    credits = eventually(lambda: (answer := client.call("GET", "/api/v1/credits", provider_token).json())
                         ["available_earnings_cents"] > 0 and answer)
    return {"client": client, "provider_email": provider_email,
            "earnings_cents": credits["available_earnings_cents"], "bonus_percent": credits["bonus_percent"]}


def sign_in_as(page: Page, email: str) -> None:
    page.goto("/#/login")
    sign_in(page, email)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_partner_opens_the_revenue_report_and_runs_a_what_if(page, academy, money):
    client = money["client"]
    # A member without the role sees no report link.
    email = register(page, "Petra Partner")
    expect(page.locator("#nav").get_by_role("link", name="Credits")).to_be_visible()
    expect(page.locator("#nav").get_by_role("link", name="Revenue")).to_have_count(0)
    grant(academy, email, "partner")
    # Access tokens carry the roles of their sign-in; the grant ended the sessions, a new sign-in has the role.
    page.get_by_role("button", name="Sign out").click()
    sign_in_as(page, email)
    token = token_of(client, email)

    page.locator("#nav").get_by_role("link", name="Revenue").click()
    expect(page.get_by_role("heading", name="Revenue report", level=1)).to_be_visible()
    this_month = datetime.now(UTC).strftime("%Y-%m")
    row = page.get_by_role("row", name=re.compile(this_month))
    expect(row).to_be_visible()
    start = f"{datetime.now(UTC).year}-01-01T00:00:00Z"
    end = (datetime.now(UTC).date() + timedelta(days=1)).isoformat() + "T00:00:00Z"
    report = client.call("GET", "/api/v1/reports/revenue", token,
                         params={"from": start, "to": end, "group_by": "month"}).json()
    assert report["total"]["gross_cents"] >= PRICE_CENTS
    figures = [euros(report["total"][name]) for name in ("gross_cents", "refunds_cents", "vat_cents",
                                                           "net_revenue_cents", "provider_cents", "academy_cents",
                                                           "community_fund_cents")]
    expect(page.locator("tfoot tr")).to_have_text(re.compile(".*".join(re.escape(cell) for cell in figures)))
    chart = page.get_by_role("img", name=re.compile("^Bar chart: net revenue per Month"))
    expect(chart).to_be_visible()
    assert page.evaluate("(image) => image.naturalWidth", chart.element_handle()) > 0
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as CSV").click()
    csv = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert csv.splitlines()[0].startswith("group;gross_cents") and f"{this_month};" in csv
    assert_accessible(page, "revenue-report")

    # A period that ends before it starts is refused by the API, in words, above the form.
    page.get_by_label("Until").fill(f"{datetime.now(UTC).year - 1}-06-30")
    page.get_by_role("button", name="Show report").click()
    expect(page.get_by_role("alert")).to_contain_text("starts before it ends")

    page.get_by_role("link", name="What if").click()
    expect(page.get_by_role("heading", name="What if", level=1)).to_be_visible()
    # Shares that do not add up to 100 are refused at the shares.
    page.get_by_label("Providers (%)").fill("60")
    page.get_by_label("Academy (%)").fill("30")
    page.get_by_label("Community fund (%)").fill("20")
    page.get_by_role("button", name="Calculate").click()
    expect(page.locator("#shares-error")).to_have_text("the shares must add up to 100 percent")
    page.get_by_label("Providers (%)").fill("50")
    page.get_by_role("button", name="Calculate").click()
    expect(page.get_by_role("heading", name="Actual and simulated")).to_be_visible()
    expected = client.call("POST", "/api/v1/reports/simulate", token, json={
        "policy": {"provider_percent": 50, "academy_percent": 30, "community_fund_percent": 20},
        "from": start, "to": end, "group_by": "month"}).json()
    for party, name in (("provider", "Providers"), ("academy", "Academy"), ("community_fund", "Community fund")):
        actual = expected["actual"]["total"][f"{party}_cents"]
        simulated, difference = expected["simulated"]["total"][f"{party}_cents"], expected["difference"][party]
        assert difference == simulated - actual
        cells = page.get_by_role("row", name=re.compile(f"^{name}")).get_by_role("cell")
        sign = "+" if difference > 0 else ""
        expect(cells).to_have_text([euros(actual), euros(simulated), sign + euros(difference)])
    assert expected["difference"]["provider"] != 0
    assert_accessible(page, "what-if")

    page.get_by_role("link", name="Revenue-share policy").click()
    expect(page.get_by_role("heading", name="Revenue-share policy", level=1)).to_be_visible()
    expect(page.get_by_text("in force")).to_be_visible()
    assert_accessible(page, "revenue-policies")

    # In German: the report with its chart, and a refusal of the what-if in words at its field.
    page.get_by_role("button", name="Auf Deutsch anzeigen").click()
    page.get_by_role("link", name="Umsatzbericht").click()
    expect(page.get_by_role("heading", name="Umsatzbericht", level=1)).to_be_visible()
    expect(page.get_by_role("columnheader", name="Nettoumsatz")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Balkendiagramm: Nettoumsatz je Monat"))).to_be_visible()
    assert_accessible(page, "revenue-report-de")
    page.get_by_role("link", name="Was wäre, wenn").click()
    page.get_by_label("Akademie (%)").fill("150")
    page.get_by_role("button", name="Berechnen").click()
    expect(page.locator(".field", has=page.get_by_label("Akademie (%)")).locator(".field-error")).to_have_text(
        "Muss zwischen 0 und 100 liegen.")
    assert_accessible(page, "what-if-de")


def test_a_provider_converts_released_earnings_into_credits_and_pays_an_invoice_with_them(page, money):
    client, earnings = money["client"], money["earnings_cents"]
    sign_in_as(page, money["provider_email"])
    provider_token = token_of(client, money["provider_email"])
    # No partner role: no report link; the credits are for every member.
    expect(page.get_by_role("link", name="Revenue")).to_have_count(0)
    page.locator("#nav").get_by_role("link", name="Credits").click()
    expect(page.get_by_role("heading", name="My credits", level=1)).to_be_visible()
    page.get_by_role("link", name="My payouts").click()
    expect(page.get_by_role("heading", name="My payouts", level=1)).to_be_visible()
    expect(page.locator("#available-earnings")).to_have_text(euros(earnings))
    # Statements are made for months past; this month's earnings wait for the next one.
    expect(page.get_by_text("No payout statements yet.")).to_be_visible()
    assert_accessible(page, "payouts")

    # More than is released is refused at the field, in words.
    amount = page.get_by_label("Earnings to convert")
    expect(amount).to_have_value(f"{earnings / 100:.2f}")
    amount.fill(f"{(earnings + 100) / 100:.2f}")
    page.get_by_role("button", name="Convert into credits").click()
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field", has=amount).locator(".field-error")).to_have_text(
        f"at most {earnings} cents are available")

    amount.fill(f"{earnings / 100:.2f}")
    page.get_by_role("button", name="Convert into credits").click()
    bonus = (earnings * money["bonus_percent"] + 50) // 100
    notice = page.get_by_role("status").filter(has_text="converted")
    expect(notice).to_contain_text(f"{euros(earnings)} converted, plus a bonus of")
    expect(page.locator("#available-earnings")).to_have_text(euros(0))
    expect(page.get_by_text("You have no released earnings to convert right now.")).to_be_visible()
    credits = client.call("GET", "/api/v1/credits", provider_token).json()
    assert credits["available_earnings_cents"] == 0 and credits["balance_cents"] >= earnings
    assert abs(credits["balance_cents"] - earnings - bonus) <= 1
    page.get_by_role("link", name=euros(credits["balance_cents"])).click()
    expect(page.locator("#credits-balance")).to_have_text(euros(credits["balance_cents"]))
    expect(page.get_by_role("row", name=re.compile("Earnings converted"))).to_contain_text(euros(earnings))
    assert_accessible(page, "credits")

    # The provider books someone else's seminar and pays part of its invoice with the credits.
    _, other_token = client.member("otto")
    _, session_id = client.published_offer(other_token, title=f"Paid with credits {uuid.uuid4().hex[:6]}")
    eventually(lambda: client.call("GET", f"/api/v1/sessions/{session_id}/participants", other_token)
               .status_code == 200)
    booking = client.book(provider_token, session_id)
    invoice = eventually(lambda: client.invoices(provider_token))[0]
    page.locator("#nav").get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("row", name=re.compile(re.escape(invoice["number"])))).to_contain_text("Open")
    page.get_by_role("link", name=invoice["number"]).click()
    expect(page.locator("#invoice-status")).to_have_text("Open")
    expect(page.get_by_text("No payments yet.")).to_be_visible()
    pay = page.get_by_label("Amount to pay with credits")
    paid = min(credits["balance_cents"], invoice["open_cents"])
    expect(pay).to_have_value(f"{paid / 100:.2f}")
    assert_accessible(page, "invoice-pay-with-credits")
    page.get_by_role("button", name="Pay with credits").click()
    expect(page.get_by_role("status").filter(has_text="paid with credits")).to_have_text(
        f"{euros(paid)} paid with credits.")
    expect(page.get_by_role("row", name=re.compile("Academy credits"))).to_contain_text(euros(paid))
    after = client.call("GET", f"/api/v1/invoices/{invoice['id']}", provider_token).json()
    assert after["open_cents"] == invoice["open_cents"] - paid
    expect(page.locator("#invoice-status")).to_have_text("Paid" if after["open_cents"] == 0 else "Open")
    with page.expect_download() as download:
        page.get_by_role("button", name="Invoice as PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    # Cancelled, the booking gets a credit note; what was paid beyond what remains due goes back as credits.
    cancelled = client.call("POST", f"/api/v1/bookings/{booking['id']}/cancel", provider_token)
    assert cancelled.status_code == 200, cancelled.text
    reload_until(page, page.get_by_role("button", name="Credit note as PDF"))
    credited = client.call("GET", f"/api/v1/invoices/{invoice['id']}", provider_token).json()
    overpaid = paid - credited["credit_note"]["fee_cents"]
    assert overpaid > 0, credited
    refunds = [payment for payment in credited["payments"] if payment["method"] == "credits_refund"]
    assert [abs(refund["amount_cents"]) for refund in refunds] == [overpaid]
    expect(page.get_by_role("row", name=re.compile("Refund in credits"))).to_contain_text(
        euros(-overpaid))
    expect(page.locator("#invoice-status")).to_have_text(credited["status"].title())
    expect(page.get_by_text("Cancelled by you")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Credit note as PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    assert_accessible(page, "invoice-credit-note")
