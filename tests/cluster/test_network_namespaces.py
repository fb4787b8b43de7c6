"""The academy's processes on a host of their own: a network namespace with one address and a veth link.

PostgreSQL and RabbitMQ sit behind addresses of their own on the other end of the link (a relay on each
forwards to the machine's servers, which listen on loopback only), so configuration by URL is all that
connects them: inside the namespace 127.0.0.1 reaches nothing of theirs. The link to RabbitMQ is slowed down
(tc netem where the kernel has it, else the relay holds every chunk); the flows stay correct, only slower.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlparse, urlunparse

import pytest
from sqlalchemy.engine import make_url

from shared.auth import ensure_keypair
from shared.config import SERVICES
from tests.cluster.netns import Namespace, Relay, namespaces_unavailable
from tests.conftest import _missing
from tests.system.processes import REPO, DistributedAcademy, Process, free_port, wait_until_ready
from tests.system.slice import Academy, run_slice, run_waiting_list

pytestmark = pytest.mark.slow
SUBNET = f"10.213.{os.getpid() % 200 + 20}"
POSTGRES_HOST, RABBITMQ_HOST = 10, 20  # the last byte of their addresses
LINK_DELAY_S = 0.02


class NamespacedProcess(Process):
    def __init__(self, namespace: Namespace, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.namespace = namespace

    def start(self) -> NamespacedProcess:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace.name, sys.executable, "-m", "academy.cli", *self.args],
            env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self


class NamespacedAcademy(DistributedAcademy):
    """Every web process and worker inside `namespace`, reached and reaching each other at its address."""

    def __init__(self, namespace: Namespace, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.namespace = namespace
        self.base_env.update({f"{name.upper()}_URL": f"http://{namespace.address}:{port}"
                              for name, port in self.ports.items()})

    @property
    def gateway(self) -> str:
        return f"http://{self.namespace.address}:{self.ports['catalog']}"

    def start_worker(self, name: str) -> Process:
        self.worker_ports[name] = free_port()
        env = {**self.env(name, self.worker_amqp_url), "WORKER_PORT": str(self.worker_ports[name])}
        self.workers[name] = NamespacedProcess(self.namespace, f"{name}-worker", ["worker", name], env,
                                               self.log_dir).start()
        return self.workers[name]

    def start(self) -> NamespacedAcademy:
        self.migrate()  # from the host, through the same relay
        for name in SERVICES:
            self.web[name] = NamespacedProcess(self.namespace, name, ["serve", name, "--port", str(self.ports[name])],
                                               self.env(name, self.web_amqp_url), self.log_dir).start()
            self.start_worker(name)
        for name in SERVICES:
            wait_until_ready(f"http://{self.namespace.address}:{self.ports[name]}/health/live", self.web[name])
        return self


@pytest.fixture
def namespace():
    if os.geteuid() != 0:
        _missing("network namespaces: the tests are not run as root")
    reason = namespaces_unavailable()
    if reason:
        _missing(f"network namespaces: {reason}")
    made = Namespace(SUBNET, host_addresses=(POSTGRES_HOST, RABBITMQ_HOST)).create()
    try:
        yield made
    finally:
        made.delete()


def _moved(url: str, host: str, port: int) -> str:
    if url.startswith("amqp"):
        parsed = urlparse(url)
        return urlunparse(parsed._replace(netloc=f"{parsed.username}:{parsed.password}@{host}:{port}"))
    return make_url(url).set(host=host, port=port).render_as_string(hide_password=False)


def test_the_academy_runs_on_a_host_of_its_own_over_a_slow_link(namespace, amqp_url, postgres_server,
                                                               make_postgres_database, tmp_path):
    postgres_admin = make_url(postgres_server)
    postgres = Relay((f"{SUBNET}.{POSTGRES_HOST}", 5432), (postgres_admin.host, postgres_admin.port or 5432)).start()
    netem = namespace.netem("delay", f"{int(LINK_DELAY_S * 1000)}ms", "loss", "1%")
    broker = urlparse(amqp_url)
    rabbitmq = Relay((f"{SUBNET}.{RABBITMQ_HOST}", 5672), (broker.hostname, broker.port or 5672),
                     delay=0.0 if netem else LINK_DELAY_S).start()
    try:
        # Inside the namespace the servers are not at 127.0.0.1: only their URLs lead to them.
        probe = ("import socket, sys\n"
                 "for port in (5432, 5672):\n"
                 "    with socket.socket() as s:\n"
                 "        s.settimeout(2)\n"
                 "        sys.stdout.write(str(s.connect_ex(('127.0.0.1', port))) + ' ')\n")
        codes = namespace.run(sys.executable, "-c", probe).stdout.split()
        assert all(code != "0" for code in codes), f"loopback reaches a server inside the namespace: {codes}"

        ensure_keypair(tmp_path / "keys")
        databases = {name: _moved(make_postgres_database(name), f"{SUBNET}.{POSTGRES_HOST}", 5432)
                     for name in SERVICES}
        academy = NamespacedAcademy(namespace, _moved(amqp_url, f"{SUBNET}.{RABBITMQ_HOST}", 5672), databases,
                                    tmp_path / "keys", tmp_path)
        academy.base_env.update({"REGISTRATION_RATE_LIMIT": "1000/minute", "LOGIN_RATE_LIMIT": "1000/minute"})
        try:
            academy.start()
            client = Academy(academy.gateway, keys_dir=tmp_path / "keys")
            result = run_slice(client, timeout=90)
            run_waiting_list(client, timeout=90)
        except AssertionError:
            print(academy.logs())
            raise
        finally:
            academy.stop()
        assert {item["kind"] for item in result["inbox"]} >= {"booking_confirmed", "invoice_issued"}
        # The events went over the slow link, not around it.
        assert netem or rabbitmq.delayed_chunks > 0
    finally:
        rabbitmq.stop()
        postgres.stop()
