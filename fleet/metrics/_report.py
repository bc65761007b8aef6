"""The run report: one JSON file per run, written and read with msgspec.

Percentile figures are for people; the full histograms, in HdrHistogram's standard compressed
encoding, are for machines: reports can be merged and re-analysed without losing a sample.

Reports are shared, so no secret is ever in one: the profile's secret fields are ``"***"``
(`fleet.profile.redacted`) when a report is built, again when it is written, and when one is
read (a report written before redaction existed is shown and merged without its password).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import socket
import tempfile
from pathlib import Path
from typing import Any

import msgspec
from hdrh.histogram import HdrHistogram

import fleet
from fleet.metrics._recorder import FaultMark, Interval, Metrics
from fleet.profile import redact_text, redacted, secret_values

__all__ = [
    "REPORT_FORMAT",
    "ActionStats",
    "Counters",
    "Environment",
    "FaultRecord",
    "LatencyStats",
    "Report",
    "ThresholdResult",
    "build_report",
    "decode_histogram",
    "format_summary",
    "latency_stats",
    "read_report",
    "redact_report",
    "write_report",
]

REPORT_FORMAT = "ocpp-fleet-report/1"
# Above this, the generator itself may be what the latencies measure (Locust warns at 90 %).
CPU_SUSPECT_PERCENT = 90.0


class _ReportStruct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class LatencyStats(_ReportStruct):
    """Latency of one kind of exchange, in milliseconds; `histogram` holds every sample."""

    count: int
    min_ms: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p99_9_ms: float
    max_ms: float
    histogram: str  # HdrHistogram.encode(): compressed, base64; values in microseconds


class ActionStats(_ReportStruct):
    sent: int
    answered: int
    errors: dict[str, int]  # CALLERROR answers by code
    invalid: int  # answers that broke the schema
    timeouts: int  # never answered in time: no latency sample, so counted here
    lost: int  # the connection closed first
    latency: LatencyStats


class Counters(_ReportStruct):
    connects: int
    connect_failures: dict[str, int]
    disconnects: int
    reconnects: int
    sessions_started: int
    sessions_stopped: int
    invalid_messages: int  # bad frames from the CSMS, answered or counted
    # Transaction messages (StartTransaction, StopTransaction, MeterValues, TransactionEvent).
    # Each one produced is acknowledged, dropped or undelivered: nothing disappears uncounted.
    transaction_messages: int = 0  # produced
    transaction_messages_queued: int = 0  # held for a later connection (offline, or lost)
    transaction_messages_delivered_late: int = 0  # of those, answered after a reconnect
    transaction_messages_requeued: int = 0  # sends repeated (lost, CALLERROR, timeout)
    transaction_messages_dropped: int = 0  # given up: attempts used up, or queue overflow
    transaction_messages_undelivered: int = 0  # still queued or unanswered at the end
    # exceptions that escaped a station (its watchdog restarted it), by kind; the first
    # traceback of each is in the log next to the report
    station_faults: dict[str, int] = {}


class Environment(_ReportStruct):
    fleet_version: str
    python: str
    platform: str
    hostname: str
    cpu_count: int
    cpu_percent: float  # the generator's CPU over the run, in % of one core
    cpu_suspect: bool  # above 90 %: latencies may be the generator's, not the CSMS's


class FaultRecord(_ReportStruct):
    """A fault the embedded CSMS injected, and how the fleet came through it."""

    # "restart", "drop", "stall", "reset" or "close <code>" (a clean close, e.g. "close 1011")
    kind: str
    amount: float  # seconds down or stalled, or the share of connections dropped/closed/reset
    at_s: float  # seconds after the start
    connected_before: int
    # seconds from the fault until as many stations were connected again; None: not within
    # the run, or a stall (connections stay)
    recovery_s: float | None
    # the reconnect storm: most connections opened in one second, from the fault to recovery
    peak_connects_per_s: int


class ThresholdResult(_ReportStruct):
    """A profile threshold checked at the end of the run."""

    name: str  # e.g. "BootNotification.p99"
    condition: str  # e.g. "< 500ms"
    actual: float | None  # ms, percent or count; None when the run has no such figure
    passed: bool


class Report(_ReportStruct, kw_only=True):
    format: str = REPORT_FORMAT
    name: str
    profile: dict[str, Any]  # the profile as run, secrets "***" (see `redact_report`)
    started_at: dt.datetime
    ended_at: dt.datetime
    duration_s: float
    environment: Environment
    actions: dict[str, ActionStats]
    connect: LatencyStats
    boot: LatencyStats
    counters: Counters
    timeline: list[Interval]
    interrupted: bool = False
    notes: list[str] = []
    thresholds: list[ThresholdResult] = []
    faults: list[FaultRecord] = []


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Report)


def decode_histogram(encoded: str) -> HdrHistogram:
    """The histogram a report stored (values in microseconds)."""
    return HdrHistogram.decode(encoded.encode("ascii"))


def latency_stats(histogram: HdrHistogram) -> LatencyStats:
    """Summary figures (ms) and the encoded histogram."""
    count = histogram.get_total_count()
    encoded = histogram.encode().decode("ascii")
    if not count:
        return LatencyStats(
            count=0,
            min_ms=0.0,
            mean_ms=0.0,
            p50_ms=0.0,
            p90_ms=0.0,
            p99_ms=0.0,
            p99_9_ms=0.0,
            max_ms=0.0,
            histogram=encoded,
        )
    percentiles = histogram.get_percentile_to_value_dict([50, 90, 99, 99.9])
    return LatencyStats(
        count=count,
        min_ms=round(histogram.get_min_value() / 1000, 3),
        mean_ms=round(histogram.get_mean_value() / 1000, 3),
        p50_ms=round(percentiles[50] / 1000, 3),
        p90_ms=round(percentiles[90] / 1000, 3),
        p99_ms=round(percentiles[99] / 1000, 3),
        p99_9_ms=round(percentiles[99.9] / 1000, 3),
        max_ms=round(histogram.get_max_value() / 1000, 3),
        histogram=encoded,
    )


def build_report(
    metrics: Metrics,
    *,
    name: str,
    profile: Any,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    ended_monotonic: float,
    interrupted: bool = False,
    notes: list[str] | None = None,
) -> Report:
    """The report of a finished run.

    `profile` is the `Profile` (or its builtins); the report holds it redacted: its secrets
    are ``"***"``, and hidden in `notes` too.
    """
    secrets = secret_values(profile)
    cpu = metrics.cpu_percent()
    actions = {
        action: ActionStats(
            sent=record.sent,
            answered=record.answered,
            errors=dict(sorted(record.errors.items())),
            invalid=record.invalid,
            timeouts=record.timeouts,
            lost=record.lost,
            latency=latency_stats(record.histogram),
        )
        for action, record in sorted(metrics.actions.items())
    }
    return Report(
        name=name,
        profile=redacted(profile),
        started_at=started_at,
        ended_at=ended_at,
        duration_s=round(max(ended_monotonic - metrics.started_at, 0.0), 3),
        environment=Environment(
            fleet_version=fleet.__version__,
            python=platform.python_version(),
            platform=platform.platform(),
            hostname=socket.gethostname(),
            cpu_count=os.cpu_count() or 1,
            cpu_percent=round(cpu, 1),
            cpu_suspect=cpu > CPU_SUSPECT_PERCENT,
        ),
        actions=actions,
        connect=latency_stats(metrics.connect),
        boot=latency_stats(metrics.boot),
        counters=Counters(
            connects=metrics.connects,
            connect_failures=dict(sorted(metrics.connect_failures.items())),
            disconnects=metrics.disconnects,
            reconnects=metrics.reconnects,
            sessions_started=metrics.sessions_started,
            sessions_stopped=metrics.sessions_stopped,
            invalid_messages=metrics.invalid_messages,
            transaction_messages=metrics.transaction_messages,
            transaction_messages_queued=metrics.transaction_messages_queued,
            transaction_messages_delivered_late=metrics.transaction_messages_delivered_late,
            transaction_messages_requeued=metrics.transaction_messages_requeued,
            transaction_messages_dropped=metrics.transaction_messages_dropped,
            transaction_messages_undelivered=metrics.transaction_messages_undelivered,
            station_faults=dict(sorted(metrics.station_faults.items())),
        ),
        timeline=list(metrics.timeline),
        interrupted=interrupted,
        notes=[redact_text(note, secrets) for note in notes or []],
        faults=[_fault_record(mark, metrics.timeline) for mark in metrics.faults],
    )


def redact_report(report: Report) -> Report:
    """`report` without secrets: its profile redacted (`fleet.profile.redacted`), and the
    profile's secrets, URL passwords and Basic-auth tokens hidden in its notes. Reports are
    redacted when built, written and read; this is idempotent and cheap."""
    secrets = secret_values(report.profile)
    profile = redacted(report.profile)
    notes = [redact_text(note, secrets) for note in report.notes]
    if profile == report.profile and notes == report.notes:
        return report
    return msgspec.structs.replace(report, profile=profile, notes=notes)


def describe_fault(fault: FaultRecord) -> str:
    """One line: what happened and how the fleet came through it."""
    kind, _, code = fault.kind.partition(" ")
    what = {
        "restart": f"restart (down {fault.amount:g} s)",
        "drop": f"drop {fault.amount:.0%} of connections",
        "stall": f"stall {fault.amount:g} s",
        "close": f"close {fault.amount:.0%} of connections" + (f" (code {code})" if code else ""),
        "reset": f"reset {fault.amount:.0%} of connections",
    }.get(kind, fault.kind)
    if not fault.connected_before:
        return f"{fault.at_s:8.1f} s  {what}: no station was connected"
    line = f"{fault.at_s:8.1f} s  {what}: {fault.connected_before:,} connected before"
    if fault.kind == "stall":
        return line
    recovery = (
        "not all back by the end"
        if fault.recovery_s is None
        else f"all back after {fault.recovery_s:.1f} s"
    )
    return f"{line}; {recovery}; reconnect peak {fault.peak_connects_per_s:,}/s"


def _fault_record(mark: FaultMark, timeline: list[Interval]) -> FaultRecord:
    recovery = None if mark.recovered_at is None else round(mark.recovered_at - mark.at, 3)
    until = mark.recovered_at if mark.recovered_at is not None else math.inf
    # Interval t is its end: those that overlap [fault, recovery].
    storm = [i.connects for i in timeline if i.t > mark.at and i.t - i.seconds <= until]
    if not mark.connected_before:
        storm = []  # nothing to recover from
    return FaultRecord(
        kind=mark.kind,
        amount=mark.amount,
        at_s=round(mark.at, 3),
        connected_before=mark.connected_before,
        recovery_s=recovery,
        peak_connects_per_s=max(storm, default=0),
    )


def write_report(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the report as readable JSON; atomically, so a reader never sees half a file.

    Secrets are redacted first (`redact_report`), whoever built the report.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = msgspec.json.format(_ENCODER.encode(redact_report(report)), indent=2)
    fd, temporary = tempfile.mkstemp(prefix=target.name + ".", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.write(b"\n")
        os.chmod(temporary, 0o644)  # a report is for sharing; mkstemp makes it private
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_report(path: str | os.PathLike[str]) -> Report:
    """Read a report file, its secrets redacted (`redact_report`): a report written before
    redaction existed is shown, merged and compared without them.

    Raises:
        ValueError: the file is missing, not JSON, or not a report of this format (the
            message names the file and the problem).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        report = _DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise ValueError(f"{path}: not an ocpp-fleet report: {exc}") from None
    if report.format != REPORT_FORMAT:
        raise ValueError(f"{path}: report format {report.format!r}, expected {REPORT_FORMAT!r}")
    return redact_report(report)


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def format_summary(report: Report) -> str:
    """The end-of-run table, plain text."""
    env = report.environment
    lines = [
        f"{report.name}: {report.duration_s:,.1f} s, {report.counters.connects:,} connects, "
        f"generator CPU {env.cpu_percent:.0f} %" + (" (interrupted)" if report.interrupted else ""),
    ]
    if env.cpu_suspect:
        lines.append("SUSPECT: generator CPU > 90 %: latencies may measure the fleet, not the CSMS")
    header = (
        f"{'action':<34}{'sent':>9}{'answered':>10}{'errors':>8}{'timeouts':>9}"
        f"{'p50':>9}{'p90':>9}{'p99':>9}{'p99.9':>9}{'max':>9}  (ms)"
    )
    lines += ["", header, "-" * len(header)]
    for action, stats in report.actions.items():
        errors = sum(stats.errors.values()) + stats.invalid + stats.lost
        lat = stats.latency
        lines.append(
            f"{action:<34}{stats.sent:>9,}{stats.answered:>10,}{errors:>8,}{stats.timeouts:>9,}"
            f"{_ms(lat.p50_ms):>9}{_ms(lat.p90_ms):>9}{_ms(lat.p99_ms):>9}"
            f"{_ms(lat.p99_9_ms):>9}{_ms(lat.max_ms):>9}"
        )
    for label, lat in (
        ("(connect: handshake)", report.connect),
        ("(boot: to Accepted)", report.boot),
    ):
        lines.append(
            f"{label:<34}{lat.count:>9,}{'':>10}{'':>8}{'':>9}"
            f"{_ms(lat.p50_ms):>9}{_ms(lat.p90_ms):>9}{_ms(lat.p99_ms):>9}"
            f"{_ms(lat.p99_9_ms):>9}{_ms(lat.max_ms):>9}"
        )
    counters = report.counters
    failures = sum(counters.connect_failures.values())
    lines += [
        "",
        f"sessions started {counters.sessions_started:,}, stopped {counters.sessions_stopped:,}; "
        f"connect failures {failures:,}; disconnects {counters.disconnects:,}; "
        f"reconnects {counters.reconnects:,}; invalid messages from the CSMS "
        f"{counters.invalid_messages:,}",
        f"transaction messages {counters.transaction_messages:,}: held offline "
        f"{counters.transaction_messages_queued:,}, delivered late "
        f"{counters.transaction_messages_delivered_late:,}, sent again "
        f"{counters.transaction_messages_requeued:,}, dropped "
        f"{counters.transaction_messages_dropped:,}, undelivered at the end "
        f"{counters.transaction_messages_undelivered:,}",
    ]
    if counters.station_faults:
        total = sum(counters.station_faults.values())
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in counters.station_faults.items())
        lines.append(f"station faults {total:,} (each station restarted by its watchdog): {kinds}")
    if report.faults:
        lines += ["", "faults injected by the embedded CSMS:"]
        lines += [f"  {describe_fault(fault)}" for fault in report.faults]
    if report.thresholds:
        failed = sum(not t.passed for t in report.thresholds)
        lines += ["", f"thresholds: {len(report.thresholds) - failed} passed, {failed} failed"]
        for result in report.thresholds:
            metric = result.name.rsplit(".", 1)[-1] if "." in result.name else result.name
            if result.name.endswith("p99.9"):
                metric = "p99.9"
            unit = {"errors": " %", "timeouts": ""}.get(metric, " ms")
            actual = "none" if result.actual is None else f"{result.actual:,.3g}{unit}"
            verdict = "pass" if result.passed else "FAIL"
            lines.append(f"  {verdict}  {result.name} {result.condition}  (actual {actual})")
    for note in report.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)
