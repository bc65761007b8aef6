"""Phases and response times (issue 13 items 1-3).

A run's figures exist per phase (ramp, hold, fault-N, drain) and for the whole run, which is
the phases added; `report show`, `compare`, `html` and thresholds use the hold by default.
Each answered call has two latencies: from its intended send time, and its response time
(frame sent -> answer). Unit tests drive `Metrics` on a made clock; the end-to-end tests run
fleets against the `ocpp`-library CSMS, which pings, and is slow on purpose.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import trio

from fleet.metrics import (
    Metrics,
    Report,
    build_report,
    decode_histogram,
    describe_threshold,
    format_summary,
)
from fleet.profile import parse_profile
from fleet.report import check_thresholds, compare, merge, parse_bound, parse_thresholds
from fleet.run import FleetRun
from tests.peers import library_csms, wait_for
from tests.test_fleet import profile_text

FLEET = [sys.executable, "-m", "fleet"]
WALL = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T0 = 100.0


def report_of(metrics: Metrics, end: float) -> Report:
    metrics.tick(end)
    return build_report(
        metrics,
        name="phases",
        profile={"name": "phases"},
        started_at=WALL,
        ended_at=WALL + dt.timedelta(seconds=end - metrics.started_at),
        ended_monotonic=end,
    )


def answered(metrics: Metrics, action: str, intended: float, sent: float, at: float) -> None:
    metrics.call_sent(action, intended, sent)
    metrics.call_answered(action, intended, sent, at)


def assert_phases_add_up(report: Report) -> None:
    """Every count and histogram of the whole run is the sum of its phases'."""
    phases = list(report.phases.values())
    for action, stats in report.actions.items():
        parts = [p.actions[action] for p in phases if action in p.actions]
        for field in ("sent", "answered", "invalid", "timeouts", "lost"):
            assert getattr(stats, field) == sum(getattr(p, field) for p in parts), (action, field)
        assert sum(stats.errors.values()) == sum(sum(p.errors.values()) for p in parts)
        for kind in ("latency", "response"):
            whole = decode_histogram(getattr(stats, kind).histogram)
            added = sum(
                decode_histogram(getattr(p, kind).histogram).get_total_count() for p in parts
            )
            assert whole.get_total_count() == added == stats.answered, (action, kind)
    for field in msgspec.structs.fields(report.counters):
        value = getattr(report.counters, field.name)
        if isinstance(value, int):
            assert value == sum(getattr(p.counters, field.name) for p in phases), field.name
    for name in ("connect", "boot"):
        assert getattr(report, name).count == sum(getattr(p, name).count for p in phases)


# -- on a made clock ---------------------------------------------------------------------------


def test_a_call_belongs_to_the_phase_of_its_intended_time() -> None:
    metrics = Metrics(T0)
    answered(metrics, "BootNotification", T0 + 0.1, T0 + 0.1, T0 + 0.3)
    metrics.call_sent("Heartbeat", T0 + 0.9, T0 + 0.9)  # meant in the ramp ...
    metrics.ramp_done(T0 + 1.0)
    metrics.call_answered("Heartbeat", T0 + 0.9, T0 + 0.9, T0 + 1.2)  # ... answered in the hold
    answered(metrics, "Heartbeat", T0 + 2.0, T0 + 2.5, T0 + 2.51)
    metrics.call_sent("Heartbeat", T0 + 4.9, T0 + 4.9)
    metrics.drain_started(T0 + 5.0)
    metrics.call_lost("Heartbeat", T0 + 4.9, T0 + 5.5)  # lost in the drain: the hold's call
    answered(metrics, "StopTransaction", T0 + 5.1, T0 + 5.1, T0 + 5.9)
    report = report_of(metrics, T0 + 6.0)

    assert list(report.phases) == ["ramp", "hold", "drain"]
    ramp, hold, drain = (report.phases[name] for name in ("ramp", "hold", "drain"))
    assert (ramp.spans, hold.spans, drain.spans) == ([(0, 1)], [(1, 5)], [(5, 6)])
    assert (ramp.seconds, hold.seconds, drain.seconds) == (1, 4, 1)
    assert ramp.actions["Heartbeat"].answered == 1
    assert (hold.actions["Heartbeat"].sent, hold.actions["Heartbeat"].lost) == (2, 1)
    assert list(drain.actions) == ["StopTransaction"]
    # Two latencies: from the intended time (510 ms), and the response time (10 ms).
    heartbeat = hold.actions["Heartbeat"]
    assert heartbeat.latency.max_ms == pytest.approx(510, rel=1e-2)
    assert heartbeat.response is not None
    assert heartbeat.response.max_ms == pytest.approx(10, rel=1e-2)
    assert_phases_add_up(report)


def test_a_fault_has_its_own_window_until_the_fleet_recovered() -> None:
    metrics = Metrics(T0)
    for _ in range(3):
        metrics.connect_succeeded(0.01, T0 + 0.1)
    metrics.ramp_done(T0 + 1)
    metrics.fault_injected("restart", 2.0, T0 + 3)
    for _ in range(3):  # every station drops ...
        metrics.connected_stations -= 1
        metrics.disconnected(T0 + 3.1)
    answered(metrics, "Heartbeat", T0 + 4, T0 + 4, T0 + 4.5)
    for at in (T0 + 5.5, T0 + 5.6, T0 + 5.7):  # ... and is back by the third reconnect
        metrics.connect_succeeded(0.01, at)
    answered(metrics, "Heartbeat", T0 + 6, T0 + 6, T0 + 6.01)
    metrics.fault_injected("stall", 1.5, T0 + 7)  # a stall: its window is its length
    answered(metrics, "Heartbeat", T0 + 8, T0 + 8, T0 + 8.2)
    answered(metrics, "Heartbeat", T0 + 8.6, T0 + 8.6, T0 + 8.61)
    metrics.drain_started(T0 + 9)
    report = report_of(metrics, T0 + 10)

    assert list(report.phases) == ["ramp", "hold", "fault-1", "fault-2", "drain"]
    assert report.phases["fault-1"].spans == [(3, 5.7)]
    assert report.phases["fault-2"].spans == [(7, 8.5)]
    assert report.phases["hold"].spans == [(1, 3), (5.7, 7), (8.5, 9)]
    fault_1 = report.phases["fault-1"]
    # The reconnect that completes the recovery is the window's last event.
    assert (fault_1.counters.disconnects, fault_1.counters.connects) == (3, 3)
    assert report.phases["hold"].counters.connects == 0
    assert fault_1.actions["Heartbeat"].latency.max_ms == pytest.approx(500, rel=1e-2)
    assert report.phases["fault-2"].actions["Heartbeat"].answered == 1
    assert report.phases["hold"].actions["Heartbeat"].answered == 2
    assert report.faults[0].recovery_s == pytest.approx(2.7)
    assert_phases_add_up(report)
    # The per-second timeline says which phase each second ended in.
    assert [i.phase for i in report.timeline] == ["drain"]


def test_the_timeline_marks_each_seconds_phase() -> None:
    metrics = Metrics(T0)
    metrics.tick(T0 + 1)
    metrics.ramp_done(T0 + 1.5)
    metrics.tick(T0 + 2)
    metrics.drain_started(T0 + 2.5)
    metrics.tick(T0 + 3)
    assert [i.phase for i in metrics.timeline] == ["ramp", "hold", "drain"]


def test_figures_default_to_the_hold_and_name_the_phase_asked_for() -> None:
    metrics = Metrics(T0)
    for i in range(100):  # a slow boot storm, then a fast steady state, then a slow drain
        answered(metrics, "StatusNotification", T0 + i / 100, T0 + i / 100, T0 + i / 100 + 0.4)
    metrics.ramp_done(T0 + 1)
    for i in range(100):
        answered(
            metrics, "StatusNotification", T0 + 1 + i / 100, T0 + 1 + i / 100, T0 + 1.01 + i / 100
        )
    metrics.drain_started(T0 + 2)
    for i in range(100):
        answered(metrics, "StatusNotification", T0 + 2, T0 + 2, T0 + 2 + 0.3 + i / 1000)
    report = report_of(metrics, T0 + 3)

    summary = format_summary(report)
    assert "hold phase (1.0 s)" in summary
    row = next(line for line in summary.splitlines() if line.startswith("StatusNotification"))
    assert row.split()[1:3] == ["100", "100"] and row.split()[7] == "10.0"  # p99, hold
    assert "drain phase" in format_summary(report, "drain")
    every = format_summary(report, "all")
    for title in ("ramp phase", "hold phase", "drain phase", "the whole run"):
        assert title in every
    with pytest.raises(ValueError, match=r"no phase 'fault-1'.*ramp, hold, drain, run"):
        format_summary(report, "fault-1")

    thresholds = parse_thresholds(
        {
            "StatusNotification.p99": "< 20ms",  # the hold
            "ramp:StatusNotification.p50": "< 20ms",  # fails: the boot storm
            "run:StatusNotification.max": "< 350ms",  # fails: the drain
            "drain:StatusNotification.response.p50": "< 20ms",  # fails: 350 ms
            "fault-1:p99": "< 1s",  # no such phase: nothing shown, so it fails
        }
    )
    results = {r.name: (r.passed, r.actual) for r in check_thresholds(thresholds, report)}
    assert results["StatusNotification.p99"] == (True, pytest.approx(10, rel=1e-2))
    assert results["ramp:StatusNotification.p50"] == (False, pytest.approx(400, rel=1e-2))
    assert results["run:StatusNotification.max"][0] is False
    assert results["drain:StatusNotification.response.p50"] == (False, pytest.approx(350, rel=1e-2))
    assert results["fault-1:p99"] == (False, None)
    shown = [describe_threshold(r) for r in check_thresholds(
        parse_thresholds({"run:errors": "< 1%", "drain:timeouts": "== 0"}), report)]  # fmt: skip
    assert shown == ["pass  run:errors < 1%  (actual 0 %)", "pass  drain:timeouts == 0  (actual 0)"]
    with pytest.raises(ValueError, match=r"thresholds.soak:p99: unknown figure.*PHASE"):
        parse_thresholds({"soak:p99": "< 1s"})


def test_a_run_that_never_reached_the_hold_shows_the_whole_run_and_says_so() -> None:
    metrics = Metrics(T0)
    answered(metrics, "BootNotification", T0, T0, T0 + 0.1)
    metrics.drain_started(T0 + 1)  # stopped during the ramp
    summary = format_summary(report_of(metrics, T0 + 2))
    assert "the whole run (2.0 s)" in summary
    assert "note: the run had no hold phase" in summary


def test_compare_bounds_the_response_time_and_uses_the_phase_given() -> None:
    def run(delay: float) -> Report:
        metrics = Metrics(T0)
        metrics.ramp_done(T0)
        for i in range(50):  # each call waits 100 ms to go out, then `delay` for its answer
            at = T0 + i / 50
            answered(metrics, "Authorize", at, at + 0.1, at + 0.1 + delay)
        return report_of(metrics, T0 + 1)

    baseline, slower = run(0.010), run(0.020)
    rows = {
        (r.action, r.metric): r
        for r in compare(baseline, slower, [parse_bound("response.p50+50%")])
    }
    assert rows["Authorize", "response.p50"].regressed_by == ["response.p50+50%"]
    assert rows["Authorize", "p50"].change == pytest.approx(10, abs=0.2)
    assert not rows["Authorize", "p50"].regressed_by  # +9 %: 110 -> 120 ms


def test_merge_keeps_phases_exact_and_refuses_one_run_twice(tmp_path: Path) -> None:
    def shard(offset: float) -> Report:
        metrics = Metrics(T0)
        answered(metrics, "BootNotification", T0, T0, T0 + 0.2 + offset)
        metrics.ramp_done(T0 + 1)
        answered(metrics, "Heartbeat", T0 + 2, T0 + 2, T0 + 2.01 + offset)
        metrics.drain_started(T0 + 3)
        report = report_of(metrics, T0 + 4)
        return msgspec.structs.replace(
            report, notes=[f"shard {round(offset > 0)}/2 of the stations"]
        )

    one, two = shard(0.0), shard(0.005)
    merged = merge([one, two])
    assert list(merged.phases) == ["ramp", "hold", "drain"]
    assert merged.phases["hold"].actions["Heartbeat"].answered == 2
    assert merged.phases["hold"].actions["Heartbeat"].latency.max_ms == pytest.approx(15, rel=1e-2)
    assert merged.phases["hold"].spans == [(1, 3)]  # side by side: not 4 s of hold
    assert_phases_add_up(merged)
    with pytest.raises(ValueError, match=r"hold the same run.*--force"):
        merge([one, one])
    with pytest.raises(ValueError, match="hold the same run"):
        merge([merged, two])  # a merge and one of its parts
    other = msgspec.structs.replace(two, profile={"name": "another"})
    with pytest.raises(ValueError, match=r"different profiles \(name: 'phases' vs 'another'\)"):
        merge([one, other])
    assert merge([one, one], force=True).actions["Heartbeat"].answered == 2
    whole = msgspec.structs.replace(one, notes=[], run_id="another")
    with pytest.raises(ValueError, match=r"is a whole run, not a shard"):
        merge([whole, two])  # two complete runs of one profile are not one run
    again = msgspec.structs.replace(one, run_id="a third")
    with pytest.raises(ValueError, match=r"both ran shard 0/2"):
        merge([one, again, two])  # shard 0 of two runs

    # The command line says the same, naming the files, and exits 2; --force merges.
    from fleet.metrics import write_report

    write_report(one, tmp_path / "a.json")
    result = subprocess.run(
        [*FLEET, "report", "merge", "a.json", "a.json", "-o", "m.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "a.json and a.json hold the same run" in result.stderr
    assert not (tmp_path / "m.json").exists()


def test_report_show_takes_several_reports_and_states_its_units(tmp_path: Path) -> None:
    from fleet.metrics import write_report

    metrics = Metrics(T0)
    metrics.ramp_done(T0)
    for i in range(1, 101):
        answered(metrics, "Heartbeat", T0, T0, T0 + i / 1000)  # 1 .. 100 ms
    report = report_of(metrics, T0 + 1)
    for name in ("smoke-1.json", "smoke-2.json", "smoke-3.json"):
        write_report(report, tmp_path / name)

    def fleet(*args: str) -> str:
        result = subprocess.run(
            [*FLEET, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    shown = fleet("report", "show", "smoke-1.json", "smoke-2.json", "smoke-3.json")
    assert [line for line in shown.splitlines() if line.startswith("== ")] == [
        "== smoke-1.json",
        "== smoke-2.json",
        "== smoke-3.json",
    ]
    spectrum = fleet("report", "show", "smoke-1.json", "--spectrum", "Heartbeat")
    footer = {
        key.strip(): float(value.strip(" ]"))
        for line in spectrum.splitlines()
        if line.startswith("#[") and "Unit" not in line
        for key, value in (part.split("=") for part in line[2:].split(","))
    }
    # Every figure in ms: the standard deviation of 1..100 ms is 28.9 ms, not 28,866.
    assert footer["Mean"] == pytest.approx(50.5, rel=1e-2)
    assert footer["StdDeviation"] == pytest.approx(28.9, rel=2e-2)
    assert footer["Max"] == pytest.approx(100, rel=1e-2)
    assert "#[Unit    = ms]" in spectrum
    wrong = subprocess.run(
        [*FLEET, "report", "show", "smoke-1.json", "--phase", "soak"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "--phase soak: no such phase in smoke-1.json (it has ramp, hold" in wrong.stderr
    figures = json.loads(fleet("report", "show", "smoke-1.json", "--json", "--phase", "hold"))
    assert figures["phase"] == "hold"
    assert figures["actions"]["Heartbeat"]["response"]["p50_ms"] == pytest.approx(50, rel=2e-2)


# -- end to end ------------------------------------------------------------------------------


def library_profile(url: str, **lines: str) -> str:
    return profile_text(**lines).replace('csms = "embedded"', f'csms = "{url}"')


async def run_report(text: str) -> tuple[FleetRun, Report]:
    run = FleetRun(parse_profile(text))
    with trio.fail_after(90):
        await run.run()
    assert run.ended_at is not None
    report = build_report(
        run.metrics,
        name="e2e",
        profile=run.profile,
        started_at=WALL,
        ended_at=WALL,
        ended_monotonic=run.ended_at,
    )
    return run, report


@pytest.mark.deadline(120)
async def test_the_drain_burst_stays_out_of_the_hold_figures() -> None:
    """The CSMS has one worker taking 4 ms a message: the hold's trickle is served at once,
    but when every session stops at the same moment (an end window of 0 s: the burst this
    tool made before phases) messages queue for it. That burst shows in the drain, and in
    the whole run's figures, never in the hold's."""
    async with library_csms("--service-time", "0.004", "--ping-interval", "2") as csms:
        text = library_profile(
            csms.url,
            count="count = 60",
            versions='versions = { "1.6" = 1 }',
            duration='duration = "9s"',
            first_start='first_start = { distribution = "uniform", min = "1s", max = "5s" }',
            length='length = { distribution = "uniform", min = "60s", max = "90s" }',
            meter_interval='meter_interval = "3s"',
        ).replace("connectors = 2", "connectors = 1")
        run, report = await run_report(text + '\n[end]\nwindow = "0s"\n')
        assert not csms.errors()
    assert list(report.phases) == ["ramp", "hold", "drain"]
    assert_phases_add_up(report)
    hold = report.phase_view("hold").actions
    drain = report.phase_view("drain").actions
    assert "StopTransaction" not in hold  # sessions outlast the run: they stop in the drain
    assert drain["StopTransaction"].answered == report.counters.sessions_stopped > 40
    burst = drain["StatusNotification"].latency.p99_ms
    steady = hold["StatusNotification"].latency.p99_ms
    assert burst > 250 and steady < 100, (steady, burst)
    # Without phases, the burst would have been the figure a user compares.
    assert report.actions["StatusNotification"].latency.p99_ms > 250
    assert run.drained


@pytest.mark.deadline(120)
async def test_the_response_time_is_the_csms_delay_whatever_the_message_order() -> None:
    """The CSMS answers every message 40 ms late. The response time of every action is that
    delay and little more; the latency from the intended time also counts the wait for the
    station's previous call (one call out at a time): Authorize, sent right after a
    StatusNotification meant for the same moment, waits for both answers."""
    async with library_csms("--answer-delay", "0.04", "--ping-interval", "1") as csms:
        text = library_profile(
            csms.url,
            count="count = 20",
            duration='duration = "6s"',
            first_start='first_start = { distribution = "uniform", min = "0s", max = "2s" }',
            length='length = { distribution = "uniform", min = "1s", max = "2s" }',
            meter_interval='meter_interval = "1s"',
        )
        _, report = await run_report(text)
        assert not csms.errors()
    hold = report.phase_view("hold").actions
    assert {"StatusNotification", "Authorize", "StartTransaction", "MeterValues"} <= set(hold)
    for action, stats in hold.items():
        assert stats.response is not None and stats.answered, action
        assert 40 <= stats.response.p50_ms < 60, (action, stats.response)
    for action, stats in report.actions.items():  # the ramp's boot storm is slower
        assert stats.response is not None and stats.response.min_ms >= 40, action
    authorize = report.actions["Authorize"]
    assert authorize.response is not None
    assert authorize.latency.p50_ms - authorize.response.p50_ms >= 30


@pytest.mark.deadline(120)
async def test_an_end_by_disconnect_leaves_sessions_open_as_a_power_cut_would() -> None:
    async with library_csms("--ping-interval", "1") as csms:
        text = library_profile(
            csms.url,
            count="count = 20",
            duration='duration = "3s"',
            length='length = { distribution = "uniform", min = "30s", max = "40s" }',
        )
        run, report = await run_report(text + '\n[end]\nmode = "disconnect"\n')
        await wait_for(
            lambda: sum(1 for line in csms.lines if line.get("direction") == "received") > 0
        )
    drain = report.phases["drain"]
    assert report.counters.sessions_started > 10
    assert report.counters.sessions_stopped == 0  # nothing stopped: the power went
    assert "StopTransaction" not in drain.actions
    assert drain.seconds < 2  # no stop window, no close handshake to wait for
    # Nothing uncounted: each transaction message was answered, or is undelivered.
    counters = report.counters
    assert counters.transaction_messages >= counters.sessions_started
    assert counters.transaction_messages_dropped == 0
    assert run.drained
    from fleet.run._command import _notes

    (note,) = [n for n in _notes(run) if n.startswith("[end]")]
    assert f"with {counters.sessions_started} sessions open" in note


def test_report_errors_name_their_flag_in_one_line(tmp_path: Path) -> None:
    from fleet.metrics import write_report

    metrics = Metrics(T0)
    answered(metrics, "Heartbeat", T0, T0, T0 + 0.01)
    write_report(report_of(metrics, T0 + 1), tmp_path / "r.json")
    cases = [
        (["compare", "r.json", "r.json", "--fail-on", "p99x"], "fleet report: --fail-on: bad bound 'p99x'"),
        (["compare", "r.json", "r.json", "--fail-on", "heartbeat.p99+1%"],
         "fleet report: --fail-on heartbeat.p99+1%: no action 'heartbeat' in these reports (Heartbeat)"),
        (["merge", "r.json", "-o", str(tmp_path / "r.json" / "m.json")], "fleet report: --out "),
        (["html", "r.json", "-o", str(tmp_path)], f"fleet report: --out {tmp_path}: cannot write: "),
        (["show", "r.json", "--response"], "fleet report: --response goes with --spectrum ACTION"),
        (["show", "r.json", "--spectrum", "boot"], "fleet report: --spectrum boot: no samples in the"),
    ]  # fmt: skip
    for args, start in cases:
        result = subprocess.run(
            [*FLEET, "report", *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith(start) and len(result.stderr.splitlines()) == 1, (
            args,
            result.stderr,
        )


@pytest.mark.deadline(60)
async def test_pending_boots_do_not_keep_the_fleet_in_the_ramp() -> None:
    """A fifth of the boots are answered Pending (retried 30 s later, past the run's end):
    the ramp ends once every first boot had its answer, not at its deadline."""
    text = profile_text(
        count="count = 20",
        duration='duration = "4s"',
        response_delay='response_delay = "0s"\nboot_pending_share = 0.2',  # in [embedded]
        heartbeat_interval="heartbeat_interval = 30",  # Pending: retried after 30 s
    )
    _, report = await run_report(text)
    assert report.boot.count < 20  # some stayed Pending
    (ramp,) = report.phases["ramp"].spans
    assert ramp[1] < 3, report.phases["ramp"]
    assert report.phases["hold"].seconds > 1
