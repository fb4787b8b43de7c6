"""What a piece of work sends to the database, for tests that bound or inspect it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, event


def statements_sent(engine: Engine, work: Callable[[], object]) -> list[str]:
    """The SQL statements `work()` sends through `engine`, in order."""
    sent: list[str] = []

    def note(_connection, _cursor, statement, _parameters, _context, _executemany) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return sent
