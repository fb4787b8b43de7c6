"""Fixtures for a test module about one service: it names the service in a module-level `SERVICE`."""

from __future__ import annotations

import pytest

from shared.consumer import EventConsumer
from shared.testing import make_runtime


@pytest.fixture
def runtime(request, tmp_path):
    runtime = make_runtime(request.module.SERVICE, tmp_path)
    yield runtime
    runtime.close()


@pytest.fixture
def consumer(request, runtime):
    return EventConsumer(request.module.SERVICE.name, request.module.SERVICE.handlers, runtime.session_factory)


@pytest.fixture
def client(request, runtime):
    return request.module.SERVICE.create_app(runtime).test_client()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def runtime_on_each_database(request, tmp_path):
    """The module's service on SQLite, then on a fresh PostgreSQL database."""
    env = {}
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("make_postgres_database")(request.module.SERVICE.name)
    runtime = make_runtime(request.module.SERVICE, tmp_path, **env)
    yield runtime
    runtime.close()
