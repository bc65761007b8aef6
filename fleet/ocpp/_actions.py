"""What an OCPP action is: its request and response types, who sends it, and its decoders.

The generated version modules (`v16`, `v201`) build one `ActionSpec` per action into their
`ACTIONS` registry. Decoders are built here once, when the version module is imported, so the
hot path only looks an action up and decodes.

Integers: JSON Schema draft 06 (the 2.0.1 schemas) counts any number with a zero fractional
part as an integer, so ``1.0`` and ``1e2`` are valid there; draft 04 (the 1.6 schemas) allows
only numbers written without a fraction or exponent. msgspec refuses a float for an ``int``
field, which is what 1.6 wants and the fast path of 2.0.1; `ActionSpec.whole_numbers` turns on
the draft 06 rule, tried only after msgspec has refused a payload, so it costs nothing to the
payloads that pass.
"""

from __future__ import annotations

import enum
import re
from typing import Any, Final

import msgspec
import msgspec.inspect as mi

from fleet.ocpp._base import dec_hook

__all__ = ["ActionSpec", "Direction", "OcppVersion", "decode_whole_numbers"]


class OcppVersion(enum.StrEnum):
    """An OCPP-J version; the value is the websocket subprotocol that selects it."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"


class Direction(enum.Flag):
    """Who sends an action's request (CALL). DataTransfer goes both ways."""

    CHARGE_POINT_TO_CSMS = enum.auto()
    CSMS_TO_CHARGE_POINT = enum.auto()
    BOTH = CHARGE_POINT_TO_CSMS | CSMS_TO_CHARGE_POINT


class ActionSpec:
    """One OCPP action of one version.

    Attributes:
        name: the action name as it appears in a CALL frame, e.g. ``"BootNotification"``.
        request: the msgspec Struct type of the CALL payload.
        response: the msgspec Struct type of the CALLRESULT payload.
        direction: who may send the request.
        request_decoder: a JSON decoder for `request`, built once. Strict about integers:
            use `decode_request` for the schema's own rule.
        response_decoder: a JSON decoder for `response`, built once (see `decode_response`).
        whole_numbers: the schemas are draft 06: an integer may be written ``1.0``.
        request_has_date_time, response_has_date_time: the type holds a date-time somewhere
            (the RPC layer then checks their precision as it encodes).
    """

    __slots__ = (
        "direction",
        "name",
        "request",
        "request_decoder",
        "request_has_date_time",
        "response",
        "response_decoder",
        "response_has_date_time",
        "whole_numbers",
    )

    def __init__(
        self,
        name: str,
        request: type[msgspec.Struct],
        response: type[msgspec.Struct],
        direction: Direction,
        *,
        whole_numbers: bool = False,
    ) -> None:
        self.name = name
        self.request = request
        self.response = response
        self.direction = direction
        self.whole_numbers = whole_numbers
        self.request_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
            request, dec_hook=dec_hook
        )
        self.response_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
            response, dec_hook=dec_hook
        )
        self.request_has_date_time = _has_date_time(mi.type_info(request))
        self.response_has_date_time = _has_date_time(mi.type_info(response))

    def decode_request(self, data: bytes | str) -> Any:
        """Decode a request payload by its schema.

        Raises:
            msgspec.ValidationError: it breaks the schema; the message names the field.
        """
        try:
            return self.request_decoder.decode(data)
        except msgspec.ValidationError as exc:
            if not self.whole_numbers:
                raise
            return decode_whole_numbers(self.request_decoder, data, exc)

    def decode_response(self, data: bytes | str) -> Any:
        """Decode a response payload by its schema (raises as `decode_request`)."""
        try:
            return self.response_decoder.decode(data)
        except msgspec.ValidationError as exc:
            if not self.whole_numbers:
                raise
            return decode_whole_numbers(self.response_decoder, data, exc)

    @property
    def sent_by_charge_point(self) -> bool:
        return Direction.CHARGE_POINT_TO_CSMS in self.direction

    @property
    def sent_by_csms(self) -> bool:
        return Direction.CSMS_TO_CHARGE_POINT in self.direction

    def __repr__(self) -> str:
        return f"ActionSpec({self.name!r}, {self.request.__name__}, {self.response.__name__})"


def _has_date_time(info: mi.Type, seen: set[type] | None = None) -> bool:
    seen = set() if seen is None else seen
    if isinstance(info, mi.DateTimeType):
        return True
    if isinstance(info, mi.StructType):
        if info.cls in seen:
            return False
        seen.add(info.cls)
        return any(_has_date_time(f.type, seen) for f in info.fields)
    if isinstance(info, mi.UnionType):
        return any(_has_date_time(t, seen) for t in info.types)
    if isinstance(info, mi.ListType):
        return _has_date_time(info.item_type, seen)
    return False


# -- draft 06 integers -----------------------------------------------------------------------

_INT_GOT_FLOAT = re.compile(r"^Expected `int`[^,]*, got `float` - at `\$(.*)`$")
_PATH_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_GENERIC: Final = msgspec.json.Decoder()
_ENCODER: Final = msgspec.json.Encoder()
# A payload has fewer integer fields than this; past it the decoder is not converging.
_MAX_FIXES = 10_000


def decode_whole_numbers(
    decoder: msgspec.json.Decoder[Any], data: bytes | str, refusal: msgspec.ValidationError
) -> Any:
    """Decode again a payload msgspec refused, reading whole floats (``1.0``) as integers.

    The slow path of JSON Schema draft 06's integer: each refusal of a float for an ``int``
    field names the field; a whole number there becomes the integer it is and the payload is
    decoded again. Any other refusal, and a fraction (``1.5``), stands.

    Raises:
        msgspec.ValidationError: the payload breaks the schema otherwise; the message names
            the field, as msgspec's own.
    """
    match = _INT_GOT_FLOAT.match(str(refusal))
    if match is None:
        raise refusal
    tree = _GENERIC.decode(data)
    for _ in range(_MAX_FIXES):
        container, key = _locate(tree, match.group(1))
        value = container[key] if container is not None else None
        if type(value) is not float or not value.is_integer():
            raise refusal  # 1.5 is no integer in any draft
        container[key] = int(value)  # type: ignore[index]
        try:
            return decoder.decode(_ENCODER.encode(tree))
        except msgspec.ValidationError as again:
            refusal = again
            match = _INT_GOT_FLOAT.match(str(again))
            if match is None:
                raise again from None
    raise refusal


def _locate(tree: Any, path: str) -> tuple[Any, Any]:
    """(container, key) of the value at a msgspec error path such as ``.evse.id`` or
    ``.meterValue[0].sampledValue[2].value``; (None, None) if it cannot be followed."""
    steps = [(name, index) for name, index in _PATH_STEP.findall(path)]
    container, key = None, None
    node = tree
    for name, index in steps:
        container = node
        if name:
            key = name
            if type(node) is not dict or name not in node:
                return None, None
            node = node[name]
        else:
            key = int(index)
            if type(node) is not list or key >= len(node):
                return None, None
            node = node[key]
    return container, key
