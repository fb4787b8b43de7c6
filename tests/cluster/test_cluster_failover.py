"""Bookings keep flowing while nodes of a three-node RabbitMQ cluster die: nothing lost, nothing applied twice.

The five services and their workers run as separate processes on quorum queues replicated to all three nodes,
with an AMQP_URL that lists the three. A steady stream of bookings goes through the gateway while the node that
every client connected to first is killed (two of three keep the quorum: invoices go on), then a second node
(no quorum: bookings still commit into the outbox, nothing is delivered), then the nodes come back one by one
and the backlog drains. No process is restarted: the relays and consumers find the surviving nodes themselves.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests
from sqlalchemy import create_engine, text

from shared.auth import ensure_keypair
from shared.config import SERVICES
from tests.system.processes import DistributedAcademy
from tests.system.slice import Academy, eventually

pytestmark = pytest.mark.slow
LEARNERS, SESSIONS, PER_PHASE = 10, 9, 15
VHOST = "academy"


class BookingStream:
    """Books (learner, session) pairs one after another in a thread, as far as `allow` lets it go, so that the
    test can have bookings in flight when it kills a node; keeps what the booking service committed."""

    def __init__(self, academy: Academy, learners: list[tuple[str, str]], sessions: list[str]):
        self.academy = academy
        self.pairs = [(learner, session) for session in sessions for learner in learners]
        self.committed: list[tuple[str, str]] = []  # (member id, booking id), answered 201
        self.refused: list[str] = []
        self.allowed = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def allow(self, count: int) -> None:
        self.allowed += count
        if not self.thread.is_alive():
            self.thread.start()

    def _run(self) -> None:
        for (member_id, token), session_id in self.pairs:
            while len(self.committed) + len(self.refused) >= self.allowed:
                if self.stop.wait(0.05):
                    return
            try:
                answer = self.academy.call("POST", "/api/v1/bookings", token,
                                           json={"session_id": session_id, "format": "online"})
            except requests.RequestException as exc:
                self.refused.append(repr(exc))
                continue
            if answer.status_code == 201 and answer.json()["status"] == "confirmed":
                self.committed.append((member_id, answer.json()["id"]))
            else:
                self.refused.append(f"{answer.status_code} {answer.text[:300]}")
            time.sleep(0.1)  # a steady stream, not a rush

    def wait_for(self, count: int, timeout: float = 120) -> list[tuple[str, str]]:
        eventually(lambda: len(self.committed) >= count or self.refused, timeout=timeout)
        assert not self.refused, self.refused
        return list(self.committed)


def _rows(database_url: str, query: str) -> list:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query)))
    finally:
        engine.dispose()


def _invoiced(databases: dict[str, str]) -> Counter:
    return Counter(booking_id for (booking_id,) in _rows(databases["billing"], "SELECT booking_id FROM invoices"))


def _all_invoiced(databases: dict[str, str], committed: list[tuple[str, str]]):
    invoiced = _invoiced(databases)
    return {booking_id for _, booking_id in committed} <= set(invoiced) and invoiced


def test_bookings_survive_losing_rabbitmq_nodes_and_the_backlog_drains(rabbitmq_cluster, make_postgres_database,
                                                                       tmp_path):
    cluster = rabbitmq_cluster
    first, second, third = cluster.nodes
    cluster.add_vhost(VHOST)
    ensure_keypair(tmp_path / "keys")
    databases = {name: make_postgres_database(name) for name in SERVICES}
    processes = DistributedAcademy(cluster.url(VHOST), databases, tmp_path / "keys", tmp_path)
    processes.base_env.update({
        "AMQP_QUEUE_TYPE": "quorum", "WEB_CONCURRENCY": "1",
        # The test registers its learners from one address.
        "REGISTRATION_RATE_LIMIT": "1000/minute", "LOGIN_RATE_LIMIT": "1000/minute",
    })
    processes.start()
    try:
        # Every queue of the academy is a quorum queue with a replica on each node.
        queues = eventually(lambda: (q := cluster.quorum_members(VHOST)) and "notify" in q and q)
        expected = {node.name for node in cluster.nodes}
        assert {name: queues[name] for name in SERVICES if name in queues} == {
            name: ("quorum", expected) for name in SERVICES if name in queues}
        assert {"booking", "billing", "notify"} <= set(queues)

        academy = Academy(processes.gateway, keys_dir=tmp_path / "keys")
        _, provider = academy.member("provider")
        sessions = [academy.published_offer(provider, seats=50)[1] for _ in range(SESSIONS)]
        learners = [academy.member(f"learner{index}") for index in range(LEARNERS)]
        for session_id in sessions:  # booking has heard of every session before any node goes
            academy.book(learners[0][1], session_id)
        stream = BookingStream(academy, learners[1:], sessions)

        stream.allow(2 * PER_PHASE)
        stream.wait_for(PER_PHASE)
        first.kill()  # mid-stream, and every client's first host: each connection must move on to another node
        # Two of three nodes hold the quorum: events still flow, through reconnected relays and consumers.
        booked = stream.wait_for(2 * PER_PHASE)
        eventually(lambda: _all_invoiced(databases, booked), timeout=120)

        second.kill()  # one node left: no quorum, nothing is confirmed or delivered, bookings still commit
        stream.allow(PER_PHASE)
        during_outage = stream.wait_for(3 * PER_PHASE)[2 * PER_PHASE:]
        time.sleep(3)
        invoiced = _invoiced(databases)
        assert not {booking_id for _, booking_id in during_outage} & set(invoiced), \
            "without a quorum nothing should have been delivered"

        second.start().await_startup()  # quorum back: the backlog kept in the outboxes drains
        stream.allow(PER_PHASE)
        booked = stream.wait_for(4 * PER_PHASE)
        eventually(lambda: _all_invoiced(databases, booked), timeout=180)
        first.start().await_startup()
        stream.allow(PER_PHASE)
        stream.wait_for(5 * PER_PHASE)
        stream.stop.set()
        stream.thread.join(60)
        assert not stream.refused, stream.refused
        committed = list(stream.committed)
        invoiced = eventually(lambda: _all_invoiced(databases, committed), timeout=180)
        time.sleep(3)  # a duplicate delivery still on its way would show up now

        # Nothing lost, nothing twice: one invoice per committed booking, and no other invoice.
        invoiced = _invoiced(databases)
        booked = {booking_id for _, booking_id in committed} | set(
            booking_id for (booking_id,) in _rows(databases["booking"],
                                                  "SELECT id FROM bookings WHERE status = 'confirmed'"))
        assert set(invoiced) == booked and set(invoiced.values()) == {1}
        # Each learner was told once per seat and once per invoice.
        told = "SELECT member_id, kind FROM inbox_messages WHERE kind IN ('booking_confirmed', 'invoice_issued')"
        messages = Counter(tuple(row) for row in _rows(databases["notify"], told))
        seats = Counter(member_id for member_id, _ in committed) + Counter({learners[0][0]: SESSIONS})
        assert messages == Counter({(member, kind): count for member, count in seats.items()
                                    for kind in ("booking_confirmed", "invoice_issued")})
        # The outboxes are empty (published rows are deleted), nothing was dead-lettered, nobody restarted.
        for name in ("booking", "billing"):
            assert eventually(lambda name=name: not _rows(databases[name], "SELECT 1 FROM outbox"), timeout=30)
        depth = {line.split("\t")[0]: int(line.split("\t")[1]) for line in third.ctl(
            "list_queues", "-p", VHOST, "--no-table-headers", "name", "messages").splitlines()}
        assert all(count == 0 for name, count in depth.items() if name.endswith(".dead")), depth
        assert all(process.popen.poll() is None
                   for process in [*processes.web.values(), *processes.workers.values()])
    except AssertionError:
        print(processes.logs())
        raise
    finally:
        processes.stop()
