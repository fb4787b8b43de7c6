"""Flask plumbing every service shares: OpenAPI, problem+json errors, request context, health and metrics."""

from __future__ import annotations

import functools
import http
import io
import ipaddress
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import flask_smorest
import sqlalchemy.exc
import swagger_ui_bundle
from flask import Flask, Response, current_app, g, jsonify, make_response, request, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow.error_store import merge_errors
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared import metrics
from shared.auth import current_principal
from shared.db import is_reachable
from shared.errors import DomainError, NotFound
from shared.idempotency import MAX_KEY_LENGTH, check_key, claim_key, fingerprint, save_answer
from shared.schemas import Problem, SearchArgs, has_unstorable_text
from shared.service import Runtime
from shared.tracing import child_of, current_request_id, current_traceparent

log = logging.getLogger(__name__)
access_log = logging.getLogger("academy.access")
PROBLEM_JSON = "application/problem+json"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
COUNTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
TOKEN_PATHS = "/api/v1/auth/"
RETRY_AFTER_S = "5"
ENCODED_SEPARATOR = re.compile(r"%(2f|5c)", re.IGNORECASE)
ENCODED_DOT_OR_SEPARATOR = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)


def json_response(body, status: int = 200) -> Response:
    """A ready response, which flask-smorest passes through as it is (for bodies already dumped)."""
    response = jsonify(body)
    response.status_code = status
    return response


def problem(status: int, title: str, detail: str | None = None, *, slug: str | None = None,
            errors: dict | None = None, headers: dict | None = None) -> Response:
    body = {"type": f"/problems/{slug}" if slug else "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = json_safe(errors)
    if current_request_id.get():
        body["instance"] = f"urn:request:{current_request_id.get()}"
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_safe(value: object) -> object:
    """Error messages as JSON can carry them, sorted: every key a string, tuples as lists, odd values as text.

    marshmallow keys a list's errors by position (`{0: [...], "_schema": [...]}`), and a validator may put
    anything into its message; neither may turn a client's mistake into a 500.
    """
    if isinstance(value, dict):
        safe: dict[str, object] = {}
        for key, item in value.items():
            key, item = str(key), json_safe(item)
            safe[key] = merge_errors(safe[key], item) if key in safe else item
        return safe
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if value is None or isinstance(value, str | int | bool) or isinstance(value, float) and math.isfinite(value):
        return value
    return str(value)


def _field_errors(messages) -> dict | None:
    """webargs nests errors by location ({"json": {"price": [...]}}); clients want them by field."""
    if not isinstance(messages, dict):
        return None
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


class RequestParser(FlaskParser):
    """webargs' parser, answering 400 also for JSON that Python refuses to build (too deep, too long a number)."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except (RecursionError, ValueError) as exc:
            if isinstance(exc, json.JSONDecodeError):
                raise
            raise json.JSONDecodeError(f"unreadable JSON: {type(exc).__name__}", "<body>", 0) from exc


API_DESCRIPTION = (
    "Errors are RFC 9457 problem documents (`application/problem+json`, schema `Problem`), with `errors` per "
    "field for invalid input.\n\n"
    "Tokens: operations marked with the bearer scheme need `Authorization: Bearer <token>`. Public reads may be "
    "called without one; but a token that is sent must be valid everywhere: an invalid or expired token is a 401 "
    "also on public reads, so that a client learns its token is broken instead of silently getting the anonymous "
    "answer (which hides the caller's own drafts). Only `/api/v1/auth/*` ignores the header, so that an expired "
    "token never stands in the way of getting a new one."
)
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Retrying with the same key and body returns the first answer and does the work once; "
                   "the same key with another body is a 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the academy's request parser; every service's API uses this one."""

    ARGUMENTS_PARSER = RequestParser()

    def arguments(self, schema, *args, **kwargs):
        # Given a class, webargs builds a schema for every request, a millisecond of CPU each time; ours keep no
        # state between loads, so one instance serves them all.
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def idempotent(self, view: Callable) -> Callable:
        """Let a POST that creates money or seats take an `Idempotency-Key`.

        Place it below the role check and above `@arguments` / `@response`: the key is claimed, the view runs and
        its answer is saved in one transaction (the view's own `transaction()` joins it), so a retry with the
        same key and body gets the first answer, another body a 422, and simultaneous retries do the work once.
        A request that fails is rolled back with its claim, so it may be retried with the same key.
        """

        @functools.wraps(view)
        def with_key(*args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if key is None:
                return view(*args, **kwargs)
            key = check_key(key)
            principal = current_principal().member_id
            request_fingerprint = fingerprint(request.method, request.path, request.get_json(silent=True))
            with transaction() as db:
                earlier = claim_key(db, principal, key, request_fingerprint)
                if earlier is not None:
                    return json_response(earlier.body, earlier.status_code)
                response = make_response(view(*args, **kwargs))
                save_answer(db, principal, key, response.status_code, response.get_json())
                return response

        return self.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])(with_key)


def _blank_means_any(_converter, field, **_kwargs) -> dict:
    """A search filter may be sent empty: `SearchArgs` takes that for "any"."""
    return {"allowEmptyValue": True} if isinstance(field.parent, SearchArgs) else {}


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error as RFC 9457 problem+json, and documenting them so."""

    ERROR_SCHEMA = Problem

    def _init_spec(self, *args, **kwargs) -> None:
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_parameter_attribute_function(_blank_means_any)

    def _register_responses(self) -> None:
        # flask-smorest documents its errors in the content type of successful answers; ours are problem+json.
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error, as a problem document", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or _field_errors(data.get("messages"))
        detail = data.get("message") or error.description
        if error.code == 400 and "json" in (data.get("messages") or {}):
            detail = "the request body is not valid JSON"
        if error.code == 422:
            detail = "the request has invalid or unknown fields; see errors"
        # Keep what the error itself must say, such as Allow on a 405.
        headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        return problem(error.code or 500, error.name, detail, errors=errors, headers=headers)


def _handle_domain_error(error: DomainError):
    headers = {"WWW-Authenticate": 'Bearer realm="academy"'} if error.status == 401 else None
    if error.status == 503:
        headers = {"Retry-After": RETRY_AFTER_S}
    return problem(error.status, error.title, error.detail, slug=error.slug, errors=error.errors, headers=headers)


def _handle_database_unavailable(_error: Exception):
    log.exception("database unavailable")
    return problem(503, "Service Unavailable", "the service's database cannot be reached; try again shortly",
                   headers={"Retry-After": RETRY_AFTER_S})


def _handle_unstorable_value(_error: Exception):
    # The edge refuses such values (schemas, path parameters); one that slips through is still the client's.
    log.exception("a value the database cannot store reached a query")
    return problem(400, "Bad Request", "the request holds a value the database cannot store")


def _handle_unexpected(_error: Exception):
    # HTTP errors never get here: Flask hands them to ProblemApi's more specific handler.
    log.exception("unhandled error")
    return problem(500, "Internal Server Error", "the server failed to answer; the error has been logged")


def _limit_chunked_body() -> None:
    """A body without Content-Length is read up to the limit here: one byte more is a 413, never a cut body."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    environ = request.environ
    if request.content_length is not None or not environ.get("wsgi.input_terminated"):
        return  # a declared length is checked by werkzeug itself
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(body)


def _refuse_unstorable_path_parameters() -> None:
    """No object's id holds NUL or an unpaired surrogate, and PostgreSQL would fail on the lookup (a 500)."""
    if has_unstorable_text(*(request.view_args or {}).values()):
        raise NotFound("nothing here has such an id: it holds NUL or an unpaired surrogate")


def unsafe_path(environ: dict) -> str | None:
    """What makes a request's path unfit to route, or None: dot segments, encoded slashes, backslashes.

    The public edge refuses these before routing (the embedded dispatcher and the gateway's proxy alike), so that
    no server or HTTP client behind it can resolve them into a path it was never meant to route (`/metrics`).
    PATH_INFO is decoded once by the server, so encoded dots show up as dots there; an encoded slash does not,
    hence the look at the raw request target. What is still percent-encoded after one decoding was encoded
    twice, and some servers decode twice: that is refused too.
    """
    path = environ.get("PATH_INFO", "")
    raw_path = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").partition("?")[0]
    if ENCODED_SEPARATOR.search(raw_path) or "\\" in path:
        return "an encoded slash or a backslash"
    # "..;x" is a dot segment to servers that strip path parameters.
    if any(segment.partition(";")[0] in (".", "..") for segment in path.split("/")):
        return "a dot segment"
    if ENCODED_DOT_OR_SEPARATOR.search(path):
        return "a dot or slash encoded twice"
    return None


def _refuse_unsafe_path() -> None:
    reason = unsafe_path(request.environ)
    if reason:
        raise DomainError(f"the path holds {reason}; name the resource by its own path")


def _refuse_broken_tokens() -> None:
    """A token that comes along must be valid, also where none is needed: an invalid or expired one is a 401.

    Otherwise a client with a broken token would silently get the anonymous answer (no drafts of its own) on
    public reads and a 401 elsewhere. The token endpoints take credentials in the body instead, and a client
    renewing an expired token must reach them whatever header it still sends.
    """
    if "Authorization" in request.headers and not request.path.startswith(TOKEN_PATHS):
        current_principal()


def _begin_request() -> None:
    g.started = time.perf_counter()
    offered = request.headers.get("X-Request-ID", "")
    # A caller's id is kept only if it is plain, so nothing odd reaches the logs or the response headers.
    g.request_id = offered if REQUEST_ID.fullmatch(offered) else str(uuid.uuid4())
    g.context_tokens = (
        current_request_id.set(g.request_id),
        current_traceparent.set(child_of(request.headers.get("traceparent"))),
    )


def _finish_request(service: str):
    def finish(response: Response) -> Response:
        # Labels only from bounded sets: every distinct value is a series kept for the life of the process.
        route = request.url_rule.rule if request.url_rule else "unmatched"
        method = request.method if request.method in COUNTED_METHODS else "other"
        seconds = time.perf_counter() - g.started if "started" in g else 0.0
        metrics.HTTP_LATENCY.labels(service, route).observe(seconds)
        metrics.HTTP_REQUESTS.labels(service, method, route, str(response.status_code)).inc()
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={"route": route, "status": response.status_code, "duration_ms": round(seconds * 1000, 1)},
        )
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers["traceparent"] = current_traceparent.get() or ""
        response.headers["X-Content-Type-Options"] = "nosniff"
        # What a token opened (or a token itself) must not be kept by a browser or a shared cache.
        if "Authorization" in request.headers or request.path.startswith(TOKEN_PATHS):
            response.headers["Cache-Control"] = "no-store"
        return response

    return finish


def _teardown_request(_exc) -> None:
    tokens = g.pop("context_tokens", None)
    if tokens:
        current_request_id.reset(tokens[0])
        current_traceparent.reset(tokens[1])


def _may_read_metrics() -> bool:
    """Whether this request may read /metrics; they tell the world which paths are used, and how often.

    Under gunicorn with METRICS_PORT, only requests that came in on that listener may, and Prometheus scrapes it:
    a caller's address cannot tell, since in a cluster the ingress and Prometheus are both private addresses.
    Without one (embedded, or a process without METRICS_PORT) only callers on this machine may.
    """
    metrics_port = current_app.config.get("METRICS_PORT")
    if metrics_port:
        connection = request.environ.get("gunicorn.socket")
        return connection is not None and connection.getsockname()[1] == metrics_port
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False  # a Unix socket, or no address at all
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def register_health(app: Flask, runtime: Runtime) -> None:
    @app.get("/health/live")
    def live():
        return {"status": "ok"}

    @app.get("/health/ready")
    def ready():
        # The database is required to answer; the broker is reported but not required, because the outbox
        # keeps every event until the broker is back (a member can still book while RabbitMQ is away).
        database = is_reachable(runtime.engine)
        broker = runtime.bus.is_reachable()
        status = "ok" if database and broker else ("degraded" if database else "unavailable")
        body = {"status": status, "checks": {"database": database, "broker": broker}}
        return body, (200 if database else 503)

    @app.get("/metrics")
    def metrics_view():
        if not _may_read_metrics():
            raise NotFound("nothing here by that name")
        payload, content_type = metrics.render()
        return Response(payload, content_type=content_type)


def register_docs_assets(app: Flask) -> None:
    """Swagger UI from the installed package, so the docs page renders without a CDN."""

    @app.get("/api/v1/docs/static/<path:filename>")
    def swagger_ui_asset(filename: str):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


def create_service_app(
    runtime: Runtime,
    *,
    title: str,
    blueprints: Iterable,
    extra_setup: Iterable[Callable[[Flask], None]] = (),
) -> Flask:
    settings = runtime.settings
    app = Flask(settings.service)
    app.config.update(
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="docs/static/",
        JWT_PUBLIC_KEY=settings.jwt_public_key,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.extensions["academy_runtime"] = runtime
    api = ProblemApi(app, spec_kwargs={
        "info": {"description": API_DESCRIPTION},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    })
    from shared.dead_letters_api import dead_letters_blueprint  # it builds on this module's Blueprint

    for blueprint in [*blueprints, dead_letters_blueprint(settings.service)]:
        api.register_blueprint(blueprint)
    app.extensions["academy_api"] = api  # the gateway merges this service's document with the others'
    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(sqlalchemy.exc.OperationalError, _handle_database_unavailable)
    app.register_error_handler(sqlalchemy.exc.DataError, _handle_unstorable_value)
    app.register_error_handler(Exception, _handle_unexpected)
    app.before_request(_begin_request)
    app.before_request(_refuse_unsafe_path)
    app.before_request(_refuse_unstorable_path_parameters)
    app.before_request(_limit_chunked_body)
    app.after_request(_finish_request(settings.service))
    app.teardown_request(_teardown_request)
    register_health(app, runtime)
    register_docs_assets(app)
    for setup in extra_setup:
        setup(app)
    # After the gateway's proxy (an extra setup): a forwarded request's token is for its service to judge.
    app.before_request(_refuse_broken_tokens)
    return app


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["academy_runtime"]


@contextmanager
def transaction() -> Iterator[Session]:
    """The request's database session, in a transaction that commits when the outermost block ends without error.

    A block inside another one (a view inside `Blueprint.idempotent`) joins the outer transaction.
    """
    joined = g.get("db")
    if joined is not None:
        yield joined
        return
    with runtime_of(current_app).session_factory.begin() as db:
        g.db = db
        try:
            yield db
        finally:
            g.pop("db", None)
