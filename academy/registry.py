"""Where each service's definition lives; loaded on demand so a command imports only what it runs."""

from __future__ import annotations

import importlib

from shared.config import SERVICES
from shared.service import ServiceDefinition


def load_service(name: str) -> ServiceDefinition:
    if name not in SERVICES:
        raise SystemExit(f"unknown service {name!r}; choose one of: {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}").SERVICE


def load_all() -> dict[str, ServiceDefinition]:
    return {name: load_service(name) for name in SERVICES}
