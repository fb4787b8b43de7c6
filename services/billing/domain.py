"""Billing rules: revenue-share policies, VAT, the cent-exact split of an invoice and of a credit note."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

BASIS_POINTS = 10_000  # 100 % in hundredths of a percent, so shares stay integers

PROVIDER = "provider"
ACADEMY = "academy"
COMMUNITY_FUND = "community_fund"
PARTIES = (PROVIDER, ACADEMY, COMMUNITY_FUND)
VAT = "vat"
# What an invoice's gross is made of, in the order its lines are shown and posted.
PURPOSES = (VAT, *PARTIES)

# Offers published before VAT and co-providers were part of the offer event (offer.published v1).
V1_VAT_RATE = 19

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass(frozen=True)
class RevenueSharePolicy:
    """Who gets which part of an invoice's net, in basis points per party (they add up to 100 %)."""

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


def largest_remainder(total_cents: int, weights: Mapping[K, int]) -> dict[K, int]:
    """`total_cents` split by `weights` in whole cents that always add up to the total exactly.

    Everyone gets the floor of their exact share, and the cents left over go one each to those whose exact
    share lost the most to rounding (ties in the order of `weights`).
    """
    if total_cents < 0:
        raise ValueError("cannot split a negative total")
    whole = sum(weights.values())
    if whole <= 0:
        raise ValueError("cannot split by weights that add up to nothing")
    exact = {key: total_cents * weight for key, weight in weights.items()}
    parts = {key: numerator // whole for key, numerator in exact.items()}
    left_over = total_cents - sum(parts.values())
    order = list(weights)
    by_remainder = sorted(order, key=lambda key: (-(exact[key] % whole), order.index(key)))
    for key in by_remainder[:left_over]:
        parts[key] += 1
    return parts


def split_by_policy(total_cents: int, policy: RevenueSharePolicy) -> dict[str, int]:
    """Each party's part of `total_cents` in whole cents (largest remainder)."""
    return largest_remainder(total_cents, policy.shares)


def vat_included(gross_cents: int, vat_rate: int) -> int:
    """The VAT inside a gross price at `vat_rate` percent, rounded half up to the cent."""
    if vat_rate < 0:
        raise ValueError("a VAT rate cannot be negative")
    return (2 * gross_cents * vat_rate + 100 + vat_rate) // (2 * (100 + vat_rate))


@dataclass(frozen=True)
class ShareLine:
    """A part of an invoice's gross: VAT or a party's share, attributed to one of the offer's providers.

    Every part is attributed to the providers by their offer shares, so a report by provider adds up to the
    same totals as any other; the provider part so attributed is each provider's own earning.
    """

    purpose: str
    provider_id: str
    cents: int


def invoice_shares(gross_cents: int, vat_rate: int, policy: RevenueSharePolicy,
                   providers: Mapping[str, int]) -> list[ShareLine]:
    """The gross as VAT plus the policy's parts of the net, each split among the providers by their percent."""
    vat = vat_included(gross_cents, vat_rate)
    amounts = {VAT: vat, **split_by_policy(gross_cents - vat, policy)}
    return [
        ShareLine(purpose, provider_id, cents)
        for purpose in PURPOSES
        for provider_id, cents in largest_remainder(amounts.get(purpose, 0), providers).items()
        if cents
    ]


def credit_shares(gross_cents: int, refund_cents: int, vat_rate: int, policy: RevenueSharePolicy,
                  providers: Mapping[str, int]) -> list[ShareLine]:
    """What a credit note of `refund_cents` takes back from each line of the invoice.

    The fee the member keeps paying stays split by the policy exactly as a new invoice of that amount would
    be, and the credit note reverses the rest; a line may come out at -1 cent where rounding the smaller
    amount gave a party one cent more (largest remainder is not monotone).
    """
    if not 0 <= refund_cents <= gross_cents:
        raise ValueError("a refund lies between nothing and the invoice's gross")
    invoiced = _by_key(invoice_shares(gross_cents, vat_rate, policy, providers))
    kept = _by_key(invoice_shares(gross_cents - refund_cents, vat_rate, policy, providers))
    return [
        ShareLine(purpose, provider_id, invoiced.get((purpose, provider_id), 0) - kept.get((purpose, provider_id), 0))
        for purpose in PURPOSES
        for provider_id in providers
        if invoiced.get((purpose, provider_id), 0) != kept.get((purpose, provider_id), 0)
    ]


def _by_key(lines: list[ShareLine]) -> dict[tuple[str, str], int]:
    return {(line.purpose, line.provider_id): line.cents for line in lines}


def policy_in_force(versions: list[tuple[datetime, int, T]], at: datetime) -> T:
    """What the latest version that took effect at or before `at` holds (the newer one on the same date)."""
    in_force = [version for version in versions if version[0] <= at]
    if not in_force:
        raise LookupError(f"no revenue-share policy was in force at {at.isoformat()}")
    return max(in_force, key=lambda version: (version[0], version[1]))[2]


def invoice_number(year: int, sequence: int) -> str:
    return f"VCA-{year}-{sequence:06d}"


OPEN, PAID, CREDITED = "open", "paid", "credited"


@dataclass(frozen=True)
class InvoiceState:
    """What an invoice asks for now: the gross less what was credited, against what was paid less refunded."""

    status: str
    due_cents: int
    paid_cents: int

    @property
    def open_cents(self) -> int:
        return max(self.due_cents - self.paid_cents, 0)

    @property
    def overpaid_cents(self) -> int:
        """Paid beyond what is due: a credit note came after the payment, and this much goes back."""
        return max(self.paid_cents - self.due_cents, 0)


def invoice_state(gross_cents: int, credited_cents: int, paid_cents: int) -> InvoiceState:
    """Credited when nothing is left to pay because all of it was credited; paid when what is due was paid."""
    due = gross_cents - credited_cents
    if credited_cents and due == 0:
        return InvoiceState(CREDITED, due, paid_cents)
    return InvoiceState(PAID if paid_cents >= due else OPEN, due, paid_cents)
