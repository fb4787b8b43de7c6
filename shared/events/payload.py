"""The wire form of event payloads: marshmallow schemas derived from the fields of frozen dataclasses."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from functools import partial
from typing import Any

from marshmallow import Schema, fields, post_load


def wire(*, default: Any = dataclasses.MISSING, default_factory: Any = dataclasses.MISSING, **options: Any) -> Any:
    """A payload field with options for its marshmallow field, such as `validate=` or `keys=`."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"wire": options})


_SIMPLE: dict[Any, Any] = {
    str: fields.String,
    int: partial(fields.Integer, strict=True),
    bool: fields.Boolean,
    datetime: fields.AwareDateTime,
    date: fields.Date,
}


def data_schema(payload: type) -> type[Schema]:
    """The marshmallow schema of a payload dataclass: dumps an instance, loads (and checks) into one."""
    hints = typing.get_type_hints(payload)
    declared: dict[str, Any] = {}
    for field in dataclasses.fields(payload):
        has_factory = field.default_factory is not dataclasses.MISSING
        has_default = has_factory or field.default is not dataclasses.MISSING
        options: dict[str, Any] = {"required": not has_default}
        if has_default:
            options["load_default"] = field.default_factory if has_factory else field.default
        hint, nullable = _unwrap_optional(hints[field.name])
        if nullable:
            options["allow_none"] = True
        options.update(field.metadata.get("wire", {}))
        declared[field.name] = _field_for(hint, payload)(**options)

    def build(self, data: dict[str, Any], **_kwargs: Any) -> Any:
        return payload(**data)

    return type(f"{payload.__name__}Data", (Schema,), {**declared, "build": post_load(build)})


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        others = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(others) == 1:
            return others[0], len(others) < len(typing.get_args(hint))
    return hint, False


def _field_for(hint: Any, owner: type) -> Any:
    """A factory of the marshmallow field for a type hint; unsupported hints fail at declaration."""
    if hint in _SIMPLE:
        return _SIMPLE[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (list, tuple) and args and (origin is list or args[1:] == (Ellipsis,)):
        return partial(fields.List, _field_for(args[0], owner)())
    if origin is dict and args and args[0] is str:
        return partial(fields.Dict, keys=fields.String(), values=_field_for(args[1], owner)())
    if dataclasses.is_dataclass(hint):
        return partial(fields.Nested, data_schema(hint))
    raise TypeError(f"{owner.__name__}: no wire form for the type {hint!r}")
