"""Start the academy's real processes (gunicorn services, workers, the embedded academy) for a test."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from shared.config import SERVICES

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.args = args
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "academy.cli", *self.args],
            env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (gunicorn's workers too) and wait for it to go."""
        if self.popen and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


def wait_until_ready(url: str, process: Process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen and process.popen.poll() is not None:
            raise AssertionError(f"{process.name} exited early:\n{process.log()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{process.name} not ready at {url}:\n{process.log()}")


class DistributedAcademy:
    """Five gunicorn services and five workers, on RabbitMQ and a PostgreSQL database per service."""

    def __init__(self, amqp_url: str, database_urls: dict[str, str], keys_dir: Path, log_dir: Path,
                 worker_amqp_url: str | None = None, web_amqp_url: str | None = None):
        self.log_dir = log_dir
        self.keys_dir = keys_dir
        self.ports = {name: free_port() for name in SERVICES}
        self.base_env = {
            **os.environ,
            "JWT_PRIVATE_KEY_FILE": str(keys_dir / "jwt-private.pem"),
            "JWT_PUBLIC_KEY_FILE": str(keys_dir / "jwt-public.pem"),
            # Notify writes its mails (no SMTP_HOST) beside the keys, where Academy(..., keys_dir) reads them.
            "ACADEMY_DATA_DIR": str(keys_dir.parent),
            "EVENT_RETRY_DELAYS": "0.5,1,2,4,8",
            "WEB_CONCURRENCY": "2",
            "LOG_LEVEL": "INFO",
            **{f"{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in self.ports.items()},
        }
        self.amqp_url = amqp_url
        self.worker_amqp_url = worker_amqp_url or amqp_url
        self.web_amqp_url = web_amqp_url or amqp_url
        self.database_urls = database_urls
        self.web: dict[str, Process] = {}
        self.workers: dict[str, Process] = {}
        self.worker_ports: dict[str, int] = {}

    def env(self, service: str, amqp_url: str) -> dict[str, str]:
        return {**self.base_env, "DATABASE_URL": self.database_urls[service], "AMQP_URL": amqp_url}

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['catalog']}"

    def migrate(self) -> None:
        for name in SERVICES:
            subprocess.run([sys.executable, "-m", "academy.cli", "migrate", name], env=self.env(name, self.amqp_url),
                           cwd=REPO, check=True, capture_output=True, timeout=120)

    def start_worker(self, name: str) -> Process:
        self.worker_ports[name] = free_port()
        env = {**self.env(name, self.worker_amqp_url), "WORKER_PORT": str(self.worker_ports[name])}
        self.workers[name] = Process(f"{name}-worker", ["worker", name], env, self.log_dir).start()
        return self.workers[name]

    def start(self) -> DistributedAcademy:
        self.migrate()
        for name in SERVICES:
            env = self.env(name, self.web_amqp_url)
            self.web[name] = Process(name, ["serve", name, "--port", str(self.ports[name])], env, self.log_dir).start()
            self.start_worker(name)
        for name in SERVICES:
            wait_until_ready(f"http://127.0.0.1:{self.ports[name]}/health/live", self.web[name])
        return self

    def stop(self) -> None:
        for process in [*self.web.values(), *self.workers.values()]:
            process.kill(signal.SIGTERM)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()}" for p in [*self.web.values(), *self.workers.values()])


class EmbeddedProcess:
    """`academy run` in a data directory of its own."""

    def __init__(self, data_dir: Path, log_dir: Path, port: int | None = None, web_workers: int | None = None):
        self.port = port or free_port()
        self.keys_dir = data_dir / "keys"  # where `academy run` keeps the keys it generates
        env = {**os.environ, "ACADEMY_DATA_DIR": str(data_dir), "EVENT_RETRY_DELAYS": "0.5,1,2,4,8"}
        for name in ("AMQP_URL", "DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"):
            env.pop(name, None)
        workers = ["--workers", str(web_workers)] if web_workers else []
        self.process = Process("embedded", ["run", "--port", str(self.port), *workers], env, log_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedProcess:
        self.process.start()
        wait_until_ready(self.url + "/health/ready", self.process)
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.process.kill(sig)
