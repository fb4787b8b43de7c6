"""The baseline of bench/booking.py and bench/catalog_search.py, under the services' gunicorn and engine settings: one
row inserted per request, or a fixed page."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, jsonify, request  # noqa: E402
from sqlalchemy import Column, DateTime, MetaData, String, Table  # noqa: E402

from academy.gunicorn_app import AcademyApplication  # noqa: E402
from shared.config import Settings  # noqa: E402
from shared.db import make_engine  # noqa: E402

metadata = MetaData()
rows = Table(
    "bare_rows", metadata,
    Column("id", String(36), primary_key=True),
    Column("session_id", String(36), nullable=False),
    Column("format", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def prepare(database_url: str) -> None:
    """Create the table before gunicorn starts: workers racing on CREATE TABLE would trip over each other."""
    engine = make_engine(database_url)
    metadata.create_all(engine)
    engine.dispose()


def create_app(database_url: str) -> Flask:
    engine = make_engine(database_url)
    app = Flask(__name__)

    @app.post("/insert")
    def insert():
        body = request.get_json()
        row = {"id": str(uuid.uuid4()), "session_id": body["session_id"], "format": body["format"],
               "created_at": datetime.now(UTC)}
        with engine.begin() as connection:
            connection.execute(rows.insert(), row)
        return jsonify({**row, "status": "confirmed", "created_at": row["created_at"].isoformat()}), 201

    page = {"items": [], "total": 0, "page": 1, "per_page": 20, "pages": 0}

    @app.get("/page")
    def fixed_page():  # bench/catalog_search.py's baseline: a fixed page of search results, no database
        return jsonify(page)

    @app.get("/health")
    def health():
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=Settings.from_env("booking", {}).web_concurrency)
    args = parser.parse_args()
    prepare(args.database_url)
    # gunicorn_app's child_exit hook clears a dead worker's metric files from this folder, so it must exist.
    metrics_dir = tempfile.mkdtemp(prefix="bench-bare-metrics-")
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
    master_pid = os.getpid()
    try:
        # The services' gunicorn settings, serving the bare app instead of a service.
        AcademyApplication([f"0.0.0.0:{args.port}"], args.workers, lambda: create_app(args.database_url)).run()
    finally:
        if os.getpid() == master_pid:  # forked workers leave through here too
            shutil.rmtree(metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
