"""Billing answers a policy proposal with its what-if over the year before, and carries out accepted policy
proposals: one policy version per proposal, never in the past, answered with revenue_policy.adopted; other kinds
change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services import billing
from services.billing.models import RevenuePolicy
from shared.bus import Outcome
from shared.events import parse_event
from shared.events.declarations import BookingConfirmed, OfferPublishedV2, PolicyProposed, ProposalAccepted
from shared.tables import outbox
from shared.testing import OFFER, delivery, sample

SERVICE = billing.SERVICE  # the service under test, for the fixtures in conftest.py
SHARES = {"provider": 8000, "academy": 1200, "community_fund": 800}


def handled(consumer, *events) -> None:
    assert [s.outcome for s in consumer.handle_batch([delivery(event) for event in events])] == \
        [Outcome.ACK] * len(events)


def published(runtime, routing_key: str) -> list:
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.routing_key, outbox.c.body).order_by(outbox.c.seq)).all()
    return [parse_event(row.body).data for row in rows if row.routing_key == routing_key]


def adopted(runtime):
    return published(runtime, "revenue_policy.adopted")


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


def booked(consumer, price_cents: int, booked_at: datetime) -> None:
    offer = type(OFFER)(**{**OFFER.__dict__, "price_cents": price_cents, "vat_rate": 0})
    handled(consumer, sample(OfferPublishedV2, offer_id=f"offer-{price_cents}", offer=offer,
                             published_at=booked_at - timedelta(days=1)))
    handled(consumer, sample(BookingConfirmed, booking_id=f"booking-{price_cents}", offer_id=f"offer-{price_cents}",
                             member_id="member-1", confirmed_at=booked_at))


def test_a_proposed_policy_is_answered_with_the_year_before_under_both_policies(runtime, consumer):
    now = datetime.now(UTC)
    booked(consumer, 10_000, now - timedelta(days=30))
    booked(consumer, 20_000, now - timedelta(days=400))  # more than a year before: not counted
    handled(consumer, sample(PolicyProposed, proposal_id="proposal-3", shares_bp=SHARES, proposed_at=now,
                             effective_from=now + timedelta(days=30)))
    [answer] = published(runtime, "proposal.simulated")
    assert answer.proposal_id == "proposal-3"
    assert (answer.period_start, answer.period_end) == (now - timedelta(days=365), now)
    assert sum(answer.actual_cents.values()) == sum(answer.simulated_cents.values()) == 10_000
    assert answer.simulated_cents == {"provider": 8_000, "academy": 1_200, "community_fund": 800}
    assert answer.actual_cents != answer.simulated_cents  # the default policy is not the proposed one
