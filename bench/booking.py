"""Confirmed bookings per second through the gateway, beside a bare Flask + SQLAlchemy insert, in the same run."""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bench.bus import scratch_vhost  # noqa: E402
from shared.auth import ensure_keypair  # noqa: E402
from shared.config import SERVICES, Settings  # noqa: E402
from tests.system.mailbox import ConfirmationSource  # noqa: E402
from tests.system.processes import DistributedAcademy, EmbeddedProcess, Process, free_port, wait_until_ready  # noqa: E402
from tests.system.slice import Academy, eventually  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TOKEN_MARGIN_SECONDS = 300  # a token must outlive the round it is used in (minutes at most), whatever its lifetime
DRAIN_TIMEOUT_SECONDS = 300
WARMUP_PER_CLIENT = 5
EMBEDDED_SETUP_CLIENTS = 4
SIGN_IN_LIMITS = ("REGISTRATION_RATE_LIMIT", "LOGIN_RATE_LIMIT")
SHOWN_ERRORS = 5
LOAD_GENERATOR = "load generator"
POSTGRES_WRITERS = ("walwriter", "checkpointer", "background writer")  # the server's own, shared with other users


# --- members --------------------------------------------------------------------------------------------------
@dataclass
class Member:
    email: str
    password: str
    id: str = ""
    token: str = ""
    expires_at: float = 0.0  # time.time() when the token runs out

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def random_password() -> str:
    """Long and random, with every kind of character a password policy might ask for."""
    alphabet = string.ascii_letters + string.digits
    while True:
        tail = "".join(secrets.choice(alphabet) for _ in range(24))
        if any(c.islower() for c in tail) and any(c.isupper() for c in tail) and any(c.isdigit() for c in tail):
            return "bench-" + tail


def token_expiry(answer: dict) -> float:
    if isinstance(answer.get("expires_in"), int):
        return time.time() + answer["expires_in"]
    payload = answer["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims.get("exp", time.time() + 3600))


def patient_post(http: requests.Session, url: str, body: dict) -> requests.Response:
    """Setup only: a 503 (SQLite busy for too long) or a 429 (a limit) is tried again after Retry-After."""
    for _ in range(5):
        answer = http.post(url, json=body, timeout=60)
        if answer.status_code not in (429, 503):
            break
        time.sleep(min(60.0, float(answer.headers.get("Retry-After", 1))))
    return answer


def log_in(http: requests.Session, gateway: str, member: Member) -> None:
    answer = patient_post(http, f"{gateway}/api/v1/auth/token", {"email": member.email, "password": member.password})
    if answer.status_code != 200:
        raise RuntimeError(f"token for {member.email}: {answer.status_code} {answer.text[:300]}")
    member.token = answer.json()["access_token"]
    member.expires_at = token_expiry(answer.json())


def register(http: requests.Session, gateway: str, mailbox: ConfirmationSource) -> Member:
    """A member registered and confirmed with the link from the mail the academy sent."""
    member = Member(email=f"bench-{uuid.uuid4().hex}@example.org", password=random_password())
    answer = patient_post(http, f"{gateway}/api/v1/members",
                          {"email": member.email, "password": member.password, "display_name": "Bench Member"})
    if answer.status_code != 202:
        raise RuntimeError(f"registering {member.email}: {answer.status_code} {answer.text[:300]}")
    token = eventually(lambda: mailbox.confirmation_token(member.email), timeout=120)
    answer = patient_post(http, f"{gateway}/api/v1/members/confirmation", {"token": token})
    if answer.status_code != 200:
        raise RuntimeError(f"confirming {member.email}: {answer.status_code} {answer.text[:300]}")
    member.id = answer.json()["id"]
    log_in(http, gateway, member)
    return member


def in_parallel(work: Callable[[requests.Session, object], object], items: list, clients: int) -> list:
    """`work(http, item)` for every item from `clients` threads, each thread with its own HTTP session."""
    local = threading.local()

    def call(item):
        if not hasattr(local, "http"):
            local.http = requests.Session()
        return work(local.http, item)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(call, items))


def refresh_tokens(gateway: str, members: list[Member], clients: int) -> None:
    due = [member for member in members if member.expires_at - time.time() < TOKEN_MARGIN_SECONDS]
    if due:
        print(f"  re-issuing {len(due)} tokens that would run out", flush=True)
        in_parallel(lambda http, member: log_in(http, gateway, member), due, clients)


# --- CPU from /proc ---------------------------------------------------------------------------------------------
@dataclass
class Cpu:
    """CPU seconds so far, by pid with its label, and the machine's busy seconds (all cores)."""

    by_pid: dict[int, tuple[str, float]]
    machine_busy: float
    at: float


def machine_busy_seconds() -> float:
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait; steal (fields[7]) is time the hypervisor gave elsewhere
    return (sum(fields[:7]) - idle) / CLOCK_TICKS


def cpu_snapshot(groups: dict[int, str], databases: tuple[str, ...], broker: bool) -> Cpu:
    """Every process of the run: our process groups, this process, PostgreSQL backends of our databases, RabbitMQ."""
    by_pid: dict[int, tuple[str, float]] = {}
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            with open(f"/proc/{pid}/stat") as stat:
                raw = stat.read()
            comm = raw[raw.index("(") + 1:raw.rindex(")")]
            rest = raw[raw.rindex(")") + 2:].split()
            pgrp, seconds = int(rest[2]), (int(rest[11]) + int(rest[12])) / CLOCK_TICKS
            label = None
            if pid == me:
                # With the client processes of rounds gone by, which were waited for (the academy's were not).
                label, seconds = LOAD_GENERATOR, (sum(int(field) for field in rest[11:15])) / CLOCK_TICKS
            elif pgrp in groups:
                label = groups[pgrp]
            elif comm == "postgres":
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    title = cmdline.read().decode(errors="replace")
                if any(f" {name} " in title for name in databases):
                    label = "postgresql backends"
                elif databases and any(word in title for word in POSTGRES_WRITERS):
                    label = "postgresql background (shared)"
            elif comm == "beam.smp" and broker:
                label = "rabbitmq (whole broker)"
        except (OSError, ValueError, IndexError):
            continue  # gone while we looked
        if label:
            by_pid[pid] = (label, seconds)
    return Cpu(by_pid, machine_busy_seconds(), time.perf_counter())


def cpu_used(before: Cpu, after: Cpu) -> tuple[dict[str, float], float, float]:
    """(CPU seconds by label, machine busy seconds, window seconds) between two snapshots."""
    used: dict[str, float] = defaultdict(float)
    for pid, (label, seconds) in after.by_pid.items():
        earlier = before.by_pid.get(pid)
        used[label] += seconds - (earlier[1] if earlier and earlier[0] == label else 0.0)
    return dict(used), after.machine_busy - before.machine_busy, after.at - before.at


# --- rounds ---------------------------------------------------------------------------------------------------------
@dataclass
class Task:
    headers: dict[str, str]
    body: dict[str, str]
    member: Member | None = None
    sampled: bool = False  # followed to its invoice and inbox message after the round


@dataclass
class Outcome:
    count: int
    seconds: float
    latencies: list[float]
    errors: list[str]
    sampled: list[tuple[Member, dict]]
    cpu: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    window: float = 0.0
    drained_after: float | None = None
    lags: list[tuple[float, float]] = field(default_factory=list)
    missing: int = 0
    client_processes: int = 1

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def cpu_ms_per_request(self) -> float:
        """The servers' side: every process of the run but the load generator."""
        return sum(seconds for label, seconds in self.cpu.items() if label != LOAD_GENERATOR) / self.count * 1000

    def others_share(self) -> float:
        """Work on the machine outside this run's processes, in % of one core (other users' tests, say)."""
        return max(0.0, self.machine_busy - sum(self.cpu.values())) / self.window * 100


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def run_clients(url: str, plans: list[list[Task]], indexes: list[int], start, queue, rate: float | None = None
                ) -> None:
    """Clients `indexes` of `plans`, a thread and a connection each, from `start` on; their results go to `queue`.
    With a `rate`, the clients together send that many requests a second at most, in turn (a client that fell
    behind its turn sends at once).

    Each result is (client, task, seconds, answer of a sampled task, error).
    """
    results: list[tuple[int, int, float, dict | None, str | None]] = []
    gate = threading.Barrier(len(indexes) + 1)

    def client(index: int) -> None:
        with requests.Session() as http:
            gate.wait()
            opened = time.perf_counter()
            for number, task in enumerate(plans[index]):
                if rate:
                    time.sleep(max(0.0, opened + (number * len(plans) + index) / rate - time.perf_counter()))
                began = time.perf_counter()
                answer, error = None, None
                try:
                    response = http.post(url, json=task.body, headers=task.headers, timeout=60)
                    if response.status_code != 201:
                        error = f"{response.status_code} {response.text[:300]}"
                    else:
                        answer = response.json()
                        if answer.get("status") != "confirmed":
                            error = f"201 but {answer.get('status')}: {response.text[:300]}"
                except (requests.RequestException, ValueError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                results.append((index, number, time.perf_counter() - began, answer if task.sampled else None, error))

    run_together(client, indexes, start, gate, queue, results)


def run_together(client: Callable[[int], None], indexes: list[int], start, gate: threading.Barrier, queue,
                 results: list) -> None:
    """A thread per client index, all let go at once after `start`; their `results` go to `queue` when done."""
    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in indexes]
    for thread in threads:
        thread.start()
    start.wait()
    gate.wait()
    for thread in threads:
        thread.join()
    queue.put((time.monotonic(), results))


def drive(url: str, plans: list[list[Task]], processes: int, before: Callable[[], None],
          rate: float | None = None) -> Outcome:
    """All clients start together; the clock runs from then until the last answer.

    The clients are spread over `processes` forked processes, so that one interpreter's lock does not pace them;
    each round has fresh connections, since one kept from the last round may be closed by the server's
    keep-alive timeout just as it is reused, which would be the client's error, not the server's.
    """
    context = multiprocessing.get_context("fork")
    start, queue = context.Barrier(processes + 1), context.Queue()
    children = [context.Process(target=run_clients, args=(url, plans, list(range(len(plans)))[first::processes],
                                                           start, queue, rate), daemon=True)
                for first in range(processes)]
    for child in children:
        child.start()
    before()
    start.wait()
    started = time.monotonic()
    reports = [queue.get() for _ in children]
    for child in children:
        child.join()  # reaped, so their CPU time shows in this process's children's times
    seconds = max(finished for finished, _ in reports) - started
    flat = [result for _, results in reports for result in results]
    return Outcome(
        count=len(flat), seconds=seconds, latencies=[latency for _, _, latency, _, _ in flat],
        errors=[error for *_, error in flat if error],
        sampled=[(plans[index][number].member, answer) for index, number, _, answer, error in flat
                 if answer is not None and not error],
        client_processes=processes,
    )


def when(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def newest(http: requests.Session, url: str, member: Member) -> list[dict]:
    answer = http.get(url, headers=member.headers(), params={"per_page": 100}, timeout=60)
    return answer.json()["items"] if answer.status_code == 200 else []


def arrival(http: requests.Session, gateway: str, member: Member, booking: dict) -> tuple[float, float] | None:
    """(invoice lag, inbox message lag) in seconds from the payloads' timestamps, once both exist."""
    invoices = newest(http, f"{gateway}/api/v1/invoices", member)
    invoice = next((item for item in invoices if item["booking_id"] == booking["id"]), None)
    if invoice is None:
        return None
    # The member has other bookings; the "invoice issued" message names the booking it is about.
    messages = newest(http, f"{gateway}/api/v1/notifications", member)
    message = next((item for item in messages if item["kind"] == "invoice_issued"
                    and booking["id"] in item["subject"] + item["body"]), None)
    if message is None:
        return None
    # The servers' own timestamps (one clock on one machine), so how often and how late we look changes nothing.
    confirmed = when(booking["confirmed_at"])
    return when(invoice["issued_at"]) - confirmed, when(message["created_at"]) - confirmed


def follow(http: requests.Session, gateway: str, member: Member, booking: dict, timeout: float,
           interval: float = 0.05) -> tuple[float, float] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = arrival(http, gateway, member, booking)
        if found:
            return found
        time.sleep(interval)
    return None


# --- the systems under test -------------------------------------------------------------------------------------
@dataclass
class Target:
    mode: str
    gateway: str
    bare_url: str
    bare_database: str
    groups: dict[int, str]  # process group id -> label
    databases: tuple[str, ...]  # on the shared PostgreSQL server, whose backends are counted by database
    broker: bool  # RabbitMQ takes part (it is counted whole: other users' vhosts cannot be told apart)
    setup_clients: int  # registering and logging in hash passwords: as many at once as the academy can take
    keys_dir: Path  # the academy's signing keys: offers are approved with a reviewer's token signed by them
    keys_dir: Path  # the academy's signing keys, to review and publish the offers booked


def start_bare(database_url: str, workers: int, log_dir: Path) -> tuple[Process, str]:
    """bench/bare_app.py under gunicorn; returns the process and its insert URL."""
    port = free_port()
    bare = Process("bare", [], dict(os.environ), log_dir)
    with bare.log_path.open("ab") as log:
        bare.popen = subprocess.Popen(
            [sys.executable, str(BENCH / "bare_app.py"), "--database-url", database_url, "--port", str(port),
             "--workers", str(workers)],
            cwd=BENCH.parent, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    wait_until_ready(f"http://127.0.0.1:{port}/health", bare)
    return bare, f"http://127.0.0.1:{port}/insert"


@contextlib.contextmanager
def distributed(args: argparse.Namespace, scratch: Path) -> Iterator[Target]:
    run = uuid.uuid4().hex[:8]
    admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    names = {name: f"bench_{run}_{name}" for name in (*SERVICES, "bare")}
    amqp_url, vhost = scratch_vhost(args.amqp_url)
    academy = bare = None
    try:
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        urls = {key: admin.url.set(database=name).render_as_string(hide_password=False)
                for key, name in names.items()}
        ensure_keypair(scratch / "keys")
        academy = DistributedAcademy(amqp_url, {name: urls[name] for name in SERVICES}, scratch / "keys", scratch)
        academy.start()
        workers = int(academy.base_env["WEB_CONCURRENCY"])
        bare, bare_url = start_bare(urls["bare"], workers, scratch)
        groups = {process.popen.pid: f"{name} web" for name, process in academy.web.items()}
        groups |= {process.popen.pid: f"{name} worker" for name, process in academy.workers.items()}
        groups[bare.popen.pid] = "bare app"
        yield Target("distributed", academy.gateway, bare_url, f"PostgreSQL, {workers} workers", groups,
                     tuple(names.values()), True, args.clients, academy.keys_dir)
    finally:
        if bare:
            bare.kill(signal.SIGTERM)
        if academy:
            academy.stop()
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        if vhost:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


@contextlib.contextmanager
def embedded(args: argparse.Namespace, scratch: Path) -> Iterator[Target]:
    academy = EmbeddedProcess(scratch / "data", scratch)
    bare = None
    try:
        academy.start()
        # The bare app gets what a distributed service would: the default gunicorn worker count.
        workers = Settings.from_env("booking", {}).web_concurrency
        bare, bare_url = start_bare(f"sqlite:///{scratch / 'bare.sqlite3'}", workers, scratch)
        groups = {academy.process.popen.pid: "academy run", bare.popen.pid: "bare app"}
        yield Target("embedded", academy.url, bare_url, f"SQLite WAL, {workers} workers", groups, (), False,
                     # Each login holds SQLite's write lock while it hashes: 16 at once wait past the busy timeout.
                     EMBEDDED_SETUP_CLIENTS, academy.keys_dir)
    finally:
        if bare:
            bare.kill(signal.SIGTERM)
        academy.kill(signal.SIGTERM)


# --- one mode -----------------------------------------------------------------------------------------------------
@dataclass
class Row:
    mode: str
    load: str
    round: int
    academy: Outcome
    bare: Outcome
    bare_database: str


def published_sessions(academy: Academy, provider: Member, seats: list[int]) -> list[str]:
    """One published offer per session; waits until the booking service has heard of every session."""
    sessions = [academy.published_offer(provider.token, seats=count)[1] for count in seats]
    for session_id in sessions:
        eventually(lambda session_id=session_id: academy.call(
            "GET", f"/api/v1/sessions/{session_id}/participants", provider.token).status_code == 200, timeout=120)
    return sessions


def booking_task(member: Member, session_id: str, idempotency_key: bool) -> Task:
    key = {"Idempotency-Key": str(uuid.uuid4())} if idempotency_key else {}
    return Task({**member.headers(), **key}, {"session_id": session_id, "format": "online"}, member)


def plan_round(pool: list[Member], sessions: list[str], clients: int, samples: int,
               idempotency_key: bool = True) -> list[list[Task]]:
    """Client i books sessions[i] (or the only session) with every clients-th member; `samples` chosen at random."""
    plans = [[booking_task(member, sessions[index % len(sessions)], idempotency_key) for member in pool[index::clients]]
             for index in range(clients)]
    for task in random.sample([task for plan in plans for task in plan], samples):
        task.sampled = True
    return plans


def bare_plan(plans: list[list[Task]]) -> list[list[Task]]:
    """The same requests, bodies and order for the bare endpoint, which needs no token."""
    return [[Task({}, task.body) for task in plan] for plan in plans]


def run_mode(target: Target, args: argparse.Namespace) -> list[Row]:
    academy = Academy(target.gateway, target.keys_dir)
    gateway, clients, loads = target.gateway, args.clients, args.loads
    started = time.perf_counter()
    markers = args.rounds * len(loads) + 1  # a member with a single booking per round, and one for the warm-up
    members = in_parallel(lambda http, _: register(http, gateway, academy.mailbox),
                          [None] * (1 + args.bookings + markers), target.setup_clients)
    provider, pool, spare = members[0], members[1:1 + args.bookings], iter(members[1 + args.bookings:])
    per_client = math.ceil(args.bookings / clients) + 2  # room for the marker
    warmup_per_client = min(WARMUP_PER_CLIENT, len(pool) // clients)
    seats = {"warmup": [warmup_per_client * clients + 2], "many": [per_client] * clients * args.rounds,
             "hot": [args.bookings + 2] * args.rounds}
    refresh_tokens(gateway, [provider], 1)  # signing up thousands of members may outlast a short-lived token
    sessions = {load: published_sessions(academy, provider, seats[load]) for load in ("warmup", *loads)}
    print(f"  setup: {len(members)} members, {sum(len(s) for s in sessions.values())} sessions in "
          f"{time.perf_counter() - started:.0f} s", flush=True)

    follower = requests.Session()

    def snapshot() -> Cpu:
        return cpu_snapshot(target.groups, target.databases, target.broker)

    def academy_round(plans: list[list[Task]], session_id: str, marker: Member, rate: float | None = None) -> Outcome:
        before: list[Cpu] = []
        outcome = drive(f"{gateway}/api/v1/bookings", plans, args.client_processes, lambda: before.append(snapshot()),
                        rate)
        ended = time.perf_counter()
        # The marker is booked after the round, so once its message is stored the round's backlog is gone.
        booked = follower.post(f"{gateway}/api/v1/bookings", json={"session_id": session_id, "format": "online"},
                               headers=marker.headers(), timeout=60)
        if booked.status_code == 201 and follow(follower, gateway, marker, booked.json(), DRAIN_TIMEOUT_SECONDS):
            outcome.drained_after = time.perf_counter() - ended
        else:
            outcome.errors.append(f"drain marker: {booked.status_code} {booked.text[:200]}, or no invoice/message")
        outcome.cpu, outcome.machine_busy, outcome.window = cpu_used(before[0], snapshot())
        for member, booking in outcome.sampled:
            lags = follow(follower, gateway, member, booking, 60, interval=0.2)
            if lags:
                outcome.lags.append(lags)
            else:
                outcome.missing += 1
        return outcome

    def bare_round(plans: list[list[Task]]) -> Outcome:
        before: list[Cpu] = []
        outcome = drive(target.bare_url, bare_plan(plans), args.client_processes,
                        lambda: before.append(snapshot()))
        outcome.cpu, outcome.machine_busy, outcome.window = cpu_used(before[0], snapshot())
        return outcome

    # Warm-up: connection pools, imports and caches on both sides; not reported.
    warm = plan_round(pool[:warmup_per_client * clients], sessions["warmup"], clients, 0)
    warmed = academy_round(warm, sessions["warmup"][0], next(spare))
    bare_round(warm)
    if warmed.errors:
        print(f"  warm-up errors: {warmed.errors[:SHOWN_ERRORS]}", flush=True)

    rows = []
    for load in loads:
        for number in range(1, args.rounds + 1):
            if load == "many":
                round_sessions = sessions["many"][(number - 1) * clients:number * clients]
            else:
                round_sessions = [sessions["hot"][number - 1]]
            marker = next(spare)
            refresh_tokens(gateway, [*pool, marker], target.setup_clients)
            plans = plan_round(pool, round_sessions, clients, args.samples, not args.no_idempotency_key)
            academy_outcome = academy_round(plans, round_sessions[0], marker, args.rate)
            row = Row(target.mode, load, number, academy_outcome, bare_round(plans), target.bare_database)
            print_row(row)
            rows.append(row)
    return rows


# --- reporting ------------------------------------------------------------------------------------------------------
def ms(values: list[float]) -> str:
    return " / ".join(f"{percentile(values, share) * 1000:.0f}" for share in (0.5, 0.99, 1.0))


def seconds_pair(values: list[float]) -> str:
    return f"{percentile(values, 0.5):.2f} / {percentile(values, 0.99):.2f} s" if values else "n/a"


def core_shares(cpu: dict[str, float], window: float, count: int | None = None) -> str:
    """Each process's % of one core, and with `count` its milliseconds per request too."""
    shares = sorted(cpu.items(), key=lambda item: -item[1])
    return ", ".join(f"{label} {seconds / window * 100:.0f}%" + (f" ({seconds / count * 1000:.1f} ms)" if count else "")
                     for label, seconds in shares if seconds >= window / 200)


def print_row(row: Row) -> None:
    a, b = row.academy, row.bare
    cores = os.cpu_count() or 1
    print(f"{row.mode} {row.load} round {row.round}", flush=True)
    print(f"  academy: {a.count} bookings in {a.seconds:.1f} s = {a.rate:.1f}/s, p50/p99/max {ms(a.latencies)} ms, "
          f"errors {len(a.errors)}; drained {a.drained_after or float('nan'):.2f} s after the last answer")
    for error in a.errors[:SHOWN_ERRORS]:
        print(f"    error: {error}")
    lags = a.lags
    print(f"  booking -> invoice p50/p99 {seconds_pair([lag[0] for lag in lags])}, -> inbox message "
          f"{seconds_pair([lag[1] for lag in lags])} ({len(lags)} sampled, {a.missing} never arrived)")
    print(f"  academy CPU {a.cpu_ms_per_request():.1f} ms per booking over {a.window:.1f} s, machine "
          f"{a.machine_busy / a.window / cores * 100:.0f}% busy, others {a.others_share():.0f}% of one core; "
          f"% of one core: {core_shares(a.cpu, a.window)}")
    print(f"  bare:    {b.count} inserts in {b.seconds:.1f} s = {b.rate:.1f}/s, p50/p99/max {ms(b.latencies)} ms, "
          f"errors {len(b.errors)}; ratio academy/bare {a.rate / b.rate:.2f}")
    for error in b.errors[:SHOWN_ERRORS]:
        print(f"    error: {error}")
    print(f"  bare CPU {b.cpu_ms_per_request():.1f} ms per insert, machine "
          f"{b.machine_busy / b.window / cores * 100:.0f}% busy, others {b.others_share():.0f}% of one core; "
          f"% of one core: {core_shares(b.cpu, b.window)}", flush=True)
    for outcome in (a, b):
        # Near a full core per client process, the interpreter's lock and not the server may set the pace.
        if outcome.cpu.get(LOAD_GENERATOR, 0) / outcome.seconds > 0.9 * outcome.client_processes:
            print("  warning: the client processes used over 90% of a core each; try more --client-processes",
                  flush=True)


LOAD_NAMES = {"many": "many sessions", "hot": "one hot session"}


def markdown(rows: list[Row], args: argparse.Namespace) -> str:
    lines = [
        f"{args.clients} clients, {args.bookings} bookings a round "
        f"({'without' if args.no_idempotency_key else 'each with its own'} Idempotency-Key), rounds alternating "
        f"academy / bare endpoint; lags from {args.samples} sampled bookings a round",
        "",
        "| mode | load | round | academy bookings/s | p50 / p99 / max ms | errors | bare inserts/s (same run) "
        "| ratio | booking -> invoice p50 / p99 | -> inbox message p50 / p99 | CPU ms per booking / per insert |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        a, b = row.academy, row.bare
        lines.append(
            f"| {row.mode} | {LOAD_NAMES[row.load]} | {row.round} | {a.rate:,.0f} | {ms(a.latencies)} "
            f"| {len(a.errors) + len(b.errors)} | {b.rate:,.0f} ({row.bare_database}) | {a.rate / b.rate:.2f} "
            f"| {seconds_pair([lag[0] for lag in a.lags])} | {seconds_pair([lag[1] for lag in a.lags])} "
            f"| {a.cpu_ms_per_request():.1f} / {b.cpu_ms_per_request():.1f} |"
        )
    cores = os.cpu_count() or 1
    lines += ["", f"CPU over all rounds (academy: round plus drain), % of one core ({cores} cores in all) and ms per "
              "request; \"others\" is work on the machine outside this run", "",
              "| mode | load | side | machine busy | others | by process |", "|---|---|---|---|---|---|"]
    grouped: dict[tuple[str, str, str], list[Outcome]] = defaultdict(list)
    for row in rows:
        grouped[row.mode, row.load, "academy"].append(row.academy)
        grouped[row.mode, row.load, "bare"].append(row.bare)
    for (mode, load, side), outcomes in grouped.items():
        window = sum(outcome.window for outcome in outcomes)
        total: dict[str, float] = defaultdict(float)
        for outcome in outcomes:
            for label, seconds in outcome.cpu.items():
                total[label] += seconds
        busy, count = sum(outcome.machine_busy for outcome in outcomes), sum(outcome.count for outcome in outcomes)
        lines.append(f"| {mode} | {LOAD_NAMES[load]} | {side} | {busy / window / cores * 100:.0f}% "
                     f"| {max(0.0, busy - sum(total.values())) / window * 100:.0f}% "
                     f"| {core_shares(total, window, count)} |")
    return "\n".join(lines)


def keep_logs(scratch: Path, mode: str) -> None:
    kept = Path(tempfile.mkdtemp(prefix=f"bench-booking-{mode}-logs-"))
    for log in scratch.glob("*.log"):
        shutil.copy(log, kept)
    print(f"{mode}: the processes' logs are kept in {kept}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("distributed", "embedded", "both"), default="both")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--bookings", type=int, default=None, help="bookings a round (default 2000, 300 with --quick)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loads", default="many,hot", help="comma-separated: many (no contention), hot (one session)")
    parser.add_argument("--samples", type=int, default=20, help="bookings a round followed to invoice and inbox")
    parser.add_argument("--rate", type=float, default=None,
                        help="bookings a second the clients send at most (e.g. half the maximum, for the lags at that "
                             "load); the bare rounds stay unpaced")
    parser.add_argument("--quick", action="store_true", help="300 bookings a round")
    parser.add_argument("--client-processes", type=int, default=min(os.cpu_count() or 1, 2),
                        help="processes the client threads are spread over (default: 2, or 1 on one core)")
    parser.add_argument("--no-idempotency-key", action="store_true",
                        help="book without an Idempotency-Key header (by default each booking carries a new one)")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an administrator's URL: the run creates its databases there and drops them")
    args = parser.parse_args()
    args.bookings = args.bookings or (300 if args.quick else 2000)
    args.loads = [load for load in args.loads.split(",") if load]
    if set(args.loads) - set(LOAD_NAMES) or args.bookings < max(args.clients, args.samples):
        parser.error("loads are many and hot; --bookings must be at least --clients and --samples")

    # Setup signs up and signs in thousands of members from one address, which the per-address limits on those
    # endpoints exist to refuse; the academies inherit this environment. Bookings are not limited either way.
    for name in SIGN_IN_LIMITS:
        os.environ.setdefault(name, "1000000/minute")
    modes = ("distributed", "embedded") if args.mode == "both" else (args.mode,)
    rows: list[Row] = []
    for mode in modes:
        print(f"{mode}: starting", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-booking-") as scratch:
            start = distributed if mode == "distributed" else embedded
            try:
                with start(args, Path(scratch)) as target:
                    mode_rows = run_mode(target, args)
            except AssertionError as exc:  # a process that did not start, or setup that did not go through
                print(f"{mode}: failed:\n{exc}", file=sys.stderr)
                keep_logs(Path(scratch), mode)
                sys.exit(2)
            except BaseException:
                keep_logs(Path(scratch), mode)
                raise
            rows += mode_rows
            if any(row.academy.errors or row.bare.errors or row.academy.missing for row in mode_rows):
                keep_logs(Path(scratch), mode)
    print()
    print(markdown(rows, args))
    failed = sum(len(row.academy.errors) + len(row.bare.errors) + row.academy.missing for row in rows)
    if failed:
        print(f"\n{failed} bookings failed or never reached the inbox", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
