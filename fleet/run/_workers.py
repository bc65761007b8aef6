"""`fleet run --workers N`: one run over N worker processes, one live view, one exact report.

The parent starts N copies of ``fleet run`` (each on its own shard of the stations, so no
station runs twice and each ramps at 1/N of the rate), reads the per-second intervals they
stream on stdout into one live view, and merges their reports: histograms are added, so the
merged percentiles are exact. With ``csms = "embedded"`` the parent runs the embedded CSMS
(and its fault schedule) itself, so every worker talks to one CSMS in a process of its own.

Workers run in their own sessions: a Ctrl-C at the terminal reaches the parent only, which
passes each signal on once (the first drains the workers, a second makes them quit at once;
either way they write their reports). A worker that dies is reported; the others finish.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import msgspec
import trio

from fleet.csms import CampaignRecord, EmbeddedCsms, run_campaigns, run_fault_schedule
from fleet.metrics import FaultRecord, Interval, Report, read_report
from fleet.profile import Profile, campaign_payload, redacted
from fleet.report import merge, merge_intervals
from fleet.run._orchestrator import Shard, campaign_stats, embedded_csms
from fleet.run._protocol import FaultNotice, FaultsHeard, line_batches

__all__ = ["WorkerOutcome", "WorkersRun", "worker_shards"]

_INTERVAL_DECODER = msgspec.json.Decoder(Interval)
_FAULT_ENCODER = msgspec.json.Encoder()
_HEARD_DECODER = msgspec.json.Decoder(FaultsHeard)
# At most this long a fault waits for the workers to say they heard of it.
FAULT_NOTICE_WAIT = 1.0


def worker_shards(count: int, shard: Shard | None) -> list[Shard]:
    """The shards of `count` workers: of the whole run, or of this machine's `shard` (worker j
    of machine I/M takes I + j*M of M*count, so the machine's stations split exactly)."""
    if shard is None:
        return [Shard(j, count) for j in range(count)]
    return [Shard(shard.index + shard.count * j, shard.count * count) for j in range(count)]


class WorkerOutcome:
    """How one worker ended."""

    __slots__ = ("exit_code", "log_text", "report", "shard", "stderr_tail")

    def __init__(self, shard: Shard) -> None:
        self.shard = shard
        self.exit_code: int | None = None
        self.report: Report | None = None
        self.log_text: str | None = None  # the worker's log (warnings, fault tracebacks)
        self.stderr_tail: list[str] = []

    @property
    def died(self) -> bool:
        """Ended without its report (killed, crashed, or failed before running)."""
        return self.report is None

    def describe(self) -> str:
        code = self.exit_code
        if code is not None and code < 0:
            how = f"killed by {signal.Signals(-code).name}"
        else:
            how = f"exit code {code}"
        last = f": {self.stderr_tail[-1]}" if self.stderr_tail else ""
        return f"worker {self.shard} {how}{last}"


class WorkersRun:
    """Run `profile` (from `profile_path`) over `count` worker processes.

    Args:
        profile: the profile, with the command line's overrides applied (for the CSMS).
        profile_path: the file the workers load.
        count: worker processes.
        shard: this machine's shard of the run, if it is one of several.
        overrides: command-line options passed on to every worker (--stations, ...).
        on_tick: the live view, called with each second merged over the workers.
    """

    def __init__(
        self,
        profile: Profile,
        profile_path: str,
        count: int,
        *,
        shard: Shard | None = None,
        overrides: list[str] | None = None,
        on_tick: Callable[[Interval, WorkersRun], None] | None = None,
    ) -> None:
        self.profile = profile
        self.profile_path = profile_path
        self.count = count
        self.shard = shard
        self.overrides = list(overrides or [])
        self.on_tick = on_tick
        self.outcomes = [WorkerOutcome(s) for s in worker_shards(count, shard)]
        self.csms: EmbeddedCsms | None = None
        self.interrupted = False
        self.interrupted_by: str | None = None  # the first signal's name, e.g. "SIGINT"
        self._workers_started = trio.Event()
        self._workers_start = 0.0  # trio clock
        self.faults: list[tuple[str, float, float]] = []  # kind, amount, seconds from start
        self.campaigns: list[CampaignRecord] = []  # [[embedded.campaigns]], run by the parent
        self._processes: list[trio.Process] = []
        self._latest: dict[int, float] = {}  # worker -> its latest interval's t
        self._pending: dict[int, dict[int, Interval]] = {}  # second -> worker -> interval
        self._shown = 0
        self._told = 0  # faults told to the workers
        self._heard: dict[int, int] = {}  # worker -> faults it said it heard of
        self._heard_more = trio.Event()

    @property
    def target(self) -> int:
        count = self.profile.stations.count
        return self.shard.size(count) if self.shard is not None else count

    async def run(self) -> list[WorkerOutcome]:
        """Start the workers, show their progress, wait for all of them. Signals (SIGINT,
        SIGTERM) are passed on to the workers."""
        with tempfile.TemporaryDirectory(prefix="fleet-workers-") as folder:
            async with self._csms() as url, trio.open_nursery() as nursery:
                nursery.start_soon(self._forward_signals)
                if self.csms is not None and self.profile.embedded.faults:
                    nursery.start_soon(self._inject_faults, self.csms)
                if self.csms is not None and self.profile.embedded.campaigns:
                    nursery.start_soon(self._run_campaigns, self.csms)
                async with trio.open_nursery() as workers:
                    for j, outcome in enumerate(self.outcomes):
                        out = Path(folder) / f"worker-{j}.json"
                        workers.start_soon(self._worker, j, outcome, url, out)
                nursery.cancel_scope.cancel(reason="workers done")
        return self.outcomes

    @contextlib.asynccontextmanager
    async def _csms(self) -> AsyncIterator[str]:
        if self.profile.csms != "embedded":
            yield self.profile.csms
            return
        csms = embedded_csms(self.profile)
        async with trio.open_nursery() as nursery:
            await nursery.start(csms.run)
            self.csms = csms
            try:
                yield csms.url
            finally:
                nursery.cancel_scope.cancel(reason="run over")

    async def _inject_faults(self, csms: EmbeddedCsms) -> None:
        # On the workers' clock: their runs start a moment after the parent's (a Python
        # process each), and the schedule's times and the merged timeline are theirs.
        await self._workers_started.wait()
        start = self._workers_start

        def heard(kind: str, amount: float, now: float) -> None:
            self.faults.append((kind, amount, now - start))

        # Faults end with the run's duration, as in one process: they spare the drain.
        with trio.move_on_at(start + self.profile.duration):
            await run_fault_schedule(
                csms,
                self.profile.embedded.faults,
                start=start,
                on_fault=heard,
                before_fault=self._tell_workers,
            )

    async def _run_campaigns(self, csms: EmbeddedCsms) -> None:
        # On the workers' clock and within the run's duration, as the faults.
        await self._workers_started.wait()
        start = self._workers_start
        with trio.move_on_at(start + self.profile.duration):
            await run_campaigns(
                csms,
                self.profile.embedded.campaigns,
                self.campaigns,
                start=start,
                seed=self.profile.seed,
                payload_for=campaign_payload,
            )

    async def _tell_workers(self, kind: str, amount: float) -> None:
        """Before a fault: every worker records its window on its own clock, and says so
        (a line on its stdout) before the connections go, so that all it causes is in the
        window. A worker that does not answer within a second is not waited for."""
        self._told += 1
        line = _FAULT_ENCODER.encode(FaultNotice(kind, amount)) + b"\n"
        for process in self._processes:
            if process.stdin is not None and process.returncode is None:
                with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                    await process.stdin.send_all(line)
        with trio.move_on_after(FAULT_NOTICE_WAIT):
            while any(heard < self._told for heard in self._heard.values()):
                await self._heard_more.wait()
                self._heard_more = trio.Event()

    async def _worker(self, j: int, outcome: WorkerOutcome, url: str, out: Path) -> None:
        command = [
            sys.executable, "-m", "fleet", "run", self.profile_path,
            "--shard", str(outcome.shard), "--csms", url, "--out", str(out),
            "--quiet", "--worker-stream", *self.overrides,
        ]  # fmt: skip
        process = await trio.lowlevel.open_process(
            command,
            stdin=subprocess.PIPE,  # the faults the parent injects (FleetRun.hear_faults)
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # terminal signals reach the parent only
        )
        self._processes.append(process)
        self._latest[j] = -1.0
        self._heard[j] = 0
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read_intervals, j, process.stdout)
                nursery.start_soon(self._read_stderr, outcome, process.stderr)
                outcome.exit_code = await process.wait()
        finally:
            with trio.CancelScope(shield=True):
                if process.returncode is None:  # the parent is going down: so do we
                    process.kill()
                    await process.wait()
            del self._latest[j]
            del self._heard[j]  # not waited for any more
            self._heard_more.set()
            self._show_ready()
        if out.exists():
            with contextlib.suppress(OSError, ValueError):
                outcome.report = read_report(out)
        with contextlib.suppress(OSError, ValueError):
            outcome.log_text = out.with_suffix(".log").read_text(encoding="utf-8")

    async def _read_intervals(self, j: int, stream: trio.abc.ReceiveStream | None) -> None:
        assert stream is not None
        async for lines in line_batches(stream):
            for line in lines:
                try:
                    interval = _INTERVAL_DECODER.decode(line)
                except msgspec.DecodeError:
                    with contextlib.suppress(msgspec.DecodeError):
                        self._heard[j] = _HEARD_DECODER.decode(line).heard_faults
                        self._heard_more.set()
                    continue  # else not ours (a stray print): the live view can do without it
                if not self._workers_started.is_set():  # the first worker's run began then
                    self._workers_start = trio.current_time() - interval.t
                    self._workers_started.set()
                second = round(interval.t)
                self._pending.setdefault(second, {})[j] = interval
                self._latest[j] = interval.t
            self._show_ready()

    async def _read_stderr(
        self, outcome: WorkerOutcome, stream: trio.abc.ReceiveStream | None
    ) -> None:
        assert stream is not None
        buffer = b""
        async for chunk in stream:
            buffer += chunk
        outcome.stderr_tail = buffer.decode(errors="replace").strip().splitlines()[-5:]

    def _show_ready(self) -> None:
        """Show every second all running workers have reported (merged)."""
        if not self._pending:
            return
        ready_until = min(self._latest.values(), default=float("inf"))
        for second in sorted(self._pending):
            if second > ready_until + 0.5:
                break
            parts = list(self._pending.pop(second).values())
            if self.on_tick is not None and second > self._shown:
                self._shown = second
                self.on_tick(merge_intervals(float(second), parts), self)

    async def _forward_signals(self) -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                self.interrupted = True
                self.interrupted_by = self.interrupted_by or signal.Signals(signum).name
                for process in self._processes:
                    if process.returncode is None:
                        with contextlib.suppress(ProcessLookupError):
                            process.send_signal(signum)


def merge_worker_reports(run: WorkersRun, name: str) -> Report:
    """The run's one report: the workers' reports merged, with the parent's profile, faults
    and notes on how it ran.

    Raises:
        ValueError: no worker wrote a report.
    """
    reports = [outcome.report for outcome in run.outcomes if outcome.report is not None]
    merged = merge(reports, name=name, force=True)  # shards of this run, by construction
    timeline = merged.timeline
    notes = [note for note in merged.notes if "same process as the fleet" not in note]
    notes.append(f"run by {run.count} worker processes (shards {', '.join(_shards(run))})")
    if run.csms is not None:
        notes.append("the embedded CSMS ran in the parent process, the stations in the workers")
    notes += [record.summary() for record in run.campaigns]
    notes += [
        f"incomplete: {o.describe()}; its stations are missing" for o in run.outcomes if o.died
    ]
    return msgspec.structs.replace(
        merged,
        profile=redacted(run.profile),
        notes=notes,
        interrupted=merged.interrupted or run.interrupted,
        faults=_faults(run, reports, timeline),
        campaigns=[campaign_stats(record) for record in run.campaigns] or merged.campaigns,
    )


def _faults(run: WorkersRun, reports: list[Report], timeline: list[Interval]) -> list[FaultRecord]:
    """The parent's faults, with what the workers saw of each: they heard of every one
    before it struck (`FaultNotice`), so their own records count the connections before it
    exactly, and the fleet recovered when the slowest worker did. From the merged timeline
    (one-second resolution) only when a worker's records are missing."""
    records = []
    for index, (kind, amount, at) in enumerate(run.faults):
        rough = fault_from_timeline(kind, amount, at, timeline)
        seen = [r.faults[index] for r in reports if len(r.faults) > index]
        if len(seen) != len(run.outcomes) or any(r.kind != kind for r in seen):
            records.append(rough)
            continue
        recoveries = [r.recovery_s for r in seen if r.connected_before]
        recovery = None if None in recoveries else max(recoveries, default=None)
        records.append(
            msgspec.structs.replace(
                rough,
                connected_before=sum(r.connected_before for r in seen),
                recovery_s=recovery if kind != "stall" else None,
            )
        )
    return records


def _shards(run: WorkersRun) -> list[str]:
    return [str(outcome.shard) for outcome in run.outcomes]


def fault_from_timeline(
    kind: str, amount: float, at: float, timeline: list[Interval]
) -> FaultRecord:
    """A fault's record from a merged timeline (one-second resolution: the workers' own
    connection counts are not seen by the parent as they happen)."""
    before = [i for i in timeline if i.t <= at]
    connected_before = before[-1].connected if before else 0
    after = [i for i in timeline if i.t > at]
    recovery = None
    storm: list[int] = []
    if kind != "stall" and connected_before:
        # A dip and its recovery can fall in one second: then the reconnections tell.
        lost = connected_before if kind == "restart" else round(connected_before * amount)
        dipped = False
        for interval in after:
            storm.append(interval.connects)
            dipped = dipped or interval.connected < connected_before or sum(storm) >= lost
            if dipped and interval.connected >= connected_before:
                recovery = round(interval.t - at, 3)
                break
    return FaultRecord(
        kind=kind,
        amount=amount,
        at_s=round(at, 3),
        connected_before=connected_before,
        recovery_s=recovery,
        peak_connects_per_s=max(storm, default=0),
    )


def cpu_count() -> int:
    """Cores this process may use (``--workers auto``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
