"""Bad input never breaks a service: a sweep over every write operation the services document.

The operations come from the services' own OpenAPI documents, so a new endpoint is swept without anyone
remembering to add it here. Requests go through the embedded gateway, which also shows that each public path
reaches the service that documents it.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.test import Client

from academy.embedded import GatewayDispatcher
from academy.registry import load_all
from services.assessment import commands as assessment_commands
from services.billing.commands import invoices_of
from services.catalog import ratings, topic_requests
from services.catalog.models import Proposal
from services.catalog.offers import create_offer
from services.notify.commands import messages_of
from shared.consumer import EventConsumer
from shared.events.declarations import (
    AttendanceRecorded,
    Attendee,
    BookingConfirmed,
    MemberRegistered,
    OfferPublished,
    SessionScheduled,
)
from shared.testing import bearer, delivery, make_runtime, sample
from shared.web import PROBLEM_JSON

WRITE_METHODS = ("post", "put", "patch")
ALL_METHODS = ("get", "put", "post", "delete", "patch")
MEMBER_ID = "m-1"
MEMBER = bearer(MEMBER_ID, "member")
UNKNOWN_FIELD = "zz_unknown"
TWO_MEGABYTES = 2 * 1024 * 1024
# A value of the wrong JSON type for each documented type; marshmallow must refuse each, not coerce it.
WRONG_VALUE_FOR = {
    "string": {"not": "a string"},
    "integer": "not a number",
    "number": "not a number",
    "boolean": {"not": "a boolean"},
    "array": "not a list",
    "object": "not an object",
}


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str  # as documented, with {placeholders}
    spec: dict  # the operation object
    document: dict  # the whole OpenAPI document, for $refs

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} ({self.service})"

    @property
    def has_path_parameters(self) -> bool:
        return "{" in self.path

    @property
    def needs_a_token(self) -> bool:
        return any(requirement for requirement in self.spec.get("security", []))

    @property
    def path_parameters(self) -> set[str]:
        return set(re.findall(r"\{([^}]+)\}", self.path))

    def url(self, ids: dict[str, str] | None = None) -> str:
        """The path with each parameter filled from `ids`, or with a random id where `ids` has none."""
        return re.sub(r"\{([^}]+)\}", lambda match: (ids or {}).get(match.group(1)) or str(uuid.uuid4()), self.path)

    def json_body_schema(self) -> dict | None:
        content = (self.spec.get("requestBody") or {}).get("content", {})
        if "application/json" not in content:
            return None
        return self.resolve(content["application/json"].get("schema", {}))

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            node = self.document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.resolve(schema["allOf"][0])
        return schema


class Recorder:
    """Wraps a service's WSGI app and notes each request it answers, to see where the gateway sent it."""

    def __init__(self, name: str, app, answered: list[str]):
        self.name, self.app, self.answered = name, app, answered

    def __call__(self, environ, start_response):
        self.answered.append(self.name)
        return self.app(environ, start_response)


class Academy:
    def __init__(self, apps: dict, real_ids: dict[str, str]):
        self.answered: list[str] = []
        self.real_ids = real_ids  # path parameter -> an object of the sweeping member that exists
        recorded = {name: Recorder(name, app, self.answered) for name, app in apps.items()}
        self.client = Client(GatewayDispatcher(recorded))
        self.documents = {name: app.test_client().get("/api/v1/openapi.json").get_json() for name, app in apps.items()}

    def send(self, method: str, url: str, **kwargs):
        """The response and the name of the service that answered it."""
        self.answered.clear()
        response = self.client.open(url, method=method.upper(), **kwargs)
        assert len(self.answered) == 1, f"{method.upper()} {url} reached {self.answered}"
        return response, self.answered[0]

    def operations(self, methods=ALL_METHODS) -> list[Operation]:
        return [
            Operation(service, method, path, item[method], document)
            for service, document in self.documents.items()
            for path, item in document["paths"].items()
            for method in methods
            if method in item
        ]

    def operations_with_json_bodies(self) -> list[Operation]:
        return [op for op in self.operations(WRITE_METHODS) if op.json_body_schema() is not None]


@pytest.fixture(scope="module")
def academy(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("academy")
    definitions = load_all()
    runtimes = {name: make_runtime(definition, data_dir / name) for name, definition in definitions.items()}
    apps = {name: definition.create_app(runtimes[name]) for name, definition in definitions.items()}
    yield Academy(apps, objects_of_the_sweeping_member(runtimes))
    for runtime in runtimes.values():
        runtime.close()


def objects_of_the_sweeping_member(runtimes: dict) -> dict[str, str]:
    """Real objects that MEMBER may change, so a route's 404 cannot stand in for the validation it lacks."""
    with runtimes["catalog"].session_factory.begin() as db:
        offer = create_offer(db, MEMBER_ID, {
            "title": "Cluster strategy", "description": "How to", "format": "hybrid", "competences": [],
            "level": 3, "languages": ["en"], "price_cents": 100, "currency": "EUR",
        })
    with runtimes["catalog"].session_factory.begin() as db:
        request = topic_requests.ask(db, MEMBER_ID, {"title": "EU funding", "description": "Which programmes",
                                                     "competences": [], "preferred_formats": [], "region": None})
        ratings.keep_attendance(db, sample(AttendanceRecorded, session_id="session-of-m-1", attendees=[
            Attendee(booking_id="booking-of-m-1", member_id=MEMBER_ID, certificate_id="certificate-of-m-1")]))
        rating = ratings.rate(db, "session-of-m-1", MEMBER_ID, 4, "")
        now = datetime.now(UTC)
        db.add(Proposal(id="proposal-of-m-1", kind="motion", title="Sessions in Polish", reasons="Neighbours.",
                        proposer_id=MEMBER_ID, terms={}, rules={"quorum": "1/10", "simple_majority": "1/2",
                                                               "policy_majority": "2/3"},
                        created_at=now, voting_opens_at=now, voting_closes_at=now + timedelta(days=14)))
    notify = EventConsumer("notify", load_all()["notify"].handlers, runtimes["notify"].session_factory)
    notify.handle_batch([delivery(sample(MemberRegistered, member_id=MEMBER_ID)),
                         delivery(sample(BookingConfirmed, member_id=MEMBER_ID))])
    with runtimes["notify"].session_factory() as db:
        _, [message] = messages_of(db, MEMBER_ID, False, 1, 1)
    booking = EventConsumer("booking", load_all()["booking"].handlers, runtimes["booking"].session_factory)
    booking.handle_batch([delivery(sample(OfferPublished, offer_id="offer-of-m-1", provider_id=MEMBER_ID)),
                          delivery(sample(SessionScheduled, session_id="session-of-m-1", offer_id="offer-of-m-1",
                                          starts_at=datetime.now(UTC) + timedelta(days=30),
                                          ends_at=datetime.now(UTC) + timedelta(days=30, hours=2)))])
    billing = EventConsumer("billing", load_all()["billing"].handlers, runtimes["billing"].session_factory)
    billing.handle_batch([delivery(sample(OfferPublished, offer_id="offer-of-m-1", provider_id=MEMBER_ID))])
    billing.handle_batch([delivery(sample(BookingConfirmed, offer_id="offer-of-m-1", member_id=MEMBER_ID))])
    with runtimes["billing"].session_factory() as db:
        _, [invoice] = invoices_of(db, MEMBER_ID, 1, 1)
    with runtimes["assessment"].session_factory.begin() as db:
        assessment = assessment_commands.start_assessment(db, MEMBER_ID, "cluster_manager")
        assessment_commands.invite_to_reassess(db, MEMBER_ID, "offer-of-m-1", "session-of-m-1", datetime.now(UTC))
        [reassessment] = assessment_commands.reassessments_of(db, MEMBER_ID)
    return {"offer_id": offer.id, "notification_id": message.id, "session_id": "session-of-m-1",
            "request_id": request.id, "rating_id": rating.id, "assessment_id": assessment.id,
            "reassessment_id": reassessment.id, "invoice_id": invoice.id,
            "proposal_id": "proposal-of-m-1"}


def problem_failures(response, what: str) -> list[str]:
    """Why `response` is not a proper RFC 9457 problem (an empty list when it is one)."""
    if response.status_code >= 500:
        return [f"{what}: {response.status_code} {response.get_data(as_text=True)[:300]}"]
    if response.mimetype != PROBLEM_JSON:
        return [f"{what}: {response.status_code} answered as {response.mimetype!r}, not {PROBLEM_JSON}"]
    body = response.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return [f"{what}: the problem body is not a JSON object"]
    missing = [name for name in ("type", "title", "status") if not body.get(name)]
    if missing:
        return [f"{what}: the problem lacks {missing}: {body}"]
    if body["status"] != response.status_code:
        return [f"{what}: the problem says status {body['status']} but the response is {response.status_code}"]
    return []


def early_rejection_explained(op: Operation, status: int) -> str | None:
    """Why a route may refuse before reading the body, or None when nothing explains `status`.

    A 403 is explained when the operation needs a token (the route may want a role beyond member). A 401 is
    never explained: the token is valid. Nor is a 404: the sweep names objects that exist and are MEMBER's.
    """
    if status == 403 and op.needs_a_token:
        return "403: the operation needs a role the member lacks"
    return None


def status_failures(op: Operation, response, expected: tuple[int, ...], what: str) -> list[str]:
    if response.status_code in expected or early_rejection_explained(op, response.status_code):
        return []
    return [f"{what}: expected {' or '.join(map(str, expected))}, got {response.status_code} "
            f"(not explained by path or auth): {response.get_data(as_text=True)[:300]}"]


def sweep(academy: Academy, attack) -> list[str]:
    """Sends `attack(op)` (request kwargs) as a member to every operation with a JSON body; collects failures."""
    operations = academy.operations_with_json_bodies()
    assert operations, "the OpenAPI documents name no operation with a JSON body; the sweep would test nothing"
    failures: list[str] = []
    for op in operations:
        what = str(op)
        unknown = op.path_parameters - set(academy.real_ids)
        if unknown:
            failures.append(f"{what}: add an object for {sorted(unknown)} to objects_of_the_sweeping_member")
            continue
        request, check = attack(op)
        headers = {**MEMBER, **request.pop("headers", {})}
        response, answered_by = academy.send(op.method, op.url(academy.real_ids), headers=headers, **request)
        if answered_by != op.service:
            failures.append(f"{what}: the gateway sent it to {answered_by}")
        failures += problem_failures(response, what) or check(op, response, what)
    return failures


def report(failures: list[str]) -> str:
    return "\n".join(failures)


# --- the sweep --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"title": "unterminated', id="unterminated"),
        pytest.param(b"{'title': 'single quotes'}", id="single quotes"),
        pytest.param(b'{"title": "\xff\xfe"}', id="not UTF-8"),
        pytest.param(b'{"title": "a",}', id="trailing comma"),
    ],
)
def test_malformed_json_is_a_400_problem(academy, body):
    def attack(_op):
        def check(op, response, what):
            return status_failures(op, response, (400,), what)

        return {"data": body, "content_type": "application/json"}, check

    failures = sweep(academy, attack)

    assert failures == [], report(failures)


@pytest.mark.parametrize(
    "body",
    [
        # Python's json module raises RecursionError and ValueError (not JSONDecodeError) for these.
        pytest.param(b"[" * 1100 + b"]" * 1100, id="arrays nested 1100 deep"),
        pytest.param(b'{"a":' * 1100 + b"1" + b"}" * 1100, id="objects nested 1100 deep"),
        pytest.param(b'{"n": ' + b"9" * 5000 + b"}", id="an integer of 5000 digits"),
    ],
)
def test_well_formed_but_hostile_json_is_refused_without_a_500(academy, body):
    # Small bodies (a few kB) that a parser may reject (400) or parse and the schema refuse (422).
    def attack(_op):
        def check(op, response, what):
            return status_failures(op, response, (400, 422), what)

        return {"data": body, "content_type": "application/json"}, check

    failures = sweep(academy, attack)

    assert failures == [], report(failures)


def test_a_json_array_instead_of_an_object_is_refused(academy):
    def attack(_op):
        def check(op, response, what):
            return status_failures(op, response, (400, 422), what)

        return {"json": [{UNKNOWN_FIELD: 1}]}, check

    failures = sweep(academy, attack)

    assert failures == [], report(failures)


def mistyped_fields(op: Operation) -> dict:
    """The operation's required fields with values of the wrong type (all its fields when none is required)."""
    schema = op.json_body_schema()
    properties = schema.get("properties", {})
    names = schema.get("required") or list(properties)
    body = {}
    for name in names:
        field = op.resolve(properties.get(name, {}))
        body[name] = WRONG_VALUE_FOR.get(field.get("type", "object"), ["unexpected"])
    return body


def test_unknown_and_mistyped_fields_are_a_422_naming_them(academy):
    def attack(op):
        mistyped = mistyped_fields(op)

        def check(op, response, what):
            failures = status_failures(op, response, (422,), what)
            if failures or response.status_code != 422:
                return failures
            errors = response.get_json().get("errors") or {}
            named = set(errors) & {UNKNOWN_FIELD, *mistyped}
            if not named:
                return [f"{what}: the errors name neither {UNKNOWN_FIELD} nor {sorted(mistyped)}: {errors}"]
            # Every problem at once, so a client can fix its request in one go.
            unnamed = {UNKNOWN_FIELD, *mistyped} - set(errors)
            return [f"{what}: the errors leave out {sorted(unnamed)}: {errors}"] if unnamed else []

        return {"json": {UNKNOWN_FIELD: 1, **mistyped}}, check

    failures = sweep(academy, attack)

    assert failures == [], report(failures)


def too_large_body() -> bytes:
    return json.dumps({UNKNOWN_FIELD: "x" * TWO_MEGABYTES}).encode()


def test_a_two_megabyte_body_is_a_413_problem(academy):
    def attack(_op):
        def check(op, response, what):
            return status_failures(op, response, (413,), what)

        return {"data": too_large_body(), "content_type": "application/json"}, check

    failures = sweep(academy, attack)

    assert failures == [], report(failures)


def test_a_two_megabyte_body_without_a_content_length_is_a_413_problem(academy):
    # A chunked upload announces no length (gunicorn marks such input terminated), so the limit must hold
    # while reading the body, not only on the Content-Length header.
    def attack(_op):
        def check(op, response, what):
            return status_failures(op, response, (413,), what)

        request = {
            "input_stream": io.BytesIO(too_large_body()),
            "headers": {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            "environ_overrides": {"wsgi.input_terminated": True},
        }
        return request, check

    failures = sweep(academy, attack)

    assert failures == [], report(failures)


@pytest.mark.parametrize(
    "display_name",
    [
        pytest.param(
            "Ann \ud800",  # json.dumps escapes it as \ud800, as any client may
            id="lone surrogate",
        ),
        pytest.param(
            "Ann \u0000 Muster",
            id="NUL character",
        ),
    ],
)
def test_text_no_database_can_store_is_a_422(academy, display_name):
    # JSON may escape any code point, including ones a UTF-8 text column cannot hold. Registration needs no
    # token, so this is open to anyone.
    body = {"email": f"ann-{uuid.uuid4().hex[:8]}@cluster.example", "password": "correct horse battery",
            "display_name": display_name}
    response, _ = academy.send("post", "/api/v1/members", data=json.dumps(body), content_type="application/json")

    assert problem_failures(response, "POST /api/v1/members") == []
    assert response.status_code == 422
    assert "display_name" in response.get_json()["errors"]


def test_the_sweep_finds_every_write_operation(academy):
    # A write operation without a JSON body escapes the sweep; only body-less actions (like submit) may.
    skipped = [op for op in academy.operations(WRITE_METHODS) if op.json_body_schema() is None]

    assert all("requestBody" not in op.spec for op in skipped), [str(op) for op in skipped]
    assert len(academy.operations_with_json_bodies()) + len(skipped) == len(academy.operations(WRITE_METHODS))


# --- routing and the errors of routing --------------------------------------------------------------------
def test_the_gateway_sends_every_documented_operation_to_its_service(academy):
    failures = []
    for op in academy.operations():
        # No token and no body: nothing is created, yet the route must be known where the request lands.
        response, answered_by = academy.send(op.method, op.url())
        if answered_by != op.service:
            failures.append(f"{op}: answered by {answered_by}")
        elif response.status_code in (404, 405) and not op.has_path_parameters:
            failures.append(f"{op}: {answered_by} does not know the route ({response.status_code})")
        elif response.status_code >= 500:
            failures.append(f"{op}: {response.status_code}")

    assert failures == [], report(failures)


def test_the_documented_security_is_what_each_operation_enforces(academy):
    # The documents tell clients when to send a token; an anonymous call shows whether that is true.
    failures = []
    for op in academy.operations():
        requirements = op.spec.get("security", [])
        token_required = bool(requirements) and all(requirements)  # an empty requirement {} makes it optional
        response, _ = academy.send(op.method, op.url())
        if token_required and response.status_code != 401:
            failures.append(f"{op}: documented as needing a token, but anonymous gets {response.status_code}")
        if not token_required and response.status_code == 401:
            failures.append(f"{op}: answers anonymous callers 401 but documents no bearer requirement")
        if response.status_code == 401:
            failures += problem_failures(response, str(op))

    assert failures == [], report(failures)


def test_an_unknown_route_is_a_404_problem(academy):
    response, _ = academy.send("get", "/api/v1/no-such-thing")

    assert response.status_code == 404
    assert problem_failures(response, "GET /api/v1/no-such-thing") == []


def test_an_unknown_route_under_each_services_prefix_is_its_404_problem(academy):
    failures = []
    for service, document in academy.documents.items():
        for path in document["paths"]:
            url = re.sub(r"\{[^}]+\}", "x", path) + "/zz-nowhere/deeper"
            response, answered_by = academy.send("get", url, headers=MEMBER)
            if (response.status_code, answered_by) != (404, service):
                failures.append(f"GET {url}: {response.status_code} from {answered_by}, expected 404 from {service}")
            failures += problem_failures(response, f"GET {url}")

    assert failures == [], report(failures)


def unsupported_method(item: dict) -> str:
    # TRACE is never routed, so it is the answer for a path that happens to take all the others.
    return next((method for method in ("delete", "put", "patch", "post") if method not in item), "trace")


def test_a_method_a_path_does_not_support_is_a_405_problem(academy):
    failures = []
    for service, document in academy.documents.items():
        for path, item in document["paths"].items():
            method = unsupported_method(item)
            url = re.sub(r"\{[^}]+\}", "x", path)
            response, answered_by = academy.send(method, url, headers=MEMBER, json={})
            what = f"{method.upper()} {url} ({service})"
            if (response.status_code, answered_by) != (405, service):
                failures.append(f"{what}: {response.status_code} from {answered_by}")
            failures += problem_failures(response, what)

    assert failures == [], report(failures)


def test_a_405_names_the_methods_the_path_allows(academy):
    response, _ = academy.send("delete", "/api/v1/bookings", headers=MEMBER)

    assert response.status_code == 405
    assert {"GET", "POST"} <= {method.strip() for method in response.headers.get("Allow", "").split(",")}
