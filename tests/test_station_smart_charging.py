"""Smart charging wired into the simulated stations (issue 15 item 1), on virtual time.

The machines are driven by `tests.test_station.Harness` (a fake clock, the embedded CSMS's
answers); the CSMS's smart charging calls go straight to `on_call`, as the actor does.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from fleet.ocpp import v16
from fleet.profile import Distribution
from fleet.station import ConnectorState
from tests.test_station import Harness

VERSIONS = ("1.6", "2.0.1")


def harness(version: str, **overrides: Any) -> Harness:
    """One connector charging at 11 kW from t=5 s for a long session, a sample every 5 s."""
    values: dict[str, Any] = {
        "connectors": 1,
        "first_start": Distribution.constant(5),
        "length": Distribution.constant(10_000),
        "power_kw": Distribution.constant(11),
        "meter_interval": 5.0,
    }
    values.update(overrides)
    h = Harness(version, **values)
    h.machine.connected(0.0)
    h.run_until(8.0)
    assert h.machine.connectors[0].state is ConnectorState.CHARGING
    return h


def readings(h: Harness, since: float) -> list[tuple[float, float, float, float]]:
    """(time, register Wh, power W, current A) of each periodic sample sent since `since`."""
    out = []
    for at, item in h.sent:
        if at < since:
            continue
        p = item.payload
        if (item.action == "MeterValues" and h.module is v16) or (
            item.action == "TransactionEvent" and p.event_type == "Updated"
        ):
            mv = p.meter_value[0]
        else:
            continue
        by = {s.measurand: float(s.value) for s in mv.sampled_value}
        stamp = mv.timestamp.timestamp()
        out.append(
            (
                stamp,
                by["Energy.Active.Import.Register"],
                by["Power.Active.Import"],
                by["Current.Import"],
            )
        )
    return out


def slope_w(samples: list[tuple[float, float, float, float]]) -> float:
    """The register's average slope (W) from the first sample to the last."""
    (t0, e0, *_), (t1, e1, *_) = samples[0], samples[-1]
    return (e1 - e0) * 3600 / (t1 - t0)


def wall(h: Harness, seconds: float) -> dt.datetime:
    return h.machine.wall(seconds)


def call(h: Harness, action: str, payload: dict[str, Any]) -> Any:
    """Send the station a CALL as it comes off the wire (decoded and validated)."""
    request = h.module.ACTIONS[action].request_decoder.decode(msgspec.json.encode(payload))
    return h.machine.on_call(action, request, h.now)


def set_profile(
    h: Harness,
    *,
    purpose: str = "TxDefaultProfile",
    evse: int = 0,
    limit: float = 7000.0,
    unit: str = "W",
    stack_level: int = 0,
    profile_id: int = 1,
    periods: list[tuple[int, float]] | None = None,
    duration: int | None = None,
    transaction_id: Any = None,
) -> Any:
    """SetChargingProfile: an Absolute profile starting at t=0 (both versions)."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": s, "limit": v} for s, v in (periods or [(0, limit)])
        ],
        "startSchedule": wall(h, 0).isoformat(),
    }
    if duration is not None:
        schedule["duration"] = duration
    profile: dict[str, Any] = {
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    if h.module is v16:
        profile |= {"chargingProfileId": profile_id, "chargingSchedule": schedule}
        payload = {"connectorId": evse, "csChargingProfiles": profile}
    else:
        profile |= {"id": profile_id, "chargingSchedule": [schedule | {"id": 1}]}
        payload = {"evseId": evse, "chargingProfile": profile}
    return call(h, "SetChargingProfile", payload)


def clear_all(h: Harness) -> Any:
    return call(h, "ClearChargingProfile", {})


def composite(h: Harness, evse: int = 1, unit: str = "W") -> list[tuple[int, float]]:
    if h.module is v16:
        payload = {"connectorId": evse, "duration": 3600, "chargingRateUnit": unit}
        answer = call(h, "GetCompositeSchedule", payload)
        assert answer.status == "Accepted"
        periods = answer.charging_schedule.charging_schedule_period
    else:
        payload = {"evseId": evse, "duration": 3600, "chargingRateUnit": unit}
        answer = call(h, "GetCompositeSchedule", payload)
        assert answer.status == "Accepted"
        periods = answer.schedule.charging_schedule_period
    return [(p.start_period, p.limit) for p in periods]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_7_kw_tx_default_profile_brings_power_and_register_slope_down(version: str) -> None:
    h = harness(version)
    h.run_until(60.0)
    before = readings(h, 8.0)
    assert min(r[2] for r in before) > 10_000 and slope_w(before) > 10_000
    assert set_profile(h, limit=7000.0).status == "Accepted"
    changed = h.now
    h.run_until(125.0)
    after = readings(h, changed)
    assert len(after) >= 12
    assert all(r[2] <= 7000.0 for r in after)  # every sample's power
    assert all(r[3] <= 7000.0 / 230.0 + 0.05 for r in after)  # and current
    assert 6000.0 < slope_w(after) <= 7000.0  # and the register's slope
    assert composite(h) == [(0, 7000.0)]


@pytest.mark.parametrize("version", VERSIONS)
def test_clearing_the_profile_restores_the_evs_power(version: str) -> None:
    h = harness(version)
    assert set_profile(h, limit=7000.0).status == "Accepted"
    h.run_until(60.0)
    assert clear_all(h).status == "Accepted"
    cleared = h.now
    h.run_until(125.0)
    after = readings(h, cleared)
    assert all(r[2] > 10_000 for r in after)
    assert slope_w(after) > 10_000
    assert composite(h) == [(0, 22080.0)]  # nothing limits it: the EVSE's hardware limit


@pytest.mark.parametrize("version", VERSIONS)
def test_an_ampere_profile_limits_per_phase(version: str) -> None:
    h = harness(version)
    assert set_profile(h, limit=10.0, unit="A").status == "Accepted"  # 3 x 10 A x 230 V
    since = h.now
    h.run_until(60.0)
    assert all(r[2] <= 6900.0 for r in readings(h, since))
    assert composite(h, unit="A") == [(0, 10.0)]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_power_follows_the_schedule_s_periods_and_end_on_virtual_time(version: str) -> None:
    """A schedule of 7 kW, then 4 kW from 40 s, for 80 s: the session follows each change
    at its instant (the machine's own timer), then gets the EV's power back."""
    h = harness(version)
    answer = set_profile(h, periods=[(0, 7000.0), (40, 4000.0)], duration=80)
    assert answer.status == "Accepted"
    assert h.machine.limit_change_at == pytest.approx(40.0, abs=1e-3)
    h.run_until(200.0)
    samples = readings(h, 8.0)
    by_time = [(t - wall(h, 0).timestamp(), p) for t, _, p, _ in samples]
    assert all(p <= 7000.0 for t, p in by_time if 10 <= t <= 40)
    assert all(p <= 4000.0 for t, p in by_time if 40 < t <= 80)
    assert all(p > 10_000 for t, p in by_time if t > 80)
    assert h.machine.limit_change_at == float("inf")  # nothing changes any more


@pytest.mark.parametrize("version", VERSIONS)
def test_a_tx_profile_ends_with_its_transaction(version: str) -> None:
    h = harness(version, length=Distribution.constant(50), idle=Distribution.constant(10))
    connector = h.machine.connectors[0]
    tx = connector.transaction_id
    answer = set_profile(h, purpose="TxProfile", evse=1, limit=5000.0, transaction_id=tx)
    assert answer.status == "Accepted"
    since = h.now
    h.run_until(50.0)
    assert all(r[2] <= 5000.0 for r in readings(h, since))
    h.run_until(56.0)  # the session ended at 55 s
    store = h.machine.smart_charging
    assert store is not None and store.profiles == ()
    h.run_until(100.0)  # the next session (from ~65 s) charges at the EV's power
    assert connector.transaction_id != tx
    assert all(r[2] > 10_000 for r in readings(h, 70.0))


@pytest.mark.parametrize("version", VERSIONS)
def test_profiles_survive_a_reconnect(version: str) -> None:
    h = harness(version)
    assert set_profile(h, limit=7000.0).status == "Accepted"
    h.run_until(20.0)
    h.machine.disconnected(h.now)
    h.machine.connected(h.now)
    back = h.now
    h.run_until(60.0)
    assert h.actions(back).count("BootNotification") == 1
    assert all(r[2] <= 7000.0 for r in readings(h, back))
    assert composite(h) == [(0, 7000.0)]


def test_invalid_profiles_are_rejected_1_6() -> None:
    h = harness("1.6")
    # A ChargePointMaxProfile is for connector 0 only (3.13.1).
    assert set_profile(h, purpose="ChargePointMaxProfile", evse=1).status == "Rejected"
    assert set_profile(h, stack_level=9).status == "Rejected"  # ChargeProfileMaxStackLevel 8
    # A TxProfile for a transaction that is not running (5.16).
    tx = h.machine.connectors[0].transaction_id
    answer = set_profile(h, purpose="TxProfile", evse=1, transaction_id=tx + 1)
    assert answer.status == "Rejected"
    assert h.machine.smart_charging is not None and h.machine.smart_charging.profiles == ()


def test_invalid_profiles_are_rejected_with_the_reason_2_0_1() -> None:
    h = harness("2.0.1")

    def reason(**kwargs: Any) -> tuple[str, str]:
        answer = set_profile(h, **kwargs)
        return answer.status, answer.status_info.reason_code

    assert reason(stack_level=9) == ("Rejected", "InvalidStackLevel")  # ProfileStackLevel 8
    assert reason(evse=3) == ("Rejected", "UnknownEvse")  # K01.FR.28
    assert reason(purpose="TxProfile", evse=1) == ("Rejected", "InvalidProfile")  # K01.FR.03
    assert reason(purpose="TxProfile", evse=1, transaction_id="nope") == (
        "Rejected",
        "TxNotFound",
    )  # K01.FR.33
    assert reason(periods=[(5, 7000.0)]) == ("Rejected", "InvalidSchedule")  # K01.FR.31


def test_disabled_smart_charging_is_rejected_2_0_1() -> None:
    h = harness("2.0.1")
    data = {
        "attributeValue": "false",
        "component": {"name": "SmartChargingCtrlr"},
        "variable": {"name": "Enabled"},
    }
    result = call(h, "SetVariables", {"setVariableData": [data]}).set_variable_result[0]
    assert result.attribute_status == "Accepted"
    answer = set_profile(h)
    assert (answer.status, answer.status_info.reason_code) == ("Rejected", "NotEnabled")


def test_get_charging_profiles_reports_them_2_0_1() -> None:
    h = harness("2.0.1")
    request = {"requestId": 3, "chargingProfile": {}}
    assert call(h, "GetChargingProfiles", request).status == "NoProfiles"
    assert set_profile(h, profile_id=7).status == "Accepted"
    assert call(h, "GetChargingProfiles", request).status == "Accepted"
    since = h.now
    h.run_until(h.now + 1)
    reports = [
        i.payload for at, i in h.sent if at >= since and i.action == "ReportChargingProfiles"
    ]
    assert len(reports) == 1
    assert reports[0].request_id == 3 and reports[0].evse_id == 0
    assert [p.id for p in reports[0].charging_profile] == [7]


def test_configuration_tells_what_the_store_allows_1_6() -> None:
    h = harness("1.6")
    answer = call(h, "GetConfiguration", {})
    keys = {k.key: k.value for k in answer.configuration_key}
    assert keys["ChargeProfileMaxStackLevel"] == "8"
    assert keys["ChargingScheduleAllowedChargingRateUnit"] == "Current,Power"
    assert "SmartCharging" in keys["SupportedFeatureProfiles"].split(",")


def test_a_station_without_profiles_has_no_store_and_no_limit_timer() -> None:
    """The hot path: nothing of smart charging exists until a CSMS asks for it."""
    h = harness("1.6")
    h.run_until(100.0)
    assert h.machine.smart_charging is None
    assert h.machine.limit_change_at == float("inf")


@pytest.mark.parametrize("version", VERSIONS)
def test_a_reset_drops_tx_profiles_and_keeps_the_rest(version: str) -> None:
    h = harness(version)
    tx = h.machine.connectors[0].transaction_id
    assert set_profile(h, profile_id=1, limit=7000.0).status == "Accepted"
    answer = set_profile(h, purpose="TxProfile", evse=1, profile_id=2, transaction_id=tx)
    assert answer.status == "Accepted"
    reset = {"type": "Soft"} if version == "1.6" else {"type": "Immediate"}
    assert call(h, "Reset", reset).status == "Accepted"
    h.run_until(h.now + 1)
    assert h.machine.ready_to_reboot
    h.machine.disconnected(h.now)
    h.machine.connected(h.now)
    store = h.machine.smart_charging
    assert store is not None and [p.id for p in store.profiles] == [1]


@pytest.mark.parametrize("version", VERSIONS)
def test_offline_samples_before_a_change_keep_the_old_power(version: str) -> None:
    """Offline, the session goes on and its samples queue; when the station catches up,
    those due before the limit's change are at the old power, those after at the new."""
    h = harness(version)
    answer = set_profile(h, periods=[(0, 7000.0), (40, 4000.0)])
    assert answer.status == "Accepted"
    h.run_until(20.0)
    h.machine.disconnected(h.now)
    h.now = 70.0  # no connection until then: no timer runs
    h.machine.connected(h.now)
    h.run_until(72.0)
    t0 = wall(h, 0).timestamp()
    samples = [(t - t0, p) for t, _, p, _ in readings(h, 20.0)]
    assert len(samples) >= 9
    assert all(4000.0 < p <= 7000.0 for t, p in samples if t < 40)
    assert all(p <= 4000.0 for t, p in samples if t >= 40)


def start_profile(version: str, *, purpose: str = "TxProfile", **extra: Any) -> dict[str, Any]:
    schedule = {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 5000}],
    }
    profile: dict[str, Any] = {
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        **extra,
    }
    if version == "1.6":
        return profile | {"chargingProfileId": 9, "chargingSchedule": schedule}
    return profile | {"id": 9, "chargingSchedule": [schedule | {"id": 1}]}


def remote_start(h: Harness, profile: dict[str, Any]) -> Any:
    if h.module is v16:
        return call(h, "RemoteStartTransaction", {"idTag": "REMOTE", "chargingProfile": profile})
    token = {"idToken": "REMOTE", "type": "ISO14443"}
    payload = {"idToken": token, "remoteStartId": 4, "chargingProfile": profile}
    return call(h, "RequestStartTransaction", payload)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_remote_start_s_tx_profile_limits_its_transaction(version: str) -> None:
    h = Harness(
        version,
        connectors=1,
        first_start=Distribution.constant(1000),
        length=Distribution.constant(1000),
    )
    h.machine.connected(0.0)
    h.run_until(2.0)
    assert remote_start(h, start_profile(version, purpose="TxDefaultProfile")).status == "Rejected"
    if version == "2.0.1":  # F01.FR.11: no transactionId on it
        refused = remote_start(h, start_profile(version, transactionId="x"))
        assert refused.status == "Rejected"
    assert remote_start(h, start_profile(version)).status == "Accepted"
    h.run_until(60.0)
    connector = h.machine.connectors[0]
    assert connector.state is ConnectorState.CHARGING
    store = h.machine.smart_charging
    assert store is not None
    assert [(p.id, p.transaction_id) for p in store.profiles] == [
        (9, str(connector.transaction_id))
    ]
    samples = readings(h, 2.0)
    assert len(samples) >= 10 and all(r[2] <= 5000.0 for r in samples)


_OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("set"),
            st.integers(0, 2),  # EVSE (0: both)
            st.integers(1, 30),  # first limit, kW
            st.integers(1, 200),  # second period's start, s
            st.integers(1, 30),  # its limit, kW
            st.sampled_from(["W", "A"]),
        ),
        st.tuples(st.just("clear")),
        st.tuples(st.just("wait"), st.floats(0.5, 90.0)),
    ),
    max_size=12,
)


@pytest.mark.parametrize("version", VERSIONS)
@given(ops=_OPS)
@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_session_s_power_is_always_the_ev_s_capped_by_the_limit(version: str, ops) -> None:  # type: ignore[no-untyped-def]
    """Whatever the CSMS sets and clears, and whenever: every charging session's level is
    min(the EV's, the limit now / 1.03), its samples never above the limit, and the
    register never goes down."""
    h = harness(version, connectors=2, length=Distribution.constant(120))
    profile_id = 0
    for op in ops:
        if op[0] == "set":
            _, evse, first, start, second, unit = op
            profile_id += 1
            scale = 1000.0 if unit == "W" else 1000.0 / (3 * 230)
            set_profile(
                h,
                evse=evse,
                unit=unit,
                profile_id=profile_id,
                periods=[(0, round(first * scale, 1)), (start, round(second * scale, 1))],
            )
        elif op[0] == "clear":
            clear_all(h)
        else:
            h.run_until(h.now + op[1])
        store = h.machine.smart_charging
        at = h.machine.wall(h.now)
        for c in h.machine.connectors:
            if c.state is not ConnectorState.CHARGING or store is None:
                continue
            limit = store.limit_at(c.id, at)
            want = c.ev_power_w
            if limit is not None:
                want = min(want, limit.cap_watts(3, store.voltage) / 1.03)
            assert c.power_w == pytest.approx(want, rel=0.031)  # <= 3 % under at a bound
            assert c.power_w <= want + 1e-6
    samples = readings(h, 8.0)
    for c in (1, 2):
        mine = [r for r, item in zip(samples, _sample_items(h), strict=True) if item == c]
        assert all(b[1] >= a[1] for a, b in itertools.pairwise(mine))


def _sample_items(h: Harness) -> list[int]:
    """The connector of each sample `readings(h, 8.0)` returns, in the same order."""
    out = []
    for at, item in h.sent:
        if at < 8.0:
            continue
        periodic_16 = item.action == "MeterValues" and h.module is v16
        updated = item.action == "TransactionEvent" and item.payload.event_type == "Updated"
        if periodic_16 or updated:
            out.append(item.connector)
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_sessions_share_the_station_max_profile(version: str) -> None:
    """Two sessions of 11 kW under a 12 kW station maximum (1.6 ChargePointMaxProfile, 2.0.1
    ChargingStationMaxProfile: the whole station's) get half each; when one ends, the other
    gets its 11 kW back, which is under 12 kW."""
    h = harness(version, connectors=2)
    purpose = "ChargePointMaxProfile" if version == "1.6" else "ChargingStationMaxProfile"
    assert set_profile(h, purpose=purpose, limit=12_000.0).status == "Accepted"
    since = h.now
    h.run_until(60.0)
    first, second = h.machine.connectors
    assert first.power_w + second.power_w <= 12_000.0 / 1.03 + 1e-6
    assert first.power_w == pytest.approx(second.power_w)
    samples = readings(h, since)
    assert len(samples) >= 16 and all(r[2] <= 6000.0 for r in samples)
    assert composite(h, evse=0) == [(0, 12_000.0)]
    tx = first.transaction_id
    if version == "1.6":
        stopped = call(h, "RemoteStopTransaction", {"transactionId": tx})
    else:
        stopped = call(h, "RequestStopTransaction", {"transactionId": tx})
    assert stopped.status == "Accepted"
    assert second.power_w == second.ev_power_w == 11_000.0


@pytest.mark.parametrize("version", VERSIONS)
def test_a_one_phase_limit_draws_current_on_one_phase(version: str) -> None:
    """numberPhases 1 with 16 A: the EV draws ~3.5 kW on L1 alone; L2 and L3 read 0
    (1.6 ChargingSchedulePeriod.numberPhases, 2.0.1 K01)."""
    h = harness(version)
    period = {"startPeriod": 0, "limit": 16, "numberPhases": 1}
    schedule: dict[str, Any] = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [period],
        "startSchedule": wall(h, 0).isoformat(),
    }
    profile: dict[str, Any] = {
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
    }
    if h.module is v16:
        profile |= {"chargingProfileId": 1, "chargingSchedule": schedule}
        payload = {"connectorId": 0, "csChargingProfiles": profile}
    else:
        profile |= {"id": 1, "chargingSchedule": [schedule | {"id": 1}]}
        payload = {"evseId": 0, "chargingProfile": profile}
    assert call(h, "SetChargingProfile", payload).status == "Accepted"
    since = h.now
    h.run_until(40.0)
    samples = [
        item.payload.meter_value[0].sampled_value
        for at, item in h.sent
        if at > since
        and (
            item.action == "MeterValues"
            or (item.action == "TransactionEvent" and item.payload.event_type == "Updated")
        )
    ]
    assert len(samples) >= 4
    for sampled in samples:
        currents = {
            str(s.phase): float(s.value) for s in sampled if s.measurand == "Current.Import"
        }
        power = next(float(s.value) for s in sampled if s.measurand == "Power.Active.Import")
        assert power <= 16 * 230.0
        assert 14.0 < currents["L1"] <= 16.0 and currents["L2"] == currents["L3"] == 0.0
    # Cleared, the EV draws on three phases again.
    clear_all(h)
    since = h.now
    h.run_until(70.0)
    after = [r for r in readings(h, since)]
    assert after and all(r[3] > 10.0 for r in after)  # ~15.9 A on each phase at 11 kW
