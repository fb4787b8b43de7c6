"""The gateway's /api/v1/openapi.json: one valid document of the whole public API, embedded and distributed,
covering every path the gateway routes, with clashing schema names kept apart and missing services named."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from openapi_spec_validator import validate
from werkzeug.test import Client

from academy.embedded import academy_apps
from academy.registry import load_all
from services import booking, catalog
from services.catalog.gateway import UPSTREAM_ROUTES, upstream_for
from services.catalog.openapi_merge import SPEC_PATH, merge
from shared.testing import make_runtime
from tests.integration.test_gateway import free_port


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


@pytest.fixture(scope="module")
def embedded_document(tmp_path_factory):
    runtimes = {name: make_runtime(definition, tmp_path_factory.mktemp(name))
                for name, definition in load_all().items()}
    try:
        yield Client(academy_apps(runtimes)).get(SPEC_PATH).get_json()
    finally:
        for runtime in runtimes.values():
            runtime.close()


def test_the_embedded_gateway_documents_every_service_in_one_valid_document(embedded_document):
    validate(embedded_document)
    assert embedded_document["x-services"] == sorted(load_all())
    assert "x-unavailable-services" not in embedded_document
    paths = [concrete(path) for path in embedded_document["paths"]]
    for pattern, service in UPSTREAM_ROUTES:
        assert any(pattern.match(path) for path in paths), f"no documented path of {service} for {pattern.pattern}"
    assert {"/api/v1/offers", "/api/v1/members/me", "/api/v1/bookings", "/api/v1/demand"} <= set(paths)
    assert all((upstream_for(path) or "catalog") in load_all() for path in paths)
    assert list(embedded_document["components"]["securitySchemes"]) == ["bearer"]


def test_a_schema_name_two_services_use_differently_is_kept_apart():
    def document(schema: dict) -> dict:
        path = "/api/v1/bookings" if schema["type"] == "string" else "/api/v1/offers"
        answer = {"description": "ok", "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Thing"}}}}
        return {"openapi": "3.0.3", "info": {"title": "t", "version": "v1"},
                "components": {"schemas": {"Thing": schema, "Problem": {"type": "object"}}},
                "paths": {path: {"get": {"responses": {"200": answer}}}}}

    merged = merge({"catalog": document({"type": "object"}), "booking": document({"type": "string"})})

    assert set(merged["components"]["schemas"]) == {"Thing", "BookingThing", "Problem"}
    ref = merged["paths"]["/api/v1/bookings"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ref == {"$ref": "#/components/schemas/BookingThing"}
    assert merged["paths"]["/api/v1/offers"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"] == {"$ref": "#/components/schemas/Thing"}
    validate(merged)


def test_the_distributed_gateway_asks_the_services_and_names_one_that_did_not_answer(tmp_path):
    booking_runtime = make_runtime(booking.SERVICE, tmp_path / "booking")
    booking_document = json.dumps(booking.SERVICE.create_app(booking_runtime).test_client().get(SPEC_PATH).get_json())

    class BookingDocument(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            self.send_response(200 if self.path == SPEC_PATH else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(booking_document.encode())

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), BookingDocument)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    gone = f"http://127.0.0.1:{free_port()}"
    runtime = make_runtime(catalog.SERVICE, tmp_path / "catalog", BOOKING_URL=f"http://127.0.0.1:{server.server_port}",
                           ASSESSMENT_URL=gone, BILLING_URL=gone, NOTIFY_URL=gone)
    try:
        document = catalog.SERVICE.create_app(runtime).test_client().get(SPEC_PATH).get_json()
    finally:
        runtime.close()
        booking_runtime.close()
        server.shutdown()

    validate(document)
    assert document["x-services"] == ["booking", "catalog"]
    assert document["x-unavailable-services"] == ["assessment", "billing", "notify"]
    assert document["info"]["description"].startswith("Incomplete: assessment, billing, notify")
    assert "/api/v1/bookings" in document["paths"] and "/api/v1/offers" in document["paths"]
