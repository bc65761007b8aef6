"""The sans-IO OCPP-J endpoint: frames in, events out, no sockets (h11's ConnectionPair style)."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.ocpp import (
    CallError,
    CallReceived,
    ErrorCode,
    ErrorReceived,
    InvalidMessage,
    InvalidReply,
    LocalProtocolError,
    NotImplementedCallError,
    OccurrenceConstraintViolationCallError,
    OcppVersion,
    ResultReceived,
    Role,
    RpcEndpoint,
    UnexpectedReply,
    error_codes,
    v16,
    v201,
)

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
BOOT_16 = v16.BootNotificationRequest(charge_point_vendor="Acme", charge_point_model="X1")
BOOT_201 = v201.BootNotificationRequest(
    reason=v201.BootReasonEnum.POWER_UP,
    charging_station=v201.ChargingStation(model="X1", vendor_name="Acme"),
)


def pair(version: OcppVersion) -> tuple[RpcEndpoint, RpcEndpoint]:
    return (
        RpcEndpoint(version, Role.CHARGE_POINT, id_prefix="cp-"),
        RpcEndpoint(version, Role.CSMS, id_prefix="cs-"),
    )


def test_typed_call_and_result_round_trip_16() -> None:
    station, csms = pair(OcppVersion.V16)
    message_id, frame = station.send_call("BootNotification", BOOT_16)
    assert json.loads(frame) == [
        2,
        message_id,
        "BootNotification",
        {"chargePointVendor": "Acme", "chargePointModel": "X1"},
    ]
    event = csms.receive_message(frame)
    assert event == CallReceived(message_id, "BootNotification", BOOT_16)
    assert csms.unanswered == {message_id: "BootNotification"}
    response = v16.BootNotificationResponse(
        status=v16.RegistrationStatus.ACCEPTED, current_time=NOW, interval=300
    )
    reply = csms.send_result(message_id, response)
    assert json.loads(reply) == [
        3,
        message_id,
        {"status": "Accepted", "currentTime": "2026-01-02T03:04:05Z", "interval": 300},
    ]
    assert csms.unanswered == {}
    assert station.outstanding == (message_id, "BootNotification")
    assert station.receive_message(reply) == ResultReceived(
        message_id, "BootNotification", response
    )
    assert station.outstanding is None


def test_typed_call_round_trip_201_with_nested_types() -> None:
    station, csms = pair(OcppVersion.V201)
    _, frame = station.send_call("BootNotification", BOOT_201)
    assert json.loads(frame)[3] == {
        "reason": "PowerUp",
        "chargingStation": {"model": "X1", "vendorName": "Acme"},
    }
    event = csms.receive_message(frame)
    assert isinstance(event, CallReceived)
    assert event.request == BOOT_201


def test_generic_call_with_a_mapping_is_validated_like_a_typed_one() -> None:
    station, csms = pair(OcppVersion.V16)
    _, frame = station.send_call("Heartbeat", {})
    assert isinstance(csms.receive_message(frame), CallReceived)
    station.abandon_call()
    with pytest.raises(LocalProtocolError, match=r"chargePointVendor"):
        station.send_call("BootNotification", {"chargePointModel": "X1"})
    assert station.outstanding is None  # nothing was sent


def test_invalid_typed_payload_is_refused_before_sending() -> None:
    station, _ = pair(OcppVersion.V16)
    too_long = v16.AuthorizeRequest(id_tag="x" * 21)  # CiString20
    with pytest.raises(LocalProtocolError, match=r"length <= 20 - at `\$.idTag`"):
        station.send_call("Authorize", too_long)
    # A payload of another action's type is refused too.
    with pytest.raises(LocalProtocolError, match="must be AuthorizeRequest"):
        station.send_call("Authorize", BOOT_16)


def test_unvalidated_sending_skips_the_schema_check_for_typed_payloads() -> None:
    station = RpcEndpoint(OcppVersion.V16, Role.CHARGE_POINT, validate_outgoing=False)
    _, frame = station.send_call("Authorize", v16.AuthorizeRequest(id_tag="x" * 21))
    assert json.loads(frame)[3] == {"idTag": "x" * 21}


def test_one_outstanding_call_per_direction() -> None:
    station, csms = pair(OcppVersion.V16)
    first, frame = station.send_call("Heartbeat", v16.HeartbeatRequest())
    with pytest.raises(LocalProtocolError, match="still awaiting its answer"):
        station.send_call("Heartbeat", v16.HeartbeatRequest())
    # The other direction is independent: the CSMS may call the station meanwhile.
    _, csms_frame = csms.send_call("ClearCache", v16.ClearCacheRequest())
    assert isinstance(station.receive_message(csms_frame), CallReceived)
    csms.receive_message(frame)
    station.receive_message(csms.send_result(first, v16.HeartbeatResponse(current_time=NOW)))
    station.send_call("Heartbeat", v16.HeartbeatRequest())  # allowed again


def test_roles_limit_what_may_be_sent() -> None:
    station, csms = pair(OcppVersion.V16)
    with pytest.raises(
        LocalProtocolError, match="a charge point does not send RemoteStartTransaction"
    ):
        station.send_call("RemoteStartTransaction", v16.RemoteStartTransactionRequest(id_tag="1"))
    with pytest.raises(LocalProtocolError, match="a CSMS does not send Heartbeat"):
        csms.send_call("Heartbeat", v16.HeartbeatRequest())
    with pytest.raises(LocalProtocolError, match=r"unknown OCPP 1\.6 action .TransactionEvent."):
        station.send_call("TransactionEvent", {})
    # DataTransfer goes both ways.
    station.send_call("DataTransfer", v16.DataTransferRequest(vendor_id="acme"))
    csms.send_call("DataTransfer", v16.DataTransferRequest(vendor_id="acme"))


def test_results_only_for_unanswered_calls() -> None:
    station, csms = pair(OcppVersion.V16)
    message_id, frame = station.send_call("Heartbeat", v16.HeartbeatRequest())
    with pytest.raises(LocalProtocolError, match="no unanswered CALL"):
        csms.send_result(message_id, v16.HeartbeatResponse(current_time=NOW))
    csms.receive_message(frame)
    with pytest.raises(LocalProtocolError, match="invalid Heartbeat response"):
        csms.send_result(message_id, {"currentTime": "yesterday"})
    csms.send_result(message_id, v16.HeartbeatResponse(current_time=NOW))
    with pytest.raises(LocalProtocolError, match="no unanswered CALL"):
        csms.send_result(message_id, v16.HeartbeatResponse(current_time=NOW))


def test_call_error_becomes_a_typed_exception() -> None:
    station, csms = pair(OcppVersion.V201)
    message_id, frame = station.send_call("Heartbeat", v201.HeartbeatRequest())
    csms.receive_message(frame)
    reply = csms.send_error(message_id, ErrorCode.NOT_IMPLEMENTED, "no", {"hint": 1})
    event = station.receive_message(reply)
    assert isinstance(event, ErrorReceived)
    assert isinstance(event.error, NotImplementedCallError)
    assert (event.error.code, event.error.description, event.error.details) == (
        "NotImplemented",
        "no",
        {"hint": 1},
    )
    assert event.error.action == "Heartbeat"
    assert station.outstanding is None


@pytest.mark.parametrize(
    ("frame", "cls", "code", "details"),
    [
        ('[4,"{id}","OccurenceConstraintViolation","x",{{}}]', OccurrenceConstraintViolationCallError, "OccurenceConstraintViolation", {}),
        # 2.1 spelling, seen from newer peers
        ('[4,"{id}","OccurrenceConstraintViolation","x",{{}}]', OccurrenceConstraintViolationCallError, "OccurrenceConstraintViolation", {}),
        ('[4,"{id}","VendorSpecific","x",{{"a":1}}]', CallError, "VendorSpecific", {"a": 1}),
        ('[4,"{id}","GenericError","no details"]', CallError, "GenericError", {}),
        ('[4,"{id}","GenericError","bad details",[1]]', CallError, "GenericError", {}),
    ],
)  # fmt: skip
def test_call_error_variants(frame: str, cls: type[CallError], code: str, details: dict) -> None:
    station, _ = pair(OcppVersion.V16)
    message_id, _ = station.send_call("Heartbeat", v16.HeartbeatRequest())
    event = station.receive_message(frame.format(id=message_id))
    assert isinstance(event, ErrorReceived)
    assert isinstance(event.error, cls)
    assert (event.error.code, event.error.details) == (code, details)


def test_error_description_is_cut_to_255_characters() -> None:
    _, csms = pair(OcppVersion.V201)
    frame = json.loads(csms.send_error("abc", ErrorCode.GENERIC_ERROR, "x" * 1000))
    assert len(frame[3]) == 255
    assert frame[3].endswith("...")


def test_abandoned_call_answered_late_is_reported_as_late() -> None:
    station, csms = pair(OcppVersion.V16)
    message_id, frame = station.send_call("Heartbeat", v16.HeartbeatRequest())
    csms.receive_message(frame)
    station.abandon_call()
    assert station.outstanding is None
    late = csms.send_result(message_id, v16.HeartbeatResponse(current_time=NOW))
    assert station.receive_message(late) == UnexpectedReply(message_id, late=True)
    assert station.receive_message('[3,"stray",{}]') == UnexpectedReply("stray", late=False)


def test_invalid_result_payload_fails_the_outstanding_call() -> None:
    station, _ = pair(OcppVersion.V16)
    message_id, _ = station.send_call("Heartbeat", v16.HeartbeatRequest())
    event = station.receive_message(f'[3,"{message_id}",{{"currentTime":5}}]')
    assert isinstance(event, InvalidReply)
    assert event.error.code == ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert "$.currentTime" in event.error.description
    assert station.outstanding is None


def test_malformed_reply_frame_to_the_outstanding_call_fails_it() -> None:
    station, _ = pair(OcppVersion.V201)
    message_id, _ = station.send_call("Heartbeat", v201.HeartbeatRequest())
    event = station.receive_message(f'[3,"{message_id}"]')
    assert isinstance(event, InvalidReply)
    assert event.error.code == ErrorCode.FORMAT_VIOLATION
    assert station.outstanding is None


# frame, version, expected code, expected reply id (None: no reply is due)
GARBAGE = [
    ("not json", "ocpp2.0.1", "RpcFrameworkError", "-1"),
    ("not json", "ocpp1.6", "FormationViolation", None),
    ('{"a": 1}', "ocpp2.0.1", "RpcFrameworkError", "-1"),
    ("[]", "ocpp2.0.1", "RpcFrameworkError", "-1"),
    ("[2]", "ocpp2.0.1", "RpcFrameworkError", "-1"),
    ("[2, 17, \"Heartbeat\", {}]", "ocpp2.0.1", "RpcFrameworkError", "-1"),
    ('[7,"m1",{}]', "ocpp2.0.1", "MessageTypeNotSupported", "m1"),
    ('[7,"m1",{}]', "ocpp1.6", "FormationViolation", "m1"),
    ('["2","m1","Heartbeat",{}]', "ocpp2.0.1", "MessageTypeNotSupported", "m1"),
    ('[2,"m1"]', "ocpp1.6", "ProtocolError", "m1"),
    ('[2,"m1","Heartbeat"]', "ocpp2.0.1", "ProtocolError", "m1"),
    ('[2,"m1","Heartbeat",{},{}]', "ocpp2.0.1", "RpcFrameworkError", "m1"),
    ('[2,"m1",5,{}]', "ocpp1.6", "FormationViolation", "m1"),
    ('[2,"m1","NoSuchAction",{}]', "ocpp1.6", "NotImplemented", "m1"),
    ('[2,"m1","RequestStartTransaction",{}]', "ocpp1.6", "NotImplemented", "m1"),
    ('[2,"m1","RemoteStartTransaction",{"idTag":"1"}]', "ocpp1.6", "NotSupported", "m1"),
    ('[2,"m1","BootNotification",[]]', "ocpp1.6", "FormationViolation", "m1"),
    ('[2,"m1","BootNotification",[]]', "ocpp2.0.1", "FormatViolation", "m1"),
    ('[2,"m1","Heartbeat",{"x":1}]', "ocpp2.0.1", "FormatViolation", "m1"),
    ('[2,"m1","Authorize",{}]', "ocpp1.6", "OccurenceConstraintViolation", "m1"),
    ('[2,"m1","Authorize",{"idTag":7}]', "ocpp1.6", "TypeConstraintViolation", "m1"),
    ('[2,"m1","Authorize",{"idTag":"123456789012345678901"}]', "ocpp1.6", "TypeConstraintViolation", "m1"),
    ('[3,"m1",{}, 1]', "ocpp1.6", "FormationViolation", None),
    ('[4,"m1"]', "ocpp2.0.1", "FormatViolation", None),
]  # fmt: skip


@pytest.mark.parametrize(("frame", "version", "code", "reply_id"), GARBAGE)
def test_garbage_from_the_peer_becomes_an_event_with_the_right_answer(
    frame: str, version: str, code: str, reply_id: str | None
) -> None:
    _, csms = pair(OcppVersion(version))
    event = csms.receive_message(frame)
    assert isinstance(event, InvalidMessage)
    assert event.error.code == code
    assert event.error.description  # says what was wrong
    if reply_id is None:
        assert event.reply is None
    else:
        assert event.reply is not None
        assert json.loads(event.reply) == [4, reply_id, code, event.error.description, {}]
    # Nothing is left half-done: the endpoint has no unanswered call from it.
    assert csms.unanswered == {}


def test_bytes_are_read_like_text() -> None:
    station, csms = pair(OcppVersion.V16)
    _, frame = station.send_call("Heartbeat", v16.HeartbeatRequest())
    assert isinstance(csms.receive_message(frame.encode()), CallReceived)
    assert isinstance(csms.receive_message(b"\xff\xfe"), InvalidMessage)


def test_default_message_ids_are_unique_across_endpoints_and_fit_36_characters() -> None:
    ids = set()
    for _ in range(50):
        station = RpcEndpoint(OcppVersion.V16, Role.CHARGE_POINT)
        for _ in range(3):
            message_id, _ = station.send_call("Heartbeat", v16.HeartbeatRequest())
            station.abandon_call()
            assert len(message_id) <= 36
            ids.add(message_id)
    assert len(ids) == 150


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)
frame_like = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200),
    json_values.map(lambda v: json.dumps(v)),
    st.tuples(
        st.sampled_from([2, 3, 4, 5, "2", None]),
        st.text(max_size=40),
        st.sampled_from(["Heartbeat", "BootNotification", "Authorize", "X", ""]),
        json_values,
    ).map(lambda t: json.dumps(list(t))),
)


@settings(max_examples=300, deadline=None)
@given(data=frame_like, version=st.sampled_from(list(OcppVersion)))
def test_nothing_a_peer_sends_makes_the_endpoint_raise(
    data: str | bytes, version: OcppVersion
) -> None:
    station, csms = pair(version)
    station.send_call("Heartbeat", {})
    for endpoint in (station, csms):
        event = endpoint.receive_message(data)
        reply = getattr(event, "reply", None)
        if reply is not None:
            frame = msgspec.json.decode(reply)
            assert frame[0] == 4
            assert frame[2] in error_codes(version)
            assert len(frame[3]) <= 255
