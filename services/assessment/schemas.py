"""Assessment's response bodies."""

from __future__ import annotations

from marshmallow import Schema, fields


class LevelOut(Schema):
    level = fields.Integer()
    description = fields.String()


class CompetenceAreaOut(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String()
    weight = fields.Float()


class CompetenceFrameworkOut(Schema):
    version = fields.Integer()
    levels = fields.List(fields.Nested(LevelOut))
    areas = fields.List(fields.Nested(CompetenceAreaOut))


class CareerPathOut(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String()
    target_levels = fields.Dict(keys=fields.String(), values=fields.Integer())


class CareerPathList(Schema):
    items = fields.List(fields.Nested(CareerPathOut))
