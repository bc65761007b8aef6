"""Recording a run: per-action HdrHistograms of latency from the intended send time, counts
of everything that went wrong, and a per-second timeline.

No I/O and no trio: callers pass ``now`` from trio's clock. The hot path (`call_sent`,
`call_answered`) is a dict lookup, a few integer additions and two HdrHistogram records;
per-action state is made once, on an action's first call. What a CSMS asks of the stations is
recorded alike (`csms_call_answered`, `csms_reaction`: `CsmsActionRecord`, per phase).
"""

from __future__ import annotations

import bisect
import collections
import itertools
import math
import time
import traceback
from collections.abc import Iterable

import msgspec
from hdrh.histogram import HdrHistogram

__all__ = [
    "COUNTER_NAMES",
    "DRAIN",
    "HOLD",
    "RAMP",
    "REACTION_TO",
    "ActionRecord",
    "CsmsActionRecord",
    "FaultMark",
    "Interval",
    "Metrics",
    "PhaseRecord",
    "fault_kind",
    "new_histogram",
]

# Latencies in microseconds from 1 us to 1 h at 3 significant digits: HdrHistogram's usual
# settings for request latency; anything longer is a timeout long before.
LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3


def fault_kind(exc: BaseException) -> str:
    """A station fault's kind: its exception's type name (a group's first leaf's)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return type(exc).__name__


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def _rank(count: int, percentile: float) -> int:
    """The index of a percentile in `count` sorted values (nearest rank, as HdrHistogram's)."""
    return max(math.ceil(count * percentile / 100) - 1, 0)


def _micros(seconds: float) -> int:
    return min(max(round(seconds * 1_000_000), LOWEST_US), HIGHEST_US)


class Interval(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One second (or so) of the run: what the live view shows and the timeline keeps.

    Latency figures are of the calls answered in this interval, in milliseconds (0: none).
    """

    t: float  # seconds since the start, at the interval's end
    seconds: float
    connected: int
    sent: int
    answered: int
    errors: int
    timeouts: int
    rate: float  # answers per second
    p50_ms: float
    p99_ms: float
    max_ms: float
    connects: int = 0  # connections opened (a reconnect storm shows here)
    phase: str = ""  # the run's phase at the interval's end: ramp, hold, fault-N, drain


class FaultMark:
    """A fault the embedded CSMS injected, and when the fleet got over it: the first moment
    after some connections were lost that as many stations were connected as before."""

    __slots__ = (
        "amount",
        "at",
        "connected_before",
        "disconnects_before",
        "kind",
        "recovered_at",
        "window_end",
    )

    def __init__(
        self, kind: str, amount: float, at: float, connected_before: int, disconnects_before: int
    ) -> None:
        self.kind = kind
        self.amount = amount
        self.at = at  # seconds since the start
        self.connected_before = connected_before
        self.disconnects_before = disconnects_before
        self.recovered_at: float | None = None  # seconds since the start
        self.window_end: float | None = None  # a stall's end (trio clock)


class ActionRecord:
    """Everything recorded about one action (in one phase): counts, the latency from the
    intended send time (`histogram`) and the response time from the frame's send to its
    answer (`response`), both in microseconds."""

    __slots__ = (
        "answered",
        "errors",
        "histogram",
        "invalid",
        "latency_us",
        "lost",
        "response",
        "response_us",
        "sent",
        "timeouts",
    )

    def __init__(self) -> None:
        self.histogram = new_histogram()
        self.response = new_histogram()
        # The samples' sums (us): exact means, without a walk over the histograms' buckets.
        self.latency_us = 0
        self.response_us = 0
        self.sent = 0
        self.answered = 0
        self.errors: collections.Counter[str] = collections.Counter()
        self.invalid = 0
        self.timeouts = 0
        self.lost = 0

    def add(self, other: ActionRecord) -> None:
        """Add `other`'s counts and samples to this one's."""
        self.histogram.add(other.histogram)
        self.response.add(other.response)
        self.latency_us += other.latency_us
        self.response_us += other.response_us
        self.sent += other.sent
        self.answered += other.answered
        self.errors.update(other.errors)
        self.invalid += other.invalid
        self.timeouts += other.timeouts
        self.lost += other.lost


# What the reaction time of a CSMS action runs to (from the request's arrival at the station):
# the message that shows the CSMS its request done (the stations' `StationMachine.reactions`).
REACTION_TO = {
    "CancelReservation": "StatusNotification",
    "ChangeAvailability": "StatusNotification",
    "ClearChargingProfile": "first meter value at the new limit",
    "GetDiagnostics": "DiagnosticsStatusNotification Uploaded (or UploadFailed)",
    "GetLog": "LogStatusNotification Uploaded (or UploadFailure)",
    "RemoteStartTransaction": "StartTransaction",
    "RemoteStopTransaction": "StopTransaction",
    "RequestStartTransaction": "TransactionEvent Started",
    "RequestStopTransaction": "TransactionEvent Ended",
    "ReserveNow": "StatusNotification Reserved",
    "Reset": "BootNotification after the reboot",
    "SetChargingProfile": "first meter value at the new limit",
    "SignedUpdateFirmware": "SignedFirmwareStatusNotification Installed (or its failure)",
    "TriggerMessage": "the triggered message",
    "UpdateFirmware": "FirmwareStatusNotification Installed (or its failure)",
}


class CsmsActionRecord:
    """What the stations did with one action a CSMS sent them (in one phase): how many
    calls came (`received`), their answers by status (`answers`: the response's status,
    "Answered" for a response without one, "CALLERROR <code>"), the stations' time to
    answer (`answer`) and the reaction time (`reaction`: from the request's arrival to the
    message that shows it done, `REACTION_TO`), both in microseconds."""

    __slots__ = ("answer", "answer_us", "answers", "reaction", "reaction_us", "received")

    def __init__(self) -> None:
        self.received = 0
        self.answers: collections.Counter[str] = collections.Counter()
        self.answer = new_histogram()
        self.reaction = new_histogram()
        self.answer_us = self.reaction_us = 0  # the samples' sums, for exact means

    def add(self, other: CsmsActionRecord) -> None:
        """Add `other`'s counts and samples to this one's."""
        self.received += other.received
        self.answers.update(other.answers)
        self.answer.add(other.answer)
        self.reaction.add(other.reaction)
        self.answer_us += other.answer_us
        self.reaction_us += other.reaction_us


# The counters every phase keeps (the report's `Counters`, less the tables by kind).
COUNTER_NAMES = (
    "connects",
    "disconnects",
    "reconnects",
    "sessions_started",
    "sessions_stopped",
    "invalid_messages",
    "transaction_messages",
    "transaction_messages_queued",
    "transaction_messages_delivered_late",
    "transaction_messages_requeued",
    "transaction_messages_dropped",
    "transaction_messages_undelivered",
)

RAMP, HOLD, DRAIN = "ramp", "hold", "drain"


class PhaseRecord:
    """What one phase of the run recorded: per-action records, connect and boot times, and
    the counters, as the whole run has them; the run's figures are the sum of its phases'.

    A phase's `spans` are the [start, end) stretches of trio's clock it covered (the hold is
    interrupted by fault windows); `end` None: still current.
    """

    __slots__ = (
        "actions",
        "boot",
        "boot_us",
        "connect",
        "connect_failures",
        "connect_us",
        "counts",
        "csms",
        "name",
        "spans",
        "station_faults",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.spans: list[list[float | None]] = []
        self.actions: dict[str, ActionRecord] = {}
        # CSMS-initiated actions, by action: made on an action's first call
        self.csms: dict[str, CsmsActionRecord] = {}
        self.connect = new_histogram()
        self.boot = new_histogram()
        self.connect_us = self.boot_us = 0  # the samples' sums
        self.counts: collections.Counter[str] = collections.Counter()
        self.connect_failures: collections.Counter[str] = collections.Counter()
        self.station_faults: collections.Counter[str] = collections.Counter()

    def action(self, action: str) -> ActionRecord:
        record = self.actions.get(action)
        if record is None:
            record = self.actions[action] = ActionRecord()
        return record

    def csms_action(self, action: str) -> CsmsActionRecord:
        record = self.csms.get(action)
        if record is None:
            record = self.csms[action] = CsmsActionRecord()
        return record

    def add(self, other: PhaseRecord) -> None:
        """Add `other`'s records, histograms and counts to this one's (not its spans)."""
        for action, record in other.actions.items():
            self.action(action).add(record)
        for action, csms_record in other.csms.items():
            self.csms_action(action).add(csms_record)
        self.connect.add(other.connect)
        self.boot.add(other.boot)
        self.connect_us += other.connect_us
        self.boot_us += other.boot_us
        self.counts.update(other.counts)
        self.connect_failures.update(other.connect_failures)
        self.station_faults.update(other.station_faults)

    def seconds(self, now: float) -> float:
        """How long the phase lasted (ongoing spans up to `now`)."""
        return sum((now if end is None else end) - start for start, end in self.spans)  # type: ignore[operator]


class Metrics:
    """All a run records. One per run (or per worker process); merged in reports.

    Everything is recorded in the run's current *phase* (`PhaseRecord`): ``ramp`` until the
    orchestrator calls `ramp_done`, then ``hold``; ``fault-N`` from the N-th injected fault
    until the fleet recovered (a stall: for its length); ``drain`` from `drain_started`. A
    call belongs to the phase of its intended send time, whatever happens to it later, so
    each phase's counts add up (sent = answered + errors + invalid + timeouts + lost).

    Args:
        started_at: the run's start on trio's clock.
    """

    def __init__(self, started_at: float) -> None:
        self.started_at = started_at
        self.phases: dict[str, PhaseRecord] = {}
        # The phase timeline: span starts (trio clock) and their phases, in order.
        self._starts: list[float] = []
        self._span_phases: list[PhaseRecord] = []
        self._base = self._phase(RAMP)  # ramp, hold or drain
        self._current = self._base
        self._current_start = started_at
        self._open_faults: list[tuple[FaultMark, PhaseRecord]] = []
        self._switch_at = math.inf  # when a stall's window ends
        self._enter(self._base, started_at)
        self.connected_stations = 0  # a gauge: up in connect_succeeded, down by the stations
        self.first_boots = 0  # stations booted (Accepted) at least once
        # stations whose first BootNotification had an outcome: the ramp's progress
        self.first_boot_answers = 0
        self.faults: list[FaultMark] = []
        # The first traceback of each kind of station fault (for the log next to the
        # report), and (when, station) of each, for the run's stop rule.
        self.fault_tracebacks: dict[str, str] = {}
        self.fault_times: collections.deque[tuple[float, str]] = collections.deque()
        self._recovering: list[FaultMark] = []
        self.timeline: list[Interval] = []
        self._interval_latencies: list[int] = []  # microseconds, answered this second
        # The last few seconds' latencies (sorted), for a live line over several seconds.
        self._recent_latencies: collections.deque[list[int]] = collections.deque(maxlen=60)
        self._interval_sent = 0
        self._interval_errors = 0
        self._interval_timeouts = 0
        self._interval_connects = 0
        self._last_tick = started_at
        self._cpu_started = time.process_time()
        self._wall_started = time.perf_counter()

    # -- phases --------------------------------------------------------------------------------

    def _phase(self, name: str) -> PhaseRecord:
        phase = self.phases.get(name)
        if phase is None:
            phase = self.phases[name] = PhaseRecord(name)
        return phase

    def _enter(self, phase: PhaseRecord, now: float) -> None:
        if self._span_phases and self._span_phases[-1] is phase:
            return
        if self._span_phases:
            self._span_phases[-1].spans[-1][1] = now
        phase.spans.append([now, None])
        self._starts.append(now)
        self._span_phases.append(phase)
        self._current = phase
        self._current_start = now

    def _settle(self, now: float) -> None:
        """The current phase after the fault windows opened or closed by `now`."""
        if now >= self._switch_at:  # a stall's window ended
            at = self._switch_at
            self._open_faults = [
                (m, p) for m, p in self._open_faults if m.window_end is None or m.window_end > at
            ]
            self._switch_at = min(
                (m.window_end for m, _ in self._open_faults if m.window_end is not None),
                default=math.inf,
            )
            self._enter(self._open_faults[-1][1] if self._open_faults else self._base, at)
        phase = self._open_faults[-1][1] if self._open_faults else self._base
        self._enter(phase, now)

    def _phase_at(self, t: float) -> PhaseRecord:
        """The phase of moment `t` (trio clock): the current one, or an earlier one's."""
        if t >= self._switch_at:
            self._settle(t)
        if t >= self._current_start:
            return self._current
        index = bisect.bisect_right(self._starts, t) - 1
        return self._span_phases[max(index, 0)]

    @property
    def phase(self) -> str:
        """The current phase's name."""
        return self._current.name

    def ramp_done(self, now: float) -> None:
        """The ramp is over (every station connected and booted, or its time is up): the
        hold begins. Nothing happens after the drain began."""
        if self._base.name == RAMP:
            self._base = self._phase(HOLD)
            self._settle(now)

    def drain_started(self, now: float) -> None:
        """The run's time is over (or it was stopped): the stations wind down. Fault windows
        still open end here: what follows is the drain's."""
        if self._base.name != DRAIN:
            self._base = self._phase(DRAIN)
            self._open_faults = []
            self._switch_at = math.inf
            self._settle(now)

    @property
    def actions(self) -> dict[str, ActionRecord]:
        """Per action, the whole run's record (the phases' added: made on each access, its
        histograms too: milliseconds; to watch a count, `answered()` is cheap)."""
        return self.whole_run().actions

    def answered(self, action: str) -> int:
        """How many calls of `action` were answered so far (CALLRESULTs), in the whole run."""
        return sum(
            phase.actions[action].answered
            for phase in self.phases.values()
            if action in phase.actions
        )

    def whole_run(self) -> PhaseRecord:
        """The whole run's record: the phases' added (made on each call)."""
        whole = PhaseRecord("run")
        for phase in self.phases.values():
            whole.add(phase)
        whole.actions = dict(sorted(whole.actions.items()))
        whole.csms = dict(sorted(whole.csms.items()))
        return whole

    def count(self, name: str) -> int:
        """A counter of `COUNTER_NAMES`, for the whole run."""
        return sum(phase.counts[name] for phase in self.phases.values())

    @property
    def connect_failures(self) -> collections.Counter[str]:
        return _sum_counters(phase.connect_failures for phase in self.phases.values())

    @property
    def station_faults(self) -> collections.Counter[str]:
        return _sum_counters(phase.station_faults for phase in self.phases.values())

    # -- calls -------------------------------------------------------------------------------

    def call_sent(self, action: str, intended_at: float, now: float) -> None:
        """A call's frame goes out now; it was meant to at `intended_at`."""
        self._phase_at(intended_at).action(action).sent += 1
        self._interval_sent += 1

    def call_answered(
        self, action: str, intended_at: float, sent_at: float, answered_at: float
    ) -> None:
        """A CALLRESULT: the latency from when the call was meant to go out, and the
        response time from when its frame went out."""
        micros = _micros(answered_at - intended_at)
        phase = (
            self._current
            if intended_at >= self._current_start and intended_at < self._switch_at
            else self._phase_at(intended_at)
        )
        record = phase.actions.get(action) or phase.action(action)
        response = _micros(answered_at - sent_at)
        record.answered += 1
        record.histogram.record_value(micros)
        record.response.record_value(response)
        record.latency_us += micros
        record.response_us += response
        self._interval_latencies.append(micros)

    def call_errored(self, action: str, code: str, intended_at: float, answered_at: float) -> None:
        """A CALLERROR answer: counted by code, no latency sample."""
        self._phase_at(intended_at).action(action).errors[code] += 1
        self._interval_errors += 1

    def call_invalid(self, action: str, intended_at: float, answered_at: float) -> None:
        """An answer that broke the action's response schema."""
        self._phase_at(intended_at).action(action).invalid += 1
        self._interval_errors += 1

    def call_timed_out(self, action: str, intended_at: float, now: float) -> None:
        """Never answered in time: no latency sample (there is none), but counted."""
        self._phase_at(intended_at).action(action).timeouts += 1
        self._interval_timeouts += 1

    def call_lost(self, action: str, intended_at: float, now: float) -> None:
        """The connection closed before the answer."""
        self._phase_at(intended_at).action(action).lost += 1
        self._interval_errors += 1

    # -- connections, boots, sessions ----------------------------------------------------------

    def _counted(self, name: str, now: float) -> PhaseRecord:
        phase = self._phase_at(now)
        phase.counts[name] += 1
        return phase

    def connect_succeeded(self, handshake_seconds: float, now: float) -> None:
        """A connection is open: counted, and the connected gauge goes up."""
        phase = self._counted("connects", now)
        micros = _micros(handshake_seconds)
        phase.connect.record_value(micros)
        phase.connect_us += micros
        self._interval_connects += 1
        self.connected_stations += 1
        if self._recovering:
            self._check_recovered(now)

    def fault_injected(self, kind: str, amount: float, now: float) -> None:
        """The embedded CSMS injected a fault ("restart", "drop", "stall", ...) now. Restarts
        and drops are watched until the fleet is as connected as before; until then (a
        stall: for its length) the run is in the fault's own phase, ``fault-N``."""
        mark = FaultMark(
            kind, amount, now - self.started_at, self.connected_stations, self.disconnects
        )
        self.faults.append(mark)
        if self._base.name == DRAIN:
            return
        phase = self._phase(f"fault-{len(self.faults)}")
        if kind == "stall":
            mark.window_end = now + amount
            self._switch_at = min(self._switch_at, mark.window_end)
            self._open_faults.append((mark, phase))
        elif mark.connected_before:
            self._recovering.append(mark)
            self._open_faults.append((mark, phase))
        self._settle(now)

    def _check_recovered(self, now: float) -> None:
        recovered = False
        for mark in list(self._recovering):
            if (
                self.disconnects > mark.disconnects_before
                and self.connected_stations >= mark.connected_before
            ):
                mark.recovered_at = now - self.started_at
                self._recovering.remove(mark)
                recovered = True
        if recovered:
            self._open_faults = [
                (m, p) for m, p in self._open_faults if m.kind == "stall" or m.recovered_at is None
            ]
            self._settle(now)

    def station_faulted(
        self, station_id: str, exc: BaseException, now: float, where: str = ""
    ) -> str:
        """An exception escaped station `station_id` (a bug, a library's fault, a custom
        behaviour's error); its watchdog restarts it. Counted by kind, the first traceback
        of each kind kept. Returns the kind: `where` (e.g. "transport: ") and the exception's
        type name (a group's first leaf's)."""
        kind = where + fault_kind(exc)
        self._phase_at(now).station_faults[kind] += 1
        if kind not in self.fault_tracebacks:
            self.fault_tracebacks[kind] = "".join(traceback.format_exception(exc))
        self.fault_times.append((now, station_id))
        return kind

    def stations_faulted_since(self, since: float) -> int:
        """How many distinct stations faulted at or after `since` (older entries go)."""
        times = self.fault_times
        while times and times[0][0] < since:
            times.popleft()
        return len({station for _, station in times})

    def connect_failed(self, reason: str, now: float) -> None:
        self._phase_at(now).connect_failures[reason] += 1

    def disconnected(self, now: float) -> None:
        self._counted("disconnects", now)

    def reconnected(self, now: float) -> None:
        self._counted("reconnects", now)

    def boot_accepted(self, seconds: float, now: float, first: bool = False) -> None:
        """A boot was Accepted `seconds` after its first BootNotification was meant to go
        out; `first`: the station's first accepted boot of the run (the ramp's progress)."""
        phase = self._phase_at(now)
        micros = _micros(seconds)
        phase.boot.record_value(micros)
        phase.boot_us += micros
        if first:
            self.first_boots += 1

    def first_boot_answered(self, now: float) -> None:
        """A station's first BootNotification was answered (whatever the answer: Pending,
        Rejected, a CALLERROR) or timed out: its part of the ramp's boot storm is over."""
        self.first_boot_answers += 1

    def session_started(self, now: float) -> None:
        self._counted("sessions_started", now)

    def session_stopped(self, now: float) -> None:
        self._counted("sessions_stopped", now)

    def csms_call_answered(self, action: str, answer: str, seconds: float, now: float) -> None:
        """A CSMS's CALL, arrived at `now`, was answered (`answer`: the status, "Answered" or
        "CALLERROR <code>") in `seconds` (the station's own time to answer it). Counted in
        the phase of its arrival."""
        phase = (
            self._current
            if now >= self._current_start and now < self._switch_at
            else self._phase_at(now)
        )
        record = phase.csms.get(action) or phase.csms_action(action)
        micros = _micros(seconds)
        record.received += 1
        record.answers[answer] += 1
        record.answer.record_value(micros)
        record.answer_us += micros

    def csms_reaction(self, action: str, seconds: float, now: float) -> None:
        """What a CSMS's `action` request waited for went out at `now`, `seconds` after the
        request arrived (`REACTION_TO`). Counted in the phase of the request's arrival, with
        its answer."""
        record = self._phase_at(now - seconds).csms_action(action)
        micros = _micros(seconds)
        record.reaction.record_value(micros)
        record.reaction_us += micros

    def message_invalid(self, now: float) -> None:
        self._counted("invalid_messages", now)

    def transaction_message_produced(self, now: float) -> None:
        """A station produced a transaction message (now: its intended send time)."""
        self._counted("transaction_messages", now)

    def transaction_message_queued(self, now: float) -> None:
        """A transaction message held for a later connection (produced offline, or lost)."""
        self._counted("transaction_messages_queued", now)

    def transaction_message_requeued(self, now: float) -> None:
        """A transaction message put back to be sent again (lost, CALLERROR, timeout)."""
        self._counted("transaction_messages_requeued", now)

    def transaction_message_delivered_late(self, now: float) -> None:
        """A held transaction message answered after a reconnect."""
        self._counted("transaction_messages_delivered_late", now)

    def transaction_message_dropped(self, now: float) -> None:
        """A transaction message given up: attempts used up, or pushed out of a full queue."""
        self._counted("transaction_messages_dropped", now)

    def transaction_messages_left(self, count: int, now: float) -> None:
        """At the run's end, `count` transaction messages were still queued or unanswered
        (counted in the phase the run ended in)."""
        self._phase_at(now).counts["transaction_messages_undelivered"] = count

    # -- the timeline --------------------------------------------------------------------------

    def tick(self, now: float) -> Interval:
        """Close the current interval: append it to the timeline and return it."""
        seconds = max(now - self._last_tick, 1e-9)
        # The second's own latencies, sorted once: exact, and cheaper per call than a second
        # histogram record (the run-long histograms per action are what reports keep).
        latencies = self._interval_latencies
        answered = len(latencies)
        if answered:
            latencies.sort()
            p50 = latencies[_rank(answered, 50)] / 1000
            p99 = latencies[_rank(answered, 99)] / 1000
            worst = latencies[-1] / 1000
            self._interval_latencies = []
        else:
            p50 = p99 = worst = 0.0
        self._recent_latencies.append(latencies)
        interval = Interval(
            t=round(now - self.started_at, 3),
            seconds=round(seconds, 3),
            connected=self.connected_stations,
            sent=self._interval_sent,
            answered=answered,
            errors=self._interval_errors,
            timeouts=self._interval_timeouts,
            rate=round(answered / seconds, 1),
            p50_ms=p50,
            p99_ms=p99,
            max_ms=worst,
            connects=self._interval_connects,
            phase=self._phase_at(now).name,
        )
        self.timeline.append(interval)
        self._interval_connects = 0
        self._interval_sent = 0
        self._interval_errors = self._interval_timeouts = 0
        self._last_tick = now
        return interval

    def window(self, count: int) -> Interval:
        """The last `count` intervals (at most 60) as one: their seconds, sends, answers,
        errors, timeouts and connects added, the rate over their time, and the percentiles of
        their latencies together (exact: each second's are kept). Time, phase and connected
        stations are the last interval's. For a live line printed every few seconds, which
        would otherwise show only its last second."""
        count = max(1, min(count, len(self.timeline), len(self._recent_latencies)))
        parts = self.timeline[-count:]
        last = parts[-1]
        seconds = sum(part.seconds for part in parts)
        latencies = sorted(itertools.chain.from_iterable(list(self._recent_latencies)[-count:]))
        answered = len(latencies)
        if answered:
            p50 = latencies[_rank(answered, 50)] / 1000
            p99 = latencies[_rank(answered, 99)] / 1000
            worst = latencies[-1] / 1000
        else:
            p50 = p99 = worst = 0.0
        return Interval(
            t=last.t,
            seconds=round(seconds, 3),
            connected=last.connected,
            sent=sum(part.sent for part in parts),
            answered=answered,
            errors=sum(part.errors for part in parts),
            timeouts=sum(part.timeouts for part in parts),
            rate=round(answered / max(seconds, 1e-9), 1),
            p50_ms=p50,
            p99_ms=p99,
            max_ms=worst,
            connects=sum(part.connects for part in parts),
            phase=last.phase,
        )

    def cpu_percent(self) -> float:
        """This process's CPU time over wall time since the start, in percent of one core."""
        wall = time.perf_counter() - self._wall_started
        if wall <= 0:
            return 0.0
        return 100.0 * (time.process_time() - self._cpu_started) / wall


def _counter(name: str) -> property:
    return property(lambda self: self.count(name), doc=f"The whole run's {name} (read-only).")


# The run's counters read as attributes (metrics.connects, metrics.disconnects, ...): each
# the phases' added. Read-only, so that no assignment can hide the phases' counts.
for _name in COUNTER_NAMES:
    setattr(Metrics, _name, _counter(_name))


def _sum_counters(parts: Iterable[collections.Counter[str]]) -> collections.Counter[str]:
    total: collections.Counter[str] = collections.Counter()
    for counts in parts:
        total.update(counts)
    return total
