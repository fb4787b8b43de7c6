"""Catalog's API on a real database: members and tokens, drafts and their sessions, submission and its events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.catalog import SERVICE, commands
from services.catalog.models import Offer
from shared.config import MissingSettings
from shared.events import parse_event
from shared.tables import outbox
from shared.testing import make_runtime
from tests.integration.member_helpers import confirmation_token
from tests.integration.member_helpers import register as confirmed_registration
from tests.integration.offer_helpers import REVIEWER_ID, approve, know_framework, publish

PASSWORD = "correct horse battery"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def runtime(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path)
    know_framework(runtime)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime):
    return SERVICE.create_app(runtime).test_client()


def register(client, email: str, display_name: str = "Ann Muster", password: str = PASSWORD):
    return confirmed_registration(client, email, password, display_name)


def sign_in(client, email: str, password: str = PASSWORD) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['access_token']}"}


@pytest.fixture
def ann(client) -> dict[str, str]:
    assert register(client, "ann@cluster.example").status_code == 200
    return sign_in(client, "ann@cluster.example")


@pytest.fixture
def ben(client) -> dict[str, str]:
    assert register(client, "ben@cluster.example", "Ben Beispiel").status_code == 200
    return sign_in(client, "ben@cluster.example")


def offer_body(**overrides) -> dict:
    return {
        "title": "Funding international cluster cooperation",
        "summary": "EU programmes for clusters and their partners.",
        "description": "Which programmes pay for what, and how to apply with partners abroad.",
        "format": "hybrid",
        "competences": ["GOV-3", "INT-1"],
        "level": 3,
        "languages": ["en"],
        "price_cents": 14_900,
        **overrides,
    }


def session_body(days_ahead: int = 30, **overrides) -> dict:
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days_ahead)
    return {
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=3)).isoformat(),
        "seats": {"online": 20, "in_person": 12},
        "location": "Leipzig, Haus der Cluster",
        **overrides,
    }


def create_offer(client, headers, **overrides) -> dict:
    answer = client.post("/api/v1/offers", json=offer_body(**overrides), headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def schedule(client, headers, offer_id: str, **overrides) -> dict:
    answer = client.post(f"/api/v1/offers/{offer_id}/sessions", json=session_body(**overrides), headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def published_offer(client, headers, seats: dict | None = None, **overrides) -> dict:
    offer = create_offer(client, headers, **overrides)
    schedule(client, headers, offer["id"], **({"seats": seats} if seats else {}))
    return publish(client, headers, offer["id"])


def outbox_events(runtime, *routing_keys: str):
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.routing_key, outbox.c.body).order_by(outbox.c.seq)).all()
    return [parse_event(row.body) for row in rows if not routing_keys or row.routing_key in routing_keys]


def assert_problem(answer, status: int, *fields: str) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    assert answer.json["status"] == status
    for field in fields:
        assert field in answer.json.get("errors", {}), answer.json


# --- members and tokens -----------------------------------------------------------------------------------
def test_registration_answers_the_member_without_credentials_and_announces_it(client, runtime):
    answer = register(client, "Ann.Muster@Cluster.example", " Ann Muster ")

    assert answer.status_code == 200
    member = answer.json
    assert set(member) == {"id", "email", "display_name", "roles", "created_at", "organisation", "region", "languages",
                           "preferred_language", "career_stage", "preferred_formats", "time_zone", "postal_address",
                           "updated_at"}
    assert member["email"] == "ann.muster@cluster.example"
    assert member["display_name"] == "Ann Muster"
    assert member["roles"] == ["member"]
    [event] = outbox_events(runtime, "member.registered")
    assert event.subject == member["id"]
    assert event.data.email == "ann.muster@cluster.example"


def test_an_address_registers_once_whatever_its_case(client, runtime):
    assert register(client, "ann@cluster.example").status_code == 200

    again = client.post("/api/v1/members", json={"email": "ANN@Cluster.Example", "password": PASSWORD,
                                                 "display_name": "Someone Else"})
    new = client.post("/api/v1/members", json={"email": "ben@cluster.example", "password": PASSWORD,
                                               "display_name": "Ben"})

    # The same answer as for a new address; the mail to Ann's address says it has an account.
    assert again.status_code == new.status_code == 202 and again.json == new.json
    assert len(outbox_events(runtime, "member.registered")) == 2
    assert confirmation_token(client, "ann@cluster.example") is None
    assert confirmation_token(client, "ben@cluster.example") is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "ann@cluster.example", "password": "too short", "display_name": "Ann"}, "password"),
        ({"email": "not-an-address", "password": PASSWORD, "display_name": "Ann"}, "email"),
        ({"email": "ann@cluster.example", "password": PASSWORD, "display_name": "   "}, "display_name"),
        ({"email": "ann@cluster.example", "password": PASSWORD, "display_name": "Ann", "roles": ["operator"]}, "roles"),
    ],
)
def test_registration_refuses_bad_fields_and_self_chosen_roles(client, body, field):
    assert_problem(client.post("/api/v1/members", json=body), 422, field)


def test_a_token_opens_the_own_member_record(client):
    member = register(client, "ann@cluster.example").json
    headers = sign_in(client, "ANN@cluster.example")

    me = client.get("/api/v1/members/me", headers=headers)

    assert me.status_code == 200
    assert me.json == member


def test_the_token_answer_says_how_to_use_it(client):
    register(client, "ann@cluster.example")

    answer = client.post("/api/v1/auth/token", json={"email": "ann@cluster.example", "password": PASSWORD})

    assert answer.json["token_type"] == "Bearer"
    assert answer.json["expires_in"] > 0


def test_a_wrong_password_and_an_unknown_address_are_refused_alike(client):
    register(client, "ann@cluster.example")

    wrong_password = client.post("/api/v1/auth/token", json={"email": "ann@cluster.example", "password": "guess" * 3})
    unknown = client.post("/api/v1/auth/token", json={"email": "nobody@cluster.example", "password": PASSWORD})

    assert_problem(wrong_password, 401)
    assert_problem(unknown, 401)
    assert wrong_password.json["detail"] == unknown.json["detail"]
    assert "access_token" not in wrong_password.json


def test_my_record_needs_a_valid_token(client):
    assert_problem(client.get("/api/v1/members/me"), 401)
    assert_problem(client.get("/api/v1/members/me", headers={"Authorization": "Bearer not.a.token"}), 401)


def test_registration_gives_the_member_role_only_and_operators_are_granted_later(client, runtime):
    registered = register(client, "OPS@academy.example", "Olga Operator").json
    assert registered["roles"] == ["member"]

    with runtime.session_factory.begin() as db:
        commands.grant_role(db, "ops@ACADEMY.example", "operator")

    assert client.get("/api/v1/members/me", headers=sign_in(client, "ops@academy.example")).json["roles"] == [
        "member", "operator"
    ]


def test_catalog_does_not_start_without_the_signing_key(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, JWT_PRIVATE_KEY="")
    try:
        with pytest.raises(MissingSettings) as missing:
            SERVICE.create_app(runtime)
    finally:
        runtime.close()
    assert missing.value.names == ["JWT_PRIVATE_KEY"]


# --- offers: bad input never stored, never a 500 ----------------------------------------------------------
@pytest.mark.parametrize("field", ["status", "provider_id", "id", "price", "published_at"])
def test_an_offer_with_a_field_the_client_may_not_set_is_refused(client, runtime, ann, field):
    answer = client.post("/api/v1/offers", json={**offer_body(), field: "published"}, headers=ann)

    assert_problem(answer, 422, field)
    with runtime.session_factory() as db:
        assert db.scalars(select(Offer)).all() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price_cents", "14900"),
        ("price_cents", 149.5),
        ("price_cents", True),
        ("price_cents", -1),
        ("format", "webinar"),
        ("level", "advanced"),
        ("level", 0),
        ("level", 6),
        ("level", "3"),
        ("languages", ["eng"]),
        ("languages", []),
        ("languages", ["de", "de"]),
        ("vat_rate", 16),
        ("fee_tiers", [{"days_before": -1, "fee_percent": 50}]),
        ("fee_tiers", [{"days_before": 3, "fee_percent": 101}]),
        ("minimum_participants", -1),
        ("currency", "euro"),
        ("competences", []),
        ("competences", "INT-1"),
        ("competences", [f"competence-{n}" for n in range(21)]),
        ("competences", ["INT-1", "int-1"]),
        ("competences", ["INT-1", "NO-SUCH-CODE"]),
        ("title", 42),
        ("title", None),
        ("description", {"text": "nested"}),
    ],
)
def test_an_offer_with_a_wrong_value_is_refused_by_field(client, ann, field, value):
    assert_problem(client.post("/api/v1/offers", json=offer_body(**{field: value}), headers=ann), 422, field)


def test_a_body_that_is_not_json_is_a_bad_request(client, ann):
    answer = client.post(
        "/api/v1/offers", data='{"title": "half', headers={**ann, "Content-Type": "application/json"}
    )

    assert_problem(answer, 400)


def test_a_body_that_is_not_an_object_is_refused(client, ann):
    assert_problem(client.post("/api/v1/offers", json=["title"], headers=ann), 422)


def test_proposing_an_offer_needs_a_member_token(client):
    assert_problem(client.post("/api/v1/offers", json=offer_body()), 401)


# --- offers: drafts, sessions and submission --------------------------------------------------------------
def test_a_new_offer_is_a_draft_of_its_provider(client, ann):
    me = client.get("/api/v1/members/me", headers=ann).json

    offer = create_offer(client, ann)

    assert offer["status"] == "draft"
    assert offer["provider_id"] == me["id"]
    assert offer["currency"] == "EUR"
    assert offer["published_at"] is None
    assert offer["sessions"] == []
    assert offer["competences"] == ["GOV-3", "INT-1"]
    assert offer["providers"] == [{"member_id": me["id"], "share_percent": 100, "accepted_at": offer["created_at"]}]
    assert (offer["level"], offer["languages"], offer["vat_rate"]) == (3, ["en"], 19)
    assert offer["cancellation_policy"] == "standard"
    assert offer["fee_tiers"] == [{"days_before": 14, "fee_percent": 50}, {"days_before": 3, "fee_percent": 100}]
    assert (offer["minimum_participants"], offer["maximum_participants"], offer["decision_days_before"]) == (0, None, 7)


def test_drafts_are_seen_only_by_their_provider(client, ann, ben):
    draft = create_offer(client, ann)
    schedule_id = schedule(client, ann, draft["id"])["id"]

    assert client.get("/api/v1/offers").json["total"] == 0
    assert client.get(f"/api/v1/offers/{draft['id']}", headers=ann).status_code == 200
    assert_problem(client.get(f"/api/v1/offers/{draft['id']}"), 404)
    assert_problem(client.get(f"/api/v1/offers/{draft['id']}", headers=ben), 404)
    assert_problem(client.get(f"/api/v1/sessions/{schedule_id}", headers=ben), 404)
    assert client.get(f"/api/v1/sessions/{schedule_id}", headers=ann).status_code == 200


def test_an_offer_without_a_session_cannot_be_submitted(client, runtime, ann):
    draft = create_offer(client, ann)

    assert_problem(client.post(f"/api/v1/offers/{draft['id']}/submit", headers=ann), 422, "sessions")
    assert outbox_events(runtime, "offer.published", "session.scheduled") == []


def test_an_approval_publishes_the_submitted_offer_with_its_sessions_in_one_go(client, runtime, ann):
    draft = create_offer(client, ann)
    first = schedule(client, ann, draft["id"], days_ahead=30)
    second = schedule(client, ann, draft["id"], days_ahead=60, seats={"online": 25})

    submitted = client.post(f"/api/v1/offers/{draft['id']}/submit", headers=ann)
    assert submitted.json["status"] == "in_review"
    assert outbox_events(runtime, "offer.published", "session.scheduled") == []
    publish_answer = approve(client, draft["id"])

    assert publish_answer["decision"] == "approve"
    offer = client.get(f"/api/v1/offers/{draft['id']}").json
    assert offer["status"] == "published"
    assert offer["published_at"] is not None
    events = outbox_events(runtime, "offer.published", "session.scheduled")
    assert [(event.event_type.name, event.event_type.version) for event in events] == [
        ("offer.published", 2), ("offer.published", 1), ("session.scheduled", 1), ("session.scheduled", 1)]
    v2, v1, *session_events = events
    assert v2.subject == v1.subject == draft["id"]
    assert v2.data.offer.providers[0].member_id == draft["provider_id"]
    assert (v2.data.offer.price_cents, v2.data.offer.vat_rate, v2.data.offer.level) == (14_900, 19, 3)
    assert v2.data.offer.competences == ["GOV-3", "INT-1"]
    assert v2.data.offer.areas == ["GOV", "INT"]
    assert [(tier.days_before, tier.fee_percent) for tier in v2.data.offer.fee_tiers] == [(14, 50), (3, 100)]
    assert (v1.data.provider_id, v1.data.level, v1.data.language, v1.data.topic) == (
        draft["provider_id"], "3", "en", "GOV")
    assert {event.subject for event in session_events} == {first["id"], second["id"]}
    by_id = {event.data.session_id: event.data for event in session_events}
    assert by_id[first["id"]].seats == {"online": 20, "in_person": 12}
    assert by_id[first["id"]].location == "Leipzig, Haus der Cluster"
    assert by_id[second["id"]].seats == {"online": 25, "in_person": 0}
    assert by_id[first["id"]].starts_at == datetime.fromisoformat(first["starts_at"])
    [reviewed] = outbox_events(runtime, "offer.reviewed")
    assert (reviewed.data.decision, reviewed.data.reviewer_id) == ("approve", REVIEWER_ID)


def test_a_published_offer_is_listed_and_cannot_be_submitted_again(client, runtime, ann):
    offer = published_offer(client, ann)

    listed = client.get("/api/v1/offers").json
    again = client.post(f"/api/v1/offers/{offer['id']}/submit", headers=ann)

    assert [item["id"] for item in listed["items"]] == [offer["id"]]
    assert listed["total"] == 1
    assert_problem(again, 409, "allowed_actions")
    assert again.json["errors"]["allowed_actions"] == ["withdraw"]
    assert len(outbox_events(runtime, "offer.published")) == 2  # v2 and v1 beside it


def test_a_session_added_to_a_published_offer_is_announced_at_once(client, runtime, ann):
    offer = published_offer(client, ann)

    added = schedule(client, ann, offer["id"], days_ahead=90)

    announced = outbox_events(runtime, "session.scheduled")
    assert [event.subject for event in announced][-1] == added["id"]
    assert len(announced) == 2
    assert client.get(f"/api/v1/sessions/{added['id']}").status_code == 200


def test_the_draft_can_be_changed_field_by_field(client, ann):
    draft = create_offer(client, ann)

    answer = client.patch(
        f"/api/v1/offers/{draft['id']}", json={"price_cents": 9_900, "competences": ["STR-1"]}, headers=ann
    )

    assert answer.status_code == 200
    assert answer.json["price_cents"] == 9_900
    assert answer.json["competences"] == ["STR-1"]
    assert answer.json["title"] == draft["title"]
    assert answer.json["status"] == "draft"


@pytest.mark.parametrize("field", ["status", "provider_id", "price"])
def test_a_change_naming_a_field_the_client_may_not_set_is_refused(client, ann, field):
    draft = create_offer(client, ann)

    answer = client.patch(f"/api/v1/offers/{draft['id']}", json={field: "published"}, headers=ann)

    assert_problem(answer, 422, field)
    assert client.get(f"/api/v1/offers/{draft['id']}", headers=ann).json["status"] == "draft"


def test_a_format_change_that_no_longer_fits_the_sessions_is_refused(client, ann):
    draft = create_offer(client, ann)
    schedule(client, ann, draft["id"])

    answer = client.patch(f"/api/v1/offers/{draft['id']}", json={"format": "online"}, headers=ann)

    assert_problem(answer, 422, "format")


def test_a_published_offer_changes_only_in_what_needs_no_new_review(client, runtime, ann):
    offer = published_offer(client, ann)

    assert_problem(client.patch(f"/api/v1/offers/{offer['id']}", json={"competences": ["STR-1"]}, headers=ann), 409,
                   "competences")
    assert_problem(client.patch(f"/api/v1/offers/{offer['id']}", json={"level": 5}, headers=ann), 409, "level")
    changed = client.patch(f"/api/v1/offers/{offer['id']}", json={"price_cents": 9_900, "vat_rate": 7}, headers=ann)

    assert changed.status_code == 200, changed.json
    [updated] = outbox_events(runtime, "offer.updated")
    assert (updated.data.offer.price_cents, updated.data.offer.vat_rate) == (9_900, 7)
    assert client.get(f"/api/v1/offers/{offer['id']}").json["competences"] == ["GOV-3", "INT-1"]


def test_another_member_cannot_change_submit_or_schedule_someone_elses_offer(client, runtime, ann, ben):
    draft = create_offer(client, ann)
    schedule(client, ann, draft["id"])
    published = published_offer(client, ann, title="Moderating cluster working groups")

    for offer_id in (draft["id"], published["id"]):
        patched = client.patch(f"/api/v1/offers/{offer_id}", json={"price_cents": 1}, headers=ben)
        submitted = client.post(f"/api/v1/offers/{offer_id}/submit", headers=ben)
        scheduled = client.post(f"/api/v1/offers/{offer_id}/sessions", json=session_body(), headers=ben)
        for answer in (patched, submitted, scheduled):
            assert answer.status_code in (403, 404)
            assert answer.mimetype == PROBLEM_JSON
    assert client.get(f"/api/v1/offers/{draft['id']}", headers=ann).json["status"] == "draft"
    assert client.get(f"/api/v1/offers/{draft['id']}", headers=ann).json["price_cents"] == 14_900
    assert len(outbox_events(runtime, "offer.published")) == 2


@pytest.mark.parametrize(
    ("offer_format", "overrides", "field"),
    [
        ("online", {"seats": {"online": 10, "in_person": 5}}, "seats"),
        ("in_person", {"seats": {"online": 10}}, "seats"),
        ("hybrid", {"seats": {"online": 0, "in_person": 0}}, "seats"),
        ("in_person", {"seats": {"in_person": 5}, "location": None}, "location"),
        ("hybrid", {"seats": {"online": 5, "seats": 3}}, "seats"),
        ("hybrid", {"seats": {"online": "5"}}, "seats"),
        ("hybrid", {"starts_at": "2031-03-01T10:00:00"}, "starts_at"),
        ("hybrid", {"starts_at": "2020-03-01T10:00:00+00:00"}, "starts_at"),
        ("hybrid", {"ends_at": "2020-03-01T10:00:00+00:00"}, "ends_at"),
        ("hybrid", {"starts_at": "9999-12-31T23:00:00-05:00"}, "starts_at"),
        ("hybrid", {"link": "javascript:alert(1)"}, "link"),
        ("hybrid", {"offer_id": "someone-elses"}, "offer_id"),
    ],
)
def test_a_session_that_breaks_a_rule_is_refused_by_field(client, ann, offer_format, overrides, field):
    draft = create_offer(client, ann, format=offer_format)
    body = {name: value for name, value in session_body(**overrides).items() if value is not None}

    answer = client.post(f"/api/v1/offers/{draft['id']}/sessions", json=body, headers=ann)

    assert_problem(answer, 422, field)


def test_session_times_are_answered_in_utc(client, ann):
    draft = create_offer(client, ann)
    day = f"{datetime.now(UTC).year + 1}-03-01"  # ahead, but within the two years a session may be scheduled

    scheduled = schedule(client, ann, draft["id"], starts_at=f"{day}T10:00:00+02:00", ends_at=f"{day}T13:00:00+02:00")

    assert scheduled["starts_at"] == f"{day}T08:00:00+00:00"
    assert client.get(f"/api/v1/sessions/{scheduled['id']}", headers=ann).json["ends_at"] == f"{day}T11:00:00+00:00"


def test_unknown_offers_and_sessions_are_not_found(client, ann):
    assert_problem(client.get("/api/v1/offers/no-such-offer"), 404)
    assert_problem(client.post("/api/v1/offers/no-such-offer/submit", headers=ann), 404)
    assert_problem(client.get("/api/v1/sessions/no-such-session"), 404)


# --- search -----------------------------------------------------------------------------------------------
def test_search_filters_published_offers_and_counts_them(client, ann):
    funding = published_offer(client, ann)
    moderation = published_offer(
        client,
        ann,
        title="Moderating working groups",
        summary="Facilitation for cluster meetings.",
        description="Methods for working groups.",
        format="online",
        seats={"online": 30},
        competences=["STR-2"],
        level=1,
        languages=["de", "en"],
    )
    create_offer(client, ann, title="Unpublished funding draft")

    def ids(query: str) -> list[str]:
        answer = client.get(f"/api/v1/offers?{query}")
        assert answer.status_code == 200, answer.json
        return sorted(item["id"] for item in answer.json["items"])

    assert ids("") == sorted([funding["id"], moderation["id"]])
    assert ids("q=FUNDING") == [funding["id"]]
    assert ids("q=100%25") == []
    assert ids("competence=str-2") == [moderation["id"]]
    assert ids("format=online&language=de&level=1") == [moderation["id"]]
    assert ids("language=en") == sorted([funding["id"], moderation["id"]])
    assert ids("format=hybrid&level=1") == []
    assert ids("q=&format=&competence=") == sorted([funding["id"], moderation["id"]])
    first_page = client.get("/api/v1/offers?per_page=1&page=2").json
    assert first_page["total"] == 2
    assert first_page["page"] == 2
    assert len(first_page["items"]) == 1


@pytest.mark.parametrize("query", ["format=zoom", "level=guru", "level=6", "per_page=1000", "page=0", "language=EN"])
def test_search_with_a_wrong_filter_is_refused(client, query):
    assert_problem(client.get(f"/api/v1/offers?{query}"), 422)


# --- gateway ----------------------------------------------------------------------------------------------
def test_embedded_catalog_leaves_the_other_services_paths_to_the_dispatcher(client):
    assert client.get("/api/v1/bookings").status_code == 404


def test_distributed_catalog_forwards_the_other_services_paths(tmp_path):
    runtime = make_runtime(SERVICE, tmp_path, BOOKING_URL="http://127.0.0.1:9")
    try:
        gateway = SERVICE.create_app(runtime).test_client()
        answer = gateway.get("/api/v1/bookings")
    finally:
        runtime.close()

    assert_problem(answer, 503)
    assert "booking" in answer.json["detail"]
