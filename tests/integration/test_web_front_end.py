"""The front end's files as the gateway serves them, embedded and distributed: the page, its modules with a
JavaScript type (browsers refuse module scripts of another), the headers that keep it to its own files, and no
way out of its folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.test import Client

from academy.embedded import GatewayDispatcher
from academy.registry import load_all
from services import catalog
from services.catalog.web import STATIC
from shared.testing import make_runtime

SERVICE = catalog.SERVICE  # the service under test, for the fixtures in conftest.py
MODULE_IMPORT = re.compile(r"""^import .* from '(\.{1,2}/[^']+)';$""", re.MULTILINE)


@pytest.fixture
def gateway(tmp_path):
    """The catalog as the distributed gateway, its upstreams at an address where nothing answers."""
    nowhere = "http://127.0.0.1:9"
    runtime = make_runtime(SERVICE, tmp_path, **{f"{name}_URL": nowhere
                                                 for name in ("BOOKING", "ASSESSMENT", "BILLING", "NOTIFY")})
    yield SERVICE.create_app(runtime).test_client()
    runtime.close()


@pytest.fixture
def embedded(tmp_path):
    runtimes = {name: make_runtime(definition, tmp_path / name) for name, definition in load_all().items()}
    yield Client(GatewayDispatcher({name: definition.create_app(runtimes[name])
                                    for name, definition in load_all().items()}))
    for runtime in runtimes.values():
        runtime.close()


@pytest.mark.parametrize("front", ["gateway", "embedded"])
def test_the_page_and_its_modules_are_served_with_their_types_and_a_strict_policy(front, request):
    client = request.getfixturevalue(front)
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"

    script = client.get("/assets/js/app.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert client.get("/assets/style.css").mimetype == "text/css"


def test_every_module_the_page_imports_is_served(client):
    """Follows the imports from app.js: a module missing from the folder would fail the whole page."""
    pending, seen = ["js/app.js"], set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        answer = client.get(f"/assets/{path}")
        assert answer.status_code == 200, path
        folder = Path(path).parent
        for relative in MODULE_IMPORT.findall(answer.get_data(as_text=True)):
            pending.append(_join(folder, relative))
    assert {"js/api.js", "js/i18n.js", "js/pages/offers.js", "js/pages/provide.js"} <= seen
    assert {str(path.relative_to(STATIC)) for path in STATIC.rglob("*.js")} == seen, "a module nothing imports"


def _join(folder: Path, relative: str) -> str:
    parts = list(folder.parts)
    for piece in relative.split("/"):
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


@pytest.mark.parametrize("path", ["/assets/../app.py", "/assets/%2e%2e/__init__.py", "/assets/js/../../__init__.py"])
def test_nothing_outside_the_folder_is_served(client, path):
    answer = client.get(path)
    assert answer.status_code in (400, 404)
    assert b"register_web_front_end" not in answer.data


def test_a_missing_file_is_a_404_problem(client):
    answer = client.get("/assets/js/nothing.js")
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"
