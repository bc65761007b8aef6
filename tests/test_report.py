"""fleet report show / merge / compare, on reports from real runs and from known samples."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import trio

from fleet.metrics import Metrics, build_report, write_report
from fleet.profile import parse_profile
from fleet.report import compare, merge, parse_bound
from fleet.run import FleetRun
from tests.test_fleet import profile_text

FLEET = [sys.executable, "-m", "fleet"]
WALL = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def report_from(samples: dict[str, list[float]], start: float = 0.0, timeouts: int = 0):  # type: ignore[no-untyped-def]
    metrics = Metrics(start)
    metrics.ramp_done(start)  # all in the hold: the figures a report shows by default
    for action, latencies in samples.items():
        for latency in latencies:
            metrics.call_sent(action, start, start)
            metrics.call_answered(action, start, start, start + latency)
    for _ in range(timeouts):
        metrics.call_sent("Heartbeat", start, start)
        metrics.call_timed_out("Heartbeat", start, start + 30)
    metrics.tick(start + 1)
    return build_report(
        metrics,
        name="r",
        profile={},
        started_at=WALL,
        ended_at=WALL + dt.timedelta(seconds=10),
        ended_monotonic=start + 10,
    )


def test_merge_equals_one_histogram_holding_every_sample() -> None:
    shard_a = {"Heartbeat": [0.001 * i for i in range(1, 400)], "Authorize": [0.5]}
    shard_b = {"Heartbeat": [0.003 * i for i in range(1, 700)]}
    parts = [report_from(shard_a, timeouts=2), report_from(shard_b, timeouts=1)]
    merged = merge([
        msgspec.structs.replace(part, notes=[f"shard {i}/2 of the stations"])
        for i, part in enumerate(parts)
    ])  # fmt: skip
    reference = report_from(
        {"Heartbeat": shard_a["Heartbeat"] + shard_b["Heartbeat"], "Authorize": [0.5]}, timeouts=3
    )
    for action in ("Heartbeat", "Authorize"):
        got, want = merged.actions[action], reference.actions[action]
        assert (got.sent, got.answered, got.timeouts) == (want.sent, want.answered, want.timeouts)
        for field in ("count", "min_ms", "p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms"):
            assert getattr(got.latency, field) == getattr(want.latency, field), (action, field)
    assert merged.timeline[0].answered == 400 + 699
    assert "merged from 2 reports" in merged.notes


def test_bounds_parse_and_refuse_nonsense() -> None:
    assert parse_bound("p99+10%").amount == 10
    assert parse_bound("Heartbeat.p99.9+5ms").action == "Heartbeat"
    assert parse_bound("throughput-5%").metric == "throughput"
    for bad in ("p99+x", "p99-10%", "errors+5ms", "throughput+5%", "latency+1%"):
        with pytest.raises(ValueError, match="bad bound"):
            parse_bound(bad)


def test_compare_marks_what_breaks_a_bound() -> None:
    fast = report_from({"Heartbeat": [0.010] * 100})
    slow = report_from({"Heartbeat": [0.012] * 100}, timeouts=1)
    rows = compare(fast, slow, [parse_bound("p99+10%"), parse_bound("errors+0.5%")])
    broken = {(row.action, row.metric): row.regressed_by for row in rows if row.regressed_by}
    assert broken == {("Heartbeat", "p99"): ["p99+10%"], ("*", "errors"): ["errors+0.5%"]}
    assert compare(fast, fast, [parse_bound("p99+10%"), parse_bound("errors+0%")]) == [
        row for row in compare(fast, fast, []) if not row.regressed_by
    ]


def test_compare_breaks_a_bound_whose_figure_the_candidate_lost() -> None:
    """An action gone from the candidate (or never answered there) breaks the bounds on it:
    'no samples in candidate'; one only the candidate has is shown and breaks nothing."""
    baseline = report_from({"Heartbeat": [0.010] * 100, "MeterValues": [0.020] * 50})
    lost = report_from({"Heartbeat": [0.010] * 100, "Authorize": [0.005] * 10})
    rows = compare(baseline, lost, [parse_bound("MeterValues.p99+10%")])
    broken = [row for row in rows if row.regressed_by]
    assert [(r.action, r.metric, r.candidate, r.note) for r in broken] == [
        ("MeterValues", "p99", None, "no samples in candidate")
    ]
    assert broken[0].baseline == pytest.approx(20, rel=1e-2)
    (gone,) = [r for r in rows if (r.action, r.metric) == ("MeterValues", "throughput")]
    assert (gone.candidate, gone.change_percent) == (0.0, -100.0)
    assert not [r for r in rows if r.action == "MeterValues" and r.metric == "p50"]  # unbounded
    # An action-less bound covers every action the baseline has samples of.
    unscoped = compare(baseline, lost, [parse_bound("p99+10%")])
    assert {(r.action, r.metric) for r in unscoped if r.regressed_by} == {("MeterValues", "p99")}
    (new,) = [r for r in unscoped if r.action == "Authorize" and r.metric == "p99"]
    assert (new.baseline, new.regressed_by, new.note) == (None, [], "no samples in baseline")
    # Sent but never answered: no latency sample either.
    silent = report_from({"Heartbeat": [0.010] * 100})
    silent.actions["MeterValues"] = msgspec.structs.replace(
        baseline.actions["MeterValues"],
        answered=0,
        latency=msgspec.structs.replace(baseline.actions["MeterValues"].latency, count=0),
    )
    rows = compare(baseline, silent, [parse_bound("MeterValues.p99+10%")])
    assert [r.note for r in rows if r.regressed_by] == ["no samples in candidate"]


async def run_report(tmp_path: Path, name: str, delay_ms: int) -> Path:
    text = profile_text(
        count="count = 10",
        duration='duration = "3s"',
        first_start='first_start = "1h"',
        response_delay=f'response_delay = "{delay_ms}ms"',
    )
    run = FleetRun(parse_profile(text))
    await run.run()
    report = build_report(
        run.metrics,
        name=name,
        profile={},
        started_at=run.started_at_wall,
        ended_at=run.ended_at_wall,
        ended_monotonic=run.ended_at,
    )
    path = tmp_path / f"{name}.json"
    write_report(report, path)
    return path


@pytest.mark.deadline(60)
async def test_compare_flags_a_real_regression_in_ci(tmp_path: Path) -> None:
    before = await run_report(tmp_path, "before", delay_ms=0)
    after = await run_report(tmp_path, "after", delay_ms=30)  # the new build answers slower

    def command(baseline: Path, candidate: Path) -> list[str]:
        return [*FLEET, "report", "compare", str(baseline), str(candidate), "--fail-on", "p99+50%"]

    result = await trio.run_process(command(before, after), capture_stdout=True, check=False)
    out = result.stdout.decode()
    assert result.returncode == 3, out
    assert "REGRESSION Heartbeat p99" in out
    same = await trio.run_process(command(before, before), capture_stdout=True, check=False)
    assert same.returncode == 0, same.stdout.decode()


def write(tmp_path: Path) -> Path:
    path = tmp_path / "r.json"
    write_report(report_from({"Heartbeat": [0.001, 0.002, 0.020], "Authorize": [0.005]}), path)
    return path


def test_show_forms(tmp_path: Path) -> None:
    path = write(tmp_path)

    def show(*extra: str) -> str:
        result = subprocess.run(
            [*FLEET, "report", "show", str(path), *extra],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "Heartbeat" in show() and "Authorize" in show()
    spectrum = show("--spectrum", "Heartbeat").splitlines()
    assert spectrum[0].split() == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    assert any(line.split()[:1] == ["20.000"] or line.startswith("      20.") for line in spectrum)
    figures = json.loads(show("--json"))
    assert figures["actions"]["Heartbeat"]["answered"] == 3
    assert "histogram" not in figures["actions"]["Heartbeat"]["latency"]
    rows = show("--csv").splitlines()
    assert rows[0].startswith("action,sent,answered") and len(rows) == 3


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path)
    for args in (
        ["show", str(tmp_path / "missing.json")],
        ["show", str(path), "--spectrum", "Nope"],
        ["compare", str(path), str(path), "--fail-on", "p99+x"],
        ["compare", str(path)],
    ):
        result = subprocess.run(
            [*FLEET, "report", *args], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith(
            "fleet report: "
        )


def test_thresholds_pass_fail_and_refuse_nonsense() -> None:
    from fleet.report import check_thresholds, parse_thresholds

    report = report_from({"Heartbeat": [0.010] * 99 + [0.900], "Authorize": [0.002]}, timeouts=1)
    results = check_thresholds(
        parse_thresholds(
            {
                "Heartbeat.p50": "< 11ms",
                "Heartbeat.max": "< 500ms",
                "p50": "<= 0.011s",
                "timeouts": "== 0",
                "errors": "< 5%",
                "Nope.p99": "< 1s",
            }
        ),
        report,
    )
    assert [(r.name, r.passed) for r in results] == [
        ("Heartbeat.p50", True),
        ("Heartbeat.max", False),
        ("p50", True),
        ("timeouts", False),
        ("errors", True),
        ("Nope.p99", False),  # the run has no such figure: nothing shows it passed
    ]
    for key, condition in (
        ("p98", "< 1s"),
        ("p99", "< 1"),
        ("errors", "< 1ms"),
        ("p99", "about 1s"),
    ):
        with pytest.raises(ValueError, match=f"thresholds.{key}"):
            parse_thresholds({key: condition})


def test_fleet_run_exits_4_when_a_threshold_fails(tmp_path: Path) -> None:
    profile = tmp_path / "strict.toml"
    profile.write_text(
        profile_text(count="count = 5", duration='duration = "2s"')
        + '\n[thresholds]\n"BootNotification.p99" = "< 1ms"\n"p99" = "< 0.001ms"\n'
    )
    out = tmp_path / "r.json"
    result = subprocess.run(
        [*FLEET, "run", str(profile), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert "FAIL  p99 < 0.001ms" in result.stdout
    from fleet.metrics import read_report

    assert [t.passed for t in read_report(out).thresholds][-1] is False
