"""Search answers kept in memory and reused while nothing they were found among has changed.

A search counts and facets every offer it finds, so most of its cost repeats for every person who asks the same:
popular words and filters. Two things are kept: whole answers, and the counts behind a total and its facets,
which searches share that differ only in a facet's value, their page or their order.

Every transaction that writes a table a search reads raises `search_generation` by one as its last statement
before commit, so the rows and the count change together. What is kept is reused only under the generation it
was found in, and for at most MAX_AGE_S, as free seats and the next session also depend on the clock. Each
process keeps its own; the generation, read in the search's own transaction, is what the processes share, so an
offer one process publishes is found by every other one at once.

Booking reports free seats every few seconds while people book. A transaction that changes only those counts
raises the seats generation instead, which only searches for free seats depend on: the others stay kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Engine, event, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from services.catalog import search
from services.catalog.models import (
    FrameworkItem,
    Offer,
    OfferCompetence,
    OfferLanguage,
    OfferLearningGain,
    OfferProvider,
    OfferSession,
    Rating,
    SearchGeneration,
)
from shared.db import read_row

# What one count of a search (search.Group) takes in memory, about.
GROUP_BYTES = 400
# Every table an offer search or its page of offers reads (a test holds the search to this list).
SEARCHED = (Offer, OfferCompetence, OfferLanguage, OfferLearningGain, OfferProvider, OfferSession, Rating,
            FrameworkItem)
# The tables themselves, not their names: other services have tables called offers or ratings of their own.
SEARCHED_TABLES = frozenset(model.__table__ for model in SEARCHED)
MAX_AGE_S = 30.0
CHANGED = "search_changed"
SEATS_CHANGED = "search_seats_changed"
# What booking's availability.changed writes (search.keep_availability): read by the free-seats filter alone.
SEAT_COUNTS = frozenset({"free_online", "free_in_person", "availability_at"})

ANSWERS = Counter("catalog_search_answers_total", "Offer searches answered: from a kept answer, from kept counts and "
                  "the database, or from the database", ["source"])


@event.listens_for(Session, "before_flush")
def _note_written_objects(db: Session, flush_context, instances) -> None:
    for written in chain(db.new, db.dirty, db.deleted):
        if not isinstance(written, SEARCHED):
            continue
        if written in db.dirty and isinstance(written, OfferSession) and _changed(written) <= SEAT_COUNTS:
            db.info[SEATS_CHANGED] = True
        else:
            db.info[CHANGED] = True


def _changed(written: OfferSession) -> set[str]:
    return {attribute.key for attribute in inspect(written).attrs if attribute.history.has_changes()}


@event.listens_for(Session, "do_orm_execute")
def _note_written_statements(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and state.statement.table in SEARCHED_TABLES:
        state.session.info[CHANGED] = True


@event.listens_for(Session, "before_commit")
def _raise_generation(db: Session) -> None:
    # Last, so the transaction holds the generation's row lock only while it commits: nothing waits in a cycle.
    db.flush()
    changed, seats_changed = db.info.pop(CHANGED, False), db.info.pop(SEATS_CHANGED, False)
    if changed:  # every kept answer goes, those for free seats too
        db.execute(update(SearchGeneration).values(generation=SearchGeneration.generation + 1))
    elif seats_changed:
        db.execute(update(SearchGeneration).values(seats_generation=SearchGeneration.seats_generation + 1))


@event.listens_for(Session, "after_rollback")
def _forget_changes(db: Session) -> None:
    db.info.pop(CHANGED, None)
    db.info.pop(SEATS_CHANGED, None)


Generation = tuple[int, int]  # (generation, seats generation)


def generation(db: Session) -> Generation | None:
    """The generations the rest of `db`'s transaction reads the offers in (read first: an answer found after a
    commit in between is merely kept under older ones, which no later search asks for)."""
    row = db.execute(select(SearchGeneration.generation, SearchGeneration.seats_generation)).first()
    return None if row is None else (row[0], row[1])


def key_of(args: Mapping[str, Any]) -> Hashable:
    """Search arguments as parsed, in one order: the same filters however a query string wrote them."""
    return tuple(sorted(args.items()))


class SearchAnswers:
    """The answers (response bodies) and counts one process keeps, the least recently used dropped first beyond
    `max_bytes` (an answer of 20 offers is 10-100 KB, counts a few KB)."""

    def __init__(self, max_bytes: int, max_age_s: float = MAX_AGE_S,
                 clock: Callable[[], float] = time.monotonic):
        self.max_bytes, self.max_age_s, self.clock = max_bytes, max_age_s, clock
        self._kept: OrderedDict[Hashable, _Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, current: Generation | None) -> Any:
        """What was kept under `key` in the `current` generations and is not too old, else None."""
        if current is None:  # no generation to read: nothing would tell a kept answer is stale
            return None
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or not kept.valid_in(current) or self.clock() - kept.at > self.max_age_s:
                return None
            self._kept.move_to_end(key)
            return kept.value

    def put(self, key: Hashable, found_in: Generation | None, value: Any, size: int, *,
            reads_seats: bool = False) -> None:
        """Keep `value` (of about `size` bytes) under `key`, as found in the generations `found_in`; one that
        `reads_seats` (a search for free seats) also depends on the seats generation."""
        if found_in is None or size > self.max_bytes:
            return
        with self._lock:
            replaced = self._kept.pop(key, None)
            if replaced is not None:
                self._bytes -= replaced.size
            self._kept[key] = _Kept(found_in[0], found_in[1] if reads_seats else None, self.clock(), value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._kept.popitem(last=False)
                self._bytes -= dropped.size


@dataclass(frozen=True)
class _Kept:
    generation: int
    seats_generation: int | None  # None when the answer does not depend on free seats
    at: float
    value: Any
    size: int

    def valid_in(self, current: Generation) -> bool:
        return self.generation == current[0] and self.seats_generation in (None, current[1])


def kept_answer(engine: Engine, answers: SearchAnswers, query: bytes) -> bytes | None:
    """The answer kept for a search asked with this query string, looked up before the query is parsed (it parsed
    when the answer was kept), on a bare connection: the cheapest way to a repeated search."""
    row = read_row(engine, f"SELECT generation, seats_generation FROM {SearchGeneration.__tablename__}")
    body = answers.get(("answer", query), None if row is None else (row[0], row[1]))
    if body is not None:
        ANSWERS.labels("kept").inc()
    return body


def answer(db: Session, answers: SearchAnswers, query: bytes, args: Mapping[str, Any],
           render: Callable[[int, list[Offer], dict], bytes]) -> bytes:
    """The answer (response body) to the search `args` (asked with the query string `query`): kept, or found and
    `render`ed, with the counts behind its total and facets kept from a search that differed only in a facet,
    page or order if there was one."""
    current = generation(db)
    key = ("answer", query)
    body = answers.get(key, current)
    if body is not None:
        ANSWERS.labels("kept").inc()
        return body
    filters = {name: value for name, value in args.items() if name not in ("page", "per_page", "sort")}
    reads_seats = bool(filters.get("free_seats"))
    counted_key = ("counts", key_of(search.counted_filters(filters)))
    groups = answers.get(counted_key, current)
    ANSWERS.labels("database" if groups is None else "counts kept").inc()
    if groups is None:
        groups = search.count_groups(db, filters)
        answers.put(counted_key, current, groups, size=GROUP_BYTES * (len(groups) + 1), reads_seats=reads_seats)
    sort = args.get("sort") or ("relevance" if "q" in filters else "newest")
    total, found, facets = search.search_offers(db, filters, args["page"], args["per_page"], sort, groups)
    body = render(total, found, facets)
    answers.put(key, current, body, size=len(body), reads_seats=reads_seats)
    return body
