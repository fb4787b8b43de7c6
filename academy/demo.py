"""Demo data for `academy run --demo`: two members and published offers, created through the public API."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from werkzeug.test import Client

log = logging.getLogger(__name__)
DEMO_PASSWORD = "demo-password-2026"
PROVIDER = {"email": "provider@demo.academy.example", "password": DEMO_PASSWORD, "display_name": "Anna Weber"}
LEARNER = {"email": "learner@demo.academy.example", "password": DEMO_PASSWORD, "display_name": "Jonas Becker"}
OFFERS = [
    {
        "title": "Building international cluster partnerships",
        "topic": "international cooperation",
        "description": "Finding partner clusters abroad, first contacts, and a joint work plan.",
        "format": "online",
        "competences": ["international-cooperation"],
        "level": "advanced",
        "language": "en",
        "price_cents": 24_900,
    },
    {
        "title": "Funding for cluster projects",
        "topic": "funding",
        "description": "Public funding programmes for collaborative R&D and how to apply.",
        "format": "hybrid",
        "competences": ["project-management"],
        "level": "basic",
        "language": "de",
        "price_cents": 14_900,
    },
]


def _session_for(offer: dict, weeks_ahead: int) -> dict:
    starts = (datetime.now(UTC) + timedelta(weeks=weeks_ahead)).replace(hour=9, minute=0, second=0, microsecond=0)
    seats = {"online": 20} if offer["format"] == "online" else {"online": 15, "in_person": 10}
    session = {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=4)).isoformat(), "seats": seats}
    if seats.get("in_person"):
        session["location"] = "Haus der Wirtschaft, Stuttgart"
    if seats.get("online"):
        session["link"] = "https://meet.academy.example/room"
    return session


def seed_demo_data(app) -> None:
    """Idempotent: a second run finds the demo provider registered and changes nothing."""
    client = Client(app)
    registered = client.post("/api/v1/members", json=PROVIDER)
    if registered.status_code == 409:
        log.info("demo data already present")
        return
    if registered.status_code != 201:
        raise RuntimeError(f"demo provider not registered: {registered.status_code} {registered.get_data(True)}")
    client.post("/api/v1/members", json=LEARNER)
    token = client.post("/api/v1/auth/token", json={"email": PROVIDER["email"], "password": DEMO_PASSWORD})
    auth = {"Authorization": f"Bearer {token.json['access_token']}"}
    for weeks_ahead, offer in enumerate(OFFERS, start=2):
        created = client.post("/api/v1/offers", json=offer, headers=auth).json
        client.post(f"/api/v1/offers/{created['id']}/sessions", json=_session_for(offer, weeks_ahead), headers=auth)
        submitted = client.post(f"/api/v1/offers/{created['id']}/submit", headers=auth)
        if submitted.status_code >= 400:
            raise RuntimeError(f"demo offer not published: {submitted.get_data(True)}")
    print(f"Demo members: {PROVIDER['email']} and {LEARNER['email']}, password {DEMO_PASSWORD}", flush=True)
