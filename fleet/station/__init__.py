"""Simulated stations: sans-IO behaviour per OCPP version, and the trio actor that drives it."""

from fleet.station._actor import Reconnect, StationActor
from fleet.station._firmware import FirmwareSettings
from fleet.station._machine import (
    QUEUE_OVERFLOW_POLICIES,
    TRANSACTION_ACTIONS,
    TRANSITIONS,
    ConnectorState,
    Outgoing,
    SessionEvent,
    StationMachine,
    StationSettings,
)
from fleet.station._overrides import answer_overrides, answer_with
from fleet.station._v16 import StationMachine16
from fleet.station._v201 import StationMachine201

__all__ = [
    "QUEUE_OVERFLOW_POLICIES",
    "TRANSACTION_ACTIONS",
    "TRANSITIONS",
    "ConnectorState",
    "FirmwareSettings",
    "Outgoing",
    "Reconnect",
    "SessionEvent",
    "StationActor",
    "StationMachine",
    "StationMachine16",
    "StationMachine201",
    "StationSettings",
    "answer_overrides",
    "answer_with",
]
