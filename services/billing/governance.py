"""Billing's part in members' self-governance: a proposed policy's what-if, and an accepted policy proposal becoming
a revenue-share policy version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.billing import reports
from services.billing.domain import PARTIES
from services.billing.models import RevenuePolicy
from services.billing.policies import add_policy
from shared.events import ParsedEvent
from shared.events.declarations import PolicyProposed, ProposalAccepted, ProposalSimulated, RevenuePolicyAdopted
from shared.outbox import record_event

WHAT_IF_PERIOD = timedelta(days=365)


def policy_proposed(event: ParsedEvent[PolicyProposed], db: Session) -> None:
    """Answers a policy proposal with what the year before it would have paid each party under the proposed shares.
    Computing it again (a redelivery) gives the same figures for the same year, so the answer is safe to repeat."""
    proposed = event.data
    end = proposed.proposed_at
    start = end - WHAT_IF_PERIOD
    what_if = reports.simulate(db, shares_bp=dict(proposed.shares_bp), start=start, end=end, group_by="month")
    actual, simulated = what_if["actual"]["total"], what_if["simulated"]["total"]
    record_event(db, ProposalSimulated(
        proposal_id=proposed.proposal_id, period_start=start, period_end=end,
        actual_cents={party: actual[party + "_cents"] for party in PARTIES},
        simulated_cents={party: simulated[party + "_cents"] for party in PARTIES},
        simulated_at=datetime.now(UTC)))


def effective_from(proposed: datetime, now: datetime) -> datetime:
    """The proposal's date, or, if it passed while the vote ran, the next full second: invoices already issued
    keep the policy they were issued under."""
    return max(proposed, now.replace(microsecond=0) + timedelta(seconds=1))


def proposal_accepted(event: ParsedEvent[ProposalAccepted], db: Session) -> None:
    """Adds the version once per proposal (the row names the proposal in created_by) and answers the catalog."""
    accepted = event.data
    if accepted.kind != "policy" or accepted.shares_bp is None or accepted.effective_from is None:
        return
    if db.scalar(select(RevenuePolicy.version).where(RevenuePolicy.created_by == accepted.proposal_id)) is not None:
        return
    now = datetime.now(UTC)
    row = add_policy(db, shares_bp=dict(accepted.shares_bp),
                     effective_from=effective_from(accepted.effective_from, now), created_by=accepted.proposal_id)
    record_event(db, RevenuePolicyAdopted(proposal_id=accepted.proposal_id, version=row.version,
                                          effective_from=row.effective_from, adopted_at=now))
