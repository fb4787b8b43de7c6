"""Assessment's framework (loaded by migration, served in German and English, announced once per version) and
its read models of offers, sessions, seats and members."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from services import assessment
from services.assessment.commands import announce_framework
from services.assessment.domain import load_framework_file
from services.assessment.models import MemberRecord, OfferRecord, SessionRecord
from shared.bus import Outcome
from shared.events.declarations import (
    AvailabilityChanged,
    FrameworkPublished,
    MemberUpdated,
    OfferPublishedV2,
    OfferUpdated,
    OfferWithdrawn,
    SeatsLeft,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)
from shared.events.envelope import parse_event
from shared.tables import outbox
from shared.testing import OFFER, WHEN, delivery, sample

SERVICE = assessment.SERVICE  # the service under test, for the fixtures in conftest.py
ISSUE_AREAS = {"STR", "MEM", "NET", "GOV", "INN", "INT", "TRF", "QUA"}


def handled(consumer, *events) -> None:
    assert [s.outcome for s in consumer.handle_batch([delivery(e) for e in events])] == [Outcome.ACK] * len(events)


def test_the_framework_has_eight_areas_of_three_to_six_competences_with_five_levels_each(client):
    framework = client.get("/api/v1/competence-framework").json

    assert framework["version"] == "2026.1"
    assert {area["code"] for area in framework["areas"]} == ISSUE_AREAS
    codes = [c["code"] for area in framework["areas"] for c in area["competences"]]
    assert len(codes) == len(set(codes)) >= 30
    for area in framework["areas"]:
        assert 3 <= len(area["competences"]) <= 6
        assert area["name"] and area["description"] and area["weight"] > 0
        for competence in area["competences"]:
            assert competence["code"].startswith(area["code"] + "-")
            assert [level["level"] for level in competence["levels"]] == [1, 2, 3, 4, 5]
            assert all(level["description"] for level in competence["levels"])
    assert [(level["level"], bool(level["behaviour"] and level["autonomy"] and level["complexity"]))
            for level in framework["levels"]] == [(n, True) for n in range(1, 6)]


def test_international_cooperation_is_weighted_above_every_other_area(client):
    weights = {area["code"]: area["weight"] for area in client.get("/api/v1/competence-framework").json["areas"]}

    assert weights["INT"] > max(weight for code, weight in weights.items() if code != "INT")


def test_the_framework_speaks_german_and_english(client):
    german = client.get("/api/v1/competence-framework?lang=de").json
    english = client.get("/api/v1/competence-framework?lang=en").json

    partner_search = [(g, e) for g, e in zip(german["areas"][5]["competences"], english["areas"][5]["competences"],
                                             strict=True) if g["code"] == "INT-1"]
    assert [(g["name"], e["name"]) for g, e in partner_search] == [
        ("Internationale Partnersuche", "International partner search")]
    assert client.get("/api/v1/competence-framework?lang=fr").status_code == 422


def test_four_career_paths_set_a_target_level_for_every_competence(client):
    codes = {c["code"] for area in client.get("/api/v1/competence-framework").json["areas"]
             for c in area["competences"]}

    paths = client.get("/api/v1/career-paths?lang=de").json["items"]

    assert [p["code"] for p in paths] == ["junior_manager", "cluster_manager", "senior_manager",
                                          "international_manager"]
    for path in paths:
        assert path["name"] and path["description"]
        assert set(path["target_levels"]) == codes
        assert set(path["target_levels"].values()) <= {1, 2, 3, 4, 5}
    junior, international = paths[0]["target_levels"], paths[3]["target_levels"]
    assert all(junior[code] <= international[code] for code in codes)
    assert international["INT-1"] == 5


def test_the_migration_loads_the_framework_file_as_shipped(runtime, client):
    shipped = load_framework_file("2026.1")

    served = client.get("/api/v1/competence-framework").json

    assert [c["code"] for a in served["areas"] for c in a["competences"]] == [
        c["code"] for a in shipped["areas"] for c in a["competences"]]


def test_each_framework_version_is_announced_once_with_codes_in_both_languages(runtime):
    assert announce_framework(runtime.session_factory) == 1
    assert announce_framework(runtime.session_factory) == 0

    with runtime.session_factory() as db:
        bodies = db.execute(select(outbox.c.body).where(outbox.c.routing_key == "framework.published")).scalars()
        [event] = [parse_event(body) for body in bodies]
    assert isinstance(event.data, FrameworkPublished)
    assert event.data.framework_version == "2026.1"
    assert {entry.code for entry in event.data.areas} == ISSUE_AREAS
    partner_search = next(entry for entry in event.data.competences if entry.code == "INT-1")
    assert (partner_search.area, partner_search.name_de) == ("INT", "Internationale Partnersuche")
    assert {entry.code for entry in event.data.career_paths} >= {"junior_manager", "international_manager"}


def test_the_worker_announces_the_framework_as_a_scheduled_job():
    assert SERVICE.scheduled["framework"] is announce_framework


def test_offers_are_kept_from_v2_snapshots_and_updates_and_a_late_older_one_is_ignored(runtime, consumer):
    renamed = replace(OFFER, title="Partner search abroad", competences=["INT-1", "INT-2"], level=4)
    handled(consumer, sample(OfferPublishedV2, offer_id="offer-1"),
            sample(OfferUpdated, offer_id="offer-1", offer=renamed, updated_at=WHEN + timedelta(days=1)),
            sample(OfferUpdated, offer_id="offer-1", offer=OFFER, updated_at=WHEN + timedelta(hours=1)))

    with runtime.session_factory() as db:
        offer = db.get(OfferRecord, "offer-1")
    assert (offer.title, offer.competences, offer.level, offer.languages, offer.format) == (
        "Partner search abroad", ["INT-1", "INT-2"], 4, ["de", "en"], "hybrid")


def test_a_withdrawal_is_final_even_when_the_publication_arrives_after_it(runtime, consumer):
    handled(consumer, sample(OfferWithdrawn, offer_id="offer-2", withdrawn_at=WHEN + timedelta(days=1)),
            sample(OfferPublishedV2, offer_id="offer-2"))

    with runtime.session_factory() as db:
        offer = db.get(OfferRecord, "offer-2")
    assert offer.withdrawn_at == WHEN + timedelta(days=1)


def test_sessions_keep_their_times_cancellation_and_the_latest_free_seats(runtime, consumer):
    later = WHEN + timedelta(days=3)
    handled(consumer,
            sample(AvailabilityChanged, session_id="s-1", changed_at=later,
                   formats=[SeatsLeft(format="online", capacity=10, free=0, waiting=2)]),
            sample(SessionScheduled, session_id="s-1"),
            sample(AvailabilityChanged, session_id="s-1", changed_at=WHEN,
                   formats=[SeatsLeft(format="online", capacity=10, free=7, waiting=0)]),
            sample(SessionRescheduled, session_id="s-1", starts_at=WHEN + timedelta(days=50),
                   ends_at=WHEN + timedelta(days=50, hours=2)),
            sample(SessionCancelled, session_id="s-2"))

    with runtime.session_factory() as db:
        first, second = db.get(SessionRecord, "s-1"), db.get(SessionRecord, "s-2")
    assert (first.free_seats, first.starts_at, first.cancelled_at) == ({"online": 0}, WHEN + timedelta(days=50),
                                                                       None)
    assert second.cancelled_at == WHEN


def test_member_profiles_keep_the_latest(runtime, consumer):
    handled(consumer, sample(MemberUpdated, member_id="m-1", region="DE-BY", updated_at=WHEN + timedelta(days=1)),
            sample(MemberUpdated, member_id="m-1", region="DE-BW", updated_at=WHEN))

    with runtime.session_factory() as db:
        [member] = db.scalars(select(MemberRecord)).all()
    assert (member.region, member.languages, member.preferred_formats) == ("DE-BY", ["de", "en"], ["online"])


def test_the_framework_is_public_and_documented(client):
    spec = client.get("/api/v1/openapi.json").json

    assert {"/api/v1/competence-framework", "/api/v1/career-paths", "/api/v1/assessments",
            "/api/v1/assessments/{assessment_id}/result", "/api/v1/demand"} <= set(spec["paths"])
