"""Bookings per second with one and with two instances of the booking web service, and the CPU each part spends.

The academy runs distributed (every service under gunicorn with one process, every worker once, PostgreSQL and
RabbitMQ on this machine). Clients post bookings straight to booking, first to one instance, then spread over
two; rounds alternate so that drift of the machine's load falls on both. Every process's CPU is read from
/proc before and after each round, so the figures say where a booking's CPU goes and what more cores would buy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bench.booking import cpu_snapshot, cpu_used  # noqa: E402
from bench.bus import scratch_vhost  # noqa: E402
from shared.auth import ensure_keypair, issue_token  # noqa: E402
from shared.config import SERVICES  # noqa: E402
from tests.system.processes import DistributedAcademy, Process, free_port, wait_until_ready  # noqa: E402
from tests.system.slice import Academy, eventually  # noqa: E402

SESSIONS = 10
CORES = os.cpu_count() or 1
SEATS = 500


def make_databases(admin_url: str) -> tuple[dict[str, str], list[str]]:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    run = uuid.uuid4().hex[:6]
    urls, names = {}, []
    with engine.connect() as connection:
        for service in SERVICES:
            name = f"bench_scale_{run}_{service}"
            connection.execute(text(f'CREATE DATABASE "{name}"'))
            names.append(name)
            urls[service] = engine.url.set(database=name).render_as_string(hide_password=False)
    engine.dispose()
    return urls, names


def drop_databases(admin_url: str, names: list[str]) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def count_rows(database_url: str, table: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text(f"SELECT count(*) FROM {table}"))
    finally:
        engine.dispose()


def run_round(targets: list[str], sessions: list[str], private_key: str, bookings: int, clients: int):
    """Post `bookings` bookings of fresh members, spread over `targets`; returns (seconds, latencies)."""
    tokens = [issue_token(private_key, str(uuid.uuid4()), ["member"]) for _ in range(bookings)]
    local = threading.local()  # one HTTP session per client thread, so connections are kept
    latencies: list[float] = []

    def book(index: int) -> None:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        http = local.http
        started = time.perf_counter()
        answer = http.post(f"{targets[index % len(targets)]}/api/v1/bookings",
                           headers={"Authorization": f"Bearer {tokens[index]}"},
                           json={"session_id": sessions[index % len(sessions)], "format": "online"}, timeout=60)
        latencies.append(time.perf_counter() - started)
        if answer.status_code != 201:
            raise RuntimeError(f"{answer.status_code}: {answer.text[:300]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(book, range(bookings)))
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=600, help="bookings a round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each configuration")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    amqp_url, vhost = scratch_vhost(args.amqp_url)
    databases, names = make_databases(args.postgres_url)
    ensure_keypair(scratch / "keys")
    private_key = (scratch / "keys" / "jwt-private.pem").read_text()
    academy = DistributedAcademy(amqp_url, databases, scratch / "keys", scratch)
    academy.base_env.update({"WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING",
                             "REGISTRATION_RATE_LIMIT": "1000/minute", "LOGIN_RATE_LIMIT": "1000/minute"})
    second = None
    try:
        academy.start()
        second_port = free_port()
        second = Process("booking-2", ["serve", "booking", "--port", str(second_port)],
                         academy.env("booking", amqp_url), scratch).start()
        wait_until_ready(f"http://127.0.0.1:{second_port}/health/live", second)
        instances = [f"http://127.0.0.1:{academy.ports['booking']}", f"http://127.0.0.1:{second_port}"]

        client = Academy(academy.gateway, keys_dir=scratch / "keys")
        _, provider = client.member("provider")
        sessions = [client.published_offer(provider, seats=SEATS)[1] for _ in range(SESSIONS)]
        eventually(lambda: count_rows(databases["booking"], "sessions") == SESSIONS, timeout=60)
        run_round(instances, sessions, private_key, 50, args.clients)  # warm-up: connections, caches

        groups = {academy.web["booking"].popen.pid: "booking web", second.popen.pid: "booking web",
                  academy.workers["booking"].popen.pid: "booking worker",
                  academy.workers["billing"].popen.pid: "billing worker",
                  academy.workers["notify"].popen.pid: "notify worker"}
        print("| booking instances | bookings/s | p50 ms | p95 ms | CPU ms per booking: booking web | "
              "PostgreSQL | RabbitMQ | billing + notify workers | booking worker | load generator | machine busy |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for _ in range(args.rounds):
            for count in (1, 2):
                before = cpu_snapshot(groups, tuple(names), broker=True)
                seconds, latencies = run_round(instances[:count], sessions, private_key, args.bookings,
                                               args.clients)
                after = cpu_snapshot(groups, tuple(names), broker=True)
                used, busy, window = cpu_used(before, after)
                per = {label: 1000 * value / args.bookings for label, value in used.items()}
                quantiles = statistics.quantiles(latencies, n=20)
                print(f"| {count} | {args.bookings / seconds:,.0f} | {1000 * statistics.median(latencies):.0f} | "
                      f"{1000 * quantiles[18]:.0f} | {per.get('booking web', 0):.1f} | "
                      f"{per.get('postgresql backends', 0):.1f} | {per.get('rabbitmq (whole broker)', 0):.1f} | "
                      f"{per.get('billing worker', 0) + per.get('notify worker', 0):.1f} | "
                      f"{per.get('booking worker', 0):.1f} | {per.get('load generator', 0):.1f} | "
                      f"{100 * busy / window / CORES:.0f} % of {CORES} cores |")
        total = 50 + 2 * args.rounds * args.bookings
        started = time.perf_counter()
        eventually(lambda: count_rows(databases["billing"], "invoices") >= total, timeout=600, interval=0.5)
        print(f"all {total} bookings invoiced {time.perf_counter() - started:.1f} s after the last answer")
    finally:
        if second:
            second.kill()
        academy.stop()
        drop_databases(args.postgres_url, names)
        if vhost:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, capture_output=True)


if __name__ == "__main__":
    main()
