"""The web front end: index.html at `/` and its static files under `/assets/`, served by the gateway.

The pages call only the public `/api/v1` with the member's bearer token, as any other front end would; this
module serves files and nothing else.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, send_from_directory

STATIC = Path(__file__).parent / "static"
# Everything the pages load comes from the academy itself; no inline script or style, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

web_blp = Blueprint("web", __name__)


@web_blp.get("/")
def index() -> Response:
    return send_from_directory(STATIC, "index.html", max_age=0)


@web_blp.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    # no-cache: the browser asks again each time, and an unchanged file costs only a 304 (ETag).
    return send_from_directory(STATIC, filename, max_age=0)


@web_blp.after_request
def page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def register_web_front_end(app: Flask) -> None:
    app.register_blueprint(web_blp)
