"""What an OCPP action is: its request and response types, who sends it, and its decoders.

The generated version modules (`v16`, `v201`) build one `ActionSpec` per action into their
`ACTIONS` registry. Decoders are built here once, when the version module is imported, so the
hot path only looks an action up and decodes.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec

__all__ = ["ActionSpec", "Direction", "OcppVersion"]


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
        request_decoder: a JSON decoder for `request`, built once.
        response_decoder: a JSON decoder for `response`, built once.
    """

    __slots__ = (
        "direction",
        "name",
        "request",
        "request_decoder",
        "response",
        "response_decoder",
    )

    def __init__(
        self,
        name: str,
        request: type[msgspec.Struct],
        response: type[msgspec.Struct],
        direction: Direction,
    ) -> None:
        self.name = name
        self.request = request
        self.response = response
        self.direction = direction
        self.request_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(request)
        self.response_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(response)

    @property
    def sent_by_charge_point(self) -> bool:
        return Direction.CHARGE_POINT_TO_CSMS in self.direction

    @property
    def sent_by_csms(self) -> bool:
        return Direction.CSMS_TO_CHARGE_POINT in self.direction

    def __repr__(self) -> str:
        return f"ActionSpec({self.name!r}, {self.request.__name__}, {self.response.__name__})"
