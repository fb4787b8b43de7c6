"""Partner revenue reports and the what-if, from invoices and credit notes posted by billing's handlers."""

from __future__ import annotations

import codecs
import csv
import io
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services import billing
from services.billing.domain import ACADEMY, COMMUNITY_FUND, DEFAULT_POLICY, PROVIDER
from services.billing.reports import GROUPINGS, revenue_report, simulate
from shared.bus import Outcome
from shared.events.declarations import BookingCancelled, BookingConfirmed, OfferPublishedV2
from shared.testing import OFFER, WHEN, bearer, delivery, sample

SERVICE = billing.SERVICE
START, END = WHEN - timedelta(days=700), WHEN + timedelta(days=700)


def settle(consumer, *deliveries) -> None:
    assert [s.outcome for s in consumer.handle_batch(list(deliveries))] == [Outcome.ACK] * len(deliveries)


def book(consumer, price_cents: int, *, member_id: str = "member-1", cancel_refund: int | None = None) -> None:
    offer_id, booking_id = str(uuid.uuid4()), str(uuid.uuid4())
    offer = type(OFFER)(**{**OFFER.__dict__, "price_cents": price_cents})
    settle(consumer, delivery(sample(OfferPublishedV2, offer_id=offer_id, offer=offer, published_at=WHEN)))
    settle(consumer, delivery(sample(BookingConfirmed, booking_id=booking_id, offer_id=offer_id, member_id=member_id,
                                     session_id="session-1", confirmed_at=WHEN + timedelta(days=1))))
    if cancel_refund is not None:
        settle(consumer, delivery(sample(BookingCancelled, booking_id=booking_id, offer_id=offer_id,
                                         fee_cents=price_cents - cancel_refund, refund_cents=cancel_refund,
                                         reason="member")))


@pytest.fixture
def runtime(runtime_on_each_database):
    """Every test here on SQLite and on PostgreSQL."""
    return runtime_on_each_database


@pytest.fixture
def history(runtime, consumer):
    book(consumer, 12_345)
    book(consumer, 999, member_id="member-2", cancel_refund=600)
    book(consumer, 5_000, cancel_refund=5_000)
    return runtime


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_the_report_adds_up(history, group_by):
    with history.session_factory() as db:
        report = revenue_report(db, START, END, group_by)
    total = report["total"]
    assert total["gross_cents"] == 12_345 + 999 + 5_000
    assert total["refunds_cents"] == 600 + 5_000
    assert total["gross_cents"] - total["refunds_cents"] == total["net_revenue_cents"] + total["vat_cents"]
    assert total[ACADEMY + "_cents"] + total[COMMUNITY_FUND + "_cents"] + total[PROVIDER + "_cents"] \
        == total["net_revenue_cents"]
    assert sum(group["gross_cents"] for group in report["groups"]) == total["gross_cents"]


def test_the_what_if_moves_the_net_between_parties_and_changes_nothing(history):
    with history.session_factory() as db:
        before = revenue_report(db, START, END, "month")
        result = simulate(db, shares_bp={PROVIDER: 8_000, ACADEMY: 1_000, COMMUNITY_FUND: 1_000},
                          start=START, end=END, group_by="month")
        after = revenue_report(db, START, END, "month")
    assert before == after == result["actual"]
    simulated = result["simulated"]["total"]
    assert simulated["net_revenue_cents"] == before["total"]["net_revenue_cents"]
    assert sum(result["difference"].values()) == 0
    assert result["difference"][PROVIDER] > 0 > result["difference"][ACADEMY]


def test_bad_ranges_and_groupings_are_refused(history):
    with history.session_factory() as db:
        for start, end, group_by in [(END, START, "day"), (START, START + timedelta(days=6 * 366), "day"),
                                     (START, END, "planet")]:
            with pytest.raises(ValueError):
                revenue_report(db, start, end, group_by)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(group_by=st.sampled_from(GROUPINGS), days=st.integers(1, 1_400))
def test_the_what_if_under_the_actual_policy_is_the_actual_report(history, group_by, days):
    with history.session_factory() as db:
        result = simulate(db, shares_bp=dict(DEFAULT_POLICY.shares), start=START, end=START + timedelta(days=days),
                          group_by=group_by)
    assert result["simulated"]["groups"] == result["actual"]["groups"]
    assert result["difference"] == {PROVIDER: 0, ACADEMY: 0, COMMUNITY_FUND: 0}


PARTNER = bearer("partner-1", "partner")
RANGE = {"from": START.isoformat(), "to": END.isoformat()}


def test_partners_read_the_report_as_json_csv_and_png(history, client):
    report = client.get("/api/v1/reports/revenue", query_string={**RANGE, "group_by": "area"}, headers=PARTNER)
    assert report.status_code == 200, report.json
    assert report.json["total"]["gross_cents"] == 12_345 + 999 + 5_000

    table = client.get("/api/v1/reports/revenue", query_string={**RANGE, "format": "csv"}, headers=PARTNER)
    assert table.data.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(table.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[-1]["group"] == "total"
    assert int(rows[-1]["gross_cents"]) == report.json["total"]["gross_cents"]
    assert sum(int(row["net_revenue_cents"]) for row in rows[:-1]) == int(rows[-1]["net_revenue_cents"])

    chart = client.get("/api/v1/reports/revenue", query_string={**RANGE, "format": "png"}, headers=PARTNER)
    assert chart.mimetype == "image/png" and chart.data.startswith(b"\x89PNG\r\n\x1a\n")


def test_the_simulation_endpoint_answers_the_difference_per_party(history, client):
    body = {**RANGE, "group_by": "month",
            "policy": {"provider_percent": 80, "academy_percent": 10, "community_fund_percent": 10}}
    answer = client.post("/api/v1/reports/simulate", json=body, headers=PARTNER)
    assert answer.status_code == 200, answer.json
    assert answer.json["difference"]["provider"] > 0
    assert sum(answer.json["difference"].values()) == 0


@pytest.mark.parametrize("query", [
    {"from": END.isoformat(), "to": START.isoformat()},
    {"from": START.isoformat(), "to": (START + timedelta(days=6 * 366)).isoformat()},
    {**RANGE, "group_by": "planet"}, {**RANGE, "format": "xls"}, {"from": "yesterday", "to": END.isoformat()},
])
def test_bad_report_queries_are_422_problems(client, query):
    answer = client.get("/api/v1/reports/revenue", query_string=query, headers=PARTNER)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"


def test_shares_that_do_not_add_up_are_422(client):
    body = {**RANGE, "policy": {"provider_percent": 80, "academy_percent": 20, "community_fund_percent": 10}}
    answer = client.post("/api/v1/reports/simulate", json=body, headers=PARTNER)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"


@pytest.mark.parametrize("roles", [("member",), ("provider",)])
def test_only_partners_and_operators_read_reports(client, roles):
    headers = bearer("member-1", *roles)
    assert client.get("/api/v1/reports/revenue", query_string=RANGE, headers=headers).status_code == 403
    body = {**RANGE, "policy": {"provider_percent": 70, "academy_percent": 20, "community_fund_percent": 10}}
    assert client.post("/api/v1/reports/simulate", json=body, headers=headers).status_code == 403
