"""The thinnest end-to-end flow, through the gateway's public API only: publish, book, invoice, inbox."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from shared.auth import issue_token
from tests.system.mailbox import ConfirmationSource, Mailbox

PRICE_CENTS = 24_900
COMPETENCE = "INT-2"  # of assessment's framework 2026.1
APPROVAL = {"decision": "approve", "comment": "Well prepared.",
            "checklist": {"competences_justified": True, "level_plausible": True, "format_and_dates_complete": True}}


def eventually(call, *, timeout: float = 30.0, interval: float = 0.1):
    """Retry `call` until it returns something truthy; the last error or value explains a timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = call()
            if last:
                return last
        except (requests.RequestException, AssertionError) as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout}s; last: {last!r}")


@dataclass
class Academy:
    """A client of the public gateway; with the academy's signing keys it can also act as a reviewer."""

    base_url: str
    # The academy's data folder's keys; its mails (without an SMTP server) lie beside them, in mail/.
    keys_dir: Path | None = None
    http: requests.Session = field(default_factory=requests.Session)
    last_booking_traceparent: str | None = None
    mailbox: ConfirmationSource | None = None  # where the academy's mails are read; see __post_init__

    def __post_init__(self) -> None:
        if self.mailbox is None and self.keys_dir is not None:
            self.mailbox = Mailbox(self.keys_dir.parent / "mail")

    def reviewer(self) -> str:
        """A reviewer's token. Roles are granted on the command line (`academy roles grant`), which a test
        through the gateway cannot reach, so the token is signed with the academy's own key instead."""
        assert self.keys_dir is not None, "Academy(base_url, keys_dir=...) is needed to review offers"
        private_key = (self.keys_dir / "jwt-private.pem").read_text()
        return issue_token(private_key, f"reviewer-{uuid.uuid4().hex[:8]}", ["member", "reviewer"])

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def member(self, name: str) -> tuple[str, str]:
        """Register a member and log in; returns (member id, token)."""
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.org"
        password = "correct horse battery staple"
        created = self.call("POST", "/api/v1/members",
                            json={"email": email, "password": password, "display_name": name.title()})
        assert created.status_code == 202, created.text
        member = self.confirm(email)
        token = self.call("POST", "/api/v1/auth/token", json={"email": email, "password": password})
        assert token.status_code == 200, token.text
        return member["id"], token.json()["access_token"]

    def confirm(self, email: str) -> dict:
        """Open the confirmation link mailed to `email`, as its owner would; the confirmed member."""
        assert self.mailbox is not None, "Academy(base_url, keys_dir=...) is needed to read the academy's mail"
        token = eventually(lambda: self.mailbox.confirmation_token(email), timeout=60)
        confirmed = self.call("POST", "/api/v1/members/confirmation", json={"token": token})
        assert confirmed.status_code == 200, confirmed.text
        return confirmed.json()

    def published_offer(self, provider_token: str, seats: int = 10,
                        title: str = "Running an international cluster partnership") -> tuple[str, str]:
        """A reviewed and published online offer with one session 14 days ahead; returns (offer id, session id)."""
        body = {
            "title": title,
            "summary": "Partnerships with clusters abroad.",
            "description": "How to find, start and keep partnerships with clusters abroad.",
            "format": "online",
            "competences": [COMPETENCE],
            "level": 3,
            "languages": ["en"],
            "price_cents": PRICE_CENTS,
        }

        def propose():
            # Refused (422) until the catalog has heard of the competence framework that assessment announces.
            response = self.call("POST", "/api/v1/offers", provider_token, json=body)
            assert response.status_code == 201, response.text
            return response.json()

        offer_id = eventually(propose)["id"]
        starts = datetime.now(UTC) + timedelta(days=14)
        session = self.call("POST", f"/api/v1/offers/{offer_id}/sessions", provider_token, json={
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "seats": {"online": seats},
            "link": "https://meet.example.org/vca",
        })
        assert session.status_code == 201, session.text
        submitted = self.call("POST", f"/api/v1/offers/{offer_id}/submit", provider_token)
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["status"] == "in_review"
        reviewed = self.call("POST", f"/api/v1/offers/{offer_id}/reviews", self.reviewer(), json=APPROVAL)
        assert reviewed.status_code == 201, reviewed.text
        return offer_id, session.json()["id"]

    def book(self, token: str, session_id: str, key: str | None = None) -> dict:
        """Book once the booking service has heard of the session (it learns of it through events)."""
        headers = {"Idempotency-Key": key} if key else {}

        def attempt():
            response = self.call("POST", "/api/v1/bookings", token, headers=dict(headers),
                                 json={"session_id": session_id, "format": "online"})
            if response.status_code == 404:
                return None
            assert response.status_code == 201, response.text
            self.last_booking_traceparent = response.headers.get("traceparent")
            return response.json()

        return eventually(attempt)

    def invoices(self, token: str) -> list[dict]:
        response = self.call("GET", "/api/v1/invoices", token)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def notifications(self, token: str) -> list[dict]:
        response = self.call("GET", "/api/v1/notifications", token)
        assert response.status_code == 200, response.text
        return response.json()["items"]


def run_slice(academy: Academy, *, timeout: float = 30.0) -> dict:
    """Publish an offer, book it, and wait for the invoice and the inbox messages; returns what was seen."""
    _, provider_token = academy.member("provider")
    offer_id, session_id = academy.published_offer(provider_token)
    _, learner_token = academy.member("learner")
    booking = academy.book(learner_token, session_id)
    assert booking["status"] == "confirmed"
    invoices = eventually(lambda: academy.invoices(learner_token), timeout=timeout)
    assert len(invoices) == 1
    assert invoices[0]["total_cents"] == PRICE_CENTS
    assert invoices[0]["booking_id"] == booking["id"]
    inbox = eventually(lambda: len(academy.notifications(learner_token)) >= 2 and academy.notifications(learner_token),
                       timeout=timeout)
    return {"offer_id": offer_id, "session_id": session_id, "booking": booking, "invoices": invoices,
            "inbox": inbox, "learner_token": learner_token, "booking_traceparent": academy.last_booking_traceparent}


def run_waiting_list(academy: Academy, *, timeout: float = 30.0) -> None:
    """One seat, two members: the first cancels, the second moves up, is invoiced and told, and gets a calendar."""
    _, provider_token = academy.member("provider")
    _, session_id = academy.published_offer(provider_token, seats=1)
    _, first = academy.member("first")
    _, second = academy.member("second")
    seat = academy.book(first, session_id)
    waiting = academy.book(second, session_id)
    assert (seat["status"], waiting["status"], waiting["waiting_position"]) == ("confirmed", "waitlisted", 1)

    cancelled = academy.call("POST", f"/api/v1/bookings/{seat['id']}/cancel", first)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    promoted = academy.call("GET", f"/api/v1/bookings/{waiting['id']}", second).json()
    assert promoted["status"] == "confirmed" and promoted["link"] == "https://meet.example.org/vca"

    invoices = eventually(lambda: academy.invoices(second), timeout=timeout)
    assert [invoice["booking_id"] for invoice in invoices] == [waiting["id"]]
    kinds = eventually(lambda: {"booking_promoted", "invoice_issued"} <= {
        message["kind"] for message in academy.notifications(second)} and True, timeout=timeout)
    assert kinds
    assert eventually(lambda: any(message["kind"] == "booking_cancelled"
                                  for message in academy.notifications(first)), timeout=timeout)
    calendar = academy.call("GET", f"/api/v1/bookings/{waiting['id']}/calendar.ics", second)
    assert calendar.status_code == 200 and calendar.headers["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in calendar.content
