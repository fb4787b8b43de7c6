"""Topic requests, in the caller's transaction: ask, vote, take a vote back, list by votes, answer with an offer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.catalog.demand import current_quarter, demand_for
from services.catalog.domain import OfferStatus
from services.catalog.framework import check_competences
from services.catalog.models import (
    CompetenceDemandRow,
    Offer,
    TopicRequest,
    TopicRequestAnswer,
    TopicRequestVote,
)
from shared.db import fetch_page
from shared.errors import NotFound, Unprocessable
from shared.events.declarations import TopicRequestAnswered
from shared.outbox import record_event

_INSERT_BY_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclass(frozen=True)
class TopicRequestView:
    """A request as a member sees it: with the answers, whether they voted, and the demand for its competences."""

    request: TopicRequest
    answers: list[TopicRequestAnswer]
    voted: bool
    demand: list[CompetenceDemandRow]
    demand_quarter: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.request, name)


def ask(db: Session, member_id: str, fields: dict[str, Any]) -> TopicRequestView:
    """A new request; asking counts as the asker's vote."""
    check_competences(db, fields["competences"])
    now = datetime.now(UTC)
    request = TopicRequest(id=str(uuid.uuid4()), member_id=member_id, votes=1, created_at=now, **fields)
    db.add(request)
    db.flush()  # the vote refers to the request
    db.add(TopicRequestVote(topic_request_id=request.id, member_id=member_id, voted_at=now))
    return _view(db, request, member_id)


def _request(db: Session, request_id: str, *, lock: bool = False) -> TopicRequest:
    request = db.get(TopicRequest, request_id, with_for_update=lock)
    if request is None:
        raise NotFound(f"topic request {request_id} not found")
    return request


def vote(db: Session, request_id: str, member_id: str) -> tuple[TopicRequestView, bool]:
    """Add the member's vote unless it is there; whether it was new (voting twice changes nothing)."""
    request = _request(db, request_id)
    insert = _INSERT_BY_DIALECT[db.get_bind().dialect.name]
    # RETURNING says whether the row went in; a rowcount is not reliable for this on every driver.
    added = db.execute(insert(TopicRequestVote).values(
        topic_request_id=request.id, member_id=member_id, voted_at=datetime.now(UTC),
    ).on_conflict_do_nothing().returning(TopicRequestVote.member_id)).first() is not None
    if added:
        _count_votes(db, request.id, +1)
    return _view(db, _refreshed(db, request), member_id), added


def take_back_vote(db: Session, request_id: str, member_id: str) -> None:
    """Remove the member's vote if there is one; taking back a vote that is not there changes nothing."""
    request = _request(db, request_id)
    removed = db.execute(delete(TopicRequestVote).where(
        TopicRequestVote.topic_request_id == request.id, TopicRequestVote.member_id == member_id,
    ).returning(TopicRequestVote.member_id)).first()
    if removed is not None:
        _count_votes(db, request.id, -1)


def _count_votes(db: Session, request_id: str, change: int) -> None:
    # One UPDATE relative to the stored value, so simultaneous votes on other rows cannot overwrite each other.
    db.execute(update(TopicRequest).where(TopicRequest.id == request_id)
               .values(votes=TopicRequest.votes + change).execution_options(synchronize_session=False))


def _refreshed(db: Session, request: TopicRequest) -> TopicRequest:
    db.refresh(request, ["votes"])
    return request


def read(db: Session, request_id: str, viewer_id: str | None) -> TopicRequestView:
    return _view(db, _request(db, request_id), viewer_id)


def most_wanted(db: Session, filters: dict[str, Any], page: int, per_page: int,
                viewer_id: str | None) -> tuple[int, list[TopicRequestView]]:
    """Requests with the most votes first (the newer first among equals), and how many there are."""
    query = select(TopicRequest).order_by(TopicRequest.votes.desc(), TopicRequest.created_at.desc(),
                                          TopicRequest.id)
    if "region" in filters:
        query = query.where(TopicRequest.region == filters["region"])
    total, requests = fetch_page(db, query, page, per_page)
    return total, _views(db, requests, viewer_id)


def _view(db: Session, request: TopicRequest, viewer_id: str | None) -> TopicRequestView:
    return _views(db, [request], viewer_id)[0]


def _views(db: Session, requests: list[TopicRequest], viewer_id: str | None) -> list[TopicRequestView]:
    """Views of `requests`, with a fixed number of queries however many there are."""
    ids = [request.id for request in requests]
    answers: dict[str, list[TopicRequestAnswer]] = {request_id: [] for request_id in ids}
    for answer in db.scalars(select(TopicRequestAnswer).where(TopicRequestAnswer.topic_request_id.in_(ids))
                             .order_by(TopicRequestAnswer.answered_at, TopicRequestAnswer.offer_id)):
        answers[answer.topic_request_id].append(answer)
    voted = set(db.scalars(select(TopicRequestVote.topic_request_id).where(
        TopicRequestVote.topic_request_id.in_(ids), TopicRequestVote.member_id == viewer_id,
    ))) if viewer_id else set()
    demand = demand_for(db, {code for request in requests for code in request.competences})
    quarter = current_quarter(db) if demand else None
    return [TopicRequestView(request=request, answers=answers[request.id], voted=request.id in voted,
                             demand=[demand[code] for code in request.competences if code in demand],
                             demand_quarter=quarter)
            for request in requests]


def answer(db: Session, request_id: str, provider_id: str, offer_id: str) -> tuple[TopicRequestView, bool]:
    """Answer a request with a published offer the caller teaches (co-providers too) and tell everyone who asked
    or voted;
    whether the answer is new (the same offer answering again changes nothing and tells nobody twice)."""
    request = _request(db, request_id, lock=True)
    offer = db.get(Offer, offer_id)
    # One refusal for every case, so that the answer tells nothing about other members' drafts.
    if offer is None or offer.status != OfferStatus.PUBLISHED or provider_id not in offer.provider_ids:
        raise Unprocessable("answer with one of your published offers",
                            errors={"offer_id": ["not a published offer of yours"]})
    if db.get(TopicRequestAnswer, (request.id, offer.id)) is not None:
        return _view(db, request, provider_id), False
    now = datetime.now(UTC)
    db.add(TopicRequestAnswer(topic_request_id=request.id, offer_id=offer.id, offer_title=offer.title,
                              provider_id=provider_id, answered_at=now))
    askers = db.scalars(select(TopicRequestVote.member_id).where(
        TopicRequestVote.topic_request_id == request.id, TopicRequestVote.member_id != provider_id,
    ).order_by(TopicRequestVote.voted_at, TopicRequestVote.member_id)).all()
    record_event(db, TopicRequestAnswered(
        topic_request_id=request.id, title=request.title, offer_id=offer.id, offer_title=offer.title,
        member_ids=list(askers), answered_at=now,
    ))
    return _view(db, request, provider_id), True


def forget_member(db: Session, member_id: str) -> None:
    """A deleted member's votes go (each request counts one fewer), and their requests no longer name them."""
    for request_id in db.scalars(select(TopicRequestVote.topic_request_id)
                                 .where(TopicRequestVote.member_id == member_id)).all():
        _count_votes(db, request_id, -1)
    db.execute(delete(TopicRequestVote).where(TopicRequestVote.member_id == member_id))
    db.execute(update(TopicRequest).where(TopicRequest.member_id == member_id).values(member_id=None)
               .execution_options(synchronize_session=False))

