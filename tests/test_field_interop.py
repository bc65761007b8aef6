"""Interop faults found in public bug reports (issue 12, item 6), one test per kind.

- date-times on the wire have at most millisecond precision (2.0.1 Part 2 section 2.1.4), in
  every role and whoever built the payload;
- integers written ``1.0`` are accepted where the schemas' draft says so (draft 06: 2.0.1 and
  the 1.6 security extension), refused where it does not (draft 04: core 1.6);
- 2.0.1 ``customData`` keeps the vendor's properties, both ways;
- a station answers every TriggerMessage with what it then really sends, Pending included;
- the embedded CSMS answers a 2.0.1 station it has not accepted with SecurityError.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import pickle
import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import trio
import trio_websocket

from fleet.csms import EmbeddedCsms, open_csms
from fleet.ocpp import (
    CallReceived,
    CustomData,
    ErrorCode,
    InvalidMessage,
    InvalidReply,
    LocalProtocolError,
    ResultReceived,
    Role,
    RpcEndpoint,
    dec_hook,
    v16,
    v201,
)
from fleet.profile import Distribution
from fleet.station import Outgoing
from tests.test_station import Harness

V16, V201 = "ocpp1.6", "ocpp2.0.1"
UTC = dt.UTC
PLUS_2 = dt.timezone(dt.timedelta(hours=2))
MINUS_5_30 = dt.timezone(-dt.timedelta(hours=5, minutes=30))

# An RFC 3339 date-time in a JSON string; group 1: its decimals.
_DATE_TIME = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d+))?(?:Z|[+-]\d\d:\d\d)"')


def decimals_on_the_wire(frame: str) -> list[int]:
    """The number of decimal places of each date-time in a frame."""
    return [len(m.group(1) or "") for m in _DATE_TIME.finditer(frame)]


def pair(version: str) -> tuple[RpcEndpoint, RpcEndpoint]:
    return RpcEndpoint(version, Role.CHARGE_POINT), RpcEndpoint(version, Role.CSMS)


# -- 1. date-times: at most milliseconds on the wire --------------------------------------

MICROS = dt.datetime(2026, 11, 30, 20, 25, 30, 978251, tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "wire"),
    [
        (MICROS, "2026-11-30T20:25:30.978Z"),  # the currentTime, truncated
        (MICROS.replace(microsecond=999999), "2026-11-30T20:25:30.999Z"),  # never rounded up
        (MICROS.replace(microsecond=500), "2026-11-30T20:25:30.000Z"),
        (MICROS.replace(microsecond=123000), "2026-11-30T20:25:30.123Z"),  # msgspec: .123000
        (MICROS.replace(microsecond=0), "2026-11-30T20:25:30Z"),
        (MICROS.replace(tzinfo=PLUS_2), "2026-11-30T20:25:30.978+02:00"),
        (MICROS.replace(tzinfo=MINUS_5_30), "2026-11-30T20:25:30.978-05:30"),
    ],
    ids=["micros", "999999", "500us", "ms", "whole", "+02:00", "-05:30"],
)
@pytest.mark.parametrize("version", [V16, V201])
def test_a_date_time_goes_out_with_at_most_milliseconds(
    version: str, when: dt.datetime, wire: str
) -> None:
    cp, csms = pair(version)
    message_id, frame = cp.send_call("Heartbeat", {})
    csms.receive_message(frame)
    module = v16 if version == V16 else v201
    answer = csms.send_result(message_id, module.HeartbeatResponse(current_time=when))
    assert json.loads(answer)[2] == {"currentTime": wire}
    received = cp.receive_message(answer)
    assert type(received) is ResultReceived
    assert received.response.current_time == dt.datetime.fromisoformat(wire)  # type: ignore[attr-defined]


def _status_201(when: Any) -> Any:
    return v201.StatusNotificationRequest(
        timestamp=when,
        connector_status=v201.ConnectorStatusEnum.AVAILABLE,
        evse_id=1,
        connector_id=1,
    )


def _transaction_event(when: Any) -> Any:
    return v201.TransactionEventRequest(
        event_type=v201.TransactionEventEnum.UPDATED,
        timestamp=when,
        trigger_reason=v201.TriggerReasonEnum.METER_VALUE_PERIODIC,
        seq_no=1,
        transaction_info=v201.Transaction(transaction_id="T-1"),
        meter_value=[
            v201.MeterValue(timestamp=when, sampled_value=[v201.SampledValue(value=1.5)]),
            v201.MeterValue(timestamp=when, sampled_value=[v201.SampledValue(value=2.5)]),
        ],
    )


# Every way a payload reaches the encoder: a Struct built with datetime.now(), one nested in
# lists, a wire-form mapping with datetime objects or with a string of 6 or 9 decimals, with
# or without the sender's validation.
_OUTGOING = [
    ("Struct", "StatusNotification", _status_201(dt.datetime.now(UTC)), 1),
    ("Struct, local offset", "StatusNotification", _status_201(dt.datetime.now().astimezone()), 1),
    ("nested in lists", "TransactionEvent", _transaction_event(dt.datetime.now(UTC)), 3),
    (
        "mapping with a datetime",
        "StatusNotification",
        {"timestamp": MICROS, "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
        1,
    ),
    (
        "mapping with a string of 9 decimals",
        "StatusNotification",
        {
            "timestamp": "2026-11-30T20:25:32.703982111+01:00",
            "connectorStatus": "Available",
            "evseId": 1,
            "connectorId": 1,
        },
        1,
    ),
]


@pytest.mark.parametrize("validate", [True, False], ids=["validated", "unvalidated"])
@pytest.mark.parametrize(
    ("action", "payload", "count"), [o[1:] for o in _OUTGOING], ids=[o[0] for o in _OUTGOING]
)
def test_every_date_time_a_charge_point_sends_has_at_most_milliseconds(
    action: str, payload: Any, count: int, validate: bool
) -> None:
    cp = RpcEndpoint(V201, Role.CHARGE_POINT, validate_outgoing=validate)
    _, frame = cp.send_call(action, payload)
    digits = decimals_on_the_wire(frame)
    assert len(digits) == count
    assert all(d <= 3 for d in digits), frame
    received = RpcEndpoint(V201, Role.CSMS).receive_message(frame)
    assert type(received) is CallReceived


def test_what_is_received_is_read_as_sent() -> None:
    # Reading is lenient and lossless: a peer's 6 decimals are kept, only our output is cut.
    csms = RpcEndpoint(V201, Role.CSMS)
    event = csms.receive_message(
        '[2,"1","StatusNotification",{"timestamp":"2026-11-30T20:25:32.703982Z",'
        '"connectorStatus":"Available","evseId":1,"connectorId":1}]'
    )
    assert type(event) is CallReceived
    assert event.request.timestamp.microsecond == 703982  # type: ignore[attr-defined]


def test_a_string_that_only_contains_a_date_time_is_left_alone() -> None:
    # Vendor data carrying JSON in a string: its quotes are escaped, so nothing in it matches.
    inner = json.dumps({"at": "2026-11-30T20:25:30.978251Z"})
    cp = RpcEndpoint(V16, Role.CHARGE_POINT)
    _, frame = cp.send_call(
        "DataTransfer", v16.DataTransferRequest(vendor_id="acme", data=inner, message_id="x")
    )
    assert json.loads(frame)[3]["data"] == inner
    # ... as is a string with a date-time in the middle of it.
    text = "started 2026-11-30T20:25:30.978251Z"
    _, frame = RpcEndpoint(V16, Role.CHARGE_POINT).send_call(
        "DataTransfer", {"vendorId": "acme", "data": text}
    )
    assert json.loads(frame)[3]["data"] == text


# -- 5. integers written 1.0 ---------------------------------------------------------------

_STATUS_201 = (
    '{"timestamp":"2026-01-01T00:00:00Z","connectorStatus":"Available",'
    '"evseId":%s,"connectorId":%s}'
)
_STATUS_16 = (
    '{"timestamp":"2026-01-01T00:00:00Z","status":"Available","errorCode":"NoError",'
    '"connectorId":%s}'
)


@pytest.mark.parametrize(
    ("version", "action", "payload", "accepted", "field"),
    [
        # 2.0.1: JSON Schema draft 06, whose integer is any number with a zero fraction.
        (V201, "StatusNotification", _STATUS_201 % ("1.0", "1"), {"evse_id": 1}, None),
        (V201, "StatusNotification", _STATUS_201 % ("1", "1e0"), {"connector_id": 1}, None),
        (V201, "StatusNotification", _STATUS_201 % ("2.0", "1.0"), {"evse_id": 2}, None),
        (V201, "StatusNotification", _STATUS_201 % ("-0.0", "1"), {"evse_id": 0}, None),
        (V201, "StatusNotification", _STATUS_201 % ("1.5", "1"), None, "$.evseId"),
        (V201, "StatusNotification", _STATUS_201 % ("1.0", "1.25"), None, "$.connectorId"),
        (
            V201,
            "NotifyEVChargingNeeds",
            '{"evseId":1,"chargingNeeds":{"requestedEnergyTransfer":"DC",'
            '"dcChargingParameters":{"evMaxCurrent":32,"evMaxVoltage":400,"stateOfCharge":101.0}}}',
            None,
            "$.chargingNeeds.dcChargingParameters.stateOfCharge",  # <= 100 still holds
        ),
        (
            V201,
            "TransactionEvent",
            '{"eventType":"Updated","timestamp":"2026-01-01T00:00:00Z","triggerReason":"Trigger",'
            '"seqNo":3.0,"transactionInfo":{"transactionId":"T"},"evse":{"id":1.0},'
            '"meterValue":[{"timestamp":"2026-01-01T00:00:00Z","sampledValue":[{"value":1.0,'
            '"signedMeterValue":{"signedMeterData":"x","signingMethod":"x","encodingMethod":"x",'
            '"publicKey":"x"}}]}],"numberOfPhasesUsed":3.0}',
            {"seq_no": 3, "number_of_phases_used": 3},
            None,
        ),
        # 1.6: draft 04, whose integer is written without a fraction: refused, naming it.
        (V16, "StatusNotification", _STATUS_16 % "1.0", None, "$.connectorId"),
        (V16, "StatusNotification", _STATUS_16 % "1", {"connector_id": 1}, None),
        # ... but the 1.6 Security Whitepaper's schemas are draft 06.
        (
            V16,
            "LogStatusNotification",
            '{"status":"Idle","requestId":7.0}',
            {"request_id": 7},
            None,
        ),
    ],
    ids=[
        "201-evseId-1.0",
        "201-1e0",
        "201-two-fields",
        "201-minus-zero",
        "201-1.5-refused",
        "201-1.25-refused",
        "201-bound-still-checked",
        "201-nested",
        "16-1.0-refused",
        "16-1",
        "16-security-draft-06",
    ],
)
def test_integers_follow_the_schemas_draft(
    version: str, action: str, payload: str, accepted: dict[str, int] | None, field: str | None
) -> None:
    csms = RpcEndpoint(version, Role.CSMS)
    event = csms.receive_message(f'[2,"m1","{action}",{payload}]')
    if accepted is not None:
        assert type(event) is CallReceived, event
        for name, value in accepted.items():
            got = getattr(event.request, name)
            assert (type(got), got) == (int, value)
        if action == "TransactionEvent":
            assert event.request.evse.id == 1  # type: ignore[attr-defined]
            assert type(event.request.evse.id) is int  # type: ignore[attr-defined]
            # a float field keeps its float
            assert event.request.meter_value[0].sampled_value[0].value == 1.0  # type: ignore[attr-defined]
    else:
        assert type(event) is InvalidMessage
        assert event.error.code in (
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
        )
        assert f"at `{field}`" in event.error.description
        assert event.reply is not None and '"m1"' in event.reply


def test_a_response_with_a_whole_float_is_accepted_and_one_with_a_fraction_is_not() -> None:
    for interval, ok in (("300.0", True), ("300.5", False)):
        cp = RpcEndpoint(V201, Role.CHARGE_POINT)
        message_id, _ = cp.send_call(
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}},
        )
        event = cp.receive_message(
            f'[3,"{message_id}",{{"currentTime":"2026-01-01T00:00:00Z",'
            f'"interval":{interval},"status":"Accepted"}}]'
        )
        if ok:
            assert type(event) is ResultReceived
            assert type(event.response.interval) is int  # type: ignore[attr-defined]
        else:
            assert type(event) is InvalidReply
            assert "at `$.interval`" in str(event.error)


def test_what_we_send_writes_integers_as_integers() -> None:
    cp = RpcEndpoint(V201, Role.CHARGE_POINT)
    _, frame = cp.send_call(
        "StatusNotification",
        {
            "timestamp": "2026-01-01T00:00:00Z",
            "connectorStatus": "Available",
            "evseId": 1.0,
            "connectorId": 1,
        },
    )
    assert '"evseId":1,' in frame
    with pytest.raises(LocalProtocolError, match=r"at `\$\.evseId`"):
        RpcEndpoint(V201, Role.CHARGE_POINT).send_call(
            "StatusNotification",
            {
                "timestamp": "2026-01-01T00:00:00Z",
                "connectorStatus": "Available",
                "evseId": 1.5,
                "connectorId": 1,
            },
        )
    with pytest.raises(LocalProtocolError, match=r"at `\$\.connectorId`"):
        RpcEndpoint(V16, Role.CHARGE_POINT).send_call(
            "StatusNotification",
            {
                "timestamp": "2026-01-01T00:00:00Z",
                "status": "Available",
                "errorCode": "NoError",
                "connectorId": 1.0,
            },
        )


# -- 6. customData keeps the vendor's properties -----------------------------------------

VENDOR = {"vendorId": "com.acme", "soc": 81, "cabinet": {"tempC": 31.5, "fans": [1, 2]}}


def test_custom_data_a_station_sends_reaches_the_handler_whole() -> None:
    cp, csms = pair(V201)
    request = v201.HeartbeatRequest(
        custom_data=CustomData(
            vendor_id="com.acme", soc=81, cabinet={"tempC": 31.5, "fans": [1, 2]}
        )
    )
    _, frame = cp.send_call("Heartbeat", request)
    assert json.loads(frame)[3] == {"customData": VENDOR}
    event = csms.receive_message(frame)
    assert type(event) is CallReceived
    data = event.request.custom_data  # type: ignore[attr-defined]
    assert type(data) is CustomData
    assert data == VENDOR
    assert (data.vendor_id, data["soc"], data["cabinet"]["fans"]) == ("com.acme", 81, [1, 2])
    assert event.request == request


def test_custom_data_in_an_answer_and_nested_objects_is_kept() -> None:
    cp, csms = pair(V201)
    message_id, frame = cp.send_call("Heartbeat", {})
    csms.receive_message(frame)
    answer = csms.send_result(
        message_id,
        {"currentTime": "2026-01-01T00:00:00Z", "customData": VENDOR},
    )
    event = cp.receive_message(answer)
    assert type(event) is ResultReceived
    assert event.response.custom_data == VENDOR  # type: ignore[attr-defined]
    # deep in a payload: TransactionEvent.evse.customData, meterValue[].customData
    event = csms.receive_message(
        '[2,"t","TransactionEvent",{"eventType":"Started","timestamp":"2026-01-01T00:00:00Z",'
        '"triggerReason":"Authorized","seqNo":0,"transactionInfo":{"transactionId":"T",'
        '"customData":{"vendorId":"v","x":null}},"evse":{"id":1,"customData":{"vendorId":"w",'
        '"y":true}}}]'
    )
    assert type(event) is CallReceived
    assert event.request.transaction_info.custom_data == {"vendorId": "v", "x": None}  # type: ignore[attr-defined]
    assert event.request.evse.custom_data == {"vendorId": "w", "y": True}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("custom_data", "code", "says"),
    [
        (
            '{"soc":1}',
            ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
            "missing required field `vendorId`",
        ),
        ('{"vendorId":7}', ErrorCode.TYPE_CONSTRAINT_VIOLATION, "`vendorId`"),
        ('{"vendorId":"%s"}' % ("x" * 256), ErrorCode.TYPE_CONSTRAINT_VIOLATION, "length <= 255"),
        ('"acme"', ErrorCode.TYPE_CONSTRAINT_VIOLATION, "Expected `object`, got `str`"),
    ],
    ids=["no-vendorId", "vendorId-not-a-string", "vendorId-too-long", "not-an-object"],
)
def test_broken_custom_data_is_refused_with_the_right_code(
    custom_data: str, code: ErrorCode, says: str
) -> None:
    event = RpcEndpoint(V201, Role.CSMS).receive_message(
        f'[2,"c","Heartbeat",{{"customData":{custom_data}}}]'
    )
    assert type(event) is InvalidMessage
    assert event.error.code == code
    assert says in event.error.description and "at `$.customData`" in event.error.description


def test_custom_data_is_an_immutable_hashable_mapping() -> None:
    data = CustomData(vendor_id="com.acme", soc=81)
    assert data.vendor_id == "com.acme" and dict(data) == {"vendorId": "com.acme", "soc": 81}
    for mutate in (
        lambda: data.__setitem__("soc", 1),
        lambda: data.pop("soc"),
        lambda: data.update(x=1),
        lambda: data.clear(),
    ):
        with pytest.raises(TypeError, match="immutable"):
            mutate()
    assert pickle.loads(pickle.dumps(data)) == data
    assert copy.deepcopy(data) == data and type(copy.copy(data)) is CustomData
    assert hash(v201.HeartbeatRequest(custom_data=data)) == hash(
        v201.HeartbeatRequest(custom_data=CustomData(vendor_id="com.acme", soc=81))
    )
    with pytest.raises(ValueError, match="255"):
        CustomData(vendor_id="x" * 256)
    with pytest.raises(TypeError):
        CustomData(vendor_id="x", vendorId="y")
    # msgspec users decode it with the package's hook
    decoded = msgspec.json.decode(
        b'{"customData":{"vendorId":"v","k":1}}', type=v201.HeartbeatRequest, dec_hook=dec_hook
    )
    assert decoded.custom_data == {"vendorId": "v", "k": 1}


# -- 2, 3. TriggerMessage: the answer matches what the station then sends -----------------

STATES = ("pending", "rejected", "accepted-idle", "accepted-charging")
# What each requestedMessage makes the station send (2.0.1's Sign* triggers: SignCertificate).
_TRIGGERED_ACTION = {
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
}


def harness_in(state: str, version: str) -> Harness:
    """A two-connector station in `state`, at a moment when nothing of its own is due."""
    h = Harness(
        version[4:], first_start=Distribution.constant(5), length=Distribution.constant(100)
    )
    module = h.module
    boot_status = {"pending": "Pending", "rejected": "Rejected"}.get(state, "Accepted")

    def boot(item: Outgoing) -> Any:
        return msgspec.convert(
            {"status": boot_status, "currentTime": "2026-01-01T00:00:00Z", "interval": 60},
            module.BootNotificationResponse,
        )

    h.answer["BootNotification"] = boot
    h.machine.connected(0.0)
    h.run_until(7.0 if state == "accepted-charging" else 1.0)
    charging = [c.state.value for c in h.machine.connectors]
    assert charging == (["charging"] * 2 if state == "accepted-charging" else ["available"] * 2)
    assert h.machine.booted == state.startswith("accepted")
    return h


def trigger(h: Harness, requested: str, **target: Any) -> tuple[str, list[Outgoing]]:
    """Send TriggerMessage now; (its status, what the station sends in the next 0.5 s)."""
    version = h.machine.version.value
    if version == V16:
        request = v16.TriggerMessageRequest(requested_message=requested, **target)  # type: ignore[arg-type]
    else:
        evse = v201.EVSE(**target) if target else msgspec.UNSET
        request = v201.TriggerMessageRequest(requested_message=requested, evse=evse)  # type: ignore[arg-type]
    at = h.now
    response = h.machine.on_call("TriggerMessage", request, at)
    # the answer is a valid TriggerMessageResponse
    h.module.ACTIONS["TriggerMessage"].decode_response(msgspec.json.encode(response))
    h.run_until(at + 0.5)
    return str(response.status), [item for when, item in h.sent if when >= at]  # type: ignore[attr-defined]


def _targets(version: str) -> list[dict[str, Any]]:
    if version == V16:
        return [{}, {"connector_id": 0}, {"connector_id": 2}, {"connector_id": 9}]
    return [
        {},
        {"id": 0},
        {"id": 2},
        {"id": 2, "connector_id": 1},
        {"id": 2, "connector_id": 2},
        {"id": 9},
    ]


_ALL_TRIGGERS = [
    (version, state, requested.value, target)
    for version, module in ((V16, v16), (V201, v201))
    for requested in (module.MessageTrigger if version == V16 else module.MessageTriggerEnum)  # type: ignore[attr-defined]
    for state in STATES
    for target in _targets(version)
]


@pytest.mark.parametrize(
    ("version", "state", "requested", "target"),
    _ALL_TRIGGERS,
    ids=[f"{v[4:]}-{s}-{r}-{t}" for v, s, r, t in _ALL_TRIGGERS],
)
def test_every_trigger_is_answered_with_what_then_happens(
    version: str, state: str, requested: str, target: dict[str, Any]
) -> None:
    """Accepted: the message follows (schema-valid, the harness checks); otherwise nothing."""
    h = harness_in(state, version)
    status, sent = trigger(h, requested, **target)
    action = _TRIGGERED_ACTION.get(requested, requested)
    produced = [item for item in sent if item.action == action]
    if status == "Accepted":
        assert produced, f"Accepted {requested} but sent {[i.action for i in sent]}"
        if state == "pending":  # no boot had to be Accepted first
            assert not h.machine.booted
    else:
        assert status in ("Rejected", "NotImplemented")
        assert not produced, f"{status} {requested} but sent it"


# (version, state, requested, target) -> (status, [(action, connector or evse)] sent).
_EXPECTED = [
    # A Pending station sends what is triggered, and a triggered boot at once (issue 12).
    (V16, "pending", "Heartbeat", {}, "Accepted", [("Heartbeat", 0)]),
    (V201, "pending", "Heartbeat", {}, "Accepted", [("Heartbeat", 0)]),
    (V16, "pending", "BootNotification", {}, "Accepted", [("BootNotification", 0)]),
    (V201, "pending", "BootNotification", {}, "Accepted", [("BootNotification", 0)]),
    (V16, "pending", "StatusNotification", {}, "Accepted", [("StatusNotification", c) for c in (0, 1, 2)]),
    (V201, "pending", "StatusNotification", {"id": 2}, "Accepted", [("StatusNotification", 2)]),
    # Rejected: only a boot may go.
    (V16, "rejected", "Heartbeat", {}, "Rejected", []),
    (V201, "rejected", "Heartbeat", {}, "Rejected", []),
    (V16, "rejected", "BootNotification", {}, "Accepted", [("BootNotification", 0)]),
    (V201, "rejected", "BootNotification", {}, "Accepted", [("BootNotification", 0)]),
    # After an Accepted boot: 2.0.1 refuses another (F06.FR.17); 1.6 boots again.
    (V201, "accepted-idle", "BootNotification", {}, "Rejected", []),
    (V16, "accepted-idle", "BootNotification", {}, "Accepted", [("BootNotification", 0)]),
    # MeterValues on an idle station: a reading of the register, per connector / EVSE.
    (V16, "accepted-idle", "MeterValues", {"connector_id": 2}, "Accepted", [("MeterValues", 2)]),
    (V16, "accepted-idle", "MeterValues", {}, "Accepted", [("MeterValues", c) for c in (0, 1, 2)]),
    (V201, "accepted-idle", "MeterValues", {}, "Accepted", [("MeterValues", 1), ("MeterValues", 2)]),
    (V201, "accepted-idle", "MeterValues", {"id": 0}, "Accepted", [("MeterValues", 0)]),
    (V16, "accepted-idle", "MeterValues", {"connector_id": 9}, "Rejected", []),
    (V201, "accepted-idle", "MeterValues", {"id": 9}, "Rejected", []),
    (V201, "accepted-idle", "MeterValues", {"id": 2, "connector_id": 2}, "Rejected", []),
    # TransactionEvent: only for an ongoing transaction.
    (V201, "accepted-idle", "TransactionEvent", {}, "Rejected", []),
    (V201, "accepted-charging", "TransactionEvent", {"id": 1}, "Accepted", [("TransactionEvent", 1)]),
    (V201, "pending", "TransactionEvent", {}, "Rejected", []),
    (V201, "accepted-idle", "StatusNotification", {"id": 0}, "Rejected", []),
    (V201, "accepted-idle", "LogStatusNotification", {}, "Accepted", [("LogStatusNotification", 0)]),
    (V201, "accepted-idle", "SignV2GCertificate", {}, "NotImplemented", []),
    (V16, "accepted-idle", "DiagnosticsStatusNotification", {}, "Accepted", [("DiagnosticsStatusNotification", 0)]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("version", "state", "requested", "target", "status", "messages"),
    _EXPECTED,
    ids=[f"{e[0][4:]}-{e[1]}-{e[2]}-{e[3]}" for e in _EXPECTED],
)
def test_trigger_answers_and_messages(
    version: str,
    state: str,
    requested: str,
    target: dict[str, Any],
    status: str,
    messages: list[tuple[str, int]],
) -> None:
    h = harness_in(state, version)
    got, sent = trigger(h, requested, **target)
    assert got == status
    triggered = [(item.action, item.connector) for item in sent if item.action == requested]
    assert triggered == messages


@pytest.mark.parametrize("version", [V16, V201])
def test_a_triggered_boot_goes_at_once_and_replaces_the_scheduled_one(version: str) -> None:
    h = harness_in("pending", version)  # booted at 0, Pending, next boot due at 60.01
    h.run_until(10.0)
    _, sent = trigger(h, "BootNotification")
    assert [(item.action) for item in sent] == ["BootNotification"]
    if version == V201:
        assert sent[0].payload.reason == v201.BootReasonEnum.TRIGGERED  # type: ignore[attr-defined]
    h.run_until(75.0)
    boots = [round(at, 2) for at, item in h.sent if item.action == "BootNotification"]
    assert boots == [0.0, 10.0, 70.01]  # the one due at 60.01 was replaced, not added


@pytest.mark.parametrize("version", [V16, V201])
def test_triggered_readings_are_register_readings_in_context_trigger(version: str) -> None:
    h = harness_in("accepted-idle", version)
    register = h.machine.connectors[1].energy_wh
    status, sent = trigger(
        h, "MeterValues", **({"connector_id": 2} if version == V16 else {"id": 2})
    )
    assert status == "Accepted"
    (reading,) = [item.payload for item in sent if item.action == "MeterValues"]
    sampled = reading.meter_value[0].sampled_value[0]  # type: ignore[attr-defined]
    assert str(sampled.context) == "Trigger"
    assert float(sampled.value) == pytest.approx(register, abs=1)
    if version == V16:
        assert reading.transaction_id is msgspec.UNSET  # type: ignore[attr-defined]


def test_get_base_report_while_pending_sends_its_report() -> None:
    h = harness_in("pending", V201)
    at = h.now
    answer = h.machine.on_call(
        "GetBaseReport",
        v201.GetBaseReportRequest(request_id=4, report_base=v201.ReportBaseEnum.FULL_INVENTORY),
        at,
    )
    assert answer.status == "Accepted"  # type: ignore[attr-defined]
    h.run_until(at + 0.5)
    # A full inventory is several NotifyReports (DeviceDataCtrlr.ItemsPerMessage each, B07),
    # all sent while Pending, every one but the last saying more follow (tbc).
    sent = [item for when, item in h.sent if when >= at]
    assert len(sent) > 1 and {item.action for item in sent} == {"NotifyReport"}
    assert [item.payload.tbc is True for item in sent] == [True] * (len(sent) - 1) + [False]
    assert not h.machine.booted


# -- 4. the embedded CSMS gates a 2.0.1 station it has not accepted -----------------------


class RawStation:
    """A station that writes frames by hand, to see exactly what the CSMS answers."""

    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self.ws = ws
        self.count = 0

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        self.count += 1
        message_id = f"c{self.count}"
        await self.ws.send_message(json.dumps([2, message_id, action, payload]))
        while True:  # the CSMS's own CALLs are answered by `serve`, not here
            frame = json.loads(await self.ws.get_message())
            if frame[0] in (3, 4) and frame[1] == message_id:
                return frame  # type: ignore[no-any-return]

    async def answer_one_call(self, status: str) -> dict[str, Any]:
        """Read the CSMS's next CALL and answer it with `status`; returns its payload."""
        frame = json.loads(await self.ws.get_message())
        assert frame[0] == 2
        await self.ws.send_message(json.dumps([3, frame[1], {"status": status}]))
        return frame[3]  # type: ignore[no-any-return]


BOOT_201 = {"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}}
BOOT_16 = {"chargePointVendor": "v", "chargePointModel": "m"}
_NOW = "2026-01-01T00:00:00Z"
STATUS_201 = {"timestamp": _NOW, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}


@contextlib.asynccontextmanager
async def raw_station(
    csms: EmbeddedCsms, station_id: str, version: str = V201
) -> AsyncIterator[RawStation]:
    async with trio_websocket.open_websocket_url(
        f"{csms.url}/{station_id}", subprotocols=[version]
    ) as ws:
        yield RawStation(ws)


@pytest.mark.parametrize("boot_status", ["Pending", "Rejected"])
async def test_a_2_0_1_station_not_accepted_gets_security_error_but_for_its_boot(
    boot_status: str,
) -> None:
    async with open_csms(boot_status=boot_status) as csms, raw_station(csms, "ST-1") as station:
        # the reproduction: [2,"h1","Heartbeat",{}] before any boot is answered
        assert (await station.call("Heartbeat", {}))[0] == 3  # no boot yet: not held
        boot = await station.call("BootNotification", BOOT_201)
        assert boot[0] == 3 and boot[2]["status"] == boot_status
        assert (
            decimals_on_the_wire(json.dumps(boot))
            and max(decimals_on_the_wire(json.dumps(boot))) <= 3
        )
        for action, payload in (("Heartbeat", {}), ("StatusNotification", STATUS_201)):
            answer = await station.call(action, payload)
            assert answer[0] == 4 and answer[2] == "SecurityError", answer
            assert boot_status in answer[3]
        # booting again is always answered; Accepted opens the gate
        csms.boot_status = "Accepted"
        assert (await station.call("BootNotification", BOOT_201))[2]["status"] == "Accepted"
        assert (await station.call("Heartbeat", {}))[0] == 3
        assert csms.registration_gate.status("ST-1") is None


async def test_the_gate_holds_across_a_reconnect_without_a_boot() -> None:
    async with open_csms(boot_status="Pending") as csms:
        async with raw_station(csms, "ST-2") as station:
            assert (await station.call("BootNotification", BOOT_201))[2]["status"] == "Pending"
        async with raw_station(csms, "ST-2") as station:
            answer = await station.call("Heartbeat", {})
            assert answer[2] == "SecurityError"


async def test_1_6_is_not_gated() -> None:
    # 1.6 4.2.1 allows transactions before acceptance and cached messages: the CSMS answers.
    async with open_csms(boot_status="Pending") as csms, raw_station(csms, "ST-3", V16) as station:
        assert (await station.call("BootNotification", BOOT_16))[2]["status"] == "Pending"
        heartbeat = await station.call("Heartbeat", {})
        assert heartbeat[0] == 3
        assert max(decimals_on_the_wire(json.dumps(heartbeat))) <= 3


@pytest.mark.parametrize(
    ("call", "station_answers", "then_sent", "admitted"),
    [
        (("TriggerMessage", {"requestedMessage": "Heartbeat"}), "Accepted", [("Heartbeat", {})], [True]),
        # once: a second, untriggered heartbeat is refused again
        (("TriggerMessage", {"requestedMessage": "Heartbeat"}), "Accepted", [("Heartbeat", {})] * 2, [True, False]),
        # a trigger the station refused admits nothing
        (("TriggerMessage", {"requestedMessage": "Heartbeat"}), "Rejected", [("Heartbeat", {})], [False]),
        # every EVSE's status, until the station sends something else
        (
            ("TriggerMessage", {"requestedMessage": "StatusNotification"}),
            "Accepted",
            [("StatusNotification", STATUS_201), ("StatusNotification", {**STATUS_201, "evseId": 2}), ("Heartbeat", {}), ("StatusNotification", STATUS_201)],
            [True, True, False, False],
        ),
        # one EVSE's status: one message
        (
            ("TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 1}}),
            "Accepted",
            [("StatusNotification", STATUS_201)] * 2,
            [True, False],
        ),
        # GetBaseReport's NotifyReport, all its parts, then no more
        (
            ("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}),
            "Accepted",
            [("NotifyReport", {"requestId": 1, "generatedAt": _NOW, "seqNo": n, "tbc": n == 0}) for n in (0, 1, 2)],
            [True, True, False],
        ),
    ],
    ids=["trigger", "trigger-once", "trigger-refused", "all-evses", "one-evse", "report"],
)  # fmt: skip
async def test_what_the_csms_asked_a_pending_station_for_is_answered(
    call: tuple[str, dict[str, Any]],
    station_answers: str,
    then_sent: list[tuple[str, dict[str, Any]]],
    admitted: list[bool],
) -> None:
    async with open_csms(boot_status="Pending") as csms, raw_station(csms, "ST-4") as station:
        await station.call("BootNotification", BOOT_201)
        session = await csms.wait_for_station("ST-4")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(session.call, *call)
            await station.answer_one_call(station_answers)
        got = [(await station.call(action, payload))[0] == 3 for action, payload in then_sent]
        assert got == admitted


async def test_our_2_0_1_station_honours_a_trigger_while_pending_end_to_end() -> None:
    """The fleet's own station against the embedded CSMS: Pending, then triggered."""
    async with open_csms(boot_status="Pending", heartbeat_interval=600) as csms:
        h = Harness("2.0.1")
        machine = h.machine
        async with raw_station(csms, "ST-5") as station:
            # drive the machine by hand over the raw socket: boot, Pending
            machine.connected(0.0)
            machine.on_timer(0.0)
            boot = machine.due(0.0)
            assert boot is not None
            wire = RpcEndpoint(V201, Role.CHARGE_POINT)
            answer = await station.call(
                "BootNotification",
                json.loads(wire.send_call("BootNotification", boot.payload)[1])[3],
            )
            wire.abandon_call()
            response = msgspec.convert(answer[2], v201.BootNotificationResponse)
            machine.on_answer(boot, response, None, 0.1)
            assert machine.due(0.2) is None  # Pending: nothing of its own
            session = await csms.wait_for_station("ST-5")
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    session.call, "TriggerMessage", {"requestedMessage": "Heartbeat"}
                )
                request = await station.ws.get_message()
                event = RpcEndpoint(V201, Role.CHARGE_POINT).receive_message(request)
                assert type(event) is CallReceived
                reply = machine.on_call(event.action, event.request, 0.3)
                assert reply.status == "Accepted"  # type: ignore[attr-defined]
                await station.ws.send_message(
                    json.dumps([3, event.message_id, {"status": "Accepted"}])
                )
            heartbeat = machine.due(0.3)
            assert heartbeat is not None and heartbeat.action == "Heartbeat"
            assert (await station.call("Heartbeat", {}))[0] == 3  # admitted: a CALLRESULT
