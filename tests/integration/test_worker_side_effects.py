"""A worker runs the whole path: handlers that record side effects, the dispatcher, and scheduled jobs."""

from __future__ import annotations

import dataclasses
import threading
import time

from sqlalchemy import text

from academy.registry import load_service
from shared.events.declarations import MemberRegistered
from shared.outbox import record_event
from shared.side_effects import record_side_effect
from shared.testing import make_runtime, sample
from shared.worker import Worker


def test_a_handlers_side_effect_is_performed_by_the_worker_once(tmp_path):
    performed: list[tuple[dict, str]] = []

    def welcome(event, db):
        member = event.data
        record_side_effect(db, "welcome", f"welcome:{member.member_id}", {"to": member.email})

    service = dataclasses.replace(
        load_service("notify"),
        handlers={MemberRegistered: welcome},
        side_effects={"welcome": lambda payload, key: performed.append((payload, key))},
    )
    runtime = make_runtime(service, tmp_path)
    worker = Worker(service, runtime)
    worker.start()
    try:
        event = sample(MemberRegistered, member_id="m-7", email="grace@academy.example")
        with runtime.session_factory.begin() as db:
            record_event(db, event)
            record_event(db, event)  # the same registration announced twice (another event id)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not performed:
            time.sleep(0.05)
        time.sleep(1.0)  # anything repeated would arrive within the dispatcher's next polls
    finally:
        worker.stop()
        runtime.close()

    assert performed == [({"to": "grace@academy.example"}, "welcome:m-7")]


def test_the_worker_runs_a_services_scheduled_jobs(tmp_path):
    ran = threading.Event()

    def job(session_factory) -> int:
        with session_factory() as db:  # it is handed the service's own database
            db.execute(text("SELECT 1"))
        ran.set()
        return 1

    service = dataclasses.replace(load_service("booking"), scheduled={"probe": job})
    runtime = make_runtime(service, tmp_path)
    worker = Worker(service, runtime)
    worker.start()
    try:
        assert ran.wait(15), "the scheduled job did not run"
    finally:
        worker.stop()
        runtime.close()
