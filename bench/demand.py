"""Demand analysis over 100,000 completed assessments (35 ratings each) on SQLite and PostgreSQL, beside a plain
SQL GROUP BY over the same rating rows in the same run.

The academy answers from its demand cells (kept up to date as assessments complete); the plain GROUP BY reads
every rating. Both answers are compared, so the figures are for the same result.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from sqlalchemy import Engine, insert, select, text  # noqa: E402

from bench.scratch_databases import scratch_engines  # noqa: E402
from services.assessment import SERVICE, demand  # noqa: E402
from services.assessment.domain import Framework, load_framework_file  # noqa: E402
from services.assessment.models import Assessment, Rating  # noqa: E402
from shared.db import make_session_factory  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

FRAMEWORK = Framework(load_framework_file("2026.1"))
CODES = list(FRAMEWORK.competences)
QUARTERS = [f"{year}-Q{q}" for year in (2025, 2026) for q in (1, 2, 3, 4)]
REGIONS = ["DE-BW", "DE-BY", "DE-BE", "DE-BB", "DE-HB", "DE-HH", "DE-HE", "DE-MV", "DE-NI", "DE-NW", "DE-RP",
           "DE-SL", "DE-SN", "DE-ST", "DE-SH", "DE-TH", "AT", "CH", "FR", "unknown"]
FORMATS = ["online", "in_person", "hybrid", "unknown"]
CHUNK = 20_000

# The same answer as demand.analyse(["competence"], {}) without its cells: every rating of every member's
# latest assessment in a quarter (the generated data has one per member and quarter).
PLAIN_GROUP_BY = """
SELECT r.competence, COUNT(*) AS ratings,
       SUM(CASE WHEN t.target > r.current_level THEN t.target - r.current_level ELSE 0 END) AS gap_sum,
       SUM(r.future_importance) AS importance_sum,
       SUM(CASE WHEN t.target > r.current_level THEN 1 ELSE 0 END) AS members_with_gap
FROM ratings r
JOIN assessments a ON a.id = r.assessment_id
JOIN bench_targets t ON t.career_path = a.career_path AND t.competence = r.competence
WHERE a.status = 'completed' AND a.in_demand
GROUP BY r.competence
"""


def generate(engine: Engine, count: int, rng: random.Random) -> None:
    """`count` completed assessments with a rating for every competence, and the demand cells they add up to."""
    now = datetime.now(UTC)
    paths = list(FRAMEWORK.career_paths)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_targets (career_path VARCHAR(60), competence VARCHAR(20), "
                                "target INTEGER, PRIMARY KEY (career_path, competence))"))
        connection.execute(text("INSERT INTO bench_targets VALUES (:p, :c, :t)"),
                           [{"p": p, "c": c, "t": t} for p in paths for c, t in FRAMEWORK.targets(p).items()])
    for start in range(0, count, CHUNK):
        assessments, ratings = [], []
        for n in range(start, min(start + CHUNK, count)):
            assessment_id = str(uuid.UUID(int=rng.getrandbits(128)))
            assessments.append({
                "id": assessment_id, "member_id": f"member-{n}", "career_path": rng.choice(paths),
                "framework_version": FRAMEWORK.version, "status": "completed", "created_at": now,
                "updated_at": now, "completed_at": now, "quarter": rng.choice(QUARTERS),
                "region": rng.choice(REGIONS), "preferred_format": rng.choice(FORMATS), "in_demand": True})
            ratings.extend({"assessment_id": assessment_id, "competence": code,
                            "current_level": rng.randint(0, 5), "future_importance": rng.randint(1, 5),
                            "confidence": None, "evidence": None} for code in CODES)
        with engine.begin() as connection:
            connection.execute(insert(Assessment), assessments)
            if engine.dialect.name == "postgresql":  # COPY: inserting 3.5 million rows one by one takes minutes
                columns = ("assessment_id", "competence", "current_level", "future_importance")
                with connection.connection.cursor() as cursor, cursor.copy(
                        f"COPY ratings ({', '.join(columns)}) FROM STDIN") as copy:
                    for rating in ratings:
                        copy.write_row([rating[c] for c in columns])
            else:
                connection.execute(insert(Rating), ratings)
    # The cells as count_in would have left them, built in one statement instead of 100,000 completions.
    with engine.begin() as connection:
        connection.execute(text("""
            INSERT INTO demand_cells (quarter, career_path, region, format, competence, members, gap_sum,
                                      importance_sum, members_with_gap)
            SELECT a.quarter, a.career_path, a.region, a.preferred_format, r.competence, COUNT(*),
                   SUM(CASE WHEN t.target > r.current_level THEN t.target - r.current_level ELSE 0 END),
                   SUM(r.future_importance), SUM(CASE WHEN t.target > r.current_level THEN 1 ELSE 0 END)
            FROM ratings r JOIN assessments a ON a.id = r.assessment_id
            JOIN bench_targets t ON t.career_path = a.career_path AND t.competence = r.competence
            GROUP BY a.quarter, a.career_path, a.region, a.preferred_format, r.competence"""))
        # Every group long past its five changes: answers read these.
        connection.execute(text("UPDATE demand_cells SET published_members = members, published_gap_sum = gap_sum, "
                                "published_importance_sum = importance_sum, "
                                "published_members_with_gap = members_with_gap"))
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


def timed(work, rounds: int) -> tuple[float, object]:
    times, answer = [], None
    for _ in range(rounds):
        began = time.perf_counter()
        answer = work()
        times.append(time.perf_counter() - began)
    return statistics.median(times), answer


def completion_cost(engine: Engine, rng: random.Random, samples: int) -> float:
    """Median seconds that counting one more completed assessment into the cells adds to its transaction."""
    sessions, times = make_session_factory(engine), []
    for n in range(samples):
        with sessions.begin() as db:
            now = datetime.now(UTC)
            row = Assessment(id=str(uuid.uuid4()), member_id=f"late-{n}", career_path="cluster_manager",
                             framework_version=FRAMEWORK.version, status="completed", created_at=now,
                             updated_at=now, completed_at=now, quarter=QUARTERS[-1], region="DE-BW",
                             preferred_format="online", in_demand=False)
            ratings = {code: Rating(assessment_id=row.id, competence=code, current_level=rng.randint(0, 5),
                                    future_importance=rng.randint(1, 5)) for code in CODES}
            db.add(row)
            db.add_all(ratings.values())
            db.flush()
            began = time.perf_counter()
            demand.count_in(db, row, FRAMEWORK, ratings)
            db.flush()
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def run(label: str, engine: Engine, args: argparse.Namespace) -> dict:
    rng = random.Random(8)
    upgrade(SERVICE, engine)
    began = time.perf_counter()
    generate(engine, args.assessments, rng)
    loaded = time.perf_counter() - began
    sessions = make_session_factory(engine)
    with sessions() as db:
        ratings_count = db.scalar(select(text("COUNT(*)")).select_from(text("ratings")))

        def academy():
            return demand.analyse(db, ["competence"], {})

        def plain():
            return db.execute(text(PLAIN_GROUP_BY)).all()

        academy_s, academy_rows = timed(academy, args.rounds)
        trend_s, _ = timed(lambda: demand.analyse(db, ["area", "quarter"], {"career_path": "cluster_manager"}),
                           args.rounds)
        plain_s, plain_rows = timed(plain, args.rounds)
    suppressed_cells = 0
    with sessions() as db:
        suppressed_cells = db.scalar(text("SELECT COUNT(*) FROM demand_cells WHERE members < 5"))
    same = {(r["competence"], r["ratings"], r["gap_sum"]) for r in academy_rows} == {
        (r.competence, r.ratings, r.gap_sum) for r in plain_rows} if not suppressed_cells else None
    per_completion = completion_cost(engine, rng, args.samples)
    return {"backend": label, "ratings": ratings_count, "load_s": loaded, "academy_s": academy_s, "trend_s": trend_s,
            "plain_s": plain_s, "same": same, "suppressed_cells": suppressed_cells, "completion_s": per_completion}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assessments", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each query (the median is shown)")
    parser.add_argument("--samples", type=int, default=50, help="completions timed for the cost of counting one in")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an administrator's URL: the run creates its database there and drops it")
    args = parser.parse_args()
    results = []
    for label, engine in scratch_engines(args.backends.split(","), args.postgres_url, "demand"):
        results.append(run(label, engine, args))
    print(f"demand over {args.assessments:,} completed assessments x {len(CODES)} competences "
          f"(median of {args.rounds} runs)")
    print("| backend | rating rows | demand by competence | by area and quarter (one path) | plain GROUP BY "
          "| same answer | counting one completion in | load |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        same = "yes" if r["same"] else ("n/a: cells suppressed" if r["same"] is None else "NO")
        print(f"| {r['backend']} | {r['ratings']:,} | {r['academy_s'] * 1000:.0f} ms | {r['trend_s'] * 1000:.0f} ms "
              f"| {r['plain_s'] * 1000:.0f} ms | {same} | {r['completion_s'] * 1000:.1f} ms | {r['load_s']:.0f} s |")


if __name__ == "__main__":
    main()
