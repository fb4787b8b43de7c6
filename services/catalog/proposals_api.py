"""Catalog's HTTP API for members' self-governance: proposals, their comments and votes."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask.views import MethodView

from services.catalog import proposals
from services.catalog.governance import Choice
from services.catalog.proposal_schemas import (
    CommentRequest,
    ProposalOut,
    ProposalPage,
    ProposalRequest,
    VoteRequest,
)
from shared.auth import current_principal, require_roles
from shared.schemas import PageArgs, paginate
from shared.web import Blueprint, transaction

BEARER = [{"bearer": []}]
OPTIONAL_BEARER = [{}, {"bearer": []}]

proposals_blp = Blueprint("proposals", __name__, url_prefix="/api/v1",
                          description="Members' proposals on the revenue policy, reviewers and motions, and votes")


def register_governance(app: Flask) -> None:
    """Durations and rules of proposals, read once so a bad setting stops the start."""
    app.config["GOVERNANCE"] = proposals.settings_from_environment()


def _viewer_id() -> str | None:
    return current_principal().member_id if "Authorization" in request.headers else None


@proposals_blp.route("/proposals")
class Proposals(MethodView):
    @proposals_blp.arguments(PageArgs, location="query")
    @proposals_blp.response(200, ProposalPage)
    @proposals_blp.doc(security=OPTIONAL_BEARER)
    def get(self, args):
        """List proposals, the newest first"""
        viewer_id = _viewer_id()
        with transaction() as db:
            total, views = proposals.newest(db, args["page"], args["per_page"], viewer_id)
            return paginate(total, views, args)

    @require_roles("member")
    @proposals_blp.idempotent
    @proposals_blp.arguments(ProposalRequest)
    @proposals_blp.response(201, ProposalOut)
    @proposals_blp.doc(security=BEARER)
    def post(self, body):
        """Propose a policy, a reviewer or a motion (members with a booking or offer within two years; at most
        three open at a time)"""
        with transaction() as db:
            return proposals.propose(db, current_principal().member_id, body, current_app.config["GOVERNANCE"])


@proposals_blp.route("/proposals/<string:proposal_id>")
class ProposalById(MethodView):
    @proposals_blp.response(200, ProposalOut)
    @proposals_blp.doc(security=OPTIONAL_BEARER)
    def get(self, proposal_id):
        """Read a proposal with its comments, the counts once closed and my own vote"""
        viewer_id = _viewer_id()
        with transaction() as db:
            return proposals.read(db, proposal_id, viewer_id)


@proposals_blp.route("/proposals/<string:proposal_id>/comments")
class ProposalComments(MethodView):
    @require_roles("member")
    @proposals_blp.arguments(CommentRequest)
    @proposals_blp.response(201, ProposalOut)
    @proposals_blp.doc(security=BEARER)
    def post(self, body, proposal_id):
        """Comment on a proposal until its vote closes"""
        with transaction() as db:
            return proposals.comment(db, proposal_id, current_principal().member_id, body["text"])


@proposals_blp.route("/proposals/<string:proposal_id>/vote")
class ProposalVote(MethodView):
    @require_roles("member")
    @proposals_blp.arguments(VoteRequest)
    @proposals_blp.response(200, ProposalOut)
    @proposals_blp.doc(security=BEARER)
    def put(self, body, proposal_id):
        """Vote yes, no or abstain while the vote is open; voting again changes my vote"""
        with transaction() as db:
            return proposals.vote(db, proposal_id, current_principal().member_id, Choice(body["choice"]))
