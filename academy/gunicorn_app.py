"""Flask apps under gunicorn, each worker building its own app after fork: one service (`academy serve`) or the
whole academy behind its dispatcher (`academy run`)."""

from __future__ import annotations

from collections.abc import Callable

from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess

from shared.config import InvalidSetting, Settings


def _forget_dead_worker(_server, worker) -> None:
    multiprocess.mark_process_dead(worker.pid)


class AcademyApplication(BaseApplication):
    """gunicorn with the academy's settings; `load` builds the WSGI app in each worker."""

    def __init__(self, bind: list[str], workers: int, load: Callable[[], Callable]):
        self.options = {
            "bind": bind,
            "workers": workers,
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 60,
            "graceful_timeout": 20,
            "preload_app": False,  # database and broker connections are opened in each worker, after fork
            "accesslog": None,
            "child_exit": _forget_dead_worker,
        }
        self._load = load
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # Newer gunicorn opens a control socket at one fixed path, which several services would share.
            self.cfg.set("control_socket_disable", True)

    def load(self):
        return self._load()


class ServiceApplication(AcademyApplication):
    def __init__(self, settings: Settings, *, port: int, workers: int):
        self.settings = settings
        bind = [f"0.0.0.0:{port}"]
        if settings.metrics_port is not None:
            if settings.metrics_port == port:
                raise InvalidSetting(f"METRICS_PORT: must differ from the HTTP port {port}")
            # A second listener, for Prometheus only: /metrics is answered there and nowhere else.
            bind.append(f"0.0.0.0:{settings.metrics_port}")
        super().__init__(bind, workers, self._service_app)

    def _service_app(self):
        from academy.registry import load_service
        from shared.logs import configure_logging
        from shared.service import Runtime

        configure_logging(self.settings.service, self.settings.log_level)
        app = load_service(self.settings.service).create_app(Runtime(self.settings))
        app.config["METRICS_PORT"] = self.settings.metrics_port
        return app
