"""CPU of notify's worker per booking, on PostgreSQL in process: the handlers of booking.confirmed and
invoice.issued (inbox, mail row, rendering), then the dispatcher writing both mails as .eml files, then the
scheduled job recording their outcomes (delivery status, notification.delivered events).

`--code DIR` runs another checkout's code (e.g. a `git worktree` of an earlier commit) in the same run's
conditions, for a before-and-after beside each other.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path


def measure(bookings: int, postgres_url: str) -> tuple[float, float, float]:
    from sqlalchemy import create_engine, text

    from services.notify import SERVICE
    from services.notify.commands import record_mail_outcomes
    from shared.consumer import EventConsumer
    from shared.events.declarations import BookingConfirmed, InvoiceIssued, MemberRegistered
    from shared.side_effects import SideEffectDispatcher
    from shared.testing import delivery, make_runtime, sample

    name = f"bench_notify_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        database_url = postgres_url.rsplit("/", 1)[0] + "/" + name
        runtime = make_runtime(SERVICE, Path(tempfile.mkdtemp()), DATABASE_URL=database_url)
        consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime.session_factory)
        members = [str(uuid.uuid4()) for _ in range(bookings)]
        consumer.handle_batch([delivery(sample(MemberRegistered, member_id=member, email=f"{member[:8]}@example.org"))
                               for member in members])
        events = [delivery(event) for member in members for event in (
            sample(BookingConfirmed, booking_id=str(uuid.uuid4()), member_id=member),
            sample(InvoiceIssued, invoice_id=str(uuid.uuid4()), member_id=member, booking_id=str(uuid.uuid4())))]
        dispatcher = SideEffectDispatcher(SERVICE.name, SERVICE.side_effects, runtime.session_factory)
        began = time.process_time()
        for start in range(0, len(events), 20):  # batches as the relay's linger makes them
            consumer.handle_batch(events[start:start + 20])
        handled = time.process_time()
        while dispatcher.dispatch_once():
            pass
        dispatched = time.process_time()
        assert record_mail_outcomes(runtime.session_factory) == 2 * bookings, "every mail written and recorded"
        recorded = time.process_time()
        runtime.close()
        return tuple((end - start) * 1000 / bookings
                     for start, end in ((began, handled), (handled, dispatched), (dispatched, recorded)))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    handlers, side_effects, outcomes = measure(args.bookings, args.postgres_url)
    print(f"{args.code}: {handlers:.2f} ms handlers + {side_effects:.2f} ms sending + {outcomes:.2f} ms recording = "
          f"{handlers + side_effects + outcomes:.2f} ms of CPU per booking (two events, two mails)")


if __name__ == "__main__":
    main()
