"""The `academy` command as an operator meets it: clear refusals, migrations, keys, dead letters, catalogue."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from shared.bus import Outcome, Settlement, make_bus
from shared.config import Settings
from tests.system.processes import REPO

BASE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}


def academy(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "academy.cli", *args], env={**BASE_ENV, **env}, cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_serve_without_its_settings_names_every_missing_one():
    result = academy("serve", "booking")
    assert result.returncode == 2
    assert "DATABASE_URL, AMQP_URL, JWT_PUBLIC_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_serving_the_gateway_also_needs_the_addresses_of_the_other_services():
    result = academy("serve", "catalog", DATABASE_URL="sqlite:///x", AMQP_URL="amqp://h/", JWT_PUBLIC_KEY="k",
                     JWT_PRIVATE_KEY="k")
    assert result.returncode == 2
    assert "BOOKING_URL, ASSESSMENT_URL, BILLING_URL, NOTIFY_URL" in result.stderr


def test_a_setting_with_an_unusable_value_is_named():
    result = academy("worker", "billing", DATABASE_URL="sqlite:///x", AMQP_URL="amqp://h/", AMQP_QUEUE_TYPE="fancy")
    assert result.returncode == 2
    assert "AMQP_QUEUE_TYPE" in result.stderr and "Traceback" not in result.stderr


def test_keys_are_generated_once(tmp_path):
    assert academy("keys", "generate", "--dir", str(tmp_path)).returncode == 0
    first = (tmp_path / "jwt-private.pem").read_text()
    assert first.startswith("-----BEGIN PRIVATE KEY-----")
    assert academy("keys", "generate", "--dir", str(tmp_path)).returncode == 0
    assert (tmp_path / "jwt-private.pem").read_text() == first, "existing keys must never be replaced"


def test_migrate_brings_every_embedded_database_to_head(tmp_path):
    result = academy("migrate", ACADEMY_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    for name in ("catalog", "booking", "assessment", "billing", "notify"):
        assert f"{name}: database at head" in result.stdout
        assert (tmp_path / f"{name}.sqlite3").exists()


def test_migrate_refuses_to_put_every_service_into_one_database(tmp_path):
    result = academy("migrate", DATABASE_URL=f"sqlite:///{tmp_path}/one.db")
    assert result.returncode != 0
    assert "say which" in result.stderr


@pytest.fixture(params=["local", "rabbitmq"])
def bus_env(request, tmp_path) -> dict[str, str]:
    env = {"ACADEMY_DATA_DIR": str(tmp_path)}
    if request.param == "rabbitmq":
        env["AMQP_URL"] = request.getfixturevalue("amqp_url")
    return env


def test_dead_letters_are_listed_and_replayed(bus_env):
    bus = make_bus(Settings.from_env("billing", {**bus_env, "EVENT_RETRY_DELAYS": "1"}))
    bus.declare("billing", ["booking.confirmed"])
    bus.publish([("booking.confirmed", b"not an event", "m-1")])
    stop = threading.Event()

    def dead_letter_all(deliveries):
        stop.set()  # one batch is enough; consume() returns once it is settled
        return [Settlement(Outcome.DEAD, "not JSON") for _ in deliveries]

    bus.consume("billing", dead_letter_all, stop)

    listed = academy("dead-letters", "list", "billing", **bus_env)
    assert listed.returncode == 0, listed.stderr
    letter = json.loads(listed.stdout.splitlines()[0])
    assert letter["message_id"] == "m-1" and letter["reason"] == "not JSON"
    assert letter["routing_key"] == "booking.confirmed"

    replayed = academy("dead-letters", "replay", "billing", "--id", "m-1", **bus_env)
    assert "replayed 1 dead letter" in replayed.stdout
    assert bus.dead_letters("billing") == []
    bus.close()


def test_the_event_catalogue_lists_publishers_and_consumers():
    result = academy("events", "asyncapi")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["asyncapi"] == "3.0.0"
    operations = document["operations"]
    assert "billing.receive.booking.confirmed.v1" in operations
    assert "booking.publish.booking.confirmed.v1" in operations


def test_the_topology_command_prints_what_the_handler_registries_give():
    from shared.events.topology import TOPOLOGY_FILE

    result = academy("events", "topology")
    assert result.returncode == 0, result.stderr
    assert result.stdout == TOPOLOGY_FILE.read_text()
    assert "academy.booking.confirmed.v1" in json.loads(result.stdout)["billing"]


def test_roles_are_granted_from_the_command_line(tmp_path):
    from services import catalog
    from shared.testing import make_runtime
    from tests.integration.member_helpers import register

    runtime = make_runtime(catalog.SERVICE, tmp_path)
    registered = register(catalog.SERVICE.create_app(runtime).test_client(), "olga@academy.example",
                          "long enough password", "Olga")
    assert registered.status_code == 200, registered.json
    runtime.close()

    granted = academy("roles", "grant", "Olga@Academy.example", "operator", ACADEMY_DATA_DIR=str(tmp_path))
    assert granted.returncode == 0, granted.stderr
    assert "member, operator" in granted.stdout

    unknown = academy("roles", "grant", "nobody@academy.example", "operator", ACADEMY_DATA_DIR=str(tmp_path))
    assert unknown.returncode != 0 and "no member is registered" in unknown.stderr
    refused = academy("roles", "grant", "olga@academy.example", "member", ACADEMY_DATA_DIR=str(tmp_path))
    assert refused.returncode != 0 and "cannot be granted" in refused.stderr


def test_numbers_out_of_range_are_refused_by_name():
    result = academy("serve", "booking", DATABASE_URL="sqlite:///x", AMQP_URL="amqp://h/", JWT_PUBLIC_KEY="k",
                     WEB_CONCURRENCY="two")
    assert result.returncode == 2 and "WEB_CONCURRENCY" in result.stderr and "Traceback" not in result.stderr
    result = academy("worker", "booking", DATABASE_URL="sqlite:///x", AMQP_URL="amqp://h/", AMQP_PREFETCH="0")
    assert result.returncode == 2 and "AMQP_PREFETCH" in result.stderr


def test_only_keys_may_come_from_files():
    result = academy("worker", "booking", DATABASE_URL_FILE="/tmp/db-url", AMQP_URL="amqp://h/")
    assert result.returncode == 2 and "DATABASE_URL" in result.stderr
