"""CPU per event of the typed contract (build and check on publish, parse and check on consume), beside plain JSON.

    python bench/events.py [--events N]

For every declared event type, in the same run: the academy builds each envelope from a typed payload
(`build_event`: dump and validate) and parses it back (`parse_event`: envelope checks, load into the payload
class); the baseline serialises and reads back the same `data` as a plain dict with json alone. The ratio is
the price of the checks that keep a misspelt or invalid field from ever reaching the bus.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.events import REGISTRY, build_event, parse_event  # noqa: E402
from shared.testing import sample  # noqa: E402


def microseconds_per_event(work, count: int) -> float:
    started = time.process_time()
    work(count)
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    count = parser.parse_args().events
    print(f"{'event type':40} {'academy build+parse':>20} {'plain json':>12} {'ratio':>7}")
    for event_type in sorted(REGISTRY.values(), key=lambda event_type: event_type.type):
        event = sample(event_type.payload)
        plain = build_event(event)["data"]

        def academy(n: int, event=event) -> None:
            for _ in range(n):
                parse_event(json.dumps(build_event(event)))

        def baseline(n: int, plain=plain) -> None:
            for _ in range(n):
                json.loads(json.dumps(plain))

        ours, theirs = microseconds_per_event(academy, count), microseconds_per_event(baseline, count)
        print(f"{event_type.type:40} {ours:17.1f} us {theirs:9.1f} us {ours / theirs:7.1f}")


if __name__ == "__main__":
    main()
