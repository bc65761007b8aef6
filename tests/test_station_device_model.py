"""The device model beyond configuration on the simulated stations (issue 15 item 5), on
virtual time: the 2.0.1 controllers' variables and GetReport, variable monitoring, display
messages, network profiles, certificates (both versions) and customer information.

The machines are driven by `tests.test_station.Harness`; the CSMS's requests go to `on_call`
as they come off the wire (decoded and validated), and every answer and every message the
station then sends is checked against the schema.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from fleet.ocpp import CallError, v16, v201
from fleet.profile import Distribution
from fleet.station._device_model import (
    CHARACTERISTICS,
    DEVICE_MODEL_VARIABLES,
    characteristics,
    parse_certificate,
)
from tests.test_station import Harness

# Two self-signed EC roots made with `openssl req -x509` for these tests; their hash data
# were checked against the `cryptography` package (issuer Name DER, public key, serial).
CSMS_ROOT = """-----BEGIN CERTIFICATE-----
MIIBsjCCAVegAwIBAgIUHMWkyq83XNDY13ua1PG8CicY68gwCgYIKoZIzj0EAwIw
LjEYMBYGA1UECgwPb2NwcC1mbGVldCB0ZXN0MRIwEAYDVQQDDAljc21zIHJvb3Qw
HhcNMjYxMjAxMDUxMjMzWhcNMzYxMTI4MDUxMjMzWjAuMRgwFgYDVQQKDA9vY3Bw
LWZsZWV0IHRlc3QxEjAQBgNVBAMMCWNzbXMgcm9vdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABH4yX4NWt+8+WHJ5xyShj0s+pkt0PLuenPpzz3UPbIpMVUoGd7qi
3omSDkCCTh8vOIbWvI16SlVhb8wu4u1G9yWjUzBRMB0GA1UdDgQWBBQt8MbUU2hZ
Scf+F/f46rBy3G+avjAfBgNVHSMEGDAWgBQt8MbUU2hZScf+F/f46rBy3G+avjAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQC2MraAcoJvMyBuRGJH
RE1hYuRCXdHvDRPwvRh81224EAIhAONMn6ymmnmdyAvZuc7iH1egSB/FWygjZnjf
+Efs5Jfz
-----END CERTIFICATE-----
"""
CSMS_ROOT_HASH = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "724bf50104f55eca42d6a6d288bce060c02c014734b28848037abf5d8ab8cd3b",
    "issuerKeyHash": "862365ee90a536eee8a4627c8d6d8be4b8e0a9d614dd049450c1ccb4f2f29886",
    "serialNumber": "1cc5a4caaf375cd0d8d77b9ad4f1bc0a2718ebc8",
}
OTHER_ROOT = """-----BEGIN CERTIFICATE-----
MIIBrzCCAVWgAwIBAgIUKIa62G5rkATpA296dqWJttJ3yFEwCgYIKoZIzj0EAwIw
LTEYMBYGA1UECgwPb2NwcC1mbGVldCB0ZXN0MREwDwYDVQQDDAhtZnIgcm9vdDAe
Fw0yNjEyMDEwNTEyMzNaFw0zNjExMjgwNTEyMzNaMC0xGDAWBgNVBAoMD29jcHAt
ZmxlZXQgdGVzdDERMA8GA1UEAwwIbWZyIHJvb3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQVVGM8zAJz1ibJw38SigGulL1tgESXlbdTyEnBlfpQ4HVt1fMn5aLX
Dyypu0fG8vxKkSjfzL7rXcWrxHawJ2CNo1MwUTAdBgNVHQ4EFgQU0D82bYkFQQkf
5FR0kUXcbyQ/6KowHwYDVR0jBBgwFoAU0D82bYkFQQkf5FR0kUXcbyQ/6KowDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBt+q3fFVX5Xfc3mPTmfWSm
45HgHU0+eSVDDXkQ+KgT3QIhALSz6FBDb+vM5UzdG8bm05PQUsYUJw3yeH1LfUXP
peBI
-----END CERTIFICATE-----
"""
OTHER_ROOT_HASH = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "9a310b4dee9a68fa081e1710f6e956b7b40429ce73e6e8037a906e37bc7672f2",
    "issuerKeyHash": "10b276b5938a192461c31885ee54ad96eae1ed2a03eff8dca19c29bf01818225",
    "serialNumber": "2886bad86e6b9004e9036f7a76a589b6d277c851",
}

_NOTIFY = {
    "NotifyReport": v201.NotifyReportResponse(),
    "NotifyMonitoringReport": v201.NotifyMonitoringReportResponse(),
    "NotifyDisplayMessages": v201.NotifyDisplayMessagesResponse(),
    "NotifyCustomerInformation": v201.NotifyCustomerInformationResponse(),
}


def harness(version: str = "2.0.1", **overrides: Any) -> Harness:
    """Booted at t=0; connector sessions far off unless the test starts one."""
    values: dict[str, Any] = {
        "connectors": 2,
        "first_start": Distribution.constant(1000),
        "idle": Distribution.constant(1000),
        "length": Distribution.constant(500),
    }
    values.update(overrides)
    h = Harness(version, **values)
    if version == "2.0.1":
        h.answer.update(_NOTIFY)
    h.machine.connected(0.0)
    h.run_until(2.0)
    assert h.machine.booted
    return h


def call(h: Harness, action: str, payload: dict[str, Any]) -> Any:
    """A CALL as it comes off the wire; its answer must be schema-valid too."""
    spec = h.module.ACTIONS[action]
    request = spec.request_decoder.decode(msgspec.json.encode(payload))
    response = h.machine.on_call(action, request, h.now)
    spec.response_decoder.decode(msgspec.json.encode(response))
    return response


def sent(h: Harness, action: str, since: float) -> list[Any]:
    """The payloads of `action` the station sent since then (after running it a second)."""
    h.run_until(h.now + 1.0)
    return [item.payload for at, item in h.sent if at >= since and item.action == action]


def reported(h: Harness, request_id: int, since: float) -> dict[tuple[Any, ...], str | None]:
    """What the NotifyReports of `request_id` said: (component, evse, variable, instance)
    -> value."""
    rows: dict[tuple[Any, ...], str | None] = {}
    for report in sent(h, "NotifyReport", since):
        if report.request_id != request_id:
            continue
        for data in report.report_data:
            evse = data.component.evse
            key = (
                data.component.name,
                evse.id if evse is not msgspec.UNSET else None,
                data.variable.name,
                data.variable.instance if data.variable.instance is not msgspec.UNSET else None,
            )
            value = data.variable_attribute[0].value
            rows[key] = value if value is not msgspec.UNSET else None
    return rows


def cv(component: str, variable: str | None = None, evse: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"component": {"name": component}}
    if evse is not None:
        item["component"]["evse"] = {"id": evse}
    if variable is not None:
        item["variable"] = {"name": variable}
    return item


# -- variables and GetReport -----------------------------------------------------------------


def _valid(value: str, data_type: str, values_list: str | None) -> bool:
    if data_type == "integer":
        return re.fullmatch(r"-?\d+", value) is not None
    if data_type == "boolean":
        return value in ("true", "false")
    if data_type in ("OptionList", "MemberList", "SequenceList") and values_list is not None:
        allowed = set(values_list.split(","))
        members = value.split(",")
        return set(members) <= allowed and (data_type != "OptionList" or len(members) == 1)
    return True


def test_every_variable_s_default_fits_its_type_and_values_list() -> None:
    h = harness()
    for key, (value, read_only) in h.machine.variables.items():
        info = characteristics(key, value, read_only)
        assert _valid(value, info.data_type, info.values_list), (key, value, info)
        assert (info.mutability == "ReadOnly") == read_only, key
    assert set(DEVICE_MODEL_VARIABLES) <= set(h.machine.variables)
    assert set(DEVICE_MODEL_VARIABLES) <= set(CHARACTERISTICS)


def test_the_controllers_variables_read_and_refuse_writes_by_mutability() -> None:
    h = harness()
    keys = [("OCPPCommCtrlr", "OfflineThreshold"), ("SecurityCtrlr", "SecurityProfile")]
    keys += [("AlignedDataCtrlr", "Interval"), ("DeviceDataCtrlr", "ValueSize")]
    got = call(
        h,
        "GetVariables",
        {"getVariableData": [{"component": {"name": c}, "variable": {"name": v}} for c, v in keys]},
    )
    assert [r.attribute_status for r in got.get_variable_result] == ["Accepted"] * 4
    assert [r.attribute_value for r in got.get_variable_result] == ["60", "1", "0", "1000"]
    data = [
        {"component": {"name": c}, "variable": {"name": v}, "attributeValue": "30"}
        for c, v in keys[:2]
    ]
    answer = call(h, "SetVariables", {"setVariableData": data})
    assert [r.attribute_status for r in answer.set_variable_result] == ["Accepted", "Rejected"]


def test_a_full_get_report_holds_every_variable_with_its_characteristics_in_chunks() -> None:
    h = harness()
    h.machine.variables[("DeviceDataCtrlr", "ItemsPerMessage")] = ("10", True)
    since = h.now
    assert call(h, "GetReport", {"requestId": 7}).status == "Accepted"
    reports = sent(h, "NotifyReport", since)
    assert len(reports) > 5
    assert [r.seq_no for r in reports] == list(range(len(reports)))
    assert [r.tbc for r in reports] == [True] * (len(reports) - 1) + [False]
    assert all(len(r.report_data) <= 10 for r in reports)
    data = [d for r in reports for d in r.report_data]
    by_name = {(d.component.name, d.variable.name): d for d in data}
    for key in h.machine.variables:
        assert key in by_name, key
    interval = by_name["OCPPCommCtrlr", "HeartbeatInterval"]
    assert interval.variable_characteristics.data_type == "integer"
    assert interval.variable_characteristics.unit == "s"
    assert interval.variable_attribute[0].mutability == "ReadWrite"
    profile = by_name["SecurityCtrlr", "SecurityProfile"]
    assert profile.variable_attribute[0].mutability == "ReadOnly"
    measurands = by_name["SampledDataCtrlr", "TxEndedMeasurands"].variable_characteristics
    assert measurands.data_type == "MemberList"
    assert "Power.Active.Import" in measurands.values_list
    # instances: one row each
    instances = {d.variable.instance for d in data if d.variable.name == "ItemsPerMessage"} - {
        msgspec.UNSET
    }
    assert {"GetReport", "GetVariables", "SetVariables"} <= instances
    # live ones: the clock and each EVSE and connector
    clock = by_name["ClockCtrlr", "DateTime"].variable_attribute[0].value
    assert clock == h.machine.wall(since).isoformat().replace("+00:00", "Z")
    evses = [d for d in data if d.component.name == "EVSE" and d.variable.name == "Available"]
    assert sorted(d.component.evse.id for d in evses) == [1, 2]


def test_get_report_by_component_variable_and_criteria() -> None:
    h = harness()
    since = h.now
    evse1 = cv("EVSE", "AvailabilityState", evse=1)
    ask = {"requestId": 1, "componentVariable": [evse1], "componentCriteria": ["Available"]}
    assert call(h, "GetReport", ask).status == "Accepted"
    assert reported(h, 1, since) == {("EVSE", 1, "AvailabilityState", None): "Available"}
    # no component has a Problem: an empty result set, and no report follows (B08.FR.15)
    since = h.now
    ask = {"requestId": 2, "componentVariable": [evse1], "componentCriteria": ["Problem"]}
    assert call(h, "GetReport", ask).status == "EmptyResultSet"
    assert sent(h, "NotifyReport", since) == []
    # a whole component; an unknown one matches nothing
    since = h.now
    ask = {"requestId": 3, "componentVariable": [cv("MonitoringCtrlr"), cv("NoSuchCtrlr")]}
    assert call(h, "GetReport", ask).status == "Accepted"
    rows = reported(h, 3, since)
    assert {k[0] for k in rows} == {"MonitoringCtrlr"}
    assert ("MonitoringCtrlr", None, "ActiveMonitoringLevel", None) in rows
    # Enabled: components whose Enabled is true, e.g. SmartChargingCtrlr, not the EVSEs
    since = h.now
    assert call(h, "GetReport", {"requestId": 4, "componentCriteria": ["Enabled"]}).status == (
        "Accepted"
    )
    components = {k[0] for k in reported(h, 4, since)}
    assert {"SmartChargingCtrlr", "MonitoringCtrlr", "DisplayMessageCtrlr"} <= components
    assert "EVSE" not in components and "OCPPCommCtrlr" not in components


def test_an_evse_made_inoperative_reports_unavailable_and_leaves_the_available_criterion() -> None:
    h = harness()
    call(h, "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2}})
    since = h.now
    ask = {"requestId": 5, "componentVariable": [cv("EVSE", "AvailabilityState")]}
    call(h, "GetReport", ask)
    assert reported(h, 5, since) == {
        ("EVSE", 1, "AvailabilityState", None): "Available",
        ("EVSE", 2, "AvailabilityState", None): "Unavailable",
    }
    since = h.now
    ask["componentCriteria"] = ["Available"]
    ask["requestId"] = 6
    call(h, "GetReport", ask)
    assert list(reported(h, 6, since)) == [("EVSE", 1, "AvailabilityState", None)]


def test_more_component_variables_than_items_per_message_is_a_callerror() -> None:
    h = harness()
    h.machine.variables[("DeviceDataCtrlr", "ItemsPerMessage")] = ("2", True)
    ask = {"requestId": 1, "componentVariable": [cv("EVSE"), cv("Connector"), cv("ClockCtrlr")]}
    with pytest.raises(CallError) as error:
        call(h, "GetReport", ask)
    assert error.value.code == "OccurenceConstraintViolation"  # B08.FR.17, as spelled in OCPP


# -- monitoring --------------------------------------------------------------------------------


def monitor(component: str, variable: str, kind: str, value: float, severity: int = 5, **more: Any) -> dict[str, Any]:  # fmt: skip
    item = {"type": kind, "value": value, "severity": severity, **cv(component, variable)}
    item.update(more)
    return item


def test_set_variable_monitoring_statuses_ids_and_duplicates() -> None:
    h = harness()
    data = [
        monitor("OCPPCommCtrlr", "HeartbeatInterval", "UpperThreshold", 300),
        monitor("OCPPCommCtrlr", "HeartbeatInterval", "Delta", 10),
        monitor("OCPPCommCtrlr", "HeartbeatInterval", "UpperThreshold", 600),  # same type+sev
        monitor("NoSuchCtrlr", "X", "Delta", 1),
        monitor("OCPPCommCtrlr", "NoSuchVariable", "Delta", 1),
        monitor("SecurityCtrlr", "OrganizationName", "LowerThreshold", 1),  # not a number
        monitor("OCPPCommCtrlr", "HeartbeatInterval", "Periodic", 0),  # no period
        monitor("OCPPCommCtrlr", "HeartbeatInterval", "Delta", 5, severity=10),
        monitor("OCPPCommCtrlr", "HeartbeatInterval", "Delta", 5, id=99),  # no such monitor
        monitor("OCPPCommCtrlr", "HeartbeatInterval", "LowerThreshold", -5),  # below min
        monitor("EVSE", "AvailabilityState", "Delta", 0, severity=2)
        | cv("EVSE", "AvailabilityState", 1),
    ]
    results = call(h, "SetVariableMonitoring", {"setMonitoringData": data}).set_monitoring_result
    assert [r.status for r in results] == [
        "Accepted",
        "Accepted",
        "Duplicate",
        "UnknownComponent",
        "UnknownVariable",
        "UnsupportedMonitorType",
        "Rejected",
        "Rejected",
        "Rejected",
        "Rejected",
        "Accepted",
    ]
    ids = [r.id for r in results if r.status == "Accepted"]
    assert ids == [1, 2, 3]
    assert all(r.id is msgspec.UNSET for r in results if r.status != "Accepted")
    # an id replaces its monitor
    again = monitor("OCPPCommCtrlr", "HeartbeatInterval", "UpperThreshold", 900, id=1)
    result = call(h, "SetVariableMonitoring", {"setMonitoringData": [again]})
    assert [(r.status, r.id) for r in result.set_monitoring_result] == [("Accepted", 1)]
    assert h.machine.device.monitors[1].value == 900


def test_monitoring_report_by_criteria_and_clear() -> None:
    h = harness()
    data = [
        monitor("OCPPCommCtrlr", "HeartbeatInterval", "UpperThreshold", 300),
        monitor("OCPPCommCtrlr", "HeartbeatInterval", "Periodic", 60),
        monitor("SampledDataCtrlr", "TxUpdatedInterval", "Delta", 5),
    ]
    call(h, "SetVariableMonitoring", {"setMonitoringData": data})
    since = h.now
    ask = {"requestId": 3, "monitoringCriteria": ["ThresholdMonitoring", "PeriodicMonitoring"]}
    assert call(h, "GetMonitoringReport", ask).status == "Accepted"
    (report,) = sent(h, "NotifyMonitoringReport", since)
    assert report.request_id == 3 and report.seq_no == 0 and report.tbc is False
    assert [(m.variable.name, sorted(v.id for v in m.variable_monitoring)) for m in report.monitor] == [("HeartbeatInterval", [1, 2])]  # fmt: skip
    since = h.now
    ask = {"requestId": 4, "componentVariable": [cv("SampledDataCtrlr")]}
    assert call(h, "GetMonitoringReport", ask).status == "Accepted"
    (report,) = sent(h, "NotifyMonitoringReport", since)
    assert [v.type for m in report.monitor for v in m.variable_monitoring] == ["Delta"]
    # clear: each id Accepted once, then NotFound
    cleared = call(h, "ClearVariableMonitoring", {"id": [3, 3, 42]}).clear_monitoring_result
    assert [(r.id, r.status) for r in cleared] == [(3, "Accepted"), (3, "NotFound"), (42, "NotFound")]  # fmt: skip
    since = h.now
    assert call(h, "GetMonitoringReport", ask | {"requestId": 5}).status == "EmptyResultSet"
    assert sent(h, "NotifyMonitoringReport", since) == []


def test_monitoring_base_and_level() -> None:
    h = harness()
    data = [monitor("OCPPCommCtrlr", "HeartbeatInterval", "Delta", 1)]
    call(h, "SetVariableMonitoring", {"setMonitoringData": data})
    assert call(h, "SetMonitoringBase", {"monitoringBase": "All"}).status == "Accepted"
    assert len(h.machine.device.monitors) == 1  # All keeps the CSMS's monitors
    assert call(h, "SetMonitoringBase", {"monitoringBase": "HardWiredOnly"}).status == "Accepted"
    assert h.machine.device.monitors == {}
    assert h.machine.variables["MonitoringCtrlr", "ActiveMonitoringBase"][0] == "HardWiredOnly"
    assert call(h, "SetMonitoringLevel", {"severity": 3}).status == "Accepted"
    assert h.machine.variables["MonitoringCtrlr", "ActiveMonitoringLevel"][0] == "3"
    assert call(h, "SetMonitoringLevel", {"severity": 10}).status == "Rejected"
    assert call(h, "SetMonitoringLevel", {"severity": -1}).status == "Rejected"
    assert h.machine.variables["MonitoringCtrlr", "ActiveMonitoringLevel"][0] == "3"
    # monitoring switched off: new monitors are Rejected
    disable = {"component": {"name": "MonitoringCtrlr"}, "variable": {"name": "Enabled"}}
    call(h, "SetVariables", {"setVariableData": [disable | {"attributeValue": "false"}]})
    result = call(h, "SetVariableMonitoring", {"setMonitoringData": data})
    assert result.set_monitoring_result[0].status == "Rejected"


# -- display messages ------------------------------------------------------------------------


def message(message_id: int, **more: Any) -> dict[str, Any]:
    info = {"id": message_id, "priority": "NormalCycle"}
    info["message"] = {"format": "UTF8", "content": f"message {message_id}"}
    info.update(more)
    return {"message": info}


def test_display_messages_set_get_clear_and_refusals() -> None:
    h = harness()
    assert call(h, "SetDisplayMessage", message(1)).status == "Accepted"
    assert call(h, "SetDisplayMessage", message(2, priority="AlwaysFront")).status == "Accepted"
    html = message(3) | {}
    html["message"]["message"]["format"] = "HTML"
    assert call(h, "SetDisplayMessage", html).status == "NotSupportedMessageFormat"
    assert call(h, "SetDisplayMessage", message(4, state="Faulted")).status == "NotSupportedState"
    assert call(h, "SetDisplayMessage", message(5, transactionId="nope")).status == (
        "UnknownTransaction"
    )
    past = h.machine.wall(h.now - 10).isoformat()
    assert call(h, "SetDisplayMessage", message(6, endDateTime=past)).status == "Rejected"
    # get: all, by priority, by id; none matching: Unknown and no report
    since = h.now
    assert call(h, "GetDisplayMessages", {"requestId": 11}).status == "Accepted"
    (notify,) = sent(h, "NotifyDisplayMessages", since)
    assert notify.request_id == 11
    assert sorted(m.id for m in notify.message_info) == [1, 2]
    since = h.now
    call(h, "GetDisplayMessages", {"requestId": 12, "priority": "AlwaysFront"})
    assert [m.id for n in sent(h, "NotifyDisplayMessages", since) for m in n.message_info] == [2]
    since = h.now
    assert call(h, "GetDisplayMessages", {"requestId": 13, "id": [7]}).status == "Unknown"
    assert sent(h, "NotifyDisplayMessages", since) == []
    # the same id replaces; clear then Unknown
    call(h, "SetDisplayMessage", message(1, priority="InFront"))
    assert h.machine.device.messages[1].priority == "InFront"
    assert call(h, "ClearDisplayMessage", {"id": 1}).status == "Accepted"
    assert call(h, "ClearDisplayMessage", {"id": 1}).status == "Unknown"


def test_display_messages_are_bounded_and_a_transaction_s_ends_with_it() -> None:
    h = harness(connectors=1, first_start=Distribution.constant(3))
    for i in range(10):
        assert call(h, "SetDisplayMessage", message(100 + i)).status == "Accepted"
    assert call(h, "SetDisplayMessage", message(200)).status == "Rejected"  # DisplayMessages 10
    assert call(h, "SetDisplayMessage", message(100)).status == "Accepted"  # a replacement
    for i in range(10):
        call(h, "ClearDisplayMessage", {"id": 100 + i})
    h.run_until(10.0)
    connector = h.machine.connectors[0]
    assert connector.state.value == "charging"
    during = message(8, transactionId=connector.transaction_id, state="Charging")
    assert call(h, "SetDisplayMessage", during).status == "Accepted"
    h.run_until(600.0)  # the session (500 s) is over
    assert connector.transaction_id != during["message"]["transactionId"]
    assert call(h, "GetDisplayMessages", {"requestId": 1, "id": [8]}).status == "Unknown"


# -- network profiles --------------------------------------------------------------------------


def profile(slot: int, **connection: Any) -> dict[str, Any]:
    data = {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": "wss://csms.example.com/ocpp",
        "messageTimeout": 30,
        "securityProfile": 2,
        "ocppInterface": "Wired0",
    }
    data.update(connection)
    return {"configurationSlot": slot, "connectionData": data}


def test_set_network_profile_stores_a_valid_profile_and_refuses_the_rest() -> None:
    h = harness()
    assert call(h, "SetNetworkProfile", profile(2)).status == "Accepted"
    stored = h.machine.device.network_profiles[2]
    assert stored.ocpp_csms_url == "wss://csms.example.com/ocpp"
    assert call(h, "SetNetworkProfile", profile(9)).status == "Rejected"  # no such slot
    assert call(h, "SetNetworkProfile", profile(3, ocppVersion="OCPP16")).status == "Rejected"
    assert call(h, "SetNetworkProfile", profile(3, ocppTransport="SOAP")).status == "Rejected"
    assert call(h, "SetNetworkProfile", profile(3, ocppCsmsUrl="csms")).status == "Rejected"
    h.machine.variables[("SecurityCtrlr", "SecurityProfile")] = ("2", True)
    assert call(h, "SetNetworkProfile", profile(3, securityProfile=1)).status == "Rejected"
    assert call(h, "SetNetworkProfile", profile(3, securityProfile=3)).status == "Accepted"
    assert sorted(h.machine.device.network_profiles) == [2, 3]


# -- certificates (both versions) --------------------------------------------------------------

CSMS_ROOT_TYPE = {"1.6": "CentralSystemRootCertificate", "2.0.1": "CSMSRootCertificate"}


def installed(h: Harness, kind: str | None) -> list[dict[str, Any]]:
    """GetInstalledCertificateIds of one type (2.0.1: None asks for all): the hash data."""
    if h.module is v16:
        answer = call(h, "GetInstalledCertificateIds", {"certificateType": kind})
        hashes = answer.certificate_hash_data
    else:
        ask = {} if kind is None else {"certificateType": [kind]}
        answer = call(h, "GetInstalledCertificateIds", ask)
        hashes = (
            msgspec.UNSET
            if answer.certificate_hash_data_chain is msgspec.UNSET
            else [c.certificate_hash_data for c in answer.certificate_hash_data_chain]
        )
    if answer.status == "NotFound":
        assert hashes is msgspec.UNSET
        return []
    return [msgspec.to_builtins(h) for h in hashes]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_certificates_install_list_delete(version: str) -> None:
    h = harness(version)
    root = CSMS_ROOT_TYPE[version]
    maker = "ManufacturerRootCertificate"
    assert installed(h, root) == []
    install = "InstallCertificate"
    assert (
        call(h, install, {"certificateType": root, "certificate": CSMS_ROOT}).status == "Accepted"
    )
    assert call(h, install, {"certificateType": root, "certificate": "not a PEM"}).status == "Rejected"  # fmt: skip
    broken = CSMS_ROOT.replace("MIIBsjCCAVeg", "MIIBsjCCAVXX")
    assert call(h, install, {"certificateType": maker, "certificate": broken}).status == "Rejected"
    assert installed(h, root) == [CSMS_ROOT_HASH]
    assert installed(h, maker) == []
    # the last CSMS root cannot go; with another one it can
    assert call(h, "DeleteCertificate", {"certificateHashData": CSMS_ROOT_HASH}).status == "Failed"
    assert call(h, install, {"certificateType": root, "certificate": OTHER_ROOT}).status == "Accepted"  # fmt: skip
    upper = {k: v.upper() if k != "hashAlgorithm" else v for k, v in CSMS_ROOT_HASH.items()}
    assert call(h, "DeleteCertificate", {"certificateHashData": upper}).status == "Accepted"
    assert (
        call(h, "DeleteCertificate", {"certificateHashData": CSMS_ROOT_HASH}).status == "NotFound"
    )
    assert installed(h, root) == [OTHER_ROOT_HASH]
    # another type deletes freely
    assert (
        call(h, install, {"certificateType": maker, "certificate": CSMS_ROOT}).status == "Accepted"
    )
    assert installed(h, maker) == [CSMS_ROOT_HASH]
    assert (
        call(h, "DeleteCertificate", {"certificateHashData": CSMS_ROOT_HASH}).status == "Accepted"
    )
    # the hash data by SHA384 find it too
    sha384 = parse_certificate(OTHER_ROOT, root).hash_data("SHA384")
    data = dict(zip(["hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber"], sha384, strict=True))  # fmt: skip
    assert call(h, "DeleteCertificate", {"certificateHashData": data}).status == "Failed"
    if version == "2.0.1":
        assert installed(h, None) == [OTHER_ROOT_HASH]
    # no signing request was made: a signed certificate is Rejected
    chain = {"certificateChain": CSMS_ROOT}
    assert call(h, "CertificateSigned", chain).status == "Rejected"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_certificate_installed_under_a_second_type_stays_under_the_first(version: str) -> None:
    """M05: an install goes into the given type's store without touching the others'. A
    under the CSMS root type, B too, then A as a manufacturer root: A was taken from the CSMS
    roots, so B was 'the last CSMS root' and could not be deleted (helper L)."""
    h = harness(version)
    root, maker = CSMS_ROOT_TYPE[version], "ManufacturerRootCertificate"
    for kind, pem in (
        (root, CSMS_ROOT),
        (root, OTHER_ROOT),
        (maker, CSMS_ROOT),
        (maker, CSMS_ROOT),
    ):
        ask = {"certificateType": kind, "certificate": pem}
        assert call(h, "InstallCertificate", ask).status == "Accepted"
    assert installed(h, root) == [CSMS_ROOT_HASH, OTHER_ROOT_HASH]
    assert installed(h, maker) == [CSMS_ROOT_HASH]
    entries = ("SecurityCtrlr", "CertificateEntries")
    if version == "2.0.1":  # one entry per type it is installed under; the same again: none
        assert h.machine.live_value(entries, h.now) == "3"
    assert call(h, "DeleteCertificate", {"certificateHashData": OTHER_ROOT_HASH}).status == (
        "Accepted"
    )
    # M04: the hash data names the certificate: deleting A would take it from every type,
    # the last CSMS root with it: Failed, and it stays under both.
    assert call(h, "DeleteCertificate", {"certificateHashData": CSMS_ROOT_HASH}).status == "Failed"
    assert (installed(h, root), installed(h, maker)) == ([CSMS_ROOT_HASH], [CSMS_ROOT_HASH])
    assert call(h, "InstallCertificate", {"certificateType": root, "certificate": OTHER_ROOT}).status == "Accepted"  # fmt: skip
    assert call(h, "DeleteCertificate", {"certificateHashData": CSMS_ROOT_HASH}).status == (
        "Accepted"
    )
    assert (installed(h, root), installed(h, maker)) == ([OTHER_ROOT_HASH], [])


def test_a_full_certificate_store_fails_an_install() -> None:
    h = harness()
    call(
        h,
        "InstallCertificate",
        {"certificateType": "CSMSRootCertificate", "certificate": CSMS_ROOT},
    )
    h.machine.device.certificates.limit = 1
    ask = {"certificateType": "V2GRootCertificate", "certificate": OTHER_ROOT}
    assert call(h, "InstallCertificate", ask).status == "Failed"
    entries = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "CertificateEntries"}}
    got = call(h, "GetVariables", {"getVariableData": [entries]})
    assert got.get_variable_result[0].attribute_status == "Accepted"
    assert h.machine.live_value(("SecurityCtrlr", "CertificateEntries"), h.now) == "1"


def test_certificate_parsing_wants_an_x509_certificate() -> None:
    assert parse_certificate(CSMS_ROOT, "CSMSRootCertificate") is not None
    assert parse_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "X") is None  # fmt: skip
    assert parse_certificate("", "X") is None
    truncated = CSMS_ROOT.replace("+Efs5Jfz\n", "")
    assert parse_certificate(truncated, "X") is None


# -- customer information ---------------------------------------------------------------------


def test_customer_information_needs_a_customer_and_reports_after_the_answer() -> None:
    h = harness(connectors=1, first_start=Distribution.constant(3), id_tags=["CUSTOMER-1"])
    ask = {"requestId": 4, "report": True, "clear": False}
    assert call(h, "CustomerInformation", ask).status == "Invalid"
    h.run_until(10.0)
    since = h.now
    token = {"idToken": "CUSTOMER-1", "type": "ISO14443"}
    assert call(h, "CustomerInformation", ask | {"idToken": token}).status == "Accepted"
    (notify,) = sent(h, "NotifyCustomerInformation", since)
    assert notify.request_id == 4 and notify.seq_no == 0 and notify.tbc is False
    assert "EVSE 1" in notify.data
    since = h.now
    quiet = {"requestId": 5, "report": False, "clear": True, "customerIdentifier": "c-9"}
    assert call(h, "CustomerInformation", quiet).status == "Accepted"
    assert sent(h, "NotifyCustomerInformation", since) == []


def test_check_variable_follows_the_characteristics() -> None:
    """What `_set_variable` can ask before storing (B05: a value that does not suit the
    variable is Rejected)."""
    h = harness()
    check = h.machine.check_variable
    assert check(("OCPPCommCtrlr", "OfflineThreshold"), "120")
    assert not check(("OCPPCommCtrlr", "OfflineThreshold"), "-1")  # minLimit 0
    assert not check(("OCPPCommCtrlr", "OfflineThreshold"), "soon")
    assert check(("OCPPCommCtrlr", "QueueAllMessages"), "TRUE")
    assert not check(("OCPPCommCtrlr", "QueueAllMessages"), "yes")
    assert check(("MonitoringCtrlr", "OfflineQueuingSeverity"), "9")
    assert not check(("MonitoringCtrlr", "OfflineQueuingSeverity"), "10")  # maxLimit 9
    measurands = ("SampledDataCtrlr", "TxEndedMeasurands")
    assert check(measurands, "Energy.Active.Import.Register,Power.Active.Import")
    assert check(measurands, "")  # an empty MemberList: no measurands
    assert not check(measurands, "Energy.Active.Import.Register,Pizza")
    assert check(("ClockCtrlr", "TimeSource"), "Heartbeat,NTP")
    assert not check(("ClockCtrlr", "TimeSource"), "Heartbeat,Heartbeat")
    assert not check(("OCPPCommCtrlr", "HeartbeatInterval"), "x" * 1001)
    assert check(("NoSuchCtrlr", "Whatever"), "anything")  # not ours to judge
    # NetworkConfigurationPriority: slot 1 (the running one), or slots holding a profile (B10)
    priority = ("OCPPCommCtrlr", "NetworkConfigurationPriority")
    assert check(priority, "1")
    assert not check(priority, "2,1")
    assert call(h, "SetNetworkProfile", profile(2)).status == "Accepted"
    assert check(priority, "2,1")
    assert not check(priority, "2,2")
    assert not check(priority, "4")  # no such slot


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_what_a_csms_set_survives_a_reset(version: str) -> None:
    h = harness(version)
    root = CSMS_ROOT_TYPE[version]
    call(h, "InstallCertificate", {"certificateType": root, "certificate": CSMS_ROOT})
    if version == "2.0.1":
        call(h, "SetDisplayMessage", message(1))
        data = [monitor("OCPPCommCtrlr", "HeartbeatInterval", "Delta", 1)]
        call(h, "SetVariableMonitoring", {"setMonitoringData": data})
        call(h, "SetNetworkProfile", profile(2))
        call(h, "Reset", {"type": "Immediate"})
    else:
        call(h, "Reset", {"type": "Soft"})
    assert h.machine.reboot_requested
    h.machine.disconnected(h.now)
    h.machine.connected(h.now + 1)
    h.run_until(h.now + 5)
    assert h.machine.booted
    assert installed(h, root) == [CSMS_ROOT_HASH]
    if version == "2.0.1":
        state = h.machine.device
        assert list(state.messages) == [1]
        assert list(state.monitors) == [1]
        assert list(state.network_profiles) == [2]


def test_base_report_rows_by_report_base() -> None:
    """What GetBaseReport can send with `send_report` (B07), once the machine uses it."""
    h = harness()
    full = h.machine.base_report_rows("FullInventory", h.now)
    configuration = h.machine.base_report_rows("ConfigurationInventory", h.now)
    summary = h.machine.base_report_rows("SummaryInventory", h.now)
    assert len(full) > len(configuration) > len(summary) > 0
    assert all(row.info.mutability != "ReadOnly" for row in configuration)
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in {
        (row.component.name, row.variable.name) for row in configuration
    }
    assert {row.variable.name for row in summary} == {"Available", "AvailabilityState"}
    assert {row.component.name for row in summary} >= {"ChargingStation", "EVSE", "Connector"}
    since = h.now
    h.machine.send_report(9, summary, h.now)
    rows = reported(h, 9, since)
    assert rows[("EVSE", 2, "AvailabilityState", None)] == "Available"


def test_several_component_criteria_are_any_of_them() -> None:
    h = harness()
    call(h, "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2}})
    since = h.now
    ask = {"requestId": 8, "componentVariable": [cv("EVSE", "AvailabilityState")]}
    ask["componentCriteria"] = ["Problem", "Available"]
    assert call(h, "GetReport", ask).status == "Accepted"
    assert list(reported(h, 8, since)) == [("EVSE", 1, "AvailabilityState", None)]


# -- GetVariables / SetVariables / GetBaseReport on the machine (B05-B07, B10) -----------------


def get_one(h: Harness, item: dict[str, Any]) -> tuple[str, Any]:
    """(attributeStatus, attributeValue) of one GetVariables item."""
    (result,) = call(h, "GetVariables", {"getVariableData": [item]}).get_variable_result
    return str(result.attribute_status), result.attribute_value


def set_one(h: Harness, item: dict[str, Any], value: str) -> str:
    """The attributeStatus of one SetVariables item."""
    data = {**item, "attributeValue": value}
    (result,) = call(h, "SetVariables", {"setVariableData": [data]}).set_variable_result
    return str(result.attribute_status)


def test_set_variables_rejects_a_value_its_characteristics_refuse() -> None:
    h = harness()
    priority = cv("OCPPCommCtrlr", "NetworkConfigurationPriority")
    assert set_one(h, priority, "9") == "Rejected"  # no such slot
    assert set_one(h, priority, "2,1") == "Rejected"  # slot 2 holds no profile (B10)
    assert call(h, "SetNetworkProfile", profile(2)).status == "Accepted"
    assert set_one(h, priority, "2,1") == "Accepted"
    assert get_one(h, priority) == ("Accepted", "2,1")
    severity = cv("MonitoringCtrlr", "OfflineQueuingSeverity")
    assert set_one(h, severity, "10") == "Rejected"  # maxLimit 9
    assert get_one(h, severity) == ("Accepted", "2")  # unchanged
    assert set_one(h, cv("SampledDataCtrlr", "TxEndedMeasurands"), "Pizza") == "Rejected"


def test_names_are_case_insensitive_and_instances_and_evses_honoured() -> None:
    h = harness()
    assert get_one(h, cv("ocppcommctrlr", "heartbeatINTERVAL")) == ("Accepted", "30")
    assert set_one(h, cv("OCPPCOMMCTRLR", "HeartbeatInterval"), "40") == "Accepted"
    assert h.machine.heartbeat_interval == 40.0
    # The stored key keeps its own spelling: no second entry.
    assert h.machine.variables[("OCPPCommCtrlr", "HeartbeatInterval")][0] == "40"
    assert ("OCPPCOMMCTRLR", "HeartbeatInterval") not in h.machine.variables
    attempts = cv("OCPPCommCtrlr", "MessageAttempts")
    attempts["variable"]["instance"] = "transactionevent"
    assert get_one(h, attempts) == ("Accepted", "3")  # the settings' transaction_attempts
    attempts["variable"]["instance"] = "Nope"
    assert get_one(h, attempts)[0] == "UnknownVariable"
    interval = cv("OCPPCommCtrlr", "MessageAttemptInterval")
    assert get_one(h, interval) == ("Accepted", "10")  # transaction_retry_interval
    # A controller has no EVSE; an EVSE component needs one that exists.
    assert get_one(h, cv("OCPPCommCtrlr", "HeartbeatInterval", evse=1))[0] == "UnknownComponent"
    assert get_one(h, cv("EVSE", "AvailabilityState", evse=2)) == ("Accepted", "Available")
    assert get_one(h, cv("EVSE", "AvailabilityState", evse=3))[0] == "UnknownComponent"
    assert get_one(h, cv("EVSE", "AvailabilityState"))[0] == "UnknownComponent"
    assert get_one(h, cv("EVSE", "Nope", evse=1))[0] == "UnknownVariable"
    instance = cv("OCPPCommCtrlr", "HeartbeatInterval")
    instance["component"]["instance"] = "Second"
    assert get_one(h, instance)[0] == "UnknownComponent"
    # Live components are ReadOnly.
    assert set_one(h, cv("EVSE", "AvailabilityState", evse=1), "Unavailable") == "Rejected"


def test_only_the_actual_attribute_is_kept() -> None:
    h = harness()
    target = {**cv("OCPPCommCtrlr", "HeartbeatInterval"), "attributeType": "Target"}
    assert get_one(h, target) == ("NotSupportedAttributeType", msgspec.UNSET)
    assert set_one(h, target, "45") == "NotSupportedAttributeType"
    assert h.machine.heartbeat_interval == 30.0
    actual = {**cv("OCPPCommCtrlr", "HeartbeatInterval"), "attributeType": "Actual"}
    assert get_one(h, actual) == ("Accepted", "30")
    unknown = {**cv("Nope", "Nope"), "attributeType": "MaxSet"}
    assert get_one(h, unknown)[0] == "UnknownComponent"


def test_get_variables_answers_live_values() -> None:
    h = harness()
    status, clock = get_one(h, cv("ClockCtrlr", "DateTime"))
    assert status == "Accepted"
    assert clock == h.machine.wall(h.now).isoformat().replace("+00:00", "Z")
    assert get_one(h, cv("ChargingStation", "AvailabilityState")) == ("Accepted", "Available")
    for evse in (1, 2):
        inoperative = {"operationalStatus": "Inoperative", "evse": {"id": evse}}
        call(h, "ChangeAvailability", inoperative)
    assert get_one(h, cv("EVSE", "AvailabilityState", evse=1)) == ("Accepted", "Unavailable")
    connector = cv("Connector", "AvailabilityState", evse=2)
    assert get_one(h, connector) == ("Accepted", "Unavailable")
    connector["component"]["evse"]["connectorId"] = 1
    assert get_one(h, connector) == ("Accepted", "Unavailable")
    connector["component"]["evse"]["connectorId"] = 2
    assert get_one(h, connector)[0] == "UnknownComponent"
    assert get_one(h, cv("ChargingStation", "AvailabilityState")) == ("Accepted", "Unavailable")


@pytest.mark.parametrize("base", ["FullInventory", "ConfigurationInventory", "SummaryInventory"])
def test_get_base_report_sends_its_report_base_with_characteristics(base: str) -> None:
    h = harness()
    since = h.now
    assert call(h, "GetBaseReport", {"requestId": 4, "reportBase": base}).status == "Accepted"
    reports = sent(h, "NotifyReport", since)
    data = [d for r in reports for d in r.report_data]
    expected = h.machine.base_report_rows(base, h.now)
    assert len(data) == len(expected)
    assert all(d.variable_characteristics is not msgspec.UNSET for d in data)
    names = {d.variable.name for d in data}
    if base == "SummaryInventory":
        assert names == {"Available", "AvailabilityState"}
    mutabilities = {str(d.variable_attribute[0].mutability) for d in data}
    if base == "ConfigurationInventory":
        assert "ReadOnly" not in mutabilities
    else:
        assert "ReadOnly" in mutabilities
    for report in reports:  # checked against the schema, as on the wire
        v201.ACTIONS["NotifyReport"].request_decoder.decode(msgspec.json.encode(report))


def test_16_security_configuration_keys() -> None:
    h = harness("1.6")
    keys = ["CertificateStoreMaxLength", "AdditionalRootCertificateCheck", "SecurityProfile"]
    answer = call(h, "GetConfiguration", {"key": keys})
    got = {k.key: (k.value, k.readonly) for k in answer.configuration_key}
    assert got == {
        "CertificateStoreMaxLength": ("10", True),
        "AdditionalRootCertificateCheck": ("false", True),
        "SecurityProfile": ("1", True),
    }
    answer = call(h, "ChangeConfiguration", {"key": "SecurityProfile", "value": "2"})
    assert answer.status == "Rejected"
