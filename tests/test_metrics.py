"""Metrics and reports, without a run: known samples in, exact figures out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec
import pytest

from fleet.metrics import (
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


def recorded() -> Metrics:
    metrics = Metrics(T0)
    for i in range(1000):  # 20 ms each, measured from the intended time
        metrics.call_sent("Heartbeat", T0 + i * 0.001, T0 + i * 0.001)
        metrics.call_answered("Heartbeat", T0 + i * 0.001, T0 + i * 0.001, T0 + i * 0.001 + 0.020)
    for _ in range(10):  # ten 1 s outliers
        metrics.call_sent("Heartbeat", T0, T0)
        metrics.call_answered("Heartbeat", T0, T0, T0 + 1.0)
    for _ in range(3):
        metrics.call_sent("Authorize", T0, T0)
        metrics.call_timed_out("Authorize", T0, T0 + 30)
    metrics.call_sent("Authorize", T0, T0)
    metrics.call_errored("Authorize", "SecurityError", T0, T0 + 0.1)
    metrics.connect_succeeded(0.002, T0)
    metrics.boot_accepted(0.004, T0)
    return metrics


def report_of(metrics: Metrics, **extra: object) -> Report:
    return build_report(
        metrics,
        name="unit",
        profile={"name": "unit"},
        started_at=WALL,
        ended_at=WALL + dt.timedelta(seconds=2),
        ended_monotonic=T0 + 2,
        **extra,  # type: ignore[arg-type]
    )


def test_percentiles_come_from_intended_time_latency() -> None:
    report = report_of(recorded())
    heartbeat = report.actions["Heartbeat"]
    assert (heartbeat.sent, heartbeat.answered) == (1010, 1010)
    # HdrHistogram keeps 3 significant digits: 20 ms reads back within 0.1 %.
    assert heartbeat.latency.p50_ms == pytest.approx(20, rel=1e-3)
    assert heartbeat.latency.p99_ms == pytest.approx(20, rel=1e-3)
    assert heartbeat.latency.p99_9_ms == pytest.approx(1000, rel=1e-3)
    assert heartbeat.latency.max_ms == pytest.approx(1000, rel=1e-3)


def test_timeouts_and_errors_are_counted_without_latency_samples() -> None:
    authorize = report_of(recorded()).actions["Authorize"]
    assert (authorize.sent, authorize.answered, authorize.timeouts) == (4, 0, 3)
    assert authorize.errors == {"SecurityError": 1}
    assert authorize.latency.count == 0


def test_the_report_keeps_every_sample_in_the_histogram() -> None:
    report = report_of(recorded())
    histogram = decode_histogram(report.actions["Heartbeat"].latency.histogram)
    assert histogram.get_total_count() == 1010
    assert histogram.get_value_at_percentile(50) == pytest.approx(20_000, rel=1e-3)


def test_ticks_close_intervals_and_reset_their_percentiles() -> None:
    metrics = Metrics(T0)
    metrics.connected_stations = 3
    metrics.call_sent("Heartbeat", T0 + 0.1, T0 + 0.1)
    metrics.call_answered("Heartbeat", T0 + 0.1, T0 + 0.1, T0 + 0.15)
    first = metrics.tick(T0 + 1)
    assert (first.t, first.connected, first.sent, first.answered) == (1.0, 3, 1, 1)
    assert first.p50_ms == pytest.approx(50, rel=1e-3)
    second = metrics.tick(T0 + 2)
    assert (second.answered, second.p50_ms, second.max_ms) == (0, 0.0, 0.0)
    metrics.call_timed_out("Heartbeat", T0 + 2, T0 + 2.5)
    assert metrics.tick(T0 + 3).timeouts == 1
    assert len(metrics.timeline) == 3


def test_per_action_state_is_made_once_per_phase() -> None:
    metrics = Metrics(T0)
    metrics.call_answered("Heartbeat", T0, T0, T0 + 0.01)
    record = metrics.phases["ramp"].actions["Heartbeat"]
    metrics.call_answered("Heartbeat", T0, T0, T0 + 0.01)
    assert metrics.phases["ramp"].actions["Heartbeat"] is record
    assert record.answered == 2


def test_write_then_read_gives_the_same_report(tmp_path: Path) -> None:
    report = report_of(recorded(), notes=["a note"])
    path = tmp_path / "deep" / "report.json"
    write_report(report, path)
    assert read_report(path) == report
    assert list(tmp_path.joinpath("deep").iterdir()) == [path]  # no temporary left behind


def test_reading_something_that_is_not_a_report_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        read_report(tmp_path / "missing.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(ValueError, match=r"garbage\.json: not an ocpp-fleet report"):
        read_report(garbage)
    other = tmp_path / "other.json"
    data = msgspec.json.decode(msgspec.json.encode(report_of(recorded())))
    data["format"] = "something-else/9"
    other.write_bytes(msgspec.json.encode(data))
    with pytest.raises(ValueError, match="report format 'something-else/9'"):
        read_report(other)


def test_summary_has_a_row_per_action_and_flags_a_busy_generator() -> None:
    report = report_of(recorded())

    def with_cpu(percent: float) -> Report:
        environment = msgspec.structs.replace(
            report.environment, cpu_percent=percent, cpu_suspect=percent > 90
        )
        return msgspec.structs.replace(report, environment=environment)

    text = format_summary(with_cpu(12.0))
    assert "Heartbeat" in text and "Authorize" in text and "(connect: handshake)" in text
    assert "SUSPECT" not in text
    assert "SUSPECT: generator CPU > 90 %" in format_summary(with_cpu(97.0))


def test_an_empty_run_still_makes_a_report() -> None:
    report = report_of(Metrics(T0))
    assert report.actions == {}
    assert report.connect.count == 0
    assert "unit" in format_summary(report)


def test_interval_percentiles_are_exact_nearest_rank() -> None:
    metrics = Metrics(T0)
    for ms in range(1, 201):  # 1..200 ms, in shuffled order
        latency = ((ms * 7919) % 200 + 1) / 1000
        metrics.call_answered("Heartbeat", T0, T0, T0 + latency)
    interval = metrics.tick(T0 + 1)
    assert (interval.answered, interval.p50_ms, interval.p99_ms, interval.max_ms) == (
        200,
        100.0,
        198.0,
        200.0,
    )
