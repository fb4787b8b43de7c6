"""A dispatcher process whose performer calls the partner, then hangs before returning, to be killed there."""

from __future__ import annotations

import sys
import time

import requests

from shared.db import make_engine, make_session_factory
from shared.side_effects import SideEffectDispatcher


def call_then_hang(payload: dict, idempotency_key: str) -> str:
    response = requests.post(PARTNER_URL, json=payload, headers={"Idempotency-Key": idempotency_key}, timeout=5)
    response.raise_for_status()
    # The call went out; the test kills us here, before the outcome is recorded.
    time.sleep(60)
    return response.text


if __name__ == "__main__":
    database_url, PARTNER_URL, lease_seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    session_factory = make_session_factory(make_engine(database_url))
    SideEffectDispatcher("notify", {"webhook": call_then_hang}, session_factory,
                         lease_seconds=lease_seconds).dispatch_once()
