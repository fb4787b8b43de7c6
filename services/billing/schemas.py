"""Billing's request and response bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from shared.schemas import PageArgs, StrictSchema, page_schema


def _percent(value: Decimal) -> None:
    # A check of its own rather than validate.Range: apispec writes a Decimal field's bounds as strings.
    if not 0 <= value <= 100:
        raise ValidationError("must be between 0 and 100")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValidationError("at most two decimals")


PERCENT = fields.Decimal(required=True, validate=_percent,
                         metadata={"description": "percent, at most two decimals (70, 72.5)", "minimum": 0,
                                   "maximum": 100})


class ShareLineOut(StrictSchema):
    purpose = fields.String(metadata={"description": "vat, provider, academy or community_fund"})
    provider_id = fields.String(metadata={"description": "the provider this part is attributed to"})
    cents = fields.Integer()


class InvoiceLineOut(StrictSchema):
    description = fields.String()
    quantity = fields.Integer()
    unit_price_cents = fields.Integer(metadata={"description": "gross, VAT included"})
    net_cents = fields.Integer()
    vat_rate = fields.Integer(metadata={"description": "percent"})
    vat_cents = fields.Integer()
    gross_cents = fields.Integer()


class CreditNoteOut(StrictSchema):
    id = fields.String()
    number = fields.String()
    reason = fields.String()
    total_cents = fields.Integer(metadata={"description": "the gross credited"})
    net_cents = fields.Integer()
    vat_cents = fields.Integer()
    fee_cents = fields.Integer(metadata={"description": "what remains to pay of the invoice"})
    currency = fields.String()
    shares = fields.List(fields.Nested(ShareLineOut), metadata={"description": "the parts taken back"})
    issued_at = fields.AwareDateTime()


def _not_in_the_future(value: datetime) -> None:
    if value > datetime.now(UTC):
        raise ValidationError("cannot lie in the future")


class PaymentIn(StrictSchema):
    amount_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000_000),
                                  metadata={"description": "what was received, at most what is open"})
    reference = fields.String(validate=validate.Length(max=140), metadata={"description": "the bank's reference"})
    received_at = fields.AwareDateTime(validate=_not_in_the_future,
                                       metadata={"description": "when the money came in; now if left out"})


class PaymentOut(StrictSchema):
    id = fields.String()
    invoice_id = fields.String()
    method = fields.String(metadata={"description": "bank, credits, bank_refund or credits_refund"})
    amount_cents = fields.Integer()
    reference = fields.String(allow_none=True)
    received_at = fields.AwareDateTime()


class InvoiceOut(StrictSchema):
    id = fields.String()
    number = fields.String()
    booking_id = fields.String()
    member_id = fields.String()
    offer_id = fields.String()
    description = fields.String()
    seller = fields.String(allow_none=True)
    buyer_name = fields.String(allow_none=True)
    buyer_address = fields.List(fields.String(), allow_none=True,
                                metadata={"description": "the member's postal address at issue, if they gave one"})
    total_cents = fields.Integer(metadata={"description": "the gross"})
    net_cents = fields.Integer(allow_none=True)
    vat_cents = fields.Integer(allow_none=True)
    vat_rate = fields.Integer(allow_none=True)
    currency = fields.String()
    policy_version = fields.Integer(allow_none=True)
    lines = fields.Method("invoice_lines", metadata={"description": "what was sold"})
    shares = fields.List(fields.Nested(ShareLineOut), allow_none=True,
                         metadata={"description": "the revenue split: VAT and each party's part of the gross"})
    credit_note = fields.Nested(CreditNoteOut, allow_none=True)
    status = fields.String(metadata={"description": "open, paid or credited"})
    due_cents = fields.Integer(metadata={"description": "the gross less what was credited"})
    paid_cents = fields.Integer(metadata={"description": "received less refunded"})
    open_cents = fields.Integer(metadata={"description": "what remains to pay"})
    payments = fields.List(fields.Nested(PaymentOut), metadata={"description": "payments and refunds"})
    issued_at = fields.AwareDateTime()

    def invoice_lines(self, invoice) -> list[dict]:
        return [{"description": invoice.description, "quantity": 1, "unit_price_cents": invoice.total_cents,
                 "net_cents": invoice.net_cents, "vat_rate": invoice.vat_rate, "vat_cents": invoice.vat_cents,
                 "gross_cents": invoice.total_cents}]


InvoicePage = page_schema(InvoiceOut, "InvoicePage")


class PolicyIn(StrictSchema):
    provider_percent = PERCENT
    academy_percent = PERCENT
    community_fund_percent = PERCENT
    effective_from = fields.AwareDateTime(required=True, metadata={"description": "not in the past"})

    @validates_schema
    def shares_make_a_whole(self, data, **_kwargs):
        shares = ("provider_percent", "academy_percent", "community_fund_percent")
        if all(share in data for share in shares) and sum(data[share] for share in shares) != 100:
            raise ValidationError("the shares must add up to 100", field_name="shares")

    @post_load
    def in_basis_points(self, data, **_kwargs):
        return {
            "shares_bp": {party: int(data[f"{party}_percent"] * 100)
                          for party in ("provider", "academy", "community_fund")},
            "effective_from": data["effective_from"],
        }


class PolicyOut(StrictSchema):
    version = fields.Integer()
    provider_percent = fields.Method("provider")
    academy_percent = fields.Method("academy")
    community_fund_percent = fields.Method("community_fund")
    effective_from = fields.AwareDateTime()
    created_at = fields.AwareDateTime()

    def provider(self, row) -> float:
        return row.provider_bp / 100

    def academy(self, row) -> float:
        return row.academy_bp / 100

    def community_fund(self, row) -> float:
        return row.community_fund_bp / 100


class PolicyList(StrictSchema):
    items = fields.List(fields.Nested(PolicyOut))
    in_force = fields.Integer(metadata={"description": "the version in force now"})


class BalanceOut(StrictSchema):
    kind = fields.String()
    owner = fields.String(metadata={"description": "a member's id, or empty for the academy's own accounts"})
    debit_cents = fields.Integer()
    credit_cents = fields.Integer()
    balance_cents = fields.Integer(metadata={"description": "debits minus credits"})


class BalancesOut(StrictSchema):
    accounts = fields.List(fields.Nested(BalanceOut))
    debit_cents = fields.Integer()
    credit_cents = fields.Integer()


class PayoutArgs(PageArgs):
    provider_id = fields.String(validate=validate.Length(min=1, max=36),
                                metadata={"description": "operators: one provider's statements"})


class PayoutLineOut(StrictSchema):
    kind = fields.String(metadata={"description": "release (a share earned), credit_note (taken back) or conversion "
                                                  "(turned into academy credits)"})
    invoice_id = fields.String(allow_none=True)
    cents = fields.Integer(metadata={"description": "positive for earnings, negative for reversals and conversions"})
    occurred_at = fields.AwareDateTime()


class PayoutOut(StrictSchema):
    id = fields.String()
    provider_id = fields.String()
    period = fields.String(metadata={"description": "the month, YYYY-MM"})
    amount_cents = fields.Integer(metadata={"description": "paid out: the sum of the lines"})
    credits_cents = fields.Integer(metadata={"description": "converted into academy credits instead"})
    currency = fields.String()
    issued_at = fields.AwareDateTime()
    lines = fields.List(fields.Nested(PayoutLineOut))


PayoutPage = page_schema(PayoutOut, "PayoutPage")


class PayWithCreditsIn(StrictSchema):
    amount_cents = fields.Integer(strict=True, validate=validate.Range(min=1, max=100_000_000),
                                  metadata={"description": "part of what is open; all of it if left out"})


class ConversionIn(StrictSchema):
    amount_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000_000),
                                  metadata={"description": "released earnings to convert, at most what is available"})


class ConversionOut(StrictSchema):
    id = fields.String()
    amount_cents = fields.Integer(metadata={"description": "earnings converted"})
    bonus_cents = fields.Integer(metadata={"description": "what the academy adds"})
    credits_cents = fields.Integer(metadata={"description": "credits received: the amount and the bonus"})
    balance_cents = fields.Integer(metadata={"description": "credits held now"})


class MovementOut(StrictSchema):
    kind = fields.String(metadata={"description": "conversion, credit_bonus, credits (an invoice paid) or "
                                                  "credits_refund"})
    cents = fields.Integer(metadata={"description": "positive when credits came in, negative when spent"})
    invoice_id = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime()


class CreditsOut(StrictSchema):
    items = fields.List(fields.Nested(MovementOut), metadata={"description": "movements, newest first"})
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    balance_cents = fields.Integer(metadata={"description": "credits held"})
    available_earnings_cents = fields.Integer(metadata={"description": "released earnings that may be converted"})
    bonus_percent = fields.Integer(metadata={"description": "what a conversion adds, in percent"})
