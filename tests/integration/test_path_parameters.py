"""Path parameters no database can store: a 404 problem on SQLite and PostgreSQL alike, never a 500.

PostgreSQL refuses NUL in text (psycopg raises DataError), SQLite stores it; the answer must not depend on
which one runs. The operations come from each service's OpenAPI document, so a new path is covered as well.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from academy.registry import load_all
from shared.testing import bearer, make_runtime
from shared.web import PROBLEM_JSON, create_service_app, transaction

MEMBER = bearer("m-1", "member")
METHODS = ("get", "put", "post", "delete", "patch")
WRITE_METHODS = ("put", "post", "patch")
# Encoded in the URL, decoded by the server into the parameter: a NUL, and a NUL at the end of a plausible id.
NUL_PARAMETERS = ("a%00b", "0b7c4a4e-0f1e-4c55-9d3b-3c3f1f7f0a11%00")
MUST_BE_COVERED = {
    "catalog GET /api/v1/offers/{offer_id}",
    "catalog GET /api/v1/sessions/{session_id}",
    "notify POST /api/v1/notifications/{notification_id}/read",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """A factory of database URLs for one service each (None: the runtime's own SQLite file)."""
    if request.param == "sqlite":
        return lambda _service: None
    make_postgres_database = request.getfixturevalue("make_postgres_database")
    return make_postgres_database


@pytest.fixture
def service_clients(database_url, tmp_path):
    clients, runtimes = {}, []
    for name, definition in load_all().items():
        url = database_url(name)
        runtime = make_runtime(definition, tmp_path / name, **({"DATABASE_URL": url} if url else {}))
        runtimes.append(runtime)
        clients[name] = definition.create_app(runtime).test_client()
    yield clients
    for runtime in runtimes:
        runtime.close()


def operations_with_path_parameters(client) -> list[tuple[str, str]]:
    document = client.get("/api/v1/openapi.json").get_json()
    return [
        (method, path)
        for path, item in document["paths"].items()
        if "{" in path
        for method in METHODS
        if method in item
    ]


def test_a_nul_in_a_path_parameter_is_a_404_problem(service_clients):
    failures, covered = [], set()
    for service, client in service_clients.items():
        for method, path in operations_with_path_parameters(client):
            covered.add(f"{service} {method.upper()} {path}")
            for parameter in NUL_PARAMETERS:
                url = re.sub(r"\{[^}]+\}", parameter, path)
                body = {"json": {}} if method in WRITE_METHODS else {}
                response = client.open(url, method=method.upper(), headers=MEMBER, **body)
                answer = f"{service} {method.upper()} {url}: {response.status_code} {response.mimetype}"
                if response.status_code != 404 or response.mimetype != PROBLEM_JSON:
                    failures.append(f"{answer} {response.get_data(as_text=True)[:200]}")
                elif response.get_json()["status"] != 404:
                    failures.append(f"{answer}: the problem says {response.get_json()['status']}")

    assert covered >= MUST_BE_COVERED, f"the documents no longer name {MUST_BE_COVERED - covered}"
    assert failures == [], "\n".join(failures)


def test_a_value_the_database_refuses_is_a_400_problem_not_a_500(make_postgres_database, tmp_path, caplog):
    # The safety net behind the checks at the edge: should text PostgreSQL cannot hold reach a query anyway.
    runtime = make_runtime(load_all()["catalog"], tmp_path, DATABASE_URL=make_postgres_database("dataerror"))

    def add_route(app):
        @app.get("/api/v1/probe")
        def probe():
            with transaction() as db:
                db.execute(text("SELECT :value"), {"value": "a\x00b"})
            return {"stored": True}

    app = create_service_app(runtime, title="probe", blueprints=[], extra_setup=[add_route])
    try:
        response = app.test_client().get("/api/v1/probe")
    finally:
        runtime.close()

    assert response.status_code == 400
    assert response.mimetype == PROBLEM_JSON
    assert response.get_json()["detail"] == "the request holds a value the database cannot store"
    assert "DataError" not in response.get_data(as_text=True)
    assert any(record.exc_info for record in caplog.records), "the refused value should be logged"
