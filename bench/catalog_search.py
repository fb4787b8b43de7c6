"""Offer searches per second and their latency, in one process on the catalog's own app, beside a bare endpoint.

Seeds published offers (and their sessions) straight into a fresh catalog database, SQLite by default or
PostgreSQL with --database-url, then sends a mix of searches one at a time through the catalog's WSGI app (no
HTTP server, no gateway) and, alternating with them, the same number of requests to a bare Flask endpoint that
answers a fixed page: the ceiling of the stack in this process.

    .venv/bin/python bench/catalog_search.py --offers 10000 --sessions-per-offer 5 --requests 300
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from flask import Flask, jsonify  # noqa: E402

from services.catalog import SERVICE  # noqa: E402
from services.catalog.models import Offer, OfferProvider, OfferSession, OfferTerm  # noqa: E402
from services.catalog.search import terms  # noqa: E402
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


def seed(runtime, offers: int, sessions_per_offer: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    with runtime.session_factory.begin() as db:
        for _ in range(offers):
            title = " ".join(rng.sample(WORDS, 3)).capitalize()
            description = " ".join(rng.choices(WORDS, k=30))
            offer_id = str(uuid.uuid4())
            db.add(Offer(
                id=offer_id, provider_id="provider", status="published", title=title, summary="",
                description=description, format=rng.choice(("online", "in_person", "hybrid")),
                level=rng.randint(1, 5), price_cents=rng.randrange(0, 40_000, 100), currency="EUR", vat_rate=19,
                cancellation_policy="standard", fee_tiers=[[14, 50], [3, 100]], minimum_participants=0,
                decision_days_before=7, created_at=now, updated_at=now, published_at=now,
                term_rows=[OfferTerm(term=term) for term in sorted(terms(title, description))],
                competences=rng.sample(sorted(COMPETENCES), 2), languages=rng.sample(("de", "en"), rng.randint(1, 2)),
                providers=[OfferProvider(member_id="provider", position=0, share_percent=100, accepted_at=now)],
                sessions=[OfferSession(id=str(uuid.uuid4()), starts_at=now + timedelta(days=day),
                                       ends_at=now + timedelta(days=day, hours=3), seats_online=10,
                                       seats_in_person=0, created_at=now)
                          for day in rng.sample(range(1, 700), sessions_per_offer)],
            ))


def bare_client():
    app = Flask("bare")
    page = {"items": [], "total": 0, "page": 1, "per_page": 20}
    app.add_url_rule("/bare", "bare", lambda: jsonify(page))
    return app.test_client()


def percentile(values: list[float], share: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * share))]


def run(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as scratch:
        env = {"DATABASE_URL": args.database_url} if args.database_url else {}
        runtime = make_runtime(SERVICE, Path(scratch), **env)
        try:
            know_framework(runtime)
            started = time.perf_counter()
            seed(runtime, args.offers, args.sessions_per_offer, rng)
            print(f"seeded {args.offers} offers, {args.offers * args.sessions_per_offer} sessions "
                  f"in {time.perf_counter() - started:.1f} s on {runtime.engine.dialect.name}")
            catalog, bare = SERVICE.create_app(runtime).test_client(), bare_client()
            bare_times: list[float] = []
            for kind, make_query in QUERIES.items():
                times = []
                for _ in range(args.requests):
                    query = make_query(rng)
                    began = time.perf_counter()
                    answer = catalog.get("/api/v1/offers", query_string=query)
                    times.append(time.perf_counter() - began)
                    assert answer.status_code == 200, answer.get_data(as_text=True)
                    began = time.perf_counter()
                    bare.get("/bare")
                    bare_times.append(time.perf_counter() - began)
                print(f"{kind:10} {len(times) / sum(times):7.1f} req/s  p50 {statistics.median(times) * 1000:6.1f} ms"
                      f"  p99 {percentile(times, 0.99) * 1000:6.1f} ms")
            print(f"{'bare':10} {len(bare_times) / sum(bare_times):7.1f} req/s  p50 "
                  f"{statistics.median(bare_times) * 1000:6.1f} ms  p99 {percentile(bare_times, 0.99) * 1000:6.1f} ms")
        finally:
            runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--sessions-per-offer", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300, help="per kind of search")
    parser.add_argument("--database-url", help="a fresh PostgreSQL database (default: SQLite in a temp dir)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
