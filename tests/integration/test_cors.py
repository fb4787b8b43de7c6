"""Cross-origin calls from the front ends named in ALLOWED_ORIGINS: preflights answered, answers marked, other
origins left without the headers a browser needs; the same through the embedded dispatcher, once per answer."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.test import Client

from academy.embedded import GatewayDispatcher
from services import catalog
from shared.config import InvalidSetting, Settings
from shared.cors import Cors
from shared.testing import make_runtime

SERVICE = catalog.SERVICE
APP_ORIGIN = "https://app.cluster.example"
PREFLIGHT = {"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "Authorization, Content-Type"}


@pytest.fixture
def client(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, ALLOWED_ORIGINS=f"{APP_ORIGIN}, http://localhost:5173")
    yield SERVICE.create_app(runtime).test_client()
    runtime.close()


def test_a_preflight_from_an_allowed_origin_is_answered_by_the_gateway(client):
    answer = client.options("/api/v1/bookings", headers=PREFLIGHT)

    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert {"POST", "PATCH"} <= set(answer.headers["Access-Control-Allow-Methods"].replace(" ", "").split(","))
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_answers_to_an_allowed_origin_are_marked_and_others_are_not(client):
    allowed = client.get("/api/v1/offers", headers={"Origin": APP_ORIGIN})
    refused = client.get("/api/v1/offers", headers={"Origin": "https://evil.example"})
    refused_preflight = client.options("/api/v1/offers", headers={**PREFLIGHT, "Origin": "https://evil.example"})

    assert allowed.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "Retry-After" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Origin" in allowed.headers.getlist("Vary") and "Origin" in refused.headers.getlist("Vary")
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Origin" not in refused_preflight.headers


def test_no_origin_is_allowed_by_default(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path)
    try:
        answer = SERVICE.create_app(runtime).test_client().options("/api/v1/offers", headers=PREFLIGHT)
    finally:
        runtime.close()
    assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize("origins", ["app.cluster.example", "ftp://app.example", "https://app.example/path", "*"])
def test_an_allowed_origin_must_be_an_origin(origins):
    with pytest.raises(InvalidSetting, match="ALLOWED_ORIGINS"):
        Settings.from_env("catalog", {"ALLOWED_ORIGINS": origins})


def test_the_embedded_dispatcher_marks_every_service_once():
    def service(name: str) -> Flask:
        app = Flask(name)
        app.add_url_rule("/<path:anything>", view_func=lambda anything: name)
        return app

    catalog_app = service("catalog")
    catalog_app.wsgi_app = Cors(catalog_app.wsgi_app, [APP_ORIGIN])  # as catalog's create_app wraps itself
    dispatcher = Cors(GatewayDispatcher({"catalog": catalog_app, "booking": service("booking")}), [APP_ORIGIN])

    for path, answered_by in (("/api/v1/bookings", "booking"), ("/api/v1/offers", "catalog")):
        answer = Client(dispatcher).get(path, headers={"Origin": APP_ORIGIN})
        assert answer.get_data(as_text=True) == answered_by
        assert answer.headers.getlist("Access-Control-Allow-Origin") == [APP_ORIGIN]
