"""Billing's own settings, read once from the environment: the currency of its books, the teach-to-learn bonus and
where payouts go."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.config import InvalidSetting, Settings


@dataclass(frozen=True)
class BillingSettings:
    # The one currency the ledger, payouts and credits are kept in.
    currency: str
    # What a provider gets on top when converting earnings into academy credits, in percent.
    credit_bonus_percent: int
    # Where the embedded payout partner writes each transfer as a file (no bank connection configured).
    payout_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BillingSettings:
        env = os.environ if env is None else env
        raw = env.get("BILLING_CREDIT_BONUS_PERCENT") or "10"
        if not raw.isdigit() or int(raw) > 100:
            raise InvalidSetting(f"BILLING_CREDIT_BONUS_PERCENT: expected a whole percent from 0 to 100, got {raw!r}")
        base = Settings.from_env("billing", env)
        if len(base.currencies) > 1:
            # Accounts are per party, not per party and currency: a second currency would be added to the first.
            raise InvalidSetting(f"ACADEMY_CURRENCIES: billing keeps its books in one currency, got "
                                 f"{', '.join(base.currencies)}")
        return cls(currency=base.currencies[0], credit_bonus_percent=int(raw), payout_dir=base.data_dir / "payouts")


@cache
def billing_settings() -> BillingSettings:
    return BillingSettings.from_env()
