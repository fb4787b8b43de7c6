"""Helpers for the services' tests: a runtime on a fresh database, signed tokens, events as deliveries."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from shared.auth import generate_keypair, issue_token
from shared.bus import Delivery
from shared.config import Settings
from shared.events import EventType, build_event
from shared.migrations import upgrade
from shared.service import Runtime, ServiceDefinition


@cache
def signing_keypair() -> tuple[str, str]:
    return generate_keypair()


def make_runtime(definition: ServiceDefinition, data_dir: Path, **env: str) -> Runtime:
    """A migrated runtime of `definition` on SQLite files in `data_dir` (DATABASE_URL etc. may override)."""
    private_pem, public_pem = signing_keypair()
    settings = Settings.from_env(
        definition.name,
        {
            "ACADEMY_DATA_DIR": str(data_dir),
            "JWT_PRIVATE_KEY": private_pem,
            "JWT_PUBLIC_KEY": public_pem,
            "EVENT_RETRY_DELAYS": "0.1,0.2",
            **env,
        },
    )
    runtime = Runtime(settings)
    upgrade(definition, runtime.engine)
    return runtime


def bearer(member_id: str, *roles: str) -> dict[str, str]:
    token = issue_token(signing_keypair()[0], member_id, list(roles or ("member",)))
    return {"Authorization": f"Bearer {token}"}


def delivery(event_type: EventType, subject: str, data: dict, **envelope) -> Delivery:
    body = json.dumps(build_event(event_type, subject, data, **envelope)).encode()
    return Delivery(body=body, routing_key=event_type.routing_key, attempts=0)
