"""Notify's message kinds: every declared event classified, every kind templated in German and English, user text
escaped in HTML, amounts and dates written per language."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.domain import CATEGORY_OF, KIND_OF_EVENT, NOT_FOR_A_PERSON, MessageKind
from services.notify.handlers import HANDLERS
from services.notify.rendering import LANGUAGES, format_money, format_when, render
from shared.events import REGISTRY

URL = "https://academy.example"
WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SESSION = {"offer_title": "Cluster strategy", "starts_at": WHEN, "location": "Stuttgart",
           "link_url": "https://meet.example/room"}
BOOKING = {**SESSION, "booking_id": "booking-1", "format": "online"}
# The variables each kind's template uses (the handlers give the same; StrictUndefined fails on a missing one).
FACTS: dict[MessageKind, dict] = {
    MessageKind.BOOKING_CONFIRMED: BOOKING,
    MessageKind.BOOKING_WAITLISTED: {**BOOKING, "position": 2},
    MessageKind.BOOKING_PROMOTED: BOOKING,
    MessageKind.BOOKING_CANCELLED: {**BOOKING, "previous_status": "confirmed", "reason": "member",
                                    "fee_cents": 6_000, "refund_cents": 6_000, "currency": "EUR"},
    MessageKind.SESSION_RESCHEDULED: {**SESSION, "ends_at": WHEN},
    MessageKind.SESSION_CANCELLED: {**SESSION, "reason": "Illness <of the trainer>"},
    MessageKind.CERTIFICATE_ISSUED: {**SESSION, "certificate_id": "certificate-1"},
    MessageKind.PASSWORD_RESET: {"reset_token": "reset-token-1", "expires_at": WHEN},
    MessageKind.REGISTRATION: {"verification_token": "verification-token-1", "expires_at": WHEN},
    MessageKind.REASSESSMENT_INVITED: {**SESSION, "reassessment_id": "reassessment-1", "competence_count": 3},
    MessageKind.INVOICE_ISSUED: {"number": "VCA-1", "total_cents": 123_450, "currency": "EUR",
                                 "booking_id": "booking-1", "invoice_id": "invoice-1", "offer_title": None},
    MessageKind.CREDIT_NOTE_ISSUED: {"number": "VCA-2", "invoice_number": "VCA-1", "invoice_id": "invoice-1",
                                     "booking_id": "booking-1", "total_cents": 6_000, "currency": "EUR"},
    MessageKind.PAYOUT_ISSUED: {"period": "2026-02", "amount_cents": 8_400, "credits_cents": 100,
                                "currency": "EUR"},
    MessageKind.OFFER_REVIEWED: {"title": "Cluster strategy", "decision": "request_changes",
                                 "comment": "More cases.", "offer_id": "offer-1"},
    MessageKind.COPROVIDER_INVITED: {"title": "Cluster strategy", "share_percent": 40, "offer_id": "offer-1",
                                     "inviter": "Anna"},
    MessageKind.TOPIC_REQUEST_ANSWERED: {"title": "EU funding", "offer_title": "Horizon", "offer_id": "offer-1"},
    MessageKind.GO_DECISION_MADE: {**SESSION, "offer_id": "offer-1", "outcome": "called_off", "confirmed": 2,
                                   "minimum": 3},
    MessageKind.VOTE_OPENED: {"title": "More for the <community> fund", "voting_closes_at": WHEN,
                              "proposal_id": "proposal-1"},
    MessageKind.VOTE_CLOSED: {"proposal_id": "proposal-1", "title": "More for the community fund", "accepted": False,
                              "quorum_reached": False, "yes": 3, "no": 1, "abstain": 0, "eligible": 80},
}


def test_every_declared_event_either_tells_a_person_or_says_why_not():
    unclassified = sorted(set(REGISTRY) - set(KIND_OF_EVENT) - set(NOT_FOR_A_PERSON))
    both = sorted(set(KIND_OF_EVENT) & set(NOT_FOR_A_PERSON))
    assert unclassified == [], "a new event: give it a message kind with templates, or say in NOT_FOR_A_PERSON why not"
    assert both == []
    assert set(KIND_OF_EVENT) <= set(REGISTRY), "a message kind for an event nobody declares"


def test_every_person_facing_event_has_a_handler_and_every_kind_a_category():
    handled = {payload.event_type.type for payload in HANDLERS}
    assert set(KIND_OF_EVENT) <= handled
    assert set(KIND_OF_EVENT.values()) == set(MessageKind) == set(CATEGORY_OF) == set(FACTS)


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_renders_in_german_and_english(kind):
    messages = {language: render(kind, language, "Europe/Berlin", {"name": "Ada", **FACTS[kind]}, URL)
                for language in LANGUAGES}

    for message in messages.values():
        assert message.subject and "\n" not in message.subject
        assert message.text.startswith(("Hello Ada,", "Guten Tag Ada,"))
        assert message.html.startswith("<!DOCTYPE html>") and "<p>" in message.html
        assert message.mail_text.startswith(message.text) and URL in message.mail_text
    assert messages["de"].subject != messages["en"].subject
    assert messages["de"].text.startswith("Guten Tag") and messages["en"].text.startswith("Hello")
    assert '<html lang="de">' in messages["de"].html


def test_user_text_is_escaped_in_html_and_kept_in_plain_text():
    title, comment = '<script>alert("x")</script>', '<img src=x onerror="steal()"> & more'
    message = render(MessageKind.OFFER_REVIEWED, "en", "Europe/Berlin",
                     {"name": "<b>Eve</b>", "title": title, "decision": "approve", "comment": comment,
                      "offer_id": '"><a href="evil'}, URL)

    assert "<script>" not in message.html and "<img" not in message.html and "<b>Eve" not in message.html
    assert "&lt;script&gt;" in message.html and "&lt;img src=x" in message.html and "&amp; more" in message.html
    assert title in message.text and comment in message.text and title in message.subject
    invitation = render(MessageKind.COPROVIDER_INVITED, "en", "Europe/Berlin",
                        {"name": "Eve", **FACTS[MessageKind.COPROVIDER_INVITED], "offer_id": '"><a href="evil'}, URL)
    assert 'href="https://academy.example/#/offers/&#34;&gt;&lt;a href=&#34;evil"' in invitation.html


def test_a_meeting_link_that_is_no_web_address_never_becomes_a_link():
    facts = {"name": "Ada", **FACTS[MessageKind.BOOKING_CONFIRMED], "link_url": "javascript:alert(1)"}

    message = render(MessageKind.BOOKING_CONFIRMED, "en", "UTC", facts, URL)

    assert "href=\"javascript" not in message.html and "javascript:alert(1)" in message.html
    assert '<a href="https://meet.example/room">' in render(
        MessageKind.BOOKING_CONFIRMED, "en", "UTC", {"name": "Ada", **FACTS[MessageKind.BOOKING_CONFIRMED]}, URL).html


def test_dates_are_in_the_members_time_zone_and_language():
    assert format_when(WHEN, "de", "Europe/Berlin") == "Montag, 2. März 2026, 10:00 Uhr MEZ"
    assert format_when(WHEN, "en", "Asia/Tokyo").startswith("Monday 2 March 2026, 18:00")
    assert format_when(WHEN, "en", "No/Such_Zone") == format_when(WHEN, "en", "Europe/Berlin")


def test_a_cancelled_session_gives_the_providers_reason_when_there_is_one():
    facts = {"name": "Ada", **FACTS[MessageKind.SESSION_CANCELLED]}

    german = render(MessageKind.SESSION_CANCELLED, "de", "UTC", facts, URL)
    assert "Begründung des Anbieters:\nIllness <of the trainer>" in german.text
    assert "Illness &lt;of the trainer&gt;" in german.html
    assert "reason" not in render(MessageKind.SESSION_CANCELLED, "en", "UTC", {**facts, "reason": ""}, URL).text


def test_a_payout_names_its_month_in_the_members_language():
    facts = {"name": "Ada", **FACTS[MessageKind.PAYOUT_ISSUED]}

    assert "Februar 2026" in render(MessageKind.PAYOUT_ISSUED, "de", "UTC", facts, URL).subject
    assert "February 2026" in render(MessageKind.PAYOUT_ISSUED, "en", "UTC", facts, URL).subject


def test_only_optional_kinds_offer_to_switch_their_mails_off():
    invoice = render(MessageKind.INVOICE_ISSUED, "en", "UTC", {"name": "Ada", **FACTS[MessageKind.INVOICE_ISSUED]}, URL)
    booking = render(MessageKind.BOOKING_CONFIRMED, "en", "UTC",
                     {"name": "Ada", **FACTS[MessageKind.BOOKING_CONFIRMED]}, URL)

    assert "#/profile" not in invoice.mail_text
    assert "#/profile" in booking.mail_text and "#/profile" in booking.html


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_amounts_read_back_as_the_cents_they_came_from(cents):
    english = format_money(cents, "EUR", "en")
    german = format_money(cents, "EUR", "de")

    assert Decimal(english.replace("€", "").replace(",", "")) * 100 == cents
    assert german.endswith("\u00a0€")
    assert Decimal(german.removesuffix("\u00a0€").replace(".", "").replace(",", ".")) * 100 == cents


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_registration_mail_says_whether_to_confirm_or_to_sign_in(language):
    """The registration's answer is the same for every address; only its owner learns which case it was."""
    confirm = render(MessageKind.REGISTRATION, language, "UTC", {"name": "Ada", **FACTS[MessageKind.REGISTRATION]}, URL)
    known = render(MessageKind.REGISTRATION, language, "UTC",
                   {"name": "Ada", "verification_token": None, "expires_at": None}, URL)
    assert f"{URL}/#/confirm-email?token=verification-token-1" in confirm.text
    assert "confirm-email" not in known.text and f"{URL}/#/login" in known.text
    assert f"{URL}/#/reset-password" in known.text and confirm.subject != known.subject


@pytest.mark.parametrize("kind", [MessageKind.VOTE_OPENED, MessageKind.VOTE_CLOSED])
def test_a_vote_message_links_to_its_proposal(kind):
    message = render(kind, "en", "UTC", {"name": "Ada", **FACTS[kind]}, URL)
    assert f"{URL}/#/proposals/proposal-1" in message.mail_text
