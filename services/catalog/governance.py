"""The rules of members' self-governance: proposal kinds, the phases of a proposal and the tally of its votes."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

# A member with a booking or an offer within this time may propose and vote.
ELIGIBILITY_WINDOW = timedelta(days=730)
MAX_OPEN_PROPOSALS_PER_MEMBER = 3


class ProposalKind(enum.StrEnum):
    POLICY = "policy"  # a new revenue-share policy version from an effective date
    REVIEWER = "reviewer"  # name a member reviewer, or remove one
    MOTION = "motion"  # free text, binding nobody but telling what the members want


class Choice(enum.StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class Phase(enum.StrEnum):
    DISCUSSION = "discussion"  # comments only
    VOTING = "voting"
    CLOSED = "closed"


@dataclass(frozen=True)
class Rules:
    """Quorum and majorities as fractions (settings): who must take part and what share of yes votes wins."""

    quorum: Fraction = Fraction(1, 10)
    simple_majority: Fraction = Fraction(1, 2)  # more than this share of yes among yes and no
    policy_majority: Fraction = Fraction(2, 3)  # at least this share of yes among yes and no


@dataclass(frozen=True)
class Tally:
    yes: int
    no: int
    abstain: int
    eligible: int
    quorum_reached: bool
    accepted: bool


def phase_at(now: datetime, voting_opens_at: datetime, voting_closes_at: datetime) -> Phase:
    if now < voting_opens_at:
        return Phase.DISCUSSION
    if now < voting_closes_at:
        return Phase.VOTING
    return Phase.CLOSED


def latest_choices(votes: Iterable[tuple[str, Choice]]) -> dict[str, Choice]:
    """Each voter's last choice, from their votes in the order given: a changed vote counts once, as changed."""
    return {voter: choice for voter, choice in votes}


def tally(choices: Mapping[str, Choice], eligible: int, kind: ProposalKind, rules: Rules) -> Tally:
    """Counts, and whether the proposal is accepted: enough eligible members took part (abstaining counts as taking
    part) and the yes votes reach the kind's majority among yes and no. Policies need the larger majority."""
    yes = sum(1 for choice in choices.values() if choice is Choice.YES)
    no = sum(1 for choice in choices.values() if choice is Choice.NO)
    abstain = len(choices) - yes - no
    quorum_reached = eligible > 0 and Fraction(len(choices), eligible) >= rules.quorum
    decided = yes + no
    if decided == 0:
        majority = False
    elif kind is ProposalKind.POLICY:
        majority = Fraction(yes, decided) >= rules.policy_majority
    else:
        majority = Fraction(yes, decided) > rules.simple_majority
    return Tally(yes=yes, no=no, abstain=abstain, eligible=eligible, quorum_reached=quorum_reached,
                 accepted=quorum_reached and majority)


def shares_sum_to_whole(shares_bp: Mapping[str, int]) -> bool:
    """A policy's parties' shares in basis points make exactly 100 %, none negative."""
    return all(share >= 0 for share in shares_bp.values()) and sum(shares_bp.values()) == 10_000
