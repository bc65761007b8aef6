"""What a CSMS's request makes a station do, tagged for the report's reaction times, and a
profile's answer overrides (issue 15 item 7), on virtual time.

`StationMachine.on_call` tags the message that shows a request done with (action, arrival);
the actor reports its reaction time when it goes out. Driven by `tests.test_station.Harness`.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from fleet.ocpp import CallError, ErrorCode, v16, v201
from fleet.profile import Distribution
from fleet.station import ConnectorState, Outgoing, StationMachine16
from tests.test_station import Harness, settings
from tests.test_station_reservations import call, remote_start, reserve
from tests.test_station_smart_charging import harness as charging
from tests.test_station_smart_charging import set_profile

VERSIONS = ("1.6", "2.0.1")


def idle(version: str, **overrides: Any) -> Harness:
    """One connector, no session of its own for a long while, booted at t=0."""
    values: dict[str, Any] = {
        "connectors": 1,
        "first_start": Distribution.constant(1000),
        "idle": Distribution.constant(1000),
        "length": Distribution.constant(100),
        "id_tags": ["OTHER"],
    }
    values.update(overrides)
    h = Harness(version, **values)
    h.machine.connected(0.0)
    h.run_until(2.0)
    assert h.machine.booted
    return h


def tagged(h: Harness, since: float = 0.0) -> list[tuple[float, str, tuple[str, float]]]:
    """(sent at, station action, (CSMS action, arrival)) of each tagged message sent."""
    return [
        (at, item.action, item.reaction)
        for at, item in h.sent
        if at >= since and item.reaction is not None
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_reserve_now_is_done_when_the_reserved_status_goes_out(version: str) -> None:
    h = idle(version)
    if version == "2.0.1":
        h.answer["ReservationStatusUpdate"] = v201.ReservationStatusUpdateResponse()
    arrival = h.now
    assert reserve(h, 5, 1, "TAG-R") == "Accepted"
    h.run_until(5.0)
    [(_, action, reaction)] = tagged(h)
    assert action == "StatusNotification" and reaction == ("ReserveNow", arrival)
    [(_, item)] = [(t, i) for t, i in h.sent if i.reaction is not None]
    status = item.payload.status if version == "1.6" else item.payload.connector_status
    assert status == "Reserved"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_refused_request_tags_nothing(version: str) -> None:
    h = idle(version)
    assert reserve(h, 5, 9, "TAG-R") in ("Rejected", "Unavailable")  # no such connector
    h.run_until(5.0)
    assert tagged(h) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_a_remote_start_is_done_when_its_start_message_goes_out(version: str) -> None:
    h = idle(version)
    arrival = h.now
    assert remote_start(h, "TAG-R") == "Accepted"
    h.run_until(5.0)
    start = "StartTransaction" if version == "1.6" else "TransactionEvent"
    action = "RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction"
    assert [(a, r) for _, a, r in tagged(h)] == [(start, (action, arrival))]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_trigger_message_is_done_when_the_triggered_message_goes_out(version: str) -> None:
    h = idle(version)
    arrival = h.now
    assert call(h, "TriggerMessage", {"requestedMessage": "Heartbeat"}).status == "Accepted"
    h.run_until(5.0)
    assert [(a, r) for _, a, r in tagged(h)] == [("Heartbeat", ("TriggerMessage", arrival))]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_reset_is_done_when_the_boot_after_the_reboot_goes_out(version: str) -> None:
    h = idle(version)
    arrival = h.now
    payload = {"type": "Soft"} if version == "1.6" else {"type": "Immediate"}
    assert call(h, "Reset", payload).status == "Accepted"
    assert h.machine.reboot_requested and h.machine.ready_to_reboot
    h.machine.disconnected(h.now)  # the actor closes and reconnects
    h.now += 3.0
    h.machine.connected(h.now)
    h.run_until(h.now + 1.0)
    [(at, action, reaction)] = tagged(h)
    assert action == "BootNotification" and reaction == ("Reset", arrival)
    assert at - arrival == pytest.approx(3.0)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_charging_profile_is_done_at_the_first_reading_at_the_new_limit(version: str) -> None:
    h = charging(version)  # charging at 11 kW, a sample every 5 s
    arrival = h.now
    assert set_profile(h, limit=7000.0).status == "Accepted"
    h.run_until(30.0)
    samples = "MeterValues" if version == "1.6" else "TransactionEvent"
    [(at, action, reaction)] = tagged(h)
    assert action == samples and reaction == ("SetChargingProfile", arrival)
    if version == "1.6":
        assert 0 < at - arrival <= 5.0  # the next sample, within one interval
    else:  # the TransactionEvent ChargingRateChanged, made at once
        [item] = [i for t, i in h.sent if i.reaction is not None]
        assert item.payload.trigger_reason == "ChargingRateChanged"
        assert 0 <= at - arrival < 0.1
    # A higher stack level above the EV's power lifts the limit: a change, a reaction.
    lifted = h.now
    set_profile(h, limit=50_000.0, profile_id=2, stack_level=1)
    h.run_until(60.0)
    assert [r for _, _, r in tagged(h)][1:] == [("SetChargingProfile", lifted)]
    # One that changes nothing (still above the EV's power) waits for nothing.
    set_profile(h, limit=60_000.0, profile_id=3, stack_level=2)
    h.run_until(90.0)
    assert len(tagged(h)) == 2


@pytest.mark.parametrize("version", VERSIONS)
def test_a_profile_whose_session_ends_first_leaves_no_stale_tag(version: str) -> None:
    h = charging(version, length=Distribution.constant(4.0))  # ends at t=9, before a sample
    assert set_profile(h, limit=7000.0).status in ("Accepted",)
    h.run_until(2000.0)
    # 1.6 waits for a sample that never comes; 2.0.1 said so at once (ChargingRateChanged).
    assert len(tagged(h)) == (0 if version == "1.6" else 1)


def override_settings(rules: dict[str, Any]) -> Any:
    return settings(
        connectors=1,
        first_start=Distribution.constant(1000),
        idle=Distribution.constant(1000),
        answer_overrides=rules,
    )


def test_answer_overrides_answer_their_share_of_calls_instead() -> None:
    def rejected(request: Any) -> Any:
        return v16.ReserveNowResponse(status=v16.ReservationStatus.REJECTED)

    def error(request: Any) -> Any:
        raise CallError(ErrorCode.INTERNAL_ERROR, "profile says so")

    rules = {"ReserveNow": ((0.25, rejected), (0.5, error))}
    machine = StationMachine16("ST-1", override_settings(rules), random.Random(3))
    machine.connected(0.0)
    machine.rng = random.Random(11)
    request = v16.ReserveNowRequest(
        connector_id=1,
        expiry_date=machine.wall(10_000),
        id_tag="T",
        reservation_id=1,
    )
    outcomes: dict[str, int] = {}
    draws = random.Random(11)  # the machine's own draws, replayed
    expected = {"Rejected": 0, "error": 0, "own": 0}
    for n in range(400):
        r = draws.random()
        expected["Rejected" if r < 0.25 else "error" if r < 0.5 else "own"] += 1
        try:
            answer = machine.on_call("ReserveNow", request, float(n))
            key = "own" if answer.status != "Rejected" else "Rejected"
        except CallError as exc:
            assert exc.code == ErrorCode.INTERNAL_ERROR
            key = "error"
        outcomes[key] = outcomes.get(key, 0) + 1
        if machine.reservations is not None:  # let the next one be accepted again
            machine.on_call(
                "CancelReservation", v16.CancelReservationRequest(reservation_id=1), float(n)
            )
    assert outcomes == expected
    assert 60 < expected["Rejected"] < 140 and 60 < expected["error"] < 140


def test_a_call_without_overrides_draws_nothing() -> None:
    machine = StationMachine16("ST-1", override_settings({}), random.Random(3))
    machine.connected(0.0)
    state = machine.rng.getstate()
    machine.on_call("GetConfiguration", v16.GetConfigurationRequest(), 0.0)
    assert machine.rng.getstate() == state
    assert machine.connectors[0].state is ConnectorState.AVAILABLE


def test_outgoing_messages_start_untagged() -> None:
    assert Outgoing("Heartbeat", v16.HeartbeatRequest(), 0.0, 0).reaction is None


@pytest.mark.parametrize("version", VERSIONS)
def test_a_remote_start_sends_its_status_before_its_start_message(version: str) -> None:
    """Made at the same instant, the connector's status goes first, as a charger sends them
    (1.6: Preparing, StartTransaction; 2.0.1 E01/F01: Occupied, TransactionEvent Started)."""
    h = idle(version)
    since = h.now
    assert remote_start(h, "TAG-R") == "Accepted"
    h.run_until(5.0)
    start = "StartTransaction" if version == "1.6" else "TransactionEvent"
    assert h.actions(since)[:2] == ["StatusNotification", start]
