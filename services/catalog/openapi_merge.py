"""One OpenAPI document of the whole public API, merged from the services' own documents.

Each service contributes the paths the gateway sends to it; component schemas of the same name and content are
kept once, and a name two services use for different schemas is prefixed with the service's name (its
references rewritten), so nothing clashes. A service that could not be asked is named in the document.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

import requests
from flask import Flask, Response, current_app, jsonify, request

from services.catalog.gateway import upstream_for

SPEC_PATH = "/api/v1/openapi.json"
TITLE = "Virtual Cluster Academy: the public API"
SCHEMA_REF = "#/components/schemas/"
CACHE_SECONDS = 60
EMBEDDED_DOCUMENT = "academy.merged_openapi"


def _serves(service: str, path: str) -> bool:
    """Whether the gateway sends `path` to `service` (path templates route as their concrete paths do)."""
    return (upstream_for(path) or "catalog") == service


def _rewrite_refs(node: Any, renamed: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: (SCHEMA_REF + renamed.get(value.removeprefix(SCHEMA_REF), value.removeprefix(SCHEMA_REF))
                      if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_REF)
                      else _rewrite_refs(value, renamed))
                for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(item, renamed) for item in node]
    return node


def merge(documents: Mapping[str, dict | None]) -> dict:
    """`documents`: service name -> its OpenAPI document, or None if it could not be asked (catalog first)."""
    available = {service: document for service, document in documents.items() if document is not None}
    unavailable = sorted(service for service, document in documents.items() if document is None)
    first = next(iter(available.values()))
    merged: dict = {
        "openapi": first["openapi"],
        "info": {**first["info"], "title": TITLE},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    for service, document in available.items():
        schemas = document.get("components", {}).get("schemas", {})
        renamed = {name: f"{service.title()}{name}" for name, schema in schemas.items()
                   if name in merged["components"]["schemas"] and merged["components"]["schemas"][name] != schema}
        document = _rewrite_refs(copy.deepcopy(document), renamed)
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            merged["components"]["schemas"].setdefault(renamed.get(name, name), schema)
        for kind, entries in document.get("components", {}).items():
            if kind != "schemas":
                for name, entry in entries.items():
                    merged["components"].setdefault(kind, {}).setdefault(name, entry)
        for path, item in document.get("paths", {}).items():
            if _serves(service, path):
                merged["paths"][path] = item
        known_tags = {tag["name"] for tag in merged["tags"]}
        merged["tags"] += [tag for tag in document.get("tags", []) if tag["name"] not in known_tags]
    merged["paths"] = dict(sorted(merged["paths"].items()))
    merged["x-services"] = sorted(available)
    if unavailable:
        merged["x-unavailable-services"] = unavailable
        merged["info"]["description"] = (
            f"Incomplete: {', '.join(unavailable)} could not be asked for its part when this document was made; "
            f"it is made again within a minute.\n\n" + merged["info"].get("description", ""))
    return merged


def register_embedded_document(app: Flask) -> None:
    """Embedded, the dispatcher makes the merged document from the apps in its process and hands it over in the
    environ: catalog answers it, so it goes out with the headers of every other answer."""

    @app.before_request
    def merged_document_from_the_dispatcher():
        document = request.environ.get(EMBEDDED_DOCUMENT)
        if document is not None and request.path == SPEC_PATH:
            return Response(document, mimetype="application/json")
        return None


def register_merged_document(upstreams: Mapping[str, str], timeout_s: float = 3.0):
    """Answer SPEC_PATH at the gateway with the merged document, asking the services at `upstreams` for theirs
    at most once a minute (a service that was down is asked again at the next turn)."""
    kept: dict[str, Any] = {"document": None, "made_at": float("-inf")}

    def merged_document():
        if request.path != SPEC_PATH or request.method != "GET":
            return None
        if time.monotonic() - kept["made_at"] > CACHE_SECONDS:
            documents = {"catalog": current_app.extensions["academy_api"].spec.to_dict()}
            for service, base in upstreams.items():
                try:
                    answer = requests.get(base + SPEC_PATH, timeout=timeout_s)
                    answer.raise_for_status()
                    documents[service] = answer.json()
                except (requests.RequestException, ValueError):
                    documents[service] = None
            kept.update(document=merge(documents), made_at=time.monotonic())
        return jsonify(kept["document"])

    def setup(app: Flask) -> None:
        app.before_request(merged_document)

    return setup
