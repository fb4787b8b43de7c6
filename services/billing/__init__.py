"""Billing: revenue-share policy, double-entry ledger, invoices, payments, payouts and credits."""

from pathlib import Path

from services.billing.app import create_app
from services.billing.handlers import HANDLERS
from services.billing.models import Base
from services.billing.payments import REFUND_EFFECT
from services.billing.payout_partner import FilePayoutPartner
from services.billing.payouts import PAYOUT_EFFECT, MonthlyPayouts
from shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="billing",
    metadata=Base.metadata,
    handlers=HANDLERS,
    create_app=create_app,
    migrations=Path(__file__).parent / "migrations",
    side_effects={REFUND_EFFECT: FilePayoutPartner(), PAYOUT_EFFECT: FilePayoutPartner()},
    scheduled={"payouts": MonthlyPayouts()},
)
