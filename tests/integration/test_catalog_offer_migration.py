"""Offers there before peer review keep what they said, and their sessions, across the catalog's offer migrations
(SQLite with its foreign keys on, and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from academy.registry import load_service
from shared.db import make_engine
from shared.migrations import upgrade

BEFORE_REVIEWS = "5e2f7a8c4d10"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_offer_published_before_reviews_keeps_its_level_language_provider_and_words(request, tmp_path, backend):
    if backend == "postgresql":
        url = request.getfixturevalue("make_postgres_database")("migrations_offers")
    else:
        url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    service = load_service("catalog")
    engine = make_engine(url)
    try:
        upgrade(service, engine, BEFORE_REVIEWS)
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO offers (id, provider_id, status, title, topic, description, format, level, language, "
                "price_cents, currency, created_at, updated_at, published_at) VALUES ('o', 'p', 'published', "
                "'Partnerschaften im Ausland', 'international', 'Clusters abroad', 'online', 'expert', 'de', 100, "
                "'EUR', '2026-01-01 09:00:00+00:00', '2026-01-01 09:00:00+00:00', '2026-01-01 09:00:00+00:00')"))
            connection.execute(text("INSERT INTO offer_competences (offer_id, position, name) VALUES ('o', 0, 'x')"))
            connection.execute(text(
                "INSERT INTO sessions (id, offer_id, starts_at, ends_at, seats_online, seats_in_person, created_at) "
                "VALUES ('s', 'o', '2031-01-01 09:00:00+00:00', '2031-01-01 12:00:00+00:00', 5, 0, "
                "'2026-01-01 09:00:00+00:00')"))
        upgrade(service, engine)
        with engine.connect() as connection:
            offer = connection.execute(text(
                "SELECT level, vat_rate, cancellation_policy, minimum_participants, decision_days_before "
                "FROM offers")).one()
            languages = connection.execute(text("SELECT code FROM offer_languages")).scalars().all()
            language_codes = connection.execute(text("SELECT language_codes FROM offers")).scalar_one()
            providers = connection.execute(text(
                "SELECT member_id, share_percent, accepted_at IS NOT NULL FROM offer_providers")).all()
            terms = set(connection.execute(text("SELECT search_terms FROM offers")).scalar_one().split())
            title_terms, summary_terms = connection.execute(text("SELECT title_terms, summary_terms FROM offers")).one()
            indexed = connection.execute(text(  # the full-text index holds the offer there before it
                "SELECT id FROM offers JOIN offer_search ON offer_search.rowid = offers.search_id "
                "WHERE offer_search MATCH 'partnerschaft'" if backend == "sqlite"
                else "SELECT id FROM offers WHERE search_vector @@ to_tsquery('simple', 'partnerschaft')"
            )).scalars().all()
            weighed = {word: connection.execute(text(  # and the terms relevance weighs: the title's, not others
                "SELECT id FROM offers JOIN offer_search ON offer_search.rowid = offers.search_id "
                f"WHERE offer_search MATCH 'weighed_terms : {word}'" if backend == "sqlite"
                else f"SELECT id FROM offers WHERE weighed_vector @@ to_tsquery('simple', '{word}')"
            )).scalars().all() for word in ("partnerschaft", "abroad")}
            session = connection.execute(text("SELECT offer_id, cancelled_at FROM sessions")).one()
    finally:
        engine.dispose()

    assert tuple(offer) == (5, 19, "standard", 0, 7)
    assert languages == ["de"]
    assert language_codes == "de"
    assert [tuple(row) for row in providers] == [("p", 100, True)]
    assert {"partnerschaft", "cluster", "abroad"} <= terms
    assert " partnerschaft " in title_terms and " cluster " not in title_terms
    assert summary_terms == " "
    assert indexed == ["o"]
    assert weighed == {"partnerschaft": ["o"], "abroad": []}
    assert tuple(session) == ("o", None)
