"""The tally of a proposal's votes against a plain model: quorum, simple and two-thirds majorities, changed votes."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from services.catalog.governance import (
    Choice,
    ProposalKind,
    Rules,
    latest_choices,
    shares_sum_to_whole,
    tally,
)

voters = st.sampled_from([f"m{number}" for number in range(12)])
votes = st.lists(st.tuples(voters, st.sampled_from(list(Choice))), max_size=40)
rules = st.builds(Rules, quorum=st.fractions(0, 1), simple_majority=st.just(Fraction(1, 2)),
                  policy_majority=st.sampled_from([Fraction(1, 2), Fraction(2, 3), Fraction(3, 4)]))


def plain_result(votes: list[tuple[str, Choice]], eligible: int, kind: ProposalKind, rules: Rules) -> bool:
    """Replays the votes one by one, as a ballot box where a new vote replaces the voter's earlier one."""
    box: dict[str, str] = {}
    for voter, choice in votes:
        box.pop(voter, None)
        box[voter] = choice.value
    taking_part = len(box)
    yes = list(box.values()).count("yes")
    no = list(box.values()).count("no")
    if eligible == 0 or taking_part * rules.quorum.denominator < rules.quorum.numerator * eligible:
        return False
    if yes + no == 0:
        return False
    if kind is ProposalKind.POLICY:
        return yes * rules.policy_majority.denominator >= rules.policy_majority.numerator * (yes + no)
    return 2 * yes > yes + no


@given(votes, st.integers(0, 30), st.sampled_from(list(ProposalKind)), rules)
def test_tally_matches_a_plain_ballot_box(votes, extra_eligible, kind, rules):
    choices = latest_choices(votes)
    eligible = len(choices) + extra_eligible
    result = tally(choices, eligible, kind, rules)
    assert result.yes + result.no + result.abstain == len(choices)
    assert result.accepted == plain_result(votes, eligible, kind, rules)


@given(votes)
def test_a_changed_vote_counts_once_as_last_given(votes):
    choices = latest_choices(votes)
    for voter, choice in choices.items():
        assert [given for who, given in votes if who == voter][-1] is choice


def test_defaults_ten_percent_quorum_and_two_thirds_for_policies():
    rules = Rules()
    two_to_one = {"a": Choice.YES, "b": Choice.YES, "c": Choice.NO}
    assert tally(two_to_one, 30, ProposalKind.POLICY, rules).accepted
    assert not tally(two_to_one, 31, ProposalKind.POLICY, rules).quorum_reached
    narrow = {"a": Choice.YES, "b": Choice.YES, "c": Choice.NO, "d": Choice.NO, "e": Choice.YES}
    assert not tally(narrow, 10, ProposalKind.POLICY, rules).accepted
    assert tally(narrow, 10, ProposalKind.MOTION, rules).accepted
    assert not tally({"a": Choice.YES, "b": Choice.NO}, 2, ProposalKind.REVIEWER, rules).accepted


def test_shares_must_make_exactly_one_hundred_percent():
    assert shares_sum_to_whole({"provider": 8000, "academy": 1500, "community_fund": 500})
    assert not shares_sum_to_whole({"provider": 8000, "academy": 1500, "community_fund": 400})
    assert not shares_sum_to_whole({"provider": 10500, "academy": -500, "community_fund": 0})
