"""The slice end to end: separate gunicorn services and workers on RabbitMQ and PostgreSQL, and `academy run`."""

from __future__ import annotations

import json

import pytest
import requests
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq
from cloudevents.core.formats.json import JSONFormat
from prometheus_client.parser import text_string_to_metric_families

from shared.auth import ensure_keypair
from shared.config import SERVICES
from shared.events import CONTENT_TYPE, REGISTRY, parse_event
from shared.tracing import trace_id
from tests.system.processes import DistributedAcademy, EmbeddedProcess
from tests.system.slice import Academy, run_slice, run_waiting_list
from tests.system.wiretap import WireTap

pytestmark = pytest.mark.slow
SLICE_EVENTS = {"member.registered", "offer.published", "session.scheduled", "booking.confirmed",
                "invoice.issued", "notification.delivered"}


@pytest.fixture
def distributed(amqp_url, make_postgres_database, tmp_path):
    ensure_keypair(tmp_path / "keys")
    databases = {name: make_postgres_database(name) for name in SERVICES}
    academy = DistributedAcademy(amqp_url, databases, tmp_path / "keys", tmp_path)
    try:
        yield academy.start()
    finally:
        academy.stop()


def test_slice_runs_across_separate_processes_and_every_event_on_the_wire_is_a_cloudevent(distributed, amqp_url):
    tap = WireTap(amqp_url)
    try:
        try:
            result = run_slice(Academy(distributed.gateway, distributed.keys_dir))
        except AssertionError:
            print(distributed.logs())
            raise
        messages = tap.wait_for(SLICE_EVENTS)
    finally:
        tap.close()

    assert {item["kind"] for item in result["inbox"]} >= {"booking_confirmed", "invoice_issued"}
    for method, properties, body in messages:
        assert properties.content_type == CONTENT_TYPE
        assert properties.delivery_mode == 2, "events must be persistent"
        event = from_rabbitmq(RabbitMQMessage(headers={}, content_type=properties.content_type, body=body),
                              JSONFormat())
        declared = REGISTRY.get(event.get_type())
        assert declared is not None, f"undeclared type {event.get_type()}"
        assert declared.routing_key == method.routing_key
        assert event.get_source() == declared.source
        assert properties.message_id == event.get_id()
        parsed = parse_event(body)  # data valid against its declared schema
        assert parsed.id == event.get_id()

    # One trace runs from the booking request through booking, billing and notify.
    booking_trace = trace_id(result["booking_traceparent"])
    caused_by_booking = [parse_event(body) for method, _, body in messages
                         if method.routing_key in ("booking.confirmed", "invoice.issued")]
    assert booking_trace and {trace_id(event.traceparent) for event in caused_by_booking} == {booking_trace}
    billing_log = [json.loads(line) for line in distributed.workers["billing"].log().splitlines()
                   if line.startswith("{")]
    assert any(line["message"] == "invoice issued" and line["trace_id"] == booking_trace for line in billing_log)

    # Metrics: one scrape sums the counters of both gunicorn worker processes, whichever answered.
    booking = f"http://127.0.0.1:{distributed.ports['booking']}"
    assert _requests_counted(booking, "/api/v1/bookings", "POST", "201") == 1
    before = _requests_counted(booking, "/health/live", "GET", "200")
    for _ in range(20):
        requests.get(booking + "/health/live", timeout=10)
    assert _requests_counted(booking, "/health/live", "GET", "200") == before + 20
    worker_metrics = requests.get(f"http://127.0.0.1:{distributed.worker_ports['billing']}/", timeout=10).text
    assert 'events_consumed_total{outcome="handled",service="billing",type="academy.booking.confirmed.v1"}' \
        in worker_metrics

    # Across the processes: a cancelled seat goes to the member waiting, who is invoiced and told.
    try:
        run_waiting_list(Academy(distributed.gateway, distributed.keys_dir))
    except AssertionError:
        print(distributed.logs())
        raise


def _requests_counted(base_url: str, route: str, method: str, status: str) -> float:
    scrape = requests.get(base_url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "http_requests_total" and (labels.get("route"), labels.get("method"),
                                                         labels.get("status")) == (route, method, status):
                return sample.value
    return 0.0


def test_slice_runs_in_the_embedded_academy(tmp_path):
    academy = EmbeddedProcess(tmp_path / "data", tmp_path).start()
    try:
        result = run_slice(Academy(academy.url, academy.keys_dir))
        run_waiting_list(Academy(academy.url, academy.keys_dir))
    except AssertionError:
        print(academy.process.log())
        raise
    finally:
        academy.kill()
    assert {item["kind"] for item in result["inbox"]} >= {"booking_confirmed", "invoice_issued"}
    assert (tmp_path / "data" / "bus.sqlite3").exists()
