"""Flask plumbing every service shares: OpenAPI, problem+json errors, request context, health and metrics."""

from __future__ import annotations

import functools
import io
import json
import logging
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
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared import metrics
from shared.auth import current_principal
from shared.db import is_reachable
from shared.errors import DomainError, NotFound
from shared.idempotency import MAX_KEY_LENGTH, check_key, claim_key, fingerprint, save_answer
from shared.schemas import has_unstorable_text
from shared.service import Runtime
from shared.tracing import child_of, current_request_id, current_traceparent

log = logging.getLogger(__name__)
access_log = logging.getLogger("academy.access")
PROBLEM_JSON = "application/problem+json"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


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
        body["errors"] = errors
    if current_request_id.get():
        body["instance"] = f"urn:request:{current_request_id.get()}"
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


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


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error as RFC 9457 problem+json."""

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
    return problem(error.status, error.title, error.detail, slug=error.slug, errors=error.errors, headers=headers)


def _handle_database_unavailable(_error: Exception):
    log.exception("database unavailable")
    return problem(503, "Service Unavailable", "the service's database cannot be reached; try again shortly",
                   headers={"Retry-After": "5"})


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
        route = request.url_rule.rule if request.url_rule else "unmatched"
        seconds = time.perf_counter() - g.started if "started" in g else 0.0
        metrics.HTTP_LATENCY.labels(service, route).observe(seconds)
        metrics.HTTP_REQUESTS.labels(service, request.method, route, str(response.status_code)).inc()
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={"route": route, "status": response.status_code, "duration_ms": round(seconds * 1000, 1)},
        )
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers["traceparent"] = current_traceparent.get() or ""
        return response

    return finish


def _teardown_request(_exc) -> None:
    tokens = g.pop("context_tokens", None)
    if tokens:
        current_request_id.reset(tokens[0])
        current_traceparent.reset(tokens[1])


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
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}
    })
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(sqlalchemy.exc.OperationalError, _handle_database_unavailable)
    app.register_error_handler(sqlalchemy.exc.DataError, _handle_unstorable_value)
    app.register_error_handler(Exception, _handle_unexpected)
    app.before_request(_begin_request)
    app.before_request(_refuse_unstorable_path_parameters)
    app.before_request(_limit_chunked_body)
    app.after_request(_finish_request(settings.service))
    app.teardown_request(_teardown_request)
    register_health(app, runtime)
    register_docs_assets(app)
    for setup in extra_setup:
        setup(app)
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
