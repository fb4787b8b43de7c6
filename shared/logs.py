"""JSON log lines that carry the service, the request id and the trace id of whatever is being done."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from shared.tracing import current_request_id, current_traceparent, trace_id


class _ContextFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = getattr(record, "service", self.service)
        record.request_id = current_request_id.get()
        record.trace_id = trace_id(current_traceparent.get())
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s %(trace_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    )
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kombu and amqp are chatty at INFO about every reconnect attempt; the embedded server's own request
    # lines would repeat the academy's access log.
    for noisy in ("amqp", "kombu", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
