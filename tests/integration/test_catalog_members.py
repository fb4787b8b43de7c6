"""Member profiles and the competence framework's read model in the catalog, on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services import catalog
from services.catalog import framework
from shared.bus import Outcome
from shared.events import parse_event
from shared.events.declarations import FrameworkEntry, FrameworkPublished
from shared.tables import outbox
from shared.testing import WHEN, delivery, sample
from tests.integration.member_helpers import register as confirmed_registration

SERVICE = catalog.SERVICE  # the service under test, for the fixtures in conftest.py
PASSWORD = "correct horse battery"
PROBLEM_JSON = "application/problem+json"
PATHS = [FrameworkEntry(code="junior_manager", name_de="Nachwuchs", name_en="Junior"),
         FrameworkEntry(code="senior_manager", name_de="Erfahren", name_en="Senior")]


def register(client, email: str = "ann@cluster.example", **extra):
    return confirmed_registration(client, email, PASSWORD, "Ann Muster", **extra)


def sign_in(client, email: str = "ann@cluster.example") -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['access_token']}"}


def outbox_events(runtime, routing_key: str):
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.routing_key, outbox.c.body).order_by(outbox.c.seq)).all()
    return [parse_event(row.body).data for row in rows if row.routing_key == routing_key]


def assert_problem(answer, status: int, field: str | None = None) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    if field:
        assert field in answer.json.get("errors", {}), answer.json


def publish_framework(consumer, **fields) -> None:
    settled = consumer.handle_batch([delivery(sample(FrameworkPublished, career_paths=PATHS, **fields))])
    assert [s.outcome for s in settled] == [Outcome.ACK]


@pytest.fixture
def ann(client) -> dict[str, str]:
    assert register(client).status_code == 200
    return sign_in(client)


# --- registration -----------------------------------------------------------------------------------------
def test_registration_takes_language_and_time_zone_and_announces_them(client, runtime):
    answer = register(client, preferred_language="de", time_zone="America/New_York")

    assert answer.status_code == 200, answer.json
    assert (answer.json["preferred_language"], answer.json["time_zone"]) == ("de", "America/New_York")
    [registered] = outbox_events(runtime, "member.registered")
    assert (registered.preferred_language, registered.time_zone) == ("de", "America/New_York")


def test_registration_defaults_to_english_in_berlin(client, runtime):
    assert register(client).status_code == 200

    [registered] = outbox_events(runtime, "member.registered")
    assert (registered.preferred_language, registered.time_zone) == ("en", "Europe/Berlin")


@pytest.mark.parametrize("field, value", [("preferred_language", "fr"), ("time_zone", "Mars/Olympus"),
                                          ("time_zone", "../../etc/passwd"), ("time_zone", "")])
def test_registration_refuses_unknown_languages_and_zones(client, field, value):
    assert_problem(register(client, **{field: value}), 422, field)


# --- profile ----------------------------------------------------------------------------------------------
def test_a_profile_change_publishes_the_whole_profile(client, runtime, consumer, ann):
    publish_framework(consumer)
    changes = {"display_name": "Ann M.", "organisation": "Cluster Mobility BW", "region": "DE-BW",
               "languages": ["de", "en", "fr"], "preferred_language": "de", "career_stage": "senior_manager",
               "preferred_formats": ["online", "hybrid"], "time_zone": "Europe/Vienna",
               "postal_address": ["Königstraße 1", "70173 Stuttgart"]}

    answer = client.patch("/api/v1/members/me", json=changes, headers=ann)

    assert answer.status_code == 200, answer.json
    assert {name: answer.json[name] for name in changes} == changes
    assert client.get("/api/v1/members/me", headers=ann).json["region"] == "DE-BW"
    [updated] = outbox_events(runtime, "member.updated")
    assert updated.email == "ann@cluster.example"
    assert {name: getattr(updated, name) for name in changes} == changes


def test_a_patch_changes_only_what_it_names_and_null_clears(client, runtime, ann):
    client.patch("/api/v1/members/me", json={"organisation": "Photonics NRW", "region": "AT"}, headers=ann)

    answer = client.patch("/api/v1/members/me", json={"organisation": None}, headers=ann)

    assert (answer.json["organisation"], answer.json["region"]) == (None, "AT")
    assert [event.organisation for event in outbox_events(runtime, "member.updated")] == ["Photonics NRW", None]


def test_a_patch_that_changes_nothing_publishes_nothing(client, runtime, ann):
    client.patch("/api/v1/members/me", json={"region": "DE-BY"}, headers=ann)
    client.patch("/api/v1/members/me", json={"region": "DE-BY"}, headers=ann)

    assert len(outbox_events(runtime, "member.updated")) == 1


@pytest.mark.parametrize("field, value", [
    ("region", "DE-XX"), ("region", "de-bw"), ("region", "FR-IDF"), ("region", "ZZ"), ("region", "DE-BW\n"),
    ("languages", ["xx"]), ("languages", ["de", "de"]), ("languages", ["DE"]),
    ("preferred_language", "fr"), ("preferred_formats", ["webinar"]), ("preferred_formats", ["online", "online"]),
    ("time_zone", "Berlin"), ("time_zone", "/usr/share/zoneinfo/UTC"), ("display_name", "   "),
    ("career_stage", "astronaut"), ("email", "mallory@cluster.example"), ("roles", ["operator"]),
    ("postal_address", []), ("postal_address", ["a"] * 6), ("postal_address", ["Street 1\n70173 Stuttgart"]),
    ("postal_address", ["   "]), ("postal_address", ["x" * 101]), ("postal_address", "Street 1"),
])
def test_bad_profile_values_are_a_422_naming_the_field(client, consumer, ann, field, value):
    publish_framework(consumer)

    assert_problem(client.patch("/api/v1/members/me", json={field: value}, headers=ann), 422, field)


def test_a_career_stage_needs_a_known_framework(client, ann):
    assert_problem(client.patch("/api/v1/members/me", json={"career_stage": "junior_manager"}, headers=ann),
                   422, "career_stage")


def test_a_profile_needs_a_token(client):
    assert_problem(client.patch("/api/v1/members/me", json={"region": "DE-BW"}), 401)


# --- the framework's read model ---------------------------------------------------------------------------
def competences(*pairs: tuple[str, str]) -> list[FrameworkEntry]:
    return [FrameworkEntry(code=code, name_de=code, name_en=code, area=area) for code, area in pairs]


def test_the_latest_framework_is_kept_whatever_the_order(runtime, consumer):
    newer = dict(framework_version="2026.2", published_at=WHEN + timedelta(days=30),
                 competences=competences(("INT.PARTNERS", "INT"), ("STR.VISION", "STR")))
    older = dict(framework_version="2026.1", published_at=WHEN, competences=competences(("OLD.ONE", "OLD")))
    publish_framework(consumer, **newer)
    publish_framework(consumer, **older)

    with runtime.session_factory() as db:
        assert framework.known_competences(db) == {"INT.PARTNERS", "STR.VISION"}
        assert framework.career_paths(db) == {"junior_manager", "senior_manager"}
        assert framework.areas_of(db, ["STR.VISION", "INT.PARTNERS", "NOPE"]) == ["INT", "STR"]
        assert framework.areas_of(db, []) == []


def test_a_later_framework_replaces_the_earlier_one(runtime, consumer):
    publish_framework(consumer, competences=competences(("OLD.ONE", "OLD")))
    publish_framework(consumer, framework_version="2027.1", published_at=WHEN + timedelta(days=365),
                      competences=competences(("NEW.ONE", "NEW")))

    with runtime.session_factory() as db:
        assert framework.known_competences(db) == {"NEW.ONE"}
        with pytest.raises(Exception, match="OLD.ONE"):
            framework.check_competences(db, ["NEW.ONE", "OLD.ONE"])
