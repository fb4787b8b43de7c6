"""Billing's revenue report and what-if over 1,000,000 ledger postings on SQLite and PostgreSQL, beside the plain
SQL aggregate over the same rows in the same run.

Every invoice posts four lines (VAT, provider, academy, community fund); one invoice in ten is fully credited,
which posts four more. The postings are written straight into the table before the report lines' migration,
and that migration's backfill then sums them into report_lines (timed as "backfill"), as on a live upgrade.
The plain aggregate is one GROUP BY month, purpose over the same postings.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from sqlalchemy import Engine, insert, text  # noqa: E402

from bench.scratch_databases import scratch_engines  # noqa: E402
from services.billing import SERVICE, ledger  # noqa: E402
from services.billing.domain import DEFAULT_POLICY, invoice_shares  # noqa: E402
from services.billing.models import Account, Invoice, Posting, PostingSet  # noqa: E402
from services.billing.reports import revenue_report, simulate  # noqa: E402
from shared.db import make_session_factory  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)
FORMATS = ["online", "in_person", "hybrid"]
AREAS = ["INT", "FIN", "STR", "DIG", "COM"]
REGIONS = ["DE-BW", "DE-BY", "DE-BE", "DE-NW", "AT", "CH"]
CHUNK = 20_000
BEFORE_REPORT_LINES = "6a4363e95f56"  # the billing revision before report_lines
PLAIN = text("SELECT period, purpose, SUM(amount_cents) FROM postings WHERE occurred_at >= :start "
             "AND occurred_at < :end AND set_kind IN ('invoice', 'credit_note') GROUP BY period, purpose")


def generate(engine: Engine, postings: int, rng: random.Random) -> int:
    """Invoices and credit notes adding up to about `postings` ledger rows; answers the rows written."""
    providers = [f"provider-{n}" for n in range(200)]
    members = [f"member-{n}" for n in range(2_000)] + providers[:50]  # some providers also learn
    kinds = [(ledger.MEMBER_RECEIVABLE, m) for m in members] + [(ledger.PROVIDER_PENDING, p) for p in providers] + [
        (ledger.VAT_PAYABLE, ""), (ledger.ACADEMY_REVENUE, ""), (ledger.COMMUNITY_FUND, "")]
    with engine.begin() as connection:
        connection.execute(insert(Account), [{"kind": kind, "owner": owner} for kind, owner in kinds])
        rows = connection.execute(text("SELECT id, kind, owner FROM accounts"))
        ids = {(kind, owner): id_ for id_, kind, owner in rows}
    party_account = {"vat": ids[(ledger.VAT_PAYABLE, "")], "academy": ids[(ledger.ACADEMY_REVENUE, "")],
                     "community_fund": ids[(ledger.COMMUNITY_FUND, "")]}
    invoices, sets, rows = [], [], []
    count = postings * 10 // 44
    for n in range(count):
        invoice_id, member, provider = str(uuid.uuid4()), rng.choice(members), rng.choice(providers)
        gross = rng.randrange(1_000, 100_000)
        at = START + timedelta(seconds=rng.randrange(int((END - START).total_seconds())))
        shares = invoice_shares(gross, 19, DEFAULT_POLICY, {provider: 100})
        dims = {"invoice_id": invoice_id, "offer_id": f"offer-{n % 5_000}", "member_id": member,
                "format": rng.choice(FORMATS), "area": rng.choice(AREAS), "region": rng.choice(REGIONS)}
        invoices.append({"id": invoice_id, "number": f"VCA-{n:012d}", "booking_id": invoice_id, "member_id": member,
                         "offer_id": dims["offer_id"], "description": "bench", "format": dims["format"],
                         "total_cents": gross, "net_cents": gross - shares[0].cents, "vat_cents": shares[0].cents,
                         "vat_rate": 19, "currency": "EUR", "policy": "v1", "policy_version": 1,
                         "providers": [[provider, 100]], "issued_at": at})
        credited = n % 10 == 9
        for set_kind, when in [("invoice", at)] + ([("credit_note", at + timedelta(days=3))] if credited else []):
            set_id = str(uuid.uuid4())
            sets.append({"id": set_id, "kind": set_kind, "cause": f"{set_kind}:{invoice_id}", "created_at": when})
            for line, share in enumerate(shares):
                party = ids[(ledger.PROVIDER_PENDING, provider)] if share.purpose == "provider" \
                    else party_account[share.purpose]
                debit, credit = ids[(ledger.MEMBER_RECEIVABLE, member)], party
                if set_kind == "credit_note":
                    debit, credit = credit, debit
                rows.append({"set_id": set_id, "line": line, "set_kind": set_kind, "purpose": share.purpose,
                             "debit_account_id": debit, "credit_account_id": credit, "amount_cents": share.cents,
                             "provider_id": provider, "occurred_at": when, "day": when.date(),
                             "period": when.strftime("%Y-%m"), **dims})
    with engine.begin() as connection:
        for table, data in ((Invoice, invoices), (PostingSet, sets)):
            for i in range(0, len(data), CHUNK):
                connection.execute(insert(table), data[i:i + CHUNK])
        if engine.dialect.name == "postgresql":  # COPY: a million rows through INSERT take minutes
            columns = list(rows[0])
            with connection.connection.cursor() as cursor, cursor.copy(
                    f"COPY postings ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        else:
            for i in range(0, len(rows), CHUNK):
                connection.execute(insert(Posting), rows[i:i + CHUNK])
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return len(rows)


def timed(work, rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def run(label: str, engine: Engine, args: argparse.Namespace) -> dict:
    upgrade(SERVICE, engine, BEFORE_REPORT_LINES)
    began = time.perf_counter()
    rows = generate(engine, args.postings, random.Random(7))
    loaded = time.perf_counter() - began
    began = time.perf_counter()
    upgrade(SERVICE, engine)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    backfilled = time.perf_counter() - began
    sessions = make_session_factory(engine)
    with sessions() as db:
        report_s, report = timed(lambda: revenue_report(db, START, END, "month"), args.rounds)
        shares = {"provider": 8_000, "academy": 1_500, "community_fund": 500}
        whatif_s, _ = timed(lambda: simulate(db, shares_bp=shares, start=START, end=END, group_by="month"),
                            args.rounds)
        per_provider_s, _ = timed(
            lambda: simulate(db, shares_bp=shares, start=START, end=END, group_by="provider"), args.rounds)
        plain_s, plain = timed(lambda: db.execute(PLAIN, {"start": START, "end": END}).all(), args.rounds)
    return {"backend": label, "rows": rows, "load_s": loaded, "backfill_s": backfilled, "report_s": report_s,
            "whatif_s": whatif_s, "per_provider_s": per_provider_s, "plain_s": plain_s, "groups": len(report["groups"]),
            "plain_groups": len({row[0] for row in plain})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each query (the median is shown)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an administrator's URL: the run creates its database there and drops it")
    args = parser.parse_args()
    results = []
    for label, engine in scratch_engines(args.backends.split(","), args.postgres_url, "reports"):
        results.append(run(label, engine, args))
    print(f"revenue report by month over two years (median of {args.rounds} runs)")
    print("| backend | postings | revenue report | what-if | what-if by provider | plain GROUP BY "
          "| months (report / plain) | load | backfill |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['backend']} | {r['rows']:,} | {r['report_s'] * 1000:.0f} ms | {r['whatif_s'] * 1000:.0f} ms "
              f"| {r['per_provider_s'] * 1000:.0f} ms "
              f"| {r['plain_s'] * 1000:.0f} ms | {r['groups']} / {r['plain_groups']} | {r['load_s']:.0f} s "
              f"| {r['backfill_s']:.1f} s |")


if __name__ == "__main__":
    main()
