"""Minimal valid payloads of any generated type, read off its msgspec type information.

Useful to try an action by name, and to tests that send every action once. The values are
the simplest the schema allows: required fields only, the first enum member, the lower
numeric bound, one-character strings, arrays at their minimum length (at least one item).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import msgspec.inspect as mi

__all__ = ["minimal_example"]

_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def minimal_example(cls: type[msgspec.Struct]) -> Any:
    """A minimal valid instance of a generated payload type.

    Raises:
        TypeError: a field type this builder does not know (none in the OCPP schemas).
    """
    return _build(mi.type_info(cls))


def _build(info: mi.Type) -> Any:
    if isinstance(info, mi.StructType):
        return info.cls(**{f.name: _build(f.type) for f in info.fields if f.required})
    if isinstance(info, mi.UnionType):
        options = [t for t in info.types if not isinstance(t, mi.UnsetType | mi.NoneType)]
        return _build(options[0])
    if isinstance(info, mi.StrType):
        return "x"
    if isinstance(info, mi.IntType):
        if info.ge is not None:
            return info.ge
        return min(1, info.le) if info.le is not None else 1
    if isinstance(info, mi.FloatType):
        return 1.0
    if isinstance(info, mi.BoolType):
        return False
    if isinstance(info, mi.EnumType):
        return next(iter(info.cls))
    if isinstance(info, mi.DateTimeType):
        return _EPOCH
    if isinstance(info, mi.ListType):
        return [_build(info.item_type) for _ in range(max(1, info.min_length or 0))]
    if isinstance(info, mi.AnyType):
        return "x"
    raise TypeError(f"no example for {info!r}")
