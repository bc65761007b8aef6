"""Working with finished reports: merge shards exactly, compare builds, check bounds.

Merging adds the HdrHistograms themselves, so merged percentiles are those of one histogram
holding every sample. Timeline intervals keep only their own p50/p99/max, which cannot be
merged exactly: a merged interval shows the worst shard's figures (an upper bound), and the
merged report says so in its notes.
"""

from __future__ import annotations

import collections
import datetime as dt
import re
from typing import Any

import msgspec

from fleet.metrics import (
    ActionStats,
    Counters,
    Environment,
    Interval,
    Report,
    decode_histogram,
    latency_stats,
    new_histogram,
)
from fleet.metrics._report import redact_report

__all__ = [
    "Bound",
    "Comparison",
    "compare",
    "error_rate",
    "merge",
    "merge_intervals",
    "parse_bound",
    "throughput",
]

# The report's counters that are tables of counts by kind, not single counts.
_COUNTS_BY_KIND = ("connect_failures", "station_faults")

LATENCY_FIELDS = ("p50", "p90", "p99", "p99.9", "max", "mean")


def _merge_latency(encoded: list[str]) -> Any:
    histogram = new_histogram()
    for item in encoded:
        histogram.add(decode_histogram(item))
    return latency_stats(histogram)


def merge(reports: list[Report], name: str | None = None) -> Report:
    """One report of several shards of a run (processes or machines); the first's profile,
    redacted (no secret survives a merge, whatever the shards' reports held).

    Raises:
        ValueError: no reports.
    """
    if not reports:
        raise ValueError("nothing to merge")
    reports = [redact_report(report) for report in reports]
    first = reports[0]
    actions: dict[str, ActionStats] = {}
    for action in sorted({a for r in reports for a in r.actions}):
        parts = [r.actions[action] for r in reports if action in r.actions]
        errors: collections.Counter[str] = collections.Counter()
        for part in parts:
            errors.update(part.errors)
        actions[action] = ActionStats(
            sent=sum(p.sent for p in parts),
            answered=sum(p.answered for p in parts),
            errors=dict(sorted(errors.items())),
            invalid=sum(p.invalid for p in parts),
            timeouts=sum(p.timeouts for p in parts),
            lost=sum(p.lost for p in parts),
            latency=_merge_latency([p.latency.histogram for p in parts]),
        )
    # Counters by kind (connect failures by reason, station faults by kind): added per kind.
    by_kind = {field: collections.Counter[str]() for field in _COUNTS_BY_KIND}
    for report in reports:
        for field, counts in by_kind.items():
            counts.update(getattr(report.counters, field))
    started = min(r.started_at for r in reports)
    ended = max(r.ended_at for r in reports)
    cpu = sum(r.environment.cpu_percent for r in reports)
    hosts = sorted({r.environment.hostname for r in reports})
    notes = [f"merged from {len(reports)} reports"]
    notes.append("timeline p50/p99/max per interval: the worst shard's (an upper bound)")
    notes += sorted({note for r in reports for note in r.notes})
    return Report(
        name=name or first.name,
        profile=first.profile,
        started_at=started,
        ended_at=ended,
        duration_s=round((ended - started).total_seconds(), 3),
        environment=Environment(
            fleet_version=first.environment.fleet_version,
            python=first.environment.python,
            platform=first.environment.platform,
            hostname=",".join(hosts),
            cpu_count=sum(r.environment.cpu_count for r in reports),
            cpu_percent=round(cpu, 1),
            cpu_suspect=any(r.environment.cpu_suspect for r in reports),
        ),
        actions=actions,
        connect=_merge_latency([r.connect.histogram for r in reports]),
        boot=_merge_latency([r.boot.histogram for r in reports]),
        counters=Counters(
            **{field: dict(sorted(counts.items())) for field, counts in by_kind.items()},
            **{  # every other counter is a count: summed
                field: sum(getattr(r.counters, field) for r in reports)
                for field in Counters.__struct_fields__
                if field not in by_kind
            },
        ),
        timeline=_merge_timelines(reports, started),
        # Each shard's view of the faults, on the merged clock.
        faults=sorted(
            (
                msgspec.structs.replace(
                    f, at_s=round(f.at_s + (r.started_at - started).total_seconds(), 3)
                )
                for r in reports
                for f in r.faults
            ),
            key=lambda f: f.at_s,
        ),
        interrupted=any(r.interrupted for r in reports),
        notes=notes,
    )


def _merge_timelines(reports: list[Report], started: dt.datetime) -> list[Interval]:
    """Intervals aligned on wall-clock seconds since the earliest start, then summed."""
    buckets: dict[int, list[Interval]] = collections.defaultdict(list)
    for report in reports:
        offset = (report.started_at - started).total_seconds()
        for interval in report.timeline:
            buckets[round(offset + interval.t)].append(interval)
    return [merge_intervals(float(second), buckets[second]) for second in sorted(buckets)]


def merge_intervals(t: float, parts: list[Interval]) -> Interval:
    """One interval of several shards' same second: counts added, latency figures the worst
    shard's (an upper bound: per-interval histograms are not kept)."""
    return Interval(
        t=t,
        seconds=max(p.seconds for p in parts),
        connected=sum(p.connected for p in parts),
        sent=sum(p.sent for p in parts),
        answered=sum(p.answered for p in parts),
        errors=sum(p.errors for p in parts),
        timeouts=sum(p.timeouts for p in parts),
        rate=round(sum(p.rate for p in parts), 1),
        p50_ms=max(p.p50_ms for p in parts),
        p99_ms=max(p.p99_ms for p in parts),
        max_ms=max(p.max_ms for p in parts),
        connects=sum(p.connects for p in parts),
    )


def throughput(report: Report, action: str | None = None) -> float:
    """Answered calls per second over the run (of one action, or all)."""
    if report.duration_s <= 0:
        return 0.0
    stats = [report.actions[action]] if action else list(report.actions.values())
    return sum(s.answered for s in stats) / report.duration_s


def error_rate(report: Report, action: str | None = None) -> float:
    """Share (percent) of sent calls that got no valid answer: CALLERROR, invalid, timeout,
    or lost."""
    stats = [report.actions[action]] if action else list(report.actions.values())
    sent = sum(s.sent for s in stats)
    failed = sum(sum(s.errors.values()) + s.invalid + s.timeouts + s.lost for s in stats)
    return 100.0 * failed / sent if sent else 0.0


def _latency(stats: ActionStats, field: str) -> float:
    lat = stats.latency
    return {
        "p50": lat.p50_ms,
        "p90": lat.p90_ms,
        "p99": lat.p99_ms,
        "p99.9": lat.p99_9_ms,
        "max": lat.max_ms,
        "mean": lat.mean_ms,
    }[field]


class Bound(msgspec.Struct, frozen=True):
    """A regression bound, e.g. ``p99+10%``, ``Heartbeat.p99+5ms``, ``errors+0.1%``.

    metric: a latency field (p50, p90, p99, p99.9, max, mean), ``errors`` (error rate, in
    percentage points) or ``throughput`` (a drop, in percent); action: limits it to one action.
    """

    text: str
    action: str | None
    metric: str
    amount: float
    unit: str  # "%" or "ms" (latency), "%" (errors: points; throughput: relative)


_BOUND = re.compile(
    r"^(?:(?P<action>[A-Za-z0-9]+)\.)?(?P<metric>p50|p90|p99\.9|p99|max|mean|errors|throughput)"
    r"(?P<sign>[+-])(?P<amount>\d+(?:\.\d+)?)(?P<unit>%|ms)$"
)


def parse_bound(text: str) -> Bound:
    """Parse a ``--fail-on`` bound.

    Raises:
        ValueError: not a bound; the message shows the accepted forms.
    """
    match = _BOUND.match(text.strip())
    if match is None:
        raise ValueError(
            f"bad bound {text!r}: use METRIC+N% or METRIC+Nms (METRIC: p50, p90, p99, p99.9, "
            "max, mean, errors, or throughput-N%), optionally ACTION.METRIC"
        )
    metric, sign, unit = match["metric"], match["sign"], match["unit"]
    if metric == "throughput" and (sign != "-" or unit != "%"):
        raise ValueError(f"bad bound {text!r}: throughput bounds a drop: throughput-N%")
    if metric != "throughput" and sign != "+":
        raise ValueError(f"bad bound {text!r}: bounds limit increases: {metric}+N{unit}")
    if metric == "errors" and unit != "%":
        raise ValueError(f"bad bound {text!r}: errors are bounded in percentage points: errors+N%")
    return Bound(text.strip(), match["action"], metric, float(match["amount"]), unit)


class Comparison(msgspec.Struct, frozen=True):
    """One figure of one action in a baseline and a candidate report."""

    action: str
    metric: str
    baseline: float
    candidate: float
    change: float  # candidate - baseline
    change_percent: float | None  # relative, when the baseline is not 0
    regressed_by: list[str] = []  # the bounds this breaks


def compare(baseline: Report, candidate: Report, bounds: list[Bound]) -> list[Comparison]:
    """Per action (and "*" for all): latency figures, throughput and error rate."""
    rows: list[Comparison] = []
    actions = sorted(set(baseline.actions) & set(candidate.actions))
    for action in [*actions, "*"]:
        figures: list[tuple[str, float, float]] = []
        if action != "*":
            a, b = baseline.actions[action], candidate.actions[action]
            figures += [(f, _latency(a, f), _latency(b, f)) for f in LATENCY_FIELDS]
        scope = None if action == "*" else action
        figures.append(("throughput", throughput(baseline, scope), throughput(candidate, scope)))
        figures.append(("errors", error_rate(baseline, scope), error_rate(candidate, scope)))
        for metric, old, new in figures:
            change = new - old
            percent = 100.0 * change / old if old else None
            broken = [b.text for b in bounds if _breaks(b, action, metric, old, new)]
            rows.append(
                Comparison(action, metric, round(old, 3), round(new, 3), round(change, 3),
                           None if percent is None else round(percent, 1), broken)
            )  # fmt: skip
    return rows


def _breaks(bound: Bound, action: str, metric: str, old: float, new: float) -> bool:
    if bound.metric != metric:
        return False
    if bound.action is not None and bound.action != action:
        return False
    if bound.action is None and action == "*" and metric in LATENCY_FIELDS:
        return False
    if bound.action is None and action != "*" and metric in ("errors", "throughput"):
        return False  # unscoped error and throughput bounds apply to the run as a whole
    if metric == "errors":
        return new - old > bound.amount
    if metric == "throughput":
        return old > 0 and 100.0 * (old - new) / old > bound.amount
    if bound.unit == "ms":
        return new - old > bound.amount
    if old == 0:
        return new > 0 and bound.amount < 100
    return 100.0 * (new - old) / old > bound.amount
