"""shared.db on real databases: SQLite writers are serialised, a row read outside a transaction does not wait for
them, and UtcDateTime keeps instants in UTC."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text, update
from sqlalchemy.exc import StatementError

from shared.db import UtcDateTime, make_engine, read_row

WRITER_THREADS = 8
TRANSACTIONS_PER_WRITER = 50

metadata = MetaData()
counters = Table("counters", metadata, Column("id", Integer, primary_key=True), Column("value", Integer))
stamps = Table("stamps", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime()))


def test_concurrent_read_modify_write_transactions_on_sqlite_lose_no_update(tmp_path):
    # A deferred BEGIN lets two writers read the same value (lost update) or fail upgrading their read lock
    # ("database is locked"); only a write lock taken at BEGIN makes read-then-write safe.
    engine = make_engine(f"sqlite:///{tmp_path / 'counter.db'}")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(counters).values(id=1, value=0))
    start_together = threading.Barrier(WRITER_THREADS)

    def increment_repeatedly() -> None:
        start_together.wait()
        for _ in range(TRANSACTIONS_PER_WRITER):
            with engine.begin() as connection:
                value = connection.execute(select(counters.c.value).where(counters.c.id == 1)).scalar_one()
                connection.execute(update(counters).where(counters.c.id == 1).values(value=value + 1))

    with ThreadPoolExecutor(max_workers=WRITER_THREADS) as pool:
        futures = [pool.submit(increment_repeatedly) for _ in range(WRITER_THREADS)]
    errors = [repr(future.exception()) for future in futures if future.exception() is not None]

    assert errors == []
    with engine.connect() as connection:
        final = connection.execute(select(counters.c.value).where(counters.c.id == 1)).scalar_one()
    assert final == WRITER_THREADS * TRANSACTIONS_PER_WRITER
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'stamps.db'}")
    else:
        url = request.getfixturevalue("make_postgres_database")("utc")
        # A session time zone other than UTC makes the server hand back non-UTC offsets, which the type
        # must convert; under a UTC session the test could pass without any conversion at all.
        engine = make_engine(url, connect_args={"options": "-c TimeZone=America/New_York"})
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_utc_datetime_returns_the_same_instant_in_utc(engine):
    written = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    with engine.begin() as connection:
        connection.execute(insert(stamps).values(id=1, at=written))
    with engine.connect() as connection:
        read = connection.execute(select(stamps.c.at).where(stamps.c.id == 1)).scalar_one()

    assert read == written
    assert read.tzinfo is UTC
    assert (read.year, read.month, read.day, read.hour, read.minute) == (2026, 3, 28, 23, 30)


def test_utc_datetime_stores_utc_wall_clock_on_sqlite(tmp_path):
    # SQLite keeps timestamps as text and compares them as text, so every row must be written in one zone.
    engine = make_engine(f"sqlite:///{tmp_path / 'stamps.db'}")
    metadata.create_all(engine)
    eight_in_the_morning_at_plus_two = datetime(2026, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    with engine.begin() as connection:
        connection.execute(insert(stamps).values(id=1, at=eight_in_the_morning_at_plus_two))
        stored = connection.execute(text("SELECT at FROM stamps WHERE id = 1")).scalar_one()
    assert stored.startswith("2026-01-01 06:00:00")
    engine.dispose()


def test_utc_datetime_refuses_naive_datetimes(engine):
    with engine.begin() as connection, pytest.raises(StatementError) as refused:
        connection.execute(insert(stamps).values(id=1, at=datetime(2026, 3, 29, 1, 30)))

    assert isinstance(refused.value.orig, ValueError)
    assert "naive" in str(refused.value.orig)
    with engine.connect() as connection:
        assert connection.execute(select(stamps.c.id)).all() == []


def test_on_sqlite_a_row_read_through_the_driver_sees_what_was_committed_while_a_writer_holds_the_lock(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'read.sqlite3'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE generation (n integer)")
            connection.exec_driver_sql("INSERT INTO generation VALUES (1)")
        with engine.begin() as writer:  # BEGIN IMMEDIATE: the write lock, until the block ends
            writer.exec_driver_sql("UPDATE generation SET n = 2")
            while_written = read_row(engine, "SELECT n FROM generation")
        after = read_row(engine, "SELECT n FROM generation")
    finally:
        engine.dispose()

    assert (while_written, after) == ((1,), (2,))
