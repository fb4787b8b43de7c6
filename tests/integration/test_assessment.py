"""Assessment skeleton: the competence framework and career paths, and its read model of offers."""

from __future__ import annotations

from sqlalchemy import select

from services import assessment
from services.assessment.models import OfferRecord
from shared.bus import Outcome
from shared.events.declarations import OfferPublished
from shared.testing import delivery, sample

SERVICE = assessment.SERVICE  # the service under test, for the fixtures in conftest.py


def offer_published(offer_id: str = "offer-1", **changes):
    fields = {"title": "Running an international cluster partnership",
              "competences": ["international-cooperation", "network-management"], **changes}
    return delivery(sample(OfferPublished, offer_id=offer_id, **fields))


def test_the_framework_lists_weighted_competence_areas(client):
    response = client.get("/api/v1/competence-framework")

    assert response.status_code == 200
    framework = response.json
    areas = {area["id"]: area for area in framework["areas"]}
    assert len(areas) >= 4
    assert all(area["name"] and area["description"] and area["weight"] > 0 for area in areas.values())
    international = areas["international-cooperation"]
    assert international["name"] == "International cooperation"
    others = [area["weight"] for key, area in areas.items() if key != "international-cooperation"]
    assert international["weight"] > max(others), "international cooperation is weighted up"
    assert [level["level"] for level in framework["levels"]] == [1, 2, 3, 4, 5]
    assert isinstance(framework["version"], int)


def test_career_paths_set_a_target_level_for_every_competence_area(client):
    area_ids = {area["id"] for area in client.get("/api/v1/competence-framework").json["areas"]}
    levels = {level["level"] for level in client.get("/api/v1/competence-framework").json["levels"]}

    response = client.get("/api/v1/career-paths")

    assert response.status_code == 200
    paths = response.json["items"]
    assert 2 <= len(paths) <= 3
    assert len({path["id"] for path in paths}) == len(paths)
    for path in paths:
        assert path["name"] and path["description"]
        assert set(path["target_levels"]) == area_ids
        assert set(path["target_levels"].values()) <= levels


def test_the_framework_is_public_and_documented(client):
    spec = client.get("/api/v1/openapi.json").json

    assert {"/api/v1/competence-framework", "/api/v1/career-paths"} <= set(spec["paths"])


def test_a_published_offer_enters_the_read_model(runtime, consumer):
    assert [s.outcome for s in consumer.handle_batch([offer_published()])] == [Outcome.ACK]

    with runtime.session_factory() as db:
        [offer] = db.scalars(select(OfferRecord)).all()
    assert offer.offer_id == "offer-1"
    assert offer.title == "Running an international cluster partnership"
    assert offer.competences == ["international-cooperation", "network-management"]
    assert (offer.level, offer.language, offer.format) == ("advanced", "en", "hybrid")


def test_a_republished_offer_replaces_what_was_known(runtime, consumer):
    consumer.handle_batch([offer_published()])

    renamed = offer_published(title="Cluster partnerships abroad", competences=["strategy"], level="basic")
    consumer.handle_batch([renamed])

    with runtime.session_factory() as db:
        [offer] = db.scalars(select(OfferRecord)).all()
    assert (offer.title, offer.competences, offer.level) == ("Cluster partnerships abroad", ["strategy"], "basic")
