"""A member's self-assessment through the API: start, rate, complete, result, recommendations, reassessment,
export and deletion; bad input and other members' assessments."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from services import assessment
from services.assessment.commands import announce_learning_gains
from services.assessment.domain import Framework, load_framework_file
from services.assessment.models import MemberRecord, Rating
from shared.bus import Outcome
from shared.events.declarations import (
    AttendanceRecorded,
    Attendee,
    AvailabilityChanged,
    LearningGainRecorded,
    MemberDeleted,
    MemberUpdated,
    OfferPublishedV2,
    OfferWithdrawn,
    SeatsLeft,
    SessionScheduled,
)
from shared.events.envelope import parse_event
from shared.tables import outbox
from shared.testing import OFFER, bearer, delivery, sample

SERVICE = assessment.SERVICE  # the service under test, for the fixtures in conftest.py
CODES = list(Framework(load_framework_file("2026.1")).competences)
ADA = "member-ada"


def handled(consumer, *events) -> None:
    assert [s.outcome for s in consumer.handle_batch([delivery(e) for e in events])] == [Outcome.ACK] * len(events)


def start(client, member=ADA, path="international_manager"):
    response = client.post("/api/v1/assessments", json={"career_path": path}, headers=bearer(member))
    assert response.status_code == 201, response.json
    return response.json["id"]


def rate_all(client, assessment_id, member=ADA, level=2, importance=3, **levels):
    ratings = [{"competence": code, "current_level": levels.get(code.replace("-", "_"), level),
                "future_importance": importance} for code in CODES]
    response = client.patch(f"/api/v1/assessments/{assessment_id}", json={"ratings": ratings},
                            headers=bearer(member))
    assert response.status_code == 200, response.json


def completed(client, member=ADA, path="international_manager", **levels):
    assessment_id = start(client, member, path)
    rate_all(client, assessment_id, member, **levels)
    response = client.post(f"/api/v1/assessments/{assessment_id}/complete", headers=bearer(member))
    assert response.status_code == 200, response.json
    return assessment_id


def test_a_draft_shows_the_level_descriptions_saves_partway_and_completes_once(client):
    assessment_id = start(client)

    draft = client.get(f"/api/v1/assessments/{assessment_id}?lang=de", headers=bearer(ADA)).json
    partner_search = next(c for c in draft["competences"] if c["code"] == "INT-1")
    assert (partner_search["name"], partner_search["target_level"]) == ("Internationale Partnersuche", 5)
    assert [level["level"] for level in partner_search["levels"]] == [1, 2, 3, 4, 5]
    assert draft["status"] == "draft" and draft["framework_version"] == "2026.1"

    partly = client.patch(f"/api/v1/assessments/{assessment_id}", headers=bearer(ADA), json={"ratings": [
        {"competence": "INT-1", "current_level": 1, "future_importance": 5, "confidence": 4,
         "evidence": "One partner search for a Horizon project"}]})
    assert partly.status_code == 200
    too_early = client.post(f"/api/v1/assessments/{assessment_id}/complete", headers=bearer(ADA))
    assert too_early.status_code == 422 and "ratings" in too_early.json["errors"]

    rate_all(client, assessment_id, INT_1=1)
    assert client.post(f"/api/v1/assessments/{assessment_id}/complete", headers=bearer(ADA)).status_code == 200
    again = client.post(f"/api/v1/assessments/{assessment_id}/complete", headers=bearer(ADA))
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    late_change = client.patch(f"/api/v1/assessments/{assessment_id}", headers=bearer(ADA),
                               json={"ratings": [{"competence": "INT-1", "current_level": 3}]})
    assert late_change.status_code == 409


@pytest.mark.parametrize(("body", "field"), [
    ({"ratings": [{"competence": "INT-1", "current_level": 6}]}, "ratings"),
    ({"ratings": [{"competence": "INT-1", "current_level": -1}]}, "ratings"),
    ({"ratings": [{"competence": "INT-1", "future_importance": 0}]}, "ratings"),
    ({"ratings": [{"competence": "INT-1", "current_level": "3"}]}, "ratings"),
    ({"ratings": [{"competence": "INT-99", "current_level": 3}]}, "ratings"),
    ({"ratings": [{"competence": "INT-1", "current_level": 3, "level": 3}]}, "ratings"),
    ({"ratings": []}, "ratings"),
    ({"notes": "x"}, "notes"),
])
def test_bad_ratings_are_a_422_naming_the_field(client, body, field):
    assessment_id = start(client)

    response = client.patch(f"/api/v1/assessments/{assessment_id}", json=body, headers=bearer(ADA))

    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_an_unknown_career_path_is_a_422_naming_it(client):
    response = client.post("/api/v1/assessments", json={"career_path": "astronaut"}, headers=bearer(ADA))

    assert response.status_code == 422 and "career_path" in response.json["errors"]


def test_another_members_assessment_is_not_found_anywhere(client):
    assessment_id = completed(client)
    other = bearer("member-bob")

    for path in ("", "/result", "/recommendations", "/profile.svg"):
        assert client.get(f"/api/v1/assessments/{assessment_id}{path}", headers=other).status_code == 404
    assert client.patch(f"/api/v1/assessments/{assessment_id}", headers=other,
                        json={"ratings": [{"competence": "INT-1", "current_level": 3}]}).status_code == 404
    assert client.post(f"/api/v1/assessments/{assessment_id}/complete", headers=other).status_code == 404
    assert client.get("/api/v1/assessments", headers=other).json["items"] == []
    assert client.get(f"/api/v1/assessments/{assessment_id}").status_code == 401


def test_the_result_ranks_weighted_gaps_per_competence_and_area_with_the_change_since_last_time(client):
    first = completed(client, INT_1=1)
    second = completed(client, INT_1=3)

    result = client.get(f"/api/v1/assessments/{second}/result", headers=bearer(ADA)).json

    assert result["previous_assessment_id"] == first
    top = result["needs"][0]
    assert (top["rank"], top["area"], top["gap"]) == (1, "INT", 3)  # target 5, level 2, weighted 1.5
    partner_search = next(n for n in result["needs"] if n["competence"] == "INT-1")
    assert (partner_search["gap"], partner_search["change_since_previous"]) == (2, 2)
    assert result["areas"][0]["area"] == "INT"
    history = client.get("/api/v1/assessments", headers=bearer(ADA)).json["items"]
    assert [item["id"] for item in history] == [second, first]
    assert history[0]["change_since_previous"] == round(2 / len(CODES), 2)


def test_the_profile_is_a_radar_chart_of_every_area(client):
    assessment_id = completed(client)

    response = client.get(f"/api/v1/assessments/{assessment_id}/profile.svg?lang=de", headers=bearer(ADA))

    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and svg.count('class="current"') == 1 and svg.count('class="target"') == 1
    assert "Internationalisierung und interkulturelle Zusammenarbeit" in svg


def test_the_profile_also_comes_as_a_png_for_the_member_only(client):
    assessment_id = completed(client, INT_1=1)

    response = client.get(f"/api/v1/assessments/{assessment_id}/profile.png?lang=en", headers=bearer(ADA))

    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.get_data())).convert("RGB")
    assert image.size == (800, 700)
    colours = {colour: count for count, colour in image.getcolors(1 << 20)}
    # Both polygons are drawn: the target's blue and the current level's orange (blended where they overlap).
    assert colours.get((31, 119, 180), 0) > 500 and colours.get((255, 127, 14), 0) > 500
    elsewhere = client.get(f"/api/v1/assessments/{assessment_id}/profile.png", headers=bearer("member-eve"))
    assert elsewhere.status_code == 404


def publish_offer(consumer, offer_id, *, competences=("INT-1",), level=4, free=3, days=20, fmt="online"):
    starts_at = datetime.now(UTC) + timedelta(days=days)
    snapshot = replace(OFFER, title=f"Offer {offer_id}", competences=list(competences), level=level, format=fmt,
                       languages=["en"])
    handled(consumer, sample(OfferPublishedV2, offer_id=offer_id, offer=snapshot),
            sample(SessionScheduled, session_id=f"{offer_id}-s", offer_id=offer_id, starts_at=starts_at,
                   ends_at=starts_at + timedelta(hours=3), seats={"online": 10, "in_person": 0}),
            sample(AvailabilityChanged, session_id=f"{offer_id}-s", offer_id=offer_id,
                   changed_at=datetime.now(UTC), formats=[SeatsLeft(format="online", capacity=10, free=free,
                                                                    waiting=0)]))


def test_recommendations_close_the_largest_gaps_with_a_reason_and_skip_full_past_and_withdrawn(client, consumer):
    handled(consumer, sample(MemberUpdated, member_id=ADA, languages=["en"], preferred_formats=["online"]))
    publish_offer(consumer, "partners", competences=["INT-1", "STR-1"], level=4)
    publish_offer(consumer, "full", free=0)
    publish_offer(consumer, "past", days=-2)
    publish_offer(consumer, "withdrawn")
    publish_offer(consumer, "abroad", fmt="in_person")
    handled(consumer, sample(OfferWithdrawn, offer_id="withdrawn", withdrawn_at=datetime.now(UTC)))
    assessment_id = completed(client, INT_1=2)

    found = client.get(f"/api/v1/assessments/{assessment_id}/recommendations", headers=bearer(ADA)).json["items"]

    assert [item["offer_id"] for item in found] == ["partners"]
    assert found[0]["reasons"][0] == "closes your gap in International partner search by 2 levels (you: 2, target: 5)"
    assert found[0]["sessions"][0]["free_seats"] == {"online": 3}


def test_attendees_reassess_and_the_learning_gain_is_published_only_from_five_answers(client, consumer, runtime):
    publish_offer(consumer, "partners", competences=["INT-1"], level=4)
    attendees = [f"member-{n}" for n in range(5)]
    for member in attendees:
        completed(client, member, INT_1=1)
    handled(consumer, sample(AttendanceRecorded, session_id="partners-s", offer_id="partners", attendees=[
        Attendee(booking_id=f"b-{m}", member_id=m, certificate_id=f"c-{m}") for m in attendees]))
    handled(consumer, sample(AttendanceRecorded, session_id="partners-s", offer_id="partners", attendees=[
        Attendee(booking_id=f"b-{m}", member_id=m, certificate_id=f"c-{m}") for m in attendees]))

    with runtime.session_factory() as db:
        invited = [parse_event(body).data for body in db.scalars(
            select(outbox.c.body).where(outbox.c.routing_key == "reassessment.invited")).all()]
    assert sorted(invitation.member_id for invitation in invited) == attendees, "one invitation each, not two"
    assert {(sent.offer_id, tuple(sent.competences)) for sent in invited} == {("partners", ("INT-1",))}

    for count, member in enumerate(attendees, 1):
        [invitation] = client.get("/api/v1/assessments/reassessments", headers=bearer(member)).json["items"]
        assert invitation["id"] == next(sent.reassessment_id for sent in invited if sent.member_id == member)
        assert invitation["before"] == {"INT-1": 1}
        wrong = client.post(f"/api/v1/assessments/reassessments/{invitation['id']}", headers=bearer(member),
                            json={"levels": {"STR-1": 3}})
        assert wrong.status_code == 422 and "levels" in wrong.json["errors"]
        assert client.post(f"/api/v1/assessments/reassessments/{invitation['id']}", headers=bearer("someone"),
                           json={"levels": {"INT-1": 3}}).status_code == 404
        answer = client.post(f"/api/v1/assessments/reassessments/{invitation['id']}", headers=bearer(member),
                             json={"levels": {"INT-1": 3}})
        assert answer.status_code == 200
        published = announce_learning_gains(runtime.session_factory)
        assert published == (1 if count == 5 else 0)

    with runtime.session_factory() as db:
        [body] = db.scalars(select(outbox.c.body).where(outbox.c.routing_key == "learning_gain.recorded")).all()
    event = parse_event(body).data
    assert isinstance(event, LearningGainRecorded)
    assert (event.respondents, [(g.competence, g.before_sum, g.after_sum) for g in event.competences]) == (
        5, [("INT-1", 5, 15)])
    assert ADA not in body and "member-0" not in body


def test_a_member_exports_and_deletes_their_data_and_member_deleted_does_it_too(client, consumer, runtime):
    assessment_id = completed(client)
    completed(client, "member-bob")

    exported = client.get("/api/v1/assessments/export", headers=bearer(ADA)).json
    assert [a["id"] for a in exported["assessments"]] == [assessment_id]
    assert len(exported["assessments"][0]["ratings"]) == len(CODES)

    assert client.delete("/api/v1/assessments", headers=bearer(ADA)).json == {"deleted_assessments": 1}
    assert client.get(f"/api/v1/assessments/{assessment_id}", headers=bearer(ADA)).status_code == 404
    handled(consumer, sample(MemberDeleted, member_id="member-bob"))

    with runtime.session_factory() as db:
        assert db.scalars(select(Rating)).all() == []
    assert client.get("/api/v1/assessments", headers=bearer("member-bob")).json["items"] == []


def test_a_team_view_needs_five_opted_in_colleagues_unless_everyone_opted_in(client, consumer):
    team = [f"colleague-{n}" for n in range(6)]
    handled(consumer, *(sample(MemberUpdated, member_id=m, organisation="Cluster Mobility BW") for m in team))
    for member in team:
        completed(client, member, path="cluster_manager", INT_1=4)

    def view(member):
        return client.get("/api/v1/assessments/team?career_path=cluster_manager", headers=bearer(member))

    assert view(team[0]).status_code == 409  # not opted in
    for member in team[:4]:
        assert client.put("/api/v1/assessments/team-consent", json={"opt_in": True},
                          headers=bearer(member)).status_code == 200
    four = view(team[0]).json
    assert (four["members"], four["shown"], four["areas"]) == (4, False, [])

    client.put("/api/v1/assessments/team-consent", json={"opt_in": True}, headers=bearer(team[4]))
    five = view(team[0]).json
    assert (five["members"], five["shown"]) == (5, True)
    international = next(area for area in five["areas"] if area["area"] == "INT")
    assert (international["mean_level"], international["mean_target"], international["share_at_target"]) == (
        2.33, 3.0, 0.167)  # INT-1 at 4, the other five at 2, every target 3
    assert view(team[5]).status_code == 409
    assert view(team[0]).status_code == 200
    assert client.get("/api/v1/assessments/team?career_path=astronaut",
                      headers=bearer(team[0])).json["errors"].keys() == {"career_path"}


def test_a_small_team_sees_its_view_when_every_member_opted_in(client, consumer):
    team = ["small-0", "small-1"]
    handled(consumer, *(sample(MemberUpdated, member_id=m, organisation="Tiny Cluster") for m in team))
    for member in team:
        completed(client, member, path="cluster_manager")
        client.put("/api/v1/assessments/team-consent", json={"opt_in": True}, headers=bearer(member))

    answer = client.get("/api/v1/assessments/team?career_path=cluster_manager", headers=bearer(team[0])).json

    assert (answer["members"], answer["shown"], len(answer["areas"])) == (2, True, 8)


def test_a_profile_update_arriving_after_the_deletion_brings_nothing_back(client, consumer, runtime):
    deleted_at = datetime.now(UTC)
    handled(consumer, sample(MemberUpdated, member_id="member-bob", organisation="Cluster Mobility BW",
                             region="DE-BW", updated_at=deleted_at - timedelta(minutes=5)))
    handled(consumer, sample(MemberDeleted, member_id="member-bob", deleted_at=deleted_at))
    # Overtaken on the bus: an update made before the deletion, and one stamped after it (a clock apart).
    handled(consumer, sample(MemberUpdated, member_id="member-bob", organisation="Cluster Mobility BW",
                             region="DE-BW", updated_at=deleted_at - timedelta(minutes=1)),
            sample(MemberUpdated, member_id="member-bob", organisation="Cluster Mobility BW",
                   region="DE-BW", updated_at=deleted_at + timedelta(seconds=1)))

    with runtime.session_factory() as db:
        record = db.get(MemberRecord, "member-bob")
    assert record is None or (record.organisation, record.region, record.languages) == (None, None, [])
