"""All five services on one machine and one port, over SQLite files and the local bus (`academy run`)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
from pathlib import Path

from prometheus_client import multiprocess
from werkzeug.test import Client

from academy.gunicorn_app import AcademyApplication
from academy.registry import load_all
from services.catalog.gateway import upstream_for
from services.catalog.openapi_merge import EMBEDDED_DOCUMENT, SPEC_PATH, merge
from shared.auth import ensure_keypair
from shared.config import Settings
from shared.cors import Cors
from shared.migrations import upgrade
from shared.outbox import listen_for_wakes, wake_relays_at
from shared.service import Runtime
from shared.web import unsafe_path
from shared.worker import Worker

log = logging.getLogger(__name__)
MOUNT_PREFIX = "/_services/"


class GatewayDispatcher:
    """Routes each public path to the service that answers it, as the gateway's proxy does when distributed.

    Every service's own paths (its OpenAPI document, docs, health) stay reachable under /_services/<name>/.
    A path with dot segments or encoded slashes goes to catalog, which refuses it as the gateway does.
    """

    def __init__(self, apps: dict):
        self.apps = apps
        self._merged_document: bytes | None = None

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if unsafe_path(environ):
            return self.apps["catalog"](environ, start_response)
        if path == SPEC_PATH and environ["REQUEST_METHOD"] == "GET":
            environ[EMBEDDED_DOCUMENT] = self.merged_document()
            return self.apps["catalog"](environ, start_response)
        if path.startswith(MOUNT_PREFIX):
            name, _, rest = path[len(MOUNT_PREFIX):].partition("/")
            if name in self.apps:
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + MOUNT_PREFIX + name
                environ["PATH_INFO"] = "/" + rest
                return self.apps[name](environ, start_response)
        app = self.apps.get(upstream_for(path) or "catalog", self.apps["catalog"])
        return app(environ, start_response)


    def merged_document(self) -> bytes:
        """The whole public API in one document, as the distributed gateway serves it (made once: the apps in
        this process do not change)."""
        if self._merged_document is None:
            catalog_first = sorted(self.apps, key=lambda name: name != "catalog")
            documents = {name: Client(self.apps[name]).get(SPEC_PATH).get_json() for name in catalog_first}
            self._merged_document = json.dumps(merge(documents)).encode()
        return self._merged_document


def use_embedded_environment(data_dir: Path) -> None:
    """The environment every process of the academy sees: the data dir and generated keys.

    A shared DATABASE_URL would put five services into one schema, so it is dropped; each service may get a
    database of its own through <SERVICE>_DATABASE_URL instead.
    """
    private_key, public_key = ensure_keypair(data_dir / "keys")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("JWT_PRIVATE_KEY_FILE", str(private_key))
    os.environ.setdefault("JWT_PUBLIC_KEY_FILE", str(public_key))
    os.environ["ACADEMY_DATA_DIR"] = str(data_dir)


def academy_apps(runtimes: dict[str, Runtime]) -> Cors:
    """Every service's app behind one dispatcher, with the gateway's cross-origin rules around all of them."""
    dispatcher = GatewayDispatcher({name: definition.create_app(runtimes[name])
                                    for name, definition in load_all().items()})
    return Cors(dispatcher, runtimes["catalog"].settings.allowed_origins)


def open_runtimes() -> dict[str, Runtime]:
    return {name: Runtime(Settings.from_env(name)) for name in load_all()}


def close_runtimes(runtimes: dict[str, Runtime]) -> None:
    for runtime in runtimes.values():
        runtime.close()


def prepare(demo: bool) -> None:
    """Migrate every database, and seed the demo through the API if asked; nothing stays open afterwards, as the
    processes that serve are forked from this one."""
    runtimes = open_runtimes()
    try:
        for name, definition in load_all().items():
            upgrade(definition, runtimes[name].engine)
        if demo:
            from academy.demo import seed_demo_data

            seed_demo_data(academy_apps(runtimes), runtimes)
    finally:
        close_runtimes(runtimes)


def run_workers(wakes: socket.socket) -> None:
    """The background process: every service's consumer, relay, scheduler and dispatcher, until SIGTERM."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtimes = open_runtimes()
    workers = [Worker(definition, runtimes[name]) for name, definition in load_all().items()]
    for worker in workers:
        worker.start()
    threading.Thread(target=listen_for_wakes, args=(wakes, stop), name="wakes", daemon=True).start()
    log.info("workers of %s started", ", ".join(load_all()))
    stop.wait()
    wakes.close()
    for worker in workers:
        worker.stop()
    close_runtimes(runtimes)


class Background:
    """The background process, forked before gunicorn starts. gunicorn reaps every child it sees, so the
    process is watched through a pipe it holds open, not by waiting for it."""

    def __init__(self, wakes: socket.socket):
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(read_end)
            code = 1
            try:
                run_workers(wakes)
                code = 0
            except BaseException:
                log.exception("the background process failed")
            finally:
                os._exit(code)
        os.close(write_end)
        self.lifeline = read_end
        self.exited = threading.Event()
        self.stopping = threading.Event()
        self.died = False  # stopped without being asked to
        threading.Thread(target=self._watch, name="watch-workers", daemon=True).start()

    def _watch(self) -> None:
        os.read(self.lifeline, 1)  # returns (empty) once the process is gone
        self.exited.set()
        if not self.stopping.is_set():
            self.died = True
            log.error("the background process stopped; stopping the academy")
            os.kill(os.getpid(), signal.SIGTERM)

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        for signum in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)
            if self.exited.wait(timeout):
                break
        multiprocess.mark_process_dead(self.pid)


def serve_embedded(data_dir: Path, host: str, port: int, demo: bool, web_workers: int) -> None:
    """The whole academy on one machine: `web_workers` gunicorn processes serving all five services behind the
    gateway's dispatcher, and one background process with every service's workers, on the same SQLite files
    and local bus. SIGTERM or Ctrl-C stops them all; if the background process dies, everything stops."""
    use_embedded_environment(data_dir)
    prepare(demo)
    # Web processes wake the background's relays after each commit with a datagram to this socket.
    wakes = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    wakes.bind(("127.0.0.1", 0))
    wake_host, wake_port = wakes.getsockname()
    background = Background(wakes)
    wakes.close()

    def load() -> GatewayDispatcher:
        wake_relays_at(wake_host, wake_port)
        return academy_apps(open_runtimes())

    print(f"Virtual Cluster Academy running at http://{host}:{port}/  (data in {data_dir})", flush=True)
    print(f"API docs: http://{host}:{port}/api/v1/docs", flush=True)
    arbiter_pid = os.getpid()
    try:
        AcademyApplication([f"{host}:{port}"], web_workers, load).run()
    finally:
        if os.getpid() == arbiter_pid:  # forked web processes leave through here too
            background.stop()
            if background.died:
                raise SystemExit("the academy stopped because its background process died")
