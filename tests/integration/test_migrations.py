"""Each service's migration history builds exactly the tables its models and the shared tables declare."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from academy.registry import load_service
from shared.config import SERVICES
from shared.db import make_engine
from shared.migrations import upgrade
from shared.tables import messaging_metadata


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("name", SERVICES)
def test_migrations_match_the_models(request, tmp_path, name, backend):
    if backend == "postgresql":
        url = request.getfixturevalue("make_postgres_database")(f"migrations_{name}")
    else:
        url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    service = load_service(name)
    engine = make_engine(url)
    try:
        upgrade(service, engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, [service.metadata, messaging_metadata])
    finally:
        engine.dispose()
    assert differences == [], "run `academy revision SERVICE -m ...` and review the migration"
