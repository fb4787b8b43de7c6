"""The refresh-token rotation on a real database, as a hypothesis state machine against a plain model.

Clients sign in, exchange, replay, wait, log out and lose every session at once in any order; after each step
the answers match the model and every session (family) has at most one token that can still be exchanged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from services.catalog import SERVICE, commands
from services.catalog.credentials import REUSE_GRACE
from services.catalog.models import Member, RefreshToken
from shared.errors import Unauthorized
from shared.testing import make_runtime

LIFETIME = timedelta(minutes=10)


@dataclass
class ModelToken:
    family: str
    expires_at: datetime
    status: str = "active"
    rotated_at: datetime | None = None
    successor: str | None = None


@dataclass
class Model:
    tokens: dict[str, ModelToken] = field(default_factory=dict)

    def revoke_family(self, family: str) -> None:
        for token in self.tokens.values():
            if token.family == family:
                token.status = "revoked"

    def may_exchange(self, presented: str, now: datetime) -> bool:
        """Whether the rotation rule hands out a new token for `presented`; a replay outside it revokes."""
        token = self.tokens[presented]
        if token.status == "revoked" or now >= token.expires_at:
            return False
        if token.status == "active":
            return True
        successor = self.tokens[token.successor] if token.successor else None
        if now - token.rotated_at < REUSE_GRACE and successor and successor.status == "active":
            return True
        self.revoke_family(token.family)
        return False

    def exchanged(self, presented: str, issued: str, now: datetime) -> None:
        token = self.tokens[presented]
        if token.status == "active":
            token.status, token.rotated_at = "rotated", now
        else:  # a retry within the grace: the successor it got first is spent, unused
            successor = self.tokens[token.successor]
            successor.status, successor.rotated_at = "rotated", now
        token.successor = issued
        self.tokens[issued] = ModelToken(token.family, token.expires_at)


class Rotation(RuleBasedStateMachine):
    tokens = Bundle("tokens")

    def __init__(self, runtime):
        super().__init__()
        self.runtime = runtime
        self.model = Model()
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        with runtime.session_factory.begin() as db:
            self.member_id = str(uuid.uuid4())
            db.add(Member(id=self.member_id, email=f"{self.member_id}@cluster.example", display_name="Ann",
                          password_hash="-", roles=["member"], created_at=self.now))

    @rule(target=tokens)
    def sign_in(self):
        with self.runtime.session_factory.begin() as db:
            token = commands.start_session(db, self.member_id, self.now, LIFETIME)
        self.model.tokens[token] = ModelToken(str(uuid.uuid4()), self.now + LIFETIME)
        return token

    @rule(target=tokens, presented=tokens)
    def exchange(self, presented):
        with self.runtime.session_factory.begin() as db:
            outcome = commands.rotate_refresh_token(db, presented, self.now)
        expected = self.model.may_exchange(presented, self.now)
        refused = isinstance(outcome, Unauthorized)
        assert refused != expected, (presented, self.model.tokens[presented])
        if not expected:
            return presented
        assert outcome.refresh_token not in self.model.tokens and outcome.member.id == self.member_id
        self.model.exchanged(presented, outcome.refresh_token, self.now)
        return outcome.refresh_token

    @rule(presented=tokens)
    def log_out(self, presented):
        with self.runtime.session_factory.begin() as db:
            commands.end_session(db, presented)
        self.model.revoke_family(self.model.tokens[presented].family)

    @rule()
    def lose_every_session(self):
        with self.runtime.session_factory.begin() as db:
            commands.revoke_sessions(db, self.member_id)
        for token in self.model.tokens.values():
            token.status = "revoked"

    @rule(seconds=st.sampled_from([1, 10, int(REUSE_GRACE.total_seconds()), 60, 300]))
    def wait(self, seconds):
        self.now += timedelta(seconds=seconds)

    @invariant()
    def a_family_has_at_most_one_token_to_exchange(self):
        with self.runtime.session_factory.begin() as db:
            crowded = db.execute(
                select(RefreshToken.family_id).where(RefreshToken.status == "active")
                .group_by(RefreshToken.family_id).having(func.count() > 1)
            ).all()
        assert crowded == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_rotation_follows_the_model(request, tmp_path, backend):
    env = {}
    if backend == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("make_postgres_database")("rotation")
    runtime = make_runtime(SERVICE, tmp_path, **env)
    try:
        run_state_machine_as_test(
            lambda: Rotation(runtime),
            settings=settings(max_examples=40, stateful_step_count=25, deadline=None, database=None,
                              suppress_health_check=[HealthCheck.too_slow]),
        )
    finally:
        runtime.close()
