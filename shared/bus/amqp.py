"""RabbitMQ bus over kombu: topology, pipelined publisher confirms, batched consumer, retry and dead letters."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime

import amqp
from kombu import Connection, Exchange, Queue, binding
from kombu import Consumer as KombuConsumer

from shared.bus import (
    EXCHANGE,
    BatchHandler,
    DeadLetter,
    Delivery,
    Outcome,
    OutgoingMessage,
    Settlement,
    dead_queue,
)
from shared.events.envelope import CONTENT_TYPE

log = logging.getLogger(__name__)
CONFIRM_TIMEOUT_S = 30.0
RECONNECT_DELAY_S = 1.0
HEARTBEAT_SECONDS = 30


class PublishNotConfirmed(RuntimeError):
    """The broker nacked a message or did not confirm it in time; the caller must publish it again."""


def connect(url: str, **options) -> Connection:
    """A connected kombu Connection. `url` may list several brokers of a cluster separated by ';' (kombu's
    failover form): each is tried once, in order, so a client reaches whichever node still runs."""
    connection = Connection(url, connect_timeout=options.pop("connect_timeout", 5), **options)
    # kombu's own connect() tries at most two hosts; a cycle through all of them needs len(alt) - 1 retries.
    # The error of the last host is raised as it is (OSError, AMQPError), like kombu's connect() does.
    connection.ensure_connection(max_retries=max(len(connection.alt) - 1, 0), interval_start=0,
                                 reraise_as_library_errors=False)
    return connection


def retry_queue(service: str, delay_s: float) -> str:
    return f"{service}.retry.{int(delay_s * 1000)}ms"


class ConfirmingPublisher:
    """One connection whose channel is in confirm mode; publishes a batch, then waits for all its confirms.

    Waiting for each confirm in turn costs one broker disk flush per message; sending the whole batch first
    lets the broker confirm many messages with one `multiple` ack.
    """

    def __init__(self, url: str):
        self.connection = connect(url)
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self._next_tag = 1
        self._unconfirmed: set[int] = set()
        self._nacked: set[int] = set()

    def _settle(self, tag: int, multiple: bool) -> set[int]:
        settled = {t for t in self._unconfirmed if t <= tag} if multiple else {tag} & self._unconfirmed
        self._unconfirmed -= settled
        return settled

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._nacked |= self._settle(tag, multiple)

    def publish(self, items: Iterable[tuple[str, str, bytes, str, dict]]) -> None:
        """Publish (exchange, routing key, body, message id, headers) items persistently; wait for confirms."""
        tags = set()
        for exchange, routing_key, body, message_id, headers in items:
            message = amqp.Message(
                body,
                content_type=CONTENT_TYPE,
                delivery_mode=2,
                message_id=message_id,
                application_headers=headers,
            )
            self.channel.basic_publish(message, exchange=exchange, routing_key=routing_key)
            tags.add(self._next_tag)
            self._unconfirmed.add(self._next_tag)
            self._next_tag += 1
        deadline = time.monotonic() + CONFIRM_TIMEOUT_S
        while tags & self._unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishNotConfirmed(f"{len(tags & self._unconfirmed)} message(s) not confirmed in time")
            try:
                self.connection.drain_events(timeout=remaining)
            except TimeoutError:
                continue
        nacked = tags & self._nacked
        self._nacked -= nacked
        if nacked:
            raise PublishNotConfirmed(f"broker refused {len(nacked)} message(s)")

    def close(self) -> None:
        try:
            self.connection.release()
        except Exception:  # noqa: BLE001 - closing a broken connection must not mask the original error
            log.debug("closing publisher connection failed", exc_info=True)


class AmqpBus:
    def __init__(
        self,
        url: str,
        *,
        queue_type: str = "classic",
        retry_delays: tuple[float, ...] = (1.0, 10.0, 60.0),
        prefetch: int = 200,
    ):
        self.url = url
        self.queue_type = queue_type
        self.retry_delays = retry_delays
        self.prefetch = prefetch
        self.exchange = Exchange(EXCHANGE, type="topic", durable=True)
        self._local = threading.local()
        self._publishers: set[ConfirmingPublisher] = set()  # every thread's, so close() can close them all
        self._publishers_lock = threading.Lock()

    # --- topology ---------------------------------------------------------------------------------------
    def _queue_arguments(self, **extra) -> dict:
        arguments = {"x-queue-type": self.queue_type, **extra}
        if self.queue_type == "quorum" and "x-dead-letter-exchange" in extra:
            # Quorum queues dead-letter at most once unless told otherwise; a retry must never vanish.
            arguments.update({"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})
        return arguments

    def declare(self, service: str, routing_keys: Iterable[str]) -> None:
        """Exchange, the service's queue bound to its event types, delayed retry queues, dead-letter queue."""
        queues = [
            Queue(
                service,
                bindings=[binding(self.exchange, routing_key=key) for key in sorted(set(routing_keys))],
                durable=True,
                queue_arguments=self._queue_arguments(),
            ),
            Queue(dead_queue(service), durable=True, queue_arguments=self._queue_arguments()),
        ]
        for delay in self.retry_delays:
            # Messages wait out the queue's TTL, then the broker dead-letters them back to the service's queue.
            queues.append(
                Queue(
                    retry_queue(service, delay),
                    durable=True,
                    queue_arguments=self._queue_arguments(
                        **{
                            "x-message-ttl": int(delay * 1000),
                            "x-dead-letter-exchange": "",
                            "x-dead-letter-routing-key": service,
                        }
                    ),
                )
            )
        with connect(self.url) as connection:
            channel = connection.channel()
            self.exchange(channel).declare()
            for queue in queues:
                queue(channel).declare()

    # --- publishing -------------------------------------------------------------------------------------
    def _publisher(self) -> ConfirmingPublisher:
        publisher = getattr(self._local, "publisher", None)
        if publisher is None:
            publisher = self._local.publisher = ConfirmingPublisher(self.url)
            with self._publishers_lock:
                self._publishers.add(publisher)
        return publisher

    def _discard_publisher(self, publisher: ConfirmingPublisher) -> None:
        publisher.close()
        with self._publishers_lock:
            self._publishers.discard(publisher)

    def _publish(self, items: list[tuple[str, str, bytes, str, dict]]) -> None:
        try:
            self._publisher().publish(items)
        except Exception:
            # The channel's confirm state is unknown now: start over on a new connection next time.
            publisher = getattr(self._local, "publisher", None)
            if publisher is not None:
                self._discard_publisher(publisher)
            self._local.publisher = None
            raise

    def publish(self, messages: list[OutgoingMessage]) -> None:
        self._publish([(EXCHANGE, key, body, message_id, {}) for key, body, message_id in messages])

    # --- consuming --------------------------------------------------------------------------------------
    def consume(self, service: str, handle_batch: BatchHandler, stop: threading.Event) -> None:
        """Deliver batches to `handle_batch` until `stop` is set; reconnect when the broker goes away."""
        while not stop.is_set():
            try:
                self._consume_connected(service, handle_batch, stop)
            except Exception as exc:  # noqa: BLE001 - broker or database away: unacked deliveries come back
                log.warning("consumer of %s stopped (%s: %s); reconnecting", service, type(exc).__name__, exc)
                stop.wait(RECONNECT_DELAY_S)

    def _consume_connected(self, service: str, handle_batch: BatchHandler, stop: threading.Event) -> None:
        buffer: list = []
        with connect(self.url, heartbeat=HEARTBEAT_SECONDS) as connection:
            channel = connection.channel()
            consumer = KombuConsumer(
                channel,
                queues=[Queue(service, no_declare=True)],
                on_message=buffer.append,
                prefetch_count=self.prefetch,
            )
            with consumer:
                while not stop.is_set():
                    # Heartbeats reveal a broker that vanished without closing the connection.
                    connection.heartbeat_check()
                    try:
                        connection.drain_events(timeout=0.5)
                    except TimeoutError:
                        continue
                    while len(buffer) < self.prefetch:
                        try:
                            connection.drain_events(timeout=0.002)
                        except TimeoutError:
                            break
                    batch, buffer[:] = list(buffer), []
                    self._settle(service, batch, handle_batch(self._deliveries(batch)))
                    # Every earlier delivery was settled in an earlier batch, so one cumulative ack suffices.
                    channel.basic_ack(batch[-1].delivery_tag, multiple=True)

    @staticmethod
    def _deliveries(batch) -> list[Delivery]:
        return [
            Delivery(
                body=message.body,
                routing_key=(message.headers or {}).get("x-original-routing-key")
                or message.delivery_info.get("routing_key", ""),
                attempts=int((message.headers or {}).get("x-attempts", 0)),
                tag=message.delivery_tag,
                headers=dict(message.headers or {}),
            )
            for message in batch
        ]

    def _settle(self, service: str, batch, settlements: list[Settlement]) -> None:
        """Send failed deliveries to a retry queue or the dead-letter queue before the batch is acked."""
        republish = []
        for message, settlement in zip(batch, settlements, strict=True):
            if settlement.outcome is Outcome.ACK:
                continue
            headers = dict(message.headers or {})
            headers.pop("x-death", None)
            headers.setdefault("x-original-routing-key", message.delivery_info.get("routing_key", ""))
            attempts = int(headers.get("x-attempts", 0)) + 1
            headers["x-attempts"] = attempts
            headers["x-last-error"] = (settlement.reason or "")[:1000]
            message_id = message.properties.get("message_id") or ""
            if settlement.outcome is Outcome.RETRY and attempts <= len(self.retry_delays):
                target = retry_queue(service, self.retry_delays[attempts - 1])
            else:
                target = dead_queue(service)
                headers["x-dead-reason"] = headers["x-last-error"]
                headers["x-dead-at"] = datetime.now(UTC).isoformat()
            republish.append(("", target, message.body, message_id, headers))
        if republish:
            self._publish(republish)

    # --- dead letters -----------------------------------------------------------------------------------
    def dead_letter_count(self, service: str) -> int:
        with connect(self.url) as connection:
            _, count, _ = connection.channel().queue_declare(dead_queue(service), passive=True)
            return count

    def _take_dead(self, service: str, keep) -> tuple[list[DeadLetter], int]:
        """Read every dead letter; those `keep` selects are replayed and acked, the rest go back on close."""
        letters, replayed = [], 0
        with connect(self.url) as connection:
            channel = connection.channel()
            try:
                channel.queue_declare(dead_queue(service), passive=True)
            except amqp.exceptions.NotFound:
                return [], 0  # the service's worker never started here, so nothing of it has died
            while True:
                message = channel.basic_get(dead_queue(service), no_ack=False)
                if message is None:
                    break
                headers = dict(message.headers or {})
                letter = DeadLetter(
                    message_id=message.properties.get("message_id") or "",
                    routing_key=headers.get("x-original-routing-key", ""),
                    reason=str(headers.get("x-dead-reason", "")),
                    attempts=int(headers.get("x-attempts", 0)),
                    dead_at=str(headers.get("x-dead-at", "")),
                    body=message.body,
                )
                letters.append(letter)
                if keep is not None and keep(letter):
                    fresh = {"x-original-routing-key": letter.routing_key, "x-replayed-from": "dead"}
                    self._publish([("", service, message.body, letter.message_id, fresh)])
                    channel.basic_ack(message.delivery_tag)
                    replayed += 1
        return letters, replayed

    def dead_letters(self, service: str) -> list[DeadLetter]:
        return self._take_dead(service, keep=None)[0]

    def replay_dead_letters(self, service: str, message_ids: set[str] | None = None) -> int:
        return self._take_dead(service, keep=lambda letter: message_ids is None or letter.message_id in message_ids)[1]

    # --- health -----------------------------------------------------------------------------------------
    def is_reachable(self) -> bool:
        try:
            with connect(self.url, connect_timeout=2):
                return True
        except (OSError, amqp.exceptions.AMQPError):
            return False

    def close(self) -> None:
        with self._publishers_lock:
            publishers, self._publishers = self._publishers, set()
        for publisher in publishers:
            publisher.close()
        self._local = threading.local()
