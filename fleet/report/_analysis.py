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
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

from fleet.metrics import (
    ActionStats,
    CsmsActionStats,
    Environment,
    Interval,
    PhaseStats,
    Report,
    add_campaigns,
    add_stats,
)
from fleet.metrics._report import campaign_note, is_campaign_note, redact_report

__all__ = [
    "Bound",
    "Comparison",
    "check_mergeable",
    "compare",
    "error_rate",
    "merge",
    "merge_intervals",
    "parse_bound",
    "throughput",
]

LATENCY_FIELDS = ("p50", "p90", "p99", "p99.9", "max", "mean")


def check_mergeable(reports: list[Report], names: list[str] | None = None) -> None:
    """Refuse what would make a merge's counts false: one run twice (the same report, or a
    report and a merge holding it), and runs of different profiles (different tests; the
    shards of one run share their profile). `names` label the reports in the message.

    Raises:
        ValueError: says which reports and why, and that ``--force`` merges anyway.
    """
    labels = names or [report.name for report in reports]
    seen: dict[str, str] = {}
    for label, report in zip(labels, reports, strict=True):
        for run_id in report.run_ids or [_fingerprint(report)]:
            if run_id in seen:
                raise ValueError(
                    f"{seen[run_id]} and {label} hold the same run: merged, its counts would "
                    "double (--force merges anyway)"
                )
            seen[run_id] = label
    if len(reports) > 1:
        _check_shards(reports, labels)
    first = reports[0].profile
    for label, report in zip(labels[1:], reports[1:], strict=True):
        difference = _first_difference(first, report.profile)
        if difference is not None:
            raise ValueError(
                f"{labels[0]} and {label} ran different profiles ({difference}): not shards "
                "of one run (--force merges anyway)"
            )


_SHARD_NOTE = re.compile(r"^shard (\d+)/(\d+) of the stations$")


def _check_shards(reports: list[Report], labels: list[str]) -> None:
    # Shards say which stations they ran ("shard I/N of the stations", a worker's each):
    # two whole runs, or one shard from two runs, would count stations twice.
    owner: dict[tuple[int, int], str] = {}
    for label, report in zip(labels, reports, strict=True):
        shards = [m for note in report.notes if (m := _SHARD_NOTE.match(note)) is not None]
        if not shards:
            raise ValueError(
                f"{label} is a whole run, not a shard (--shard I/N): merged with others its "
                "stations would count twice (--force merges anyway)"
            )
        for match in shards:
            index, count = int(match[1]), int(match[2])
            if (index, count) in owner:
                raise ValueError(
                    f"{owner[index, count]} and {label} both ran shard {index}/{count}: runs "
                    "of their own, merged their stations would count twice (--force merges "
                    "anyway)"
                )
            owner[index, count] = label
    counts = {count for _, count in owner}
    if len(counts) > 1:
        raise ValueError(
            f"the shards split the stations differently (N = {sorted(counts)}): not one run "
            "(--force merges anyway)"
        )


def _fingerprint(report: Report) -> str:
    # Reports before run ids: the same start, host and figures are the same run.
    counts = sorted((action, stats.sent) for action, stats in report.actions.items())
    return f"{report.started_at.isoformat()} {report.environment.hostname} {counts}"


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                return f"{where} only in one"
            found = _first_difference(a[key], b[key], where)
            if found is not None:
                return found
        return None
    if a != b:
        return f"{path}: {a!r} vs {b!r}"
    return None


def merge(reports: list[Report], name: str | None = None, *, force: bool = False) -> Report:
    """One report of several shards of a run (processes or machines); the first's profile,
    redacted (no secret survives a merge, whatever the shards' reports held). Each phase
    is merged with the same phase of the others: histograms added, so exact.

    Raises:
        ValueError: no reports; or, unless `force`, one run twice or different profiles
            (`check_mergeable`).
    """
    if not reports:
        raise ValueError("nothing to merge")
    if not force:
        check_mergeable(reports)
    reports = [redact_report(report) for report in reports]
    first = reports[0]
    started = min(r.started_at for r in reports)
    ended = max(r.ended_at for r in reports)
    cpu = sum(r.environment.cpu_percent for r in reports)
    hosts = sorted({r.environment.hostname for r in reports})
    notes = [f"merged from {len(reports)} reports"]
    notes.append("timeline p50/p99/max per interval: the worst shard's (an upper bound)")
    # Each shard noted its part of each campaign: those give way to one note per campaign,
    # of the merged figures.
    shards_campaigns = [c for r in reports for c in r.campaigns]
    notes += sorted(
        {note for r in reports for note in r.notes if not is_campaign_note(note, shards_campaigns)}
    )
    campaigns = add_campaigns([r.campaigns for r in reports])
    notes += [campaign_note(campaign) for campaign in campaigns]
    whole = add_stats(
        [
            PhaseStats(
                spans=[],
                seconds=0.0,
                actions=r.actions,
                connect=r.connect,
                boot=r.boot,
                counters=r.counters,
                csms=r.csms,
            )
            for r in reports
        ],
        [],
    )
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
        actions=whole.actions,
        connect=whole.connect,
        boot=whole.boot,
        counters=whole.counters,
        csms=whole.csms,
        campaigns=campaigns,
        timeline=_merge_timelines(reports, started),
        # Each shard's view of the faults, on the merged clock.
        faults=sorted(
            (
                msgspec.structs.replace(f, at_s=round(f.at_s + _offset(r, started), 3))
                for r in reports
                for f in r.faults
            ),
            key=lambda f: f.at_s,
        ),
        interrupted=any(r.interrupted for r in reports),
        notes=notes,
        phases=_merge_phases(reports, started),
        run_id=uuid.uuid4().hex,
        parts=[run_id for r in reports for run_id in r.run_ids],
    )


def _offset(report: Report, started: dt.datetime) -> float:
    return (report.started_at - started).total_seconds()


def _merge_phases(reports: list[Report], started: dt.datetime) -> dict[str, PhaseStats]:
    """Each phase added across the reports; its spans on the merged clock, joined where
    the shards' overlap (shards run side by side: their time is not added)."""
    merged: dict[str, PhaseStats] = {}
    names = sorted(
        {name for r in reports for name in r.phases},
        key=lambda name: min(
            r.phases[name].spans[0][0] + _offset(r, started)
            for r in reports
            if name in r.phases and r.phases[name].spans
        ),
    )
    for name in names:
        parts = [r for r in reports if name in r.phases]
        spans = _union(
            (round(start + _offset(r, started), 3), round(end + _offset(r, started), 3))
            for r in parts
            for start, end in r.phases[name].spans
        )
        merged[name] = add_stats([r.phases[name] for r in parts], spans)
    return merged


def _union(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    joined: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


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
        phase=collections.Counter(p.phase for p in parts).most_common(1)[0][0],
    )


def _stats(report: Report, action: str | None) -> list[ActionStats]:
    """The stats of `action` (none when the report has none of it), or of all actions."""
    if action is None:
        return list(report.actions.values())
    return [report.actions[action]] if action in report.actions else []


def throughput(report: Report, action: str | None = None) -> float:
    """Answered calls per second over the run (of one action, or all; an action the
    report has none of: 0)."""
    if report.duration_s <= 0:
        return 0.0
    stats = _stats(report, action)
    return sum(s.answered for s in stats) / report.duration_s


def error_rate(report: Report, action: str | None = None) -> float:
    """Share (percent) of sent calls that got no valid answer: CALLERROR, invalid, timeout,
    or lost. An action the report has none of: 0."""
    stats = _stats(report, action)
    sent = sum(s.sent for s in stats)
    failed = sum(sum(s.errors.values()) + s.invalid + s.timeouts + s.lost for s in stats)
    return 100.0 * failed / sent if sent else 0.0


RESPONSE_FIELDS = tuple(f"response.{field}" for field in LATENCY_FIELDS)
# The figures of CSMS-initiated operations compared: the stations' answer time and the
# reaction time (`CsmsActionStats`), p50 and p99.
CSMS_FIELDS = ("answer.p50", "answer.p99", "reaction.p50", "reaction.p99")


def _latency(stats: ActionStats, field: str) -> float | None:
    """A latency figure (ms): `field` of the latency from the intended time, or with a
    "response." prefix, of the response time (None: the report has none, or no sample: no
    call of it was answered)."""
    lat: Any = stats.latency
    if field.startswith("response."):
        lat, field = stats.response, field.removeprefix("response.")
    if lat is None or not lat.count:
        return None
    return {
        "p50": lat.p50_ms,
        "p90": lat.p90_ms,
        "p99": lat.p99_ms,
        "p99.9": lat.p99_9_ms,
        "max": lat.max_ms,
        "mean": lat.mean_ms,
    }[field]


def _csms_latency(stats: CsmsActionStats, field: str) -> float | None:
    """A figure (ms) of a CSMS-initiated action: "answer.p99", "reaction.p50"... (None: no
    sample: no reaction came, or the action has none)."""
    kind, _, figure = field.partition(".")
    lat = stats.answer if kind == "answer" else stats.reaction
    if not lat.count:
        return None
    return {
        "p50": lat.p50_ms,
        "p90": lat.p90_ms,
        "p99": lat.p99_ms,
        "p99.9": lat.p99_9_ms,
        "max": lat.max_ms,
        "mean": lat.mean_ms,
    }[figure]


class Bound(msgspec.Struct, frozen=True):
    """A regression bound, e.g. ``p99+10%``, ``Heartbeat.p99+5ms``, ``errors+0.1%``,
    ``SetChargingProfile.reaction.p99+20%``.

    metric: a latency field (p50, p90, p99, p99.9, max, mean) of the latency from the
    intended send time, or of the response time with a ``response.`` prefix
    (``response.p99``), or of a CSMS-initiated action's answer time or reaction time with
    an ``answer.`` or ``reaction.`` prefix (p50 and p99 are compared: ``reaction.p99``);
    ``errors`` (error rate, in percentage points) or ``throughput`` (a drop, in percent);
    action: limits it to one action.
    """

    text: str
    action: str | None
    metric: str
    amount: float
    unit: str  # "%" or "ms" (latency), "%" (errors: points; throughput: relative)


_BOUND = re.compile(
    r"^(?:(?!(?:response|answer|reaction)\.)(?P<action>[A-Za-z0-9]+)\.)?"
    r"(?P<metric>(?:response\.)?(?:p50|p90|p99\.9|p99|max|mean)"
    r"|(?:answer|reaction)\.(?:p50|p99)|errors|throughput)"
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
            "max, mean, errors, or throughput-N%; response.p99 etc. for the response time; "
            "answer.p50|p99 and reaction.p50|p99 for CSMS-initiated actions), optionally "
            "ACTION.METRIC"
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
    """One figure of one action in a baseline and a candidate report.

    A latency figure the baseline has and the candidate has not (the action is gone from
    the candidate, or it has no sample of it: e.g. stations that stopped reacting) is, when a
    bound applies to it (always, for a CSMS-initiated action's figures), a row with
    `candidate` None and `note` "no samples in candidate" that breaks those bounds. One
    only the candidate has is, when a bound applies to it, a row with `baseline` None and
    `note` "no samples in baseline" that breaks nothing: there is nothing to compare against.
    An action gone from either side still has its throughput (0 there) and errors rows."""

    action: str
    metric: str
    baseline: float | None  # None: no sample in the baseline
    candidate: float | None  # None: no sample in the candidate
    change: float | None  # candidate - baseline; None when either is missing
    change_percent: float | None  # relative, when the baseline is not 0
    regressed_by: list[str] = []  # the bounds this breaks
    note: str = ""  # why a figure is missing


MISSING_IN_CANDIDATE = "no samples in candidate"
MISSING_IN_BASELINE = "no samples in baseline"


def compare(baseline: Report, candidate: Report, bounds: list[Bound]) -> list[Comparison]:
    """Per action (and "*" for all): latency figures, throughput and error rate; then per
    CSMS-initiated action, the stations' answer and reaction times (`CSMS_FIELDS`). A figure
    missing on one side is a row with that side None (see `Comparison`)."""
    rows: list[Comparison] = []

    def row(
        action: str, metric: str, old: float | None, new: float | None, *, shown: bool = False
    ) -> None:
        """Add the row of one figure; a lost figure is shown only when bounded or `shown`."""
        if old is None and new is None:
            return
        applying = [bound.text for bound in bounds if _applies(bound, action, metric)]
        if new is None:  # the candidate lost it: a bound on it must not pass silently
            if not applying and not shown:
                return  # the action's throughput row says it is gone
            rows.append(
                Comparison(action, metric, round(old or 0.0, 3), None, None, None, applying,
                           MISSING_IN_CANDIDATE)
            )  # fmt: skip
            return
        if old is None:
            if applying:  # say the bound could not be checked; nothing to compare against
                rows.append(
                    Comparison(action, metric, None, round(new, 3), None, None, [],
                               MISSING_IN_BASELINE)
                )  # fmt: skip
            return
        change = new - old
        percent = 100.0 * change / old if old else None
        broken = [b.text for b in bounds if _breaks(b, action, metric, old, new)]
        rows.append(
            Comparison(action, metric, round(old, 3), round(new, 3), round(change, 3),
                       None if percent is None else round(percent, 1), broken)
        )  # fmt: skip

    for action in sorted(set(baseline.actions) | set(candidate.actions)):
        a, b = baseline.actions.get(action), candidate.actions.get(action)
        for field in (*LATENCY_FIELDS, *RESPONSE_FIELDS):
            row(
                action,
                field,
                None if a is None else _latency(a, field),
                None if b is None else _latency(b, field),
            )
        # An action gone from one side has a throughput of 0 there and no errors: true
        # figures, so a throughput bound on a vanished action breaks as a drop to 0.
        for metric, measure in (("throughput", throughput), ("errors", error_rate)):
            row(action, metric, measure(baseline, action), measure(candidate, action))
    row("*", "throughput", throughput(baseline), throughput(candidate))
    row("*", "errors", error_rate(baseline), error_rate(candidate))
    for action in sorted(set(baseline.csms) | set(candidate.csms)):
        old_stats, new_stats = baseline.csms.get(action), candidate.csms.get(action)
        for field in CSMS_FIELDS:
            row(
                action,
                field,
                None if old_stats is None else _csms_latency(old_stats, field),
                None if new_stats is None else _csms_latency(new_stats, field),
                shown=True,  # stations that stopped answering or reacting: always said
            )
    return rows


def _applies(bound: Bound, action: str, metric: str) -> bool:
    """Whether `bound` bounds `metric` of `action` ("*": all actions)."""
    if bound.metric != metric:
        return False
    if bound.action is not None and bound.action != action:
        return False
    if bound.action is None and action == "*" and metric not in ("errors", "throughput"):
        return False
    # unscoped error and throughput bounds apply to the run as a whole
    return not (bound.action is None and action != "*" and metric in ("errors", "throughput"))


def _breaks(bound: Bound, action: str, metric: str, old: float, new: float) -> bool:
    if not _applies(bound, action, metric):
        return False
    if metric == "errors":
        return new - old > bound.amount
    if metric == "throughput":
        return old > 0 and 100.0 * (old - new) / old > bound.amount
    if bound.unit == "ms":
        return new - old > bound.amount
    if old == 0:
        return new > 0 and bound.amount < 100
    return 100.0 * (new - old) / old > bound.amount
