"""Kept search answers: reused while nothing a search reads has changed, on SQLite and PostgreSQL; every change
is seen at once, also by another process that kept the answer (two apps on one database stand for two processes)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from services.catalog import SERVICE
from services.catalog.models import Base, Rating, SearchGeneration
from services.catalog.search_cache import MAX_AGE_S, SEARCHED_TABLES
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.events.declarations import AvailabilityChanged, SeatsLeft
from shared.testing import bearer, delivery, make_runtime, sample
from shared.web import runtime_of
from tests.integration.offer_helpers import know_framework
from tests.integration.sql_statements import statements_at_the_driver
from tests.integration.test_offer_search import ANN, found, in_days, offer

ALL_FILTERS = {"q": "cluster", "format": "online", "competence": "INT-1", "area": "INT", "level": 3,
               "language": "en", "provider": ANN, "max_price_cents": 50_000, "free_seats": "true",
               "from": in_days(1).isoformat(), "to": in_days(90).isoformat()}


@pytest.fixture
def runtime(runtime_on_each_database):
    know_framework(runtime_on_each_database)
    return runtime_on_each_database


@pytest.fixture
def first(runtime):
    return SERVICE.create_app(runtime).test_client()


@pytest.fixture
def second(runtime):
    return SERVICE.create_app(runtime).test_client()


@pytest.fixture
def partners(first) -> str:
    return offer(first, ANN, 40, title="Building cluster partnerships abroad", competences=["INT-1"])


def statements_of(runtime, search) -> list[str]:
    """The SQL statements `search()` runs on the database, but those that open and close transactions."""
    return [statement for statement in statements_at_the_driver(runtime.engine, search)
            if not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK"))]


def generation(runtime) -> int:
    with runtime.session_factory() as db:
        return db.scalar(select(SearchGeneration.generation))


def test_a_repeated_search_reads_only_the_generation(runtime, first, partners):
    answer = first.get("/api/v1/offers?q=cluster&format=online")
    again = statements_of(runtime, lambda: first.get("/api/v1/offers?q=cluster&format=online"))

    assert len(again) == 1 and "search_generation" in again[0], again
    assert first.get("/api/v1/offers?q=cluster&format=online").json == answer.json == {
        **answer.json, "total": 1}
    assert first.get("/api/v1/offers?format=online&q=cluster").json == answer.json, "the same search"


@pytest.mark.postgres
def test_a_repeated_search_opens_no_transaction(runtime, first, partners):
    """The generation alone is read, outside a transaction: a BEGIN and a COMMIT or ROLLBACK would be two more
    round trips on PostgreSQL, and SQLAlchemy's transaction costs more than the read itself (shared.db.read_row)."""
    first.get("/api/v1/offers?q=cluster")

    again = statements_at_the_driver(runtime.engine, lambda: first.get("/api/v1/offers?q=cluster"))

    assert len(again) == 1 and "search_generation" in again[0], again
    with runtime.engine.connect() as connection:
        assert not getattr(connection.connection.dbapi_connection, "autocommit", False), "the pool transacts again"


def test_a_kept_answer_still_needs_a_valid_token_if_one_comes_along(first, partners):
    assert first.get("/api/v1/offers?q=cluster").status_code == 200

    answer = first.get("/api/v1/offers?q=cluster", headers={"Authorization": "Bearer not.a.token"})

    assert answer.status_code == 401, answer.json
    assert first.get("/api/v1/offers?q=cluster", headers=bearer(ANN)).status_code == 200


def test_searches_that_differ_in_a_facet_page_or_order_share_one_count(runtime, first, partners):
    offer(first, ANN, 20, title="Cluster funding", format="hybrid")
    first.get("/api/v1/offers?q=cluster&format=online")

    for query in ("q=cluster&format=hybrid", "q=cluster", "q=cluster&level=3&page=2", "q=cluster&sort=price"):
        statements = statements_of(runtime, lambda query=query: first.get(f"/api/v1/offers?{query}"))
        assert not [statement for statement in statements if "GROUP BY" in statement], query
    assert first.get("/api/v1/offers?q=cluster&format=hybrid").json["facets"]["format"] == {"hybrid": 1, "online": 1}
    assert first.get("/api/v1/offers?q=cluster&free_seats=true").json["total"] == 2, "another count"


def test_a_search_reads_no_table_whose_changes_leave_the_generation_alone(runtime, first, partners):
    tables = {table.name for table in Base.metadata.sorted_tables}
    read: set[str] = set()
    for query in [{**ALL_FILTERS, "sort": sort} for sort in ("relevance", "newest", "price", "next_session", "rating")]:
        assert found(first, **query) == [partners]
        for statement in statements_of(runtime, lambda query=query: first.get("/api/v1/offers", query_string=query)):
            read |= {name for name in re.findall(r"\b[a-z_]+\b", statement) if name in tables}

    assert read - {table.name for table in SEARCHED_TABLES} == {"search_generation"}


def change_title(client, offer_id):
    answer = client.patch(f"/api/v1/offers/{offer_id}", headers=bearer(ANN),
                          json={"title": "Building network partnerships abroad"})
    assert answer.status_code == 200, answer.json


def publish_another(client, offer_id):
    offer(client, ANN, 20, title="Cluster funding", competences=["INT-1"])


def cancel_the_session(client, offer_id):
    [session] = client.get(f"/api/v1/offers/{offer_id}").json["sessions"]
    answer = client.post(f"/api/v1/sessions/{session['id']}/cancel", headers=bearer(ANN), json={"reason": "ill"})
    assert answer.status_code == 200, answer.json


def withdraw(client, offer_id):
    answer = client.post(f"/api/v1/offers/{offer_id}/withdraw", headers=bearer(ANN))
    assert answer.status_code == 200, answer.json


def book_the_last_seat(client, offer_id):
    [session] = client.get(f"/api/v1/offers/{offer_id}").json["sessions"]
    consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime_of(client.application).session_factory)
    seats = [SeatsLeft(format="online", capacity=10, free=0, waiting=1)]
    settled = consumer.handle_batch([delivery(sample(AvailabilityChanged, session_id=session["id"],
                                                     offer_id=offer_id, formats=seats,
                                                     changed_at=datetime.now(UTC)))])
    assert [settlement.outcome for settlement in settled] == [Outcome.ACK]


@pytest.mark.parametrize("change, query", [
    (change_title, {"q": "cluster"}),
    (publish_another, {"q": "cluster"}),
    (cancel_the_session, {"from": in_days(1).isoformat()}),
    (withdraw, {"format": "online"}),
    (book_the_last_seat, {"free_seats": "true"}),
])
def test_every_change_is_found_at_once_by_the_process_that_kept_the_answer(runtime, first, second, partners,
                                                                           change, query):
    before = found(second, **query)
    assert found(second, **query) == before

    change(first, partners)

    assert found(second, **query) != before


def test_free_seats_reported_keep_the_answers_that_do_not_ask_for_free_seats(runtime, first, second, partners):
    """Booking reports free seats every few seconds while people book: only searches for free seats are found
    again, in every process."""
    first.get("/api/v1/offers?q=cluster")
    assert found(second, free_seats="true") == [partners]
    before = generation(runtime)

    book_the_last_seat(first, partners)

    assert generation(runtime) == before, "the offers' own generation stays"
    again = statements_of(runtime, lambda: first.get("/api/v1/offers?q=cluster"))
    assert len(again) == 1 and "search_generation" in again[0], again
    assert found(second, free_seats="true") == []


def test_a_rating_reorders_a_kept_answer(runtime, first, second, partners):
    funding = offer(first, ANN, 20, title="Cluster funding", competences=["INT-1"])
    assert found(second, sort="rating") == [funding, partners], "the unrated, newest first"
    now = datetime.now(UTC)
    with runtime.session_factory.begin() as db:
        db.add(Rating(id="rating", session_id="session", offer_id=partners, provider_id=ANN, member_id="member",
                      stars=4, comment="", created_at=now, updated_at=now))

    assert found(second, sort="rating") == [partners, funding]


def test_a_write_rolled_back_or_elsewhere_leaves_the_generation(runtime, first, partners):
    before = generation(runtime)
    with pytest.raises(RuntimeError), runtime.session_factory.begin() as db:
        db.add(Rating(id="rating", session_id="session", offer_id=partners, provider_id=ANN, member_id="member",
                      stars=4, comment="", created_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
        db.flush()
        raise RuntimeError("the request failed")
    first.get("/api/v1/members/me", headers=bearer(ANN))
    first.post("/api/v1/auth/token", json={"email": "nobody@example.org", "password": "not a password at all"})

    assert generation(runtime) == before


def test_an_answer_older_than_its_lifetime_is_found_again(runtime, first, partners, monkeypatch):
    first.get("/api/v1/offers?q=cluster")
    answers = first.application.extensions["search_answers"]
    now = answers.clock
    monkeypatch.setattr(answers, "clock", lambda: now() + MAX_AGE_S + 1)

    again = statements_of(runtime, lambda: first.get("/api/v1/offers?q=cluster"))

    assert len(again) > 1, again


def test_another_services_table_of_the_same_name_raises_no_generation(tmp_path):
    """Booking keeps an `offers` table of its own, in a database without a search generation."""
    from services.booking import SERVICE as BOOKING
    from services.booking.models import OfferRecord

    booking = make_runtime(BOOKING, tmp_path / "booking")
    try:
        with booking.session_factory.begin() as db:
            db.execute(update(OfferRecord).where(OfferRecord.offer_id == "none").values(provider_id="nobody"))
    finally:
        booking.close()
