"""A handler that reaches outside the process fails (and is retried, then dead-lettered) before anything leaves."""

from __future__ import annotations

import smtplib
import socket
import subprocess
import sys

import pytest
import requests

from academy.registry import load_service
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.events.declarations import MemberRegistered
from shared.testing import delivery, make_runtime, sample


@pytest.fixture
def listener():
    """A real TCP server on loopback that counts the connections it accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    yield server
    server.close()


def accepted(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            connection, _ = server.accept()
        except TimeoutError:
            return count
        connection.close()
        count += 1


def reach_out_by(way: str, port: int) -> None:
    if way == "socket":
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    elif way == "smtp":
        smtplib.SMTP("127.0.0.1", port, timeout=1)
    elif way == "http":
        requests.post(f"http://127.0.0.1:{port}/hook", timeout=1)
    elif way == "process":
        subprocess.run([sys.executable, "-c", "pass"], check=True)


@pytest.mark.parametrize("way", ["socket", "smtp", "http", "process"])
def test_a_handler_that_reaches_out_is_retried_and_nothing_leaves(tmp_path, listener, way):
    runtime = make_runtime(load_service("notify"), tmp_path)
    port = listener.getsockname()[1]

    def greet_by_mail(event, db):
        reach_out_by(way, port)

    consumer = EventConsumer("notify", {MemberRegistered: greet_by_mail}, runtime.session_factory)
    try:
        [settlement] = consumer.handle_batch([delivery(sample(MemberRegistered))])
    finally:
        runtime.close()

    assert settlement.outcome is Outcome.RETRY
    assert "HandlerDidIO" in settlement.reason and "record a side effect" in settlement.reason
    assert accepted(listener) == 0


def test_outside_handlers_the_same_call_goes_through(listener):
    reach_out_by("socket", listener.getsockname()[1])
    assert accepted(listener) == 1

