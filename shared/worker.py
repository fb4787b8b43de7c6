"""A service's worker: the consumer of its queue and the relay of its outbox, each in its own thread."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from shared import metrics
from shared.config import SERVICES
from shared.consumer import EventConsumer
from shared.events.topology import queue_bindings
from shared.housekeeping import purge_messages
from shared.outbox import OutboxRelay, listen_for_outbox, wait_for_outbox
from shared.service import Runtime, ServiceDefinition
from shared.side_effects import SideEffectDispatcher

log = logging.getLogger(__name__)
IDLE_POLL_SECONDS = 0.2
# Woken by a commit soon after its last batch (under load), the relay waits this long for the rows of the
# commits close behind, so that it publishes, and consumers apply, batches rather than single events: a
# consumer applies a batch of 20 for about a third of the CPU per event of 20 batches of one.
# Woken after a quiet spell, it publishes at once.
RELAY_LINGER_SECONDS = 0.02
RELAY_BUSY_SECONDS = 0.1
ERROR_BACKOFF_SECONDS = (0.5, 1, 2, 5)
GAUGE_INTERVAL_SECONDS = 10.0
PURGE_INTERVAL_SECONDS = 3600.0
SCHEDULE_INTERVAL_SECONDS = 5.0


class Worker:
    def __init__(self, definition: ServiceDefinition, runtime: Runtime):
        self.definition = definition
        self.runtime = runtime
        self.stop_event = threading.Event()
        self.consumer = EventConsumer(definition.name, definition.handlers, runtime.session_factory)
        self.relay = OutboxRelay(definition.name, runtime.session_factory, runtime.bus)
        self.dispatcher = SideEffectDispatcher(definition.name, definition.side_effects, runtime.session_factory)
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Declare every service's queue (retrying until the broker answers), then consume and relay."""
        self._declare()
        targets = [("relay", self._relay_loop), ("housekeeping", self._housekeeping_loop)]
        if self.consumer.handlers:
            targets.insert(0, ("consumer", self._consume))
        if self.definition.side_effects:
            targets.append(("dispatcher", lambda: self.dispatcher.run(self.stop_event)))
        if self.definition.scheduled:
            targets.append(("scheduler", self._scheduler_loop))
        if self.runtime.engine.dialect.name == "postgresql":  # the web processes write outbox rows too
            targets.append(("listener", lambda: listen_for_outbox(self.runtime.engine, self.stop_event)))
        for role, target in targets:
            thread = threading.Thread(target=target, name=f"{self.definition.name}-{role}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def _declare(self) -> None:
        attempt = 0
        while not self.stop_event.is_set():
            try:
                bindings = queue_bindings(SERVICES)
                # Its own queue also from its own handlers, should the generated topology lag behind them.
                bindings[self.definition.name] |= self.consumer.routing_keys
                for service, routing_keys in bindings.items():
                    self.runtime.bus.declare(service, routing_keys)
                return
            except Exception as exc:  # noqa: BLE001 - the broker may come up after us
                delay = ERROR_BACKOFF_SECONDS[min(attempt, len(ERROR_BACKOFF_SECONDS) - 1)]
                log.warning("cannot declare the topology of %s (%s); retrying", self.definition.name, exc)
                attempt += 1
                self.stop_event.wait(delay)

    def _consume(self) -> None:
        self.runtime.bus.consume(self.definition.name, self.consumer.handle_batch, self.stop_event)

    def _relay_loop(self) -> None:
        failures, last_sent = 0, 0.0
        while not self.stop_event.is_set():
            try:
                sent = self.relay.relay_once()
                failures = 0
                if sent:
                    last_sent = time.monotonic()
            except Exception as exc:  # noqa: BLE001 - broker or database away: keep the rows, try later
                delay = ERROR_BACKOFF_SECONDS[min(failures, len(ERROR_BACKOFF_SECONDS) - 1)]
                failures += 1
                log.warning("outbox relay of %s failed (%s); retrying in %ss", self.definition.name, exc, delay)
                self.stop_event.wait(delay)
                continue
            if not sent and wait_for_outbox(IDLE_POLL_SECONDS) and time.monotonic() - last_sent < RELAY_BUSY_SECONDS:
                self.stop_event.wait(RELAY_LINGER_SECONDS)

    def _scheduler_loop(self) -> None:
        while not self.stop_event.is_set():
            for name, job in self.definition.scheduled.items():
                try:
                    done = job(self.runtime.session_factory)
                except Exception:  # noqa: BLE001 - the next round tries again; the job keeps its own state
                    log.exception("scheduled job %s of %s failed", name, self.definition.name)
                    continue
                if done:
                    log.info("scheduled job %s of %s handled %s", name, self.definition.name, done)
            self.stop_event.wait(SCHEDULE_INTERVAL_SECONDS)

    def _housekeeping_loop(self) -> None:
        next_purge = 0.0
        while not self.stop_event.is_set():
            self._update_gauges()
            if time.monotonic() >= next_purge:
                self._purge()
                next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
            self.stop_event.wait(GAUGE_INTERVAL_SECONDS)

    def _update_gauges(self) -> None:
        service = self.definition.name
        try:
            backlog, oldest_age = self.relay.backlog()
            metrics.OUTBOX_BACKLOG.labels(service).set(backlog)
            metrics.OUTBOX_OLDEST_AGE.labels(service).set(oldest_age)
            metrics.DEAD_LETTERS.labels(service).set(self.runtime.bus.dead_letter_count(service))
        except Exception as exc:  # noqa: BLE001 - a gauge must never take the worker down
            log.debug("gauges of %s not updated: %s", service, exc)

    def _purge(self) -> None:
        settings = self.runtime.settings
        try:
            purged = purge_messages(self.runtime.session_factory, timedelta(days=settings.message_retention_days),
                                    timedelta(hours=settings.idempotency_retention_hours))
        except Exception as exc:  # noqa: BLE001 - try again at the next interval
            log.warning("purging old messages of %s failed: %s", self.definition.name, exc)
            return
        if purged.processed_events or purged.idempotency_keys:
            log.info("purged %s processed event ids and %s idempotency keys",
                     purged.processed_events, purged.idempotency_keys)

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)
        self.runtime.bus.close()
