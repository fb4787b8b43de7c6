"""Every service documents itself: a valid OpenAPI 3 document, a docs page that works offline, health, metrics."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client

from academy.embedded import MOUNT_PREFIX, GatewayDispatcher
from academy.registry import load_all, load_service
from shared.config import SERVICES
from shared.testing import make_runtime

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
DOCS_PATH = "/api/v1/docs"
SPEC_PATH = "/api/v1/openapi.json"
# OpenAPI patterns are ECMA-262 regexes; these Python-only constructs mean something else there (or nothing).
PYTHON_ONLY_REGEX = re.compile(r"\\[AZ]|\(\?P[<=]|\(\?[aiLmsux]+\)")

@pytest.fixture
def app(request, tmp_path):
    definition = load_service(request.param)
    runtime = make_runtime(definition, tmp_path)
    yield definition.create_app(runtime)
    runtime.close()


@pytest.fixture
def client(app):
    return app.test_client()


def spec_of(client) -> dict:
    answer = client.get(SPEC_PATH)
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    return answer.get_json()


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def patterns_in(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from patterns_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from patterns_in(value)


class AssetLinks(HTMLParser):
    """Collects what a browser would fetch next: every <script src> and <link href>."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = {"script": "src", "link": "href"}.get(tag)
        for name, value in attrs:
            if name == wanted and value is not None:
                self.urls.append(value)


def asset_urls(html: str) -> list[str]:
    parser = AssetLinks()
    parser.feed(html)
    return parser.urls


def spec_url_in(html: str) -> str:
    """The document Swagger UI loads (its config's `url`), as the page names it."""
    found = re.search(r"""\burl\s*:\s*["']([^"']+)["']""", html)
    assert found, "the docs page does not say which OpenAPI document to load"
    return found.group(1)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- the OpenAPI document ---------------------------------------------------------------------------------
@pytest.mark.parametrize("app", SERVICES, indirect=True)
def test_the_openapi_document_is_valid_openapi_3(client):
    spec = spec_of(client)

    assert spec["openapi"].startswith("3.")
    validate(spec)


@pytest.mark.parametrize("app", SERVICES, indirect=True)
def test_documented_patterns_are_ecma_regexes_not_python_ones(client):
    python_only = sorted({pattern for pattern in patterns_in(spec_of(client)) if PYTHON_ONLY_REGEX.search(pattern)})

    assert python_only == [], "clients check these patterns with JavaScript regexes, which read them differently"


@pytest.mark.parametrize("app", SERVICES, indirect=True)
def test_every_documented_path_is_under_api_v1(client):
    paths = list(spec_of(client)["paths"])

    assert paths, "the service documents no paths at all"
    assert [path for path in paths if not path.startswith("/api/v1/")] == []


@pytest.mark.parametrize("app", SERVICES, indirect=True)
def test_every_operation_has_a_summary(client):
    unsummarised = [f"{method.upper()} {path}" for path, method, op in operations(spec_of(client))
                    if not (op.get("summary") or "").strip()]

    assert unsummarised == []


@pytest.mark.parametrize("app", SERVICES, indirect=True)
def test_every_route_under_api_v1_is_documented(app, client):
    # Routes a client can call but cannot read about drift out of the contract unnoticed.
    documented = {re.sub(r"\{[^}]+\}", "<>", path) for path in spec_of(client)["paths"]}
    undocumented_on_purpose = {SPEC_PATH, DOCS_PATH, "/api/v1/docs/static/<>"}
    served = {re.sub(r"<[^>]+>", "<>", rule.rule) for rule in app.url_map.iter_rules()}

    missing = sorted(rule for rule in served if rule.startswith("/api/v1/") and rule not in documented)

    assert [rule for rule in missing if rule not in undocumented_on_purpose] == []


# --- the docs page ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("app", SERVICES, indirect=True)
def test_the_docs_page_loads_its_assets_from_the_service_itself(client):
    page = client.get(DOCS_PATH)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    urls = asset_urls(page.get_data(as_text=True))
    assert any(url.endswith(".js") for url in urls) and any(url.endswith(".css") for url in urls), urls

    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is fetched from elsewhere (a CDN needs the internet)"
        assert not url.startswith("/"), f"{url} is absolute, so the page breaks when mounted under a prefix"
        # Resolved the way a browser resolves it against the page's own address.
        asset = client.get(path_of(urljoin(f"http://academy.test{DOCS_PATH}", url)))
        assert asset.status_code == 200, f"{url} is not served"
        assert asset.get_data(), f"{url} is empty"


@pytest.mark.parametrize("app", SERVICES, indirect=True)
def test_the_docs_page_loads_the_services_own_openapi_document(client):
    html = client.get(DOCS_PATH).get_data(as_text=True)

    spec_path = path_of(urljoin(f"http://academy.test{DOCS_PATH}", spec_url_in(html)))

    assert spec_path == SPEC_PATH
    assert client.get(spec_path).get_json() == spec_of(client)


@pytest.fixture(scope="module")
def academy(tmp_path_factory):
    """All five apps behind the embedded gateway, as `academy serve` runs them."""
    data_dir = tmp_path_factory.mktemp("academy")
    runtimes = {name: make_runtime(definition, data_dir / name) for name, definition in load_all().items()}
    apps = {name: definition.create_app(runtimes[name]) for name, definition in load_all().items()}
    yield Client(GatewayDispatcher(apps))
    for runtime in runtimes.values():
        runtime.close()


@pytest.mark.parametrize("service", SERVICES)
def test_each_services_docs_work_under_the_gateways_mount_prefix(academy, service):
    # /_services/<name>/api/v1/docs is how one reaches a service's own docs through the gateway.
    page_path = f"{MOUNT_PREFIX}{service}{DOCS_PATH}"
    page = academy.get(page_path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)

    for url in [*asset_urls(html), spec_url_in(html)]:
        resolved = path_of(urljoin(f"http://academy.test{page_path}", url))
        assert resolved.startswith(f"{MOUNT_PREFIX}{service}/"), f"{url} leaves the {service} mount"
        assert academy.get(resolved).status_code == 200, f"{url} (as {resolved}) is not served"

    spec = academy.get(f"{MOUNT_PREFIX}{service}{SPEC_PATH}").get_json()
    assert spec["info"]["title"].lower().endswith(service)


# --- health and metrics -----------------------------------------------------------------------------------
@pytest.mark.parametrize("app", SERVICES, indirect=True)
def test_liveness_answers_ok(client):
    answer = client.get("/health/live")

    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}


def requests_counted(client, service: str, route: str) -> float:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    text = answer.get_data(as_text=True)
    assert "http_requests_total" in text
    wanted = {"service": service, "method": "GET", "route": route, "status": "200"}
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total" and all(sample.labels.get(k) == v for k, v in wanted.items())
    )


@pytest.mark.parametrize("app", SERVICES, indirect=True)
def test_metrics_count_each_request_by_service_and_route(app, client):
    before = requests_counted(client, app.name, "/health/live")

    client.get("/health/live")

    assert requests_counted(client, app.name, "/health/live") == before + 1


# --- errors as documented -----------------------------------------------------------------------------------
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def error_responses(spec: dict):
    """(operation, status, response) of every documented error, references to shared responses resolved."""
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                yield f"{method.upper()} {path}", status, response


@pytest.mark.parametrize("app", SERVICES, indirect=True)
def test_every_documented_error_is_a_problem_document(client):
    spec = spec_of(client)

    wrong = [f"{operation} {status}: {sorted(response.get('content', {}))}"
             for operation, status, response in error_responses(spec)
             if response.get("content") != {"application/problem+json": {"schema": PROBLEM_REF}}]

    assert wrong == []
    problem = spec["components"]["schemas"]["Problem"]
    assert {name: field.get("type") for name, field in problem["properties"].items()} == {
        "type": "string", "title": "string", "status": "integer", "detail": "string", "instance": "string",
        "errors": "object",
    }
    assert set(problem["required"]) == {"type", "title", "status"}
