"""SQLite writers take turns (shared.sqlite_writers): a writer waits for the turn, in this process or another,
and never reaches SQLite's busy handler while the academy's own writers hold the lock. The waiting writers here
have a busy timeout of 0, so where they reached SQLite's lock they would fail at once with "database is locked"."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

import shared.db
from shared.db import make_engine

WAIT_S = 30


def impatient_engine(path) -> Engine:
    """An engine whose connections give up at once when they find SQLite's write lock taken."""
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def no_busy_wait(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    return engine


def make_table(path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE written (who text)")
    engine.dispose()


def rows(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [who for (who,) in connection.exec_driver_sql("SELECT who FROM written ORDER BY rowid")]


def write_and_wait(path: str, writing, may_commit, how_to_end: str) -> None:
    """In another process: begin a write transaction, say so, and commit, roll back or die when told."""
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.exec_driver_sql("INSERT INTO written VALUES ('other process')")
        writing.set()
        may_commit.wait(WAIT_S)
        if how_to_end == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        transaction.commit() if how_to_end == "commit" else transaction.rollback()


@contextmanager
def writing_in_another_process(path, how_to_end: str) -> Iterator[Callable[[], None]]:
    """Another process holding a write transaction on `path`; the yielded call has it end (`how_to_end`) and waits
    until it has."""
    context = multiprocessing.get_context("fork")
    writing, may_commit = context.Event(), context.Event()
    other = context.Process(target=write_and_wait, args=(str(path), writing, may_commit, how_to_end))
    other.start()

    def end() -> None:
        may_commit.set()
        other.join(WAIT_S)

    try:
        assert writing.wait(WAIT_S)
        yield end
    finally:
        end()


@pytest.mark.parametrize("how_to_end", ["commit", "rollback", "die"])
def test_a_writer_waits_for_the_turn_of_a_writer_in_another_process(tmp_path, how_to_end):
    path = tmp_path / "turns.sqlite3"
    make_table(path)
    engine = impatient_engine(path)
    try:
        with writing_in_another_process(path, how_to_end) as end_the_other:
            outcome: list[BaseException | None] = []

            def write_here() -> None:
                try:
                    with engine.begin() as connection:
                        connection.exec_driver_sql("INSERT INTO written VALUES ('this process')")
                    outcome.append(None)
                except BaseException as exc:  # noqa: BLE001 - the test reports whatever went wrong
                    outcome.append(exc)

            writer = threading.Thread(target=write_here)
            writer.start()
            writer.join(0.3)
            still_waiting = writer.is_alive()
            end_the_other()
            writer.join(WAIT_S)

        assert still_waiting and outcome == [None]
        assert rows(engine) == (["other process", "this process"] if how_to_end == "commit" else ["this process"])
    finally:
        engine.dispose()


def test_writers_in_threads_of_one_process_take_turns_without_a_busy_wait(tmp_path):
    path = tmp_path / "threads.sqlite3"
    make_table(path)
    engine = impatient_engine(path)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def write_often(number: int) -> None:
        start.wait()
        try:
            for _ in range(25):
                with engine.begin() as connection:
                    connection.exec_driver_sql(f"INSERT INTO written VALUES ('{number}')")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write_often, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    try:
        assert errors == [] and len(rows(engine)) == 200
    finally:
        engine.dispose()


def test_a_second_write_transaction_in_the_same_thread_fails_at_once_instead_of_waiting_for_itself(tmp_path):
    path = tmp_path / "nested.sqlite3"
    make_table(path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as outer:
            outer.exec_driver_sql("INSERT INTO written VALUES ('outer')")
            with pytest.raises(RuntimeError, match="would wait for itself"), engine.begin():
                pass
        with engine.begin() as after:  # the failed one left no turn behind
            after.exec_driver_sql("INSERT INTO written VALUES ('after')")
        assert rows(engine) == ["outer", "after"]
    finally:
        engine.dispose()


def test_a_failed_begin_gives_the_turn_back(tmp_path):
    path = tmp_path / "outsider.sqlite3"
    make_table(path)
    engine = impatient_engine(path)
    outsider = sqlite3.connect(path, isolation_level=None)  # a writer that takes no turn: the sqlite3 shell, say
    try:
        outsider.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="locked"), engine.begin():
            pass
        outsider.execute("ROLLBACK")
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO written VALUES ('after')")
        assert rows(engine) == ["after"]
    finally:
        outsider.close()
        engine.dispose()


def test_a_writer_gives_up_after_the_busy_timeout_and_its_given_up_turn_does_not_hold_up_the_next(tmp_path,
                                                                                                   monkeypatch):
    path = tmp_path / "timeout.sqlite3"
    make_table(path)
    monkeypatch.setattr(shared.db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    engine = impatient_engine(path)
    try:
        with writing_in_another_process(path, "commit") as end_the_other:
            with pytest.raises(OperationalError, match="database is locked"), engine.begin():
                pass
            end_the_other()
            with engine.begin() as connection:  # the turn given up went back when the other process was done
                connection.exec_driver_sql("INSERT INTO written VALUES ('this process')")
        assert rows(engine) == ["other process", "this process"]
    finally:
        engine.dispose()
