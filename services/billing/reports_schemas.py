"""Request schemas of billing's partner reports and the what-if."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.billing.reports import GROUPINGS


class ReportArgs(Schema):
    start = fields.AwareDateTime(required=True, data_key="from", default_timezone=None)
    end = fields.AwareDateTime(required=True, data_key="to", default_timezone=None)
    group_by = fields.String(load_default="month", validate=validate.OneOf(GROUPINGS))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "png")))


class PolicyShares(Schema):
    provider_percent = fields.Integer(required=True, validate=validate.Range(0, 100))
    academy_percent = fields.Integer(required=True, validate=validate.Range(0, 100))
    community_fund_percent = fields.Integer(required=True, validate=validate.Range(0, 100))

    @validates_schema
    def _sums_to_100(self, data, **_kwargs) -> None:
        if sum(data.values()) != 100:
            raise ValidationError("the shares must add up to 100 percent", "_schema")


class SimulateIn(Schema):
    policy = fields.Nested(PolicyShares, required=True)
    start = fields.AwareDateTime(required=True, data_key="from", default_timezone=None)
    end = fields.AwareDateTime(required=True, data_key="to", default_timezone=None)
    group_by = fields.String(load_default="month", validate=validate.OneOf(GROUPINGS))
