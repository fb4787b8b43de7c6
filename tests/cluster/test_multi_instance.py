"""Two web instances and two workers of booking and of billing, each pair on one PostgreSQL database.

The booking race runs through both booking instances at once; both booking relays share one outbox, both
billing consumers one queue, both booking schedulers the sessions whose go / no-go decision is due. Then a
relay and a consumer are killed with SIGKILL while bookings go on: the instances left alone carry on, and still
every booking is invoiced exactly once.
"""

from __future__ import annotations

import signal
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from shared.auth import ensure_keypair
from shared.config import SERVICES
from shared.events import parse_event
from tests.system.processes import DistributedAcademy, Process, free_port, wait_until_ready
from tests.system.slice import Academy, eventually
from tests.system.wiretap import WireTap

pytestmark = pytest.mark.slow
SEATS, RUSHING, STREAMED = 10, 40, 60
DUE = 6  # sessions whose go / no-go decision is due at once
SCALED = ("booking", "billing")


class TwoOfEach(DistributedAcademy):
    """The distributed academy plus a second web process and a second worker of booking and billing."""

    def start(self) -> TwoOfEach:
        super().start()
        self.first_workers = dict(self.workers)
        self.second_web: dict[str, Process] = {}
        self.second_ports: dict[str, int] = {}
        self.second_workers: dict[str, Process] = {}
        self.second_worker_ports: dict[str, int] = {}
        for name in SCALED:
            self.second_ports[name] = port = free_port()
            self.second_web[name] = Process(f"{name}-2", ["serve", name, "--port", str(port)],
                                            self.env(name, self.web_amqp_url), self.log_dir).start()
            self.second_worker_ports[name] = worker_port = free_port()
            self.second_workers[name] = Process(
                f"{name}-worker-2", ["worker", name],
                {**self.env(name, self.worker_amqp_url), "WORKER_PORT": str(worker_port)}, self.log_dir).start()
        for name in SCALED:
            wait_until_ready(f"http://127.0.0.1:{self.second_ports[name]}/health/live", self.second_web[name])
        return self

    def booking_instances(self) -> list[str]:
        return [f"http://127.0.0.1:{self.ports['booking']}", f"http://127.0.0.1:{self.second_ports['booking']}"]

    def stop(self) -> None:
        for process in [*getattr(self, "second_web", {}).values(), *getattr(self, "second_workers", {}).values()]:
            process.kill(signal.SIGTERM)
        super().stop()

    def logs(self) -> str:
        extra = [*getattr(self, "second_web", {}).values(), *getattr(self, "second_workers", {}).values()]
        return super().logs() + "\n".join(f"--- {p.name}\n{p.log()}" for p in extra)


def _rows(database_url: str, query: str, **params) -> list[tuple]:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:  # committed: the test also moves a decision time
            return [tuple(row) for row in connection.execute(text(query), params)]
    finally:
        engine.dispose()


def _counted(port: int, name: str, **labels: str) -> float:
    """The sum of a worker's counter samples that carry `labels`."""
    scrape = requests.get(f"http://127.0.0.1:{port}/", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(scrape) for sample in family.samples
               if sample.name == name and labels.items() <= sample.labels.items())


def _book(base_url: str, token: str, session_id: str) -> requests.Response:
    return requests.post(f"{base_url}/api/v1/bookings", headers={"Authorization": f"Bearer {token}"},
                         json={"session_id": session_id, "format": "online"}, timeout=60)


@pytest.fixture
def academy_processes(amqp_url, make_postgres_database, tmp_path):
    ensure_keypair(tmp_path / "keys")
    databases = {name: make_postgres_database(name) for name in SERVICES}
    processes = TwoOfEach(amqp_url, databases, tmp_path / "keys", tmp_path)
    processes.base_env.update({"WEB_CONCURRENCY": "1", "REGISTRATION_RATE_LIMIT": "1000/minute",
                               "LOGIN_RATE_LIMIT": "1000/minute"})
    try:
        yield processes.start()
    finally:
        processes.stop()


def test_two_instances_share_seats_outbox_and_queue_and_survive_losing_one(academy_processes, amqp_url, tmp_path):
    processes, databases = academy_processes, academy_processes.database_urls
    academy = Academy(processes.gateway, keys_dir=tmp_path / "keys")
    tap = WireTap(amqp_url)
    try:
        _, provider = academy.member("provider")
        _, small = academy.published_offer(provider, seats=SEATS)
        _, large = academy.published_offer(provider, seats=STREAMED)
        due = [academy.published_offer(provider, seats=5)[1] for _ in range(DUE)]
        members = [academy.member(f"learner{index}") for index in range(RUSHING)]
        eventually(lambda: len(_rows(databases["booking"], "SELECT 1 FROM sessions")) == 2 + DUE)

        # The race: every member at once, alternating between the two booking instances.
        instances = processes.booking_instances()
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda job: _book(instances[job[0] % 2], job[1][1], small), enumerate(members)))
        assert Counter(answer.status_code for answer in answers) == {201: RUSHING}, [a.text for a in answers]
        statuses = Counter(answer.json()["status"] for answer in answers)
        assert statuses == {"confirmed": SEATS, "waitlisted": RUSHING - SEATS}
        seats = _rows(databases["booking"], "SELECT confirmed, waiting FROM session_seats "
                                            "WHERE session_id = :s AND format = 'online'", s=small)
        assert seats == [(SEATS, RUSHING - SEATS)]
        positions = _rows(databases["booking"], "SELECT waiting_position FROM bookings WHERE session_id = :s "
                                                "AND status = 'waitlisted' ORDER BY waiting_position", s=small)
        assert [position for (position,) in positions] == list(range(1, RUSHING - SEATS + 1))

        # Two relays, one outbox: every booking event crossed the wire once, none twice.
        def booking_events():
            return Counter(properties.message_id for method, properties, _ in tap.drain()
                           if method.routing_key in ("booking.confirmed", "booking.waitlisted"))
        published = eventually(lambda: sum(booking_events().values()) >= RUSHING and booking_events())
        assert len(published) == RUSHING and set(published.values()) == {1}
        # Two consumers, one queue: one invoice per seat.
        invoiced = eventually(lambda: len(rows := _rows(databases["billing"], "SELECT booking_id FROM invoices"))
                              >= SEATS and rows)
        confirmed = {answer.json()["id"] for answer in answers if answer.json()["status"] == "confirmed"}
        assert sorted(booking_id for (booking_id,) in invoiced) == sorted(confirmed)
        shares = {
            "booking relays": [_counted(port, "events_published_total", service="booking")
                               for port in (processes.worker_ports["booking"],
                                            processes.second_worker_ports["booking"])],
            "billing consumers": [_counted(port, "events_consumed_total", service="billing", outcome="handled")
                                  for port in (processes.worker_ports["billing"],
                                               processes.second_worker_ports["billing"])],
        }
        print("work per instance:", shares)  # how it splits depends on timing; the sums do not
        assert sum(shares["booking relays"]) >= RUSHING and sum(shares["billing consumers"]) >= SEATS

        # Two schedulers, one database: sessions whose go / no-go time has come are decided once each.
        _rows(databases["booking"], "UPDATE sessions SET decision_at = now() - interval '1 second' "
                                    "WHERE session_id = ANY(:due) RETURNING 1", due=due)

        def decisions():
            return Counter(parse_event(body).data.session_id for method, _, body in tap.drain()
                           if method.routing_key == "go_decision.made")
        decided = eventually(lambda: len(made := decisions()) >= DUE and made, timeout=60)
        assert decided == Counter({session_id: 1 for session_id in due})

        # One relay and one consumer die mid-stream; the instances left alone do all the work.
        def stream(index_and_member):
            index, (_, token) = index_and_member
            if index == STREAMED // 3:
                processes.first_workers["booking"].kill(signal.SIGKILL)
                processes.first_workers["billing"].kill(signal.SIGKILL)
            base_url = processes.booking_instances()[index % 2]
            return _book(base_url, token, large)

        more = [academy.member(f"streamer{index}") for index in range(STREAMED - RUSHING)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            streamed = list(pool.map(stream, enumerate(members + more)))
        assert Counter(answer.status_code for answer in streamed) == {201: STREAMED}
        assert {answer.json()["status"] for answer in streamed} == {"confirmed"}
        confirmed |= {answer.json()["id"] for answer in streamed}
        invoices = eventually(lambda: len(rows := _rows(databases["billing"], "SELECT booking_id FROM invoices"))
                              >= len(confirmed) and rows, timeout=90)
        assert Counter(booking_id for (booking_id,) in invoices) == Counter(confirmed)
        assert eventually(lambda: not _rows(databases["booking"], "SELECT 1 FROM outbox"), timeout=30)
        assert processes.second_workers["booking"].popen.poll() is None
        assert processes.second_workers["billing"].popen.poll() is None
    except AssertionError:
        print(processes.logs())
        raise
    finally:
        tap.close()
