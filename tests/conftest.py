"""Fixtures for the real RabbitMQ and PostgreSQL: a vhost and databases of their own per test run."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from urllib.parse import urlparse, urlunparse

import pytest
from sqlalchemy import create_engine, text

RUN_ID = uuid.uuid4().hex[:8]
AMQP_BASE_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
POSTGRES_ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def _missing(what: str) -> None:
    """Under CI a missing service fails the run; on a developer machine the test is skipped."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is not reachable, and CI=true forbids skipping", pytrace=False)
    pytest.skip(f"{what} is not reachable")


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def rabbitmq_available() -> None:
    if not _reachable(AMQP_BASE_URL, 5672):
        _missing(f"RabbitMQ at {AMQP_BASE_URL}")
    if shutil.which("rabbitmqctl") is None:
        _missing("rabbitmqctl (needed to make a vhost per test)")


@pytest.fixture
def amqp_url(rabbitmq_available) -> str:
    """A fresh vhost per test, so exchanges, queues and dead letters never leak between tests or runs."""
    vhost = f"academy-test-{RUN_ID}-{uuid.uuid4().hex[:8]}"
    user = urlparse(AMQP_BASE_URL).username or "guest"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    yield urlunparse(urlparse(AMQP_BASE_URL)._replace(path="/" + vhost))
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def postgres_admin():
    if not _reachable(POSTGRES_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), 5432):
        _missing(f"PostgreSQL at {POSTGRES_ADMIN_URL}")
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    created: list[str] = []
    yield engine, created
    with engine.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def make_postgres_database(postgres_admin):
    """Factory: a new, empty database with a name unique to this run; dropped when the session ends."""
    engine, created = postgres_admin

    def make(hint: str) -> str:
        name = f"academy_test_{RUN_ID}_{hint}_{uuid.uuid4().hex[:6]}"
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return engine.url.set(database=name).render_as_string(hide_password=False)

    return make
