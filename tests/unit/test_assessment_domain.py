"""Assessment's rules: gaps, weighting and ranking of training needs, and which offers may be recommended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.assessment.domain import (
    Framework,
    OfferFacts,
    SessionFacts,
    bookable,
    gap,
    levels_closed,
    load_framework_file,
    needs_by_area,
    reasons,
    recommend,
    training_needs,
)

FRAMEWORK = Framework(load_framework_file("2026.1"))
CODES = list(FRAMEWORK.competences)
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def all_at(level: int, importance: int = 3, **overrides: tuple[int, int]) -> dict[str, tuple[int, int]]:
    return {code: overrides.get(code.replace("-", "_"), (level, importance)) for code in CODES}


def test_the_gap_is_target_minus_current_and_never_negative():
    assert [gap(4, current) for current in range(6)] == [4, 3, 2, 1, 0, 0]


def test_a_gap_in_international_cooperation_outranks_the_same_gap_elsewhere():
    ratings = all_at(5, INT_1=(2, 3), STR_1=(2, 3))

    needs = training_needs(FRAMEWORK, "senior_manager", ratings)

    by_code = {need.competence: need for need in needs}
    assert by_code["INT-1"].gap == 2 and by_code["STR-1"].gap == 3  # senior targets: INT 4, STR 5
    assert by_code["INT-1"].weighted_gap == 3.0 and by_code["STR-1"].weighted_gap == 3.0
    assert [n.competence for n in needs[:2]] == ["STR-1", "INT-1"], "equal weighted gaps: the larger gap first"


def test_importance_in_three_years_scales_the_priority():
    ratings = all_at(5, NET_1=(1, 5), NET_2=(1, 1))

    needs = training_needs(FRAMEWORK, "cluster_manager", ratings)

    assert [(n.competence, n.priority) for n in needs[:2]] == [("NET-1", 5.0), ("NET-2", 1.0)]


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(1, 5)), min_size=len(CODES), max_size=len(CODES)),
       st.sampled_from(list(FRAMEWORK.career_paths)))
def test_needs_are_ranked_by_priority_and_weighted_by_their_area(answers, path):
    needs = training_needs(FRAMEWORK, path, dict(zip(CODES, answers, strict=True)))

    priorities = [need.priority for need in needs]
    assert priorities == sorted(priorities, reverse=True)
    for need in needs:
        assert need.gap == max(0, need.target - need.current)
        assert need.weighted_gap == round(need.gap * FRAMEWORK.weights[need.area], 3)
    areas = needs_by_area(FRAMEWORK, needs)
    assert sum(area.gap for area in areas) == sum(need.gap for need in needs)
    assert [a.priority for a in areas] == sorted((a.priority for a in areas), reverse=True)


def test_an_offer_closes_levels_from_where_the_member_stands_up_to_its_own_level_and_the_target():
    [need] = [n for n in training_needs(FRAMEWORK, "international_manager", all_at(5, INT_1=(1, 3)))
              if n.competence == "INT-1"]

    assert [levels_closed(offer_level, need) for offer_level in range(1, 6)] == [0, 1, 2, 3, 4]


def offer(offer_id="o-1", *, competences=("INT-1",), level=4, fmt="online", languages=("en",), withdrawn=False):
    return OfferFacts(offer_id, f"Offer {offer_id}", fmt, list(languages), list(competences), level, withdrawn)


def session(session_id="s-1", *, days=10, free=3, cancelled=False, announced=True):
    return SessionFacts(session_id, NOW + timedelta(days=days), cancelled,
                        {"online": free} if announced else None, {"online": 10})


def test_a_recommendation_says_in_words_which_gap_it_closes_and_by_how_much():
    needs = training_needs(FRAMEWORK, "international_manager", all_at(5, INT_1=(2, 3)))

    [found] = recommend(needs, [(offer(level=4), [session()])], now=NOW)

    assert found.closes == {"INT-1": 2}
    by_code = {n.competence: n for n in needs}
    assert reasons(FRAMEWORK, found, by_code, "en") == [
        "closes your gap in International partner search by 2 levels (you: 2, target: 5)"]
    assert reasons(FRAMEWORK, found, by_code, "de") == [
        "schließt Ihre Lücke in Internationale Partnersuche um 2 Stufen (Sie: 2, Ziel: 5)"]


def test_offers_outside_the_members_languages_or_formats_are_not_recommended():
    needs = training_needs(FRAMEWORK, "international_manager", all_at(1))
    offers = [(offer("german", languages=["de"]), [session()]), (offer("in-person", fmt="in_person"), [session()]),
              (offer("hybrid", fmt="hybrid"), [session()])]

    found = recommend(needs, offers, now=NOW, languages=["en"], formats=["online"])

    assert [r.offer.offer_id for r in found] == ["hybrid"]


def test_an_offer_below_where_the_member_stands_is_not_recommended():
    needs = training_needs(FRAMEWORK, "international_manager", all_at(3))

    assert recommend(needs, [(offer(level=3), [session()])], now=NOW) == []


sessions = st.builds(
    lambda i, days, free, cancelled, announced: session(f"s-{i}", days=days, free=free, cancelled=cancelled,
                                                        announced=announced),
    st.integers(0, 10_000), st.integers(-30, 60), st.integers(0, 3), st.booleans(), st.booleans())
offers = st.builds(
    lambda i, codes, level, withdrawn: offer(f"o-{i}", competences=codes, level=level, withdrawn=withdrawn),
    st.integers(0, 10_000), st.lists(st.sampled_from(CODES), min_size=1, max_size=4, unique=True),
    st.integers(1, 5), st.booleans())


@given(st.lists(st.tuples(offers, st.lists(sessions, max_size=4)), max_size=8),
       st.lists(st.tuples(st.integers(0, 5), st.integers(1, 5)), min_size=len(CODES), max_size=len(CODES)))
def test_recommendations_never_include_full_past_cancelled_or_withdrawn_sessions(candidates, answers):
    needs = training_needs(FRAMEWORK, "senior_manager", dict(zip(CODES, answers, strict=True)))

    found = recommend(needs, candidates, now=NOW, limit=100)

    for recommendation in found:
        assert not recommendation.offer.withdrawn
        assert recommendation.sessions
        for s in recommendation.sessions:
            assert s.starts_at > NOW and not s.cancelled
            assert any(free > 0 for free in (s.free_seats if s.free_seats is not None else s.capacity).values())
        assert all(levels > 0 for levels in recommendation.closes.values())
    assert {r.offer.offer_id for r in found} == {
        o.offer_id for o, ss in candidates
        if not o.withdrawn and any(bookable(s, NOW) for s in ss)
        and any(levels_closed(o.level, n) > 0 for n in needs if n.competence in o.competences)}
