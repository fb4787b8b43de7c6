"""CPU of one booking request in booking's app on SQLite, in process, and how much of it runs while the request
holds SQLite's write turn (shared/sqlite_writers.py): the part no other writer of the database can run beside.
The embedded academy's bookings can go no faster than one such part after the other.

Each booking is a POST /api/v1/bookings with its own member and Idempotency-Key through Flask's test client,
after a warm-up. `--code DIR` runs another checkout's code (a `git worktree` of an earlier commit that has
shared/sqlite_writers.py) in the same run's conditions, for a before-and-after beside each other.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

WARM_UP = 100


def measure(bookings: int) -> tuple[float, float]:
    """CPU ms per booking request, and CPU ms of it while holding the write turn (both of this thread)."""
    import shared.sqlite_writers as writers
    from services import booking
    from shared.consumer import EventConsumer
    from shared.events.declarations import SessionScheduled
    from shared.testing import bearer, delivery, make_runtime, sample

    held: list[float] = []
    take, end = writers.TurnTakingConnection.take_write_turn, writers.TurnTakingConnection.end_write_turn

    def take_and_time(connection, timeout_s):
        holding = connection._holds_turn
        take(connection, timeout_s)
        if not holding:
            connection.bench_taken_at = time.thread_time()

    def end_and_time(connection):
        if connection._holds_turn:
            held.append(time.thread_time() - connection.bench_taken_at)
        end(connection)

    writers.TurnTakingConnection.take_write_turn = take_and_time
    writers.TurnTakingConnection.end_write_turn = end_and_time

    runtime = make_runtime(booking.SERVICE, Path(tempfile.mkdtemp(prefix="bench-turn-")))
    consumer = EventConsumer(booking.SERVICE.name, booking.SERVICE.handlers, runtime.session_factory)
    client = booking.SERVICE.create_app(runtime).test_client()
    session_id, starts_at = str(uuid.uuid4()), datetime.now(UTC) + timedelta(days=14)
    consumer.handle_batch([delivery(sample(
        SessionScheduled, session_id=session_id, offer_id=str(uuid.uuid4()), starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3), seats={"online": WARM_UP + bookings}))])
    requests = [{**bearer(f"member-{number}"), "Idempotency-Key": str(uuid.uuid4())}
                for number in range(WARM_UP + bookings)]
    for number, headers in enumerate(requests):
        if number == WARM_UP:
            held.clear()
            began = time.thread_time()
        answer = client.post("/api/v1/bookings", json={"session_id": session_id, "format": "online"}, headers=headers)
        assert answer.status_code == 201, answer.get_data(as_text=True)
    per_request = (time.thread_time() - began) * 1000 / bookings
    runtime.close()
    return per_request, sum(held) * 1000 / bookings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=700)
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    per_request, under_turn = measure(args.bookings)
    print(f"{args.code}: {per_request:.2f} ms of CPU per booking request, {under_turn:.2f} ms of it holding the "
          f"write turn ({under_turn / per_request:.0%})")


if __name__ == "__main__":
    main()
