"""Members' proposals, in the caller's transaction: propose, comment, vote, read; open and close votes on schedule."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from services.catalog import commands
from services.catalog.domain import with_role
from services.catalog.governance import (
    ELIGIBILITY_WINDOW,
    MAX_OPEN_PROPOSALS_PER_MEMBER,
    Choice,
    Phase,
    ProposalKind,
    Rules,
    latest_choices,
    phase_at,
    shares_sum_to_whole,
    tally,
)
from services.catalog.models import (
    Member,
    MemberBookingActivity,
    Offer,
    OfferProvider,
    Proposal,
    ProposalComment,
    ProposalVote,
)
from shared.config import InvalidSetting
from shared.consumer import at_batch_end
from shared.db import fetch_page
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.events.declarations import (
    PolicyProposed,
    ProposalAccepted,
    ProposalOpened,
    ProposalRejected,
    ProposalSimulated,
)
from shared.outbox import record_event

POLICY_PARTIES = ("provider", "academy", "community_fund")


@dataclass(frozen=True)
class GovernanceSettings:
    """How long discussion and voting last, and the rules new proposals get."""

    discussion: timedelta = timedelta(days=2)
    voting: timedelta = timedelta(days=14)
    rules: Rules = Rules()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GovernanceSettings:
        """PROPOSAL_DISCUSSION_SECONDS, PROPOSAL_VOTING_SECONDS, and PROPOSAL_QUORUM, PROPOSAL_MAJORITY,
        PROPOSAL_POLICY_MAJORITY as fractions ("1/10" or "0.1"); a bad value stops the start."""
        try:
            return cls(
                discussion=timedelta(seconds=int(env.get("PROPOSAL_DISCUSSION_SECONDS", 2 * 86_400))),
                voting=timedelta(seconds=int(env.get("PROPOSAL_VOTING_SECONDS", 14 * 86_400))),
                rules=Rules(quorum=Fraction(env.get("PROPOSAL_QUORUM", "1/10")),
                            simple_majority=Fraction(env.get("PROPOSAL_MAJORITY", "1/2")),
                            policy_majority=Fraction(env.get("PROPOSAL_POLICY_MAJORITY", "2/3"))),
            )
        except (ValueError, ZeroDivisionError) as error:
            raise InvalidSetting(f"proposal settings: {error}") from error


def settings_from_environment() -> GovernanceSettings:
    return GovernanceSettings.from_env(os.environ)


@dataclass(frozen=True)
class ProposalView:
    """A proposal as a member sees it: its phase, comments, counts once closed, and the viewer's own vote."""

    proposal: Proposal
    phase: Phase
    comments: list[ProposalComment]
    my_vote: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.proposal, name)


# --- who may propose and vote ------------------------------------------------------------------------------
def _eligible_query(now: datetime):
    cutoff = now - ELIGIBILITY_WINDOW
    booked = select(MemberBookingActivity.member_id).where(MemberBookingActivity.last_booked_at >= cutoff)
    offered = (select(OfferProvider.member_id).join(Offer, Offer.id == OfferProvider.offer_id)
               .where(Offer.published_at >= cutoff))
    return select(Member.id).where(Member.deleted_at.is_(None),
                                   or_(Member.id.in_(booked), Member.id.in_(offered)))


def eligible_member_ids(db: Session, now: datetime) -> list[str]:
    """Members with a booking or a published offer within two years."""
    return list(db.scalars(_eligible_query(now).order_by(Member.id)))


def is_eligible(db: Session, member_id: str, now: datetime) -> bool:
    return db.scalar(_eligible_query(now).where(Member.id == member_id)) is not None


def keep_booking(db: Session, member_id: str, booked_at: datetime) -> None:
    """Remember a member's latest booking (events may come in any order: the latest wins). In a consumer's batch
    the latest of each member is written once, at the batch's end, for all of them in one statement."""
    batched = _LATEST_BOOKINGS in db.info or at_batch_end(db, _write_the_batchs_latest)
    latest = db.info.setdefault(_LATEST_BOOKINGS, {}) if batched else {}
    latest[member_id] = max(booked_at, latest.get(member_id, booked_at))
    if not batched:
        _write_latest(db, latest)


_LATEST_BOOKINGS = "catalog_latest_bookings"


def _write_the_batchs_latest(db: Session) -> None:
    _write_latest(db, db.info.pop(_LATEST_BOOKINGS, {}))


def _write_latest(db: Session, latest: Mapping[str, datetime]) -> None:
    if not latest:
        return
    table = MemberBookingActivity.__table__
    statement = (postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
    later = statement.excluded.last_booked_at > table.c.last_booked_at
    # In the members' order, so that two workers writing some of the same members lock them in one order.
    db.execute(statement.on_conflict_do_update(
        index_elements=[table.c.member_id],
        set_={"last_booked_at": case((later, statement.excluded.last_booked_at), else_=table.c.last_booked_at)}),
        [{"member_id": member_id, "last_booked_at": latest[member_id]} for member_id in sorted(latest)])


def forget_member(db: Session, member_id: str) -> None:
    """A deleted member's votes go (closed proposals keep their counts), and their proposals and comments no longer
    name them. The member is no longer eligible, so a vote of theirs would count without them being counted."""
    db.execute(delete(ProposalVote).where(ProposalVote.member_id == member_id))
    db.execute(update(Proposal).where(Proposal.proposer_id == member_id).values(proposer_id=None)
               .execution_options(synchronize_session=False))
    db.execute(update(ProposalComment).where(ProposalComment.member_id == member_id).values(member_id=None)
               .execution_options(synchronize_session=False))


# --- proposing, commenting, voting -------------------------------------------------------------------------
def propose(db: Session, member_id: str, fields: dict[str, Any], settings: GovernanceSettings) -> ProposalView:
    """A new proposal by an eligible member, open for discussion now and for votes after the discussion."""
    now = datetime.now(UTC)
    if not is_eligible(db, member_id, now):
        raise Forbidden("only members with a booking or an offer within two years may propose")
    # The proposer's row lock makes the count of open proposals hold against simultaneous proposals.
    db.get(Member, member_id, with_for_update=True)
    open_count = db.scalar(select(func.count()).select_from(Proposal).where(
        Proposal.proposer_id == member_id, Proposal.closed_at.is_(None)))
    if open_count >= MAX_OPEN_PROPOSALS_PER_MEMBER:
        raise Conflict(f"you have {open_count} open proposals; at most {MAX_OPEN_PROPOSALS_PER_MEMBER} may be open "
                       "at a time")
    kind = ProposalKind(fields["kind"])
    terms = _checked_terms(db, kind, fields, member_id, now)
    rules = settings.rules
    proposal = Proposal(
        id=str(uuid.uuid4()), kind=kind.value, title=fields["title"], reasons=fields["reasons"],
        proposer_id=member_id, terms=terms, created_at=now,
        rules={"quorum": str(rules.quorum), "simple_majority": str(rules.simple_majority),
               "policy_majority": str(rules.policy_majority)},
        voting_opens_at=now + settings.discussion, voting_closes_at=now + settings.discussion + settings.voting,
    )
    db.add(proposal)
    db.flush()
    if kind is ProposalKind.POLICY:
        # Billing answers with the what-if (proposal.simulated), shown on the proposal once it arrives.
        record_event(db, PolicyProposed(proposal_id=proposal.id, shares_bp=terms["shares_bp"],
                                        effective_from=fields["policy"]["effective_from"], proposed_at=now))
    return _view(db, proposal, member_id, now)


def _checked_terms(db: Session, kind: ProposalKind, fields: dict[str, Any], member_id: str,
                   now: datetime) -> dict[str, Any]:
    if kind is ProposalKind.POLICY:
        policy = fields.get("policy")
        if policy is None:
            raise Unprocessable("a policy proposal names the shares and the date", errors={"policy": ["required"]})
        shares = policy["shares_bp"]
        errors = {}
        if set(shares) != set(POLICY_PARTIES) or not shares_sum_to_whole(shares):
            errors["policy.shares_bp"] = [f"{', '.join(POLICY_PARTIES)} in basis points must add up to 10000"]
        if policy["effective_from"] <= now:
            errors["policy.effective_from"] = ["a policy cannot take effect in the past"]
        if errors:
            raise Unprocessable("the proposed policy is not valid; see errors", errors=errors)
        return {"shares_bp": dict(shares), "effective_from": policy["effective_from"].isoformat()}
    if kind is ProposalKind.REVIEWER:
        reviewer = fields.get("reviewer")
        if reviewer is None:
            raise Unprocessable("a reviewer proposal names the member", errors={"reviewer": ["required"]})
        if reviewer["member_id"] == member_id:
            raise Unprocessable("you cannot propose yourself", errors={"reviewer.member_id": ["that is you"]})
        candidate = db.get(Member, reviewer["member_id"])
        if candidate is None or candidate.deleted_at is not None:
            raise Unprocessable("no such member", errors={"reviewer.member_id": ["no such member"]})
        is_reviewer = "reviewer" in candidate.roles
        if reviewer["action"] == "grant" and is_reviewer:
            raise Unprocessable("this member is a reviewer already", errors={"reviewer.action": ["already"]})
        if reviewer["action"] == "remove" and not is_reviewer:
            raise Unprocessable("this member is no reviewer", errors={"reviewer.action": ["not a reviewer"]})
        return {"member_id": reviewer["member_id"], "action": reviewer["action"]}
    return {}


def _proposal(db: Session, proposal_id: str, *, lock: bool = False) -> Proposal:
    proposal = db.get(Proposal, proposal_id, with_for_update=lock)
    if proposal is None:
        raise NotFound(f"proposal {proposal_id} not found")
    return proposal


def comment(db: Session, proposal_id: str, member_id: str, text: str) -> ProposalView:
    """Comments are taken until the vote closes."""
    now = datetime.now(UTC)
    proposal = _proposal(db, proposal_id)
    if _phase(proposal, now) is Phase.CLOSED:
        raise Conflict("the vote on this proposal has closed; comments are no longer taken")
    db.add(ProposalComment(id=str(uuid.uuid4()), proposal_id=proposal.id, member_id=member_id, text=text,
                           created_at=now))
    db.flush()
    return _view(db, proposal, member_id, now)


def vote(db: Session, proposal_id: str, member_id: str, choice: Choice) -> ProposalView:
    """Set the member's choice: once per member, changeable while the vote is open."""
    now = datetime.now(UTC)
    proposal = _proposal(db, proposal_id)
    phase = _phase(proposal, now)
    if phase is not Phase.VOTING:
        raise Conflict("voting has not opened yet" if phase is Phase.DISCUSSION else "voting has closed")
    if not is_eligible(db, member_id, now):
        raise Forbidden("only members with a booking or an offer within two years may vote")
    existing = db.get(ProposalVote, (proposal.id, member_id), with_for_update=True)
    if existing is None:
        db.add(ProposalVote(proposal_id=proposal.id, member_id=member_id, choice=choice.value, voted_at=now))
    else:
        existing.choice, existing.voted_at = choice.value, now
    db.flush()
    return _view(db, proposal, member_id, now)


def read(db: Session, proposal_id: str, viewer_id: str | None) -> ProposalView:
    return _view(db, _proposal(db, proposal_id), viewer_id, datetime.now(UTC))


def newest(db: Session, page: int, per_page: int, viewer_id: str | None) -> tuple[int, list[ProposalView]]:
    now = datetime.now(UTC)
    total, rows = fetch_page(db, select(Proposal).order_by(Proposal.created_at.desc(), Proposal.id), page, per_page)
    return total, [_view(db, proposal, viewer_id, now) for proposal in rows]


def _phase(proposal: Proposal, now: datetime) -> Phase:
    # Closed by the job, or past its window: a vote arriving after the window is refused even if the job is late.
    if proposal.closed_at is not None:
        return Phase.CLOSED
    return phase_at(now, proposal.voting_opens_at, proposal.voting_closes_at)


def _view(db: Session, proposal: Proposal, viewer_id: str | None, now: datetime) -> ProposalView:
    comments = list(db.scalars(select(ProposalComment).where(ProposalComment.proposal_id == proposal.id)
                               .order_by(ProposalComment.created_at, ProposalComment.id)))
    my_vote = db.scalar(select(ProposalVote.choice).where(
        ProposalVote.proposal_id == proposal.id, ProposalVote.member_id == viewer_id)) if viewer_id else None
    return ProposalView(proposal=proposal, phase=_phase(proposal, now), comments=comments, my_vote=my_vote)


# --- the worker's schedule: open votes, close windows ------------------------------------------------------
PROPOSALS_PER_TRANSACTION = 20


def open_and_close_due_votes(session_factory: sessionmaker) -> int:
    """Announce every vote that opened and close every window that ended (however long ago); returns how many.
    Safe with two workers at once: each proposal is handled under its row lock, and only once."""
    done = 0
    while True:
        with session_factory.begin() as db:
            now = datetime.now(UTC)
            opening = db.scalars(select(Proposal).where(
                Proposal.opening_announced_at.is_(None), Proposal.voting_opens_at <= now,
            ).order_by(Proposal.voting_opens_at).limit(PROPOSALS_PER_TRANSACTION).with_for_update(skip_locked=True)
            ).all()
            for proposal in opening:
                _announce_opening(db, proposal, now)
            closing = db.scalars(select(Proposal).where(
                Proposal.closed_at.is_(None), Proposal.voting_closes_at <= now,
            ).order_by(Proposal.voting_closes_at).limit(PROPOSALS_PER_TRANSACTION).with_for_update(skip_locked=True)
            ).all()
            for proposal in closing:
                _close(db, proposal, now)
        done += len(opening) + len(closing)
        if len(opening) < PROPOSALS_PER_TRANSACTION and len(closing) < PROPOSALS_PER_TRANSACTION:
            return done


def _announce_opening(db: Session, proposal: Proposal, now: datetime) -> None:
    proposal.opening_announced_at = now
    record_event(db, ProposalOpened(
        proposal_id=proposal.id, kind=proposal.kind, title=proposal.title,
        voting_closes_at=proposal.voting_closes_at, member_ids=eligible_member_ids(db, now), opened_at=now))


def _close(db: Session, proposal: Proposal, now: datetime) -> None:
    votes = db.execute(select(ProposalVote.member_id, ProposalVote.choice)
                       .where(ProposalVote.proposal_id == proposal.id).order_by(ProposalVote.member_id)).all()
    choices = latest_choices((member_id, Choice(choice)) for member_id, choice in votes)
    # Eligibility is counted as the window closes: the quorum is a share of who may vote then.
    eligible = len(eligible_member_ids(db, now))
    rules = Rules(**{name: Fraction(value) for name, value in proposal.rules.items()})
    kind = ProposalKind(proposal.kind)
    result = tally(choices, eligible, kind, rules)
    proposal.closed_at = now
    proposal.outcome = "accepted" if result.accepted else "rejected"
    proposal.result = {"yes": result.yes, "no": result.no, "abstain": result.abstain, "eligible": result.eligible,
                       "quorum_reached": result.quorum_reached}
    counts = {"yes": result.yes, "no": result.no, "abstain": result.abstain, "eligible": result.eligible}
    common = dict(proposal_id=proposal.id, kind=proposal.kind, title=proposal.title, voter_ids=sorted(choices),
                  closed_at=now, **counts)
    if not result.accepted:
        record_event(db, ProposalRejected(quorum_reached=result.quorum_reached, **common))
        return
    terms = proposal.terms
    if kind is ProposalKind.POLICY:
        record_event(db, ProposalAccepted(shares_bp=terms["shares_bp"],
                                          effective_from=datetime.fromisoformat(terms["effective_from"]), **common))
        return  # billing adds the version and answers with revenue_policy.adopted
    if kind is ProposalKind.REVIEWER:
        _change_reviewer(db, proposal, terms["member_id"], terms["action"], now)
        record_event(db, ProposalAccepted(member_id=terms["member_id"], action=terms["action"], **common))
        return
    record_event(db, ProposalAccepted(**common))


def _change_reviewer(db: Session, proposal: Proposal, member_id: str, action: str, now: datetime) -> None:
    """Carried out in the closing transaction, since the catalog owns roles; every session of the member ends,
    as when an operator grants a role, so new tokens carry the change."""
    member = db.get(Member, member_id, with_for_update=True)
    if member is None or member.deleted_at is not None:
        proposal.carried_out = {"skipped": "the member deleted their account"}
    else:
        member.roles = (with_role(member.roles, "reviewer") if action == "grant"
                        else [role for role in member.roles if role != "reviewer"])
        commands.revoke_sessions(db, member.id)
        proposal.carried_out = {"roles": list(member.roles)}
    proposal.carried_out_at = now


def policy_adopted(db: Session, proposal_id: str, version: int, effective_from: datetime,
                   adopted_at: datetime) -> None:
    """Billing's answer: the proposal is carried out (a repeated answer changes nothing)."""
    proposal = db.get(Proposal, proposal_id, with_for_update=True)
    if proposal is None or proposal.carried_out_at is not None:
        return
    proposal.carried_out_at = adopted_at
    proposal.carried_out = {"policy_version": version, "effective_from": effective_from.isoformat()}


def keep_what_if(db: Session, simulated: ProposalSimulated) -> None:
    """Billing's what-if for a policy proposal; a later computation replaces an earlier one."""
    proposal = db.get(Proposal, simulated.proposal_id, with_for_update=True)
    if proposal is None or proposal.kind != ProposalKind.POLICY.value:
        return
    if proposal.what_if is not None and proposal.what_if["simulated_at"] >= simulated.simulated_at.isoformat():
        return
    proposal.what_if = {
        "from": simulated.period_start.isoformat(), "to": simulated.period_end.isoformat(),
        "actual": dict(simulated.actual_cents), "simulated": dict(simulated.simulated_cents),
        "difference": {party: simulated.simulated_cents.get(party, 0) - cents
                       for party, cents in simulated.actual_cents.items()},
        "simulated_at": simulated.simulated_at.isoformat(),
    }
