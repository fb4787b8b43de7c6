"""Fixtures for the real RabbitMQ and PostgreSQL (local servers, or containers where a Docker engine runs)."""

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


def _docker_engine_available() -> bool:
    try:
        import docker

        return bool(docker.from_env().ping())
    except Exception:  # noqa: BLE001 - no client library, no socket, no daemon: all mean "no engine"
        return False


def _local_rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def rabbitmq():
    """(base URL, rabbitmqctl): the local broker when it runs, else a container where an engine exists."""
    if _reachable(AMQP_BASE_URL, 5672) and shutil.which("rabbitmqctl"):
        yield AMQP_BASE_URL, _local_rabbitmqctl
    elif _docker_engine_available():
        from testcontainers.community.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13", username="academy", password="academy") as container:
            url = f"amqp://academy:academy@{container.get_container_host_ip()}:{container.get_exposed_port(5672)}/"
            yield url, lambda *args: container.exec(["rabbitmqctl", "-q", *args])
    else:
        _missing(f"RabbitMQ at {AMQP_BASE_URL} (with rabbitmqctl to make a vhost per test)")


@pytest.fixture
def amqp_url(rabbitmq) -> str:
    """A fresh vhost per test, so exchanges, queues and dead letters never leak between tests or runs."""
    base_url, rabbitmqctl = rabbitmq
    vhost = f"academy-test-{RUN_ID}-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, urlparse(base_url).username or "guest", ".*", ".*", ".*")
    yield urlunparse(urlparse(base_url)._replace(path="/" + vhost))
    rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def postgres_server():
    """An administrator URL: the local server when it runs, else a container where an engine exists."""
    if _reachable(POSTGRES_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), 5432):
        yield POSTGRES_ADMIN_URL
    elif _docker_engine_available():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer("postgres:16", username="postgres", password="postgres", dbname="postgres",
                               driver="psycopg") as container:
            yield container.get_connection_url()
    else:
        _missing(f"PostgreSQL at {POSTGRES_ADMIN_URL}")


@pytest.fixture(scope="session")
def postgres_admin(postgres_server):
    engine = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
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


@pytest.fixture(scope="session", autouse=True)
def no_academy_leftovers_in_the_temp_dir():
    """Gives the run a temp dir of its own, which every process it starts inherits (TMPDIR), and fails the run when
    academy-* entries are left in it, as serve's metrics folders once were; then removes it. A run of its own, so
    other runs on the machine neither disturb the check nor find anything of this one in the system temp dir."""
    import tempfile

    run_temp = tempfile.mkdtemp(prefix="vca-test-run-")
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"], tempfile.tempdir = run_temp, None
    yield
    left = sorted(name for name in os.listdir(run_temp) if name.startswith("academy-"))
    if saved is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = saved
    tempfile.tempdir = None
    shutil.rmtree(run_temp, ignore_errors=True)
    if left:
        pytest.fail(f"the tests left {', '.join(left)} in the temp dir", pytrace=False)
