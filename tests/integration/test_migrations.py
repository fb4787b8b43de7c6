"""Each service's migration history builds exactly the tables its models and the shared tables declare."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from academy.registry import load_service
from shared.config import SERVICES
from shared.db import make_engine
from shared.migrations import beside_the_models, upgrade
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
            metadatas = [service.metadata, messaging_metadata]
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "include_object": beside_the_models(metadatas)})
            differences = compare_metadata(context, metadatas)
    finally:
        engine.dispose()
    assert differences == [], "run `academy revision SERVICE -m ...` and review the migration"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_booking_keeps_its_seats_and_waiting_order_across_the_seat_count_migration(request, tmp_path, backend):
    if backend == "postgresql":
        url = request.getfixturevalue("make_postgres_database")("migrations_seats")
    else:
        url = f"sqlite:///{tmp_path / 'booking.sqlite3'}"
    service = load_service("booking")
    engine = make_engine(url)
    try:
        upgrade(service, engine, "88ff31662795")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO sessions (session_id, offer_id, starts_at, ends_at, seats_online, seats_in_person) "
                "VALUES ('s', 'o', '2031-01-01 09:00:00+00:00', '2031-01-01 12:00:00+00:00', 1, 2)"
            ))
            for number, (status, format) in enumerate([("confirmed", "online"), ("waitlisted", "online"),
                                                       ("waitlisted", "online"), ("confirmed", "in_person"),
                                                       ("cancelled", "online")]):
                connection.execute(text(
                    "INSERT INTO bookings (id, session_id, offer_id, member_id, format, status, created_at) "
                    f"VALUES ('b{number}', 's', 'o', 'm{number}', '{format}', '{status}', "
                    f"'2030-06-01 10:00:0{number}+00:00')"
                ))
        upgrade(service, engine)
        with engine.connect() as connection:
            seats = connection.execute(text(
                "SELECT format, capacity, confirmed, waiting FROM session_seats ORDER BY format")).all()
            positions = connection.execute(text(
                "SELECT id, waiting_position FROM bookings WHERE status = 'waitlisted' ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in seats] == [("in_person", 2, 1, 0), ("online", 1, 1, 2)]
    assert [tuple(row) for row in positions] == [("b1", 1), ("b2", 2)]
