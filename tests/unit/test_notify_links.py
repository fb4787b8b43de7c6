"""Every link in a message leads somewhere a person can open: a page of the front end, or a public API address."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((REPO / "services" / "notify" / "templates").glob("*/*.txt"))
APP = REPO / "services" / "catalog" / "web" / "static" / "js" / "app.js"
# Addresses a person may open outside the front end: a certificate's public check.
PUBLIC_API = ("/api/v1/certificates/",)
LINK = re.compile(r'url ~ "([^"]*)"(\s*~\s*\w+)?')


def front_end_routes() -> list[re.Pattern]:
    routes = APP.read_text().split("const ROUTES = [", 1)[1].split("];", 1)[0]
    return [re.compile(pattern.replace("\\/", "/")) for pattern in re.findall(r"\[/(\^.*?\$)/,", routes)]


def test_the_front_end_routes_are_found():
    assert len(front_end_routes()) >= 10


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_link_in_a_message_opens_a_page(template):
    routes = front_end_routes()
    for path, parameter in LINK.findall(template.read_text()):
        if path.startswith(PUBLIC_API):
            continue
        assert path.startswith("/#/"), f"{path}: the front end's pages live in the hash"
        page, _, query = path[2:].partition("?")  # the front end reads the query itself
        page += "some-id" if parameter and not query else ""
        assert any(route.match(page) for route in routes), f"{path}: no page of the front end answers {page}"
