"""Search answers kept in memory and reused while nothing they were found among has changed.

A search counts and facets every offer it finds, so most of its cost repeats for every person who asks the same:
popular words and filters. Every transaction that writes a table a search reads raises `search_generation` by one
as its last statement before commit, so the rows and the count change together; a kept answer is reused only
under the generation it was found in, and for at most MAX_AGE, as free seats and the next session also depend on
the clock. Each process keeps its own answers; the generation, read in the search's own transaction, is what the
processes share, so an offer one process publishes is found by every other one at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from itertools import chain
from typing import Any

from prometheus_client import Counter
from sqlalchemy import event, select, update
from sqlalchemy.orm import ORMExecuteState, Session

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

# Every table an offer search or its page of offers reads (a test holds the search to this list).
SEARCHED = (Offer, OfferCompetence, OfferLanguage, OfferLearningGain, OfferProvider, OfferSession, Rating,
            FrameworkItem)
SEARCHED_TABLES = frozenset(model.__table__.name for model in SEARCHED)
MAX_AGE_S = 30.0
CHANGED = "search_changed"

ANSWERS = Counter("catalog_search_answers_total", "Offer searches answered, from a kept answer or the database",
                  ["source"])


@event.listens_for(Session, "before_flush")
def _note_written_objects(db: Session, flush_context, instances) -> None:
    if any(isinstance(written, SEARCHED) for written in chain(db.new, db.dirty, db.deleted)):
        db.info[CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_written_statements(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and state.statement.table.name in SEARCHED_TABLES:
        state.session.info[CHANGED] = True


@event.listens_for(Session, "before_commit")
def _raise_generation(db: Session) -> None:
    # Last, so the transaction holds the generation's row lock only while it commits: nothing waits in a cycle.
    db.flush()
    if db.info.pop(CHANGED, False):
        db.execute(update(SearchGeneration).values(generation=SearchGeneration.generation + 1))


@event.listens_for(Session, "after_rollback")
def _forget_changes(db: Session) -> None:
    db.info.pop(CHANGED, None)


def generation(db: Session) -> int:
    """The generation the rest of `db`'s transaction reads the offers in (read first: an answer found after a
    commit in between is merely kept under the older generation, which no later search asks for)."""
    return db.scalar(select(SearchGeneration.generation))


def key_of(args: Mapping[str, Any]) -> Hashable:
    """Search arguments as parsed, in one order: the same search however its query string was written."""
    return tuple(sorted(args.items()))


class SearchAnswers:
    """The answers (response bodies) one process keeps, least recently used dropped first beyond `max_bytes` (a
    page of 20 offers is 10-100 KB)."""

    def __init__(self, max_bytes: int, max_age_s: float = MAX_AGE_S,
                 clock: Callable[[], float] = time.monotonic):
        self.max_bytes, self.max_age_s, self.clock = max_bytes, max_age_s, clock
        self._answers: OrderedDict[Hashable, tuple[int, float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, current: int) -> bytes | None:
        with self._lock:
            kept = self._answers.get(key)
            if kept is None or kept[0] != current or self.clock() - kept[1] > self.max_age_s:
                ANSWERS.labels("database").inc()
                return None
            self._answers.move_to_end(key)
        ANSWERS.labels("kept").inc()
        return kept[2]

    def put(self, key: Hashable, found_in: int, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            replaced = self._answers.pop(key, None)
            if replaced is not None:
                self._bytes -= len(replaced[2])
            self._answers[key] = (found_in, self.clock(), body)
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                _, (_, _, dropped) = self._answers.popitem(last=False)
                self._bytes -= len(dropped)
