"""The smart charging block (fleet/station/_smart_charging.py), on virtual time."""

from __future__ import annotations

import datetime as dt
import itertools

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.ocpp import v16, v201
from fleet.station._smart_charging import (
    ChargingProfiles,
    Kind,
    Period,
    Profile,
    Purpose,
    Recurrency,
    Schedule,
    Unit,
    clear_v16,
    clear_v201,
    composite_v16,
    composite_v201,
    get_profiles_v201,
    profile_from_v16,
    set_profile_v16,
    set_profile_v201,
)

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)  # a Monday


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def prof(
    id: int,
    limit: float | list[tuple[int, float]],
    *,
    purpose: Purpose = Purpose.TX_DEFAULT,
    stack: int = 0,
    evse: int = 1,
    unit: Unit = Unit.W,
    kind: Kind = Kind.ABSOLUTE,
    start: dt.datetime | None = T0,
    duration: int | None = None,
    phases: int | None = None,
    recurrency: Recurrency | None = None,
    valid_from: dt.datetime | None = None,
    valid_to: dt.datetime | None = None,
    tx: str | None = None,
) -> Profile:
    periods = [(0, limit)] if isinstance(limit, (int, float)) else limit
    return Profile(
        id=id,
        stack_level=stack,
        purpose=purpose,
        kind=kind,
        schedules=(
            Schedule(
                unit=unit,
                periods=tuple(Period(start=s, limit=v, number_phases=phases) for s, v in periods),
                start=None if kind is Kind.RELATIVE else start,
                duration=duration,
            ),
        ),
        evse=evse,
        recurrency=recurrency,
        valid_from=valid_from,
        valid_to=valid_to,
        transaction_id=tx,
    )


def store(version: str = "2.0.1", **kw) -> ChargingProfiles:
    return ChargingProfiles(version=version, evse_count=2, **kw)  # type: ignore[arg-type]


def ok(s: ChargingProfiles, p: Profile, now: dt.datetime = T0) -> None:
    out = s.install(p, now)
    assert out.accepted, out


def watts(s: ChargingProfiles, evse: int, t: float) -> float | None:
    lim = s.limit_at(evse, at(t))
    return None if lim is None else round(lim.watts, 3)


# --- stacking and purposes -----------------------------------------------------------------


def test_no_profile_no_limit() -> None:
    s = store()
    assert s.limit_at(1, T0) is None
    assert s.next_change_after(1, T0) is None
    assert s.composite(1, T0, 3600) is None


def test_highest_stack_level_wins_and_a_finished_one_does_not_shadow() -> None:
    s = store()
    ok(s, prof(1, 11000, stack=0))
    ok(s, prof(2, 7000, stack=1, duration=600))
    assert watts(s, 1, 0) == 7000
    assert watts(s, 1, 599) == 7000
    assert watts(s, 1, 600) == 11000  # stack 1 has run out: stack 0 leads again
    assert s.next_change_after(1, T0) == at(600)
    assert s.next_change_after(1, at(600)) is None


def test_a_higher_stack_level_before_its_first_period_does_not_shadow() -> None:
    s = store(version="1.6")  # 1.6 allows a first startPeriod above 0
    ok(s, prof(1, 11000, stack=0))
    ok(s, prof(2, [(300, 5000)], stack=1))
    assert watts(s, 1, 0) == 11000
    assert watts(s, 1, 300) == 5000


def test_tx_profile_overrides_tx_default_even_when_higher() -> None:
    s = store()
    s.start_transaction(1, "tx1", T0)
    ok(s, prof(1, 4000, stack=5))
    ok(s, prof(2, 9000, purpose=Purpose.TX, stack=0, tx="tx1"))
    assert watts(s, 1, 10) == 9000
    dropped = s.end_transaction(1)
    assert [p.id for p in dropped] == [2]
    assert watts(s, 1, 10) == 4000
    assert [p.id for p in s.profiles] == [1]


def test_a_remote_start_profile_follows_the_transaction_id() -> None:
    for version in ("1.6", "2.0.1"):
        s = store(version)
        p = prof(5, 2000, purpose=Purpose.TX, evse=0)
        assert not s.install_for_transaction(1, p, T0).accepted  # no transaction yet
        s.start_transaction(1, "local-1", T0)
        assert s.install_for_transaction(1, p, T0).accepted
        s.set_transaction_id(1, "77")  # 1.6: StartTransaction.conf's id
        assert s.find(id=5)[0].transaction_id == "77" and watts(s, 1, 1) == 2000
        assert s.transaction(1) == ("77", T0)


def test_max_profile_caps_in_watts_across_units() -> None:
    s = store()
    ok(s, prof(1, 16, unit=Unit.A, phases=3))  # 16 A * 230 V * 3 = 11040 W
    ok(s, prof(2, 7000, purpose=Purpose.STATION_MAX, evse=0))
    lim = s.limit_at(1, T0)
    assert lim is not None and lim.watts == 7000 and lim.phases == 3
    assert lim.amps == pytest.approx(7000 / 690)
    s.clear(id=2)
    lim = s.limit_at(1, T0)
    assert lim is not None and lim.watts == pytest.approx(11040) and lim.amps == 16


def test_unit_conversion_uses_phases_and_voltage() -> None:
    s = store(voltage=120.0)
    ok(s, prof(1, 10, unit=Unit.A, phases=1))
    assert s.composite(1, T0, 60, Unit.W) == (
        Unit.W,
        [Period(start=0, limit=1200.0, number_phases=1)],
    )
    s2 = store()
    ok(s2, prof(1, 7000))  # numberPhases absent: 3
    _unit, periods = s2.composite(1, T0, 60, Unit.A) or (None, [])
    assert periods == [Period(start=0, limit=10.1, number_phases=3)]  # 10.14 rounded down


def test_cap_for_an_ev_on_fewer_phases() -> None:
    s = store()
    ok(s, prof(1, 16, unit=Unit.A))
    lim = s.limit_at(1, T0)
    assert lim is not None
    assert lim.cap_watts(3) == pytest.approx(11040) and lim.cap_watts(1) == pytest.approx(3680)
    ok(s, prof(1, 7000))
    lim = s.limit_at(1, T0)
    assert lim is not None and lim.cap_watts(1) == 7000


def test_station_wide_tx_default_applies_to_each_evse_and_a_specific_one_wins_a_tie() -> None:
    s = store()
    ok(s, prof(1, 6000, evse=0))
    ok(s, prof(2, 8000, evse=2))
    assert watts(s, 1, 0) == 6000
    assert watts(s, 2, 0) == 8000
    ok(s, prof(3, 3000, evse=0, stack=1))
    assert watts(s, 2, 0) == 3000  # a higher stack level on EVSE 0 still wins


def test_grid_composite_is_the_sum_capped_by_the_max_profile() -> None:
    s = store()
    ok(s, prof(1, 6000, evse=0))
    assert watts(s, 0, 0) == 12000
    ok(s, prof(2, 10000, purpose=Purpose.STATION_MAX, evse=0))
    assert watts(s, 0, 0) == 10000
    assert watts(s, 1, 0) == 6000


# --- time: validity, relative, recurring ------------------------------------------------------


def test_validity_window() -> None:
    s = store()
    ok(s, prof(1, 11000))
    ok(s, prof(2, 3000, stack=1, valid_from=at(100), valid_to=at(200)))
    assert [watts(s, 1, x) for x in (99, 100, 199, 200)] == [11000, 3000, 3000, 11000]
    assert s.next_change_after(1, T0) == at(100)
    assert s.next_change_after(1, at(100)) == at(200)
    assert s.composite(1, T0, 300, Unit.W) == (
        Unit.W,
        [
            Period(start=0, limit=11000, number_phases=3),
            Period(start=100, limit=3000, number_phases=3),
            Period(start=200, limit=11000, number_phases=3),
        ],
    )


def test_relative_profile_starts_with_the_transaction() -> None:
    s = store()
    ok(s, prof(1, [(0, 3000), (600, 9000)], kind=Kind.RELATIVE))
    # no transaction: counted from the instant asked / the composite's start
    assert watts(s, 1, 1000) == 3000
    assert s.composite(1, at(50), 1200, Unit.W) == (
        Unit.W,
        [
            Period(start=0, limit=3000, number_phases=3),
            Period(start=600, limit=9000, number_phases=3),
        ],
    )
    s.start_transaction(1, "t", at(100))
    assert watts(s, 1, 699) == 3000
    assert watts(s, 1, 700) == 9000
    assert s.next_change_after(1, at(100)) == at(700)
    assert watts(s, 2, 5000) is None  # a profile on EVSE 1 is not EVSE 2's business
    s2 = store()
    ok(s2, prof(1, [(0, 3000), (600, 9000)], kind=Kind.RELATIVE, evse=0))
    s2.start_transaction(2, "u", at(1000))
    assert watts(s2, 2, 1599) == 3000 and watts(s2, 2, 1600) == 9000


def test_daily_recurring_repeats_at_start_schedule_time_of_day() -> None:
    s = store()
    # 18:00 -> 22:00 at 4 kW, the rest of the day 11 kW, from a startSchedule on an earlier day
    start = dt.datetime(2026, 2, 20, 18, 0, tzinfo=dt.UTC)
    ok(
        s,
        prof(
            1,
            [(0, 4000), (4 * 3600, 11000)],
            kind=Kind.RECURRING,
            start=start,
            recurrency=Recurrency.DAILY,
        ),
    )
    six_pm = dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.UTC)
    assert s.limit_at(1, six_pm - dt.timedelta(seconds=1)).watts == 11000  # type: ignore[union-attr]
    assert s.limit_at(1, six_pm).watts == 4000  # type: ignore[union-attr]
    assert s.next_change_after(1, T0) == six_pm
    assert s.next_change_after(1, six_pm) == six_pm + dt.timedelta(hours=4)
    _, periods = s.composite(1, T0, 2 * 86400, Unit.W) or (None, [])
    assert [p.start for p in periods] == [0, 6 * 3600, 10 * 3600, 30 * 3600, 34 * 3600]


def test_weekly_recurring_with_duration_and_before_start_schedule() -> None:
    s = store()
    ok(s, prof(1, 11000))
    # Wednesdays 08:00 for 2 h, startSchedule a week after T0: recurrence applies before it too
    wed = dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC)
    ok(
        s,
        prof(
            2,
            2000,
            stack=1,
            kind=Kind.RECURRING,
            start=wed,
            duration=7200,
            recurrency=Recurrency.WEEKLY,
        ),
    )
    this_wed = dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)
    assert s.next_change_after(1, T0) == this_wed
    assert s.limit_at(1, this_wed).watts == 2000  # type: ignore[union-attr]
    assert s.next_change_after(1, this_wed) == this_wed + dt.timedelta(hours=2)
    assert s.next_change_after(1, this_wed + dt.timedelta(hours=2)) == wed


def test_recurring_valid_from_far_away_is_found() -> None:
    s = store()
    vf = T0 + dt.timedelta(days=60, hours=3)
    ok(
        s,
        prof(
            1,
            [(0, 4000), (3600, 5000)],
            kind=Kind.RECURRING,
            recurrency=Recurrency.DAILY,
            valid_from=vf,
        ),
    )
    assert s.next_change_after(1, T0) == vf
    assert s.next_change_after(1, vf) == T0 + dt.timedelta(days=61)  # 12:00 next day: 4 kW
    assert s.limit_at(1, vf).watts == 5000  # type: ignore[union-attr]


# --- install, replace, clear, report ---------------------------------------------------------


def test_same_id_replaces() -> None:
    s = store()
    ok(s, prof(1, 5000))
    ok(s, prof(1, 6000, stack=2, evse=2))
    assert len(s.profiles) == 1 and s.profiles[0].evse == 2


def test_a_refused_replacement_keeps_the_installed_profile() -> None:
    s = store()  # K01.FR.05: the old profile stays when its replacement is refused
    ok(s, prof(1, 5000))
    assert not s.install(prof(1, 5000, unit=Unit.A, phases=7), T0).accepted
    assert s.find(id=1)[0].schedule.unit is Unit.W


def test_same_stack_level_and_purpose_replaces_in_16_and_is_refused_in_201() -> None:
    s16 = store("1.6")
    ok(s16, prof(1, 5000, stack=1))
    ok(s16, prof(2, 6000, stack=1))
    assert [p.id for p in s16.profiles] == [2]
    s201 = store()
    ok(s201, prof(1, 5000, stack=1))
    out = s201.install(prof(2, 6000, stack=1), T0)
    assert (out.status, out.reason) == ("Rejected", "DuplicateProfile")
    # not overlapping in validity: allowed (K01.FR.06)
    ok(s201, prof(3, 1, stack=2, valid_to=at(10)))
    ok(s201, prof(4, 1, stack=2, valid_from=at(10)))


def refusal(s: ChargingProfiles, p: Profile) -> tuple[str, str | None]:
    out = s.install(p, T0)
    assert not s.find(id=p.id) or out.accepted
    return out.status, out.reason


def test_refusals_201() -> None:
    s = store(allowed_units=[Unit.W], max_stack_level=3, max_profiles=2)
    s.start_transaction(1, "tx1", T0)
    tx = Purpose.TX
    cases = [
        (prof(1, 1, purpose=tx), "InvalidProfile"),  # no transactionId (K01.FR.03)
        (prof(1, 1, purpose=tx, evse=2, tx="tx1"), "TxNotFound"),  # no transaction on EVSE 2
        (prof(1, 1, purpose=tx, tx="other"), "TxNotFound"),
        (prof(1, 1, purpose=tx, evse=0, tx="tx1"), "InvalidProfile"),
        (prof(1, 1, purpose=Purpose.STATION_MAX, evse=1), "InvalidProfile"),
        (prof(1, 1, evse=3), "UnknownEvse"),
        (prof(1, 1, purpose=Purpose.STATION_MAX, evse=0, kind=Kind.RELATIVE), "InvalidProfile"),
        (prof(1, 1, stack=4), "InvalidStackLevel"),
        (prof(1, 1, unit=Unit.A), "UnsupportedRateUnit"),
        (prof(1, 1, tx="tx1"), "InvalidProfile"),  # transactionId on a TxDefaultProfile
        (prof(1, 1, kind=Kind.RECURRING), "InvalidProfile"),  # no recurrencyKind
        (
            prof(1, 1, kind=Kind.RECURRING, recurrency=Recurrency.DAILY, start=None),
            "InvalidSchedule",
        ),
        (prof(1, 1, start=None), "InvalidSchedule"),  # Absolute without startSchedule
        (prof(1, [(10, 1)]), "InvalidSchedule"),  # first startPeriod not 0
        (prof(1, [(0, 1), (0, 2)]), "InvalidSchedule"),
        (prof(1, -1), "InvalidSchedule"),
        (prof(1, 1, phases=4), "InvalidSchedule"),
        (prof(1, 1, duration=0), "InvalidSchedule"),
        (prof(1, 1, valid_from=at(10), valid_to=at(10)), "InvalidValue"),
    ]
    for p, reason in cases:
        assert refusal(s, p) == ("Rejected", reason), p
    two = msgspec.structs.replace(prof(1, 1), schedules=prof(1, 1).schedules * 2)
    assert refusal(s, two) == ("Rejected", "TooManyElements")
    phase = msgspec.structs.replace(
        prof(1, 1),
        schedules=(
            Schedule(
                unit=Unit.W,
                periods=(Period(start=0, limit=1, number_phases=1, phase_to_use=2),),
                start=T0,
            ),
        ),
    )
    assert refusal(s, phase) == ("Rejected", "InvalidSchedule")
    assert store(phase_switching=True).install(phase, T0).accepted
    ok(s, prof(1, 1, purpose=tx, tx="tx1"))
    ok(s, prof(2, 1, stack=1))
    assert refusal(s, prof(3, 1, stack=2)) == ("Rejected", "OutOfStorage")
    ok(s, prof(2, 5, stack=2))  # replacing does not need room
    assert store(enabled=False).install(prof(1, 1), T0).status == "Rejected"
    assert s.profiles and not s.find(id=3)


def test_refusals_16() -> None:
    s = store("1.6")
    assert refusal(s, prof(1, 1, purpose=Purpose.TX)) == ("Rejected", "TxNotFound")
    s.start_transaction(1, "42", T0)
    ok(s, prof(1, 1, purpose=Purpose.TX))  # takes the running transaction
    assert s.profiles[0].transaction_id == "42"
    ok(s, prof(2, 1, start=None))  # 1.6: Absolute without startSchedule counts from install
    assert refusal(s, prof(3, 1, purpose=Purpose.STATION_MAX)) == ("Rejected", "InvalidProfile")
    assert store("1.6", enabled=False).install(prof(1, 1), T0).status == "NotSupported"


def test_clear_by_id_and_criteria() -> None:
    s = store()
    ok(s, prof(1, 1, evse=1, stack=0))
    ok(s, prof(2, 1, evse=2, stack=0))
    ok(s, prof(3, 1, evse=1, stack=1))
    ok(s, prof(4, 1, purpose=Purpose.STATION_MAX, evse=0))
    assert s.clear(id=99).status == "Unknown"
    assert s.clear(id=1, evse=2).status == "Accepted"  # the id wins over the criteria
    assert s.clear(evse=2, stack_level=1).status == "Unknown"
    assert s.clear(purpose=Purpose.TX_DEFAULT, stack_level=0).status == "Accepted"
    assert sorted(p.id for p in s.profiles) == [3, 4]
    assert s.clear().status == "Accepted" and not s.profiles


def test_reboot_keeps_persistent_profiles_but_not_tx_profiles() -> None:
    s = store()
    s.start_transaction(1, "t", T0)
    ok(s, prof(1, 1))
    ok(s, prof(2, 1, purpose=Purpose.TX, tx="t"))
    s.reboot()
    assert [p.id for p in s.profiles] == [1] and s.transaction(1) is None
    s2 = store(persistent=False)
    ok(s2, prof(1, 1))
    s2.reboot()
    assert not s2.profiles


# --- the messages ---------------------------------------------------------------------------


def roundtrip(payload: msgspec.Struct) -> None:
    assert msgspec.json.decode(msgspec.json.encode(payload), type=type(payload)) == payload


def test_v16_messages() -> None:
    s = store("1.6")
    req = v16.SetChargingProfileRequest(
        connector_id=0,
        cs_charging_profiles=v16.ChargingProfile(
            charging_profile_id=7,
            stack_level=0,
            charging_profile_purpose=v16.ChargingProfilePurposeType.TX_DEFAULT_PROFILE,
            charging_profile_kind=v16.ChargingProfileKindType.ABSOLUTE,
            charging_schedule=v16.ChargingSchedule(
                charging_rate_unit=v16.ChargingRateUnitType.A,
                charging_schedule_period=[v16.ChargingSchedulePeriod(start_period=0, limit=10.0)],
                start_schedule=T0,
            ),
        ),
    )
    assert set_profile_v16(s, req, T0).status is v16.ChargingProfileStatus.ACCEPTED
    assert profile_from_v16(0, req.cs_charging_profiles).purpose is Purpose.TX_DEFAULT
    answer = composite_v16(
        s,
        v16.GetCompositeScheduleRequest(
            connector_id=1, duration=600, charging_rate_unit=v16.ChargingRateUnitType.W
        ),
        T0,
        max_watts=22000,
    )
    roundtrip(answer)
    assert answer.charging_schedule.charging_schedule_period[0].limit == 6900.0  # type: ignore[union-attr]
    clear = clear_v16(s, v16.ClearChargingProfileRequest(connector_id=0))
    assert clear.status is v16.ClearChargingProfileStatus.ACCEPTED
    empty = composite_v16(
        s, v16.GetCompositeScheduleRequest(connector_id=1, duration=60), T0, max_watts=22080
    )
    assert empty.charging_schedule.charging_schedule_period[0].limit == 32.0  # type: ignore[union-attr]
    bad = composite_v16(
        s, v16.GetCompositeScheduleRequest(connector_id=5, duration=60), T0, max_watts=1
    )
    assert bad.status is v16.GetCompositeScheduleStatus.REJECTED


def test_v16_composite_for_the_grid_connection() -> None:
    s = store("1.6")
    ok(s, prof(1, 16, unit=Unit.A, evse=0))
    answer = composite_v16(
        s, v16.GetCompositeScheduleRequest(connector_id=0, duration=60), T0, max_watts=44000
    )
    roundtrip(answer)
    schedule = answer.charging_schedule
    assert not isinstance(schedule, msgspec.UnsetType)
    assert schedule.charging_schedule_period[0].limit == 32.0  # two EVSEs at 16 A


def test_a_stretch_without_profile_gets_the_hardware_limit_on_the_wire() -> None:
    s = store()
    ok(s, prof(1, 4000, valid_from=at(120)))
    _, ps = s.composite(1, T0, 600, Unit.W) or (None, [])
    assert ps == [
        Period(start=0, limit=float("inf"), number_phases=None),
        Period(start=120, limit=4000, number_phases=3),
    ]
    answer = composite_v201(
        s,
        v201.GetCompositeScheduleRequest(
            duration=600, evse_id=1, charging_rate_unit=v201.ChargingRateUnitEnum.W
        ),
        T0,
        max_watts=11000,
    )
    roundtrip(answer)
    schedule = answer.schedule
    assert not isinstance(schedule, msgspec.UnsetType)
    assert [(p.start_period, p.limit) for p in schedule.charging_schedule_period] == [
        (0, 11000.0),
        (120, 4000.0),
    ]


def v201_profile(id: int, purpose: str = "TxDefaultProfile", **kw) -> v201.ChargingProfile:
    return v201.ChargingProfile(
        id=id,
        stack_level=0,
        charging_profile_purpose=v201.ChargingProfilePurposeEnum(purpose),
        charging_profile_kind=v201.ChargingProfileKindEnum.ABSOLUTE,
        charging_schedule=[
            v201.ChargingSchedule(
                id=1,
                charging_rate_unit=v201.ChargingRateUnitEnum.W,
                charging_schedule_period=[
                    v201.ChargingSchedulePeriod(start_period=0, limit=7000.0)
                ],
                start_schedule=T0,
            )
        ],
        **kw,
    )


def test_v201_messages() -> None:
    s = store()
    answer = set_profile_v201(
        s, v201.SetChargingProfileRequest(evse_id=1, charging_profile=v201_profile(1)), T0
    )
    assert answer.status is v201.ChargingProfileStatusEnum.ACCEPTED
    ext = set_profile_v201(
        s,
        v201.SetChargingProfileRequest(
            evse_id=0, charging_profile=v201_profile(2, "ChargingStationExternalConstraints")
        ),
        T0,
    )
    assert ext.status is v201.ChargingProfileStatusEnum.REJECTED
    assert ext.status_info.reason_code == "InvalidProfile"  # type: ignore[union-attr]
    roundtrip(ext)
    comp = composite_v201(
        s, v201.GetCompositeScheduleRequest(duration=300, evse_id=1), T0, max_watts=22000
    )
    roundtrip(comp)
    assert comp.schedule.charging_rate_unit is v201.ChargingRateUnitEnum.A  # type: ignore[union-attr]
    assert comp.schedule.charging_schedule_period[0].limit == 10.1  # type: ignore[union-attr]
    unknown = composite_v201(
        s, v201.GetCompositeScheduleRequest(duration=1, evse_id=9), T0, max_watts=1
    )
    assert unknown.status_info.reason_code == "UnknownEvse"  # type: ignore[union-attr]
    resp, reports = get_profiles_v201(
        s,
        v201.GetChargingProfilesRequest(
            request_id=5, charging_profile=v201.ChargingProfileCriterion()
        ),
    )
    assert resp.status is v201.GetChargingProfileStatusEnum.ACCEPTED
    assert [(r.evse_id, r.request_id, [p.id for p in r.charging_profile]) for r in reports] == [
        (1, 5, [1])
    ]
    for r in reports:
        roundtrip(r)
    resp, reports = get_profiles_v201(
        s,
        v201.GetChargingProfilesRequest(
            request_id=6,
            charging_profile=v201.ChargingProfileCriterion(
                charging_limit_source=[v201.ChargingLimitSourceEnum.EMS]
            ),
        ),
    )
    assert resp.status is v201.GetChargingProfileStatusEnum.NO_PROFILES and not reports
    cleared = clear_v201(
        s,
        v201.ClearChargingProfileRequest(
            charging_profile_criteria=v201.ClearChargingProfile(evse_id=1, stack_level=0)
        ),
    )
    assert cleared.status is v201.ClearChargingProfileStatusEnum.ACCEPTED and not s.profiles
    again = clear_v201(s, v201.ClearChargingProfileRequest(charging_profile_id=1))
    assert again.status is v201.ClearChargingProfileStatusEnum.UNKNOWN


# --- properties --------------------------------------------------------------------------------

periods = st.lists(
    st.tuples(st.integers(0, 7200), st.integers(0, 400).map(lambda x: x * 100.0)),
    min_size=1,
    max_size=4,
    unique_by=lambda x: x[0],
).map(lambda ps: sorted([(0, ps[0][1]), *ps[1:]] if ps[0][0] else ps))


@st.composite
def profiles(draw: st.DrawFn, id: int) -> Profile:
    kind = draw(st.sampled_from(list(Kind)))
    purpose = draw(st.sampled_from(list(Purpose)))
    ps = draw(periods)
    ps = [(s, v) for i, (s, v) in enumerate(ps) if i == 0 or s > ps[i - 1][0]]
    return prof(
        id,
        ps,
        purpose=purpose,
        stack=draw(st.integers(0, 3)),
        evse=0
        if purpose is Purpose.STATION_MAX
        else draw(st.sampled_from([0, 1]))
        if purpose is Purpose.TX_DEFAULT
        else 1,
        unit=draw(st.sampled_from(list(Unit))),
        kind=kind,
        start=at(draw(st.integers(-90000, 90000))),
        duration=draw(st.none() | st.integers(1, 20000)),
        phases=draw(st.none() | st.integers(1, 3)),
        recurrency=draw(st.sampled_from(list(Recurrency))) if kind is Kind.RECURRING else None,
        valid_from=draw(st.none() | st.integers(-5000, 20000).map(at)),
        valid_to=draw(st.none() | st.integers(20001, 90000).map(at)),
        tx="t" if purpose is Purpose.TX else None,
    )


@st.composite
def stores(draw: st.DrawFn) -> ChargingProfiles:
    s = store("1.6")
    s.start_transaction(1, "t", at(draw(st.integers(-3000, 3000))))
    for i in range(draw(st.integers(0, 6))):
        s.install(draw(profiles(i + 1)), T0)
    return s


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(stores(), st.sampled_from(list(Unit)))
def test_composite_never_exceeds_the_max_profile_and_agrees_with_limit_at(
    s: ChargingProfiles, unit: Unit
) -> None:
    got = s.composite(1, T0, 86400, unit)
    if got is None:
        assert s.limit_at(1, T0) is None
        return
    _, ps = got
    assert ps[0].start == 0
    assert all(a.start < b.start for a, b in itertools.pairwise(ps))
    assert all(
        (a.limit, a.number_phases) != (b.limit, b.number_phases) for a, b in itertools.pairwise(ps)
    )
    for q in ps:
        t = at(q.start)
        lim = s.limit_at(1, t)
        top = s._leading(s.find(purpose=Purpose.STATION_MAX), 1, t, t)
        if lim is None:
            assert q.limit == float("inf")
            continue
        assert q.limit == pytest.approx(lim.value(unit), abs=0.11) and q.limit <= lim.value(unit)
        if top is not None:
            assert lim.watts <= top[1][0] + 1e-6


@FAST
@given(stores(), st.integers(-3600, 86400))
def test_the_limit_holds_until_next_change_after(s: ChargingProfiles, t0: int) -> None:
    start = at(t0)
    now = s.limit_at(1, start)
    nxt = s.next_change_after(1, start)
    end = nxt or start + dt.timedelta(days=3)
    span = (end - start).total_seconds()
    for k in range(1, 20):
        t = start + dt.timedelta(seconds=span * k / 20)
        if t < end:
            lim = s.limit_at(1, t)
            assert (lim is None) == (now is None)
            if lim is not None and now is not None:
                assert lim.watts == pytest.approx(now.watts) and lim.phases == now.phases
    if nxt is not None:
        after = s.limit_at(1, nxt)
        assert (after is None) != (now is None) or (
            after is not None
            and now is not None
            and (after.watts, after.phases) != (now.watts, now.phases)
        )


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("duration", [-1, 2**31 - 1, 10**15])
def test_composite_schedule_durations_the_schema_allows_get_an_answer(
    version: str, duration: int
) -> None:
    """Any integer is a valid duration: a negative one is Rejected, a huge one answered for
    the station's horizon (31 days), never an exception (timedelta overflow)."""
    from tests.test_station_smart_charging import call, harness

    h = harness(version)  # a session runs: relative profiles start with it
    unit = {"chargingRateUnit": "W", "duration": duration}
    key = "connectorId" if version == "1.6" else "evseId"
    answer = call(h, "GetCompositeSchedule", {key: 1, **unit})
    if duration < 0:
        assert answer.status == "Rejected"
        return
    assert answer.status == "Accepted"
    schedule = answer.charging_schedule if version == "1.6" else answer.schedule
    assert schedule.duration == 31 * 86_400
