"""SQLite writers take turns through a lock file beside the database, which the kernel hands on at once.

A writer that finds SQLite's write lock taken waits in SQLite's busy handler, which sleeps and tries again, up to
100 ms between tries. With a dozen writers in several processes (the embedded academy's web processes and its
background process), an unlucky one loses try after try and waits seconds while the lock was free most of that
time. Here every write transaction first takes an exclusive flock on `<database>-writer`; waiting writers sleep in
the kernel and the next one runs as soon as the last one's commit or rollback is done, so BEGIN IMMEDIATE finds
the write lock free. The kernel releases the turn of a process that dies, and a writer waits for its turn no
longer than it would have waited for SQLite's lock.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading

_held = threading.local()  # the lock files whose turn this thread holds


class TurnTakingConnection(sqlite3.Connection):
    """A pysqlite connection (`sqlite3.connect(..., factory=TurnTakingConnection)`) whose write transactions take
    turns with every other connection to the same database file; an in-memory database has no one to wait for."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        path = os.fsdecode(database)
        self._turn_path = None if path == ":memory:" or path.startswith("file:") else path + "-writer"
        self._turn_fd: int | None = None
        self._turn_pid: int | None = None
        self._holds_turn = False

    def take_write_turn(self, timeout_s: float) -> None:
        """Wait until no other connection to the database writes, then hold the turn until commit or rollback;
        TimeoutError after `timeout_s`."""
        if self._turn_path is None or self._holds_turn:
            return
        held = _held.__dict__.setdefault("paths", set())
        if self._turn_path in held:
            # A mistake in the code: waiting here would wait for this thread's own commit, where SQLite alone
            # would fail after its busy timeout. Say so at once.
            raise RuntimeError(
                f"a write transaction on {self._turn_path.removesuffix('-writer')} was begun on a second connection "
                "while this thread's first one is open: it would wait for itself")
        if self._turn_pid != os.getpid():  # a descriptor inherited across fork shares its lock with the parent
            self._turn_fd = os.open(self._turn_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._turn_pid = os.getpid()
        try:
            fcntl.flock(self._turn_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _wait_for_turn(self._turn_fd, timeout_s)
        self._holds_turn = True
        held.add(self._turn_path)

    def end_write_turn(self) -> None:
        if not self._holds_turn:
            return
        self._holds_turn = False
        _held.__dict__.get("paths", set()).discard(self._turn_path)
        if self._turn_pid == os.getpid():  # in a child of a fork, the descriptor still holds the parent's turn
            fcntl.flock(self._turn_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_write_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_write_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_write_turn()
            if self._turn_fd is not None and self._turn_pid == os.getpid():
                os.close(self._turn_fd)
            self._turn_fd = None


def _wait_for_turn(fd: int, timeout_s: float) -> None:
    """Take the exclusive lock on `fd`, waiting at most `timeout_s`. flock itself waits without a limit, so a helper
    thread waits in it; should the caller give up first, the helper gives the lock back as soon as it gets it."""
    waiter_fd = os.dup(fd)  # the same lock; the helper's own descriptor stays valid should the caller close `fd`
    decided = threading.Lock()
    got_it = threading.Event()
    gave_up = False

    def wait() -> None:
        try:
            fcntl.flock(waiter_fd, fcntl.LOCK_EX)
            with decided:
                if gave_up:
                    fcntl.flock(waiter_fd, fcntl.LOCK_UN)
                else:
                    got_it.set()
        finally:
            os.close(waiter_fd)

    threading.Thread(target=wait, name="sqlite-writer-turn", daemon=True).start()
    if got_it.wait(timeout_s):
        return
    with decided:
        if got_it.is_set():
            return
        gave_up = True
    raise TimeoutError(f"no turn to write within {timeout_s:g} s")
