"""Demo data for `academy run --demo`: a provider, a learner, a reviewer and reviewed offers, through the public API."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from werkzeug.test import Client

from academy.registry import load_all
from services.assessment.commands import announce_framework
from services.catalog.commands import grant_role
from services.catalog.models import Member
from services.catalog.registration import confirm_newest
from shared.bus import Delivery
from shared.consumer import EventConsumer
from shared.service import Runtime
from shared.tables import outbox

log = logging.getLogger(__name__)
DEMO_PASSWORD = "demo-password-2026"
PROVIDER = {"email": "provider@demo.academy.example", "password": DEMO_PASSWORD, "display_name": "Anna Weber"}
LEARNER = {"email": "learner@demo.academy.example", "password": DEMO_PASSWORD, "display_name": "Jonas Becker"}
REVIEWER = {"email": "reviewer@demo.academy.example", "password": DEMO_PASSWORD, "display_name": "Clara Schmidt"}
OFFERS = [
    {
        "title": "Building international cluster partnerships",
        "summary": "From the first contact abroad to a joint work plan.",
        "description": "Finding partner clusters abroad, first contacts, and a joint work plan.",
        "format": "online",
        "competences": ["INT-2"],
        "level": 3,
        "languages": ["en"],
        "price_cents": 24_900,
    },
    {
        "title": "Funding for cluster projects",
        "summary": "Public funding programmes for collaborative R&D.",
        "description": "Public funding programmes for collaborative R&D and how to apply.",
        "format": "hybrid",
        "competences": ["GOV-3"],
        "level": 1,
        "languages": ["de"],
        "price_cents": 14_900,
    },
]
APPROVAL = {"decision": "approve", "comment": "Demo offer.",
            "checklist": {"competences_justified": True, "level_plausible": True, "format_and_dates_complete": True}}


def _session_for(offer: dict, weeks_ahead: int) -> dict:
    starts = (datetime.now(UTC) + timedelta(weeks=weeks_ahead)).replace(hour=9, minute=0, second=0, microsecond=0)
    seats = {"online": 20} if offer["format"] == "online" else {"online": 15, "in_person": 10}
    session = {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=4)).isoformat(), "seats": seats}
    if seats.get("in_person"):
        session["location"] = "Haus der Wirtschaft, Stuttgart"
    if seats.get("online"):
        session["link"] = "https://meet.academy.example/room"
    return session


def _catalog_learns_the_framework(runtimes: dict[str, Runtime]) -> None:
    """Assessment announces its framework through the outbox once the workers run; the demo's offers need the
    codes before that, so its announcement is handed to the catalog here (the relayed copy changes nothing)."""
    announce_framework(runtimes["assessment"].session_factory)
    with runtimes["assessment"].engine.connect() as connection:
        bodies = connection.execute(select(outbox.c.body).where(outbox.c.routing_key == "framework.published")).all()
    consumer = EventConsumer("catalog", load_all()["catalog"].handlers, runtimes["catalog"].session_factory)
    consumer.handle_batch([Delivery(body=row.body.encode(), routing_key="framework.published", attempts=0)
                           for row in bodies])


def _token(client: Client, person: dict) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", json={"email": person["email"], "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {token.json['access_token']}"}


def seed_demo_data(app, runtimes: dict[str, Runtime]) -> None:
    """Idempotent: a second run finds the demo provider registered and changes nothing."""
    client = Client(app)
    with runtimes["catalog"].session_factory() as db:
        if db.scalar(select(Member.id).where(Member.email == PROVIDER["email"])) is not None:
            log.info("demo data already present")
            return
    for person in (PROVIDER, LEARNER, REVIEWER):
        registered = client.post("/api/v1/members", json=person)
        if registered.status_code != 202:
            raise RuntimeError(f"demo member not registered: {registered.status_code} {registered.get_data(True)}")
    with runtimes["catalog"].session_factory.begin() as db:
        # The demo's addresses receive no mail: confirmed as an operator would for a member whose mail got lost.
        for person in (PROVIDER, LEARNER, REVIEWER):
            confirm_newest(db, person["email"], datetime.now(UTC))
        grant_role(db, REVIEWER["email"], "reviewer")
    _catalog_learns_the_framework(runtimes)
    auth, reviewer = _token(client, PROVIDER), _token(client, REVIEWER)
    for weeks_ahead, offer in enumerate(OFFERS, start=2):
        created = client.post("/api/v1/offers", json=offer, headers=auth)
        if created.status_code != 201:
            raise RuntimeError(f"demo offer not created: {created.get_data(True)}")
        offer_id = created.json["id"]
        client.post(f"/api/v1/offers/{offer_id}/sessions", json=_session_for(offer, weeks_ahead), headers=auth)
        client.post(f"/api/v1/offers/{offer_id}/submit", headers=auth)
        reviewed = client.post(f"/api/v1/offers/{offer_id}/reviews", json=APPROVAL, headers=reviewer)
        if reviewed.status_code >= 400:
            raise RuntimeError(f"demo offer not published: {reviewed.get_data(True)}")
    print(f"Demo members: {PROVIDER['email']}, {LEARNER['email']} and the reviewer {REVIEWER['email']}, "
          f"password {DEMO_PASSWORD}", flush=True)
