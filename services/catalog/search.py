"""Finding published offers: words matched by their German and English stems, filters, sorting, facet counts."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import snowballstemmer
from sqlalchemy import Integer, and_, case, event, func, literal, literal_column, not_, or_, select, table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.sql.functions import FunctionElement

from services.catalog.domain import PUBLIC
from services.catalog.framework import ItemKind
from services.catalog.models import (
    FrameworkItem,
    Offer,
    OfferCompetence,
    OfferProvider,
    OfferSession,
    Rating,
)

WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 10
MAX_TERM_LENGTH = 60
STEMMED_LANGUAGES = ("german", "english")
FACETS = ("format", "level", "language")


_per_thread = threading.local()


def _stemmer(language: str) -> snowballstemmer.stemmer:
    """A stemmer of this thread's own: a stemmer keeps the word it works on, and a web worker answers several
    requests at once in threads (shared, one request's word broke another's stemming with an IndexError)."""
    stemmers = _per_thread.__dict__.setdefault("stemmers", {})
    if language not in stemmers:
        stemmers[language] = snowballstemmer.stemmer(language)
    return stemmers[language]


def stems(word: str) -> set[str]:
    """The German and English stems of a word (Förderprogramme and Förderprogramm, clusters and cluster meet);
    both for every text, since an offer's words and a searcher's are often in either language."""
    word = word.casefold()
    return {_stemmer(language).stemWord(word) for language in STEMMED_LANGUAGES}


def terms(*texts: str) -> set[str]:
    """The stems of every word of `texts`, each once (cut to the column's length)."""
    return {stem[:MAX_TERM_LENGTH] for text in texts for word in WORD.findall(text) for stem in stems(word)}


def spaced_terms(text: str) -> str:
    """The stems of `text` between spaces, so that a stem is found whole by a substring search for " stem "."""
    return " " + "".join(f"{term} " for term in sorted(terms(text)))


def index_offer(offer: Offer) -> None:
    """Make the offer's indexed terms those of its title, summary and description as they are now (the full-text
    index follows: SQLite's by triggers, PostgreSQL's generated column), and those relevance weighs."""
    offer.search_terms = " ".join(sorted(terms(offer.title, offer.summary, offer.description)))
    offer.title_terms = spaced_terms(offer.title)
    offer.summary_terms = spaced_terms(offer.summary)


@event.listens_for(Session, "before_flush")
def _keep_language_codes(db: Session, flush_context, instances) -> None:
    """Copy every written offer's languages into language_codes, whichever code changed them."""
    for offer in (*db.new, *db.dirty):
        if isinstance(offer, Offer) and offer.language_codes != ",".join(offer.languages):
            offer.language_codes = ",".join(offer.languages)


def _query_words(query: str) -> list[str]:
    return WORD.findall(query)[:MAX_QUERY_WORDS]


def _words_match(words: list[str], dialect: str, weighed: bool | None = None):
    """Every word of the query, by one of its stems, looked up in the full-text index; with `weighed` True only
    offers with one of the words in their title or summary (those relevance weighs above zero), with False only
    the others. The stems are letters and digits only, so quoting them is all the query syntax needs."""
    alternatives = [sorted({stem[:MAX_TERM_LENGTH] for stem in stems(word)}) for word in words]
    any_stem = sorted({stem for word in alternatives for stem in word})
    if dialect == "sqlite":
        match = " AND ".join("(" + " OR ".join(f'"{stem}"' for stem in word) + ")" for word in alternatives)
        if weighed is not None:
            in_weighed = "weighed_terms : (" + " OR ".join(f'"{stem}"' for stem in any_stem) + ")"
            match = f"({match}) {'AND' if weighed else 'NOT'} {in_weighed}"
        return literal_column("offers.search_id").in_(select(literal_column("rowid")).select_from(table("offer_search"))
                                                      .where(literal_column("offer_search").op("MATCH")(match)))
    query = " & ".join("(" + " | ".join(f"'{stem}'" for stem in word) + ")" for word in alternatives)
    matched = literal_column("offers.search_vector").op("@@")(func.to_tsquery("simple", query))
    if weighed is None:
        return matched
    in_weighed = literal_column("offers.weighed_vector").op("@@")(
        func.to_tsquery("simple", " | ".join(f"'{stem}'" for stem in any_stem)))
    return and_(matched, in_weighed if weighed else not_(in_weighed))


def _conditions(filters: dict[str, Any], dialect: str, weighed: bool | None = None) -> list:
    # Each filter on a related table is an IN over that table's own index: an EXISTS per offer let SQLite pick
    # the index on the value and read it again for every offer.
    # Offers with a query word in their title or summary are few, and SQLite should look them up from the full-text
    # index rather than read every published offer: a status it cannot find in an index makes it do so.
    status_column = Offer.status + "" if weighed and dialect == "sqlite" else Offer.status
    conditions = [status_column.in_([status.value for status in PUBLIC])]
    if "q" in filters:
        words = _query_words(filters["q"])
        # A query of punctuation alone finds nothing rather than everything.
        conditions.append(_words_match(words, dialect, weighed) if words else Offer.id.is_(None))
    if "competence" in filters:
        conditions.append(Offer.id.in_(select(OfferCompetence.offer_id).where(
            func.lower(OfferCompetence.name) == filters["competence"].lower())))
    if "area" in filters:
        codes = select(FrameworkItem.code).where(FrameworkItem.kind == ItemKind.COMPETENCE.value,
                                                 FrameworkItem.area == filters["area"])
        conditions.append(Offer.id.in_(select(OfferCompetence.offer_id).where(OfferCompetence.name.in_(codes))))
    if "language" in filters:
        # On the offer's own copy of its codes (two letters each): no lookup in offer_languages per offer.
        codes = literal(",") + Offer.language_codes + ","
        conditions.append(codes.contains(f",{filters['language']},", autoescape=True))
    if "provider" in filters:
        conditions.append(Offer.id.in_(select(OfferProvider.offer_id).where(
            OfferProvider.member_id == filters["provider"])))
    if "max_price_cents" in filters:
        conditions.append(Offer.price_cents <= filters["max_price_cents"])
    for name in ("format", "level"):
        if name in filters:
            conditions.append(getattr(Offer, name) == filters[name])
    if filters.get("free_seats"):
        conditions.append(Offer.id.in_(_free_seat_offers(filters.get("format"))))
    if "starts_from" in filters or "starts_before" in filters:
        dated = [OfferSession.cancelled_at.is_(None)]
        if "starts_from" in filters:
            dated.append(OfferSession.starts_at >= filters["starts_from"])
        if "starts_before" in filters:
            dated.append(OfferSession.starts_at < filters["starts_before"])
        conditions.append(Offer.id.in_(select(OfferSession.offer_id).where(*dated)))
    return conditions


def _free_seat_offers(format: str | None):
    return select(OfferSession.offer_id).where(OfferSession.cancelled_at.is_(None),
                                               OfferSession.starts_at > datetime.now(UTC), _has_free_seat(format))


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


class _position(FunctionElement):
    """Where a string first occurs in another, 0 if nowhere: plain byte comparison, cheaper than LIKE."""

    type = Integer()
    inherit_cache = True


@compiles(_position)
def _position_on_postgresql(element, compiler, **kw):
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(_position, "sqlite")
def _position_on_sqlite(element, compiler, **kw):
    return f"instr({compiler.process(element.clauses, **kw)})"


def _relevance(query: str) -> Any:
    """Two points per query word found in the title, one if only in the summary (by any of its stems)."""
    score = literal(0)
    for word in _query_words(query):
        word_stems = sorted({stem[:MAX_TERM_LENGTH] for stem in stems(word)})
        in_title = or_(*(_position(Offer.title_terms, f" {stem} ") > 0 for stem in word_stems))
        in_summary = or_(*(_position(Offer.summary_terms, f" {stem} ") > 0 for stem in word_stems))
        score = score + case((in_title, 2), (in_summary, 1), else_=0)
    return score


def _average_stars() -> Any:
    return select(func.avg(Rating.stars)).where(Rating.offer_id == Offer.id).correlate(Offer).scalar_subquery()


def _next_session() -> Any:
    return (select(func.min(OfferSession.starts_at))
            .where(OfferSession.offer_id == Offer.id, OfferSession.cancelled_at.is_(None),
                   OfferSession.starts_at > datetime.now(UTC))
            .correlate(Offer).scalar_subquery())


# Ties of publication time go by id, descending too: ix_offers_status_published_at read backwards gives both, so
# the newest offers matching a filter are the first met, with nothing left to sort.
ORDERS = {
    "newest": lambda filters: (Offer.published_at.desc(), Offer.id.desc()),
    "price": lambda filters: (Offer.price_cents, Offer.id),
    # Offers without an upcoming session last (NULL sorts differently on the two backends, hence the flag).
    "next_session": lambda filters: (_next_session().is_(None), _next_session(), Offer.id),
    # Best rated first; unrated offers after the rated ones.
    "rating": lambda filters: (_average_stars().is_(None), _average_stars().desc(), Offer.published_at.desc(),
                               Offer.id.desc()),
    # Without words to weigh, the newest first.
    "relevance": lambda filters: (_relevance(filters.get("q", "")).desc(), Offer.published_at.desc(),
                                  Offer.id.desc()),
}
SORTS = tuple(ORDERS)


def search_offers(db: Session, filters: dict[str, Any], page: int, per_page: int, sort: str = "newest",
                  groups: list[Group] | None = None) -> tuple[int, list[Offer], dict[str, dict[str, int]]]:
    """Published offers matching every given filter, in the order asked for, how many there are, and the facet
    counts: how many of the offers found have each format, level and language, each facet counted under the
    other filters, so choosing a value shows what the others would add.

    The matching is the expensive part, so it runs as seldom as it can: one grouped count over the filters but the
    faceted ones (`count_groups`, or `groups` it counted before for the same filters) gives the total and every
    facet, and `_page_ids` finds the ids of the page (sorting ids, not whole offers), whose offers are then read
    by id.
    """
    if groups is None:
        groups = count_groups(db, filters)
    total = sum(group.count for group in groups if group.fits(filters))
    facets = _facets(groups, filters)
    items: list[Offer] = []
    if total > (page - 1) * per_page:
        ids = _page_ids(db, filters, sort, (page - 1) * per_page, per_page)
        # A page of results shows no sessions and no learning gain: not loading them saves most of the rows read
        # and a query.
        offers = select(Offer).options(lazyload(Offer.sessions), lazyload(Offer.learning_gain)).where(Offer.id.in_(ids))
        found = {offer.id: offer for offer in db.scalars(offers)}
        items = [found[offer_id] for offer_id in ids]
    return total, items, facets


def _page_ids(db: Session, filters: dict[str, Any], sort: str, offset: int, limit: int) -> list[str]:
    """The ids of a page of the offers found, in the order asked for.

    By relevance, only offers with a query word in their title or summary score above zero: those are weighed
    and sorted, found through the full-text index, and the others follow newest first, the order of equal scores.
    Weighing every offer found instead read and sorted all of them, most of the catalog for a common word.
    """
    dialect = db.get_bind().dialect.name

    def ids(weighed: bool | None, order: tuple, skip: int, take: int) -> list[str]:
        return list(db.scalars(select(Offer.id).where(*_conditions(filters, dialect, weighed))
                               .order_by(*order).offset(skip).limit(take)))

    if sort != "relevance" or not _query_words(filters.get("q", "")):
        return ids(None, ORDERS[sort](filters), offset, limit)
    weighed = ids(True, ORDERS["relevance"](filters), offset, limit)
    if len(weighed) == limit:
        return weighed
    weighed_total = (offset + len(weighed) if weighed or not offset else
                     db.scalar(select(func.count()).select_from(Offer).where(*_conditions(filters, dialect, True))))
    return weighed + ids(False, ORDERS["newest"](filters), max(0, offset - weighed_total), limit - len(weighed))


def counted_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters `count_groups` depends on: all searches that differ only in a facet's value (or their page or
    order) share one count."""
    counted = {name: value for name, value in filters.items() if name not in FACETS}
    if counted.get("free_seats") and "format" in filters:
        counted["format"] = filters["format"]
    return counted


@dataclass(frozen=True)
class Group:
    """Offers found under every filter but format, level and language, alike in those three."""

    format: str
    level: int
    languages: frozenset[str]
    # Whether they have a free seat of the format asked for (only asked when free seats and a format are): the
    # format facet counts offers with any free seat, the rest those with one of that format.
    free_in_format: bool
    count: int

    def fits(self, filters: dict[str, Any], but: str = "") -> bool:
        return ((but == "format" or "format" not in filters or self.format == filters["format"])
                and (but == "level" or "level" not in filters or self.level == filters["level"])
                and (but == "language" or "language" not in filters or filters["language"] in self.languages)
                and (but == "format" or self.free_in_format))


def count_groups(db: Session, filters: dict[str, Any]) -> list[Group]:
    """The offers found under every filter but format, level and language, counted by those three."""
    dialect = db.get_bind().dialect.name
    others = counted_filters(filters)
    seat_format = others.pop("format", None)  # there only when free seats of a format are asked for
    free_in_format = Offer.id.in_(_free_seat_offers(seat_format)) if seat_format else literal(True)
    free_in_format = free_in_format.label("free_in_format")
    rows = db.execute(select(Offer.format, Offer.level, Offer.language_codes, free_in_format, func.count())
                      .where(*_conditions(others, dialect))
                      .group_by(Offer.format, Offer.level, Offer.language_codes, free_in_format)).all()
    return [Group(format, level, frozenset((codes or "").split(",")) - {""}, bool(free), count)
            for format, level, codes, free, count in rows]


def _facets(groups: list[Group], filters: dict[str, Any]) -> dict[str, dict[str, int]]:
    facets: dict[str, dict[str, int]] = {}
    for facet in FACETS:
        counted: dict[Any, int] = {}
        for group in groups:
            if group.fits(filters, but=facet):
                for value in (sorted(group.languages) if facet == "language" else [getattr(group, facet)]):
                    counted[value] = counted.get(value, 0) + group.count
        facets[facet] = {str(value): counted[value] for value in sorted(counted)}
    return facets
