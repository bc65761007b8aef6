"""Recording a run: per-action HdrHistograms of latency from the intended send time, counts
of everything that went wrong, and a per-second timeline.

No I/O and no trio: callers pass ``now`` from trio's clock. The hot path (`call_sent`,
`call_answered`) is a dict lookup, a few integer additions and two HdrHistogram records;
per-action state is made once, on an action's first call.
"""

from __future__ import annotations

import collections
import math
import time
import traceback

import msgspec
from hdrh.histogram import HdrHistogram

__all__ = ["ActionRecord", "FaultMark", "Interval", "Metrics", "fault_kind", "new_histogram"]

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


class FaultMark:
    """A fault the embedded CSMS injected, and when the fleet got over it: the first moment
    after some connections were lost that as many stations were connected as before."""

    __slots__ = ("amount", "at", "connected_before", "disconnects_before", "kind", "recovered_at")

    def __init__(
        self, kind: str, amount: float, at: float, connected_before: int, disconnects_before: int
    ) -> None:
        self.kind = kind
        self.amount = amount
        self.at = at  # seconds since the start
        self.connected_before = connected_before
        self.disconnects_before = disconnects_before
        self.recovered_at: float | None = None  # seconds since the start


class ActionRecord:
    """Everything recorded about one action."""

    __slots__ = ("answered", "errors", "histogram", "invalid", "lost", "sent", "timeouts")

    def __init__(self) -> None:
        self.histogram = new_histogram()
        self.sent = 0
        self.answered = 0
        self.errors: collections.Counter[str] = collections.Counter()
        self.invalid = 0
        self.timeouts = 0
        self.lost = 0


class Metrics:
    """All a run records. One per run (or per worker process); merged in reports.

    Args:
        started_at: the run's start on trio's clock.
    """

    def __init__(self, started_at: float) -> None:
        self.started_at = started_at
        self.actions: dict[str, ActionRecord] = {}
        self.connect = new_histogram()
        self.boot = new_histogram()
        self.connects = 0
        self.connect_failures: collections.Counter[str] = collections.Counter()
        self.disconnects = 0
        self.reconnects = 0
        self.sessions_started = 0
        self.sessions_stopped = 0
        self.invalid_messages = 0
        # Transaction messages: see `Counters` in the report.
        self.transaction_messages = 0
        self.transaction_messages_queued = 0
        self.transaction_messages_delivered_late = 0
        self.transaction_messages_requeued = 0
        self.transaction_messages_dropped = 0
        self.transaction_messages_undelivered = 0
        self.connected_stations = 0  # a gauge: up in connect_succeeded, down by the stations
        self.faults: list[FaultMark] = []
        # Exceptions that escaped a station (its watchdog restarted it), by kind; the first
        # traceback of each kind (for the log next to the report); and (when, station) of
        # each, for the run's stop rule.
        self.station_faults: collections.Counter[str] = collections.Counter()
        self.fault_tracebacks: dict[str, str] = {}
        self.fault_times: collections.deque[tuple[float, str]] = collections.deque()
        self._recovering: list[FaultMark] = []
        self.timeline: list[Interval] = []
        self._interval_latencies: list[int] = []  # microseconds, answered this second
        self._interval_sent = 0
        self._interval_errors = 0
        self._interval_timeouts = 0
        self._interval_connects = 0
        self._last_tick = started_at
        self._cpu_started = time.process_time()
        self._wall_started = time.perf_counter()

    def _action(self, action: str) -> ActionRecord:
        record = self.actions.get(action)
        if record is None:
            record = self.actions[action] = ActionRecord()
        return record

    # -- calls -------------------------------------------------------------------------------

    def call_sent(self, action: str, now: float) -> None:
        self._action(action).sent += 1
        self._interval_sent += 1

    def call_answered(self, action: str, intended_at: float, answered_at: float) -> None:
        """A CALLRESULT: latency is measured from when the call was meant to go out."""
        micros = _micros(answered_at - intended_at)
        record = self.actions.get(action) or self._action(action)
        record.answered += 1
        record.histogram.record_value(micros)
        self._interval_latencies.append(micros)

    def call_errored(self, action: str, code: str, answered_at: float) -> None:
        """A CALLERROR answer: counted by code, no latency sample."""
        self._action(action).errors[code] += 1
        self._interval_errors += 1

    def call_invalid(self, action: str, answered_at: float) -> None:
        """An answer that broke the action's response schema."""
        self._action(action).invalid += 1
        self._interval_errors += 1

    def call_timed_out(self, action: str, now: float) -> None:
        """Never answered in time: no latency sample (there is none), but counted."""
        self._action(action).timeouts += 1
        self._interval_timeouts += 1

    def call_lost(self, action: str, now: float) -> None:
        """The connection closed before the answer."""
        self._action(action).lost += 1
        self._interval_errors += 1

    # -- connections, boots, sessions ----------------------------------------------------------

    def connect_succeeded(self, handshake_seconds: float, now: float) -> None:
        """A connection is open: counted, and the connected gauge goes up."""
        self.connects += 1
        self._interval_connects += 1
        self.connected_stations += 1
        self.connect.record_value(_micros(handshake_seconds))
        if self._recovering:
            self._check_recovered(now)

    def fault_injected(self, kind: str, amount: float, now: float) -> None:
        """The embedded CSMS injected a fault ("restart", "drop", "stall") now. Restarts and
        drops are watched until the fleet is as connected as before."""
        mark = FaultMark(
            kind, amount, now - self.started_at, self.connected_stations, self.disconnects
        )
        self.faults.append(mark)
        if kind != "stall" and mark.connected_before:
            self._recovering.append(mark)

    def _check_recovered(self, now: float) -> None:
        for mark in list(self._recovering):
            if (
                self.disconnects > mark.disconnects_before
                and self.connected_stations >= mark.connected_before
            ):
                mark.recovered_at = now - self.started_at
                self._recovering.remove(mark)

    def station_faulted(
        self, station_id: str, exc: BaseException, now: float, where: str = ""
    ) -> str:
        """An exception escaped station `station_id` (a bug, a library's fault, a custom
        behaviour's error); its watchdog restarts it. Counted by kind, the first traceback
        of each kind kept. Returns the kind: `where` (e.g. "transport: ") and the exception's
        type name (a group's first leaf's)."""
        kind = where + fault_kind(exc)
        self.station_faults[kind] += 1
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
        self.connect_failures[reason] += 1

    def disconnected(self, now: float) -> None:
        self.disconnects += 1

    def reconnected(self, now: float) -> None:
        self.reconnects += 1

    def boot_accepted(self, seconds: float) -> None:
        self.boot.record_value(_micros(seconds))

    def session_started(self, now: float) -> None:
        self.sessions_started += 1

    def session_stopped(self, now: float) -> None:
        self.sessions_stopped += 1

    def message_invalid(self, now: float) -> None:
        self.invalid_messages += 1

    def transaction_message_queued(self, now: float) -> None:
        """A transaction message held for a later connection (produced offline, or lost)."""
        self.transaction_messages_queued += 1

    def transaction_message_requeued(self, now: float) -> None:
        """A transaction message put back to be sent again (lost, CALLERROR, timeout)."""
        self.transaction_messages_requeued += 1

    def transaction_message_delivered_late(self, now: float) -> None:
        """A held transaction message answered after a reconnect."""
        self.transaction_messages_delivered_late += 1

    def transaction_message_dropped(self, now: float) -> None:
        """A transaction message given up: attempts used up, or pushed out of a full queue."""
        self.transaction_messages_dropped += 1

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
        )
        self.timeline.append(interval)
        self._interval_connects = 0
        self._interval_sent = 0
        self._interval_errors = self._interval_timeouts = 0
        self._last_tick = now
        return interval

    def cpu_percent(self) -> float:
        """This process's CPU time over wall time since the start, in percent of one core."""
        wall = time.perf_counter() - self._wall_started
        if wall <= 0:
            return 0.0
        return 100.0 * (time.process_time() - self._cpu_started) / wall
