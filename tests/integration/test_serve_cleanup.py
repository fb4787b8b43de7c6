"""`academy serve` removes the metrics folder it made for its gunicorn workers when it stops, and only then."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import requests

from shared.auth import ensure_keypair
from tests.system.processes import Process, free_port, wait_until_ready


def serve_booking(tmp_path: Path, **env: str) -> tuple[Process, int, Path]:
    """`academy serve booking` with a temp dir of its own, so whatever it leaves behind is visible there."""
    temp_dir = tmp_path / "tmp"
    temp_dir.mkdir()
    _, public_key = ensure_keypair(tmp_path / "keys")
    port = free_port()
    child_env = {
        **{key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"},
        "TMPDIR": str(temp_dir),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'booking.sqlite3'}",
        "AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",  # never connected to: /health/live needs no broker
        "JWT_PUBLIC_KEY_FILE": str(public_key),
        "WEB_CONCURRENCY": "2",
        **env,
    }
    process = Process("booking", ["serve", "booking", "--port", str(port)], child_env, tmp_path).start()
    wait_until_ready(f"http://127.0.0.1:{port}/health/live", process)
    return process, port, temp_dir


def wait_for_exit(pid: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still runs")


def stop_one_worker(process: Process, port: int, metrics_dir: Path) -> None:
    """SIGTERM a gunicorn worker that has written into the folder; gunicorn starts another in its place."""
    requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).raise_for_status()
    pids = {int(path.stem.rsplit("_", 1)[1]) for path in metrics_dir.glob("*.db")} - {process.popen.pid}
    assert pids, f"no worker wrote into {metrics_dir}: {os.listdir(metrics_dir)}"
    worker = min(pids)
    os.kill(worker, signal.SIGTERM)
    wait_for_exit(worker)
    wait_until_ready(f"http://127.0.0.1:{port}/health/live", process)


@pytest.mark.parametrize("target", ["master", "group"])
def test_serve_removes_its_metrics_folder_on_sigterm(tmp_path, target):
    """A worker leaving keeps the folder; SIGTERM to the master (as `docker stop` sends it) or to the whole
    process group (as the system tests send it) removes it."""
    process, port, temp_dir = serve_booking(tmp_path)
    try:
        (metrics_dir,) = temp_dir.glob("academy-booking-metrics-*")
        stop_one_worker(process, port, metrics_dir)
        assert metrics_dir.is_dir(), "a worker's exit removed the folder the other workers still write to"

        if target == "master":
            os.kill(process.popen.pid, signal.SIGTERM)
            assert process.popen.wait(30) == 0, process.log()
        else:
            process.kill(signal.SIGTERM)
            assert process.popen.returncode == 0, process.log()
    finally:
        process.kill()
    assert list(temp_dir.iterdir()) == [], process.log()


def test_serve_keeps_a_metrics_folder_it_was_given(tmp_path):
    given = tmp_path / "metrics"
    process, _, temp_dir = serve_booking(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(given))
    try:
        process.kill(signal.SIGTERM)
        assert process.popen.returncode == 0, process.log()
    finally:
        process.kill()
    assert given.is_dir(), "the operator's folder was removed"
    assert list(temp_dir.iterdir()) == [], process.log()
