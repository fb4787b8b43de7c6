"""Finding offers on SQLite and PostgreSQL alike: words by their stems, filters, sorting and facet counts."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.catalog import SERVICE
from services.catalog.models import Rating
from services.catalog.search import count_groups, search_offers, stems, terms
from shared.bus import Outcome
from shared.consumer import EventConsumer
from shared.db import SQLITE_MMAP_BYTES
from shared.events.declarations import AvailabilityChanged, SeatsLeft
from shared.testing import bearer, delivery, make_runtime, sample
from tests.integration.offer_helpers import know_framework, publish
from tests.integration.sql_statements import statements_with_parameters

ANN, BEN = "provider-ann", "provider-ben"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def client(runtime_on_each_database):
    know_framework(runtime_on_each_database)
    return SERVICE.create_app(runtime_on_each_database).test_client()


def in_days(days: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)


def offer(client, provider: str, days_ahead: int, **fields) -> str:
    headers = bearer(provider)
    body = {"description": "A seminar.", "format": "online", "competences": ["STR-1"], "level": 3,
            "languages": ["en"], "price_cents": 10_000, **fields}
    created = client.post("/api/v1/offers", json=body, headers=headers)
    assert created.status_code == 201, created.json
    scheduled = client.post(f"/api/v1/offers/{created.json['id']}/sessions", headers=headers, json={
        "starts_at": in_days(days_ahead).isoformat(), "ends_at": (in_days(days_ahead) + timedelta(hours=3)).isoformat(),
        "seats": {"online": 10}})
    assert scheduled.status_code == 201, scheduled.json
    publish(client, headers, created.json["id"])
    return created.json["id"]


@pytest.fixture
def offers(client) -> dict[str, str]:
    return {
        "partners": offer(client, ANN, 40, title="Building cluster partnerships abroad",
                          summary="International partner search", competences=["INT-1"], price_cents=24_900),
        "funding": offer(client, ANN, 20, title="Förderprogramme für Clusterprojekte", languages=["de"],
                         description="Welche Förderprogramme passen zu welchem Projekt?", competences=["GOV-3"],
                         level=2, price_cents=14_900),
        "strategy": offer(client, BEN, 60, title="Cluster strategy in practice", format="hybrid",
                          languages=["de", "en"], price_cents=0),
    }


def found(client, **query) -> list[str]:
    answer = client.get(f"/api/v1/offers?{urlencode(query)}")
    assert answer.status_code == 200, answer.json
    return [item["id"] for item in answer.json["items"]]


def test_words_are_found_by_their_stems_in_german_and_english(client, offers):
    assert found(client, q="partnership") == [offers["partners"]]
    assert found(client, q="PARTNER searching") == [offers["partners"]]
    assert found(client, q="Förderprogramm") == [offers["funding"]]
    assert found(client, q="projekt förderprogramme") == [offers["funding"]]
    assert found(client, q="cluster partnership strategy") == []  # every word must match
    assert found(client, q="%") == []
    assert set(found(client, q="clusters")) == {offers["partners"], offers["strategy"]}


def test_filters_narrow_the_published_offers(client, offers):
    assert found(client, area="INT") == [offers["partners"]]
    assert found(client, competence="gov-3") == [offers["funding"]]
    assert sorted(found(client, provider=ANN)) == sorted([offers["partners"], offers["funding"]])
    assert sorted(found(client, max_price_cents=14_900)) == sorted([offers["funding"], offers["strategy"]])
    assert sorted(found(client, language="de")) == sorted([offers["funding"], offers["strategy"]])
    assert found(client, level=2) == [offers["funding"]]
    assert found(client, format="hybrid", language="en") == [offers["strategy"]]
    window = {"from": in_days(30).isoformat(), "to": in_days(50).isoformat()}
    assert found(client, **window) == [offers["partners"]]
    assert found(client, **{"from": in_days(90).isoformat()}) == []


def test_results_sort_by_price_or_next_session(client, offers):
    assert found(client, sort="price") == [offers["strategy"], offers["funding"], offers["partners"]]
    assert found(client, sort="next_session") == [offers["funding"], offers["partners"], offers["strategy"]]


def test_facets_count_each_value_under_the_other_filters(client, offers):
    answer = client.get("/api/v1/offers?language=de").json

    assert answer["total"] == 2
    assert answer["facets"]["format"] == {"online": 1, "hybrid": 1}
    assert answer["facets"]["level"] == {"2": 1, "3": 1}
    # The language facet ignores the language chosen, so it shows what choosing English instead would find.
    assert answer["facets"]["language"] == {"de": 2, "en": 2}


@pytest.mark.parametrize("query", ["sort=popularity", "free_seats=perhaps", "from=yesterday", "max_price_cents=-1",
                                   "level=0", "to=2030-01-01T00:00:00"])
def test_a_wrong_search_parameter_is_refused(client, query):
    answer = client.get(f"/api/v1/offers?{query}")

    assert answer.status_code == 422 and answer.mimetype == PROBLEM_JSON, answer.get_data(as_text=True)


def test_the_terms_of_a_text_are_its_german_and_english_stems_each_once():
    found_terms = terms("Clusters, cluster-Partnerschaften", "")

    assert "cluster" in found_terms
    assert stems("Partnerschaften") <= found_terms
    assert found_terms == terms("cluster Partnerschaften clusters")


def test_a_changed_title_is_found_by_its_new_words_only(client, offers):
    changed = client.patch(f"/api/v1/offers/{offers['partners']}", headers=bearer(ANN),
                           json={"title": "Regional roadmaps", "summary": ""})

    assert changed.status_code == 200, changed.json
    assert found(client, q="partnerships") == []
    assert found(client, q="roadmap") == [offers["partners"]]


def test_relevance_puts_words_in_the_title_first_and_is_the_default_with_words(client, offers):
    roadmap = offer(client, BEN, 30, title="Regional roadmaps", summary="For cluster managers", price_cents=500)

    assert found(client, q="cluster", sort="relevance") == [offers["strategy"], offers["partners"], roadmap]
    assert found(client, q="cluster") == found(client, q="cluster", sort="relevance")
    assert found(client) == found(client, sort="newest"), "without words, the newest first"


RANKED = [("Cluster funding", "", "A roadmap."), ("Roadmap", "Cluster partnership", "Funding."),
          ("Partnership", "", "Cluster roadmap funding."), ("Funding roadmap for clusters", "Partnership", "More."),
          ("Strategy", "Funding", "Cluster."), ("Cluster", "Clusters", "Partnership."),
          ("Networks", "", "Cluster funding partnership roadmap.")]


@pytest.fixture
def ranked(client) -> list[dict]:
    """Offers with the same few words in their titles, summaries and descriptions in turn, and their texts."""
    made = [offer(client, ANN, 10, title=title, summary=summary, description=description)
            for title, summary, description in RANKED]
    return [client.get(f"/api/v1/offers/{offer_id}").json for offer_id in made]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(("cluster", "funding", "partnerships", "roadmap")), min_size=1, max_size=2,
                unique=True), st.integers(1, 4), st.integers(1, 4))
def test_every_page_by_relevance_is_the_matches_weighed_and_then_newest_first(client, ranked, words, per_page, page):
    def score(item: dict) -> int:
        return sum(2 if stems(word) & terms(item["title"]) else 1 if stems(word) & terms(item["summary"]) else 0
                   for word in words)

    matches = [item for item in ranked
               if all(stems(word) & terms(item["title"], item["summary"], item["description"]) for word in words)]
    ranking = sorted(matches, key=lambda item: (score(item), item["published_at"], item["id"]), reverse=True)

    assert found(client, q=" ".join(words), per_page=per_page, page=page) == [
        item["id"] for item in ranking[(page - 1) * per_page:page * per_page]]


def test_rating_sorts_the_best_rated_first_and_the_unrated_last(runtime_on_each_database, client, offers):
    now = datetime.now(UTC)
    with runtime_on_each_database.session_factory.begin() as db:
        for number, (name, stars) in enumerate((("funding", 5), ("funding", 4), ("partners", 3))):
            db.add(Rating(id=f"rating-{number}", session_id=f"session-{number}", offer_id=offers[name],
                          provider_id=ANN, member_id=f"member-{number}", stars=stars, comment="",
                          created_at=now, updated_at=now))

    assert found(client, sort="rating") == [offers["funding"], offers["partners"], offers["strategy"]]


def test_free_seats_follow_what_booking_reports_newest_first(runtime_on_each_database, client, offers):
    consumer = EventConsumer(SERVICE.name, SERVICE.handlers, runtime_on_each_database.session_factory)

    def report(name: str, free: int, at: datetime) -> None:
        [session] = client.get(f"/api/v1/offers/{offers[name]}").json["sessions"]
        seats = [SeatsLeft(format="online", capacity=10, free=free, waiting=0 if free else 3)]
        settled = consumer.handle_batch([delivery(sample(AvailabilityChanged, session_id=session["id"],
                                                         offer_id=offers[name], formats=seats, changed_at=at))])
        assert [s.outcome for s in settled] == [Outcome.ACK]

    assert len(found(client, free_seats="true")) == 3, "before booking reports, the seats offered count"
    report("partners", 0, in_days(-1))
    report("strategy", 0, in_days(-1))
    report("strategy", 4, in_days(-2))  # an older count arriving late changes nothing

    assert found(client, free_seats="true") == [offers["funding"]]
    assert found(client, free_seats="true", format="online") == [offers["funding"]]
    report("partners", 2, in_days(0))
    assert sorted(found(client, free_seats="true")) == sorted([offers["funding"], offers["partners"]])


FACET_VALUES = {"format": ("online", "hybrid", "in_person"), "level": (2, 3), "language": ("de", "en")}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({}, optional={name: st.sampled_from(values) for name, values in FACET_VALUES.items()}),
       st.sampled_from(("", "cluster", "förderprogramm")))
def test_facet_counts_are_the_offers_found_under_the_other_filters(client, offers, chosen, words):
    query = {**chosen, **({"q": words} if words else {})}
    answer = client.get(f"/api/v1/offers?{urlencode(query)}").json

    assert answer["total"] == len(found(client, per_page=100, **query))
    for facet in FACET_VALUES:
        others = {name: value for name, value in query.items() if name != facet}
        every = [client.get(f"/api/v1/offers/{offer_id}").json for offer_id in found(client, per_page=100, **others)]
        values = [str(value) for item in every
                  for value in (item["languages"] if facet == "language" else [item[facet]])]
        assert answer["facets"][facet] == {value: values.count(value) for value in set(values)}, (facet, query)


def test_a_search_is_answered_while_a_writer_holds_sqlites_write_lock(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path)  # on SQLite only: PostgreSQL's readers never wait for writers
    try:
        know_framework(runtime)
        client = SERVICE.create_app(runtime).test_client()
        offer(client, ANN, 40, title="Building cluster partnerships abroad")
        unlocked = found(client, q="cluster")
        with runtime.engine.begin() as writer:  # BEGIN IMMEDIATE: the write lock, until the block ends
            writer.exec_driver_sql("UPDATE offers SET updated_at = updated_at")
            # A search waiting for the lock would answer only after the 30 s busy timeout, with an error.
            assert found(client, q="cluster") == unlocked != []
    finally:
        runtime.close()


def plan_on_sqlite(runtime, db, work, sent_first: str) -> str:
    """SQLite's query plan of the first statement `work()` sends that starts with `sent_first` (asked in `db`'s
    transaction, which holds SQLite's lock)."""
    statement, parameters = next((statement, parameters) for statement, parameters
                                 in statements_with_parameters(runtime.engine, work)
                                 if " ".join(statement.split()).startswith(sent_first))
    return " ".join(row[3] for row in db.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))


def test_on_sqlite_searches_read_indexes_where_offers_would_be_read_whole(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path)
    try:
        know_framework(runtime)
        offer(SERVICE.create_app(runtime).test_client(), ANN, 40, title="Building cluster partnerships abroad")
        with runtime.session_factory() as db:
            counting = plan_on_sqlite(runtime, db, lambda: count_groups(db, {"q": "cluster"}),
                                      "SELECT offers.format, offers.level")
            page = plan_on_sqlite(runtime, db, lambda: search_offers(
                db, {"format": "online", "level": 3, "language": "en"}, 1, 20, "newest"), "SELECT offers.id FROM")
            weighed = plan_on_sqlite(runtime, db, lambda: search_offers(db, {"q": "cluster"}, 1, 20, "relevance"),
                                     "SELECT offers.id FROM")
        with runtime.engine.connect() as connection:
            mapped = connection.exec_driver_sql("PRAGMA mmap_size").scalar()
    finally:
        runtime.close()

    # Every offer found would otherwise be read whole for its format, level and languages.
    assert "COVERING INDEX ix_offers_search_facets" in counting, counting
    # Every offer published at the same time would otherwise be read and sorted for the page.
    assert "ix_offers_status_published_at" in page and "TEMP B-TREE" not in page, page
    # Every published offer would otherwise be read to find the few with the word in their title or summary.
    assert "ix_offers_search_id" in weighed, weighed
    assert mapped == SQLITE_MMAP_BYTES, "pages read through a memory map, not copied in by a call each"


def test_words_are_stemmed_alike_in_threads_at_once():
    words = ["Förderprogramme", "clusters", "Internationalisierung", "partnerships", "Netzwerke", "strategies"] * 50
    alone = [stems(word) for word in words]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often, as under load
    try:
        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(stems, words * 8))
    finally:
        sys.setswitchinterval(interval)
    assert together == alone * 8
