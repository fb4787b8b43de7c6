"""Finding published offers: words matched by their German and English stems, filters, sorting, facet counts."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import snowballstemmer
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, lazyload

from services.catalog.domain import PUBLIC
from services.catalog.framework import ItemKind
from services.catalog.models import (
    FrameworkItem,
    Offer,
    OfferCompetence,
    OfferLanguage,
    OfferProvider,
    OfferSession,
    OfferTerm,
    Rating,
)

WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 10
MAX_TERM_LENGTH = 60
STEMMED_LANGUAGES = ("german", "english")
FACETS = ("format", "level", "language")


@functools.cache
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


def stems(word: str) -> set[str]:
    """The German and English stems of a word (Förderprogramme and Förderprogramm, clusters and cluster meet);
    both for every text, since an offer's words and a searcher's are often in either language."""
    word = word.casefold()
    return {_stemmer(language).stemWord(word) for language in STEMMED_LANGUAGES}


def terms(*texts: str) -> set[str]:
    """The stems of every word of `texts`, each once (cut to the column's length)."""
    return {stem[:MAX_TERM_LENGTH] for text in texts for word in WORD.findall(text) for stem in stems(word)}


def index_offer(offer: Offer) -> None:
    """Make the offer's terms those of its title, summary and description as they are now (rows of terms that
    stay are kept, so no row is deleted and inserted again)."""
    wanted = terms(offer.title, offer.summary, offer.description)
    kept = [row for row in offer.term_rows if row.term in wanted]
    offer.term_rows = kept + [OfferTerm(term=term) for term in sorted(wanted - {row.term for row in kept})]


def _words_match(words: Iterable[str]):
    """Every word of the query, by one of its stems."""
    return and_(*(Offer.id.in_(select(OfferTerm.offer_id).where(OfferTerm.term.in_(sorted(stems(word)))))
                  for word in words))


def _conditions(filters: dict[str, Any]) -> list:
    # Each filter on a related table is an IN over that table's own index: an EXISTS per offer let SQLite pick
    # the index on the value and read it again for every offer.
    conditions = [Offer.status.in_([status.value for status in PUBLIC])]
    if "q" in filters:
        words = WORD.findall(filters["q"])[:MAX_QUERY_WORDS]
        # A query of punctuation alone finds nothing rather than everything.
        conditions.append(_words_match(words) if words else Offer.id.is_(None))
    if "competence" in filters:
        conditions.append(Offer.id.in_(select(OfferCompetence.offer_id).where(
            func.lower(OfferCompetence.name) == filters["competence"].lower())))
    if "area" in filters:
        codes = select(FrameworkItem.code).where(FrameworkItem.kind == ItemKind.COMPETENCE.value,
                                                 FrameworkItem.area == filters["area"])
        conditions.append(Offer.id.in_(select(OfferCompetence.offer_id).where(OfferCompetence.name.in_(codes))))
    if "language" in filters:
        conditions.append(Offer.id.in_(select(OfferLanguage.offer_id).where(OfferLanguage.code == filters["language"])))
    if "provider" in filters:
        conditions.append(Offer.id.in_(select(OfferProvider.offer_id).where(
            OfferProvider.member_id == filters["provider"])))
    if "max_price_cents" in filters:
        conditions.append(Offer.price_cents <= filters["max_price_cents"])
    for name in ("format", "level"):
        if name in filters:
            conditions.append(getattr(Offer, name) == filters[name])
    if filters.get("free_seats"):
        conditions.append(Offer.id.in_(select(OfferSession.offer_id).where(
            OfferSession.cancelled_at.is_(None), OfferSession.starts_at > datetime.now(UTC),
            _has_free_seat(filters.get("format")))))
    if "starts_from" in filters or "starts_before" in filters:
        dated = [OfferSession.cancelled_at.is_(None)]
        if "starts_from" in filters:
            dated.append(OfferSession.starts_at >= filters["starts_from"])
        if "starts_before" in filters:
            dated.append(OfferSession.starts_at < filters["starts_before"])
        conditions.append(Offer.id.in_(select(OfferSession.offer_id).where(*dated)))
    return conditions


def _has_free_seat(format: str | None):
    """A free seat in `format`, or in either kind for a hybrid offer or none asked; the seats offered count
    until booking has reported."""
    online = func.coalesce(OfferSession.free_online, OfferSession.seats_online) > 0
    in_person = func.coalesce(OfferSession.free_in_person, OfferSession.seats_in_person) > 0
    return {"online": online, "in_person": in_person}.get(format or "", or_(online, in_person))


def keep_availability(db: Session, session_id: str, free: dict[str, int], changed_at: datetime) -> bool:
    """Keep booking's newest count of free seats of a session (availability.changed arrives coalesced and
    possibly out of order); whether it was newer."""
    session = db.get(OfferSession, session_id, with_for_update=True)
    if session is None or (session.availability_at is not None and session.availability_at >= changed_at):
        return False
    session.free_online = free.get("online", session.free_online)
    session.free_in_person = free.get("in_person", session.free_in_person)
    session.availability_at = changed_at
    return True


def _relevance(query: str) -> Any:
    """Two points per query word found in the title, one if only in the summary (by any of its stems)."""
    score = literal(0)
    for word in WORD.findall(query)[:MAX_QUERY_WORDS]:
        word_stems = sorted(stems(word))
        in_title = or_(*(func.lower(Offer.title).contains(stem) for stem in word_stems))
        in_summary = or_(*(func.lower(Offer.summary).contains(stem) for stem in word_stems))
        score = score + case((in_title, 2), (in_summary, 1), else_=0)
    return score


def _average_stars() -> Any:
    return select(func.avg(Rating.stars)).where(Rating.offer_id == Offer.id).correlate(Offer).scalar_subquery()


def _next_session() -> Any:
    return (select(func.min(OfferSession.starts_at))
            .where(OfferSession.offer_id == Offer.id, OfferSession.cancelled_at.is_(None),
                   OfferSession.starts_at > datetime.now(UTC))
            .correlate(Offer).scalar_subquery())


ORDERS = {
    "newest": lambda filters: (Offer.published_at.desc(), Offer.id),
    "price": lambda filters: (Offer.price_cents, Offer.id),
    # Offers without an upcoming session last (NULL sorts differently on the two backends, hence the flag).
    "next_session": lambda filters: (_next_session().is_(None), _next_session(), Offer.id),
    # Best rated first; unrated offers after the rated ones.
    "rating": lambda filters: (_average_stars().is_(None), _average_stars().desc(), Offer.published_at.desc(),
                               Offer.id),
    # Without words to weigh, the newest first.
    "relevance": lambda filters: (_relevance(filters.get("q", "")).desc(), Offer.published_at.desc(), Offer.id),
}
SORTS = tuple(ORDERS)


def search_offers(db: Session, filters: dict[str, Any], page: int, per_page: int,
                  sort: str = "newest") -> tuple[int, list[Offer], dict[str, dict[str, int]]]:
    """Published offers matching every given filter, in the order asked for, how many there are, and the facet
    counts: how many of the offers found have each format, level and language, each facet counted under the
    other filters, so choosing a value shows what the others would add.

    The matching is the expensive part, so it runs as few times as it can: one grouped count gives the total and
    the format and level facets at once (for each facet whose own filter is not set), one more the languages.
    """
    conditions = _conditions(filters)
    by_format_and_level = db.execute(select(Offer.format, Offer.level, func.count()).where(*conditions)
                                     .group_by(Offer.format, Offer.level)).all()
    total = sum(count for _, _, count in by_format_and_level)
    items = []
    if total > (page - 1) * per_page:
        # A page of results shows no sessions: not loading them saves most of the rows read.
        items = list(db.scalars(select(Offer).options(lazyload(Offer.sessions)).where(*conditions)
                                .order_by(*ORDERS[sort](filters)).offset((page - 1) * per_page).limit(per_page)))
    facets = {}
    for facet, position in (("format", 0), ("level", 1)):
        if facet in filters:
            facets[facet] = _facet(db, facet, filters)
        else:
            counted: dict[str, int] = {}
            for row in by_format_and_level:
                counted[str(row[position])] = counted.get(str(row[position]), 0) + row[2]
            facets[facet] = dict(sorted(counted.items(), key=lambda item: _facet_order(facet, item[0])))
    facets["language"] = _facet(db, "language", filters)
    return total, items, facets


def _facet_order(facet: str, value: str):
    return int(value) if facet == "level" else value


def _facet(db: Session, facet: str, filters: dict[str, Any]) -> dict[str, int]:
    """One facet's counts under every filter but its own."""
    others = {name: value for name, value in filters.items() if name != facet}
    if facet == "language":
        column = OfferLanguage.code
        source = (select(column, func.count()).join(Offer, Offer.id == OfferLanguage.offer_id)
                  .where(*_conditions(others)))
    else:
        column = getattr(Offer, facet)
        source = select(column, func.count()).where(*_conditions(others))
    return {str(value): count for value, count in db.execute(source.group_by(column).order_by(column))}
