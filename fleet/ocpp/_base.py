"""Building blocks the generated message modules share.

Every payload type derives from `Payload`: frozen, keyword-only, camelCase on the wire, and
closed (`forbid_unknown_fields`) because the official schemas say ``additionalProperties: false``.
Optional fields default to `msgspec.UNSET`, which msgspec leaves out of the encoded JSON: OCPP has
no ``null`` for an absent field.
"""

from __future__ import annotations

import datetime
from typing import Annotated

import msgspec

__all__ = ["DateTime", "Payload", "check_multiple_of"]

# RFC 3339 with an offset: OCPP date-times are absolute instants.
DateTime = Annotated[datetime.datetime, msgspec.Meta(tz=True)]

# How far (relative) a float may sit from an exact multiple and still count as one.
_MULTIPLE_TOLERANCE = 1e-9


class Payload(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True
):
    """Base of every generated OCPP payload type."""


def check_multiple_of(value: float, step: float, field: str) -> None:
    """Check a ``multipleOf`` constraint with decimal semantics.

    msgspec's own ``multiple_of`` works on binary floats, where 16.0 is no multiple of 0.1; the
    schemas mean "at most one decimal" (the `ocpp` library validates them with `Decimal`), so we
    accept a value within a tiny relative distance of a multiple.

    Raises:
        ValueError: the value is not a multiple of `step` (msgspec reports it as a
            ValidationError naming the field's path when decoding).
    """
    quotient = value / step
    if abs(quotient - round(quotient)) > _MULTIPLE_TOLERANCE * max(1.0, abs(quotient)):
        raise ValueError(f"Expected `{field}` to be a multiple of {step}, got {value!r}")
