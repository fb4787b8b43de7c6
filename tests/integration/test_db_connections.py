"""Pooled PostgreSQL connections: one cut while idle in the pool is replaced before anyone uses it, one cut moments
after its last use fails the next use alone, and one used again at once is not pinged first (a round trip per
request and per batch); a single statement goes without a transaction around it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from shared import db as shared_db
from shared.db import make_engine, one_statement, read_row

pytestmark = pytest.mark.postgres


def backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def test_a_connection_cut_while_idle_is_replaced_before_it_is_used(make_postgres_database, monkeypatch):
    url = make_postgres_database("pool")
    engine, admin = make_engine(url), create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        first = backend_pid(engine)
        with admin.connect() as connection:  # as a restarted server or a firewall would
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        monkeypatch.setattr(shared_db, "PING_AFTER_IDLE_S", 0.0)  # instead of waiting for it

        second = backend_pid(engine)
    finally:
        engine.dispose()
        admin.dispose()
    assert second != first


def test_a_connection_used_again_at_once_is_not_pinged(make_postgres_database, monkeypatch):
    engine = make_engine(make_postgres_database("pool"))
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(connection) or True)
    try:
        pids = {backend_pid(engine) for _ in range(20)}
        monkeypatch.setattr(shared_db, "PING_AFTER_IDLE_S", 0.0)
        backend_pid(engine)
    finally:
        engine.dispose()
    assert len(pids) == 1, "one pooled connection served every checkout"
    assert len(pings) == 1, "only the checkout after the connection sat idle was pinged"


def test_a_connection_cut_moments_after_use_fails_the_next_use_alone(make_postgres_database):
    url = make_postgres_database("pool")
    engine, admin = make_engine(url), create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        first = backend_pid(engine)
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        with pytest.raises(OperationalError):  # back in the pool a moment ago: handed out without a ping
            backend_pid(engine)
        second = backend_pid(engine)
    finally:
        engine.dispose()
        admin.dispose()
    assert second != first


def test_a_single_statement_runs_outside_a_transaction_and_the_pool_transacts_again(make_postgres_database):
    engine = make_engine(make_postgres_database("pool"))
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE counted (n integer)"))
        with one_statement(engine) as connection:
            in_autocommit = connection.connection.dbapi_connection.autocommit
            connection.execute(text("INSERT INTO counted VALUES (1)"))
        with engine.connect() as connection:
            in_autocommit_after = connection.connection.dbapi_connection.autocommit
            written = connection.scalar(text("SELECT count(*) FROM counted"))
    finally:
        engine.dispose()
    assert in_autocommit and not in_autocommit_after
    assert written == 1


def test_a_row_read_through_the_driver_runs_outside_a_transaction_and_the_pool_transacts_again(
        make_postgres_database):
    engine = make_engine(make_postgres_database("pool"))
    try:
        # The first statement of a transaction starts it: inside a BEGIN sent before, it would start later.
        (first_of_its_transaction,) = read_row(engine, "SELECT statement_timestamp() = transaction_timestamp()")
        with engine.connect() as connection:
            in_autocommit_after = connection.connection.dbapi_connection.autocommit
    finally:
        engine.dispose()

    assert first_of_its_transaction
    assert not in_autocommit_after

