"""No combination of invalid fields is a 500: every error body serialises, with string keys all the way down."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.catalog import SERVICE
from shared.testing import bearer, make_runtime
from shared.web import PROBLEM_JSON, _field_errors, problem
from tests.integration.offer_helpers import know_framework

MEMBER = bearer("member-errors")
VALID_OFFER = {
    "title": "Funding international cluster cooperation",
    "description": "Which programmes pay for what.",
    "format": "hybrid",
    "competences": ["GOV-3"],
    "level": 3,
    "languages": ["en"],
    "price_cents": 14_900,
    "currency": "EUR",
}
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
# Lists of competences that mix wrong types, blanks and duplicates (the shape that once gave a 500).
COMPETENCE_LISTS = st.lists(st.sampled_from([1, "a", "A", "", None, 2.5, [], {}, "b"]), min_size=2, max_size=5)
FIELD_VALUES = {name: st.just(value) | JSON_VALUES for name, value in VALID_OFFER.items()}
FIELD_VALUES["competences"] = COMPETENCE_LISTS | FIELD_VALUES["competences"]
OFFER_BODIES = st.fixed_dictionaries({}, optional=FIELD_VALUES).flatmap(
    lambda body: st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=2).map(lambda extra: {**extra, **body})
)
# What validators and domain errors may leave in an error dict: keys of any type, values of any type, nested.
ERROR_KEYS = st.integers() | st.text(max_size=4) | st.none() | st.booleans() | st.tuples(st.integers())
ERROR_MESSAGES = st.recursive(
    st.text(max_size=8) | st.integers() | st.none() | st.builds(object),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ERROR_KEYS, inner, max_size=4),
    max_leaves=12,
)


def keys_of(node):
    """Every key of every object in a JSON-like value."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from keys_of(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from keys_of(value)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    runtime = make_runtime(SERVICE, tmp_path_factory.mktemp("error-bodies"))
    know_framework(runtime)
    client = SERVICE.create_app(runtime).test_client()
    draft = client.post("/api/v1/offers", json=VALID_OFFER, headers=MEMBER)
    assert draft.status_code == 201, draft.json
    yield client, draft.json["id"]
    runtime.close()


def assert_an_honest_answer(answer) -> None:
    assert answer.status_code < 500, answer.get_data(as_text=True)
    if answer.status_code >= 400:
        assert answer.mimetype == PROBLEM_JSON
        body = answer.get_json()
        assert body["status"] == answer.status_code
        assert all(isinstance(key, str) for key in keys_of(body))


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_the_competences_that_once_gave_a_500_are_a_422_by_position(catalog, method):
    client, offer_id = catalog
    path = "/api/v1/offers" if method == "POST" else f"/api/v1/offers/{offer_id}"

    answer = client.open(path, method=method, json={**VALID_OFFER, "competences": [1, "a", "a"]}, headers=MEMBER)

    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM_JSON
    assert "0" in answer.get_json()["errors"]["competences"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=OFFER_BODIES, method=st.sampled_from(["POST", "PATCH"]))
def test_no_offer_body_is_a_server_error(catalog, body, method):
    client, offer_id = catalog
    path = "/api/v1/offers" if method == "POST" else f"/api/v1/offers/{offer_id}"

    assert_an_honest_answer(client.open(path, method=method, json=body, headers=MEMBER))


@settings(max_examples=300, deadline=None)
@given(messages=st.dictionaries(st.sampled_from(["json", "query", "headers"]) | ERROR_KEYS, ERROR_MESSAGES,
                                max_size=4))
def test_every_error_dict_becomes_a_json_body_with_string_keys(messages):
    with Flask(__name__).test_request_context():
        answer = problem(422, "Unprocessable Content", errors=_field_errors(messages))

    body = json.loads(answer.get_data())
    assert body["status"] == 422
    assert all(isinstance(key, str) for key in keys_of(body))
