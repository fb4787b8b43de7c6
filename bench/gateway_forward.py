"""CPU of the gateway per forwarded request, in process: `POST /api/v1/bookings` with a member's token and an
Idempotency-Key through the catalog's app (token check, deleted-account check on PostgreSQL, the proxy) to a
stub booking service answering 201 in the same process, whose CPU is counted too.

`--code DIR` runs another checkout's code (e.g. a `git worktree` of an earlier commit) in the same run's
conditions, for a before-and-after beside each other.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path


def stub_service() -> str:
    """A booking service that answers every request 201 over HTTP/1.1 with kept-alive connections."""
    from werkzeug.serving import WSGIRequestHandler, make_server
    from werkzeug.wrappers import Request, Response

    class KeepAlive(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_request(self, *args, **kwargs) -> None:
            pass

    def answer(environ, start_response):
        Request(environ).get_data()
        return Response('{"id": "b-1"}', status=201, content_type="application/json")(environ, start_response)

    server = make_server("127.0.0.1", 0, answer, threaded=True, request_handler=KeepAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def measure(requests: int, postgres_url: str) -> float:
    from sqlalchemy import create_engine, text

    from services import catalog
    from shared.testing import bearer, make_runtime

    name = f"bench_gateway_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        upstream = stub_service()
        upstreams = {f"{service}_URL": upstream for service in ("BOOKING", "BILLING", "NOTIFY", "ASSESSMENT")}
        runtime = make_runtime(catalog.SERVICE, Path(tempfile.mkdtemp()),
                               DATABASE_URL=postgres_url.rsplit("/", 1)[0] + "/" + name, **upstreams)
        client = catalog.SERVICE.create_app(runtime).test_client()
        headers = [bearer(str(uuid.uuid4())) for _ in range(requests + 50)]

        def forward(index: int) -> None:
            answer = client.post("/api/v1/bookings", json={"session_id": "s-1", "format": "online"},
                                 headers={**headers[index], "Idempotency-Key": str(uuid.uuid4())})
            assert answer.status_code == 201, answer.get_data(as_text=True)

        for index in range(50):  # connections opened, statements prepared
            forward(requests + index)
        began = time.process_time()
        for index in range(requests):
            forward(index)
        spent = time.process_time() - began
        runtime.close()
        return spent * 1000 / requests
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    print(f"{args.code}: {measure(args.requests, args.postgres_url):.2f} ms of CPU per forwarded booking "
          "(gateway and stub service)")


if __name__ == "__main__":
    main()
