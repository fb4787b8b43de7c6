"""Catalog's HTTP API: register and sign in, propose, schedule, submit and find offers."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView

from services.catalog import commands
from services.catalog.schemas import (
    MemberOut,
    OfferDetailOut,
    OfferPage,
    OfferPatch,
    OfferRequest,
    OfferSearchArgs,
    Registration,
    SessionOut,
    SessionRequest,
    TokenOut,
    TokenRequest,
)
from shared.auth import current_principal, issue_token, require_roles
from shared.schemas import paginate
from shared.web import Blueprint, transaction

BEARER = [{"bearer": []}]
OPTIONAL_BEARER = [{}, {"bearer": []}]

members_blp = Blueprint("members", __name__, url_prefix="/api/v1", description="Members and their tokens")
offers_blp = Blueprint("offers", __name__, url_prefix="/api/v1", description="Offers and their sessions")


def _viewer_id() -> str | None:
    """The caller's member id if a token came along; public offers can be read without one.

    A token that came along and is invalid or expired is a 401 here as everywhere (`shared.web`), never the
    anonymous view: a client with a broken token should learn it.
    """
    if "Authorization" not in request.headers:
        return None
    return current_principal().member_id


@members_blp.route("/members")
class Members(MethodView):
    @members_blp.arguments(Registration)
    @members_blp.response(201, MemberOut)
    def post(self, body):
        """Register as a member"""
        with transaction() as db:
            member = commands.register_member(db, body["email"], body["password"], body["display_name"])
            return member


@members_blp.route("/members/me")
class MyMember(MethodView):
    @require_roles()
    @members_blp.response(200, MemberOut)
    @members_blp.doc(security=BEARER)
    def get(self):
        """Read my member record"""
        with transaction() as db:
            return commands.member_by_id(db, current_principal().member_id)


@members_blp.route("/auth/token")
class Tokens(MethodView):
    @members_blp.arguments(TokenRequest)
    @members_blp.response(200, TokenOut)
    def post(self, body):
        """Exchange e-mail address and password for a bearer token"""
        with transaction() as db:
            member = commands.authenticate(db, body["email"], body["password"])
            token = issue_token(current_app.config["JWT_PRIVATE_KEY"], member.id, member.roles)
        return {"access_token": token}


@offers_blp.route("/offers")
class Offers(MethodView):
    @offers_blp.arguments(OfferSearchArgs, location="query")
    @offers_blp.response(200, OfferPage)
    def get(self, args):
        """Find published offers"""
        filters = {name: value for name, value in args.items() if name not in ("page", "per_page")}
        with transaction() as db:
            total, offers = commands.search_offers(db, filters, args["page"], args["per_page"])
            return paginate(total, offers, args)

    @require_roles("member")
    @offers_blp.arguments(OfferRequest)
    @offers_blp.response(201, OfferDetailOut)
    @offers_blp.doc(security=BEARER)
    def post(self, body):
        """Propose an offer; it starts as my draft"""
        with transaction() as db:
            offer = commands.create_offer(db, current_principal().member_id, body)
            return offer


@offers_blp.route("/offers/<string:offer_id>")
class OfferById(MethodView):
    @offers_blp.response(200, OfferDetailOut)
    @offers_blp.doc(security=OPTIONAL_BEARER)
    def get(self, offer_id):
        """Read an offer with its sessions (a draft only by its provider)"""
        viewer_id = _viewer_id()
        with transaction() as db:
            return commands.visible_offer(db, offer_id, viewer_id)

    @require_roles("member")
    @offers_blp.arguments(OfferPatch(partial=True))
    @offers_blp.response(200, OfferDetailOut)
    @offers_blp.doc(security=BEARER)
    def patch(self, changes, offer_id):
        """Change my draft offer"""
        with transaction() as db:
            offer = commands.update_offer(db, offer_id, current_principal().member_id, changes)
            return offer


@offers_blp.route("/offers/<string:offer_id>/sessions")
class OfferSessions(MethodView):
    @require_roles("member")
    @offers_blp.arguments(SessionRequest)
    @offers_blp.response(201, SessionOut)
    @offers_blp.doc(security=BEARER)
    def post(self, details, offer_id):
        """Schedule a session of my offer"""
        with transaction() as db:
            scheduled = commands.schedule_session(db, offer_id, current_principal().member_id, details)
            return scheduled


@offers_blp.route("/offers/<string:offer_id>/submit")
class OfferSubmission(MethodView):
    @require_roles("member")
    @offers_blp.response(200, OfferDetailOut)
    @offers_blp.doc(security=BEARER)
    def post(self, offer_id):
        """Submit my draft offer; for now this publishes it with its sessions"""
        with transaction() as db:
            offer = commands.submit_offer(db, offer_id, current_principal().member_id)
            return offer


@offers_blp.route("/sessions/<string:session_id>")
class SessionById(MethodView):
    @offers_blp.response(200, SessionOut)
    @offers_blp.doc(security=OPTIONAL_BEARER)
    def get(self, session_id):
        """Read a session (of a draft offer only by its provider)"""
        viewer_id = _viewer_id()
        with transaction() as db:
            return commands.visible_session(db, session_id, viewer_id)
