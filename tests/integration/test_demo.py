"""`academy run --demo` seeds, through the API, members who can sign in and two published offers; a second start
changes nothing."""

from __future__ import annotations

import os

import pytest
from werkzeug.test import Client

from academy.demo import DEMO_PASSWORD, LEARNER, OFFERS, PROVIDER, REVIEWER
from academy.embedded import academy_apps, close_runtimes, open_runtimes, prepare, use_embedded_environment


@pytest.fixture
def embedded_environment(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "AMQP_URL", "JWT_PRIVATE_KEY_FILE", "JWT_PUBLIC_KEY_FILE", "ACADEMY_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)
    use_embedded_environment(tmp_path)
    yield
    os.environ.clear()
    os.environ.update(before)


def test_the_demo_members_sign_in_and_its_offers_are_published_once(embedded_environment):
    prepare(demo=True)
    prepare(demo=True)

    runtimes = open_runtimes()
    try:
        client = Client(academy_apps(runtimes))
        for person in (PROVIDER, LEARNER, REVIEWER):
            signed_in = client.post("/api/v1/auth/token", json={"email": person["email"], "password": DEMO_PASSWORD})
            assert signed_in.status_code == 200, signed_in.get_data(as_text=True)
        offers = client.get("/api/v1/offers").json
        assert sorted(offer["title"] for offer in offers["items"]) == sorted(offer["title"] for offer in OFFERS)
    finally:
        close_runtimes(runtimes)
