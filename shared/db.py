"""SQLAlchemy engines and sessions: SQLite (WAL, immediate transactions) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, DateTime, Engine, Select, TypeDecorator, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.sqlite_writers import TurnTakingConnection

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_MMAP_BYTES = 1 << 30  # an upper bound on the mapping, not memory taken: the pages are the OS cache's
# A pooled server connection used again within this many seconds is taken to be alive; one idle for longer, which
# a restarted server or a firewall may have cut meanwhile, is pinged before it is handed out.
PING_AFTER_IDLE_S = 2.0


def normalise_url(url: str) -> str:
    """Let operators write postgresql:// and still get the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **options) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, **options)
        _ping_idle_connections(engine)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "factory": TurnTakingConnection}, **options)
    _configure_sqlite(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    # pool_pre_ping would ping every checkout: a round trip per request and per batch (here about 80 µs of CPU
    # and 150 µs of waiting each), to guard against connections that mostly die while they sit unused.
    @event.listens_for(engine, "checkin")
    def checked_in(_dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection, record, _proxy) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection was closed while idle") from exc  # the pool reconnects


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own BEGIN is deferred, which makes two writers deadlock on the lock upgrade; we take the
    # write lock at BEGIN (IMMEDIATE), after the writer's turn (shared.sqlite_writers), so the second writer waits
    # for its turn instead of failing; the busy timeout stays for writers outside the academy.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Pages read through a memory map rather than copied in by a system call each into a page cache of 2 MB
        # per connection: a search that counts thousands of offers reads more than that, every time.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # A transaction that only reads may say so (execution option `reads_only`): its BEGIN is deferred, so
        # readers never queue for the write lock, which WAL lets them do without.
        if connection.get_execution_options().get("reads_only"):
            connection.exec_driver_sql("BEGIN")
            return
        driver = connection.connection.driver_connection
        try:
            driver.take_write_turn(SQLITE_BUSY_TIMEOUT_MS / 1000)
        except TimeoutError as exc:  # as SQLite's own busy timeout would end: a 503 at the web edge
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")) from exc
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            driver.end_write_turn()
            raise


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection for work of a single statement, which is atomic on its own: on PostgreSQL it runs without a
    transaction around it, where a BEGIN and a COMMIT or ROLLBACK would be two more round trips. SQLite's
    connections open their transactions themselves (above), so there it gets one, committed at the end."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection
            return
        with connection.begin():
            yield connection


def read_row(engine: Engine, sql: str) -> tuple | None:
    """The first row of a plain read, run on a pooled connection's driver outside any transaction: the cheapest
    way to one read, where SQLAlchemy's Connection with its transaction, events and BEGIN cost ten times what
    SQLite takes for the statement. SQLite's connections are in autocommit mode at the driver (above), so the
    statement is its own read transaction; a PostgreSQL connection goes into autocommit mode for it."""
    pooled = engine.raw_connection()  # through the pool: its checkout still pings a connection idle for long
    try:
        driver = pooled.driver_connection
        if engine.dialect.name != "postgresql":
            return driver.execute(sql).fetchone()
        driver.autocommit = True
        try:
            return driver.execute(sql).fetchone()
        finally:
            if not driver.closed:  # a broken connection is dropped by the pool, whatever its mode
                driver.autocommit = False
    finally:
        pooled.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def fetch_page(db: Session, query: Select, page: int, per_page: int) -> tuple[int, list]:
    """How many rows `query` has in all, and the rows of one page of it (pages count from 1)."""
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return total, list(items)


def is_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - readiness reports any failure as "not ready"
        return False


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the academy stores UTC-aware timestamps only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
