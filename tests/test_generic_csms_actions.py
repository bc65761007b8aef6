"""The CSMS's actions between the generic (2.0.1) model and 1.6: round trips both ways, and
every loss an error that names the field and the version."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from fleet.generic._common import LinkState
from fleet.generic._csms_actions import CSMS_ACTIONS
from fleet.generic._engine import Where
from fleet.generic._errors import NotExpressible
from fleet.generic._variables import (
    CONFIGURATION_KEYS,
    LEGACY_COMPONENT,
    LEGACY_ONLY_KEYS,
    configuration_to_variables,
    get_all_request,
)
from fleet.ocpp import CustomData, actions_of, dec_hook, v16, v201

V16 = actions_of("ocpp1.6")
V201 = actions_of("ocpp2.0.1")
ADAPTERS = {adapter.generic: adapter for adapter in CSMS_ACTIONS}

T0 = "2026-03-01T08:00:00Z"
T1 = "2026-03-01T20:00:00Z"
HASH = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a1b2c3",
    "issuerKeyHash": "d4e5f6",
    "serialNumber": "0badc0de",
}
PROFILE = {
    "id": 12,
    "stackLevel": 2,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [
        {
            "id": 0,
            "chargingRateUnit": "A",
            "startSchedule": T0,
            "duration": 3600,
            "minChargingRate": 6.0,
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                {"startPeriod": 1800, "limit": 10.5},
            ],
        }
    ],
    "validFrom": T0,
    "validTo": T1,
}
LEGACY_PROFILE = {
    "chargingProfileId": 12,
    "stackLevel": 2,
    "chargingProfilePurpose": "ChargePointMaxProfile",
    "chargingProfileKind": "Recurring",
    "recurrencyKind": "Daily",
    "chargingSchedule": {
        "chargingRateUnit": "W",
        "duration": 86400,
        "startSchedule": T0,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
    },
}


def where(adapter: Any, part: str = "request") -> Where:
    ids = LinkState()
    ids.add("tx-7f3a", 4711)
    return Where(adapter.generic, part, link=ids)


def plain(message: Any) -> Any:
    return msgspec.to_builtins(message)


def generic(kind: str, data: dict[str, Any]) -> Any:
    return msgspec.convert(data, getattr(v201, kind), dec_hook=dec_hook)


def over_the_wire(spec: Any, part: str, message: Any) -> Any:
    """As the peer decodes it: JSON, then the action's schema type."""
    encoded = msgspec.json.encode(message)
    return spec.decode_request(encoded) if part == "request" else spec.decode_response(encoded)


# -- generic -> 1.6 -> generic ------------------------------------------------------------------

# (generic action, request, response, 1.6 action it goes as, request read back if not equal)
GENERIC_CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, dict[str, Any] | None]] = [
    ("CancelReservation", {"reservationId": 5}, {"status": "Rejected"}, "CancelReservation", None),
    (
        "ChangeAvailability",
        {"operationalStatus": "Inoperative"},
        {"status": "Scheduled"},
        "ChangeAvailability",
        None,
    ),
    (
        "ChangeAvailability",
        {"operationalStatus": "Operative", "evse": {"id": 2}},
        {"status": "Accepted"},
        "ChangeAvailability",
        None,
    ),
    ("ClearCache", {}, {"status": "Accepted"}, "ClearCache", None),
    (
        "ClearChargingProfile",
        {
            "chargingProfileId": 9,
            "chargingProfileCriteria": {
                "evseId": 1,
                "chargingProfilePurpose": "ChargingStationMaxProfile",
                "stackLevel": 3,
            },
        },
        {"status": "Unknown"},
        "ClearChargingProfile",
        None,
    ),
    (
        "DataTransfer",
        {"vendorId": "com.acme", "messageId": "Ping", "data": '{"n": 1}'},
        {"status": "Accepted", "data": "pong"},
        "DataTransfer",
        None,
    ),
    (
        "GetCompositeSchedule",
        {"duration": 3600, "evseId": 1, "chargingRateUnit": "W"},
        {
            "status": "Accepted",
            "schedule": {
                "evseId": 1,
                "duration": 3600,
                "scheduleStart": T0,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 7400.0, "numberPhases": 1},
                    {"startPeriod": 900, "limit": 3700.0},
                ],
            },
        },
        "GetCompositeSchedule",
        None,
    ),
    ("GetLocalListVersion", {}, {"versionNumber": 42}, "GetLocalListVersion", None),
    (
        "RequestStartTransaction",
        {
            "idToken": {"idToken": "04A2B3C4D5E6F7", "type": "Central"},
            "remoteStartId": 0,
            "evseId": 1,
            "chargingProfile": PROFILE,
        },
        {"status": "Accepted"},
        "RemoteStartTransaction",
        None,
    ),
    (
        "RequestStopTransaction",
        {"transactionId": "tx-7f3a"},
        {"status": "Accepted"},
        "RemoteStopTransaction",
        None,
    ),
    (
        "ReserveNow",
        {
            "id": 77,
            "expiryDateTime": T1,
            "idToken": {"idToken": "TAG-1", "type": "Central"},
            "groupIdToken": {"idToken": "FLEET-9", "type": "Central"},
            "evseId": 2,
        },
        {"status": "Occupied"},
        "ReserveNow",
        None,
    ),
    (
        "ReserveNow",
        {"id": 78, "expiryDateTime": T1, "idToken": {"idToken": "TAG-1", "type": "Central"}},
        {"status": "Accepted"},
        "ReserveNow",
        None,
    ),
    ("Reset", {"type": "Immediate"}, {"status": "Rejected"}, "Reset", None),
    (
        "SendLocalList",
        {
            "versionNumber": 8,
            "updateType": "Differential",
            "localAuthorizationList": [
                {
                    "idToken": {"idToken": "TAG-1", "type": "Central"},
                    "idTokenInfo": {
                        "status": "Blocked",
                        "cacheExpiryDateTime": T1,
                        "groupIdToken": {"idToken": "FLEET-9", "type": "Central"},
                    },
                },
                {"idToken": {"idToken": "TAG-2", "type": "Central"}},
            ],
        },
        {"status": "VersionMismatch"},
        "SendLocalList",
        None,
    ),
    (
        "SetChargingProfile",
        {"evseId": 0, "chargingProfile": {**PROFILE, "transactionId": "tx-7f3a"}},
        {"status": "Rejected"},
        "SetChargingProfile",
        None,
    ),
    (
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "evse": {"id": 2}},
        {"status": "Accepted"},
        "TriggerMessage",
        None,
    ),
    (
        "TriggerMessage",
        {"requestedMessage": "SignChargingStationCertificate"},
        {"status": "NotImplemented"},
        "ExtendedTriggerMessage",
        None,
    ),
    (
        "TriggerMessage",
        {"requestedMessage": "LogStatusNotification"},
        {"status": "Accepted"},
        "TriggerMessage",
        None,
    ),
    (
        "TriggerMessage",
        {
            "requestedMessage": "Heartbeat",
            "customData": {"vendorId": "ocpp1.6", "action": "ExtendedTriggerMessage"},
        },
        {"status": "Rejected"},
        "ExtendedTriggerMessage",
        None,
    ),
    (
        "TriggerMessage",
        {
            "requestedMessage": "LogStatusNotification",
            "customData": {"vendorId": "ocpp1.6", "action": "ExtendedTriggerMessage"},
        },
        {"status": "Accepted"},
        "ExtendedTriggerMessage",
        None,
    ),
    (
        "UnlockConnector",
        {"evseId": 3, "connectorId": 1},
        {"status": "UnlockFailed"},
        "UnlockConnector",
        None,
    ),
    (
        "UpdateFirmware",
        {
            "requestId": 17,
            "firmware": {"location": "https://fw.example/v2.bin", "retrieveDateTime": T0},
            "retries": 3,
            "retryInterval": 60,
        },
        {"status": "Accepted"},
        "UpdateFirmware",
        {  # the requestId is not sent: read, the link gives one (its first: 1)
            "requestId": 1,
            "firmware": {"location": "https://fw.example/v2.bin", "retrieveDateTime": T0},
            "retries": 3,
            "retryInterval": 60,
        },
    ),
    (
        "UpdateFirmware",
        {
            "requestId": 31,
            "firmware": {
                "location": "https://fw.example/v2.bin",
                "retrieveDateTime": T0,
                "installDateTime": T1,
                "signingCertificate": "-----BEGIN CERTIFICATE-----MIIB...",
                "signature": "c2lnbmF0dXJl",
            },
            "retries": 2,
        },
        {"status": "InvalidCertificate"},
        "SignedUpdateFirmware",
        None,
    ),
    (
        "GetLog",
        {
            "log": {"remoteLocation": "ftp://logs.example/", "oldestTimestamp": T0},
            "logType": "DiagnosticsLog",
            "requestId": 5,
            "retries": 1,
            "retryInterval": 30,
        },
        {"status": "Accepted", "filename": "diag-0301.tar.gz"},
        "GetDiagnostics",
        {
            "log": {"remoteLocation": "ftp://logs.example/", "oldestTimestamp": T0},
            "logType": "DiagnosticsLog",
            "requestId": 1,
            "retries": 1,
            "retryInterval": 30,
        },
    ),
    (
        "GetLog",
        {
            "log": {
                "remoteLocation": "ftp://logs.example/",
                "oldestTimestamp": T0,
                "latestTimestamp": T1,
            },
            "logType": "SecurityLog",
            "requestId": 5,
        },
        {"status": "AcceptedCanceled", "filename": "security.log"},
        "GetLog",
        None,
    ),
    (
        "GetLog",
        {
            "log": {"remoteLocation": "ftp://logs.example/"},
            "logType": "DiagnosticsLog",
            "requestId": 6,
            "customData": {"vendorId": "ocpp1.6", "action": "GetLog"},
        },
        {"status": "Rejected"},
        "GetLog",
        None,
    ),
    (
        "CertificateSigned",
        {"certificateChain": "-----BEGIN CERTIFICATE-----MIIC..."},
        {"status": "Accepted"},
        "CertificateSigned",
        None,
    ),
    (
        "DeleteCertificate",
        {"certificateHashData": HASH},
        {"status": "NotFound"},
        "DeleteCertificate",
        None,
    ),
    (
        "GetInstalledCertificateIds",
        {"certificateType": ["CSMSRootCertificate"]},
        {
            "status": "Accepted",
            "certificateHashDataChain": [
                {"certificateHashData": HASH, "certificateType": "CSMSRootCertificate"}
            ],
        },
        "GetInstalledCertificateIds",
        None,
    ),
    (
        "InstallCertificate",
        {"certificateType": "ManufacturerRootCertificate", "certificate": "-----BEGIN..."},
        {"status": "Failed"},
        "InstallCertificate",
        None,
    ),
    (
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": "300",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        },
        {
            "setVariableResult": [
                {
                    "attributeStatus": "RebootRequired",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        },
        "ChangeConfiguration",
        None,
    ),
    (
        "GetVariables",
        {
            "getVariableData": [
                {
                    "component": {"name": "SmartChargingCtrlr"},
                    "variable": {"name": "RateUnit"},
                },
                {"component": {"name": "ocpp1.6"}, "variable": {"name": "BlinkRepeat"}},
                {"component": {"name": "ocpp1.6"}, "variable": {"name": "AcmeTurbo"}},
            ]
        },
        {
            "getVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "attributeValue": "A,W",
                    "component": {"name": "SmartChargingCtrlr"},
                    "variable": {"name": "RateUnit"},
                    "customData": {"vendorId": "ocpp1.6", "readonly": True},
                },
                {
                    "attributeStatus": "Accepted",
                    "attributeValue": "3",
                    "component": {"name": "ocpp1.6"},
                    "variable": {"name": "BlinkRepeat"},
                    "customData": {"vendorId": "ocpp1.6", "readonly": False},
                },
                {
                    "attributeStatus": "UnknownVariable",
                    "component": {"name": "ocpp1.6"},
                    "variable": {"name": "AcmeTurbo"},
                },
            ]
        },
        "GetConfiguration",
        None,
    ),
]


def _case_id(case: tuple[Any, ...]) -> str:
    return f"{case[0]}-{case[3]}"


@pytest.mark.parametrize("case", GENERIC_CASES, ids=[_case_id(c) for c in GENERIC_CASES])
def test_generic_to_16_and_back_keeps_what_16_carries(case: tuple[Any, ...]) -> None:
    name, request_data, response_data, legacy_action, read_back = case
    adapter = ADAPTERS[name]
    request = generic(f"{name}Request", request_data)
    calls = adapter.request_to_legacy(request, where(adapter))
    assert [action for action, _ in calls] == [legacy_action]
    ((action, legacy_request),) = calls
    legacy_request = over_the_wire(V16[action], "request", legacy_request)

    # The station reads the 1.6 request as the generic one ...
    again = adapter.request_to_generic(action, legacy_request, where(adapter))
    assert plain(again) == plain(generic(f"{name}Request", read_back or request_data))

    # ... answers in generic terms, which go back as 1.6 and read as the same answer.
    response = generic(f"{name}Response", response_data)
    legacy_response = adapter.response_to_legacy(
        response, action, legacy_request, where(adapter, "response")
    )
    legacy_response = over_the_wire(V16[action], "response", legacy_response)
    answer = adapter.response_to_generic([legacy_response], request, where(adapter, "response"))
    assert plain(answer) == plain(response)


def test_the_1_6_request_carries_the_values() -> None:
    adapter = ADAPTERS["RequestStartTransaction"]
    (data,) = [c[1] for c in GENERIC_CASES if c[0] == "RequestStartTransaction"]
    request = generic("RequestStartTransactionRequest", data)
    ((_, legacy),) = adapter.request_to_legacy(request, where(adapter))
    assert plain(legacy)["idTag"] == "04A2B3C4D5E6F7"
    assert plain(legacy)["connectorId"] == 1
    assert plain(legacy)["chargingProfile"]["chargingProfileId"] == 12
    assert plain(legacy)["chargingProfile"]["chargingSchedule"]["minChargingRate"] == 6.0

    stop = ADAPTERS["RequestStopTransaction"]
    ((_, legacy),) = stop.request_to_legacy({"transactionId": "tx-7f3a"}, where(stop))
    assert legacy.transaction_id == 4711  # the id the CSMS gave, from the link's map

    reset = ADAPTERS["Reset"]
    ((_, legacy),) = reset.request_to_legacy({"type": "Immediate"}, where(reset))
    assert legacy.type == "Soft"

    change = ADAPTERS["ChangeAvailability"]
    ((_, legacy),) = change.request_to_legacy({"operationalStatus": "Operative"}, where(change))
    assert legacy.connector_id == 0

    trigger = ADAPTERS["TriggerMessage"]
    request = {"requestedMessage": "SignChargingStationCertificate"}
    ((_, legacy),) = trigger.request_to_legacy(request, where(trigger))
    assert legacy.requested_message == "SignChargePointCertificate"


def test_what_16_lacks_reads_back_as_documented() -> None:
    """Values 1.6 does not carry come back as the table's fill, not as sent."""
    adapter = ADAPTERS["RequestStartTransaction"]
    sent = generic(
        "RequestStartTransactionRequest",
        {"idToken": {"idToken": "TAG-1", "type": "ISO14443"}, "remoteStartId": 99},
    )
    ((action, legacy),) = adapter.request_to_legacy(sent, where(adapter))
    back = plain(adapter.request_to_generic(action, legacy, where(adapter)))
    assert back == {"idToken": {"idToken": "TAG-1", "type": "Central"}, "remoteStartId": 0}

    unlock = ADAPTERS["UnlockConnector"]
    ((action, legacy),) = unlock.request_to_legacy({"evseId": 2, "connectorId": 1}, where(unlock))
    assert plain(legacy) == {"connectorId": 2}

    change = ADAPTERS["ChangeAvailability"]
    request = {"operationalStatus": "Operative", "evse": {"id": 2, "connectorId": 1}}
    ((action, legacy),) = change.request_to_legacy(request, where(change))
    back = plain(change.request_to_generic(action, legacy, where(change)))
    assert back == {"operationalStatus": "Operative", "evse": {"id": 2}}

    started = ADAPTERS["RequestStartTransaction"]
    answer = {"status": "Accepted", "transactionId": "tx-1", "statusInfo": {"reasonCode": "x"}}
    legacy = started.response_to_legacy(answer, "RemoteStartTransaction", None, where(started))
    assert plain(legacy) == {"status": "Accepted"}


def test_get_installed_certificate_ids_of_every_type_asks_both_16_types() -> None:
    adapter = ADAPTERS["GetInstalledCertificateIds"]
    calls = adapter.request_to_legacy({}, where(adapter))
    assert [plain(r)["certificateType"] for _, r in calls] == [
        "CentralSystemRootCertificate",
        "ManufacturerRootCertificate",
    ]
    other = {**HASH, "serialNumber": "01"}
    answers = [
        v16.GetInstalledCertificateIdsResponse(status="NotFound"),
        msgspec.convert(
            {"status": "Accepted", "certificateHashData": [other]},
            v16.GetInstalledCertificateIdsResponse,
        ),
    ]
    answer = adapter.response_to_generic(answers, {}, where(adapter, "response"))
    assert plain(answer) == {
        "status": "Accepted",
        "certificateHashDataChain": [
            {"certificateHashData": other, "certificateType": "ManufacturerRootCertificate"}
        ],
    }


def test_set_variables_is_one_change_configuration_per_item() -> None:
    adapter = ADAPTERS["SetVariables"]
    items = [
        ("SampledDataCtrlr", "TxUpdatedMeasurands", None, "Energy.Active.Import.Register,SoC"),
        ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent", "5"),
        ("SmartChargingCtrlr", "RateUnit", None, "W, A"),
        (LEGACY_COMPONENT, "AcmeTurbo", None, "on"),
    ]
    request = {
        "setVariableData": [
            {
                "attributeValue": value,
                "attributeType": "Actual",
                "component": {"name": component},
                "variable": {"name": variable, **({"instance": instance} if instance else {})},
            }
            for component, variable, instance, value in items
        ]
    }
    calls = adapter.request_to_legacy(request, where(adapter))
    assert [(a, plain(r)) for a, r in calls] == [
        (
            "ChangeConfiguration",
            {"key": "MeterValuesSampledData", "value": "Energy.Active.Import.Register,SoC"},
        ),
        ("ChangeConfiguration", {"key": "TransactionMessageAttempts", "value": "5"}),
        (
            "ChangeConfiguration",
            {"key": "ChargingScheduleAllowedChargingRateUnit", "value": "Power,Current"},
        ),
        ("ChangeConfiguration", {"key": "AcmeTurbo", "value": "on"}),
    ]
    answers = [
        v16.ChangeConfigurationResponse(status=s)
        for s in ("Accepted", "RebootRequired", "Rejected", "NotSupported")
    ]
    results = plain(adapter.response_to_generic(answers, request, where(adapter, "response")))
    assert [r["attributeStatus"] for r in results["setVariableResult"]] == [
        "Accepted",
        "RebootRequired",
        "Rejected",
        "UnknownVariable",
    ]
    assert results["setVariableResult"][1]["variable"] == {
        "name": "MessageAttempts",
        "instance": "TransactionEvent",
    }
    assert all(r["attributeType"] == "Actual" for r in results["setVariableResult"])


# -- 1.6 -> generic -> 1.6 ----------------------------------------------------------------------

# (1.6 action, request, response)
LEGACY_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("CancelReservation", {"reservationId": 3}, {"status": "Accepted"}),
    ("CertificateSigned", {"certificateChain": "-----BEGIN..."}, {"status": "Rejected"}),
    ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}, {"status": "Scheduled"}),
    ("ChangeAvailability", {"connectorId": 2, "type": "Operative"}, {"status": "Rejected"}),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "900"}, {"status": "Accepted"}),
    (
        "ChangeConfiguration",
        {"key": "ChargingScheduleAllowedChargingRateUnit", "value": "Current"},
        {"status": "Rejected"},
    ),
    ("ChangeConfiguration", {"key": "VendorKnob", "value": "7"}, {"status": "NotSupported"}),
    ("ClearCache", {}, {"status": "Rejected"}),
    (
        "ClearChargingProfile",
        {"id": 4, "connectorId": 0, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1},
        {"status": "Accepted"},
    ),
    ("ClearChargingProfile", {}, {"status": "Unknown"}),
    (
        "DataTransfer",
        {"vendorId": "com.acme", "messageId": "Cfg", "data": "x=1"},
        {"status": "UnknownMessageId"},
    ),
    ("DeleteCertificate", {"certificateHashData": HASH}, {"status": "Failed"}),
    (
        "ExtendedTriggerMessage",
        {"requestedMessage": "SignChargePointCertificate"},
        {"status": "Accepted"},
    ),
    (
        "ExtendedTriggerMessage",
        {"requestedMessage": "MeterValues", "connectorId": 1},
        {"status": "Rejected"},
    ),
    (
        "GetCompositeSchedule",
        {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"},
        {
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": T0,
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "duration": 600,
                "startSchedule": T0,
                "minChargingRate": 6.0,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0, "numberPhases": 3}],
            },
        },
    ),
    (
        "GetCompositeSchedule",
        {"connectorId": 1, "duration": 600},
        {
            "status": "Accepted",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}],
            },
        },
    ),
    ("GetCompositeSchedule", {"connectorId": 0, "duration": 60}, {"status": "Rejected"}),
    (
        "GetConfiguration",
        {"key": ["HeartbeatInterval", "NumberOfConnectors", "AuthorizationKey", "Nope"]},
        {
            "configurationKey": [
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
                {"key": "SupportedFeatureProfiles", "readonly": True, "value": "Core"},
            ],
            "unknownKey": ["Nope"],
        },
    ),
    (
        "GetDiagnostics",
        {
            "location": "ftp://logs.example/",
            "retries": 2,
            "retryInterval": 10,
            "startTime": T0,
            "stopTime": T1,
        },
        {"fileName": "diag.zip"},
    ),
    ("GetDiagnostics", {"location": "ftp://logs.example/"}, {}),
    (
        "GetInstalledCertificateIds",
        {"certificateType": "CentralSystemRootCertificate"},
        {"status": "Accepted", "certificateHashData": [HASH, {**HASH, "serialNumber": "02"}]},
    ),
    (
        "GetInstalledCertificateIds",
        {"certificateType": "ManufacturerRootCertificate"},
        {"status": "NotFound"},
    ),
    ("GetLocalListVersion", {}, {"listVersion": -1}),
    (
        "GetLog",
        {
            "log": {"remoteLocation": "ftp://logs.example/", "latestTimestamp": T1},
            "logType": "DiagnosticsLog",
            "requestId": 8,
            "retries": 1,
        },
        {"status": "Accepted", "filename": "d.log"},
    ),
    (
        "GetLog",
        {
            "log": {"remoteLocation": "ftp://logs.example/"},
            "logType": "SecurityLog",
            "requestId": 9,
        },
        {"status": "Rejected"},
    ),
    (
        "InstallCertificate",
        {"certificateType": "CentralSystemRootCertificate", "certificate": "-----BEGIN..."},
        {"status": "Accepted"},
    ),
    (
        "RemoteStartTransaction",
        {
            "idTag": "TAG-1",
            "connectorId": 2,
            "chargingProfile": {**LEGACY_PROFILE, "chargingProfilePurpose": "TxProfile"},
        },
        {"status": "Accepted"},
    ),
    ("RemoteStartTransaction", {"idTag": "TAG-1"}, {"status": "Rejected"}),
    ("RemoteStopTransaction", {"transactionId": 4711}, {"status": "Accepted"}),
    ("RemoteStopTransaction", {"transactionId": 12}, {"status": "Rejected"}),
    (
        "ReserveNow",
        {
            "connectorId": 0,
            "expiryDate": T1,
            "idTag": "TAG-1",
            "parentIdTag": "FLEET-9",
            "reservationId": 3,
        },
        {"status": "Unavailable"},
    ),
    ("Reset", {"type": "Hard"}, {"status": "Accepted"}),
    ("Reset", {"type": "Soft"}, {"status": "Rejected"}),
    (
        "SendLocalList",
        {
            "listVersion": 3,
            "updateType": "Full",
            "localAuthorizationList": [
                {
                    "idTag": "TAG-1",
                    "idTagInfo": {"status": "Accepted", "expiryDate": T1, "parentIdTag": "P"},
                },
                {"idTag": "TAG-2"},
            ],
        },
        {"status": "NotSupported"},
    ),
    ("SendLocalList", {"listVersion": 0, "updateType": "Full"}, {"status": "Accepted"}),
    (
        "SetChargingProfile",
        {"connectorId": 0, "csChargingProfiles": LEGACY_PROFILE},
        {"status": "NotSupported"},
    ),
    (
        "SetChargingProfile",
        {
            "connectorId": 1,
            "csChargingProfiles": {
                **LEGACY_PROFILE,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative",
                "transactionId": 4711,
            },
        },
        {"status": "Accepted"},
    ),
    (
        "SignedUpdateFirmware",
        {
            "requestId": 4,
            "retries": 1,
            "retryInterval": 5,
            "firmware": {
                "location": "https://fw.example/x",
                "retrieveDateTime": T0,
                "installDateTime": T1,
                "signingCertificate": "-----BEGIN...",
                "signature": "c2ln",
            },
        },
        {"status": "RevokedCertificate"},
    ),
    (
        "TriggerMessage",
        {"requestedMessage": "DiagnosticsStatusNotification"},
        {"status": "NotImplemented"},
    ),
    (
        "TriggerMessage",
        {"requestedMessage": "BootNotification", "connectorId": 2},
        {"status": "Accepted"},
    ),
    ("UnlockConnector", {"connectorId": 2}, {"status": "NotSupported"}),
    ("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
    (
        "UpdateFirmware",
        {"location": "https://fw.example/x", "retrieveDate": T0, "retries": 4, "retryInterval": 30},
        {},
    ),
]


def adapter_of(legacy_action: str) -> Any:
    (adapter,) = [a for a in CSMS_ACTIONS if legacy_action in a.legacy]
    return adapter


@pytest.mark.parametrize(
    ("action", "request_data", "response_data"),
    LEGACY_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(LEGACY_CASES)],
)
def test_16_to_generic_and_back_is_exact(
    action: str, request_data: dict[str, Any], response_data: dict[str, Any]
) -> None:
    adapter = adapter_of(action)
    spec = V16[action]
    legacy_request = msgspec.convert(request_data, spec.request, dec_hook=dec_hook)
    legacy_response = msgspec.convert(response_data, spec.response, dec_hook=dec_hook)

    request = adapter.request_to_generic(action, legacy_request, where(adapter))
    request = over_the_wire(V201[adapter.generic], "request", request)  # valid 2.0.1
    calls = adapter.request_to_legacy(request, where(adapter))
    assert [(a, plain(r)) for a, r in calls] == [(action, plain(legacy_request))]

    response = adapter.response_to_generic([legacy_response], request, where(adapter, "response"))
    response = over_the_wire(V201[adapter.generic], "response", response)
    back = adapter.response_to_legacy(response, action, legacy_request, where(adapter, "response"))
    assert plain(back) == plain(legacy_response)


def test_16_values_read_as_their_generic_meaning() -> None:
    def read(action: str, data: dict[str, Any]) -> Any:
        adapter = adapter_of(action)
        message = msgspec.convert(data, V16[action].request)
        return plain(adapter.request_to_generic(action, message, where(adapter)))

    assert read("Reset", {"type": "Hard"}) == {
        "type": "Immediate",
        "customData": {"vendorId": "ocpp1.6", "type": "Hard"},
    }
    assert read("ChangeAvailability", {"connectorId": 0, "type": "Operative"}) == {
        "operationalStatus": "Operative"
    }
    assert read("RemoteStopTransaction", {"transactionId": 4711}) == {"transactionId": "tx-7f3a"}
    assert read("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}) == {
        "requestedMessage": "SignChargingStationCertificate"
    }
    assert read("ExtendedTriggerMessage", {"requestedMessage": "Heartbeat"}) == {
        "requestedMessage": "Heartbeat",
        "customData": {"vendorId": "ocpp1.6", "action": "ExtendedTriggerMessage"},
    }
    assert read("GetDiagnostics", {"location": "ftp://x/"}) == {
        "log": {"remoteLocation": "ftp://x/"},
        "logType": "DiagnosticsLog",
        "requestId": 1,
    }
    assert read("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "60"}) == {
        "setVariableData": [
            {
                "attributeValue": "60",
                "component": {"name": "SampledDataCtrlr"},
                "variable": {"name": "TxUpdatedInterval"},
            }
        ]
    }


def test_a_core_request_read_gets_a_request_id_the_link_remembers() -> None:
    adapter = ADAPTERS["UpdateFirmware"]
    link = where(adapter)
    core = v16.UpdateFirmwareRequest(location="https://x/", retrieve_date=T0)
    first = adapter.request_to_generic("UpdateFirmware", core, link)
    log = ADAPTERS["GetLog"]
    second = log.request_to_generic("GetDiagnostics", {"location": "ftp://x/"}, link)
    assert (first.request_id, second.request_id) == (1, 2)
    assert link.link.core_requests == {1: "UpdateFirmware", 2: "GetDiagnostics"}
    # With no link (a table used on its own), the table's fill.
    alone = Where("UpdateFirmware", "request")
    assert adapter.request_to_generic("UpdateFirmware", core, alone).request_id == 0


def test_a_16_composite_schedule_without_its_start_stays_in_custom_data() -> None:
    adapter = ADAPTERS["GetCompositeSchedule"]
    answer = {
        "status": "Accepted",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}],
        },
    }
    legacy = msgspec.convert(answer, v16.GetCompositeScheduleResponse)
    request = {"evseId": 1, "duration": 600}
    assert plain(adapter.response_to_generic([legacy], request, where(adapter))) == {
        "status": "Accepted",
        "customData": {
            "vendorId": "ocpp1.6",
            "chargingSchedule.chargingRateUnit": "A",
            "chargingSchedule.chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}],
        },
    }


def test_get_variables_results_keep_readonly() -> None:
    adapter = ADAPTERS["GetVariables"]
    request = {
        "getVariableData": [
            {"component": {"name": "AuthCtrlr"}, "variable": {"name": "AuthorizeRemoteStart"}},
            {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}},
        ]
    }
    ((_, legacy),) = adapter.request_to_legacy(request, where(adapter))
    assert plain(legacy) == {"key": ["AuthorizeRemoteTxRequests", "AuthorizationKey"]}
    answer = v16.GetConfigurationResponse(
        configuration_key=[
            v16.KeyValue(key="AuthorizeRemoteTxRequests", readonly=True, value="true")
        ]
    )
    results = plain(adapter.response_to_generic([answer], request, where(adapter)))[
        "getVariableResult"
    ]
    assert results[0]["attributeValue"] == "true"
    assert results[0]["customData"] == {"vendorId": "ocpp1.6", "readonly": True}
    assert results[1]["attributeStatus"] == "Rejected"  # left out, as a WriteOnly variable


def test_a_generic_station_answer_gets_readonly_from_the_16_accessibility() -> None:
    adapter = ADAPTERS["GetVariables"]
    legacy_request = v16.GetConfigurationRequest(
        key=["ChargeProfileMaxStackLevel", "HeartbeatInterval"]
    )
    request = adapter.request_to_generic("GetConfiguration", legacy_request, where(adapter))
    results = [
        {**plain(item), "attributeStatus": "Accepted", "attributeValue": value}
        for item, value in zip(request.get_variable_data, ("8", "60"), strict=True)
    ]
    back = adapter.response_to_legacy(
        {"getVariableResult": results}, "GetConfiguration", legacy_request, where(adapter)
    )
    assert plain(back) == {
        "configurationKey": [
            {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "8"},
            {"key": "HeartbeatInterval", "readonly": False, "value": "60"},
        ]
    }


def test_get_all_variables_helper() -> None:
    assert plain(get_all_request()) == {}
    answer = msgspec.convert(
        {
            "configurationKey": [
                {
                    "key": "ChargingScheduleAllowedChargingRateUnit",
                    "readonly": True,
                    "value": "Current,Power",
                },
                {"key": "TransactionMessageRetryInterval", "readonly": False, "value": "20"},
                {"key": "LightIntensity", "readonly": False},
            ]
        },
        v16.GetConfigurationResponse,
    )
    variables = configuration_to_variables(answer)
    assert [(v.component, v.variable, v.instance, v.value, v.readonly) for v in variables] == [
        ("SmartChargingCtrlr", "RateUnit", None, "A,W", True),
        ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent", "20", False),
        (LEGACY_COMPONENT, "LightIntensity", None, None, False),
    ]


# -- errors -------------------------------------------------------------------------------------

# (generic action, part, message, field named, 1.6 action for a response)
ERROR_CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    (
        "GetCompositeSchedule",
        "response",
        {
            "status": "Accepted",
            "schedule": {
                "evseId": 1,
                "duration": 60,
                "scheduleStart": T0,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0, "phaseToUse": 1}],
            },
        },
        "schedule.chargingSchedulePeriod[0].phaseToUse",
        "GetCompositeSchedule",
    ),
    (
        "SendLocalList",
        "request",
        {
            "versionNumber": 1,
            "updateType": "Full",
            "localAuthorizationList": [
                {
                    "idToken": {"idToken": "T", "type": "Central"},
                    "idTokenInfo": {
                        "status": "Accepted",
                        "personalMessage": {"format": "UTF8", "content": "Hi"},
                    },
                }
            ],
        },
        "localAuthorizationList[0].idTokenInfo.personalMessage.format",
        "",
    ),
    (
        "ChangeAvailability",
        "request",
        {"operationalStatus": "Operative", "evse": {"id": 1, "connectorId": 2}},
        "evse.connectorId",
        "",
    ),
    (
        "ClearChargingProfile",
        "request",
        {
            "chargingProfileCriteria": {
                "chargingProfilePurpose": "ChargingStationExternalConstraints"
            }
        },
        "chargingProfileCriteria.chargingProfilePurpose",
        "",
    ),
    ("DataTransfer", "request", {"vendorId": "com.acme", "data": {"n": 1}}, "data", ""),
    ("DataTransfer", "response", {"status": "Accepted", "data": [1, 2]}, "data", "DataTransfer"),
    (
        "RequestStartTransaction",
        "request",
        {
            "idToken": {"idToken": "T", "type": "Central"},
            "remoteStartId": 1,
            "groupIdToken": {"idToken": "G", "type": "Central"},
        },
        "groupIdToken",
        "",
    ),
    (
        "RequestStartTransaction",
        "request",
        {
            "idToken": {
                "idToken": "T",
                "type": "Central",
                "additionalInfo": [{"additionalIdToken": "a", "type": "b"}],
            },
            "remoteStartId": 1,
        },
        "idToken.additionalInfo",
        "",
    ),
    (
        "RequestStartTransaction",
        "request",
        {
            "idToken": {"idToken": "T", "type": "Central"},
            "remoteStartId": 1,
            "chargingProfile": {**PROFILE, "chargingSchedule": PROFILE["chargingSchedule"] * 2},
        },
        "chargingProfile.chargingSchedule",
        "",
    ),
    (
        "RequestStartTransaction",
        "request",
        {
            "idToken": {"idToken": "T", "type": "Central"},
            "remoteStartId": 1,
            "chargingProfile": {
                **PROFILE,
                "chargingSchedule": [
                    {
                        **PROFILE["chargingSchedule"][0],
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 6.0, "phaseToUse": 2}
                        ],
                    }
                ],
            },
        },
        "chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].phaseToUse",
        "",
    ),
    ("RequestStopTransaction", "request", {"transactionId": "tx-unknown"}, "transactionId", ""),
    (
        "ReserveNow",
        "request",
        {
            "id": 1,
            "expiryDateTime": T1,
            "idToken": {"idToken": "T", "type": "Central"},
            "connectorType": "cType2",
        },
        "connectorType",
        "",
    ),
    ("Reset", "request", {"type": "OnIdle"}, "type", ""),
    ("Reset", "request", {"type": "Immediate", "evseId": 1}, "evseId", ""),
    ("Reset", "response", {"status": "Scheduled"}, "status", "Reset"),
    (
        "SendLocalList",
        "request",
        {
            "versionNumber": 1,
            "updateType": "Full",
            "localAuthorizationList": [
                {
                    "idToken": {"idToken": "T", "type": "Central"},
                    "idTokenInfo": {"status": "NoCredit"},
                }
            ],
        },
        "localAuthorizationList[0].idTokenInfo.status",
        "",
    ),
    (
        "SetChargingProfile",
        "request",
        {
            "evseId": 0,
            "chargingProfile": {
                **PROFILE,
                "chargingProfilePurpose": "ChargingStationExternalConstraints",
            },
        },
        "chargingProfile.chargingProfilePurpose",
        "",
    ),
    (
        "SetChargingProfile",
        "request",
        {
            "evseId": 0,
            "chargingProfile": {
                **PROFILE,
                "chargingSchedule": [
                    {
                        **PROFILE["chargingSchedule"][0],
                        "salesTariff": {
                            "id": 1,
                            "salesTariffEntry": [{"relativeTimeInterval": {"start": 0}}],
                        },
                    }
                ],
            },
        },
        "chargingProfile.chargingSchedule[0].salesTariff",
        "",
    ),
    ("TriggerMessage", "request", {"requestedMessage": "TransactionEvent"}, "requestedMessage", ""),
    (
        "TriggerMessage",
        "request",
        {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 2}},
        "evse.connectorId",
        "",
    ),
    (
        "TriggerMessage",
        "request",
        {
            "requestedMessage": "SignChargingStationCertificate",
            "customData": {"vendorId": "ocpp1.6", "action": "TriggerMessage"},
        },
        "requestedMessage",
        "",
    ),
    (
        "TriggerMessage",
        "request",
        {
            "requestedMessage": "Heartbeat",
            "customData": {"vendorId": "ocpp1.6", "action": "Heartbeat"},
        },
        "customData.action",
        "",
    ),
    ("UnlockConnector", "request", {"evseId": 1, "connectorId": 2}, "connectorId", ""),
    (
        "UnlockConnector",
        "response",
        {"status": "OngoingAuthorizedTransaction"},
        "status",
        "UnlockConnector",
    ),
    ("UnlockConnector", "response", {"status": "UnknownConnector"}, "status", "UnlockConnector"),
    (
        "UpdateFirmware",
        "request",
        {
            "requestId": 1,
            "firmware": {"location": "x", "retrieveDateTime": T0, "installDateTime": T1},
        },
        "firmware.installDateTime",
        "",
    ),
    (
        "UpdateFirmware",
        "request",
        {
            "requestId": 1,
            "firmware": {"location": "x", "retrieveDateTime": T0, "signature": "c2ln"},
        },
        "firmware",
        "",
    ),
    ("UpdateFirmware", "response", {"status": "Rejected"}, "status", "UpdateFirmware"),
    (
        "GetLog",
        "request",
        {
            "log": {"remoteLocation": "x"},
            "logType": "SecurityLog",
            "requestId": 1,
            "customData": {"vendorId": "ocpp1.6", "action": "GetDiagnostics"},
        },
        "logType",
        "",
    ),
    ("GetLog", "response", {"status": "Rejected"}, "status", "GetDiagnostics"),
    (
        "CertificateSigned",
        "request",
        {"certificateChain": "x", "certificateType": "V2GCertificate"},
        "certificateType",
        "",
    ),
    (
        "GetInstalledCertificateIds",
        "request",
        {"certificateType": ["V2GRootCertificate"]},
        "certificateType[0]",
        "",
    ),
    (
        "InstallCertificate",
        "request",
        {"certificateType": "MORootCertificate", "certificate": "x"},
        "certificateType",
        "",
    ),
    (
        "SetVariables",
        "request",
        {
            "setVariableData": [
                {
                    "attributeValue": "1",
                    "attributeType": "Target",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        },
        "setVariableData[0].attributeType",
        "",
    ),
    (
        "SetVariables",
        "request",
        {
            "setVariableData": [
                {
                    "attributeValue": "1",
                    "component": {"name": "ClockCtrlr"},
                    "variable": {"name": "TimeZone"},
                }
            ]
        },
        "setVariableData[0].variable",
        "",
    ),
    (
        "SetVariables",
        "request",
        {
            "setVariableData": [
                {
                    "attributeValue": "1",
                    "component": {"name": "TxCtrlr", "evse": {"id": 1}},
                    "variable": {"name": "StopTxOnInvalidId"},
                }
            ]
        },
        "setVariableData[0].component.evse",
        "",
    ),
    (
        "SetVariables",
        "request",
        {
            "setVariableData": [
                {
                    "attributeValue": "x" * 501,
                    "component": {"name": "ocpp1.6"},
                    "variable": {"name": "Big"},
                }
            ]
        },
        "setVariableData[0].attributeValue",
        "",
    ),
    (
        "SetVariables",
        "request",
        {
            "setVariableData": [
                {
                    "attributeValue": "A,kW",
                    "component": {"name": "SmartChargingCtrlr"},
                    "variable": {"name": "RateUnit"},
                }
            ]
        },
        "setVariableData[0].attributeValue",
        "",
    ),
    (
        "GetVariables",
        "request",
        {
            "getVariableData": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeType": "MaxSet",
                }
            ]
        },
        "getVariableData[0].attributeType",
        "",
    ),
    (
        "GetVariables",
        "request",
        {
            "getVariableData": [
                {"component": {"name": "ocpp1.6"}, "variable": {"name": "K", "instance": "1"}}
            ]
        },
        "getVariableData[0].variable.instance",
        "",
    ),
]


@pytest.mark.parametrize(
    ("name", "part", "message", "field", "legacy_action"),
    ERROR_CASES,
    ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in ERROR_CASES],
)
def test_a_loss_is_an_error_naming_the_field(
    name: str, part: str, message: dict[str, Any], field: str, legacy_action: str
) -> None:
    adapter = ADAPTERS[name]
    typed = generic(f"{name}{part.capitalize()}", message)
    with pytest.raises(NotExpressible) as caught:
        if part == "request":
            adapter.request_to_legacy(typed, where(adapter))
        else:
            adapter.response_to_legacy(typed, legacy_action, None, where(adapter, part))
    error = caught.value
    assert (error.action, error.part, error.field, error.version) == (name, part, field, "1.6")
    assert f"{field} = " in str(error) and "OCPP 1.6" in str(error)


def test_set_variables_answer_to_16_is_one_status() -> None:
    adapter = ADAPTERS["SetVariables"]
    result = {
        "attributeStatus": "Accepted",
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
    }
    with pytest.raises(NotExpressible) as caught:
        adapter.response_to_legacy(
            {"setVariableResult": [result, result]}, "ChangeConfiguration", None, where(adapter)
        )
    assert caught.value.field == "setVariableResult"


def test_a_16_get_configuration_of_every_key_asks_a_generic_station_every_standard_key() -> None:
    # A generic station answers a 1.6 "every key" with its on_get_variables: it is asked for
    # each standard key's variable, and the 1.6 answer lists the ones it knows, no unknownKey.
    adapter = ADAPTERS["GetVariables"]
    asked = adapter.request_to_generic("GetConfiguration", get_all_request(), where(adapter))
    names = [(d.component.name, d.variable.name) for d in asked.get_variable_data]
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in names
    assert ("ocpp1.6", "NumberOfConnectors") in names  # 1.6-only keys pass as ocpp1.6's
    assert asked.custom_data == CustomData(vendor_id="ocpp1.6", allKeys=True)
    results = [
        v201.GetVariableResult(
            attribute_status="Accepted" if name == "HeartbeatInterval" else "UnknownVariable",
            component=data.component,
            variable=data.variable,
            attribute_value="60" if name == "HeartbeatInterval" else msgspec.UNSET,
        )
        for data, (_, name) in zip(asked.get_variable_data, names, strict=True)
    ]
    answer = adapter.response_to_legacy(
        v201.GetVariablesResponse(get_variable_result=results),
        "GetConfiguration",
        get_all_request(),
        where(adapter, "response"),
    )
    assert answer == v16.GetConfigurationResponse(
        configuration_key=[v16.KeyValue(key="HeartbeatInterval", readonly=False, value="60")]
    )
    # And the generic request goes back to 1.6 as the same "every key".
    assert adapter.request_to_legacy(asked, where(adapter)) == [
        ("GetConfiguration", get_all_request())
    ]


# -- coverage -----------------------------------------------------------------------------------


def test_every_16_csms_action_is_read_by_an_adapter() -> None:
    sent_by_csms = {name for name, spec in V16.items() if spec.sent_by_csms}
    read = [name for adapter in CSMS_ACTIONS for name in adapter.legacy]
    assert sorted(read) == sorted(set(read))  # one adapter per 1.6 action
    assert sent_by_csms == set(read)


def test_one_adapter_per_generic_action_and_each_a_csms_action() -> None:
    names = [adapter.generic for adapter in CSMS_ACTIONS]
    assert len(names) == len(set(names))
    for name in names:
        assert V201[name].sent_by_csms, name
    for adapter in CSMS_ACTIONS:
        assert getattr(adapter, "note", ""), adapter.generic


def test_every_case_is_tested_both_ways() -> None:
    assert {c[0] for c in GENERIC_CASES} == set(ADAPTERS)
    assert {c[0] for c in LEGACY_CASES} == {name for a in CSMS_ACTIONS for name in a.legacy}


def test_the_configuration_table_is_consistent() -> None:
    keys = [entry.key for entry in CONFIGURATION_KEYS]
    variables = [(e.component, e.variable, e.instance) for e in CONFIGURATION_KEYS]
    assert len(keys) == len(set(keys))
    assert len(variables) == len(set(variables))
    assert not set(keys) & {key for key, _ in LEGACY_ONLY_KEYS}
    assert {e.mutability for e in CONFIGURATION_KEYS} <= {"ReadOnly", "ReadWrite", "WriteOnly"}
    for entry in CONFIGURATION_KEYS:
        assert len(entry.key) <= 50 and len(entry.variable) <= 50


def _declared_losses() -> list[tuple[Any, Any]]:
    return [(adapter, loss) for adapter in CSMS_ACTIONS for loss in getattr(adapter, "losses", ())]


@pytest.mark.parametrize(
    ("adapter", "loss"),
    _declared_losses(),
    ids=[f"{a.generic}-{loss.field}" for a, loss in _declared_losses()],
)
def test_declared_losses_raise_as_declared(adapter: Any, loss: Any) -> None:
    """Adapters written as code declare their losses for the docs; each example raises so."""
    message = generic(f"{adapter.generic}{loss.part.capitalize()}", dict(loss.example))
    with pytest.raises(NotExpressible) as caught:
        if loss.part == "request":
            adapter.request_to_legacy(message, where(adapter))
        else:
            adapter.response_to_legacy(message, adapter.legacy[0], None, where(adapter, "response"))
    assert (caught.value.field, caught.value.reason) == (loss.field, loss.why)
