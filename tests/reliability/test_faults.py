"""Crashes and outages: nothing is lost and nothing happens twice."""

from __future__ import annotations

import signal
import time
from urllib.parse import urlparse, urlunparse

import pytest
import requests
from sqlalchemy import create_engine, text

from shared.auth import ensure_keypair
from shared.config import SERVICES
from tests.reliability.tcp_proxy import TcpProxy
from tests.system.processes import DistributedAcademy, EmbeddedProcess
from tests.system.slice import PRICE_CENTS, Academy, eventually

pytestmark = pytest.mark.slow
QUIET_SECONDS = 3.0


def _through(proxy: TcpProxy, amqp_url: str) -> str:
    parsed = urlparse(amqp_url)
    return urlunparse(parsed._replace(netloc=f"{parsed.username}:{parsed.password}@127.0.0.1:{proxy.port}"))


@pytest.fixture
def databases(make_postgres_database):
    return {name: make_postgres_database(name) for name in SERVICES}


@pytest.fixture
def keys(tmp_path):
    ensure_keypair(tmp_path / "keys")
    return tmp_path / "keys"


def _book_many(academy: Academy, learners: int, session_id: str) -> list[tuple[str, str]]:
    """(token, booking id) of `learners` members who each booked the session."""
    booked = []
    for index in range(learners):
        _, token = academy.member(f"learner{index}")
        booked.append((token, academy.book(token, session_id)["id"]))
    return booked


def _exactly_one_invoice_each(academy: Academy, booked: list[tuple[str, str]], timeout: float = 60.0) -> None:
    for token, booking_id in booked:
        invoices = eventually(lambda token=token: academy.invoices(token), timeout=timeout)
        assert [invoice["booking_id"] for invoice in invoices] == [booking_id]
        assert invoices[0]["total_cents"] == PRICE_CENTS


def _waiting_for_a_lock(engine) -> bool:
    """True while another connection to this database waits for a lock (billing's worker, mid-transaction)."""
    with engine.connect() as connection:
        return bool(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )))


def test_killed_worker_publishes_after_restart_and_exactly_one_invoice_exists(amqp_url, databases, keys, tmp_path):
    academy_processes = DistributedAcademy(amqp_url, databases, keys, tmp_path).start()
    try:
        academy = Academy(academy_processes.gateway, academy_processes.keys_dir)
        _, provider = academy.member("provider")
        _, session_id = academy.published_offer(provider, seats=50)
        _, first = academy.member("first")
        academy.book(first, session_id)  # booking's read model has the session now

        # The booking commits with its outbox row, but the worker that would relay it is dead.
        academy_processes.workers["booking"].kill(signal.SIGKILL)
        _, learner = academy.member("learner")
        booking = academy.book(learner, session_id)
        time.sleep(QUIET_SECONDS)
        assert academy.invoices(learner) == [], "nothing may be published while the relay is down"

        academy_processes.start_worker("booking")
        _exactly_one_invoice_each(academy, [(learner, booking["id"])])

        # Kill billing's worker while it is inside its invoicing transaction: a lock the test holds on the
        # invoice numbers stops it there, with the batch unacknowledged and part of its rows written.
        billing_db = create_engine(databases["billing"])
        try:
            with billing_db.connect() as blocker:
                blocker.execute(text("LOCK TABLE invoice_sequences IN EXCLUSIVE MODE"))
                more = _book_many(academy, 6, session_id)
                eventually(lambda: _waiting_for_a_lock(billing_db), timeout=30)
                academy_processes.workers["billing"].kill(signal.SIGKILL)
                blocker.rollback()
            assert all(academy.invoices(token) == [] for token, _ in more), "the killed batch committed nothing"
        finally:
            billing_db.dispose()
        academy_processes.start_worker("billing")
        _exactly_one_invoice_each(academy, more)
        time.sleep(QUIET_SECONDS)
        _exactly_one_invoice_each(academy, more, timeout=1)
    except AssertionError:
        print(academy_processes.logs())
        raise
    finally:
        academy_processes.stop()


def test_booking_succeeds_while_rabbitmq_is_unreachable_and_the_invoice_follows(amqp_url, databases, keys, tmp_path):
    parsed = urlparse(amqp_url)
    proxy = TcpProxy(parsed.hostname, parsed.port or 5672).start()
    academy_processes = DistributedAcademy(amqp_url, databases, keys, tmp_path,
                                           worker_amqp_url=_through(proxy, amqp_url),
                                           web_amqp_url=_through(proxy, amqp_url)).start()
    try:
        academy = Academy(academy_processes.gateway, academy_processes.keys_dir)
        _, provider = academy.member("provider")
        _, session_id = academy.published_offer(provider)
        _, warmup = academy.member("warmup")
        academy.book(warmup, session_id)
        # Registered before the cut: the confirmation link comes by mail, which waits for the bus like every event.
        _, learner = academy.member("learner")

        proxy.cut()
        ready = requests.get(f"http://127.0.0.1:{academy_processes.ports['booking']}/health/ready", timeout=10)
        assert ready.status_code == 200 and ready.json()["checks"]["broker"] is False
        booking = academy.book(learner, session_id)
        assert booking["status"] == "confirmed"
        time.sleep(QUIET_SECONDS)
        assert academy.invoices(learner) == []

        proxy.restore()
        _exactly_one_invoice_each(academy, [(learner, booking["id"])], timeout=60)
    except AssertionError:
        print(academy_processes.logs())
        raise
    finally:
        academy_processes.stop()
        proxy.cut()


def test_embedded_academy_killed_mid_flow_loses_nothing(tmp_path):
    data_dir = tmp_path / "data"
    embedded = EmbeddedProcess(data_dir, tmp_path).start()
    academy = Academy(embedded.url, embedded.keys_dir)
    try:
        _, provider = academy.member("provider")
        _, session_id = academy.published_offer(provider, seats=50)
        booked = _book_many(academy, 5, session_id)
    finally:
        embedded.kill(signal.SIGKILL)  # mid-flow: invoices and messages are still on their way

    restarted = EmbeddedProcess(data_dir, tmp_path, port=embedded.port).start()
    try:
        _exactly_one_invoice_each(academy, booked)
        for token, _ in booked:
            inbox = eventually(lambda token=token: len(academy.notifications(token)) >= 2 and
                               academy.notifications(token))
            kinds = [item["kind"] for item in inbox]
            assert len(kinds) == len(set(kinds)), f"a message arrived twice: {kinds}"
    except AssertionError:
        print(restarted.process.log())
        raise
    finally:
        restarted.kill(signal.SIGTERM)
