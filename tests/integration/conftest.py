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
