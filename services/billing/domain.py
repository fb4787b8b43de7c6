"""Billing rules: revenue-share policies, the cent-exact split, ledger lines and invoice numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

BASIS_POINTS = 10_000  # 100 % in hundredths of a percent, so shares stay integers

PROVIDER = "provider"
ACADEMY = "academy"
COMMUNITY_FUND = "community_fund"
PARTIES = (PROVIDER, ACADEMY, COMMUNITY_FUND)

MEMBER_RECEIVABLE = "member_receivable"
ACADEMY_REVENUE = "academy_revenue"
COMMUNITY_FUND_ACCOUNT = "community_fund"


@dataclass(frozen=True)
class RevenueSharePolicy:
    """Who gets which part of an invoice total, in basis points per party (they add up to 100 %)."""

    name: str
    shares: Mapping[str, int]

    def __post_init__(self) -> None:
        unknown = set(self.shares) - set(PARTIES)
        if unknown:
            raise ValueError(f"unknown parties in a revenue-share policy: {', '.join(sorted(unknown))}")
        if any(share < 0 for share in self.shares.values()):
            raise ValueError("revenue shares cannot be negative")
        if sum(self.shares.values()) != BASIS_POINTS:
            raise ValueError(f"revenue shares must add up to {BASIS_POINTS} basis points")


DEFAULT_POLICY = RevenueSharePolicy("default", {PROVIDER: 7_000, ACADEMY: 2_000, COMMUNITY_FUND: 1_000})


def split_by_policy(total_cents: int, policy: RevenueSharePolicy) -> dict[str, int]:
    """Each party's part of `total_cents` in whole cents; the parts always add up to the total exactly.

    Largest remainder: everyone gets the floor of their exact share, and the cents left over go one each
    to the parties whose exact share lost the most to rounding (ties in the policy's order).
    """
    if total_cents < 0:
        raise ValueError("cannot split a negative total")
    exact = {party: total_cents * share for party, share in policy.shares.items()}
    parts = {party: numerator // BASIS_POINTS for party, numerator in exact.items()}
    left_over = total_cents - sum(parts.values())
    order = list(policy.shares)
    by_remainder = sorted(order, key=lambda party: (-(exact[party] % BASIS_POINTS), order.index(party)))
    for party in by_remainder[:left_over]:
        parts[party] += 1
    return parts


@dataclass(frozen=True)
class LedgerLine:
    account: str
    debit_cents: int
    credit_cents: int


def provider_payable(provider_id: str) -> str:
    return f"provider_payable:{provider_id}"


def invoice_ledger_lines(total_cents: int, provider_id: str, policy: RevenueSharePolicy) -> list[LedgerLine]:
    """Double entry for an invoice: the member owes the total, which is owed on to the parties by policy."""
    accounts = {
        PROVIDER: provider_payable(provider_id),
        ACADEMY: ACADEMY_REVENUE,
        COMMUNITY_FUND: COMMUNITY_FUND_ACCOUNT,
    }
    parts = split_by_policy(total_cents, policy)
    lines = [LedgerLine(MEMBER_RECEIVABLE, total_cents, 0)]
    lines += [LedgerLine(accounts[party], 0, cents) for party, cents in parts.items()]
    # A free offer or a zero share leaves nothing to book; empty lines would only clutter the ledger.
    return [line for line in lines if line.debit_cents or line.credit_cents]


def invoice_number(year: int, sequence: int) -> str:
    return f"VCA-{year}-{sequence:06d}"
