"""TriggerMessage (1.6 5.17 and the Security Whitepaper's ExtendedTriggerMessage; 2.0.1 F06)
on the simulated stations, on virtual time: every message each version allows, Accepted only
when it then follows, and what follows says what the station is doing (a Reserved connector,
a charging session's register, the firmware update or log upload under way).

The machines are driven by `tests.test_station.Harness`; the CSMS's calls go straight to
`on_call`, decoded from JSON as off the wire, and every message sent is schema-checked.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from fleet.ocpp import v16, v201
from fleet.profile import Distribution
from fleet.station import ConnectorState, Outgoing
from tests.test_station import Harness

VERSIONS = ("1.6", "2.0.1")
FIRMWARE = "https://firmware.example.com/fw-2.bin"
UPLOAD = "https://logs.example.com/upload"


def harness(version: str, **overrides: Any) -> Harness:
    """One connector, booted at t=0, charging from t=5 for a long session."""
    values: dict[str, Any] = {
        "connectors": 1,
        "first_start": Distribution.constant(5),
        "length": Distribution.constant(10_000),
        "id_tags": ["TAG-1"],
    }
    values.update(overrides)
    h = Harness(version, **values)
    for action, response in (
        ("FirmwareStatusNotification", "FirmwareStatusNotificationResponse"),
        ("LogStatusNotification", "LogStatusNotificationResponse"),
        ("DiagnosticsStatusNotification", "DiagnosticsStatusNotificationResponse"),
        ("SignedFirmwareStatusNotification", "SignedFirmwareStatusNotificationResponse"),
        ("PublishFirmwareStatusNotification", "PublishFirmwareStatusNotificationResponse"),
        ("ReservationStatusUpdate", "ReservationStatusUpdateResponse"),
    ):
        if hasattr(h.module, response):
            h.answer[action] = getattr(h.module, response)()
    h.machine.connected(0.0)
    h.run_until(2.0)
    assert h.machine.booted
    return h


def call(h: Harness, action: str, payload: dict[str, Any]) -> Any:
    """A CALL as it comes off the wire (decoded and validated); its answer checked too."""
    spec = h.module.ACTIONS[action]
    request = spec.request_decoder.decode(msgspec.json.encode(payload))
    response = h.machine.on_call(action, request, h.now)
    spec.response_decoder.decode(msgspec.json.encode(response))
    return response


def trigger(h: Harness, message: str, *, where: int | None = None, extended: bool = False) -> str:
    """(Extended)TriggerMessage for `message` (`where`: 1.6 connectorId, 2.0.1 evse id)."""
    payload: dict[str, Any] = {"requestedMessage": message}
    if where is not None:
        if h.module is v16:
            payload["connectorId"] = where
        else:
            payload["evse"] = {"id": where}
    action = "ExtendedTriggerMessage" if extended else "TriggerMessage"
    return str(call(h, action, payload).status)


def sent_after(h: Harness, since: float, action: str) -> list[Outgoing]:
    """What the station sent of `action` since `since`, but its periodic samples."""
    return [
        item for at, item in h.sent if at >= since and item.action == action and not item.periodic
    ]


def triggered(h: Harness, message: str, action: str | None = None, **kw: Any) -> list[Outgoing]:
    """Trigger `message` (Accepted), run a moment; what the station sent of `action`. Each is
    tagged as the trigger's reaction, for the report."""
    since = h.now
    assert trigger(h, message, **kw) == "Accepted"
    h.run_until(h.now + 0.5)
    out = sent_after(h, since, action or message)
    assert out, f"nothing followed a triggered {message}"
    trigger_action = "ExtendedTriggerMessage" if kw.get("extended") else "TriggerMessage"
    assert out[0].reaction == (trigger_action, since)
    return out


def last_status(h: Harness, action: str) -> str:
    return str([item for _, item in h.sent if item.action == action][-1].payload.status)  # type: ignore[attr-defined]


# -- both versions ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_heartbeat(version: str) -> None:
    h = harness(version)
    (beat,) = triggered(h, "Heartbeat")
    assert beat.intended_at == pytest.approx(2.0)


@pytest.mark.parametrize("version", VERSIONS)
def test_boot_notification(version: str) -> None:
    if version == "1.6":
        h = harness(version)  # 1.6: any time, even registered
        (boot,) = triggered(h, "BootNotification")
        assert h.machine.booted
    else:
        h = harness(version)
        assert trigger(h, "BootNotification") == "Rejected"  # F06.FR.17: already Accepted
        h = Harness(version, connectors=1)

        def pending(item: Outgoing) -> Any:
            answer = {"status": "Pending", "currentTime": "2026-01-01T00:00:00Z", "interval": 300}
            return msgspec.convert(answer, v201.BootNotificationResponse)

        h.answer["BootNotification"] = pending
        h.machine.connected(0.0)
        h.run_until(2.0)
        assert h.actions() == ["BootNotification"]
        (boot,) = triggered(h, "BootNotification")  # at once, not in 300 s
        assert boot.payload.reason == "Triggered"  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", VERSIONS)
def test_status_notification_reports_the_real_status_reserved_included(version: str) -> None:
    h = harness(version, first_start=Distribution.constant(1000))
    expiry = h.machine.wall(h.now + 600).isoformat()
    if version == "1.6":
        reserve: dict[str, Any] = {"connectorId": 1, "expiryDate": expiry, "idTag": "VIP"}
        reserve["reservationId"] = 1
    else:
        reserve = {"id": 1, "expiryDateTime": expiry, "evseId": 1}
        reserve["idToken"] = {"idToken": "VIP", "type": "ISO14443"}
    assert str(call(h, "ReserveNow", reserve).status) == "Accepted"
    h.run_until(h.now + 1)
    (status,) = triggered(h, "StatusNotification", where=1)
    p: Any = status.payload
    assert (p.status if version == "1.6" else p.connector_status) == "Reserved"
    assert trigger(h, "StatusNotification", where=7) == "Rejected"  # no such connector
    # No connector given: all of them (1.6: and the charge point itself, connector 0).
    everyone = triggered(h, "StatusNotification")
    if version == "1.6":
        assert [i.payload.connector_id for i in everyone] == [0, 1]  # type: ignore[attr-defined]
    else:
        assert [i.payload.evse_id for i in everyone] == [1]  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", VERSIONS)
def test_meter_values_read_the_register(version: str) -> None:
    h = harness(version)
    h.run_until(20.0)
    connector = h.machine.connectors[0]
    assert connector.state is ConnectorState.CHARGING
    (reading,) = triggered(h, "MeterValues", where=1)
    p: Any = reading.payload
    values = {s.measurand: s for s in p.meter_value[0].sampled_value}
    register = values["Energy.Active.Import.Register"]
    assert str(register.context) == "Trigger"
    assert float(register.value) == pytest.approx(connector.energy_wh, abs=1.0)
    if version == "1.6":
        assert p.transaction_id == connector.transaction_id
        (main,) = triggered(h, "MeterValues", where=0)  # the charge point's main meter
        assert main.payload.connector_id == 0  # type: ignore[attr-defined]
    else:
        assert p.evse_id == 1
        (main,) = triggered(h, "MeterValues", where=0)
        assert main.payload.evse_id == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", VERSIONS)
def test_firmware_status_notification_reports_the_update_under_way(version: str) -> None:
    h = harness(version)
    idle = triggered(h, "FirmwareStatusNotification")[0].payload
    assert idle.status == "Idle"  # type: ignore[attr-defined]
    retrieve = h.machine.wall(h.now).isoformat()
    if version == "1.6":
        answer = call(h, "UpdateFirmware", {"location": FIRMWARE, "retrieveDate": retrieve})
    else:
        firmware = {"location": FIRMWARE, "retrieveDateTime": retrieve}
        answer = call(h, "UpdateFirmware", {"requestId": 5, "firmware": firmware})
        assert answer.status == "Accepted"
    h.run_until(h.now + 5)  # downloading (30 s by default)
    reported = last_status(h, "FirmwareStatusNotification")
    assert reported == "Downloading"
    now = triggered(h, "FirmwareStatusNotification")[0].payload
    assert now.status == reported  # type: ignore[attr-defined]
    if version == "2.0.1":
        assert now.request_id == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", VERSIONS)
def test_log_status_notification_reports_the_upload_under_way(version: str) -> None:
    h = harness(version)
    extended = version == "1.6"  # 1.6: only ExtendedTriggerMessage knows it
    idle = triggered(h, "LogStatusNotification", extended=extended)[0].payload
    assert idle.status == "Idle"  # type: ignore[attr-defined]
    payload = {"logType": "DiagnosticsLog", "requestId": 9, "log": {"remoteLocation": UPLOAD}}
    assert str(call(h, "GetLog", payload).status) == "Accepted"
    h.run_until(h.now + 2)  # uploading (10 s by default)
    assert last_status(h, "LogStatusNotification") == "Uploading"
    now = triggered(h, "LogStatusNotification", extended=extended)[0].payload
    assert now.status == "Uploading" and now.request_id == 9  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", VERSIONS)
def test_nothing_but_a_boot_while_rejected(version: str) -> None:
    h = Harness(version, connectors=1)

    def rejected(item: Outgoing) -> Any:
        answer = {"status": "Rejected", "currentTime": "2026-01-01T00:00:00Z", "interval": 300}
        return msgspec.convert(answer, h.module.BootNotificationResponse)

    h.answer["BootNotification"] = rejected
    h.machine.connected(0.0)
    h.run_until(2.0)
    for message in ("Heartbeat", "StatusNotification", "MeterValues"):
        assert trigger(h, message) == "Rejected"
    assert trigger(h, "BootNotification") == "Accepted"


# -- OCPP 1.6 --------------------------------------------------------------------------------


def test_diagnostics_status_notification_1_6() -> None:
    h = harness("1.6")
    idle = triggered(h, "DiagnosticsStatusNotification")[0].payload
    assert idle.status == "Idle"  # type: ignore[attr-defined]
    call(h, "GetDiagnostics", {"location": "ftp://logs.example.com/diagnostics/"})
    h.run_until(h.now + 2)
    assert last_status(h, "DiagnosticsStatusNotification") == "Uploading"
    busy = triggered(h, "DiagnosticsStatusNotification")[0].payload
    assert busy.status == "Uploading"  # type: ignore[attr-defined]


def test_extended_trigger_message_1_6() -> None:
    h = harness("1.6")
    h.run_until(20.0)
    triggered(h, "Heartbeat", extended=True)
    (status,) = triggered(h, "StatusNotification", where=1, extended=True)
    assert status.payload.status == "Charging"  # type: ignore[attr-defined]
    (reading,) = triggered(h, "MeterValues", where=1, extended=True)
    assert reading.payload.transaction_id == h.machine.connectors[0].transaction_id  # type: ignore[attr-defined]
    # The whitepaper's firmware status is SignedFirmwareStatusNotification.
    (firmware,) = triggered(
        h, "FirmwareStatusNotification", "SignedFirmwareStatusNotification", extended=True
    )
    assert firmware.payload.status == "Idle"  # type: ignore[attr-defined]
    triggered(h, "BootNotification", extended=True)
    # No key pair, no certificate signing request: not implemented here.
    assert trigger(h, "SignChargePointCertificate", extended=True) == "NotImplemented"
    assert trigger(h, "StatusNotification", where=5, extended=True) == "Rejected"


# -- OCPP 2.0.1 ------------------------------------------------------------------------------


def test_transaction_event_2_0_1() -> None:
    h = harness("2.0.1", first_start=Distribution.constant(30))
    assert trigger(h, "TransactionEvent") == "Rejected"  # no transaction
    h.run_until(40.0)
    connector = h.machine.connectors[0]
    (event,) = triggered(h, "TransactionEvent", where=1)
    p: Any = event.payload
    assert (p.event_type, p.trigger_reason) == ("Updated", "Trigger")
    assert p.transaction_info.transaction_id == connector.transaction_id
    assert p.transaction_info.charging_state == "Charging"
    seq = [i.payload.seq_no for _, i in h.sent if i.action == "TransactionEvent"]  # type: ignore[attr-defined]
    assert seq == list(range(len(seq)))  # in its order, with its seqNo


def test_publish_firmware_and_certificates_2_0_1() -> None:
    h = harness("2.0.1")
    (publish,) = triggered(h, "PublishFirmwareStatusNotification")
    assert publish.payload.status == "Idle"  # type: ignore[attr-defined]
    for message in (
        "SignChargingStationCertificate",
        "SignV2GCertificate",
        "SignCombinedCertificate",
    ):
        assert trigger(h, message) == "NotImplemented"
    assert trigger(h, "StatusNotification", where=0) == "Rejected"  # EVSE 0 has no connector
