"""The generic API's station actions and meter values over 1.6: tables both ways, every loss."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
import pytest

from fleet.generic._engine import LEGACY_VENDOR, Where
from fleet.generic._errors import NotExpressible
from fleet.generic._meter import (
    METER_VALUE,
    SAMPLED_VALUE,
    decimal_text,
    energy_register_wh,
)
from fleet.generic._station_actions import STATION_ACTIONS
from fleet.ocpp import actions_of, dec_hook, minimal_example, v16, v201

STAMP = "2025-03-14T09:26:53Z"
LATER = "2025-03-14T09:41:53Z"

BY_LEGACY = {name: each for each in STATION_ACTIONS for name in each.legacy}
BY_GENERIC = {each.generic: each for each in STATION_ACTIONS}
V16 = actions_of("ocpp1.6")
V201 = actions_of("ocpp2.0.1")


def where(action: str, part: str = "request") -> Where:
    return Where(action, part)


def builtins(message: Any) -> Any:
    return msgspec.to_builtins(message)


def legacy(action: str, part: str, data: dict[str, Any]) -> Any:
    spec = V16[action]
    return msgspec.convert(data, spec.request if part == "request" else spec.response)


def generic(action: str, part: str, data: dict[str, Any]) -> Any:
    spec = V201[action]
    kind = spec.request if part == "request" else spec.response
    return msgspec.convert(data, kind, dec_hook=dec_hook)


def send(action: str, request: dict[str, Any]) -> tuple[str, Any]:
    """The one 1.6 CALL a generic request goes as."""
    steps = BY_GENERIC[action].request_to_legacy(generic(action, "request", request), where(action))
    assert len(steps) == 1
    return steps[0]


def refused(action: str, request: dict[str, Any], part: str = "request") -> NotExpressible:
    adapter = BY_GENERIC[action]
    with pytest.raises(NotExpressible) as caught:
        if part == "request":
            adapter.request_to_legacy(generic(action, "request", request), where(action))
        else:
            adapter.response_to_legacy(
                generic(action, "response", request), action, None, where(action, "response")
            )
    assert caught.value.version == "1.6"
    assert "OCPP 1.6" in str(caught.value)
    return caught.value


# -- 1.6 -> generic -> 1.6 is exact --------------------------------------------------------

SIGNED_OCMF = 'OCMF|{"FV":"1.0","GI":"ABL","RD":[{"TM":"2025-03-14T09:26:53,000+0000 S","RV":12.345,"RI":"1-b:1.8.0","RU":"kWh"}]}|{"SD":"3045022100"}'

LEGACY_EXCHANGES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "Authorize",
        {"idTag": "04A2B3C4D5E6F7"},
        {"idTagInfo": {"status": "Accepted", "expiryDate": LATER, "parentIdTag": "FLEET-7"}},
    ),
    ("Authorize", {"idTag": "DEADBEEF"}, {"idTagInfo": {"status": "ConcurrentTx"}}),
    (
        "BootNotification",
        {
            "chargePointVendor": "Acme Charging",
            "chargePointModel": "AC-22-DUO",
            "chargePointSerialNumber": "ACM-000123",
            "chargeBoxSerialNumber": "BOX-77",
            "firmwareVersion": "4.2.1-rc2",
            "iccid": "8931440400012345678",
            "imsi": "204080123456789",
            "meterType": "Eastron SDM630",
            "meterSerialNumber": "MTR-5521",
        },
        {"status": "Accepted", "currentTime": STAMP, "interval": 300},
    ),
    (
        "BootNotification",
        {"chargePointVendor": "Acme", "chargePointModel": "AC-22"},
        {"status": "Pending", "currentTime": STAMP, "interval": 60},
    ),
    (
        "DataTransfer",
        {"vendorId": "com.acme", "messageId": "CableTemp", "data": '{"celsius": 41.5}'},
        {"status": "Accepted", "data": "ok"},
    ),
    ("DataTransfer", {"vendorId": "com.acme"}, {"status": "UnknownVendorId"}),
    ("DiagnosticsStatusNotification", {"status": "UploadFailed"}, {}),
    ("DiagnosticsStatusNotification", {"status": "Uploading"}, {}),
    ("FirmwareStatusNotification", {"status": "Installing"}, {}),
    ("FirmwareStatusNotification", {"status": "Idle"}, {}),
    ("SignedFirmwareStatusNotification", {"status": "InvalidSignature", "requestId": 12}, {}),
    ("SignedFirmwareStatusNotification", {"status": "Downloaded", "requestId": 12}, {}),
    # The rule would pick the core message for these: the action is kept.
    ("SignedFirmwareStatusNotification", {"status": "Idle"}, {}),
    ("LogStatusNotification", {"status": "Uploading", "requestId": 7}, {}),
    ("LogStatusNotification", {"status": "PermissionDenied"}, {}),
    ("LogStatusNotification", {"status": "Idle"}, {}),
    ("Heartbeat", {}, {"currentTime": STAMP}),
    (
        "MeterValues",
        {
            "connectorId": 2,
            "transactionId": 4711,
            "meterValue": [
                {
                    "timestamp": STAMP,
                    "sampledValue": [
                        {
                            "value": "12.345",
                            "context": "Sample.Periodic",
                            "measurand": "Energy.Active.Import.Register",
                            "location": "Outlet",
                            "unit": "kWh",
                        },
                        {"value": "41", "measurand": "Temperature", "unit": "Celcius"},
                        {
                            "value": "7200.0",
                            "format": "Raw",
                            "measurand": "Power.Active.Import",
                            "unit": "W",
                        },
                        {
                            "value": "16",
                            "measurand": "Current.Import",
                            "phase": "L1",
                            "unit": "A",
                        },
                        {"value": "49.98", "measurand": "Frequency", "unit": "Hertz"},
                        {"value": "1500", "measurand": "RPM"},
                        {
                            "value": SIGNED_OCMF,
                            "format": "SignedData",
                            "context": "Sample.Periodic",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                    ],
                },
                {"timestamp": LATER, "sampledValue": [{"value": "12500"}]},
            ],
        },
        {},
    ),
    (
        "MeterValues",
        {
            "connectorId": 0,
            "meterValue": [
                {
                    "timestamp": STAMP,
                    "sampledValue": [
                        {"value": "N/A", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
                        {"value": "0.10", "measurand": "Power.Factor", "context": "Trigger"},
                    ],
                }
            ],
        },
        {},
    ),
    (
        "SecurityEventNotification",
        {"type": "FirmwareUpdated", "timestamp": STAMP, "techInfo": "4.2.1 -> 4.3.0"},
        {},
    ),
    (
        "SignCertificate",
        {
            "csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIBIjANBgkq\n-----END CERTIFICATE REQUEST-----"
        },
        {"status": "Rejected"},
    ),
]


@pytest.mark.parametrize(
    ("action", "request16", "response16"),
    LEGACY_EXCHANGES,
    ids=[f"{a}-{i}" for i, (a, _, _) in enumerate(LEGACY_EXCHANGES)],
)
def test_a_1_6_exchange_goes_through_generic_unchanged(
    action: str, request16: dict[str, Any], response16: dict[str, Any]
) -> None:
    adapter = BY_LEGACY[action]
    sent = legacy(action, "request", request16)
    as_generic = adapter.request_to_generic(action, sent, where(adapter.generic))
    assert isinstance(as_generic, V201[adapter.generic].request)
    ((again_action, again),) = adapter.request_to_legacy(as_generic, where(adapter.generic))
    assert again_action == action
    assert builtins(again) == builtins(sent)

    answer = legacy(action, "response", response16)
    generic_answer = adapter.response_to_generic([answer], as_generic, where(adapter.generic))
    assert isinstance(generic_answer, V201[adapter.generic].response)
    back = adapter.response_to_legacy(generic_answer, action, sent, where(adapter.generic))
    assert builtins(back) == builtins(answer)


def test_1_6_fields_with_no_2_0_1_place_are_kept_in_custom_data() -> None:
    boot = next(r for a, r, _ in LEGACY_EXCHANGES if a == "BootNotification")
    read = BY_LEGACY["BootNotification"].request_to_generic(
        "BootNotification", legacy("BootNotification", "request", boot), where("BootNotification")
    )
    assert read.reason == "Unknown"
    assert read.charging_station.modem.iccid == "8931440400012345678"
    assert dict(read.custom_data) == {
        "vendorId": LEGACY_VENDOR,
        "chargeBoxSerialNumber": "BOX-77",
        "meterType": "Eastron SDM630",
        "meterSerialNumber": "MTR-5521",
    }
    meter = next(r for a, r, _ in LEGACY_EXCHANGES if a == "MeterValues")
    read = BY_LEGACY["MeterValues"].request_to_generic(
        "MeterValues", legacy("MeterValues", "request", meter), where("MeterValues")
    )
    assert read.evse_id == 2
    assert read.custom_data == {"vendorId": LEGACY_VENDOR, "transactionId": 4711}


def test_the_security_message_a_rule_would_not_pick_keeps_its_name() -> None:
    adapter = BY_LEGACY["SignedFirmwareStatusNotification"]
    read = adapter.request_to_generic(
        "SignedFirmwareStatusNotification",
        v16.SignedFirmwareStatusNotificationRequest(status="Idle"),
        where("FirmwareStatusNotification"),
    )
    assert read.custom_data == {
        "vendorId": LEGACY_VENDOR,
        "action": "SignedFirmwareStatusNotification",
    }
    # A user may pick the message the same way.
    action, message = send(
        "LogStatusNotification",
        {
            "status": "Idle",
            "customData": {"vendorId": LEGACY_VENDOR, "action": "LogStatusNotification"},
        },
    )
    assert (action, builtins(message)) == ("LogStatusNotification", {"status": "Idle"})


# -- generic -> 1.6 -> generic keeps what 1.6 carries --------------------------------------

# (action, generic request, the 1.6 action, the generic fields 1.6 does not carry and what they
# read back as)
GENERIC_REQUESTS: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    (
        "Authorize",
        {"idToken": {"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"}},
        "Authorize",
        {"idToken.type": "Central"},
    ),
    (
        "BootNotification",
        {
            "reason": "PowerUp",
            "chargingStation": {
                "model": "AC-22-DUO",
                "vendorName": "Acme Charging",
                "serialNumber": "ACM-000123",
                "firmwareVersion": "4.2.1",
                "modem": {"iccid": "8931440400012345678", "imsi": "204080123456789"},
            },
        },
        "BootNotification",
        {"reason": "Unknown"},
    ),
    (
        "DataTransfer",
        {"vendorId": "com.acme", "messageId": "CableTemp", "data": "41.5"},
        "DataTransfer",
        {},
    ),
    ("FirmwareStatusNotification", {"status": "Downloading"}, "FirmwareStatusNotification", {}),
    (
        "FirmwareStatusNotification",
        {"status": "Installed", "requestId": 3},
        "SignedFirmwareStatusNotification",
        {},
    ),
    (
        "FirmwareStatusNotification",
        {"status": "InstallScheduled"},
        "SignedFirmwareStatusNotification",
        {},
    ),
    ("Heartbeat", {}, "Heartbeat", {}),
    ("LogStatusNotification", {"status": "UploadFailure"}, "DiagnosticsStatusNotification", {}),
    (
        "LogStatusNotification",
        {"status": "Uploaded", "requestId": 9},
        "LogStatusNotification",
        {},
    ),
    (
        "LogStatusNotification",
        {"status": "BadMessage"},
        "LogStatusNotification",
        {},
    ),
    (
        "MeterValues",
        {
            "evseId": 1,
            "meterValue": [
                {
                    "timestamp": STAMP,
                    "sampledValue": [
                        {
                            "value": 1234.5,
                            "context": "Sample.Periodic",
                            "measurand": "Energy.Active.Import.Register",
                            "location": "Outlet",
                            "unitOfMeasure": {"unit": "kWh"},
                        },
                        {
                            "value": 16.0,
                            "measurand": "Current.Import",
                            "phase": "L1",
                            "unitOfMeasure": {"unit": "A"},
                        },
                        {"value": 230.1, "measurand": "Voltage", "phase": "L1-N"},
                        {"value": 49.98, "measurand": "Frequency", "unitOfMeasure": {"unit": "Hz"}},
                        {"value": 81.0, "measurand": "SoC", "location": "EV"},
                        {
                            "value": 0,
                            "measurand": "Energy.Active.Import.Register",
                            "signedMeterValue": {
                                "signedMeterData": SIGNED_OCMF,
                                "signingMethod": "",
                                "encodingMethod": "",
                                "publicKey": "",
                            },
                        },
                    ],
                }
            ],
        },
        "MeterValues",
        {},
    ),
    (
        "SecurityEventNotification",
        {"type": "TamperDetectionActivated", "timestamp": STAMP, "techInfo": "door"},
        "SecurityEventNotification",
        {},
    ),
    (
        "SignCertificate",
        {"csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----"},
        "SignCertificate",
        {"certificateType": "ChargingStationCertificate"},
    ),
    (
        "SignCertificate",
        {"csr": "CSR", "certificateType": "ChargingStationCertificate"},
        "SignCertificate",
        {},
    ),
]


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


@pytest.mark.parametrize(
    ("action", "request201", "legacy_action", "not_carried"),
    GENERIC_REQUESTS,
    ids=[f"{a}-{i}" for i, (a, *_) in enumerate(GENERIC_REQUESTS)],
)
def test_a_generic_request_keeps_every_value_1_6_carries(
    action: str, request201: dict[str, Any], legacy_action: str, not_carried: dict[str, Any]
) -> None:
    sent_action, sent = send(action, request201)
    assert sent_action == legacy_action
    assert isinstance(sent, V16[legacy_action].request)
    back = BY_GENERIC[action].request_to_generic(legacy_action, sent, where(action))
    expected = builtins(generic(action, "request", request201))
    for path, value in not_carried.items():
        _put(expected, path, value)
    assert builtins(back) == expected


GENERIC_RESPONSES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        "Authorize",
        {"idToken": {"idToken": "04A2", "type": "ISO14443"}},
        {
            "idTokenInfo": {
                "status": "Blocked",
                "cacheExpiryDateTime": LATER,
                "groupIdToken": {"idToken": "FLEET-7", "type": "Central"},
            }
        },
        {},
    ),
    (
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}},
        {
            "status": "Rejected",
            "currentTime": STAMP,
            "interval": 600,
            "statusInfo": {"reasonCode": "UnknownStation"},
        },
        {"statusInfo": None},
    ),
    (
        "DataTransfer",
        {"vendorId": "com.acme"},
        {"status": "Accepted", "data": "pong"},
        {},
    ),
    ("Heartbeat", {}, {"currentTime": STAMP}, {}),
    ("SignCertificate", {"csr": "CSR"}, {"status": "Accepted"}, {}),
    ("FirmwareStatusNotification", {"status": "Installed", "requestId": 3}, {}, {}),
    ("LogStatusNotification", {"status": "Idle"}, {}, {}),
    (
        "MeterValues",
        {"evseId": 1, "meterValue": [{"timestamp": STAMP, "sampledValue": [{"value": 1.0}]}]},
        {},
        {},
    ),
    ("SecurityEventNotification", {"type": "X", "timestamp": STAMP}, {}, {}),
]


@pytest.mark.parametrize(
    ("action", "request201", "response201", "dropped"),
    GENERIC_RESPONSES,
    ids=[a for a, *_ in GENERIC_RESPONSES],
)
def test_a_generic_response_keeps_every_value_1_6_carries(
    action: str, request201: dict[str, Any], response201: dict[str, Any], dropped: dict[str, Any]
) -> None:
    adapter = BY_GENERIC[action]
    legacy_action, legacy_request = send(action, request201)
    answer = adapter.response_to_legacy(
        generic(action, "response", response201), legacy_action, legacy_request, where(action)
    )
    assert isinstance(answer, V16[legacy_action].response)
    back = adapter.response_to_generic(
        [answer], generic(action, "request", request201), where(action, "response")
    )
    expected = builtins(generic(action, "response", response201))
    for path in dropped:
        expected.pop(path)
    assert builtins(back) == expected


# -- every loss names its field ------------------------------------------------------------

LONG = "X" * 21
SAMPLE = "meterValue[0].sampledValue[0]"


def meter(sample: dict[str, Any]) -> dict[str, Any]:
    return {"evseId": 1, "meterValue": [{"timestamp": STAMP, "sampledValue": [sample]}]}


LOSSES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "Authorize",
        {"idToken": {"idToken": "T", "type": "eMAID"}, "certificate": "PEM"},
        "certificate",
        "Plug & Charge",
    ),
    (
        "Authorize",
        {
            "idToken": {"idToken": "T", "type": "eMAID"},
            "iso15118CertificateHashData": [
                {
                    "hashAlgorithm": "SHA256",
                    "issuerNameHash": "a",
                    "issuerKeyHash": "b",
                    "serialNumber": "c",
                    "responderURL": "http://ocsp",
                }
            ],
        },
        "iso15118CertificateHashData",
        "Plug & Charge",
    ),
    ("Authorize", {"idToken": {"idToken": LONG, "type": "Central"}}, "idToken.idToken", "length"),
    (
        "Authorize",
        {
            "idToken": {
                "idToken": "T",
                "type": "Central",
                "additionalInfo": [{"additionalIdToken": "a", "type": "b"}],
            }
        },
        "idToken.additionalInfo",
        "no such field",
    ),
    (
        "BootNotification",
        {
            "reason": "PowerUp",
            "chargingStation": {"model": "M", "vendorName": "Acme Charging Solutions GmbH"},
        },
        "chargingStation.vendorName",
        "length",
    ),
    (
        "BootNotification",
        {
            "reason": "PowerUp",
            "chargingStation": {
                "model": "M",
                "vendorName": "V",
                "customData": {"vendorId": "com.acme", "x": 1},
            },
        },
        "chargingStation.customData",
        "no such field",
    ),
    (
        "BootNotification",
        {
            "reason": "PowerUp",
            "chargingStation": {"model": "M", "vendorName": "V"},
            "customData": {"vendorId": "com.acme", "x": 1},
        },
        "customData",
        "no customData",
    ),
    ("DataTransfer", {"vendorId": "com.acme", "data": {"celsius": 41.5}}, "data", "string"),
    ("DataTransfer", {"vendorId": "com.acme", "data": 42}, "data", "string"),
    (
        "FirmwareStatusNotification",
        {
            "status": "InstallScheduled",
            "customData": {"vendorId": LEGACY_VENDOR, "action": "FirmwareStatusNotification"},
        },
        "status",
        "core FirmwareStatus",
    ),
    (
        "FirmwareStatusNotification",
        {
            "status": "Installed",
            "requestId": 3,
            "customData": {"vendorId": LEGACY_VENDOR, "action": "FirmwareStatusNotification"},
        },
        "requestId",
        "no requestId",
    ),
    (
        "FirmwareStatusNotification",
        {
            "status": "Installed",
            "customData": {"vendorId": LEGACY_VENDOR, "action": "UpdateFirmware"},
        },
        "customData.action",
        "SignedFirmwareStatusNotification",
    ),
    (
        "LogStatusNotification",
        {"status": "AcceptedCanceled", "requestId": 4},
        "status",
        "AcceptedCanceled",
    ),
    (
        "LogStatusNotification",
        {
            "status": "Uploaded",
            "requestId": 4,
            "customData": {"vendorId": LEGACY_VENDOR, "action": "DiagnosticsStatusNotification"},
        },
        "requestId",
        "no requestId",
    ),
    (
        "LogStatusNotification",
        {
            "status": "PermissionDenied",
            "customData": {"vendorId": LEGACY_VENDOR, "action": "DiagnosticsStatusNotification"},
        },
        "status",
        "DiagnosticsStatus",
    ),
    (
        "MeterValues",
        meter({"value": 3.2, "unitOfMeasure": {"unit": "kVAh"}}),
        f"{SAMPLE}.unitOfMeasure.unit",
        "UnitOfMeasure",
    ),
    (
        "MeterValues",
        meter({"value": 3.2, "unitOfMeasure": {"unit": "Ohm", "multiplier": 3}}),
        f"{SAMPLE}.unitOfMeasure.unit",
        "UnitOfMeasure",
    ),
    (
        "MeterValues",
        meter({"value": 3.2, "measurand": "Energy.Active.Net"}),
        f"{SAMPLE}.measurand",
        "measurand",
    ),
    (
        "MeterValues",
        meter({"value": 3.2, "measurand": "Energy.Apparent.Import"}),
        f"{SAMPLE}.measurand",
        "measurand",
    ),
    (
        "MeterValues",
        meter(
            {
                "value": 12345.0,
                "signedMeterValue": {
                    "signedMeterData": "b64",
                    "signingMethod": "ECDSA-secp256r1-SHA256",
                    "encodingMethod": "OCMF",
                    "publicKey": "MFkw",
                },
            }
        ),
        f"{SAMPLE}.signedMeterValue.signingMethod",
        "SignedData",
    ),
    (
        "MeterValues",
        meter(
            {
                "value": 0,
                "signedMeterValue": {
                    "signedMeterData": "b64",
                    "signingMethod": "",
                    "encodingMethod": "",
                    "publicKey": "MFkw",
                },
            }
        ),
        f"{SAMPLE}.signedMeterValue.publicKey",
        "public key",
    ),
    (
        "MeterValues",
        meter(
            {
                "value": 12345.0,
                "signedMeterValue": {
                    "signedMeterData": "b64",
                    "signingMethod": "",
                    "encodingMethod": "",
                    "publicKey": "",
                },
            }
        ),
        f"{SAMPLE}.value",
        "instead of a reading",
    ),
    (
        "MeterValues",
        meter({"value": 1.0, "customData": {"vendorId": "com.acme", "quality": "good"}}),
        f"{SAMPLE}.customData",
        "no customData",
    ),
    (
        "MeterValues",
        meter(
            {"value": 1.0, "unitOfMeasure": {"unit": "Wh", "customData": {"vendorId": "com.acme"}}}
        ),
        f"{SAMPLE}.unitOfMeasure.customData",
        "no customData",
    ),
    (
        "MeterValues",
        {
            "evseId": 1,
            "meterValue": [
                {
                    "timestamp": STAMP,
                    "sampledValue": [{"value": 1.0}],
                    "customData": {"vendorId": "com.acme"},
                }
            ],
        },
        "meterValue[0].customData",
        "no customData",
    ),
    (
        "SignCertificate",
        {"csr": "CSR", "certificateType": "V2GCertificate"},
        "certificateType",
        "Charge Point certificate only",
    ),
]


@pytest.mark.parametrize(
    ("action", "request201", "field", "why"),
    LOSSES,
    ids=[f"{a}-{f}" for a, _, f, _ in LOSSES],
)
def test_a_generic_request_1_6_cannot_carry_raises_naming_the_field(
    action: str, request201: dict[str, Any], field: str, why: str
) -> None:
    error = refused(action, request201)
    assert (error.action, error.part, error.field) == (action, "request", field)
    assert why in error.reason


RESPONSE_LOSSES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "Authorize",
        {"idTokenInfo": {"status": "Accepted"}, "certificateStatus": "Accepted"},
        "certificateStatus",
        "Plug & Charge",
    ),
    (
        "Authorize",
        {"idTokenInfo": {"status": "NoCredit"}},
        "idTokenInfo.status",
        "AuthorizationStatus",
    ),
    (
        "Authorize",
        {"idTokenInfo": {"status": "Accepted", "chargingPriority": 3}},
        "idTokenInfo.chargingPriority",
        "no such field",
    ),
    ("DataTransfer", {"status": "Accepted", "data": ["a", 1]}, "data", "string"),
    (
        "Heartbeat",
        {"currentTime": STAMP, "customData": {"vendorId": "com.acme"}},
        "customData",
        "no customData",
    ),
]


@pytest.mark.parametrize(
    ("action", "response201", "field", "why"),
    RESPONSE_LOSSES,
    ids=[f"{a}-{f}" for a, _, f, _ in RESPONSE_LOSSES],
)
def test_a_generic_response_1_6_cannot_carry_raises_naming_the_field(
    action: str, response201: dict[str, Any], field: str, why: str
) -> None:
    error = refused(action, response201, part="response")
    assert (error.action, error.part, error.field) == (action, "response", field)
    assert why in error.reason


@pytest.mark.parametrize(
    "adapter", [a for a in STATION_ACTIONS if getattr(a, "losses", ())], ids=lambda a: a.generic
)
def test_the_losses_an_adapter_lists_are_raised(adapter: Any) -> None:
    for loss in adapter.losses:
        error = refused(adapter.generic, dict(loss.example), part=loss.part)
        assert error.field == loss.field
        assert loss.why in error.reason


# -- meter values --------------------------------------------------------------------------


def read_meter(sampled: list[dict[str, Any]], stamp: str = STAMP) -> dict[str, Any]:
    """A 1.6 MeterValue as its generic wire form."""
    data = builtins(
        legacy(
            "MeterValues",
            "request",
            {"connectorId": 1, "meterValue": [{"timestamp": stamp, "sampledValue": sampled}]},
        )
    )
    data["meterValue"][0]["timestamp"] = datetime.datetime.fromisoformat(stamp)
    return METER_VALUE.to_generic(
        data["meterValue"][0], where("MeterValues"), "meterValue[0]", None
    )


def sample_to_legacy(sample: dict[str, Any]) -> dict[str, Any]:
    wire = builtins(msgspec.convert(sample, v201.SampledValue, dec_hook=dec_hook))
    return SAMPLED_VALUE.to_legacy(wire, where("MeterValues"), "sampledValue[0]")


@pytest.mark.parametrize(
    ("sample", "value", "unit"),
    [
        ({"value": 12.5, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}}, "12500", "Wh"),
        ({"value": 12.5, "unitOfMeasure": {"unit": "kWh"}}, "12.5", "kWh"),
        ({"value": 1.1, "unitOfMeasure": {"unit": "kW", "multiplier": -2}}, "0.011", "kW"),
        ({"value": 7.4, "unitOfMeasure": {"multiplier": 3}}, "7400", None),
        ({"value": 230.0, "unitOfMeasure": {"unit": "V"}}, "230", "V"),
        ({"value": 1e-7}, "0.0000001", None),
        ({"value": 1e20}, "100000000000000000000", None),
        ({"value": -3.25, "unitOfMeasure": {"unit": "A"}}, "-3.25", "A"),
        ({"value": 49.98, "unitOfMeasure": {"unit": "Hz"}}, "49.98", "Hertz"),
    ],
)
def test_units_and_multipliers_keep_the_number(
    sample: dict[str, Any], value: str, unit: str | None
) -> None:
    out = sample_to_legacy(sample)
    assert out["value"] == value
    assert out.get("unit") == unit


def test_1_6_units_read_as_the_2_0_1_unit_of_the_same_name() -> None:
    read = read_meter(
        [
            {"value": "12.345", "unit": "kWh"},
            {"value": "11", "unit": "kW", "measurand": "Power.Active.Import"},
            {"value": "20", "unit": "Celcius", "measurand": "Temperature"},
            {"value": "21", "unit": "Celsius", "measurand": "Power.Offered"},
            {"value": "50", "unit": "Hertz", "measurand": "Frequency"},
        ]
    )
    samples = read["sampledValue"]
    assert [s["unitOfMeasure"] for s in samples] == [
        {"unit": "kWh"},
        {"unit": "kW"},
        {"unit": "Celsius"},
        {"unit": "Hz"},
    ]
    assert [s["value"] for s in samples] == [12.345, 11.0, 21.0, 50.0]


def test_a_1_6_spelling_is_kept_while_the_value_still_reads_as_it() -> None:
    read = read_meter([{"value": "7200.0", "unit": "W", "measurand": "Power.Active.Import"}])
    sample = read["sampledValue"][0]
    assert sample["value"] == 7200.0
    assert sample["customData"] == {"vendorId": LEGACY_VENDOR, "value": "7200.0"}
    assert SAMPLED_VALUE.to_legacy(sample, where("MeterValues"), "s")["value"] == "7200.0"
    changed = {**sample, "value": 7300.0}
    assert SAMPLED_VALUE.to_legacy(changed, where("MeterValues"), "s")["value"] == "7300"


def test_a_1_6_value_that_is_no_number_reads_as_0_and_is_kept() -> None:
    read = read_meter([{"value": "N/A"}])
    sample = read["sampledValue"][0]
    assert sample["value"] == 0
    assert sample["customData"] == {"vendorId": LEGACY_VENDOR, "value": "N/A"}
    assert energy_register_wh([read]) is None


def test_1_6_signed_data_reads_as_signed_meter_value() -> None:
    read = read_meter(
        [
            {"value": "12345", "unit": "Wh"},
            {"value": SIGNED_OCMF, "format": "SignedData", "unit": "Wh"},
        ]
    )
    signed = read["sampledValue"][1]
    assert signed["value"] == 0
    assert signed["signedMeterValue"] == {
        "signedMeterData": SIGNED_OCMF,
        "signingMethod": "",
        "encodingMethod": "",
        "publicKey": "",
    }
    assert "customData" not in signed
    assert energy_register_wh([read]) == 12345


def test_1_6_only_measurands_keep_their_place_outside_sampled_value() -> None:
    sampled = [
        {"value": "35.5", "measurand": "Temperature", "unit": "Celsius"},
        {"value": "12000"},
        {"value": "900", "measurand": "RPM"},
        {"value": "16", "measurand": "Current.Import", "unit": "A"},
    ]
    read = read_meter(sampled)
    # Never read as the default measurand (an energy register).
    assert [s.get("measurand") for s in read["sampledValue"]] == [None, "Current.Import"]
    assert read["customData"]["sampledValue"] == [sampled[0], None, sampled[2], None]
    assert energy_register_wh([read]) == 12000
    back = METER_VALUE.to_legacy(read, where("MeterValues"), "meterValue[0]")
    assert back["sampledValue"] == [
        sampled[0],
        {"value": "12000"},
        sampled[2],
        {"measurand": "Current.Import", "unit": "A", "value": "16"},
    ]


def test_a_meter_value_of_1_6_only_measurands_has_no_2_0_1_form() -> None:
    with pytest.raises(NotExpressible) as caught:
        read_meter([{"value": "35", "measurand": "Temperature"}])
    assert caught.value.field == "meterValue[0].sampledValue"


def test_energy_register_wh_finds_wh_from_kwh() -> None:
    assert energy_register_wh([read_meter([{"value": "12.3456", "unit": "kWh"}])]) == 12346
    kwh = {"timestamp": STAMP, "sampledValue": [{"value": 0.5, "unitOfMeasure": {"unit": "kWh"}}]}
    scaled = {
        "timestamp": STAMP,
        "sampledValue": [{"value": 1.5, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}}],
    }
    assert energy_register_wh([kwh]) == 500
    assert energy_register_wh([scaled]) == 1500
    assert energy_register_wh([msgspec.convert(kwh, v201.MeterValue)]) == 500


def test_energy_register_wh_takes_the_whole_register_at_the_latest_time() -> None:
    earlier = {
        "timestamp": STAMP,
        "sampledValue": [
            {
                "value": 100.0,
                "measurand": "Energy.Active.Import.Register",
                "context": "Transaction.Begin",
            }
        ],
    }
    later = {
        "timestamp": LATER,
        "sampledValue": [
            {"value": 5000.0, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
            {"value": 40.0, "measurand": "Energy.Active.Import.Register", "phase": "L1"},
            {"value": 90.0, "measurand": "Energy.Active.Import.Register", "location": "Inlet"},
            {
                "value": 7.0,
                "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "varh"},
            },
            {
                "value": 0,
                "signedMeterValue": {
                    "signedMeterData": "x",
                    "signingMethod": "",
                    "encodingMethod": "",
                    "publicKey": "",
                },
            },
            {"value": 120.0, "measurand": "Energy.Active.Import.Register", "location": "Outlet"},
        ],
    }
    assert energy_register_wh([later, earlier]) == 120
    assert energy_register_wh([earlier]) == 100
    assert (
        energy_register_wh([{"timestamp": STAMP, "sampledValue": later["sampledValue"][:5]}])
        is None
    )
    assert energy_register_wh([]) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (12345.0, "12345"),
        (0.1, "0.1"),
        (1234.5678, "1234.5678"),
        (2.5e-3, "0.0025"),
    ],
)
def test_decimal_text_is_the_plain_shortest_decimal(value: float, text: str) -> None:
    assert decimal_text(value) == text
    assert float(text) == value


# -- every 1.6 action a charge point sends is read ------------------------------------------

OTHERS = {"StartTransaction", "StopTransaction", "StatusNotification"}


def test_every_1_6_action_a_charge_point_sends_is_read_by_an_adapter() -> None:
    sent = {name for name, spec in V16.items() if spec.sent_by_charge_point} - OTHERS
    assert sent <= set(BY_LEGACY), sent - set(BY_LEGACY)
    for name in sorted(sent):
        adapter = BY_LEGACY[name]
        request = minimal_example(V16[name].request)
        read = adapter.request_to_generic(name, request, where(adapter.generic))
        assert isinstance(read, V201[adapter.generic].request), name
        ((again_action, again),) = adapter.request_to_legacy(read, where(adapter.generic))
        assert (again_action, builtins(again)) == (name, builtins(request))


def test_each_adapter_is_a_2_0_1_action_with_a_note() -> None:
    for adapter in STATION_ACTIONS:
        assert adapter.generic in V201
        assert V201[adapter.generic].sent_by_charge_point
        assert adapter.note
        assert all(name in V16 for name in adapter.legacy)


def test_1_6_signed_data_too_long_for_2_0_1_is_kept_whole() -> None:
    blob = "AB" * 1300  # 2600 characters: 2.0.1 signedMeterData holds 2500
    sampled = [{"value": blob, "format": "SignedData", "unit": "Wh"}]
    read = read_meter(sampled)
    sample = read["sampledValue"][0]
    assert "signedMeterValue" not in sample
    assert sample["customData"] == {
        "vendorId": LEGACY_VENDOR,
        "format": "SignedData",
        "value": blob,
    }
    assert energy_register_wh([read]) is None
    back = METER_VALUE.to_legacy(read, where("MeterValues"), "meterValue[0]")
    assert back["sampledValue"] == [{"unit": "Wh", "value": blob, "format": "SignedData"}]


@pytest.mark.parametrize(
    ("request_action", "legacy_request", "generic_action", "status", "core_notification"),
    [
        (
            "UpdateFirmware",
            v16.UpdateFirmwareRequest(
                location="ftp://fw.example/1.bin",
                retrieve_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            ),
            "FirmwareStatusNotification",
            "Downloading",
            "FirmwareStatusNotification",
        ),
        (
            "GetDiagnostics",
            v16.GetDiagnosticsRequest(location="ftp://logs.example/"),
            "LogStatusNotification",
            "Uploading",
            "DiagnosticsStatusNotification",
        ),
    ],
)
def test_a_notification_for_a_core_request_goes_back_as_the_core_notification(
    request_action: str,
    legacy_request: Any,
    generic_action: str,
    status: str,
    core_notification: str,
) -> None:
    # The CSMS used the core message; 2.0.1 needs a requestId, which the link gives and
    # remembers, so the station's notification with it goes as the core one, without it.
    from fleet.generic import Ocpp16Link, adapter, adapter_for_legacy

    link = Ocpp16Link()
    asked = adapter_for_legacy(request_action).request_to_generic(
        request_action, legacy_request, link.request_where(request_action)
    )
    notification = {"status": status, "requestId": asked.request_id}
    _, steps = link.calls_for(generic_action, notification)
    ((action, sent),) = steps
    assert action == core_notification
    assert sent.status == status and not hasattr(sent, "request_id")
    # A requestId the link did not give (a GetLog of the security extension) keeps its own.
    other = adapter(generic_action).request_to_legacy(
        {"status": status, "requestId": asked.request_id + 100},
        link.request_where(generic_action),
    )
    assert other[0][0] != core_notification
