"""All five services in one process on one port, over SQLite files and the local bus."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from academy.registry import load_all
from services.catalog.gateway import upstream_for
from shared.auth import ensure_keypair
from shared.config import Settings
from shared.migrations import upgrade
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

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if unsafe_path(environ):
            return self.apps["catalog"](environ, start_response)
        if path.startswith(MOUNT_PREFIX):
            name, _, rest = path[len(MOUNT_PREFIX):].partition("/")
            if name in self.apps:
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + MOUNT_PREFIX + name
                environ["PATH_INFO"] = "/" + rest
                return self.apps[name](environ, start_response)
        app = self.apps.get(upstream_for(path) or "catalog", self.apps["catalog"])
        return app(environ, start_response)


def embedded_env(data_dir: Path) -> dict[str, str]:
    """The environment the services see: the data dir and generated keys.

    A shared DATABASE_URL would put five services into one schema, so it is dropped; each service may get a
    database of its own through <SERVICE>_DATABASE_URL instead.
    """
    private_key, public_key = ensure_keypair(data_dir / "keys")
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.setdefault("JWT_PRIVATE_KEY_FILE", str(private_key))
    env.setdefault("JWT_PUBLIC_KEY_FILE", str(public_key))
    env["ACADEMY_DATA_DIR"] = str(data_dir)
    return env


class EmbeddedAcademy:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.definitions = load_all()
        env = embedded_env(data_dir)
        self.runtimes = {name: Runtime(Settings.from_env(name, env)) for name in self.definitions}
        self.workers: list[Worker] = []
        self.app = None

    def start(self) -> GatewayDispatcher:
        """Migrate every database, start every worker, and return the WSGI app of the whole academy."""
        for name, definition in self.definitions.items():
            upgrade(definition, self.runtimes[name].engine)
        apps = {name: definition.create_app(self.runtimes[name]) for name, definition in self.definitions.items()}
        for name, definition in self.definitions.items():
            worker = Worker(definition, self.runtimes[name])
            worker.start()
            self.workers.append(worker)
        self.app = GatewayDispatcher(apps)
        return self.app

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for runtime in self.runtimes.values():
            runtime.close()


class RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, naming no versions in `Server`: they only tell an attacker which flaws to try."""

    def version_string(self) -> str:
        return "academy"


def embedded_server(host: str, port: int, app) -> BaseWSGIServer:
    """The threaded HTTP server of `academy run`."""
    return make_server(host, port, app, threaded=True, request_handler=RequestHandler)


def serve_embedded(data_dir: Path, host: str, port: int, demo: bool) -> None:
    academy = EmbeddedAcademy(data_dir)
    app = academy.start()
    if demo:
        from academy.demo import seed_demo_data

        seed_demo_data(app)
    server = embedded_server(host, port, app)
    stop_requested = threading.Event()

    def request_stop(signum, _frame):
        log.info("stopping on signal %s", signum)
        stop_requested.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print(f"Virtual Cluster Academy running at http://{host}:{port}/  (data in {data_dir})", flush=True)
    print(f"API docs: http://{host}:{port}/api/v1/docs", flush=True)
    try:
        server.serve_forever()
    finally:
        academy.stop()
