"""Building blocks the generated message modules share.

Every payload type derives from `Payload`: frozen, keyword-only, camelCase on the wire, and
closed (`forbid_unknown_fields`) because the official schemas say ``additionalProperties: false``.
Optional fields default to `msgspec.UNSET`, which msgspec leaves out of the encoded JSON: OCPP has
no ``null`` for an absent field.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Annotated

import msgspec

__all__ = ["DateTime", "Payload", "check_multiple_of"]

# RFC 3339 with an offset: OCPP date-times are absolute instants.
DateTime = Annotated[datetime.datetime, msgspec.Meta(tz=True)]


# Wide enough for any float's quotient (1.8e308 / 0.1): the default 28 digits are not.
_WIDE = decimal.Context(prec=400)


class Payload(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True
):
    """Base of every generated OCPP payload type."""


def check_multiple_of(value: float, step: float, field: str) -> None:
    """Check a ``multipleOf`` constraint with decimal semantics.

    msgspec's own ``multiple_of`` works on binary floats, where 16.0 is no multiple of 0.1; the
    schemas mean the decimal number written in the JSON (the `ocpp` library validates with
    `Decimal`). A float's repr is the shortest text that reads back as it, so it is that
    number: 7.4 passes, 16.05 and 0.30000000000000004 do not.

    Raises:
        ValueError: the value is not a multiple of `step` (msgspec reports it as a
            ValidationError naming the field's path when decoding).
    """
    try:
        remainder = _WIDE.remainder(decimal.Decimal(repr(value)), decimal.Decimal(repr(step)))
    except decimal.InvalidOperation:  # inf or nan: no multiple of anything
        remainder = decimal.Decimal(1)
    if remainder != 0:
        raise ValueError(f"Expected `{field}` to be a multiple of {step}, got {value!r}")
