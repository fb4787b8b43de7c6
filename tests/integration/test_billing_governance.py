"""Billing carries out accepted policy proposals: one policy version per proposal, never in the past, answered
with revenue_policy.adopted; other kinds change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services import billing
from services.billing.models import RevenuePolicy
from shared.bus import Outcome
from shared.events import parse_event
from shared.events.declarations import ProposalAccepted
from shared.tables import outbox
from shared.testing import delivery, sample

SERVICE = billing.SERVICE  # the service under test, for the fixtures in conftest.py
SHARES = {"provider": 8000, "academy": 1200, "community_fund": 800}


def handled(consumer, *events) -> None:
    assert [s.outcome for s in consumer.handle_batch([delivery(event) for event in events])] == \
        [Outcome.ACK] * len(events)


def adopted(runtime):
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.routing_key, outbox.c.body).order_by(outbox.c.seq)).all()
    return [parse_event(row.body).data for row in rows if row.routing_key == "revenue_policy.adopted"]


def versions_of(runtime, proposal_id: str) -> list[RevenuePolicy]:
    with runtime.session_factory() as db:
        return list(db.scalars(select(RevenuePolicy).where(RevenuePolicy.created_by == proposal_id)))


def test_an_accepted_policy_becomes_a_version_once(runtime, consumer):
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    accepted = sample(ProposalAccepted, proposal_id="proposal-7", shares_bp=SHARES, effective_from=when)
    handled(consumer, accepted)
    handled(consumer, sample(ProposalAccepted, proposal_id="proposal-7", shares_bp=SHARES, effective_from=when))
    [row] = versions_of(runtime, "proposal-7")
    assert (row.provider_bp, row.academy_bp, row.community_fund_bp) == (8000, 1200, 800)
    assert row.effective_from == when
    [answer] = adopted(runtime)
    assert (answer.proposal_id, answer.version, answer.effective_from) == ("proposal-7", row.version, when)


def test_a_date_passed_during_the_vote_takes_effect_from_acceptance(runtime, consumer):
    before = datetime.now(UTC)
    handled(consumer, sample(ProposalAccepted, proposal_id="proposal-8", shares_bp=SHARES,
                             effective_from=before - timedelta(days=1)))
    [row] = versions_of(runtime, "proposal-8")
    assert before < row.effective_from <= datetime.now(UTC) + timedelta(seconds=1)


def test_other_kinds_change_no_policy(runtime, consumer):
    handled(consumer, sample(ProposalAccepted, proposal_id="proposal-9", kind="reviewer", shares_bp=None,
                             effective_from=None, member_id="member-2", action="grant"))
    assert versions_of(runtime, "proposal-9") == [] and adopted(runtime) == []
