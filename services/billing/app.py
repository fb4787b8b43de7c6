"""Billing service: invoices, payments, payouts, credits, the revenue-share split and the ledger."""

from __future__ import annotations

from flask import Flask

from services.billing.api import blp, credits_blp, ledger_blp, payouts_blp, policies_blp
from services.billing.reports_api import reports_blp
from services.billing.settings import billing_settings
from shared.service import Runtime
from shared.web import create_service_app


def create_app(runtime: Runtime) -> Flask:
    billing_settings()  # read now, so a bad BILLING_CREDIT_BONUS_PERCENT stops the start rather than a request
    return create_service_app(runtime, title="Academy billing",
                              blueprints=[blp, policies_blp, ledger_blp, payouts_blp, credits_blp, reports_blp])
