"""Billing's response bodies."""

from __future__ import annotations

from marshmallow import Schema, fields

from shared.schemas import page_schema


class InvoiceOut(Schema):
    id = fields.String()
    number = fields.String()
    booking_id = fields.String()
    member_id = fields.String()
    offer_id = fields.String()
    description = fields.String()
    total_cents = fields.Integer()
    currency = fields.String()
    issued_at = fields.AwareDateTime()


InvoicePage = page_schema(InvoiceOut, "InvoicePage")
