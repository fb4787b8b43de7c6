"""CPU of billing's worker per booking, on PostgreSQL in process: booking.confirmed handled in batches of 20 (the
invoice with its gapless number, the ledger's posting set and report lines, the invoice.issued outbox row), and
the SQL statements each event costs.

Billing first learns what a booking needs: the offers (offer.published v2, two providers each) and the members
(member.registered). A first batch of bookings warms the process up and is not counted. `--code DIR` runs
another checkout's code (e.g. a `git worktree` of an earlier commit) in the same run's conditions, for a
before-and-after beside each other.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

BATCH = 20  # as the relay's linger makes them


def measure(bookings: int, offers: int, postgres_url: str) -> tuple[float, float]:
    """(ms of CPU per booking, SQL statements per booking.confirmed event)."""
    from dataclasses import replace

    from sqlalchemy import create_engine, event, text

    from services.billing import SERVICE
    from shared.consumer import EventConsumer
    from shared.events.declarations import BookingConfirmed, MemberRegistered, OfferPublishedV2, ProviderShare
    from shared.testing import OFFER, delivery, make_runtime, sample

    name = f"bench_billing_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        database_url = postgres_url.rsplit("/", 1)[0] + "/" + name
        with tempfile.TemporaryDirectory(prefix="bench-billing-") as data_dir:
            runtime = make_runtime(SERVICE, Path(data_dir), DATABASE_URL=database_url)
            consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime.session_factory)
            providers = [str(uuid.uuid4()) for _ in range(offers + 1)]
            offer_ids = [str(uuid.uuid4()) for _ in range(offers)]
            consumer.handle_batch([delivery(sample(OfferPublishedV2, offer_id=offer_id, offer=replace(
                OFFER, price_cents=9_000 + 1_000 * number, providers=[
                    ProviderShare(member_id=providers[number], share_percent=60),
                    ProviderShare(member_id=providers[number + 1], share_percent=40)])))
                for number, offer_id in enumerate(offer_ids)])
            members = [str(uuid.uuid4()) for _ in range(bookings + BATCH)]
            for start in range(0, len(members), 100):
                consumer.handle_batch([delivery(sample(MemberRegistered, member_id=member, display_name=member[:8]))
                                       for member in members[start:start + 100]])
            events = [delivery(sample(BookingConfirmed, booking_id=str(uuid.uuid4()), member_id=member,
                                      offer_id=offer_ids[number % offers],
                                      session_id=f"session-{number % (3 * offers)}"))
                      for number, member in enumerate(members)]
            consumer.handle_batch(events[:BATCH])  # warming up: statements compiled and cached, connections open
            statements = 0

            def count(*_args) -> None:
                nonlocal statements
                statements += 1

            event.listen(runtime.engine, "before_cursor_execute", count)
            began = time.process_time()
            for start in range(BATCH, len(events), BATCH):
                consumer.handle_batch(events[start:start + BATCH])
            spent = time.process_time() - began
            event.remove(runtime.engine, "before_cursor_execute", count)
            with runtime.engine.connect() as connection:
                invoiced = connection.scalar(text("SELECT count(*) FROM invoices"))
            runtime.close()
            if invoiced != len(events):
                raise SystemExit(f"{invoiced} invoices for {len(events)} bookings: the run measured something else")
        return spent * 1000 / bookings, statements / bookings
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--offers", type=int, default=10)
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    cpu, statements = measure(args.bookings, args.offers, args.postgres_url)
    print(f"{args.code}: {cpu:.2f} ms of CPU per booking, {statements:.2f} SQL statements per booking.confirmed "
          f"({args.bookings} bookings in batches of {BATCH}, {args.offers} offers)")


if __name__ == "__main__":
    main()
