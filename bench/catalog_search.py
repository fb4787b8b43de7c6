"""Offer searches per second and their latency through the gateway over HTTP, beside a bare endpoint, in one run.

For each mode, embedded (`academy run`, SQLite) and distributed (every service under gunicorn, PostgreSQL), the
academy is started as `make run` and the system tests start it, published offers and their sessions are written
straight into the catalog's database, and then, with 1 and with 16 clients, a mix of searches goes to
GET /api/v1/offers at the gateway: words alone, filters alone, and words with filters. In the same run the same
number of requests goes to bench/bare_app.py's fixed page under the same gunicorn settings and worker count:
the ceiling of the stack on this machine.

    .venv/bin/python bench/catalog_search.py --offers 10000 --sessions-per-offer 5 --requests 600
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.booking import distributed, embedded, run_together  # noqa: E402
from services.catalog import SERVICE  # noqa: E402
from services.catalog.models import (  # noqa: E402
    Offer,
    OfferCompetence,
    OfferLanguage,
    OfferProvider,
    OfferSession,
)
from services.catalog.search import spaced_terms, terms  # noqa: E402
from shared.testing import make_runtime  # noqa: E402
from tests.integration.offer_helpers import COMPETENCES, know_framework  # noqa: E402

WORDS = ("cluster", "partnership", "funding", "strategy", "Förderprogramme", "Netzwerk", "innovation", "digital",
         "Internationalisierung", "members", "services", "roadmap", "Projekte", "excellence", "transfer")
QUERIES = {
    "q": lambda rng: {"q": rng.choice(WORDS)},
    "filters": lambda rng: {"format": rng.choice(("online", "hybrid")), "level": rng.randint(1, 5),
                            "language": rng.choice(("de", "en"))},
    "q+filters": lambda rng: {"q": rng.choice(WORDS), "format": "online", "max_price_cents": 20_000},
}


def seed(session_factory, offers: int, sessions_per_offer: int, rng: random.Random) -> None:
    """Rows as the catalog writes them for published offers, inserted many at a time (the ORM one by one would
    take minutes); the terms and language_codes as search keeps them; the full-text index follows."""
    now = datetime.now(UTC)
    rows: dict[type, list[dict]] = {model: [] for model in (Offer, OfferCompetence, OfferLanguage, OfferProvider,
                                                             OfferSession)}
    for _ in range(offers):
        title = " ".join(rng.sample(WORDS, 3)).capitalize()
        description = " ".join(rng.choices(WORDS, k=30))
        offer_id = str(uuid.uuid4())
        rows[Offer].append(dict(
            id=offer_id, provider_id="provider", status="published", title=title, summary="",
            description=description, format=rng.choice(("online", "in_person", "hybrid")),
            level=rng.randint(1, 5), price_cents=rng.randrange(0, 40_000, 100), currency="EUR", vat_rate=19,
            cancellation_policy="standard", fee_tiers=[[14, 50], [3, 100]], minimum_participants=0,
            maximum_participants=None, decision_days_before=7, created_at=now, updated_at=now, submitted_at=now,
            published_at=now, search_terms=" ".join(sorted(terms(title, description))),
            title_terms=spaced_terms(title), summary_terms=" "))
        rows[OfferCompetence] += [dict(offer_id=offer_id, position=position, name=name)
                                  for position, name in enumerate(rng.sample(sorted(COMPETENCES), 2))]
        languages = rng.sample(("de", "en"), rng.randint(1, 2))
        rows[Offer][-1]["language_codes"] = ",".join(languages)
        rows[OfferLanguage] += [dict(offer_id=offer_id, position=position, code=code)
                                for position, code in enumerate(languages)]
        rows[OfferProvider].append(dict(offer_id=offer_id, member_id="provider", position=0, share_percent=100,
                                        accepted_at=now))
        rows[OfferSession] += [dict(id=str(uuid.uuid4()), offer_id=offer_id, starts_at=now + timedelta(days=day),
                                    ends_at=now + timedelta(days=day, hours=3), seats_online=10, seats_in_person=0,
                                    created_at=now)
                               for day in rng.sample(range(1, 700), sessions_per_offer)]
    with session_factory.begin() as db:
        for model, values in rows.items():
            db.execute(insert(model), values)


def seed_catalog(database_url: str, scratch: Path, args: argparse.Namespace) -> None:
    """The offers, written through the catalog's own models into the database the running catalog reads."""
    runtime = make_runtime(SERVICE, scratch, DATABASE_URL=database_url)
    try:
        know_framework(runtime)
        started = time.perf_counter()
        seed(runtime.session_factory, args.offers, args.sessions_per_offer, random.Random(7))
        if runtime.engine.dialect.name == "postgresql":
            # Statistics as autovacuum would gather them shortly after a load this size; without them the
            # planner guesses the rows a condition keeps.
            with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")
        print(f"  seeded {args.offers} offers, {args.offers * args.sessions_per_offer} sessions "
              f"in {time.perf_counter() - started:.1f} s")
    finally:
        runtime.close()


# --- clients --------------------------------------------------------------------------------------------------------
def run_clients(base: str, plans: list[list[tuple[str, str]]], indexes: list[int], start, queue) -> None:
    """Clients `indexes` of `plans`, a thread and a kept-alive connection each; (kind, seconds, error) to `queue`."""
    address = urlsplit(base)
    results: list[tuple[str, float, str | None]] = []
    gate = threading.Barrier(len(indexes) + 1)

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        gate.wait()
        for kind, path in plans[index]:
            began = time.perf_counter()
            error = None
            try:
                connection.request("GET", path)
                answer = connection.getresponse()
                body = answer.read()
                if answer.status != 200:
                    error = f"{answer.status} {body[:300]!r}"
                elif kind != "bare" and "total" not in json.loads(body):
                    error = f"no total: {body[:300]!r}"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                connection.close()
                connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
            results.append((kind, time.perf_counter() - began, error))
        connection.close()

    run_together(client, indexes, start, gate, queue, results)


def drive(base: str, plans: list[list[tuple[str, str]]], processes: int) -> tuple[float, list]:
    """All clients start together, spread over `processes` forked processes so one interpreter does not pace them;
    the seconds from the start to the last answer, and every result."""
    processes = min(processes, len(plans))
    context = multiprocessing.get_context("fork")
    start, queue = context.Barrier(processes + 1), context.Queue()
    children = [context.Process(target=run_clients, args=(base, plans, list(range(len(plans)))[first::processes],
                                                           start, queue), daemon=True)
                for first in range(processes)]
    for child in children:
        child.start()
    start.wait()
    started = time.monotonic()
    reports = [queue.get() for _ in children]
    for child in children:
        child.join()
    return max(finished for finished, _ in reports) - started, [result for _, results in reports for result in results]


def search_plans(clients: int, requests: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    """`requests` searches in all, the kinds in turn, dealt out to the clients."""
    kinds = list(QUERIES)
    searches = [(kinds[number % len(kinds)], "/api/v1/offers?" + urlencode(QUERIES[kinds[number % len(kinds)]](rng)))
                for number in range(requests)]
    return [searches[client::clients] for client in range(clients)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def line(label: str, count: int, seconds: float, latencies: list[float]) -> str:
    rate = f"{count / seconds:7.1f} req/s" if seconds else " " * 13
    return (f"    {label:10} {rate}  p50 {percentile(latencies, 0.5) * 1000:7.1f} ms"
            f"  p99 {percentile(latencies, 0.99) * 1000:7.1f} ms")


def measure(gateway: str, bare_url: str, args: argparse.Namespace, label: str) -> list[dict]:
    rng = random.Random(11)
    rows = []
    # Warm both up: the first requests of each worker load code and open connections.
    drive(gateway, search_plans(4, 60, rng), args.client_processes)
    drive(bare_url, [[("bare", "/page")] * 30] * 4, args.client_processes)
    for clients in args.clients:
        seconds, results = drive(gateway, search_plans(clients, args.requests, rng), args.client_processes)
        bare_seconds, bare_results = drive(bare_url, [[("bare", "/page")] * (args.requests // clients)] * clients,
                                           args.client_processes)
        errors = [error for _, _, error in results + bare_results if error]
        print(f"  {label}, {clients} client{'s' if clients > 1 else ''}"
              f"{f' ({len(errors)} errors, first: {errors[0]})' if errors else ''}")
        print(line("searches", len(results), seconds, [latency for _, latency, _ in results]))
        for kind in QUERIES:
            print(line(f"  {kind}", 0, 0, [latency for k, latency, _ in results if k == kind]))
        print(line("bare", len(bare_results), bare_seconds, [latency for _, latency, _ in bare_results]))
        ratio = (len(results) / seconds) / (len(bare_results) / bare_seconds)
        print(f"    searches at {ratio:.2f} of the bare endpoint's throughput")
        rows.append({"mode": label, "clients": clients, "ratio": ratio})
    return rows


def bench_mode(mode: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-search-") as scratch_dir:
        scratch = Path(scratch_dir)
        setup = embedded if mode == "embedded" else distributed
        with setup(args, scratch) as target:
            if mode == "embedded":
                catalog_url = f"sqlite:///{scratch / 'data' / 'catalog.sqlite3'}"
                label = f"embedded, SQLite, {target.bare_database.split(', ')[1]}"
            else:
                database = next(name for name in target.databases if name.endswith("_catalog"))
                catalog_url = make_url(args.postgres_url).set(database=database).render_as_string(hide_password=False)
                label = f"distributed, {target.bare_database}"
            print(f"{label}:")
            seed_catalog(catalog_url, scratch / "seed", args)
            base = target.bare_url.rsplit("/", 1)[0]
            measure(target.gateway, base, args, label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("distributed", "embedded", "both"), default="both")
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--sessions-per-offer", type=int, default=5)
    parser.add_argument("--requests", type=int, default=600, help="searches per round (the kinds in turn)")
    parser.add_argument("--clients", default="1,16", help="comma-separated client counts, a round each")
    parser.add_argument("--client-processes", type=int, default=2, help="processes the clients are spread over")
    parser.add_argument("--search-cache-mb", type=int, default=32,
                        help="the academy's SEARCH_CACHE_MB; 0 finds every answer in the database")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    args.clients = [int(count) for count in args.clients.split(",")]
    os.environ["SEARCH_CACHE_MB"] = str(args.search_cache_mb)  # the academies started below inherit it
    for mode in (("embedded", "distributed") if args.mode == "both" else (args.mode,)):
        bench_mode(mode, args)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
