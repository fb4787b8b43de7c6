"""Plain steps that take a catalog offer through its life cycle in tests: the framework known, a review passed."""

from __future__ import annotations

from services.catalog import SERVICE
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.events.declarations import FrameworkEntry, FrameworkPublished
from shared.testing import bearer, delivery, sample

REVIEWER_ID = "reviewer-of-tests"
REVIEWER = bearer(REVIEWER_ID, "member", "reviewer")
APPROVAL = {"decision": "approve", "comment": "Well prepared.",
            "checklist": {"competences_justified": True, "level_plausible": True, "format_and_dates_complete": True}}
# Codes as in assessment's framework 2026.1.
AREAS = {"STR": "Strategy and cluster development", "INT": "Internationalisation", "GOV": "Governance and funding"}
COMPETENCES = {"STR-1": "STR", "STR-2": "STR", "INT-1": "INT", "INT-2": "INT", "GOV-3": "GOV"}


def know_framework(runtime) -> None:
    """Hand the catalog a framework.published, as assessment announces it, so competence codes are known."""
    event = sample(
        FrameworkPublished,
        areas=[FrameworkEntry(code=code, name_de=name, name_en=name) for code, name in AREAS.items()],
        competences=[FrameworkEntry(code=code, name_de=code, name_en=code, area=area)
                     for code, area in COMPETENCES.items()],
    )
    consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime.session_factory)
    settled = consumer.handle_batch([delivery(event)])
    assert [settlement.outcome for settlement in settled] == [Outcome.ACK], settled


def approve(client, offer_id: str, reviewer: dict[str, str] = REVIEWER) -> dict:
    answer = client.post(f"/api/v1/offers/{offer_id}/reviews", json=APPROVAL, headers=reviewer)
    assert answer.status_code == 201, answer.json
    return answer.json


def publish(client, provider: dict[str, str], offer_id: str) -> dict:
    """Submit the provider's offer and have it approved; answers the published offer as its provider sees it."""
    submitted = client.post(f"/api/v1/offers/{offer_id}/submit", headers=provider)
    assert submitted.status_code == 200, submitted.json
    approve(client, offer_id)
    published = client.get(f"/api/v1/offers/{offer_id}", headers=provider)
    assert published.json["status"] == "published", published.json
    return published.json
