"""Catalog's HTTP API for offers: propose, co-teach, submit, review, publish, withdraw, schedule and find."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView

from services.catalog import offers, search_cache, sessions
from services.catalog.offers import ANONYMOUS, Viewer
from services.catalog.schemas import (
    MyOffersPage,
    OfferDetailOut,
    OfferHistoryOut,
    OfferPatch,
    OfferRequest,
    OfferSearchArgs,
    OfferSearchPage,
    ProviderSessionOut,
    ReviewOut,
    ReviewQueuePage,
    ReviewRequest,
    SessionCancellation,
    SessionOut,
    SessionPatch,
    SessionRequest,
)
from shared.auth import current_principal, require_roles
from shared.schemas import PageArgs, paginate
from shared.web import Blueprint, runtime_of, transaction

BEARER = [{"bearer": []}]
OPTIONAL_BEARER = [{}, {"bearer": []}]

offers_blp = Blueprint("offers", __name__, url_prefix="/api/v1", description="Offers, their reviews and sessions")


def _viewer() -> Viewer:
    """The caller if a token came along; public offers can be read without one.

    A token that came along and is invalid or expired is a 401 here as everywhere (`shared.web`), never the
    anonymous view: a client with a broken token should learn it.
    """
    if "Authorization" not in request.headers:
        return ANONYMOUS
    principal = current_principal()
    return Viewer(principal.member_id, principal.roles)


def _member_id() -> str:
    return current_principal().member_id


@offers_blp.before_request
def answer_repeated_searches():
    """A search asked before is answered from what was kept, before its query is parsed again; this runs after
    the app's own checks (paths, tokens), which come before a blueprint's."""
    if request.endpoint == "offers.Offers" and request.method == "GET":
        body = search_cache.kept_answer(runtime_of(current_app).engine, current_app.extensions["search_answers"],
                                        request.query_string)
        if body is not None:
            return current_app.response_class(body, mimetype="application/json")
    return None


@offers_blp.route("/offers")
class Offers(MethodView):
    @offers_blp.arguments(OfferSearchArgs, location="query")
    @offers_blp.response(200, OfferSearchPage)
    def get(self, args):
        """Find published offers: words, filters, sorting, facet counts"""

        def render(total, found, facets) -> bytes:
            page = OfferSearchPage().dump({**paginate(total, found, args), "facets": facets})
            return current_app.json.response(page).get_data()

        with transaction() as db:
            db.connection(execution_options={"reads_only": True})  # searches wait for no writer on SQLite
            body = search_cache.answer(db, current_app.extensions["search_answers"], request.query_string, args,
                                       render)
        return current_app.response_class(body, mimetype="application/json")

    @require_roles("member")
    @offers_blp.arguments(OfferRequest)
    @offers_blp.response(201, OfferDetailOut)
    @offers_blp.doc(security=BEARER)
    def post(self, body):
        """Propose an offer; it starts as my draft, co-providers are invited (coprovider.invited)"""
        with transaction() as db:
            return offers.create_offer(db, _member_id(), body)


@offers_blp.route("/offers/<string:offer_id>")
class OfferById(MethodView):
    @offers_blp.response(200, OfferDetailOut)
    @offers_blp.doc(security=OPTIONAL_BEARER)
    def get(self, offer_id):
        """Read an offer with its sessions (unpublished only by its providers and reviewers)"""
        viewer = _viewer()
        with transaction() as db:
            return offers.visible_offer(db, offer_id, viewer)

    @require_roles("member")
    @offers_blp.arguments(OfferPatch(partial=True))
    @offers_blp.response(200, OfferDetailOut)
    @offers_blp.doc(security=BEARER)
    def patch(self, changes, offer_id):
        """Change my offer: a draft or one sent back freely; a published one in what needs no new review,
        publishing offer.updated (price, VAT and policy apply to later bookings only)"""
        with transaction() as db:
            return offers.update_offer(db, offer_id, _member_id(), changes)


@offers_blp.route("/offers/<string:offer_id>/providers/me/acceptance")
class CoTeachingAcceptance(MethodView):
    @require_roles("member")
    @offers_blp.response(200, OfferDetailOut)
    @offers_blp.doc(security=BEARER)
    def post(self, offer_id):
        """Accept to co-teach an offer I was invited to, for the share I was invited with"""
        with transaction() as db:
            return offers.accept_co_teaching(db, offer_id, _member_id())


@offers_blp.route("/offers/<string:offer_id>/submit")
class OfferSubmission(MethodView):
    @require_roles("member")
    @offers_blp.response(200, OfferDetailOut)
    @offers_blp.doc(security=BEARER)
    def post(self, offer_id):
        """Submit my offer for review (a draft, or one sent back with changes requested)"""
        with transaction() as db:
            return offers.submit_offer(db, offer_id, _member_id())


@offers_blp.route("/offers/<string:offer_id>/withdraw")
class OfferWithdrawal(MethodView):
    @require_roles("member")
    @offers_blp.response(200, OfferDetailOut)
    @offers_blp.doc(security=BEARER)
    def post(self, offer_id):
        """Withdraw my published offer (offer.withdrawn); sessions already booked take place"""
        with transaction() as db:
            return offers.withdraw_offer(db, offer_id, _member_id())


@offers_blp.route("/offers/<string:offer_id>/reviews")
class OfferReviews(MethodView):
    @require_roles("reviewer", "operator")
    @offers_blp.arguments(ReviewRequest)
    @offers_blp.response(201, ReviewOut)
    @offers_blp.doc(security=BEARER)
    def post(self, review, offer_id):
        """Review an offer in review: approve (publishes it) or request changes (offer.reviewed either way)"""
        viewer = _viewer()
        with transaction() as db:
            return offers.review_offer(db, offer_id, viewer, review)


@offers_blp.route("/offers/<string:offer_id>/history")
class OfferHistory(MethodView):
    @require_roles()
    @offers_blp.response(200, OfferHistoryOut)
    @offers_blp.doc(security=BEARER)
    def get(self, offer_id):
        """The audit trail of an offer: who did what, when (for its providers and the reviewers)"""
        viewer = _viewer()
        with transaction() as db:
            return {"items": offers.offer_history(db, offer_id, viewer)}


@offers_blp.route("/members/me/offers")
class MyOffers(MethodView):
    @require_roles("member")
    @offers_blp.arguments(PageArgs, location="query")
    @offers_blp.response(200, MyOffersPage)
    @offers_blp.doc(security=BEARER)
    def get(self, args):
        """The offers I provide, drafts and offers in review included, the last changed first"""
        with transaction() as db:
            total, mine = offers.offers_of(db, _member_id(), args["page"], args["per_page"])
            return paginate(total, mine, args)


@offers_blp.route("/reviews")
class ReviewQueue(MethodView):
    @require_roles("reviewer", "operator")
    @offers_blp.arguments(PageArgs, location="query")
    @offers_blp.response(200, ReviewQueuePage)
    @offers_blp.doc(security=BEARER)
    def get(self, args):
        """The reviewers' queue: offers in review, the longest waiting first, without my own"""
        viewer = _viewer()
        with transaction() as db:
            total, waiting = offers.review_queue(db, viewer, args["page"], args["per_page"])
            return paginate(total, waiting, args)


@offers_blp.route("/offers/<string:offer_id>/sessions")
class OfferSessions(MethodView):
    @require_roles("member")
    @offers_blp.idempotent
    @offers_blp.arguments(SessionRequest)
    @offers_blp.response(201, ProviderSessionOut)
    @offers_blp.doc(security=BEARER)
    def post(self, details, offer_id):
        """Schedule a session of my offer (it puts seats on sale: an Idempotency-Key makes a retry safe)"""
        with transaction() as db:
            return sessions.schedule_session(db, offer_id, _member_id(), details)


@offers_blp.route("/sessions/<string:session_id>")
class SessionById(MethodView):
    @offers_blp.response(200, SessionOut)
    @offers_blp.doc(security=OPTIONAL_BEARER)
    def get(self, session_id):
        """Read a session, without its meeting link (of an unpublished offer only by its providers and reviewers)"""
        viewer = _viewer()
        with transaction() as db:
            return sessions.visible_session(db, session_id, viewer)

    @require_roles("member")
    @offers_blp.arguments(SessionPatch(partial=True))
    @offers_blp.response(200, ProviderSessionOut)
    @offers_blp.doc(security=BEARER)
    def patch(self, changes, session_id):
        """Move a session of my offer or change its place, link or seats (session.rescheduled, session.scheduled);
        booking keeps every seat already booked"""
        with transaction() as db:
            return sessions.change_session(db, session_id, _member_id(), changes)


@offers_blp.route("/sessions/<string:session_id>/cancel")
class SessionCancellations(MethodView):
    @require_roles("member")
    @offers_blp.arguments(SessionCancellation)
    @offers_blp.response(200, ProviderSessionOut)
    @offers_blp.doc(security=BEARER)
    def post(self, body, session_id):
        """Cancel a session of my offer (session.cancelled): booking refunds every booking in full"""
        with transaction() as db:
            return sessions.cancel_session(db, session_id, _member_id(), body["reason"])
