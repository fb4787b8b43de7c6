"""From an offer published to its recommendation shown, through the gateway of `academy run`: a provider's offer
passes review, a member's self-assessment finds the gap it closes, and the recommendation says so in words."""

from __future__ import annotations

import pytest

from tests.system.processes import EmbeddedProcess
from tests.system.slice import COMPETENCE, Academy, eventually

pytestmark = pytest.mark.slow


def completed_assessment(academy: Academy, token: str, weak: str) -> str:
    """An international cluster manager's assessment: level 4 everywhere but `weak`, at 1."""
    framework = academy.call("GET", "/api/v1/competence-framework?lang=en")
    assert framework.status_code == 200, framework.text
    codes = [competence["code"] for area in framework.json()["areas"] for competence in area["competences"]]
    assert weak in codes
    started = academy.call("POST", "/api/v1/assessments", token, json={"career_path": "international_manager"})
    assert started.status_code == 201, started.text
    assessment_id = started.json()["id"]
    ratings = [{"competence": code, "current_level": 1 if code == weak else 4, "future_importance": 4}
               for code in codes]
    saved = academy.call("PATCH", f"/api/v1/assessments/{assessment_id}", token, json={"ratings": ratings})
    assert saved.status_code == 200, saved.text
    done = academy.call("POST", f"/api/v1/assessments/{assessment_id}/complete", token)
    assert done.status_code == 200, done.text
    return assessment_id


def test_a_reviewed_offer_is_recommended_for_the_gap_it_closes(tmp_path):
    academy_process = EmbeddedProcess(tmp_path / "data", tmp_path).start()
    try:
        academy = Academy(academy_process.url, academy_process.keys_dir)
        _, provider_token = academy.member("provider")
        offer_id, session_id = academy.published_offer(provider_token, title="Finding partner clusters abroad")
        _, token = academy.member("learner")
        profile = academy.call("PATCH", "/api/v1/members/me", token,
                               json={"languages": ["en"], "preferred_formats": ["online"]})
        assert profile.status_code == 200, profile.text
        assessment_id = completed_assessment(academy, token, COMPETENCE)

        def recommended():
            response = academy.call("GET", f"/api/v1/assessments/{assessment_id}/recommendations?lang=en", token)
            assert response.status_code == 200, response.text
            return [item for item in response.json()["items"] if item["offer_id"] == offer_id]

        [recommendation] = eventually(recommended, timeout=60)
    except AssertionError:
        print(academy_process.process.log())
        raise
    finally:
        academy_process.kill()

    assert recommendation["title"] == "Finding partner clusters abroad"
    assert [session["session_id"] for session in recommendation["sessions"]] == [session_id]
    assert recommendation["sessions"][0]["free_seats"]["online"] == 10
    assert any(closed["competence"] == COMPETENCE for closed in recommendation["closes"])
    assert recommendation["reasons"][0].startswith("closes your gap in "), recommendation["reasons"]
