"""The actions a charging station sends (both versions have them): their 1.6 adapters.

Authorize, BootNotification, DataTransfer, FirmwareStatusNotification, Heartbeat,
LogStatusNotification, MeterValues, SecurityEventNotification and SignCertificate, with their
responses. TransactionEvent and StatusNotification keep per-connection state: see
`fleet.generic._transactions`.

Choices where the specs leave room:

- BootNotification: 1.6 gives no boot reason; it reads as "Unknown" (2.0.1's value for "the
  station did not say"), not "PowerUp", which would claim a power cycle.
- DataTransfer: 2.0.1 data is any JSON value, 1.6 data a string. A string goes as it is;
  anything else raises: sending it as JSON text would change what the peer reads (a 1.6
  vendor contract may well want JSON text: encode it yourself then).
- FirmwareStatusNotification: 1.6 has two messages, core FirmwareStatusNotification (7
  statuses, no request id, for UpdateFirmware) and the security extension's
  SignedFirmwareStatusNotification (2.0.1's 14 statuses and requestId, for
  SignedUpdateFirmware). A generic one with a requestId, or a status only the security one
  has, goes as SignedFirmwareStatusNotification; else as the core message.
- LogStatusNotification: likewise core DiagnosticsStatusNotification (Idle, Uploaded,
  UploadFailed <-> UploadFailure, Uploading; for GetDiagnostics) or the security extension's
  LogStatusNotification (requestId; for GetLog): a requestId, or a status only the latter
  has, picks LogStatusNotification.
  For both, a 1.6 message read that the rule would not pick back (a security one with no
  requestId and a core status, say) keeps its name in customData as ``action``; a user may
  set ``customData`` {"vendorId": "ocpp1.6", "action": ...} to pick the message, too.
- SignCertificate: 1.6 (security whitepaper) only signs the Charge Point certificate: 2.0.1
  certificateType ChargingStationCertificate (or none) is what it asks; V2GCertificate raises.
  A 1.6 request reads as ChargingStationCertificate.
- Responses' statusInfo (reasonCode, additionalInfo) only explains the status, which is sent;
  1.6 has no place for it and the peer would not act on it: not carried.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec

from fleet.generic._common import ID_TAG_INFO_FIELD, id_token_rows
from fleet.generic._engine import (
    LEGACY_VENDOR,
    ActionMap,
    Field,
    Func,
    Guarded,
    Keep,
    Loss,
    NotCarried,
    StructMap,
    Values,
    Where,
)
from fleet.generic._meter import METER_VALUES
from fleet.ocpp import dec_hook, v16, v201

__all__ = [
    "AUTHORIZE",
    "BOOT_NOTIFICATION",
    "DATA_TRANSFER",
    "FIRMWARE_STATUS_NOTIFICATION",
    "HEARTBEAT",
    "LOG_STATUS_NOTIFICATION",
    "METER_VALUES_ACTION",
    "SECURITY_EVENT_NOTIFICATION",
    "SIGN_CERTIFICATE",
    "STATION_ACTIONS",
]

_ABSENT: Any = object()

_STATUS_INFO = NotCarried(
    "statusInfo", "1.6 answers have no statusInfo: it explains the status, which is sent"
)


def _wire(message: Any, kind: type) -> dict[str, Any]:
    if isinstance(message, Mapping):
        message = msgspec.convert(message, kind, dec_hook=dec_hook)
    elif not isinstance(message, kind):
        raise TypeError(f"expected a {kind.__name__} or its wire-form mapping, not {message!r}")
    return msgspec.to_builtins(message, builtin_types=(datetime.datetime,))  # type: ignore[no-any-return]


def _get(data: Mapping[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return _ABSENT
        data = data[part]
    return data


def _empty(generic: type, legacy: type) -> StructMap:
    """The table of an answer with no fields in either version (customData aside)."""
    return StructMap(generic, legacy)


# -- Authorize -----------------------------------------------------------------------------

_PLUG_AND_CHARGE = (
    "1.6 Authorize carries an idTag only: ISO 15118 certificates (Plug & Charge) are 2.0.1's"
)

AUTHORIZE = ActionMap(
    "Authorize",
    "Authorize",
    Guarded(
        v201.AuthorizeRequest,
        v16.AuthorizeRequest,
        *id_token_rows("idToken", "idTag"),
        refuse={"certificate": _PLUG_AND_CHARGE, "iso15118CertificateHashData": _PLUG_AND_CHARGE},
    ),
    Guarded(
        v201.AuthorizeResponse,
        v16.AuthorizeResponse,
        Field("idTokenInfo", "idTagInfo", ID_TAG_INFO_FIELD),
        refuse={"certificateStatus": _PLUG_AND_CHARGE},
    ),
    note="idToken.idToken <-> idTag (at most 20 characters); idTokenInfo <-> idTagInfo; "
    "ISO 15118 certificates: error",
)

# -- BootNotification ----------------------------------------------------------------------

REGISTRATION_STATUS = Values.same("Accepted", "Pending", "Rejected")

BOOT_NOTIFICATION = ActionMap(
    "BootNotification",
    "BootNotification",
    StructMap(
        v201.BootNotificationRequest,
        v16.BootNotificationRequest,
        Field("chargingStation.model", "chargePointModel"),
        Field("chargingStation.vendorName", "chargePointVendor", note="1.6: at most 20"),
        Field("chargingStation.serialNumber", "chargePointSerialNumber"),
        Field("chargingStation.firmwareVersion", "firmwareVersion"),
        Field("chargingStation.modem.iccid", "iccid"),
        Field("chargingStation.modem.imsi", "imsi"),
        NotCarried(
            "reason",
            "1.6 BootNotification gives no reason; read back as Unknown (1.6 did not say; "
            "PowerUp would claim a power cycle)",
            fill="Unknown",
        ),
    ),
    StructMap(
        v201.BootNotificationResponse,
        v16.BootNotificationResponse,
        Field("status", "status", REGISTRATION_STATUS),
        Field("currentTime", "currentTime"),
        Field("interval", "interval"),
        _STATUS_INFO,
    ),
    note="chargingStation <-> chargePoint* fields, modem <-> iccid/imsi; 1.6 "
    "chargeBoxSerialNumber, meterType, meterSerialNumber kept in customData",
)

# -- DataTransfer --------------------------------------------------------------------------


def _data_to_legacy(value: Any, where: Where, field: str) -> Any:
    if isinstance(value, str):
        return value
    raise where.fail(
        field,
        value,
        "1.6 DataTransfer data is a string; as JSON text it would read differently: "
        "encode it yourself if the vendor's contract says JSON text",
    )


def _data_to_generic(value: Any, where: Where, field: str, keep: Keep) -> Any:
    return value


DATA = Func(_data_to_legacy, _data_to_generic, "a string as it is; any other JSON value: error")

DATA_TRANSFER_STATUS = Values.same("Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId")

DATA_TRANSFER = ActionMap(
    "DataTransfer",
    "DataTransfer",
    StructMap(
        v201.DataTransferRequest,
        v16.DataTransferRequest,
        Field("vendorId", "vendorId"),
        Field("messageId", "messageId"),
        Field("data", "data", DATA),
    ),
    StructMap(
        v201.DataTransferResponse,
        v16.DataTransferResponse,
        Field("status", "status", DATA_TRANSFER_STATUS),
        Field("data", "data", DATA),
        _STATUS_INFO,
    ),
    note="either side sends it; data: a string both ways, other JSON values are an error "
    "(1.6 data is a string)",
)

# -- Heartbeat, SecurityEventNotification --------------------------------------------------

HEARTBEAT = ActionMap(
    "Heartbeat",
    "Heartbeat",
    _empty(v201.HeartbeatRequest, v16.HeartbeatRequest),
    StructMap(v201.HeartbeatResponse, v16.HeartbeatResponse, Field("currentTime", "currentTime")),
    note="the same in both",
)

SECURITY_EVENT_NOTIFICATION = ActionMap(
    "SecurityEventNotification",
    "SecurityEventNotification",
    StructMap(
        v201.SecurityEventNotificationRequest,
        v16.SecurityEventNotificationRequest,
        Field("type", "type"),
        Field("timestamp", "timestamp"),
        Field("techInfo", "techInfo"),
    ),
    _empty(v201.SecurityEventNotificationResponse, v16.SecurityEventNotificationResponse),
    note="1.6 security extension; the same fields",
)

# -- SignCertificate -----------------------------------------------------------------------

_CHARGING_STATION_CERTIFICATE = "ChargingStationCertificate"
_ONE_CERTIFICATE = (
    "1.6 SignCertificate (security extension) asks for the Charge Point certificate only; "
    "ISO 15118 (V2G) certificates have no 1.6 message"
)

SIGN_CERTIFICATE = ActionMap(
    "SignCertificate",
    "SignCertificate",
    Guarded(
        v201.SignCertificateRequest,
        v16.SignCertificateRequest,
        Field("csr", "csr"),
        NotCarried(
            "certificateType",
            "1.6 asks for the Charge Point certificate only: ChargingStationCertificate (read "
            "back as it); V2GCertificate: error",
            fill=_CHARGING_STATION_CERTIFICATE,
        ),
        only={"certificateType": ([_CHARGING_STATION_CERTIFICATE], _ONE_CERTIFICATE)},
    ),
    StructMap(
        v201.SignCertificateResponse,
        v16.SignCertificateResponse,
        Field("status", "status", Values.same("Accepted", "Rejected")),
        _STATUS_INFO,
    ),
    note="1.6 security extension; csr alike; certificateType V2GCertificate: error",
)

# -- MeterValues ---------------------------------------------------------------------------

METER_VALUES_ACTION = ActionMap(
    "MeterValues",
    "MeterValues",
    StructMap(
        v201.MeterValuesRequest,
        v16.MeterValuesRequest,
        Field("evseId", "connectorId", note="0: the main meter in both"),
        Field("meterValue", "meterValue", METER_VALUES),
    ),
    _empty(v201.MeterValuesResponse, v16.MeterValuesResponse),
    note="evseId <-> connectorId; meter values as in the meter table; a 1.6 transactionId "
    "(readings of a transaction) is kept in customData",
)

# -- the actions carried by one of two 1.6 messages ----------------------------------------


class OneOf:
    """A generic action that 1.6 carries as one of several messages, chosen by content.

    Attributes:
        generic: the 2.0.1 action.
        legacy: the 1.6 actions, the one the rule picks by default first.
        maps: 1.6 action -> its `ActionMap` (the tables).
        note, losses, not_carried: for the docs table and its tests.
    """

    def __init__(
        self,
        generic: str,
        maps: Iterable[ActionMap],
        choose: Callable[[Mapping[str, Any]], str],
        *,
        request_type: type,
        note: str,
        losses: tuple[Loss, ...] = (),
        core: Mapping[str, str] | None = None,
    ) -> None:
        self.generic = generic
        # A core 1.6 request (UpdateFirmware, GetDiagnostics) -> the core notification that
        # answers it, for requestIds the link gave such requests (`LinkState.core_request`).
        self._core = dict(core or {})
        self.maps = {each.legacy_action: each for each in maps}
        self.legacy = tuple(self.maps)
        self.note = note
        self.losses = losses
        self.not_carried: Mapping[str, str] = {}
        self._choose = choose
        self._request_type = request_type

    def _pick(self, data: dict[str, Any], where: Where) -> tuple[ActionMap, dict[str, Any]]:
        custom = data.get("customData")
        if custom is None or custom.get("vendorId") != LEGACY_VENDOR or "action" not in custom:
            asked_by = getattr(where.link, "core_requests", {}).get(data.get("requestId"))
            if asked_by in self._core:
                # The CSMS asked with the core message: answer with the core notification;
                # the requestId was ours, given to the generic request, not the CSMS's.
                data = {k: v for k, v in data.items() if k != "requestId"}
                return self.maps[self._core[asked_by]], data
            return self.maps[self._choose(data)], data
        action = custom["action"]
        if action not in self.maps:
            raise where.fail(
                "customData.action",
                action,
                f"1.6 carries {self.generic} as {' or '.join(self.maps)}",
            )
        rest = {k: v for k, v in custom.items() if k != "action"}
        data = {k: v for k, v in data.items() if k != "customData"}
        if len(rest) > 1:
            data["customData"] = rest
        return self.maps[action], data

    def request_to_legacy(self, request: Any, where: Where) -> list[Any]:
        chosen, data = self._pick(_wire(request, self._request_type), where)
        return [(chosen.legacy_action, chosen.request.to_legacy(data, where))]

    def response_to_generic(self, responses: list[Any], request: Any, where: Where) -> Any:
        chosen, _ = self._pick(_wire(request, self._request_type), where)
        (response,) = responses
        return chosen.response.to_generic(response, where)

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        generic = self.maps[action].request.to_generic(request, where)
        data = _wire(generic, self._request_type)
        if self._choose(data) == action:
            return generic
        # The rule would send it back as the other message: say which one it was.
        custom = data.get("customData") or {"vendorId": LEGACY_VENDOR}
        data["customData"] = {**custom, "action": action}
        return msgspec.convert(data, self._request_type, dec_hook=dec_hook)

    def response_to_legacy(self, response: Any, action: str, request: Any, where: Where) -> Any:
        return self.maps[action].response.to_legacy(response, where)


# FirmwareStatusNotification: core (UpdateFirmware) or security (SignedUpdateFirmware).

_CORE_FIRMWARE = [status.value for status in v16.FirmwareStatus]
_ALL_FIRMWARE = [status.value for status in v201.FirmwareStatusEnum]

_FIRMWARE_CORE = ActionMap(
    "FirmwareStatusNotification",
    "FirmwareStatusNotification",
    Guarded(
        v201.FirmwareStatusNotificationRequest,
        v16.FirmwareStatusNotificationRequest,
        Field(
            "status",
            "status",
            Values.same(
                *_CORE_FIRMWARE,
                generic_only={
                    status: "1.6 core FirmwareStatus has " + ", ".join(_CORE_FIRMWARE) + " only"
                    for status in _ALL_FIRMWARE
                    if status not in _CORE_FIRMWARE
                },
            ),
        ),
        refuse={"requestId": "1.6 FirmwareStatusNotification (core) has no requestId"},
    ),
    _empty(v201.FirmwareStatusNotificationResponse, v16.FirmwareStatusNotificationResponse),
)

_FIRMWARE_SIGNED = ActionMap(
    "FirmwareStatusNotification",
    "SignedFirmwareStatusNotification",
    StructMap(
        v201.FirmwareStatusNotificationRequest,
        v16.SignedFirmwareStatusNotificationRequest,
        Field("status", "status", Values.same(*_ALL_FIRMWARE)),
        Field("requestId", "requestId"),
    ),
    _empty(v201.FirmwareStatusNotificationResponse, v16.SignedFirmwareStatusNotificationResponse),
)


def _firmware_message(data: Mapping[str, Any]) -> str:
    if "requestId" in data or data["status"] not in _CORE_FIRMWARE:
        return "SignedFirmwareStatusNotification"
    return "FirmwareStatusNotification"


FIRMWARE_STATUS_NOTIFICATION = OneOf(
    "FirmwareStatusNotification",
    (_FIRMWARE_CORE, _FIRMWARE_SIGNED),
    _firmware_message,
    core={"UpdateFirmware": "FirmwareStatusNotification"},
    request_type=v201.FirmwareStatusNotificationRequest,
    note="with a requestId or a status only the security extension has: "
    "SignedFirmwareStatusNotification; else FirmwareStatusNotification (core statuses)",
    losses=(
        Loss(
            "request",
            "requestId",
            "1.6 FirmwareStatusNotification (core) has no requestId",
            {
                "status": "Installed",
                "requestId": 3,
                "customData": {"vendorId": LEGACY_VENDOR, "action": "FirmwareStatusNotification"},
            },
        ),
        Loss(
            "request",
            "customData.action",
            "1.6 carries FirmwareStatusNotification as FirmwareStatusNotification or "
            "SignedFirmwareStatusNotification",
            {"status": "Installed", "customData": {"vendorId": LEGACY_VENDOR, "action": "X"}},
        ),
    ),
)

# LogStatusNotification: core DiagnosticsStatusNotification (GetDiagnostics) or security
# LogStatusNotification (GetLog).

_DIAGNOSTICS_STATUS = {
    "Idle": "Idle",
    "Uploaded": "Uploaded",
    "UploadFailure": "UploadFailed",
    "Uploading": "Uploading",
}
_ALL_LOG = [status.value for status in v201.UploadLogStatusEnum]
_SECURITY_LOG = [status.value for status in v16.UploadLogStatusEnum]
_NO_ACCEPTED_CANCELED = (
    "1.6 UploadLogStatusEnum has no AcceptedCanceled (1.6 says a log upload was replaced only "
    "in the GetLog answer)"
)

_LOG_CORE = ActionMap(
    "LogStatusNotification",
    "DiagnosticsStatusNotification",
    Guarded(
        v201.LogStatusNotificationRequest,
        v16.DiagnosticsStatusNotificationRequest,
        Field(
            "status",
            "status",
            Values(
                _DIAGNOSTICS_STATUS,
                generic_only={
                    status: "1.6 DiagnosticsStatus has Idle, Uploaded, UploadFailed, Uploading only"
                    for status in _ALL_LOG
                    if status not in _DIAGNOSTICS_STATUS
                },
            ),
        ),
        refuse={"requestId": "1.6 DiagnosticsStatusNotification has no requestId"},
    ),
    _empty(v201.LogStatusNotificationResponse, v16.DiagnosticsStatusNotificationResponse),
)

_LOG_SECURITY = ActionMap(
    "LogStatusNotification",
    "LogStatusNotification",
    StructMap(
        v201.LogStatusNotificationRequest,
        v16.LogStatusNotificationRequest,
        Field(
            "status",
            "status",
            Values.same(*_SECURITY_LOG, generic_only={"AcceptedCanceled": _NO_ACCEPTED_CANCELED}),
        ),
        Field("requestId", "requestId"),
    ),
    _empty(v201.LogStatusNotificationResponse, v16.LogStatusNotificationResponse),
)


def _log_message(data: Mapping[str, Any]) -> str:
    if "requestId" in data or data["status"] not in _DIAGNOSTICS_STATUS:
        return "LogStatusNotification"
    return "DiagnosticsStatusNotification"


LOG_STATUS_NOTIFICATION = OneOf(
    "LogStatusNotification",
    (_LOG_CORE, _LOG_SECURITY),
    _log_message,
    core={"GetDiagnostics": "DiagnosticsStatusNotification"},
    request_type=v201.LogStatusNotificationRequest,
    note="with a requestId or a status only the security extension has: LogStatusNotification; "
    "else DiagnosticsStatusNotification (UploadFailure <-> UploadFailed)",
    losses=(
        Loss(
            "request",
            "status",
            "1.6 UploadLogStatusEnum has no AcceptedCanceled",
            {"status": "AcceptedCanceled", "requestId": 4},
        ),
        Loss(
            "request",
            "requestId",
            "1.6 DiagnosticsStatusNotification has no requestId",
            {
                "status": "Uploaded",
                "requestId": 4,
                "customData": {
                    "vendorId": LEGACY_VENDOR,
                    "action": "DiagnosticsStatusNotification",
                },
            },
        ),
    ),
)

#: Every adapter of this module, in the order of the 2.0.1 action names.
STATION_ACTIONS: tuple[ActionMap | OneOf, ...] = (
    AUTHORIZE,
    BOOT_NOTIFICATION,
    DATA_TRANSFER,
    FIRMWARE_STATUS_NOTIFICATION,
    HEARTBEAT,
    LOG_STATUS_NOTIFICATION,
    METER_VALUES_ACTION,
    SECURITY_EVENT_NOTIFICATION,
    SIGN_CERTIFICATE,
)
