"""Log lines are JSON and carry the service, the request id and the trace id of the work in hand."""

from __future__ import annotations

import io
import json
import logging

import pytest

from shared.logs import configure_logging
from shared.tracing import child_of, current_request_id, current_traceparent, new_traceparent, trace_id


@pytest.fixture
def log_stream():
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("booking", "INFO")
    stream = io.StringIO()
    root.handlers[0].setStream(stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def test_a_log_line_carries_service_request_and_trace(log_stream):
    parent = new_traceparent()
    request_token = current_request_id.set("req-42")
    trace_token = current_traceparent.set(child_of(parent))
    try:
        logging.getLogger("services.booking").info("seat taken", extra={"booking_id": "b-1"})
    finally:
        current_request_id.reset(request_token)
        current_traceparent.reset(trace_token)

    line = json.loads(log_stream.getvalue().splitlines()[-1])
    assert line["message"] == "seat taken"
    assert line["level"] == "INFO"
    assert line["service"] == "booking"
    assert line["request_id"] == "req-42"
    assert line["trace_id"] == trace_id(parent), "a child span keeps its parent's trace"
    assert line["booking_id"] == "b-1"


def test_outside_any_request_the_ids_are_null(log_stream):
    logging.getLogger("x").warning("idle")
    line = json.loads(log_stream.getvalue().splitlines()[-1])
    assert line["request_id"] is None and line["trace_id"] is None


@pytest.mark.parametrize("broken", [None, "", "garbage", "00-xyz-abc-01", "00-" + "0" * 31 + "-" + "1" * 16 + "-01"])
def test_a_malformed_parent_starts_a_new_trace(broken):
    child = child_of(broken)
    assert trace_id(child) is not None


def test_every_request_leaves_one_access_line_with_its_request_id(log_stream, tmp_path):
    from services.assessment import SERVICE
    from shared.testing import make_runtime

    runtime = make_runtime(SERVICE, tmp_path)
    client = SERVICE.create_app(runtime).test_client()
    response = client.get("/api/v1/career-paths", headers={"X-Request-ID": "req-7"})
    runtime.close()

    access = [json.loads(line) for line in log_stream.getvalue().splitlines() if '"academy.access"' in line]
    assert len(access) == 1
    assert access[0]["request_id"] == "req-7" == response.headers["X-Request-ID"]
    assert access[0]["status"] == 200 and access[0]["route"] == "/api/v1/career-paths"
    assert access[0]["trace_id"] == trace_id(response.headers["traceparent"])


@pytest.mark.parametrize("offered", ["", "x" * 129, "two words", "<script>"])
def test_an_unusable_request_id_is_replaced(offered, tmp_path):
    from services.assessment import SERVICE
    from shared.testing import make_runtime

    runtime = make_runtime(SERVICE, tmp_path)
    response = SERVICE.create_app(runtime).test_client().get("/health/live", headers={"X-Request-ID": offered})
    runtime.close()
    assert response.headers["X-Request-ID"] != offered
    assert len(response.headers["X-Request-ID"]) == 36
