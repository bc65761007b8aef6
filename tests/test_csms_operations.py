"""The report's section for CSMS-initiated operations (issue 15 item 7): per action the calls
the stations received, their answers by status, the stations' answer time and the reaction
time; per phase, merged exactly, shown, compared, checked by thresholds and drawn in HTML."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import msgspec
import pytest

from fleet.metrics import (
    REPORT_FORMAT,
    Metrics,
    Report,
    build_report,
    decode_histogram,
    format_summary,
    read_report,
    write_report,
)

T0 = 1000.0
WALL = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def operations(metrics: Metrics, at: float, *, rejected: int = 0) -> None:
    """Ten SetChargingProfile calls arriving at `at`: answered in 2 ms, Accepted or (the
    first `rejected`) Rejected; each Accepted one's limit shows 1.5 s later. Two ReserveNow,
    one refused with a CALLERROR; the other's Reserved status 0.25 s after it came."""
    for i in range(10):
        answer = "Rejected" if i < rejected else "Accepted"
        metrics.csms_call_answered("SetChargingProfile", answer, 0.002, at)
        if answer == "Accepted":
            metrics.csms_reaction("SetChargingProfile", 1.5, at + 1.5)
    metrics.csms_call_answered("ReserveNow", "Accepted", 0.001, at)
    metrics.csms_reaction("ReserveNow", 0.25, at + 0.25)
    metrics.csms_call_answered("ReserveNow", "CALLERROR NotSupported", 0.001, at)


def report_of(metrics: Metrics, seconds: float = 10.0) -> Report:
    return build_report(
        metrics,
        name="unit",
        profile={"name": "unit"},
        started_at=WALL,
        ended_at=WALL + dt.timedelta(seconds=seconds),
        ended_monotonic=T0 + seconds,
    )


def recorded() -> Report:
    """A ramp with two Rejected answers, a hold without; the reactions of the ramp's calls
    come in the hold, and count in the ramp."""
    metrics = Metrics(T0)
    operations(metrics, T0 + 0.5, rejected=2)
    metrics.ramp_done(T0 + 1)
    operations(metrics, T0 + 2)
    return report_of(metrics)


# --- metrics and the JSON report ------------------------------------------------------------


def test_each_action_counts_calls_answers_and_times_by_phase() -> None:
    report = recorded()
    assert report.format == REPORT_FORMAT == "ocpp-fleet-report/3"
    charging = report.csms["SetChargingProfile"]
    assert charging.received == 20
    assert charging.answers == {"Accepted": 18, "Rejected": 2}
    assert charging.answer.count == 20
    assert charging.answer.p99_ms == pytest.approx(2, rel=1e-3)
    assert charging.reaction.count == 18
    assert charging.reaction.p50_ms == pytest.approx(1500, rel=1e-3)
    assert charging.reaction_to == "first meter value at the new limit"
    reserve = report.csms["ReserveNow"]
    assert reserve.answers == {"Accepted": 2, "CALLERROR NotSupported": 2}
    assert reserve.reaction.count == 2
    assert reserve.reaction.max_ms == pytest.approx(250, rel=1e-3)
    assert reserve.reaction_to == "StatusNotification Reserved"
    # A reaction counts in the phase its request came in, with its answer.
    ramp, hold = report.phases["ramp"].csms, report.phases["hold"].csms
    assert ramp["SetChargingProfile"].answers == {"Accepted": 8, "Rejected": 2}
    assert ramp["SetChargingProfile"].reaction.count == 8
    assert hold["SetChargingProfile"].answers == {"Accepted": 10}
    assert hold["SetChargingProfile"].reaction.count == 10
    assert report.phase_view("hold").csms == report.phases["hold"].csms


def test_the_section_keeps_every_sample_and_round_trips(tmp_path: Path) -> None:
    report = recorded()
    reaction = decode_histogram(report.csms["SetChargingProfile"].reaction.histogram)
    assert reaction.get_total_count() == 18
    write_report(report, tmp_path / "r.json")
    assert read_report(tmp_path / "r.json") == report
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["csms"]["ReserveNow"]["received"] == 4
    assert data["phases"]["hold"]["csms"]["ReserveNow"]["answers"]["Accepted"] == 1


def test_a_run_without_csms_calls_has_an_empty_section() -> None:
    report = report_of(Metrics(T0))
    assert report.csms == {}
    assert "CSMS-initiated" not in format_summary(report, "run")


@pytest.mark.parametrize("format", ["ocpp-fleet-report/2", "ocpp-fleet-report/1"])
def test_a_report_from_before_the_section_still_loads(tmp_path: Path, format: str) -> None:
    data = msgspec.to_builtins(recorded())
    data["format"] = format
    del data["csms"]
    for phase in data["phases"].values():
        del phase["csms"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = read_report(tmp_path / "old.json")
    assert old.csms == {} and old.phase_view("hold").csms == {}
    assert "CSMS-initiated" not in format_summary(old)


def test_the_summary_has_a_table_of_csms_operations() -> None:
    summary = format_summary(recorded(), "run")
    assert summary.splitlines()[0].startswith("unit: 10.0 s, 0 connects, 24 CSMS calls answered")
    (row,) = [line for line in summary.splitlines() if line.startswith("SetChargingProfile")]
    assert row.split()[:6] == ["SetChargingProfile", "20", "2.0", "2.0", "18", "1,500"]
    assert row.endswith("Accepted 18, Rejected 2 (first meter value at the new limit)")
    (row,) = [line for line in summary.splitlines() if line.startswith("ReserveNow")]
    assert "Accepted 2, CALLERROR NotSupported 2 (StatusNotification Reserved)" in row
    # The hold's own figures by default.
    (row,) = [line for line in format_summary(recorded()).splitlines() if "SetCh" in line]
    assert row.split()[:2] == ["SetChargingProfile", "10"]
