"""What a piece of work sends to the database, for tests that bound or inspect it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import Engine, event


def statements_sent(engine: Engine, work: Callable[[], object]) -> list[str]:
    """The SQL statements `work()` sends through `engine`, in order."""
    return [statement for statement, _parameters in statements_with_parameters(engine, work)]


def statements_with_parameters(engine: Engine, work: Callable[[], object]) -> list[tuple[str, Any]]:
    """The SQL statements `work()` sends through `engine`, in order, each with its parameters."""
    sent: list[tuple[str, Any]] = []

    def note(_connection, _cursor, statement, parameters, _context, _executemany) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return sent


def statements_at_the_driver(engine: Engine, work: Callable[[], object]) -> list[str]:
    """The SQL statements `work()` runs on `engine`'s pooled connections, seen by the driver, in order: also those
    run around SQLAlchemy's Connection (shared.db.read_row), and a BEGIN wherever one opens a transaction (on
    PostgreSQL psycopg sends it before the first statement of a connection not in autocommit mode)."""
    sent: list[str] = []
    traced = []

    def checked_out(dbapi_connection, _record, _proxy) -> None:
        traced.append(dbapi_connection)
        if engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(sent.append)
        else:
            dbapi_connection.cursor_factory = _recording_cursor(sent)

    event.listen(engine, "checkout", checked_out)
    try:
        work()
    finally:
        event.remove(engine, "checkout", checked_out)
        for dbapi_connection in traced:
            if engine.dialect.name == "sqlite":
                dbapi_connection.set_trace_callback(None)
            else:
                dbapi_connection.cursor_factory = psycopg.Cursor
    return sent


def _recording_cursor(sent: list[str]):
    class Recording(psycopg.Cursor):
        def _note(self, query) -> None:
            connection = self.connection
            if not connection.autocommit and connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                sent.append("BEGIN")
            sent.append(query if isinstance(query, str) else bytes(query).decode() if isinstance(query, bytes)
                        else query.as_string(self))

        def execute(self, query, params=None, **options):
            self._note(query)
            return super().execute(query, params, **options)

        def executemany(self, query, params_seq, **options):
            self._note(query)
            return super().executemany(query, params_seq, **options)

    return Recording
