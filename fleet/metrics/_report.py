"""The run report: one JSON file per run, written and read with msgspec.

Percentile figures are for people; the full histograms, in HdrHistogram's standard compressed
encoding, are for machines: reports can be merged and re-analysed without losing a sample.

Reports are shared, so no secret is ever in one: the profile's secret fields are ``"***"``
(`fleet.profile.redacted`) when a report is built, again when it is written, and when one is
read (a report written before redaction existed is shown and merged without its password).
"""

from __future__ import annotations

import array
import collections
import datetime as dt
import math
import os
import platform
import socket
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
from hdrh.histogram import HdrHistogram

import fleet
from fleet.metrics._recorder import (
    COUNTER_NAMES,
    REACTION_TO,
    ActionRecord,
    CsmsActionRecord,
    FaultMark,
    Interval,
    Metrics,
    PhaseRecord,
    new_histogram,
)
from fleet.profile import redact_text, redacted, secret_values

__all__ = [
    "DEFAULT_PHASE",
    "PHASES",
    "REPORT_FORMAT",
    "WHOLE_RUN",
    "ActionStats",
    "CampaignStats",
    "Counters",
    "CsmsActionStats",
    "Environment",
    "FaultRecord",
    "LatencyStats",
    "PhaseStats",
    "Report",
    "ThresholdResult",
    "add_actions",
    "add_campaigns",
    "add_counters",
    "add_csms",
    "add_latency",
    "add_stats",
    "build_report",
    "campaign_note",
    "csms_table",
    "decode_histogram",
    "describe_answers",
    "describe_phases",
    "describe_threshold",
    "format_summary",
    "is_campaign_note",
    "latency_stats",
    "phase_view",
    "read_report",
    "redact_report",
    "write_report",
]

REPORT_FORMAT = "ocpp-fleet-report/3"
# Formats read too: /1 has no phases and no response times (shown as the whole run); /1 and
# /2 have no section for CSMS-initiated operations (`csms`: empty).
READABLE_FORMATS = ("ocpp-fleet-report/1", "ocpp-fleet-report/2", REPORT_FORMAT)
# The phases of a run, in order; fault windows ("fault-1", ...) come between.
PHASES = ("ramp", "hold", "drain")
# What `report show`, `compare`, `html` and thresholds use unless told otherwise: the steady
# state, without the ramp's boot storm, fault windows, or the drain's wind-down.
DEFAULT_PHASE = "hold"
# The whole run, every phase added.
WHOLE_RUN = "run"
# Above this, the generator itself may be what the latencies measure (Locust warns at 90 %).
CPU_SUSPECT_PERCENT = 90.0
# The report's counters that are tables of counts by kind, not single counts.
_COUNTS_BY_KIND = ("connect_failures", "station_faults")


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
    # from the intended send time to the answer: what the station (and its driver) waited,
    # including any wait for its previous call's answer (one call out at a time, OCPP-J)
    latency: LatencyStats
    # from the frame's send to the answer: the CSMS's service time as the station sees it
    # (network included); None in reports before format 2
    response: LatencyStats | None = None


class CsmsActionStats(_ReportStruct):
    """What the stations did with one action a CSMS sent them (CSMS-initiated operations)."""

    received: int  # CALLs of this action that came to the stations
    # their answers by status: the response's status ("Accepted", "Rejected", ...),
    # "Answered" for a response without one, "CALLERROR <code>" for a CALLERROR
    answers: dict[str, int]
    # the stations' own time to answer, from the CALL's arrival to the answer's send
    answer: LatencyStats
    # from the CALL's arrival to the message that shows it done (`reaction_to`); count 0:
    # none came (or the action has no such message)
    reaction: LatencyStats
    reaction_to: str = ""  # e.g. "StatusNotification Reserved"; "": the action has none


class CampaignStats(_ReportStruct):
    """One ``[[embedded.campaigns]]`` of the embedded CSMS, as the CSMS counted it: the other
    end of the stations' `CsmsActionStats`."""

    name: str  # "campaign-1", ... in the profile's order
    action: str  # the OCPP 2.0.1 action sent (1.6 stations got its 1.6 counterpart)
    rounds: int
    sent: int
    sent_by_version: dict[str, int]  # "1.6", "2.0.1"
    # answers by status ("Answered" for a response without one), "CALLERROR <code>"
    answers: dict[str, int]
    timeouts: int
    lost: int  # the connection closed first
    not_expressible: int  # the station's version could not carry it: not sent
    invalid: int  # the payload, placeholders filled, was no valid request: not sent
    # at the CSMS, from each call's send to its answer (CALLRESULT or CALLERROR)
    answer: LatencyStats
    not_sent: int = 0  # chosen for a round the run ended before it reached: never sent
    unanswered: int = 0  # sent, neither answered nor given up when the run ended


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


class PhaseStats(_ReportStruct):
    """One phase of the run (`PHASES`, or a fault's window "fault-N"), with every figure
    the whole run has; the phases' counts and histograms add up to the run's."""

    # [start, end] stretches of the run the phase covered, in seconds after the start (the
    # hold is interrupted by fault windows)
    spans: list[tuple[float, float]]
    seconds: float  # their total length
    actions: dict[str, ActionStats]
    connect: LatencyStats
    boot: LatencyStats
    counters: Counters
    # CSMS-initiated operations, by action (empty: none; reports before format 3)
    csms: dict[str, CsmsActionStats] = {}


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
    # the run's phases by name, in order ("ramp", "hold", "fault-1", ..., "drain"); the
    # figures above are the whole run's
    phases: dict[str, PhaseStats] = {}
    # which phase's figures `actions`, `connect`, `boot`, `counters` and `duration_s` hold:
    # "run" in a report as written; a phase's name in a view (see `phase_view`)
    phase: str = WHOLE_RUN
    # this run's identity (random, made when the report is built), and for a merged report
    # the identities of the runs in it: a merge refuses to count one run twice
    run_id: str = ""
    parts: list[str] = []
    # CSMS-initiated operations by action, as `actions` the whole run's (or the view's
    # phase's); empty: none (and in reports before format 3)
    csms: dict[str, CsmsActionStats] = {}
    # the embedded CSMS's [[embedded.campaigns]], as it counted them (empty: none)
    campaigns: list[CampaignStats] = []

    @property
    def run_ids(self) -> list[str]:
        """The runs whose figures this report holds (one, or a merge's parts)."""
        return self.parts or ([self.run_id] if self.run_id else [])

    def phase_view(self, phase: str) -> Report:
        """This report with one phase's figures in place of the whole run's (`actions`,
        `connect`, `boot`, `counters`; `duration_s` is the phase's length), so that
        anything that reads a report reads a phase. "run": the whole run.

        A report without phases (format 1) has only the whole run: asked for "hold", it
        returns itself with a note saying so.

        Raises:
            ValueError: no such phase in this report (the message lists those there are).
        """
        if phase == WHOLE_RUN or phase == self.phase:
            return self
        if not self.phases:
            if phase == DEFAULT_PHASE:
                note = "this report has no phases (format 1): figures are the whole run's"
                return msgspec.structs.replace(self, notes=[*self.notes, note])
            raise ValueError(f"{self.name}: this report has no phases (format 1); use --phase run")
        stats = self.phases.get(phase)
        if stats is None:
            there = ", ".join([*self.phases, WHOLE_RUN])
            raise ValueError(f"{self.name}: no phase {phase!r} in this run (it has {there})")
        return msgspec.structs.replace(
            self,
            actions=stats.actions,
            connect=stats.connect,
            boot=stats.boot,
            counters=stats.counters,
            csms=stats.csms,
            duration_s=stats.seconds,
            phase=phase,
        )


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Report)


def decode_histogram(encoded: str) -> HdrHistogram:
    """The histogram a report stored (values in microseconds)."""
    return HdrHistogram.decode(encoded.encode("ascii"))


def _mean_us(histogram: HdrHistogram) -> float:
    # HdrHistogram's get_mean_value() walks every value with a Python iterator: a tenth of a
    # second and more per histogram. The same figure from the counts array's non-empty
    # buckets (each at its median equivalent value, as the library's).
    counts = array.array("Q", bytes(histogram.counts))
    value_at, median = histogram.get_value_from_index, histogram._hdr_median_equiv_value
    total = sum(count * median(value_at(index)) for index, count in enumerate(counts) if count)
    return total / histogram.get_total_count()


def latency_stats(histogram: HdrHistogram, total_us: float | None = None) -> LatencyStats:
    """Summary figures (ms) and the encoded histogram. `total_us`: the samples' exact sum,
    for the mean (default: from the histogram's buckets)."""
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
        mean_ms=round(
            (total_us if total_us is not None else _mean_us(histogram) * count) / count / 1000, 3
        ),
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
    campaigns: list[CampaignStats] | None = None,
) -> Report:
    """The report of a finished run.

    `profile` is the `Profile` (or its builtins); the report holds it redacted: its secrets
    are ``"***"``, and hidden in `notes` too. `campaigns`: the embedded CSMS's, if it ran any.
    """
    secrets = secret_values(profile)
    cpu = metrics.cpu_percent()
    phases = {
        name: _phase_stats(record, metrics.started_at, ended_monotonic)
        for name, record in metrics.phases.items()
        if record.spans
    }
    whole = _phase_stats(metrics.whole_run(), metrics.started_at, ended_monotonic)
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
        actions=whole.actions,
        connect=whole.connect,
        boot=whole.boot,
        counters=whole.counters,
        csms=whole.csms,
        timeline=list(metrics.timeline),
        interrupted=interrupted,
        notes=[redact_text(note, secrets) for note in notes or []],
        faults=[_fault_record(mark, metrics.timeline) for mark in metrics.faults],
        phases=dict(sorted(phases.items(), key=lambda item: item[1].spans[0][0])),
        run_id=uuid.uuid4().hex,
        campaigns=list(campaigns or []),
    )


def _action_stats(record: ActionRecord) -> ActionStats:
    return ActionStats(
        sent=record.sent,
        answered=record.answered,
        errors=dict(sorted(record.errors.items())),
        invalid=record.invalid,
        timeouts=record.timeouts,
        lost=record.lost,
        latency=latency_stats(record.histogram, record.latency_us),
        response=latency_stats(record.response, record.response_us),
    )


def _csms_stats(action: str, record: CsmsActionRecord) -> CsmsActionStats:
    return CsmsActionStats(
        received=record.received,
        answers=dict(sorted(record.answers.items())),
        answer=latency_stats(record.answer, record.answer_us),
        reaction=latency_stats(record.reaction, record.reaction_us),
        reaction_to=REACTION_TO.get(action, ""),
    )


def _phase_stats(record: PhaseRecord, started_at: float, ended_at: float) -> PhaseStats:
    spans = [
        (
            round(max(start - started_at, 0.0), 3),  # type: ignore[operator]
            round(max((ended_at if end is None else end) - started_at, 0.0), 3),  # type: ignore[operator]
        )
        for start, end in record.spans
    ]
    spans = [(start, max(start, end)) for start, end in spans]
    return PhaseStats(
        spans=spans,
        seconds=round(sum(end - start for start, end in spans), 3),
        actions={
            action: _action_stats(action_record)
            for action, action_record in sorted(record.actions.items())
        },
        connect=latency_stats(record.connect, record.connect_us),
        boot=latency_stats(record.boot, record.boot_us),
        counters=Counters(
            connect_failures=dict(sorted(record.connect_failures.items())),
            station_faults=dict(sorted(record.station_faults.items())),
            **{name: record.counts[name] for name in COUNTER_NAMES},
        ),
        csms={action: _csms_stats(action, csms) for action, csms in sorted(record.csms.items())},
    )


def add_latency(parts: list[LatencyStats]) -> LatencyStats:
    """One histogram's figures of several (`LatencyStats.histogram`) added: exact (the
    mean: the parts' weighted by their counts)."""
    histogram = new_histogram()
    for part in parts:
        histogram.add(decode_histogram(part.histogram))
    return latency_stats(histogram, sum(part.mean_ms * 1000 * part.count for part in parts))


def add_actions(parts: list[ActionStats]) -> ActionStats:
    """Several records of one action added: counts summed, histograms added."""
    errors: collections.Counter[str] = collections.Counter()
    for part in parts:
        errors.update(part.errors)
    responses = [p.response for p in parts if p.response is not None]
    return ActionStats(
        sent=sum(p.sent for p in parts),
        answered=sum(p.answered for p in parts),
        errors=dict(sorted(errors.items())),
        invalid=sum(p.invalid for p in parts),
        timeouts=sum(p.timeouts for p in parts),
        lost=sum(p.lost for p in parts),
        latency=add_latency([p.latency for p in parts]),
        response=add_latency(responses) if len(responses) == len(parts) else None,
    )


def add_csms(parts: list[CsmsActionStats]) -> CsmsActionStats:
    """Several records of one CSMS-initiated action added: counts summed, histograms added."""
    answers: collections.Counter[str] = collections.Counter()
    for part in parts:
        answers.update(part.answers)
    return CsmsActionStats(
        received=sum(p.received for p in parts),
        answers=dict(sorted(answers.items())),
        answer=add_latency([p.answer for p in parts]),
        reaction=add_latency([p.reaction for p in parts]),
        reaction_to=next((p.reaction_to for p in parts if p.reaction_to), ""),
    )


def add_campaigns(parts: list[list[CampaignStats]]) -> list[CampaignStats]:
    """Several reports' campaigns added, each by its name and action (shards of one run,
    each with its own embedded CSMS, ran the same schedule): counts summed, histograms
    added; in the order they first appear."""
    groups: dict[tuple[str, str], list[CampaignStats]] = {}
    for campaigns in parts:
        for campaign in campaigns:
            groups.setdefault((campaign.name, campaign.action), []).append(campaign)
    added = []
    for (name, action), group in groups.items():
        versions: collections.Counter[str] = collections.Counter()
        answers: collections.Counter[str] = collections.Counter()
        for campaign in group:
            versions.update(campaign.sent_by_version)
            answers.update(campaign.answers)
        added.append(
            CampaignStats(
                name=name,
                action=action,
                rounds=max(c.rounds for c in group),
                sent=sum(c.sent for c in group),
                sent_by_version=dict(sorted(versions.items())),
                answers=dict(sorted(answers.items())),
                timeouts=sum(c.timeouts for c in group),
                lost=sum(c.lost for c in group),
                not_expressible=sum(c.not_expressible for c in group),
                invalid=sum(c.invalid for c in group),
                answer=add_latency([c.answer for c in group]),
                not_sent=sum(c.not_sent for c in group),
                unanswered=sum(c.unanswered for c in group),
            )
        )
    return added


def campaign_note(campaign: CampaignStats) -> str:
    """One line of a campaign, as the run's own note says it (`fleet.csms`'s
    ``CampaignRecord.summary``), from its figures: ``campaign-1 SetChargingProfile: 6 sent in
    1 round(s) (1.6 3, 2.0.1 3); answers: Accepted 6; answer time p50 4.1 ms, ...``. For a
    merged report, whose shards each noted their own part."""
    versions = ", ".join(f"{v} {n}" for v, n in sorted(campaign.sent_by_version.items()))
    parts = [
        f"{campaign.name} {campaign.action}: {campaign.sent} sent in {campaign.rounds} round(s)"
        + (f" ({versions})" if versions else "")
    ]
    # Statuses first, then the CALLERRORs, as the run's note orders them.
    answers = sorted(
        campaign.answers.items(), key=lambda kv: (kv[0].startswith("CALLERROR "), kv[0])
    )
    if answers:
        parts.append("answers: " + ", ".join(f"{status} {count}" for status, count in answers))
    for label, count in (
        ("timeouts", campaign.timeouts),
        ("lost", campaign.lost),
        ("not expressible", campaign.not_expressible),
        ("invalid", campaign.invalid),
    ):
        if count:
            parts.append(f"{label} {count}")
    for label, count in (("not sent", campaign.not_sent), ("unanswered", campaign.unanswered)):
        if count:
            parts.append(f"{count} {label}: the run ended")
    answer = campaign.answer
    if answer.count:
        parts.append(
            f"answer time p50 {answer.p50_ms:.1f} ms, p90 {answer.p90_ms:.1f} ms, "
            f"p99 {answer.p99_ms:.1f} ms"
        )
    return "; ".join(parts)


def is_campaign_note(note: str, campaigns: Iterable[CampaignStats]) -> bool:
    """Whether `note` is the run's own line of one of `campaigns` (`campaign_note`)."""
    return any(note.startswith(f"{c.name} {c.action}: ") for c in campaigns)


def add_counters(parts: list[Counters]) -> Counters:
    """Counters added; the tables by kind (connect failures, station faults) per kind."""
    by_kind = {field: collections.Counter[str]() for field in _COUNTS_BY_KIND}
    for part in parts:
        for field, counts in by_kind.items():
            counts.update(getattr(part, field))
    return Counters(
        **{field: dict(sorted(counts.items())) for field, counts in by_kind.items()},
        **{
            field: sum(getattr(part, field) for part in parts)
            for field in Counters.__struct_fields__
            if field not in by_kind
        },
    )


def add_stats(parts: list[PhaseStats], spans: list[tuple[float, float]]) -> PhaseStats:
    """Phases (of one run, or the same phase of several shards) added: exact."""
    names = sorted({action for part in parts for action in part.actions})
    csms = sorted({action for part in parts for action in part.csms})
    return PhaseStats(
        spans=spans,
        seconds=round(sum(end - start for start, end in spans), 3),
        actions={
            action: add_actions([p.actions[action] for p in parts if action in p.actions])
            for action in names
        },
        connect=add_latency([p.connect for p in parts]),
        boot=add_latency([p.boot for p in parts]),
        counters=add_counters([p.counters for p in parts]),
        csms={
            action: add_csms([p.csms[action] for p in parts if action in p.csms]) for action in csms
        },
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
    if report.format not in READABLE_FORMATS:
        raise ValueError(f"{path}: report format {report.format!r}, expected {REPORT_FORMAT!r}")
    return redact_report(report)


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def phase_view(report: Report, phase: str = DEFAULT_PHASE) -> Report:
    """`report.phase_view(phase)`, except that the default phase falls back to the whole
    run (with a note) when the run had no hold: it ended, or was stopped, before every
    station had booted. A phase asked for by name is an error when missing."""
    if phase == DEFAULT_PHASE and report.phases and DEFAULT_PHASE not in report.phases:
        note = "the run had no hold phase (it ended before every station booted): whole run"
        return msgspec.structs.replace(report, notes=[*report.notes, note])
    return report.phase_view(phase)


def describe_phases(report: Report) -> str:
    """One line: the run's phases and when they were, e.g. ``ramp 0-4.1 s, hold 4.1-60 s``."""
    spans = sorted(
        (start, end, name) for name, stats in report.phases.items() for start, end in stats.spans
    )
    return ", ".join(f"{name} {start:g}-{end:g} s" for start, end, name in spans)


def format_summary(report: Report, phase: str = DEFAULT_PHASE) -> str:
    """The end-of-run table, plain text: the run's header, then the figures of `phase`
    (default: the hold; "run" the whole run; "all" every phase, then the whole run).

    Latencies are in milliseconds: from the intended send time (p50 ... max), and the
    response time from the frame's send to the answer (resp p50, resp p99).

    Raises:
        ValueError: no such phase in the report.
    """
    env = report.environment
    received = sum(stats.received for stats in report.csms.values())
    lines = [
        f"{report.name}: {report.duration_s:,.1f} s, {report.counters.connects:,} connects, "
        + (f"{received:,} CSMS calls answered, " if received else "")
        + f"generator CPU {env.cpu_percent:.0f} %"
        + (" (interrupted)" if report.interrupted else ""),
    ]
    if env.cpu_suspect:
        lines.append("SUSPECT: generator CPU > 90 %: latencies may measure the fleet, not the CSMS")
    if report.phases:
        lines.append(f"phases: {describe_phases(report)}")
    if phase == "all":
        names = [*report.phases, WHOLE_RUN] if report.phases else [WHOLE_RUN]
    else:
        names = [phase]
    for name in names:
        view = phase_view(report, name)
        lines += ["", *_phase_table(view)]
    if report.faults:
        lines += ["", "faults injected by the embedded CSMS:"]
        lines += [f"  {describe_fault(fault)}" for fault in report.faults]
    if report.thresholds:
        failed = sum(not t.passed for t in report.thresholds)
        lines += ["", f"thresholds: {len(report.thresholds) - failed} passed, {failed} failed"]
        for result in report.thresholds:
            lines.append(f"  {describe_threshold(result)}")
    shown = set(report.notes)
    for note in [*report.notes, *(n for n in view.notes if n not in shown)]:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def describe_threshold(result: ThresholdResult) -> str:
    """One line: verdict, name, condition and the actual figure with its unit."""
    metric = result.name.rpartition(":")[2].rsplit(".", 1)[-1]  # no phase, no action
    if result.name.endswith("p99.9"):
        metric = "p99.9"
    unit = {"errors": " %", "timeouts": ""}.get(metric, " ms")
    actual = "none" if result.actual is None else f"{result.actual:,.3g}{unit}"
    verdict = "pass" if result.passed else "FAIL"
    return f"{verdict}  {result.name} {result.condition}  (actual {actual})"


def _phase_table(view: Report) -> list[str]:
    if view.phase == WHOLE_RUN:
        title = f"the whole run ({view.duration_s:,.1f} s)"
    else:
        title = f"{view.phase} phase ({view.duration_s:,.1f} s)"
    header = (
        f"{'action':<30}{'sent':>9}{'answered':>10}{'errors':>8}{'timeouts':>9}"
        f"{'p50':>8}{'p90':>8}{'p99':>8}{'p99.9':>8}{'max':>8}"
    )
    if any(stats.response is not None for stats in view.actions.values()):
        header += f"{'resp p50':>10}{'resp p99':>10}"
        lines = [f"{title}: latency from the intended send time; resp: response time (ms)"]
    else:  # a report before response times (format 1)
        lines = [f"{title}: latency from the intended send time (ms)"]
    lines += [header, "-" * len(header)]
    for action, stats in view.actions.items():
        errors = sum(stats.errors.values()) + stats.invalid + stats.lost
        lat, resp = stats.latency, stats.response
        lines.append(
            f"{action:<30}{stats.sent:>9,}{stats.answered:>10,}{errors:>8,}{stats.timeouts:>9,}"
            f"{_ms(lat.p50_ms):>8}{_ms(lat.p90_ms):>8}{_ms(lat.p99_ms):>8}"
            f"{_ms(lat.p99_9_ms):>8}{_ms(lat.max_ms):>8}"
            + (f"{_ms(resp.p50_ms):>10}{_ms(resp.p99_ms):>10}" if resp is not None else "")
        )
    for label, lat in (
        ("(connect: handshake)", view.connect),
        ("(boot: to Accepted)", view.boot),
    ):
        if not lat.count:
            continue  # nothing measured here (a custom behaviour boots on its own)
        lines.append(
            f"{label:<30}{lat.count:>9,}{'':>10}{'':>8}{'':>9}"
            f"{_ms(lat.p50_ms):>8}{_ms(lat.p90_ms):>8}{_ms(lat.p99_ms):>8}"
            f"{_ms(lat.p99_9_ms):>8}{_ms(lat.max_ms):>8}"
        )
    counters = view.counters
    failures = sum(counters.connect_failures.values())
    lines += [
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
    if view.csms:
        lines += ["", *csms_table(view.csms)]
    return lines


def describe_answers(answers: dict[str, int]) -> str:
    """``Accepted 4, Rejected 2, CALLERROR NotSupported 1``: the most frequent first."""
    ranked = sorted(answers.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{answer} {count:,}" for answer, count in ranked)


def csms_table(csms: dict[str, CsmsActionStats]) -> list[str]:
    """The table of CSMS-initiated operations: per action the calls received, the stations'
    answer time (p50, p99), the reaction time (n, p50, p99; ms) and the answers by status,
    with what the reaction runs to."""
    header = (
        f"{'CSMS action':<30}{'received':>9}{'ans p50':>9}{'ans p99':>9}"
        f"{'react n':>9}{'react p50':>11}{'react p99':>11}  answers (reaction to)"
    )
    lines = [
        "CSMS-initiated operations: ans: the station's time to answer; react: from the "
        "request to what shows it done (ms)",
        header,
        "-" * len(header),
    ]
    for action, stats in csms.items():
        answer, reaction = stats.answer, stats.reaction
        react = (
            f"{reaction.count:>9,}{_ms(reaction.p50_ms):>11}{_ms(reaction.p99_ms):>11}"
            if reaction.count
            else f"{'':>9}{'':>11}{'':>11}"
        )
        what = f" ({stats.reaction_to})" if stats.reaction_to else ""
        lines.append(
            f"{action:<30}{stats.received:>9,}{_ms(answer.p50_ms):>9}{_ms(answer.p99_ms):>9}"
            f"{react}  {describe_answers(stats.answers)}{what}"
        )
    return lines
