"""A rush on one session through four gunicorn workers: exactly its seats confirmed, the rest in line, no errors."""

from __future__ import annotations

import os
import signal
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from services import booking
from services.booking.models import Booking, SeatCount
from shared.consumer import EventConsumer
from shared.events.declarations import OfferPublished, SessionScheduled
from shared.testing import bearer, delivery, make_runtime, sample, signing_keypair
from tests.system.processes import Process, free_port, wait_until_ready

pytestmark = pytest.mark.slow
SEATS, MEMBERS, CLIENTS = 20, 500, 48


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_500_members_rushing_20_seats_through_4_workers(request, tmp_path, amqp_url, backend):
    env = {"AMQP_URL": amqp_url}
    if backend == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("make_postgres_database")("rush")
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'booking.sqlite3'}"
    runtime = make_runtime(booking.SERVICE, tmp_path, **env)
    offer_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    starts_at = datetime.now(UTC) + timedelta(days=30)
    EventConsumer("booking", booking.SERVICE.handlers, runtime.session_factory).handle_batch([
        delivery(sample(OfferPublished, offer_id=offer_id)),
        delivery(sample(SessionScheduled, session_id=session_id, offer_id=offer_id, starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=2), seats={"online": SEATS, "in_person": 0})),
    ])
    port = free_port()
    server = Process("booking", ["serve", "booking", "--port", str(port), "--workers", "4"],
                     {**os.environ, **env, "JWT_PUBLIC_KEY": signing_keypair()[1], "LOG_LEVEL": "WARNING"},
                     tmp_path).start()
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health/live", server)
        headers = [bearer(f"member-{index:03d}") for index in range(MEMBERS)]

        def book(index: int) -> int:
            with requests.Session() as http:
                answer = http.post(f"http://127.0.0.1:{port}/api/v1/bookings", headers=headers[index],
                                   json={"session_id": session_id, "format": "online"}, timeout=60)
            return answer.status_code

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            statuses = Counter(pool.map(book, range(MEMBERS)))
    finally:
        server.kill(signal.SIGTERM)

    assert statuses == {201: MEMBERS}, f"answers: {statuses}\n{server.log()}"
    with runtime.session_factory() as db:
        bookings = db.scalars(select(Booking).where(Booking.session_id == session_id)).all()
        seats = db.get(SeatCount, (session_id, "online"))
    runtime.close()
    by_status = Counter(booking.status for booking in bookings)
    assert by_status == {"confirmed": SEATS, "waitlisted": MEMBERS - SEATS}
    assert (seats.confirmed, seats.waiting) == (SEATS, MEMBERS - SEATS)
    # Arrival order as the database saw it: the line is numbered 1..480, each place once, in booking order.
    waiting = sorted((b for b in bookings if b.status == "waitlisted"), key=lambda b: b.waiting_position)
    assert [b.waiting_position for b in waiting] == list(range(1, MEMBERS - SEATS + 1))
    assert [b.created_at for b in waiting] == sorted(b.created_at for b in waiting)
