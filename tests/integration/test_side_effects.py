"""The side effect dispatcher against a real HTTP partner, on SQLite and PostgreSQL: once, retried, never repeated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from academy.registry import load_service
from shared.side_effects import PermanentFailure, SideEffectDispatcher, record_side_effect
from shared.tables import side_effects
from shared.testing import make_runtime

REPO_ROOT = Path(__file__).resolve().parents[2]


class Partner:
    """A webhook receiver that logs every request with its Idempotency-Key and applies each key once."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.effects: dict[str, dict] = {}
        self.scripted_statuses: list[int] = []  # answered, in order, before the partner starts accepting
        self.lock = threading.Lock()
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                key = self.headers["Idempotency-Key"]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with partner.lock:
                    partner.requests.append((key, body))
                    status = partner.scripted_statuses.pop(0) if partner.scripted_statuses else 200
                    if status == 200:
                        partner.effects.setdefault(key, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"effect": key}).encode())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def calls(self, key: str) -> int:
        with self.lock:
            return sum(1 for called_key, _ in self.requests if called_key == key)


@pytest.fixture
def partner():
    partner = Partner()
    thread = threading.Thread(target=partner.server.serve_forever, daemon=True)
    thread.start()
    yield partner
    partner.server.shutdown()
    partner.server.server_close()


def post_to(partner: Partner) -> Callable[[dict, str], str | None]:
    def perform(payload: dict, idempotency_key: str) -> str | None:
        response = requests.post(partner.url, json=payload, headers={"Idempotency-Key": idempotency_key}, timeout=5)
        if response.status_code == 422:
            raise PermanentFailure(f"the partner refused the hook: {response.status_code}")
        response.raise_for_status()
        return response.json()["effect"]

    return perform


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def runtime(request, tmp_path):
    env = {}
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("make_postgres_database")("side_effects")
    runtime = make_runtime(load_service("notify"), tmp_path, **env)
    yield runtime
    runtime.close()


def record(runtime, key: str, payload: dict | None = None, kind: str = "webhook") -> None:
    with runtime.session_factory.begin() as db:
        record_side_effect(db, kind, key, payload or {"member_id": "member-1"})


def rows(runtime) -> list:
    with runtime.session_factory() as db:
        return db.execute(select(side_effects).order_by(side_effects.c.created_at)).all()


def row(runtime, key: str):
    with runtime.session_factory() as db:
        return db.execute(select(side_effects).where(side_effects.c.idempotency_key == key)).one()


def dispatch_until(dispatcher: SideEffectDispatcher, done: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the dispatcher did not get there in time"
        if not dispatcher.dispatch_once():
            time.sleep(0.02)


def test_a_recorded_effect_is_performed_once_and_marked_done(runtime, partner):
    record(runtime, "welcome-member-1", {"member_id": "member-1"})
    with runtime.session_factory.begin() as db:
        # Recorded again, in one transaction and then in another, as a handler running twice would.
        record_side_effect(db, "webhook", "welcome-member-1", {"member_id": "someone else"})
    record(runtime, "welcome-member-1", {"member_id": "someone else"})
    dispatcher = SideEffectDispatcher("notify", {"webhook": post_to(partner)}, runtime.session_factory)

    assert dispatcher.backlog()[0] == 1
    assert dispatcher.dispatch_once() == 1
    assert dispatcher.dispatch_once() == 0

    assert partner.requests == [("welcome-member-1", {"member_id": "member-1"})]
    [effect] = rows(runtime)
    assert (effect.status, effect.attempts, effect.result) == ("done", 1, "welcome-member-1")
    assert effect.completed_at is not None and effect.last_error is None
    assert dispatcher.backlog() == (0, 0.0)


def test_a_rolled_back_transaction_leaves_no_effect(runtime, partner):
    with runtime.session_factory() as db:
        record_side_effect(db, "webhook", "welcome-member-1", {"member_id": "member-1"})
        db.rollback()
    with pytest.raises(RuntimeError), runtime.session_factory.begin() as db:
        record_side_effect(db, "webhook", "welcome-member-2", {"member_id": "member-2"})
        raise RuntimeError("the business change failed")

    dispatcher = SideEffectDispatcher("notify", {"webhook": post_to(partner)}, runtime.session_factory)
    assert dispatcher.dispatch_once() == 0
    assert rows(runtime) == []
    assert partner.requests == []


def test_a_failing_call_is_retried_after_a_back_off_then_done(runtime, partner):
    partner.scripted_statuses = [500, 500]
    record(runtime, "hook-1")
    dispatcher = SideEffectDispatcher("notify", {"webhook": post_to(partner)}, runtime.session_factory,
                                      backoff=(0.3, 0.3))

    assert dispatcher.dispatch_once() == 1
    first = row(runtime, "hook-1")
    assert (first.status, first.attempts) == ("pending", 1)
    assert "500" in first.last_error
    assert dispatcher.dispatch_once() == 0, "tried again before its back-off ran out"

    dispatch_until(dispatcher, lambda: row(runtime, "hook-1").status != "pending")
    done = row(runtime, "hook-1")
    assert (done.status, done.attempts, done.last_error) == ("done", 3, None)
    assert partner.calls("hook-1") == 3
    assert list(partner.effects) == ["hook-1"]


def test_an_effect_that_keeps_failing_is_failed_after_max_attempts_and_never_called_again(runtime, partner):
    partner.scripted_statuses = [500] * 10
    record(runtime, "hook-1")
    dispatcher = SideEffectDispatcher("notify", {"webhook": post_to(partner)}, runtime.session_factory,
                                      backoff=(0.05, 0.05))

    dispatch_until(dispatcher, lambda: row(runtime, "hook-1").status != "pending")
    failed = row(runtime, "hook-1")
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert "500 Server Error" in failed.last_error
    time.sleep(0.1)
    assert dispatcher.dispatch_once() == 0
    assert partner.calls("hook-1") == 3


def test_a_permanent_failure_or_an_unknown_kind_fails_at_once(runtime, partner):
    partner.scripted_statuses = [422]
    record(runtime, "hook-1")
    record(runtime, "letter-1", kind="letter")
    dispatcher = SideEffectDispatcher("notify", {"webhook": post_to(partner)}, runtime.session_factory,
                                      backoff=(0.05, 0.05))

    assert dispatcher.dispatch_once() == 2
    time.sleep(0.1)
    assert dispatcher.dispatch_once() == 0
    refused, unknown = row(runtime, "hook-1"), row(runtime, "letter-1")
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert refused.last_error.startswith("PermanentFailure: the partner refused")
    assert (unknown.status, unknown.attempts) == ("failed", 1)
    assert unknown.last_error == "no performer for kind 'letter' in service notify"
    assert partner.calls("hook-1") == 1


def test_two_dispatchers_at_once_call_each_effect_exactly_once(runtime, partner):
    keys = [f"hook-{number}" for number in range(50)]
    with runtime.session_factory.begin() as db:
        for key in keys:
            record_side_effect(db, "webhook", key, {"key": key})
    perform = post_to(partner)

    def slow_perform(payload: dict, idempotency_key: str) -> str | None:
        time.sleep(0.005)  # long enough for the other dispatcher to claim in between
        return perform(payload, idempotency_key)

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def dispatch_all() -> None:
        dispatcher = SideEffectDispatcher("notify", {"webhook": slow_perform}, runtime.session_factory,
                                          batch_size=5)
        start.wait()
        try:
            while dispatcher.dispatch_once():
                pass
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=dispatch_all) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert Counter(key for key, _ in partner.requests) == Counter(keys)
    assert {(effect.status, effect.attempts) for effect in rows(runtime)} == {("done", 1)}


def test_a_dispatcher_killed_between_call_and_record_makes_the_call_once_more_with_the_same_key(
    runtime, partner, tmp_path
):
    record(runtime, "hook-1", {"member_id": "member-1"})
    database_url = runtime.engine.url.render_as_string(hide_password=False)
    output = (tmp_path / "dispatcher.log").open("w")
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.side_effect_process", database_url, partner.url, "1.0"],
        cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        deadline = time.monotonic() + 8
        while partner.calls("hook-1") == 0:
            assert child.poll() is None, (tmp_path / "dispatcher.log").read_text()
            assert time.monotonic() < deadline, "the dispatcher process never called"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(5)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
        output.close()

    claimed = row(runtime, "hook-1")
    assert (claimed.status, claimed.attempts) == ("pending", 1), "the outcome of the killed call was recorded"
    dispatcher = SideEffectDispatcher("notify", {"webhook": post_to(partner)}, runtime.session_factory)
    assert dispatcher.dispatch_once() == 0, "claimed again before the lease ran out"

    dispatch_until(dispatcher, lambda: row(runtime, "hook-1").status == "done")
    assert [key for key, _ in partner.requests] == ["hook-1", "hook-1"]
    assert partner.effects == {"hook-1": {"member_id": "member-1"}}
    assert row(runtime, "hook-1").attempts == 2


def test_rows_not_started_within_half_the_lease_go_back_unclaimed(runtime, partner):
    with runtime.session_factory.begin() as db:
        for key in ("hook-1", "hook-2", "hook-3"):
            record_side_effect(db, "webhook", key, {"key": key})
    perform = post_to(partner)

    def slow_perform(payload: dict, idempotency_key: str) -> str | None:
        time.sleep(0.3)  # past half the lease, so the rest of the batch must not be started under it
        return perform(payload, idempotency_key)

    dispatcher = SideEffectDispatcher("notify", {"webhook": slow_perform}, runtime.session_factory,
                                      lease_seconds=0.5)
    assert dispatcher.dispatch_once() == 3

    assert [key for key, _ in partner.requests] == ["hook-1"]
    released = [(effect.idempotency_key, effect.status, effect.attempts) for effect in rows(runtime)]
    assert released == [("hook-1", "done", 1), ("hook-2", "pending", 0), ("hook-3", "pending", 0)]
    assert dispatcher.backlog()[0] == 2
