"""Revenue-share policy versions: added by operators, each in force from its date until the next one's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.billing import batch_reads
from services.billing.domain import ACADEMY, COMMUNITY_FUND, PROVIDER, RevenueSharePolicy, policy_in_force
from services.billing.models import RevenuePolicy
from shared.errors import Unprocessable


def as_policy(row: RevenuePolicy) -> RevenueSharePolicy:
    return RevenueSharePolicy(f"v{row.version}", {
        PROVIDER: row.provider_bp, ACADEMY: row.academy_bp, COMMUNITY_FUND: row.community_fund_bp,
    })


def snapshot_of(policy: RevenueSharePolicy) -> dict[str, int]:
    return dict(policy.shares)


@dataclass(frozen=True)
class PolicyVersions:
    rows: list[RevenuePolicy]

    def in_force(self, at: datetime) -> tuple[int, RevenueSharePolicy]:
        """The version number and policy in force at `at`."""
        versions = [(row.effective_from, row.version, (row.version, as_policy(row))) for row in self.rows]
        return policy_in_force(versions, at)

    def by_number(self, version: int | None) -> RevenueSharePolicy:
        for row in self.rows:
            if row.version == version:
                return as_policy(row)
        raise LookupError(f"no revenue-share policy version {version}")


def policy_versions(db: Session) -> PolicyVersions:
    """Every version (a handful: they change by decision of the members, not per booking)."""
    return PolicyVersions(batch_reads.policies(db))


def add_policy(db: Session, *, shares_bp: dict[str, int], effective_from: datetime, created_by: str) -> RevenuePolicy:
    """A new version; it may not take effect in the past, since invoices already issued keep theirs."""
    errors = {}
    if sum(shares_bp.values()) != 10_000:
        errors["shares"] = ["provider, academy and community fund shares must add up to 100 %"]
    now = datetime.now(UTC)
    if effective_from < now:
        errors["effective_from"] = ["a policy cannot take effect in the past"]
    if errors:
        raise Unprocessable("the policy cannot be added; see errors", errors=errors)
    # Versions number on; two operators adding at once collide on the primary key and one retries.
    version = (db.scalar(select(func.max(RevenuePolicy.version))) or 0) + 1
    row = RevenuePolicy(version=version, provider_bp=shares_bp[PROVIDER], academy_bp=shares_bp[ACADEMY],
                        community_fund_bp=shares_bp[COMMUNITY_FUND], effective_from=effective_from,
                        created_at=now, created_by=created_by)
    db.add(row)
    db.flush()
    batch_reads.policy_written(db)
    return row
