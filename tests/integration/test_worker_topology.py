"""An event published before its consumer's worker ever ran waits in that consumer's queue."""

from __future__ import annotations

import time

from kombu import Connection

from services import catalog
from shared.events.declarations import MemberRegistered
from shared.outbox import record_event
from shared.testing import make_runtime, sample
from shared.worker import Worker


def test_the_first_worker_to_start_declares_every_queue(amqp_url, tmp_path):
    runtime = make_runtime(catalog.SERVICE, tmp_path, AMQP_URL=amqp_url)
    worker = Worker(catalog.SERVICE, runtime)
    worker.start()
    try:
        with runtime.session_factory.begin() as db:
            record_event(db, sample(MemberRegistered))
        deadline = time.monotonic() + 15
        waiting = 0
        with Connection(amqp_url) as connection:
            while time.monotonic() < deadline and not waiting:
                _, waiting, _ = connection.channel().queue_declare("notify", passive=True)
                time.sleep(0.1)
        assert waiting == 1, "notify's queue must hold the event although notify's worker never ran"
    finally:
        worker.stop()
        runtime.close()
