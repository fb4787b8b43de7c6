"""`academy run | serve | worker | migrate | dead-letters | keys | events | revision`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from shared.config import SERVICES, InvalidSetting, MissingSettings, Settings

DISTRIBUTED_REQUIREMENTS = ("DATABASE_URL", "AMQP_URL")


def _settings(service: str, require: tuple[str, ...] = ()) -> Settings:
    return Settings.from_env(service, require=require)


def cmd_run(args) -> None:
    data_dir = Path(os.environ.get("ACADEMY_DATA_DIR") or "var").resolve()
    # Metrics of every process are summed from files in this folder; it must be set before prometheus_client
    # is first imported, which is why the academy is imported only below.
    metrics_dir = data_dir / "metrics"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):  # an earlier run's counters would be added to this run's
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    from academy.embedded import serve_embedded
    from shared.logs import configure_logging

    configure_logging("academy", os.environ.get("LOG_LEVEL", "INFO"))
    serve_embedded(data_dir, args.host, args.port, args.demo, args.workers or os.cpu_count() or 1)


def cmd_serve(args) -> None:
    require = DISTRIBUTED_REQUIREMENTS + ("JWT_PUBLIC_KEY",)
    if args.service == "catalog":
        require += ("JWT_PRIVATE_KEY",) + tuple(f"{name.upper()}_URL" for name in SERVICES if name != "catalog")
    settings = _settings(args.service, require)
    # Metrics of all gunicorn workers are summed from files in this folder; it must be set before
    # prometheus_client is first imported, which is why services are imported only below.
    own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if own_metrics_dir:
        # Until gunicorn installs its handlers, SIGTERM would end the process without the cleanup below.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"academy-{args.service}-metrics-")
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):  # an earlier run's counters would be added to this run's
        stale.unlink()
    master_pid = os.getpid()
    try:
        from academy.gunicorn_app import ServiceApplication

        workers = args.workers or settings.web_concurrency
        ServiceApplication(settings, port=args.port or settings.port, workers=workers).run()
    finally:
        # Forked workers leave through here too; only the master, once gunicorn has stopped them, removes the folder.
        if own_metrics_dir and os.getpid() == master_pid:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def cmd_worker(args) -> None:
    import signal

    from prometheus_client import start_http_server

    from academy.registry import load_service
    from shared.logs import configure_logging
    from shared.service import Runtime
    from shared.worker import Worker

    settings = _settings(args.service, DISTRIBUTED_REQUIREMENTS)
    configure_logging(f"{args.service}-worker", settings.log_level)
    worker = Worker(load_service(args.service), Runtime(settings))
    start_http_server(settings.worker_port)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop_event.set())
    worker.start()
    logging.getLogger(__name__).info("worker of %s started", args.service)
    worker.stop_event.wait()
    worker.stop()


def _migrate_targets(service: str | None) -> list[str]:
    if service:
        return [service]
    if os.environ.get("DATABASE_URL"):
        raise SystemExit("DATABASE_URL names one service's database: say which, e.g. `academy migrate booking`")
    return list(SERVICES)


def cmd_migrate(args) -> None:
    from academy.registry import load_service
    from shared.db import make_engine
    from shared.migrations import upgrade

    for name in _migrate_targets(args.service):
        settings = _settings(name)
        engine = make_engine(settings.database_url)
        upgrade(load_service(name), engine)
        engine.dispose()
        print(f"{name}: database at head")


def cmd_revision(args) -> None:
    from academy.registry import load_service
    from shared.db import make_engine
    from shared.migrations import make_revision

    with tempfile.TemporaryDirectory() as scratch:
        make_revision(load_service(args.service), make_engine(f"sqlite:///{scratch}/scratch.db"), args.message)


def cmd_dead_letters(args) -> None:
    from shared.bus import make_bus

    bus = make_bus(_settings(args.service))
    try:
        if args.action == "list":
            for letter in bus.dead_letters(args.service):
                print(json.dumps({
                    "message_id": letter.message_id,
                    "routing_key": letter.routing_key,
                    "attempts": letter.attempts,
                    "dead_at": letter.dead_at,
                    "reason": letter.reason,
                }))
        else:
            count = bus.replay_dead_letters(args.service, set(args.id) if args.id else None)
            print(f"replayed {count} dead letter(s) into the {args.service} queue")
    finally:
        bus.close()


def cmd_roles(args) -> None:
    from sqlalchemy.exc import OperationalError

    from services.catalog.commands import grant_role
    from shared.db import make_engine, make_session_factory
    from shared.errors import DomainError

    engine = make_engine(_settings("catalog").database_url)
    try:
        with make_session_factory(engine).begin() as db:
            member = grant_role(db, args.email, args.role)
            print(f"{member.email} now has the roles: {', '.join(member.roles)}; "
                  "their sessions have ended, so the next sign-in's tokens carry it")
    except DomainError as exc:
        raise SystemExit(f"academy: {exc.detail}") from exc
    except OperationalError as exc:
        raise SystemExit(f"academy: catalog's database is unreachable or not migrated: {exc.orig}") from exc
    finally:
        engine.dispose()


def cmd_keys(args) -> None:
    from shared.auth import ensure_keypair

    private_path, public_path = ensure_keypair(Path(args.dir))
    print(f"{private_path}\n{public_path}")


def cmd_events(args) -> None:
    from academy.registry import load_all
    from shared.events import topology
    from shared.events.asyncapi import build_asyncapi

    if args.action == "asyncapi":
        print(json.dumps(build_asyncapi(topology.consumed_types()), indent=2))
        return
    # The services' handler registries are the source; the file is what workers and the catalogue read.
    derived = topology.render(topology.derive({name: service.handlers for name, service in load_all().items()}))
    if args.write:
        topology.TOPOLOGY_FILE.write_text(derived)
        print(f"wrote {topology.TOPOLOGY_FILE}")
    else:
        print(derived, end="")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="academy", description="The Virtual Cluster Academy")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="the whole academy on this machine (SQLite, local bus)")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--workers", type=int, help="web processes (default: one per core)")
    run.add_argument("--demo", action="store_true", help="seed demo members, offers and sessions")
    run.set_defaults(handler=cmd_run)

    serve = commands.add_parser("serve", help="one service's HTTP API under gunicorn")
    serve.add_argument("service", choices=SERVICES)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=None, help="gunicorn processes (default: WEB_CONCURRENCY)")
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser("worker", help="one service's event consumer and outbox relay")
    worker.add_argument("service", choices=SERVICES)
    worker.set_defaults(handler=cmd_worker)

    migrate = commands.add_parser("migrate", help="bring databases to the newest schema")
    migrate.add_argument("service", nargs="?", choices=SERVICES)
    migrate.set_defaults(handler=cmd_migrate)

    revision = commands.add_parser("revision", help="autogenerate a migration of one service")
    revision.add_argument("service", choices=SERVICES)
    revision.add_argument("-m", "--message", required=True)
    revision.set_defaults(handler=cmd_revision)

    dead = commands.add_parser("dead-letters", help="inspect or replay a service's dead-lettered events")
    dead.add_argument("action", choices=("list", "replay"))
    dead.add_argument("service", choices=SERVICES)
    dead.add_argument("--id", action="append", help="replay only this message id (repeatable)")
    dead.set_defaults(handler=cmd_dead_letters)

    roles = commands.add_parser("roles", help="give a registered member the operator, reviewer or partner role")
    roles.add_argument("action", choices=("grant",))
    roles.add_argument("email")
    roles.add_argument("role")
    roles.set_defaults(handler=cmd_roles)

    keys = commands.add_parser("keys", help="token signing keys")
    keys.add_argument("action", choices=("generate",))
    keys.add_argument("--dir", required=True)
    keys.set_defaults(handler=cmd_keys)

    events = commands.add_parser("events", help="the event catalogue")
    events.add_argument("action", choices=("asyncapi", "topology"),
                        help="asyncapi: the catalogue; topology: who consumes what, from the handler registries")
    events.add_argument("--write", action="store_true", help="topology: regenerate shared/events/topology.json")
    events.set_defaults(handler=cmd_events)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (MissingSettings, InvalidSetting) as exc:
        print(f"academy: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
