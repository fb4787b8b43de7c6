"""Business values the catalog refuses: currencies outside ISO 4217 and the setting, far or endless sessions, links
that are more than a plain URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.catalog import SERVICE
from shared.config import InvalidSetting, Settings
from shared.testing import bearer, make_runtime
from tests.integration.offer_helpers import know_framework

PROVIDER = bearer("provider-values")
PROBLEM_JSON = "application/problem+json"


def offer_body(**overrides) -> dict:
    return {
        "title": "Cluster strategy in practice",
        "description": "How clusters set and keep a strategy.",
        "format": "online",
        "competences": ["STR-1"],
        "level": 3,
        "languages": ["en"],
        "price_cents": 9_900,
        **overrides,
    }


def session_body(starts_in: timedelta = timedelta(days=30), lasts: timedelta = timedelta(hours=3), **overrides):
    starts_at = datetime.now(UTC).replace(microsecond=0) + starts_in
    return {"starts_at": starts_at.isoformat(), "ends_at": (starts_at + lasts).isoformat(),
            "seats": {"online": 10}, **overrides}


def client_with(tmp_path, **env: str):
    runtime = make_runtime(SERVICE, tmp_path, **env)
    know_framework(runtime)
    return runtime, SERVICE.create_app(runtime).test_client()


@pytest.fixture
def client(tmp_path):
    runtime, client = client_with(tmp_path)
    yield client
    runtime.close()


@pytest.fixture
def draft(client) -> str:
    answer = client.post("/api/v1/offers", json=offer_body(), headers=PROVIDER)
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def assert_refused(answer, field: str) -> None:
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    assert field in answer.json["errors"], answer.json


# --- currencies -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("currency", ["ZZZ", "XXX", "XTS", "USD", "eur", "EURO"])
def test_only_the_allowed_currencies_are_accepted(client, draft, currency):
    assert_refused(client.post("/api/v1/offers", json=offer_body(currency=currency), headers=PROVIDER), "currency")
    assert_refused(client.patch(f"/api/v1/offers/{draft}", json={"currency": currency}, headers=PROVIDER),
                   "currency")


def test_euro_is_the_default(client):
    answer = client.post("/api/v1/offers", json=offer_body(), headers=PROVIDER)

    assert answer.status_code == 201
    assert answer.json["currency"] == "EUR"


def test_the_setting_names_the_allowed_currencies(tmp_path):
    runtime, client = client_with(tmp_path, ACADEMY_CURRENCIES="EUR,CHF")
    try:
        franc = client.post("/api/v1/offers", json=offer_body(currency="CHF"), headers=PROVIDER)
        dollar = client.post("/api/v1/offers", json=offer_body(currency="USD"), headers=PROVIDER)
    finally:
        runtime.close()

    assert franc.status_code == 201
    assert_refused(dollar, "currency")


@pytest.mark.parametrize("setting", ["EUR,ZZZ", "JPY", "eur", " , "])
def test_a_setting_outside_iso_4217_or_without_cents_stops_the_start(setting):
    with pytest.raises(InvalidSetting, match="ACADEMY_CURRENCIES"):
        Settings.from_env("catalog", {"ACADEMY_CURRENCIES": setting})


# --- sessions ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("starts_in", "lasts", "field"),
    [
        (timedelta(days=2 * 366 + 1), timedelta(hours=3), "starts_at"),
        (timedelta(days=365 * 7975), timedelta(hours=3), "starts_at"),
        (timedelta(days=30), timedelta(days=14, seconds=1), "ends_at"),
        (timedelta(days=30), timedelta(days=365 * 1000), "ends_at"),
    ],
)
def test_a_session_far_ahead_or_too_long_is_refused(client, draft, starts_in, lasts, field):
    answer = client.post(f"/api/v1/offers/{draft}/sessions", json=session_body(starts_in, lasts), headers=PROVIDER)

    assert_refused(answer, field)


@pytest.mark.parametrize(("starts_in", "lasts"), [(timedelta(days=700), timedelta(hours=3)),
                                                  (timedelta(days=30), timedelta(days=14))])
def test_a_session_within_the_limits_is_scheduled(client, draft, starts_in, lasts):
    answer = client.post(f"/api/v1/offers/{draft}/sessions", json=session_body(starts_in, lasts), headers=PROVIDER)

    assert answer.status_code == 201, answer.json


# --- links ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "link",
    [
        'https://meet.example/room"><script>alert(1)</script>',
        "https://meet.example/room'onmouseover='alert(1)",
        "https://meet.example/<b>room</b>",
        "https://meet.example/room`x`",
        "https://meet.example/room\tx",
        "javascript:alert(1)",
        "ftp://meet.example/room",
        "//meet.example/room",
        "https://meet.example/a\\b",
    ],
)
def test_a_link_with_markup_or_another_scheme_is_refused(client, draft, link):
    answer = client.post(f"/api/v1/offers/{draft}/sessions", json=session_body(link=link), headers=PROVIDER)

    assert_refused(answer, "link")


def test_a_plain_link_is_kept(client, draft):
    link = "https://meet.example/room/42?pwd=abc-DEF_1&lang=de#start"

    answer = client.post(f"/api/v1/offers/{draft}/sessions", json=session_body(link=link), headers=PROVIDER)

    assert answer.status_code == 201, answer.json
    assert answer.json["link"] == link


def test_an_offer_without_a_currency_gets_the_first_one_named(tmp_path):
    runtime, client = client_with(tmp_path, ACADEMY_CURRENCIES="CHF,EUR")
    try:
        answer = client.post("/api/v1/offers", json=offer_body(), headers=PROVIDER)
    finally:
        runtime.close()

    assert answer.status_code == 201, answer.json
    assert answer.json["currency"] == "CHF"
