"""Building blocks the generated message modules share.

Every payload type derives from `Payload`: frozen, keyword-only, camelCase on the wire, and
closed (`forbid_unknown_fields`) because the official schemas say ``additionalProperties: false``.
Optional fields default to `msgspec.UNSET`, which msgspec leaves out of the encoded JSON: OCPP has
no ``null`` for an absent field. The one open object of the schemas, 2.0.1 ``customData``, is
`CustomData`: a mapping that keeps the vendor's own properties (decoders need `dec_hook`).
"""

from __future__ import annotations

import datetime
import decimal
from typing import Annotated, Any, NoReturn

import msgspec

__all__ = ["CustomData", "DateTime", "Payload", "check_multiple_of", "dec_hook"]

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


# CustomDataType.vendorId: string, maxLength 255 (2.0.1 schemas).
_VENDOR_ID_LENGTH = 255


class CustomData(dict[str, Any]):
    """OCPP 2.0.1 ``customData``: ``vendorId`` and the vendor's own properties, as sent.

    The schemas leave CustomDataType open ("can be extended with arbitrary JSON properties"),
    so the vendor's properties are kept, under their wire names, and read like a mapping::

        data = request.custom_data          # CustomData({"vendorId": "com.acme", "soc": 81})
        data.vendor_id, data["soc"]         # "com.acme", 81
        v201.CustomData(vendor_id="com.acme", soc=81, cabinet={"tempC": 31.5})

    Immutable, like the payload that holds it. msgspec encodes it as the JSON object it is;
    decoding it takes `dec_hook` (every `ActionSpec` decoder has it).
    """

    __slots__ = ()

    def __init__(self, *, vendor_id: str, **vendor_properties: Any) -> None:
        _check_vendor_id(vendor_id)
        if "vendorId" in vendor_properties:
            raise TypeError("give vendorId as vendor_id")
        super().__init__(vendorId=vendor_id, **vendor_properties)

    @classmethod
    def from_wire(cls, value: Any) -> CustomData:
        """The customData of a decoded JSON value: an object with a string ``vendorId``.

        Raises:
            TypeError, ValueError: it is not one, with msgspec's wording so that the RPC
                layer gives it the OCPP error code of its kind (wrong type, missing field).
        """
        if type(value) is not dict:
            raise TypeError(f"Expected `object`, got `{_json_type(value)}`")
        if "vendorId" not in value:
            raise ValueError("Object missing required field `vendorId`")
        _check_vendor_id(value["vendorId"])
        data = dict.__new__(cls)
        dict.update(data, value)
        return data

    @property
    def vendor_id(self) -> str:
        return self["vendorId"]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"CustomData({dict.__repr__(self)})"

    def __hash__(self) -> int:  # type: ignore[override]
        # Frozen payloads hash their fields; like them, hashable while its values are.
        return hash(tuple(sorted(self.items())))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_custom_data, (dict(self),))

    def _immutable(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("CustomData is immutable, like the payload that holds it")

    __setitem__ = __delitem__ = _immutable
    clear = pop = popitem = setdefault = update = _immutable  # type: ignore[assignment]
    __ior__ = _immutable  # type: ignore[assignment]


def _rebuild_custom_data(value: dict[str, Any]) -> CustomData:
    return CustomData.from_wire(value)


def _check_vendor_id(vendor_id: Any) -> None:
    if type(vendor_id) is not str:
        raise TypeError(f"Expected `str`, got `{_json_type(vendor_id)}` for `vendorId`")
    if len(vendor_id) > _VENDOR_ID_LENGTH:
        raise ValueError(f"Expected `str` of length <= {_VENDOR_ID_LENGTH} for `vendorId`")


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "str", int: "int", float: "float", bool: "bool"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def dec_hook(kind: type, value: Any) -> Any:
    """msgspec's hook for the payload types' one custom type, `CustomData`."""
    if kind is CustomData:
        return CustomData.from_wire(value)
    raise NotImplementedError(f"no decoder for {kind!r}")
