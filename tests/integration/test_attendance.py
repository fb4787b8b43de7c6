"""Attendance and certificates: the provider records who came, attendees get a certificate anyone can verify."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from services import booking
from services.booking.models import SessionRecord
from shared.bus import Outcome
from shared.events import parse_event
from shared.events.declarations import AttendanceRecorded, MemberRegistered, OfferPublished, SessionScheduled
from shared.tables import outbox
from shared.testing import bearer, delivery, sample

SERVICE = booking.SERVICE  # the service under test, for the fixtures in conftest.py
PROVIDER = "provider-7"


@pytest.fixture
def held_session(runtime, client, consumer):
    """A session with three seat holders and one waiting member, moved to have ended an hour ago."""
    offer_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    starts_at = datetime.now(UTC) + timedelta(days=20)
    names = {"ann": "Ann Ørsted", "ben": "Бен Петров", "cem": "Cem", "dan": "Dan", PROVIDER: "Prof. Pia"}
    events = [delivery(sample(MemberRegistered, member_id=member, display_name=name)) for member, name in names.items()]
    events += [
        delivery(sample(OfferPublished, offer_id=offer_id, provider_id=PROVIDER, title="Cluster strategy",
                        competences=["strategy", "international-cooperation"], level="advanced")),
        delivery(sample(SessionScheduled, session_id=session_id, offer_id=offer_id, starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=3), seats={"online": 3})),
    ]
    assert all(s.outcome is Outcome.ACK for s in consumer.handle_batch(events))
    bookings = {member: client.post("/api/v1/bookings", json={"session_id": session_id, "format": "online"},
                                    headers=bearer(member)).json for member in ("ann", "ben", "cem", "dan")}
    move(runtime, session_id, ended_ago=timedelta(hours=1))
    return session_id, bookings


def move(runtime, session_id: str, *, ended_ago: timedelta) -> None:
    ends_at = datetime.now(UTC) - ended_ago
    with runtime.session_factory.begin() as db:
        db.execute(update(SessionRecord).where(SessionRecord.session_id == session_id)
                   .values(starts_at=ends_at - timedelta(hours=3), ends_at=ends_at))


def record(client, session_id: str, booking_ids: list[str], member: str = PROVIDER):
    return client.post(f"/api/v1/sessions/{session_id}/attendance", json={"booking_ids": booking_ids},
                       headers=bearer(member))


def attendance_events(runtime) -> list[AttendanceRecorded]:
    with runtime.session_factory() as db:
        bodies = db.scalars(select(outbox.c.body).where(
            outbox.c.routing_key == AttendanceRecorded.event_type.routing_key).order_by(outbox.c.seq)).all()
    return [parse_event(body).data for body in bodies]


def test_attendees_get_a_certificate_anyone_can_verify_and_only_they_can_download(runtime, client, held_session):
    session_id, bookings = held_session

    answer = record(client, session_id, [bookings["ann"]["id"], bookings["ben"]["id"]])

    assert answer.status_code == 200
    assert {item["member_id"]: item["attended"] for item in answer.json["items"]} == \
        {"ann": True, "ben": True, "cem": False}
    # Each member reads their own attendance on their bookings (the pages offer attendees a rating with it).
    assert {member: [item["attended"] for item in client.get("/api/v1/bookings?when=past",
                                                                headers=bearer(member)).json["items"]]
            for member in ("ann", "cem", "dan")} == {"ann": [True], "cem": [False], "dan": [None]}
    [event] = attendance_events(runtime)
    assert (event.session_id, event.provider_id) == (session_id, PROVIDER)
    certificates = {attendee.member_id: attendee.certificate_id for attendee in event.attendees}
    assert set(certificates) == {"ann", "ben"} and len(certificates["ann"]) >= 40

    verified = client.get(f"/api/v1/certificates/{certificates['ben']}")
    assert verified.status_code == 200
    with runtime.session_factory() as db:
        held_on = db.get(SessionRecord, session_id).starts_at.date().isoformat()
    # Exactly these fields: nothing else about the holder is public.
    assert verified.json == {"id": certificates["ben"], "holder": "Бен Петров", "offer_title": "Cluster strategy",
                             "date": held_on, "valid": True}

    pdf = client.get(f"/api/v1/certificates/{certificates['ann']}.pdf", headers=bearer("ann"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert client.get(f"/api/v1/certificates/{certificates['ann']}.pdf", headers=bearer("ben")).status_code == 404
    assert client.get(f"/api/v1/certificates/{uuid.uuid4()}").status_code == 404


def test_a_correction_replaces_the_list_and_revokes_a_dropped_certificate(runtime, client, held_session):
    session_id, bookings = held_session
    record(client, session_id, [bookings["ann"]["id"], bookings["ben"]["id"]])
    [first] = attendance_events(runtime)
    ben_certificate = next(a.certificate_id for a in first.attendees if a.member_id == "ben")

    record(client, session_id, [bookings["ann"]["id"], bookings["cem"]["id"]])

    latest = attendance_events(runtime)[-1]
    assert sorted(attendee.member_id for attendee in latest.attendees) == ["ann", "cem"]
    assert client.get(f"/api/v1/certificates/{ben_certificate}").json["valid"] is False
    assert client.get(f"/api/v1/certificates/{ben_certificate}.pdf", headers=bearer("ben")).status_code == 404
    kept = {a.member_id: a.certificate_id for a in first.attendees}["ann"]
    assert {a.member_id: a.certificate_id for a in latest.attendees}["ann"] == kept, "the same certificate stays"


def test_only_the_provider_records_and_only_seat_holders_count(client, held_session):
    session_id, bookings = held_session

    assert record(client, session_id, [bookings["ann"]["id"]], member="ann").status_code == 403
    waiting = record(client, session_id, [bookings["dan"]["id"]])
    assert waiting.status_code == 422 and bookings["dan"]["id"] in str(waiting.json["errors"]["booking_ids"])
    assert record(client, str(uuid.uuid4()), []).status_code == 404
    unknown_field = client.post(f"/api/v1/sessions/{session_id}/attendance",
                                json={"booking_ids": [], "all": True}, headers=bearer(PROVIDER))
    assert unknown_field.status_code == 422


def test_attendance_is_recorded_after_the_start_and_closes_14_days_after_the_end(runtime, client, held_session):
    session_id, bookings = held_session
    move(runtime, session_id, ended_ago=-timedelta(days=2))  # ends in two days: not started yet
    assert record(client, session_id, [bookings["ann"]["id"]]).status_code == 409
    move(runtime, session_id, ended_ago=timedelta(days=15))
    assert record(client, session_id, [bookings["ann"]["id"]]).status_code == 409
    move(runtime, session_id, ended_ago=timedelta(days=13))
    assert record(client, session_id, [bookings["ann"]["id"]]).status_code == 200
