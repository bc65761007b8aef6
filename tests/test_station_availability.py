"""ChangeAvailability on the simulated stations (issue 15, helper L's findings), on virtual
time: a change answered Scheduled is made when the session ends (1.6 5.2, 2.0.1 G03.FR.05 /
G04.FR.06), connector 0 is the 1.6 charge point's own status, a station-wide change is one
step, and a 2.0.1 station sends a status only when its connector's status changes.

Driven by `tests.test_station.Harness`; the CSMS's calls go straight to `on_call`.
"""

from __future__ import annotations

from typing import Any

import pytest

from fleet.profile import Distribution
from fleet.station import ConnectorState
from tests.test_station import Harness
from tests.test_station_reservations import call, remote_start, reserve, statuses

VERSIONS = ("1.6", "2.0.1")


def charging(version: str, **overrides: Any) -> Harness:
    """A station whose connector 1 charges from t=5 to t=45 (then idles 10 s)."""
    values: dict[str, Any] = {
        "connectors": 1,
        "first_start": Distribution.constant(5),
        "length": Distribution.constant(40),
        "idle": Distribution.constant(10),
    }
    values.update(overrides)
    h = Harness(version, **values)
    h.machine.connected(0.0)
    h.run_until(10.0)
    assert h.machine.connectors[0].state is ConnectorState.CHARGING
    return h


def change(h: Harness, operative: bool, connector: int | None) -> str:
    """ChangeAvailability of `connector` (None: the station: 1.6 connector 0, 2.0.1 no EVSE)."""
    if h.module.__name__.endswith("v16"):
        kind = "Operative" if operative else "Inoperative"
        payload: dict[str, Any] = {"connectorId": connector or 0, "type": kind}
    else:
        payload = {"operationalStatus": "Operative" if operative else "Inoperative"}
        if connector is not None:
            payload["evse"] = {"id": connector}
    return str(call(h, "ChangeAvailability", payload).status)


def starts(h: Harness, since: float = 0.0) -> int:
    return sum(
        1
        for at, item in h.sent
        if at >= since
        and (
            item.action == "StartTransaction"
            or (item.action == "TransactionEvent" and item.payload.event_type == "Started")
        )
    )


def tagged(h: Harness, action: str) -> list[tuple[float, Any]]:
    """The messages carrying `action`'s reaction: (sent at, message)."""
    return [(at, item) for at, item in h.sent if item.reaction and item.reaction[0] == action]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("station", [False, True])
def test_a_scheduled_inoperative_is_made_when_the_session_ends(version: str, station: bool) -> None:
    h = charging(version)
    assert change(h, False, None if station else 1) == "Scheduled"
    assert h.machine.connectors[0].state is ConnectorState.CHARGING  # the session goes on
    h.run_until(200.0)
    connector = h.machine.connectors[0]
    assert connector.state is ConnectorState.UNAVAILABLE
    assert starts(h) == 1  # no new session after it
    last = statuses(h, 40.0)[-1]
    assert last == "Unavailable"
    # The reaction is the status that shows the change done, at the session's end.
    ((at, item),) = tagged(h, "ChangeAvailability")
    assert at >= 45.0 and item.action == "StatusNotification"
    if version == "1.6" and station:
        assert item.payload.connector_id == 0 and item.payload.status == "Unavailable"
    else:
        assert item.payload == next(i.payload for a, i in h.sent if a == at)
    # Drivers and remote starts are refused meanwhile.
    assert remote_start(h, "TAG-1") == "Rejected"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_later_operative_cancels_a_scheduled_inoperative(version: str) -> None:
    h = charging(version)
    assert change(h, False, 1) == "Scheduled"
    assert change(h, True, 1) == "Accepted"  # a session's connector is Operative already
    h.run_until(100.0)
    assert starts(h) == 2  # the next session came as usual
    assert "Unavailable" not in statuses(h, 0.0)
    assert tagged(h, "ChangeAvailability") == []  # nothing was left to do


@pytest.mark.parametrize("version", VERSIONS)
def test_station_wide_inoperative_idles_now_and_schedules_the_busy(version: str) -> None:
    h = charging(version, connectors=2)
    assert h.machine.connectors[1].state is ConnectorState.CHARGING
    h.machine.connectors[1].stop_at = 20.0  # connector 2 ends first, 1 at 45
    h.run_until(30.0)
    assert h.machine.connectors[1].state is ConnectorState.AVAILABLE
    assert change(h, False, None) == "Scheduled"
    # The idle one is Unavailable at once (2.0.1 G04.FR.07), the busy one when it ends.
    assert h.machine.connectors[1].state is ConnectorState.UNAVAILABLE
    assert not h.machine.inoperative
    h.run_until(200.0)
    assert [c.state for c in h.machine.connectors] == [ConnectorState.UNAVAILABLE] * 2
    assert h.machine.inoperative
    assert starts(h, 30.0) == 0
    assert len(tagged(h, "ChangeAvailability")) == 1
    if version == "2.0.1":
        found = call(
            h,
            "GetVariables",
            {
                "getVariableData": [
                    {
                        "component": {"name": "ChargingStation"},
                        "variable": {"name": "AvailabilityState"},
                    }
                ]
            },
        )
        assert found.get_variable_result[0].attribute_value == "Unavailable"


def test_connector_zero_reports_the_charge_point_1_6() -> None:
    h = Harness("1.6", connectors=2, first_start=Distribution.constant(1000))
    h.machine.connected(0.0)
    h.run_until(2.0)
    assert change(h, False, None) == "Accepted"
    h.run_until(3.0)
    assert statuses(h, 2.0, connector=0) == ["Unavailable"]
    assert statuses(h, 2.0, connector=1) == ["Unavailable"]
    assert change(h, True, None) == "Accepted"
    h.run_until(4.0)
    assert statuses(h, 3.0, connector=0) == ["Available"]
    assert statuses(h, 3.0, connector=2) == ["Available"]
    # A trigger reads it as it is.
    change(h, False, None)
    call(h, "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 0})
    h.run_until(5.0)
    assert statuses(h, 4.0, connector=0)[-1] == "Unavailable"


@pytest.mark.parametrize("version", VERSIONS)
def test_station_wide_change_does_not_flap_reserved(version: str) -> None:
    h = Harness(version, connectors=2, first_start=Distribution.constant(1000))
    if version == "2.0.1":
        h.answer["ReservationStatusUpdate"] = h.module.ReservationStatusUpdateResponse()
    h.machine.connected(0.0)
    h.run_until(2.0)
    assert reserve(h, 7, 0, "R0") == "Accepted"  # any connector: one shows Reserved
    h.run_until(3.0)
    assert change(h, False, None) == "Accepted"
    h.run_until(4.0)
    for connector in (1, 2):
        assert statuses(h, 3.0, connector) == ["Unavailable"]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.6", ["Available", "Preparing", "Charging", "Finishing", "Available"]),
        ("2.0.1", ["Available", "Occupied", "Available"]),
    ],
)
def test_a_session_sends_one_status_per_change(version: str, expected: list[str]) -> None:
    # 2.0.1 has one Occupied for a session's Preparing, Charging and Finishing (G01): it
    # repeated it before Authorize, after TransactionEvent Started and after Ended.
    h = charging(version, idle=Distribution.constant(1000))
    h.run_until(100.0)
    assert starts(h) == 1
    assert statuses(h, 0.0) == expected
    # A trigger sends its status even when unchanged; a boot reports every connector again.
    if version == "2.0.1":
        trigger = {"requestedMessage": "StatusNotification", "evse": {"id": 1}}
    else:
        trigger = {"requestedMessage": "StatusNotification", "connectorId": 1}
    assert call(h, "TriggerMessage", trigger).status == "Accepted"
    h.run_until(101.0)
    assert statuses(h, 100.0) == ["Available"]
    h.machine.disconnected(h.now)
    h.machine.connected(h.now)
    h.run_until(103.0)
    assert statuses(h, 101.0) == ["Available"]


@pytest.mark.parametrize("version", VERSIONS)
def test_an_operative_for_the_busy_connector_ends_a_scheduled_station_change(version: str) -> None:
    h = charging(version, connectors=2)
    h.machine.connectors[1].stop_at = 20.0
    h.run_until(30.0)
    assert change(h, False, None) == "Scheduled"  # connector 2 now, connector 1 at its end
    assert change(h, True, 1) == "Accepted"  # connector 1 stays Operative
    h.run_until(100.0)
    first, second = h.machine.connectors
    assert second.state is ConnectorState.UNAVAILABLE
    assert first.state is not ConnectorState.UNAVAILABLE and starts(h, 30.0) == 1
    assert not h.machine.inoperative and h.machine.station_pending is None
    assert tagged(h, "ChangeAvailability") == []  # the station-wide change never completed
