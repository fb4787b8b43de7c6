"""Anonymised demand: no answer describes fewer than five members, and no two answers differ by such a group,
whatever the filters; a member counts once per quarter; demand.updated is coalesced."""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services import assessment
from services.assessment import demand
from services.assessment.domain import Framework, load_framework_file
from services.assessment.models import Assessment, DemandCell, Rating
from shared.events.declarations import DemandUpdated
from shared.events.envelope import parse_event
from shared.tables import outbox
from shared.testing import bearer

SERVICE = assessment.SERVICE  # the service under test, for the fixtures in conftest.py
FRAMEWORK = Framework(load_framework_file("2026.1"))
CODES = list(FRAMEWORK.competences)
QUARTERS = ("2026-Q1", "2026-Q2")
PATHS = ("junior_manager", "cluster_manager")
REGIONS = ("DE-BW", "DE-BY", "DE-HB")
FORMATS = ("online", "in_person")
FILTER_VALUES = {"quarter": QUARTERS, "career_path": PATHS, "region": REGIONS, "format": FORMATS,
                 "competence": ("INT-1", "STR-2", "QUA-3"), "area": ("INT", "GOV")}


def add_completed(db, member_id, quarter, path, region, fmt, rng) -> None:
    """A completed assessment counted into the demand cells, as complete_assessment does."""
    now = datetime.now(UTC)
    row = Assessment(id=str(uuid.uuid4()), member_id=member_id, career_path=path, framework_version="2026.1",
                     status="completed", created_at=now, updated_at=now, completed_at=now, quarter=quarter,
                     region=region, preferred_format=fmt, in_demand=False)
    db.add(row)
    ratings = {code: Rating(assessment_id=row.id, competence=code, current_level=rng.randint(0, 5),
                            future_importance=rng.randint(1, 5)) for code in CODES}
    db.add_all(ratings.values())
    db.flush()
    demand.count_in(db, row, FRAMEWORK, ratings)


@pytest.fixture
def population(runtime):
    """Members spread so that some groups reach five and others stay below."""
    rng = random.Random(8)
    with runtime.session_factory.begin() as db:
        for n in range(90):
            add_completed(db, f"member-{n}", rng.choice(QUARTERS), rng.choice(PATHS), rng.choice(REGIONS),
                          rng.choice(FORMATS), rng)
    with runtime.session_factory() as db:
        cells = db.scalars(select(DemandCell)).all()
        assert any(0 < c.members < 5 for c in cells) and any(c.members >= 5 for c in cells), "a test that can fail"
    return runtime


def rows(runtime, group_by, filters):
    with runtime.session_factory() as db:
        return demand.analyse(db, group_by, filters)


filters = st.dictionaries(st.sampled_from(list(FILTER_VALUES)), st.none(), max_size=3).flatmap(
    lambda names: st.fixed_dictionaries({name: st.sampled_from(FILTER_VALUES[name]) for name in names}))
group_bys = st.lists(st.sampled_from(demand.DIMENSIONS), min_size=1, max_size=3, unique=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters, st.sampled_from(list(FILTER_VALUES)), group_bys, st.data())
def test_no_answer_and_no_difference_of_two_answers_describes_fewer_than_five_members(
        population, base, extra_name, group_by, data):
    assume(extra_name not in base)  # the narrower question adds a filter to the wider one
    narrower = {**base, extra_name: data.draw(st.sampled_from(FILTER_VALUES[extra_name]))}

    wide, narrow = rows(population, group_by, base), rows(population, group_by, narrower)

    assert all(row["members"] >= 5 for row in wide + narrow)
    key = lambda row: tuple(row[name] for name in group_by)  # noqa: E731
    narrow_by_key = {key(row): row for row in narrow}
    for row in wide:
        difference = row["members"] - narrow_by_key.get(key(row), {"members": 0})["members"]
        assert difference == 0 or difference >= 5, (base, narrower, group_by, row)


def test_a_group_of_three_is_in_no_answer_even_as_the_difference_to_the_total(runtime):
    rng = random.Random(1)
    with runtime.session_factory.begin() as db:
        for n in range(5):
            add_completed(db, f"big-{n}", "2026-Q2", "cluster_manager", "DE-BW", "online", rng)
        for n in range(3):
            add_completed(db, f"small-{n}", "2026-Q2", "cluster_manager", "DE-HB", "online", rng)

    assert rows(runtime, ["region"], {"region": "DE-HB"}) == []
    [total] = rows(runtime, ["quarter"], {})
    [bremen_excluded] = rows(runtime, ["quarter"], {"region": "DE-BW"})
    assert total["members"] == bremen_excluded["members"] == 5
    assert total["gap_sum"] == bremen_excluded["gap_sum"]


def test_a_member_counts_once_per_quarter_with_their_latest_assessment(runtime, client):
    assessment_ids = []
    for _ in range(2):
        started = client.post("/api/v1/assessments", json={"career_path": "cluster_manager"},
                              headers=bearer("member-ada")).json["id"]
        client.patch(f"/api/v1/assessments/{started}", headers=bearer("member-ada"), json={"ratings": [
            {"competence": code, "current_level": 1, "future_importance": 4} for code in CODES]})
        assert client.post(f"/api/v1/assessments/{started}/complete", headers=bearer("member-ada")).status_code == 200
        assessment_ids.append(started)

    with runtime.session_factory() as db:
        cells = db.scalars(select(DemandCell).where(DemandCell.competence == "INT-1")).all()
        counted = db.scalars(select(Assessment.id).where(Assessment.in_demand.is_(True))).all()
    assert [cell.members for cell in cells] == [1]
    assert counted == [assessment_ids[-1]]


def test_demand_comes_as_csv_too_and_rejects_unknown_dimensions(population, client):
    response = client.get("/api/v1/demand?group_by=area,quarter&format=csv", headers=bearer("provider-1"))

    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert table and all(int(row["members"]) >= 5 for row in table)
    assert {row["quarter"] for row in table} <= set(QUARTERS)
    bad = client.get("/api/v1/demand?group_by=member_id", headers=bearer("provider-1"))
    assert bad.status_code == 422 and "group_by" in bad.json["errors"]
    assert client.get("/api/v1/demand").status_code == 401


def test_demand_updated_is_one_event_per_changed_quarter_with_only_groups_of_five(population):
    assert demand.announce_demand(population.session_factory) == len(QUARTERS)
    assert demand.announce_demand(population.session_factory) == 0

    with population.session_factory() as db:
        bodies = db.scalars(select(outbox.c.body).where(outbox.c.routing_key == "demand.updated")).all()
    events = [parse_event(body).data for body in bodies]
    assert all(isinstance(e, DemandUpdated) for e in events)
    assert sorted(e.quarter for e in events) == list(QUARTERS)
    assert all(c.members >= 5 for e in events for c in e.competences)
    assert any(e.competences for e in events)
    assert all("member-" not in body for body in bodies)


def test_cells_add_up_and_empty_again_on_each_database(runtime_on_each_database):
    runtime, rng = runtime_on_each_database, random.Random(3)
    with runtime.session_factory.begin() as db:
        for n in range(5):
            add_completed(db, f"member-{n}", "2026-Q1", "cluster_manager", "DE-BW", "online", rng)
    [row] = rows(runtime, ["competence"], {"competence": "INT-1"})
    assert row["members"] == 5

    def leaves(member_id):
        with runtime.session_factory.begin() as db:
            gone = db.scalars(select(Assessment).where(Assessment.member_id == member_id)).one()
            demand.count_out(db, gone, {r.competence: r for r in
                                        db.scalars(select(Rating).where(Rating.assessment_id == gone.id))})

    leaves("member-0")
    assert rows(runtime, ["competence"], {"competence": "INT-1"}) == [row], "one member's leaving shows nothing"
    with runtime.session_factory() as db:
        assert {cell.members for cell in db.scalars(select(DemandCell))} == {4}
    for n in range(1, 5):
        leaves(f"member-{n}")
    assert rows(runtime, ["competence"], {"competence": "INT-1"}) == []
    with runtime.session_factory() as db:
        assert {(cell.members, cell.published_members) for cell in db.scalars(select(DemandCell))} == {(0, 0)}


YEARS = iter(range(3000, 9999))  # each example its own quarter, so examples share the database but no group


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Six arrive, one answers again, one leaves: each of the last three alone must show nothing.
@example([("completes", n, "DE-BW") for n in range(6)] + [("completes", 0, "DE-BW"), ("leaves", 1, "DE-BW")])
@given(st.lists(st.tuples(st.sampled_from(("completes", "leaves")), st.integers(0, 7), st.sampled_from(REGIONS[:2])),
                min_size=1, max_size=40))
def test_no_answer_differs_from_an_earlier_one_by_fewer_than_five_members(runtime, steps):
    """Comparing the demand before and after a member completes (or leaves) must not tell how they answered."""
    quarter, rng = f"{next(YEARS)}-Q1", random.Random(5)

    def answer() -> dict:
        return {row["region"]: row for row in rows(runtime, ["quarter", "region"], {"quarter": quarter})}

    changed_since = {region: set() for region in REGIONS[:2]}  # members who changed a group since it last moved
    region_of: dict[str, str] = {}
    before = answer()
    for action, number, region in steps:
        member = f"{quarter}-member-{number}"
        with runtime.session_factory.begin() as db:
            if action == "completes":
                add_completed(db, member, quarter, "cluster_manager", region, "online", rng)
                touched = {region, region_of.get(member, region)}
                region_of[member] = region
            elif member in region_of:
                counted = db.scalars(select(Assessment).where(Assessment.member_id == member,
                                                              Assessment.in_demand.is_(True))).one()
                demand.count_out(db, counted, {r.competence: r for r in db.scalars(
                    select(Rating).where(Rating.assessment_id == counted.id))})
                touched = {region_of.pop(member)}
            else:
                continue
        for group in touched:
            changed_since[group].add(member)
        after = answer()
        for group in changed_since:
            if before.get(group) != after.get(group):
                assert len(changed_since[group]) >= 5, (group, before.get(group), after.get(group))
                changed_since[group] = set()
        assert all(row["members"] >= 5 for row in after.values())
        before = after
