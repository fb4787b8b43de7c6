"""`academy run`: web processes on every core and one background process with the workers, started and stopped
as one; a booking made in a web process reaches the background's relay at once, not at its next poll."""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy.orm import Session

from shared import outbox
from tests.integration.test_serve_cleanup import wait_for_exit
from tests.system.processes import EmbeddedProcess


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.fixture
def academy(tmp_path):
    process = EmbeddedProcess(tmp_path / "data", tmp_path, web_workers=2).start()
    yield process
    process.kill(signal.SIGKILL)


def test_two_web_processes_and_a_background_one_serve_the_academy(academy):
    main = academy.process.popen.pid
    # Two gunicorn workers and the background process.
    assert len(children_of(main)) == 3

    answers = [requests.get(f"{academy.url}/health/ready", timeout=5) for _ in range(20)]
    assert all(answer.status_code == 200 for answer in answers)
    assert not re.search(r"\d", answers[0].headers["Server"]), "no versions for an attacker to look up"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_main_process_stops_them_all(academy, signum):
    main = academy.process.popen.pid
    processes = children_of(main)

    os.kill(main, signum)

    assert academy.process.popen.wait(30) == 0
    for pid in processes:
        wait_for_exit(pid)


def web_processes(academy) -> set[int]:
    return {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", academy.process.log())}


def test_when_the_background_process_dies_everything_stops_and_says_why(academy):
    main = academy.process.popen.pid
    web = web_processes(academy)
    [background] = children_of(main) - web

    os.kill(background, signal.SIGKILL)

    assert academy.process.popen.wait(30) != 0
    for pid in web:
        wait_for_exit(pid)
    assert "background process died" in academy.process.log()


def test_an_event_from_a_web_process_reaches_the_consumers_of_the_background(academy):
    """Registration commits member.registered in a web process; booking's consumer in the background
    process handles it."""
    answer = requests.post(f"{academy.url}/api/v1/members", timeout=10,
                           json={"email": f"wake-{time.monotonic_ns()}@academy.example",
                                 "password": "a long and unusual passphrase 2026", "display_name": "Wake"})
    assert answer.status_code == 202, answer.text
    handled = re.compile(r'events_consumed_total\{[^}]*member\.registered[^}]*\} [1-9]')
    deadline = time.monotonic() + 20
    while not handled.search(requests.get(f"{academy.url}/_services/booking/metrics", timeout=5).text):
        assert time.monotonic() < deadline, "booking never handled member.registered"
        time.sleep(0.05)


def test_a_commit_that_wrote_outbox_rows_sends_a_wake_up(monkeypatch):
    """The web process's half: after such a commit, a datagram goes to the background's address."""
    monkeypatch.setattr(outbox, "_relays_elsewhere", None)
    background = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    background.bind(("127.0.0.1", 0))
    background.settimeout(5)
    outbox.wake_relays_at(*background.getsockname())

    plain, writing = Session(), Session()
    plain.commit()
    writing.info["outbox_written"] = True  # as record_event leaves it
    writing.commit()

    assert background.recv(64) == b"!"
    background.settimeout(0.2)
    with pytest.raises(TimeoutError):
        background.recv(64)  # one for the writing commit, none for the other
    background.close()


def test_a_wake_up_from_another_process_wakes_the_relays():
    """The background's half: a datagram wakes a relay waiting for outbox rows."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    stop = threading.Event()
    threading.Thread(target=outbox.listen_for_wakes, args=(listener, stop), daemon=True).start()
    woken = threading.Event()
    threading.Thread(target=lambda: (outbox.wait_for_outbox(30), woken.set()), daemon=True).start()
    time.sleep(0.2)  # waiting

    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"!", listener.getsockname())

    assert woken.wait(5)
    stop.set()
