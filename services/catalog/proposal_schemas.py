"""Request and response bodies of proposals, their comments and votes."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.catalog.governance import Choice, ProposalKind
from services.catalog.proposals import POLICY_PARTIES
from services.catalog.schemas import Text
from shared.schemas import StrictSchema, page_schema


class PolicyTerms(StrictSchema):
    shares_bp = fields.Dict(
        keys=fields.String(validate=validate.OneOf(POLICY_PARTIES)),
        values=fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000)), required=True,
        metadata={"description": "provider, academy and community_fund in basis points, adding up to 10000"})
    effective_from = fields.AwareDateTime(required=True, metadata={"description": "in the future"})


class ReviewerTerms(StrictSchema):
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    action = fields.String(required=True, validate=validate.OneOf(("grant", "remove")))


class ProposalRequest(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf([kind.value for kind in ProposalKind]))
    title = Text(required=True, validate=validate.Length(min=3, max=200))
    reasons = Text(required=True, validate=validate.Length(min=1, max=10_000))
    policy = fields.Nested(PolicyTerms, metadata={"description": "for kind policy"})
    reviewer = fields.Nested(ReviewerTerms, metadata={"description": "for kind reviewer"})

    @validates_schema
    def _terms_of_the_kind(self, data: dict, **_kwargs) -> None:
        for kind, name in ((ProposalKind.POLICY, "policy"), (ProposalKind.REVIEWER, "reviewer")):
            if data.get("kind") == kind and name not in data:
                raise ValidationError(f"a {kind} proposal needs {name}", field_name=name)
            if data.get("kind") != kind and name in data:
                raise ValidationError(f"only a {kind} proposal has {name}", field_name=name)


class CommentRequest(StrictSchema):
    text = Text(required=True, validate=validate.Length(min=1, max=5000))


class VoteRequest(StrictSchema):
    choice = fields.String(required=True, validate=validate.OneOf([choice.value for choice in Choice]))


class CommentOut(Schema):
    id = fields.String()
    member_id = fields.String(allow_none=True)
    text = fields.String()
    created_at = fields.AwareDateTime()


class ProposalOut(Schema):
    id = fields.String()
    kind = fields.String()
    title = fields.String()
    reasons = fields.String()
    proposer_id = fields.String(allow_none=True)
    terms = fields.Dict(metadata={"description": "policy: shares_bp and effective_from; reviewer: member_id and "
                                                 "action; motion: empty"})
    phase = fields.String(metadata={"description": "discussion, voting or closed"})
    created_at = fields.AwareDateTime()
    voting_opens_at = fields.AwareDateTime()
    voting_closes_at = fields.AwareDateTime()
    rules = fields.Dict(metadata={"description": "quorum and majorities as fractions, fixed when proposed"})
    outcome = fields.String(allow_none=True, metadata={"description": "accepted or rejected, once closed"})
    result = fields.Dict(allow_none=True, metadata={"description": "counts only, once closed: yes, no, abstain, "
                                                                   "eligible, quorum_reached"})
    carried_out_at = fields.AwareDateTime(allow_none=True)
    carried_out = fields.Dict(allow_none=True)
    what_if = fields.Dict(allow_none=True, metadata={
        "description": "policies only, once billing has answered: from, to, and per party (provider, academy, "
                       "community_fund) the actual, simulated and difference in cents over the year before "
                       "the proposal"})
    my_vote = fields.String(allow_none=True, metadata={"description": "the caller's own choice (none without a "
                                                                      "token or vote)"})
    comments = fields.List(fields.Nested(CommentOut))


ProposalPage = page_schema(ProposalOut, "ProposalPage")
