"""Throwaway databases for the benchmarks: a SQLite file in a temporary folder, or a PostgreSQL database created
for the run and dropped after it."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable, Iterator

from sqlalchemy import Engine, create_engine, text

from shared.db import make_engine

LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def scratch_engines(backends: Iterable[str], postgres_url: str, name: str) -> Iterator[tuple[str, Engine]]:
    """(label, engine) per backend, each database gone once the loop moves on."""
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as scratch:
                engine = make_engine(f"sqlite:///{scratch}/{name}.db")
                try:
                    yield LABELS[backend], engine
                finally:
                    engine.dispose()
            continue
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        database = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        engine = make_engine(admin.url.set(database=database).render_as_string(hide_password=False))
        try:
            yield LABELS[backend], engine
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()
