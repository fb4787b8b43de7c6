"""Catalog's HTTP API for what members ask of and tell each other: topic requests, votes, answers, ratings."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request
from flask.views import MethodView

from services.catalog import ratings, topic_requests
from services.catalog.community_schemas import (
    RatingAnswerRequest,
    RatingOut,
    RatingPage,
    RatingPatch,
    RatingRequest,
    RatingSummaryOut,
    TopicRequestAnswerRequest,
    TopicRequestOut,
    TopicRequestPage,
    TopicRequestRequest,
    TopicRequestSearchArgs,
)
from shared.auth import current_principal, require_roles
from shared.schemas import PageArgs, paginate
from shared.web import Blueprint, transaction

BEARER = [{"bearer": []}]
OPTIONAL_BEARER = [{}, {"bearer": []}]

topic_requests_blp = Blueprint("topic_requests", __name__, url_prefix="/api/v1",
                               description="Topics members ask to be taught, their votes and the offers answering")


def _viewer_id() -> str | None:
    """The caller's member id if a token came along (a broken one is a 401 before this, see shared.web)."""
    return current_principal().member_id if "Authorization" in request.headers else None


@topic_requests_blp.route("/topic-requests")
class TopicRequests(MethodView):
    @topic_requests_blp.arguments(TopicRequestSearchArgs, location="query")
    @topic_requests_blp.response(200, TopicRequestPage)
    @topic_requests_blp.doc(security=OPTIONAL_BEARER)
    def get(self, args):
        """List topic requests, the most voted first, with the demand for their competences"""
        filters = {name: value for name, value in args.items() if name not in ("page", "per_page")}
        viewer_id = _viewer_id()
        with transaction() as db:
            total, views = topic_requests.most_wanted(db, filters, args["page"], args["per_page"], viewer_id)
            return paginate(total, views, args)

    @require_roles("member")
    @topic_requests_blp.arguments(TopicRequestRequest)
    @topic_requests_blp.response(201, TopicRequestOut)
    @topic_requests_blp.doc(security=BEARER)
    def post(self, body):
        """Ask for a topic; asking counts as my vote"""
        with transaction() as db:
            return topic_requests.ask(db, current_principal().member_id, body)


@topic_requests_blp.route("/topic-requests/<string:request_id>")
class TopicRequestById(MethodView):
    @topic_requests_blp.response(200, TopicRequestOut)
    @topic_requests_blp.doc(security=OPTIONAL_BEARER)
    def get(self, request_id):
        """Read a topic request"""
        viewer_id = _viewer_id()
        with transaction() as db:
            return topic_requests.read(db, request_id, viewer_id)


@topic_requests_blp.route("/topic-requests/<string:request_id>/votes")
class TopicRequestVotes(MethodView):
    @require_roles("member")
    @topic_requests_blp.response(201, TopicRequestOut)
    @topic_requests_blp.alt_response(200, schema=TopicRequestOut, description="I had voted for it already")
    @topic_requests_blp.doc(security=BEARER)
    def post(self, request_id):
        """Vote for a topic request (once; voting again changes nothing)"""
        with transaction() as db:
            view, added = topic_requests.vote(db, request_id, current_principal().member_id)
            return view, 201 if added else 200

    @require_roles("member")
    @topic_requests_blp.response(204)
    @topic_requests_blp.doc(security=BEARER)
    def delete(self, request_id):
        """Take back my vote"""
        with transaction() as db:
            topic_requests.take_back_vote(db, request_id, current_principal().member_id)


@topic_requests_blp.route("/topic-requests/<string:request_id>/answers")
class TopicRequestAnswers(MethodView):
    @require_roles("member")
    @topic_requests_blp.arguments(TopicRequestAnswerRequest)
    @topic_requests_blp.response(201, TopicRequestOut)
    @topic_requests_blp.alt_response(200, schema=TopicRequestOut, description="this offer answered it already")
    @topic_requests_blp.doc(security=BEARER)
    def post(self, body, request_id):
        """Answer a topic request with one of my published offers; everyone who asked or voted is told"""
        with transaction() as db:
            view, added = topic_requests.answer(db, request_id, current_principal().member_id, body["offer_id"])
            return view, 201 if added else 200


ratings_blp = Blueprint("ratings", __name__, url_prefix="/api/v1",
                        description="Attendees' ratings of sessions and the providers' answers")


@ratings_blp.route("/sessions/<string:session_id>/ratings")
class SessionRatings(MethodView):
    @require_roles("member")
    @ratings_blp.arguments(RatingRequest)
    @ratings_blp.response(201, RatingOut)
    @ratings_blp.doc(security=BEARER)
    def post(self, body, session_id):
        """Rate a session I attended, once (change it within 30 days with PATCH /api/v1/ratings/{id})"""
        with transaction() as db:
            return ratings.rate(db, session_id, current_principal().member_id, body["stars"], body["comment"])


@ratings_blp.route("/sessions/<string:session_id>/ratings/mine")
class MySessionRating(MethodView):
    @require_roles("member")
    @ratings_blp.response(200, RatingOut)
    @ratings_blp.doc(security=BEARER)
    def get(self, session_id):
        """My own rating of a session (404 while I have given none)"""
        with transaction() as db:
            return ratings.mine(db, session_id, current_principal().member_id)


@ratings_blp.route("/ratings/<string:rating_id>")
class RatingById(MethodView):
    @ratings_blp.response(200, RatingOut)
    @ratings_blp.doc(security=OPTIONAL_BEARER)
    def get(self, rating_id):
        """Read a rating"""
        with transaction() as db:
            return ratings.read(db, rating_id)

    @require_roles("member")
    @ratings_blp.arguments(RatingPatch(partial=True))
    @ratings_blp.response(200, RatingOut)
    @ratings_blp.doc(security=BEARER)
    def patch(self, changes, rating_id):
        """Change my rating, within 30 days of giving it"""
        with transaction() as db:
            return ratings.edit(db, rating_id, current_principal().member_id, changes, datetime.now(UTC))


@ratings_blp.route("/ratings/<string:rating_id>/answer")
class RatingAnswer(MethodView):
    @require_roles("member")
    @ratings_blp.arguments(RatingAnswerRequest)
    @ratings_blp.response(201, RatingOut)
    @ratings_blp.doc(security=BEARER)
    def post(self, body, rating_id):
        """Answer a rating of my session publicly, once"""
        with transaction() as db:
            return ratings.answer(db, rating_id, current_principal().member_id, body["text"])


@ratings_blp.route("/offers/<string:offer_id>/ratings")
class OfferRatings(MethodView):
    @ratings_blp.arguments(PageArgs, location="query")
    @ratings_blp.response(200, RatingPage)
    @ratings_blp.doc(security=OPTIONAL_BEARER)
    def get(self, args, offer_id):
        """An offer's ratings, the newest first, with their count and average"""
        with transaction() as db:
            rated, total, items = ratings.of_offer(db, offer_id, args["page"], args["per_page"])
            return {"count": rated.count, "average": rated.average, **paginate(total, items, args)}


@ratings_blp.route("/providers/<string:member_id>/ratings")
class ProviderRatings(MethodView):
    @ratings_blp.response(200, RatingSummaryOut)
    @ratings_blp.doc(security=OPTIONAL_BEARER)
    def get(self, member_id):
        """The count and average of the ratings of a provider's sessions"""
        with transaction() as db:
            return ratings.provider_summary(db, member_id)
