"""Reservations wired into the simulated stations (issue 15 item 2), on virtual time.

The machines are driven by `tests.test_station.Harness` (a fake clock, the embedded CSMS's
answers); ReserveNow and CancelReservation go straight to `on_call`, as the actor does.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest

from fleet.ocpp import v16, v201
from fleet.profile import Distribution
from fleet.station import ConnectorState
from tests.test_station import Harness

VERSIONS = ("1.6", "2.0.1")


def harness(version: str, **overrides: Any) -> Harness:
    """One idle connector (no session of its own for a long while), booted at t=0."""
    values: dict[str, Any] = {
        "connectors": 1,
        "first_start": Distribution.constant(1000),
        "idle": Distribution.constant(1000),
        "length": Distribution.constant(100),
        "id_tags": ["OTHER"],
    }
    values.update(overrides)
    h = Harness(version, **values)
    if version == "2.0.1":
        h.answer["ReservationStatusUpdate"] = v201.ReservationStatusUpdateResponse()
    h.machine.connected(0.0)
    h.run_until(2.0)
    assert h.machine.booted
    return h


def call(h: Harness, action: str, payload: dict[str, Any]) -> Any:
    """Send the station a CALL as it comes off the wire (decoded and validated), and check
    its answer against the schema too."""
    spec = h.module.ACTIONS[action]
    request = spec.request_decoder.decode(msgspec.json.encode(payload))
    response = h.machine.on_call(action, request, h.now)
    spec.response_decoder.decode(msgspec.json.encode(response))
    return response


def reserve(h: Harness, rid: int, connector: int, token: str, expires_in: float = 600) -> str:
    expiry = h.machine.wall(h.now + expires_in).isoformat()
    if h.module is v16:
        payload = {"connectorId": connector, "expiryDate": expiry, "idTag": token}
        payload["reservationId"] = rid
    else:
        payload = {"id": rid, "expiryDateTime": expiry}
        payload["idToken"] = {"idToken": token, "type": "ISO14443"}
        if connector:
            payload["evseId"] = connector
    return str(call(h, "ReserveNow", payload).status)


def cancel(h: Harness, rid: int) -> str:
    return str(call(h, "CancelReservation", {"reservationId": rid}).status)


def remote_start(h: Harness, token: str, connector: int = 1) -> str:
    if h.module is v16:
        payload: dict[str, Any] = {"idTag": token, "connectorId": connector}
        return str(call(h, "RemoteStartTransaction", payload).status)
    payload = {"idToken": {"idToken": token, "type": "ISO14443"}, "remoteStartId": 9}
    payload["evseId"] = connector
    return str(call(h, "RequestStartTransaction", payload).status)


def set_inoperative(h: Harness, connector: int = 1) -> None:
    if h.module is v16:
        call(h, "ChangeAvailability", {"connectorId": connector, "type": "Inoperative"})
    else:
        payload = {"operationalStatus": "Inoperative", "evse": {"id": connector}}
        call(h, "ChangeAvailability", payload)


def statuses(h: Harness, since: float, connector: int = 1) -> list[str]:
    out = []
    for at, item in h.sent:
        if at < since or item.action != "StatusNotification":
            continue
        p = item.payload
        if h.module is v16:
            if p.connector_id == connector:
                out.append(str(p.status))
        elif p.evse_id == connector:
            out.append(str(p.connector_status))
    return out


def updates(h: Harness) -> list[tuple[int, str]]:
    return [
        (item.payload.reservation_id, str(item.payload.reservation_update_status))
        for _, item in h.sent
        if item.action == "ReservationStatusUpdate"
    ]


def starts(h: Harness) -> list[Any]:
    """The start messages: 1.6 StartTransaction, 2.0.1 TransactionEvent Started."""
    return [
        item.payload
        for _, item in h.sent
        if item.action == "StartTransaction"
        or (item.action == "TransactionEvent" and item.payload.event_type == "Started")
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_reserve_now_shows_reserved_and_cancel_frees_the_connector(version: str) -> None:
    h = harness(version)
    since = h.now
    assert reserve(h, 7, 1, "VIP") == "Accepted"
    h.run_until(h.now + 1)
    assert statuses(h, since) == ["Reserved"]
    assert cancel(h, 7) == "Accepted"
    h.run_until(h.now + 1)
    assert statuses(h, since) == ["Reserved", "Available"]
    assert cancel(h, 7) == "Rejected"  # no longer known
    assert h.machine.reservation_expiry_at == math.inf
    assert updates(h) == []  # a cancel sends no ReservationStatusUpdate


@pytest.mark.parametrize("version", VERSIONS)
def test_expiry_frees_the_connector(version: str) -> None:
    h = harness(version)
    since = h.now
    assert reserve(h, 3, 1, "VIP", expires_in=30) == "Accepted"
    h.run_until(h.now + 29)
    assert statuses(h, since) == ["Reserved"]
    h.run_until(h.now + 2)
    assert statuses(h, since) == ["Reserved", "Available"]
    assert updates(h) == ([(3, "Expired")] if version == "2.0.1" else [])
    assert h.machine.reservation_expiry_at == math.inf
    assert cancel(h, 3) == "Rejected"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_remote_start_with_the_reserved_token_uses_the_reservation(version: str) -> None:
    h = harness(version)
    assert reserve(h, 11, 1, "VIP") == "Accepted"
    h.run_until(h.now + 1)
    assert remote_start(h, "OTHER") == "Rejected"  # reserved for someone else
    assert remote_start(h, "vip") == "Accepted"  # tokens compare case-insensitively
    h.run_until(h.now + 5)
    assert h.machine.connectors[0].state is ConnectorState.CHARGING
    (start,) = starts(h)
    assert start.reservation_id == 11
    assert h.machine.reservations is not None and 11 not in h.machine.reservations
    assert h.machine.reservation_expiry_at == math.inf
    assert updates(h) == []  # used: the transaction says so
    # After the session the connector is Available, not Reserved.
    h.run_until(h.now + 200)
    assert statuses(h, 0)[-1] == "Available"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_local_session_of_the_reserved_token_uses_it_and_another_is_refused(
    version: str,
) -> None:
    # The drivers here are all VIP: the session due at t=5 uses the reservation.
    h = harness(version, first_start=Distribution.constant(5), id_tags=["VIP"])
    assert reserve(h, 4, 1, "VIP") == "Accepted"
    h.run_until(10)
    (start,) = starts(h)
    assert start.reservation_id == 4
    # Drivers with another token: refused on the reserved connector, which stays Reserved.
    h = harness(version, first_start=Distribution.constant(5), id_tags=["OTHER"])
    assert reserve(h, 4, 1, "VIP") == "Accepted"
    h.run_until(100)
    assert starts(h) == []
    assert "Authorize" not in h.actions()
    assert statuses(h, 0)[-1] == "Reserved"
    # Without a reservation the same station charges as ever.
    assert cancel(h, 4) == "Accepted"
    h.run_until(h.now + 1100)
    assert len(starts(h)) == 1
    assert starts(h)[0].reservation_id is msgspec.UNSET


@pytest.mark.parametrize("version", VERSIONS)
def test_refusals(version: str) -> None:
    # Occupied: in a session, or reserved by another reservation.
    h = harness(version, first_start=Distribution.constant(3))
    h.run_until(5)
    assert h.machine.connectors[0].state is ConnectorState.CHARGING
    assert reserve(h, 1, 1, "VIP") == "Occupied"
    h = harness(version)
    assert reserve(h, 1, 1, "VIP") == "Accepted"
    assert reserve(h, 2, 1, "VIP2") == "Occupied"
    assert reserve(h, 1, 1, "VIP3") == "Accepted"  # the same id replaces it
    # No such connector; an expiry already past.
    assert reserve(h, 5, 9, "VIP") == "Rejected"
    h = harness(version, connectors=2)
    assert reserve(h, 5, 2, "VIP", expires_in=-10) == "Rejected"
    # Unavailable (ChangeAvailability Inoperative).
    h = harness(version)
    set_inoperative(h)
    assert reserve(h, 1, 1, "VIP") == "Unavailable"


@pytest.mark.parametrize("version", VERSIONS)
def test_rejected_when_reservations_are_off(version: str) -> None:
    h = harness(version)
    if version == "1.6":
        # No Reservation feature profile.
        h.machine.configuration["SupportedFeatureProfiles"] = ("Core,SmartCharging", True)
    else:
        payload = {
            "setVariableData": [
                {
                    "component": {"name": "ReservationCtrlr"},
                    "variable": {"name": "Enabled"},
                    "attributeValue": "false",
                }
            ]
        }
        result = call(h, "SetVariables", payload).set_variable_result[0]
        assert result.attribute_status == "Accepted"
    assert reserve(h, 1, 1, "VIP") == "Rejected"
    assert statuses(h, 0) == ["Available"]


@pytest.mark.parametrize("version", VERSIONS)
def test_any_connector_reservations_follow_the_configuration(version: str) -> None:
    h = harness(version, connectors=2)
    since = h.now
    assert reserve(h, 1, 0, "VIP") == "Accepted"
    assert reserve(h, 2, 0, "VIP2") == "Accepted"
    h.run_until(h.now + 1)
    # Both reservations need both connectors: both show Reserved.
    assert statuses(h, since, 1) == ["Reserved"]
    assert statuses(h, since, 2) == ["Reserved"]
    assert reserve(h, 3, 0, "VIP3") == "Occupied"
    h = harness(version, connectors=2)
    if version == "1.6":
        h.machine.configuration["ReserveConnectorZeroSupported"] = ("false", True)
    else:
        h.machine.variables["ReservationCtrlr", "NonEvseSpecific"] = ("false", True)
    assert reserve(h, 1, 0, "VIP") == "Rejected"


def test_an_evse_made_unavailable_removes_its_reservation_201() -> None:
    h = harness("2.0.1")
    since = h.now
    assert reserve(h, 8, 1, "VIP") == "Accepted"
    set_inoperative(h)
    h.run_until(h.now + 1)
    assert statuses(h, since) == ["Reserved", "Unavailable"]
    assert updates(h) == [(8, "Removed")]


@pytest.mark.parametrize("version", VERSIONS)
def test_no_book_for_a_station_never_given_a_reservation(version: str) -> None:
    h = harness(version, first_start=Distribution.constant(3), length=Distribution.constant(10))
    h.run_until(100)
    assert len(starts(h)) == 1
    assert h.machine.reservations is None
    assert h.machine.reservation_expiry_at == math.inf
