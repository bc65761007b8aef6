"""The orchestrator: ramps a profile's stations up, holds them, and ends the run cleanly.

`run_fleet` owns one nursery. In it run the ramp (which starts station actors at the profile's
rate), a ticker (which closes one metrics interval a second and hands it to the live view),
and the actors themselves. At the end of the run, or when `FleetRun.stop()` is called (a
signal), the ramp stops, every station is asked to end its sessions and close, and the run
waits at most the profile's drain timeout before it cancels whatever is left.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import importlib
import math
import random
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import msgspec
import trio

from fleet.csms import CampaignRecord, EmbeddedCsms, run_campaigns, run_fault_schedule
from fleet.metrics import CampaignStats, Interval, Metrics, latency_stats, new_histogram
from fleet.ocpp import OcppVersion
from fleet.profile import FirmwareSection, Profile, campaign_payload
from fleet.run._protocol import FaultNotice, line_batches
from fleet.station import (
    FirmwareSettings,
    Reconnect,
    StationActor,
    StationMachine16,
    StationMachine201,
    StationSettings,
    answer_overrides,
    answer_with,
)
from fleet.toolkit import client_ssl_context, parse_version

__all__ = [
    "FleetRun",
    "Shard",
    "StationPlan",
    "embedded_csms",
    "plan_stations",
    "ramp_offsets",
]

TICK_SECONDS = 1.0
# How often the ramp watcher checks whether every station has booted (the ramp phase's end).
RAMP_CHECK_SECONDS = 0.05
# During the ramp, objects are frozen out of the garbage collector's reach every this many
# stations started (see `_freeze`).
FREEZE_EVERY = 500
# At most this many stations opening a connection at once (TCP, TLS, handshake): a fast ramp
# or a reconnect storm queues for a turn instead of swamping the loop and the CSMS; the wait
# counts in the connect time.
MAX_CONNECTING = 500
# The garbage collector's thresholds while the ramp creates long-lived objects by the
# thousand: the default (700, 10, 10) rescans them over and over (a third of the ramp's CPU).
RAMP_GC_THRESHOLDS = (100_000, 50, 1000)


class Shard:
    """This process's part of a run: stations whose index % `count` == `index`.

    Every shard keeps each of its stations' place in the whole ramp, so N shards started
    together ramp as one run would, each at 1/N of the rate; a station's id, version and random
    draws depend on its index only, so the union of the shards is the unsharded run.
    """

    __slots__ = ("count", "index")

    def __init__(self, index: int, count: int) -> None:
        if not 0 <= index < count:
            raise ValueError(f"shard {index}/{count}: expected 0 <= I < N")
        self.index = index
        self.count = count

    @classmethod
    def parse(cls, text: str) -> Shard:
        """ "I/N", e.g. "0/4" (the first of four).

        Raises:
            ValueError: with a one-line reason.
        """
        try:
            index, count = (int(part) for part in text.split("/"))
            return cls(index, count)
        except ValueError:
            raise ValueError(f"expected I/N with 0 <= I < N (e.g. 0/4), got {text!r}") from None

    def __contains__(self, station_index: int) -> bool:
        return station_index % self.count == self.index

    def size(self, stations: int) -> int:
        """How many of `stations` are in this shard."""
        return len(range(self.index, stations, self.count))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


class StationPlan:
    """Who one station is: its index, id and OCPP version."""

    __slots__ = ("index", "station_id", "version")

    def __init__(self, index: int, station_id: str, version: OcppVersion) -> None:
        self.index = index
        self.station_id = station_id
        self.version = version


def plan_stations(profile: Profile) -> list[StationPlan]:
    """The profile's stations, with versions in exact shares, shuffled by the seed."""
    count = profile.stations.count
    shares = sorted(profile.stations.versions.items())
    total = sum(share for _, share in shares)
    versions: list[OcppVersion] = []
    for name, share in shares:  # largest remainder would be fairer; rounding is near enough
        versions += [parse_version(name)] * round(count * share / total)
    versions = (versions + [parse_version(shares[-1][0])] * count)[:count]
    random.Random(profile.seed).shuffle(versions)
    pattern = profile.stations.id_pattern
    return [StationPlan(i, pattern.format(index=i), versions[i]) for i in range(count)]


def ramp_offsets(profile: Profile) -> Iterator[float]:
    """Seconds after the start at which each station connects, in order.

    With steps, the rate is piecewise constant and station i connects when the integral of
    the rate reaches i.
    """
    count = profile.stations.count
    ramp = profile.ramp
    if ramp.steps:
        steps = list(ramp.steps)
        index = 0
        integral = 0.0  # stations due by the start of the current step
        for k, step in enumerate(steps):
            end = steps[k + 1].at if k + 1 < len(steps) else math.inf
            while index < count:
                at = step.at + (index - integral) / step.rate
                if at >= end:
                    break
                yield max(at, step.at)
                index += 1
            if index >= count:
                return
            integral += (end - step.at) * step.rate
        return
    if ramp.duration is not None:
        for i in range(count):
            yield ramp.duration * i / count
        return
    rate = ramp.rate if ramp.rate is not None else 50.0
    for i in range(count):
        yield i / rate


class FleetRun:
    """One run of a profile.

    Args:
        profile: what to run.
        on_tick: called with each second's `Interval` (the live view).
        behaviour_path: a folder to import the profile's custom behaviour from (the
            profile's own folder, as a locustfile's).
        shard: run only this shard of the stations (workers and machines of one run).
        max_connecting: at most this many stations opening a connection at once.

    `metrics` holds everything recorded; it starts when `run()` does.
    """

    def __init__(
        self,
        profile: Profile,
        *,
        on_tick: Callable[[Interval, FleetRun], None] | None = None,
        behaviour_path: str | None = None,
        shard: Shard | None = None,
        max_connecting: int = MAX_CONNECTING,
    ) -> None:
        self.profile = profile
        self.shard = shard
        # Shared by the stations: their turns to open a connection.
        self.connecting = trio.CapacityLimiter(max_connecting)
        self.metrics = Metrics(0.0)
        self.behaviour_path = behaviour_path
        self.on_tick = on_tick
        self.actors: list[StationActor] = []
        self.interrupted = False
        self.interrupted_by: str | None = None  # the first signal's name, e.g. "SIGINT"
        # Why the run stopped before its end of its own accord (too many stations faulted).
        self.stopped_early: str | None = None
        self.drained = True
        self.csms: EmbeddedCsms | None = None
        self.csms_url = profile.csms
        # What each [[embedded.campaigns]] came to (filled as the run goes; see run_campaigns).
        self.campaigns: list[CampaignRecord] = []
        self.started_at_wall: dt.datetime | None = None
        self.ended_at_wall: dt.datetime | None = None
        self.ended_at: float | None = None
        self.quit_at: float | None = None  # see quit()
        self._quit_at_wall: dt.datetime | None = None
        self._stop = trio.Event()
        self._all_started = trio.Event()  # the ramp started every station
        self._stop_reason = ""
        # Custom behaviours (profile.behaviour) watch this event instead of an actor's flag.
        self.custom_stop = trio.Event()
        self.custom_running = 0
        self.started_stations = 0  # by the ramp, built-in and custom

    @property
    def target(self) -> int:
        count = self.profile.stations.count
        return self.shard.size(count) if self.shard is not None else count

    def stop(self, reason: str = "interrupted") -> None:
        """End the run early (Ctrl-C, SIGTERM): stop the ramp and drain the stations."""
        if not self._stop.is_set():
            self.interrupted = True
            self._stop_reason = reason
            self._stop.set()

    def quit(self) -> None:
        """Mark the run's end now (a second Ctrl-C): whoever calls this then cancels `run()`.
        The report ends at this moment, not after the teardown; calls cut short are counted
        as lost and transaction messages still held as undelivered."""
        if self.quit_at is None:
            self.quit_at = trio.current_time()
            self._quit_at_wall = dt.datetime.now(dt.UTC)

    def finish(self) -> None:
        """End the hold now, as if the duration were over: the ramp stops and the stations
        drain as at the planned end (not an interruption). For tests and scripted runs that
        end on a condition."""
        if not self._stop.is_set():
            self._stop_reason = "finished"
            self._stop.set()

    @property
    def started(self) -> bool:
        """The run began (its metrics are the run's): a report of it means something."""
        return self.started_at_wall is not None

    async def run(self) -> None:
        """Run the profile to its end (or `stop()`), then drain. Resource handling: every
        task started here ends before this returns; the embedded CSMS too.

        However it ends (its end, a stop, cancellation by a second Ctrl-C, an exception),
        the run is closed as of that moment: end times, the last interval, and the
        transaction messages each station produced and still held."""
        custom = None
        if self.profile.behaviour:
            custom = _load_behaviour(self.profile.behaviour, self.behaviour_path)
        async with self._csms():
            self.started_at_wall = dt.datetime.now(dt.UTC)
            start = trio.current_time()
            self.metrics = Metrics(start)
            try:
                await self._run(start, custom)
            finally:
                self._close()

    async def _run(self, start: float, custom: Callable[..., Any] | None) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._tick, start)
            nursery.start_soon(self._watch_ramp)
            faults = trio.CancelScope()  # faults end with the run: they spare the drain
            if self.csms is not None and self.profile.embedded.faults:
                nursery.start_soon(self._inject_faults, self.csms, start, faults)
            campaigns = trio.CancelScope()  # so do the campaigns
            if self.csms is not None and self.profile.embedded.campaigns:
                nursery.start_soon(self._run_campaigns, self.csms, start, campaigns)
            stations = trio.open_nursery()
            async with stations as station_nursery:
                ramp = trio.CancelScope()
                station_nursery.start_soon(self._ramp, station_nursery, start, ramp, custom)
                with trio.move_on_at(start + self.profile.duration):
                    await self._stop.wait()
                ramp.cancel()
                faults.cancel()
                campaigns.cancel()
                self.metrics.drain_started(trio.current_time())
                await self._drain(station_nursery)
            nursery.cancel_scope.cancel(reason="run over")

    def _close(self) -> None:
        # Synchronous: it runs even while a cancellation unwinds the run.
        if self.ended_at is not None:
            return
        self.ended_at = self.quit_at if self.quit_at is not None else trio.current_time()
        self.ended_at_wall = self._quit_at_wall or dt.datetime.now(dt.UTC)
        self._count_transaction_messages()
        self.metrics.tick(self.ended_at)

    @contextlib.asynccontextmanager
    async def _csms(self) -> AsyncIterator[None]:
        if self.profile.csms != "embedded":
            yield
            return
        csms = embedded_csms(self.profile)
        async with trio.open_nursery() as nursery:
            await nursery.start(csms.run)
            self.csms = csms
            self.csms_url = csms.url
            try:
                yield
            finally:
                nursery.cancel_scope.cancel(reason="run over")

    async def _ramp(
        self,
        nursery: trio.Nursery,
        start: float,
        scope: trio.CancelScope,
        custom: Callable[..., Any] | None,
    ) -> None:
        wall_offset = time.time() - trio.current_time()
        settings = self._settings(wall_offset)  # one for every station: per run, not per station
        thresholds = gc.get_threshold()
        gc.set_threshold(*RAMP_GC_THRESHOLDS)
        try:
            await self._start_stations(nursery, start, scope, custom, settings, self.connecting)
        finally:
            gc.set_threshold(*thresholds)
            _freeze()

    async def _start_stations(
        self,
        nursery: trio.Nursery,
        start: float,
        scope: trio.CancelScope,
        custom: Callable[..., Any] | None,
        settings: StationSettings,
        connecting: trio.CapacityLimiter,
    ) -> None:
        profile = self.profile
        ssl_context = None
        if profile.csms.startswith("wss://") or self.csms_url.startswith("wss://"):
            tls = profile.tls
            ssl_context = client_ssl_context(tls.ca_file, tls.client_cert, tls.client_key)
        reconnect = Reconnect(
            profile.reconnect.wait_minimum,
            profile.reconnect.random_range,
            profile.reconnect.repeat_times,
        )
        with scope:
            shard = self.shard
            current_time = trio.current_time
            for plan, offset in zip(plan_stations(profile), ramp_offsets(profile), strict=False):
                if shard is not None and plan.index not in shard:
                    continue
                # Sleep only when ahead: every station already due starts in this turn. A
                # checkpoint per station would let a busy run (each scheduling round is long)
                # hold the ramp to one station per round, far below the profile's rate.
                if start + offset > current_time():
                    await trio.sleep_until(start + offset)
                rng = random.Random(profile.seed * 1_000_003 + plan.index)
                self.started_stations += 1
                if custom is not None:
                    nursery.start_soon(self._run_custom, custom, plan, rng)
                    continue
                cls = StationMachine16 if plan.version is OcppVersion.V16 else StationMachine201
                machine = cls(plan.station_id, settings, rng, self.metrics)
                password = profile.auth.password
                if password is not None:
                    password = password.replace("{station}", plan.station_id)
                actor = StationActor(
                    machine,
                    self.csms_url,
                    self.metrics,
                    call_timeout=profile.timeouts.call,
                    connect_timeout=profile.timeouts.connect,
                    reconnect=reconnect,
                    password=password,
                    username=profile.auth.username,
                    ssl_context=ssl_context,
                    connecting=connecting,
                )
                self.actors.append(actor)
                nursery.start_soon(actor.run)
                if len(self.actors) % FREEZE_EVERY == 0:
                    _freeze()
            self._all_started.set()

    def _settings(self, wall_offset: float) -> StationSettings:
        profile = self.profile
        session = profile.session
        id_tags = list(session.id_tags) or [f"TAG-{n}" for n in range(session.id_tag_pool)]
        return StationSettings(
            connectors=profile.stations.connectors,
            vendor=profile.stations.vendor,
            model=profile.stations.model,
            first_start=session.first_start,
            length=session.length,
            idle=session.idle,
            power_kw=session.power_kw,
            meter_interval=session.meter_interval,
            id_tags=id_tags,
            authorize=session.authorize,
            probability=session.probability,
            heartbeat_interval=60.0,
            wall_offset=wall_offset,
            transaction_attempts=profile.transaction_messages.attempts,
            transaction_retry_interval=profile.transaction_messages.retry_interval,
            queue_limit=profile.transaction_messages.queue_limit,
            queue_overflow=profile.transaction_messages.overflow,
            answer_overrides=answer_overrides(
                (
                    rule.action,
                    rule.share,
                    answer_with(rule.action, status=rule.status, error=rule.error),
                )
                for rule in profile.answers
            ),
            firmware=_firmware_settings(profile.firmware),
        )

    async def _run_custom(
        self, behaviour: Callable[..., Any], plan: StationPlan, rng: random.Random
    ) -> None:
        from fleet.run._custom import run_custom_station

        await run_custom_station(behaviour, self, plan, rng)

    async def _watch_ramp(self) -> None:
        """The ramp phase ends once the ramp started every station and each one's first
        BootNotification had its outcome (Accepted, Pending, Rejected, an error, a timeout:
        a few Pending stations retrying must not keep the whole fleet in the ramp); at the
        latest a connect and a call timeout after the last start (some may be unreachable)."""
        await self._all_started.wait()
        timeouts = self.profile.timeouts
        metrics = self.metrics
        with trio.move_on_after(timeouts.connect + timeouts.call):
            # A custom behaviour's stations count once their first boot is answered too.
            while metrics.first_boot_answers < self.started_stations:
                await trio.sleep(RAMP_CHECK_SECONDS)
        metrics.ramp_done(trio.current_time())

    async def _drain(self, nursery: trio.Nursery) -> None:
        # As the profile's [end] says: sessions stop spread over a window inside the drain
        # time, as real ones would, not in one burst of the tool's making (an interrupted
        # run stops at once); or the stations drop their connections as in a power cut.
        end = self.profile.end
        spread = 0.0
        if not (self.interrupted or self.stopped_early):
            spread = end.stop_window(self.profile.timeouts.drain)
        cut = end.mode == "disconnect"
        for actor in self.actors:
            actor.request_stop(spread, cut=cut)
        self.custom_stop.set()
        with trio.move_on_after(self.profile.timeouts.drain):
            while self.custom_running or any(not actor.done for actor in self.actors):
                await trio.sleep(0.05)
        if self.custom_running or any(not actor.done for actor in self.actors):
            self.drained = False
            nursery.cancel_scope.cancel(reason="drain timeout")

    async def hear_faults(
        self, stream: trio.abc.ReceiveStream, on_heard: Callable[[int], None] | None = None
    ) -> None:
        """Faults injected elsewhere (a worker's parent runs the embedded CSMS and its fault
        schedule): one JSON line each, ``{"fault": kind, "amount": amount}``, recorded as
        heard, so the run has its fault windows (fault-N phases); `on_heard(n)` is told how
        many were heard so far. Returns at end of stream; a line that is not a fault is
        ignored."""
        heard = 0
        async for lines in line_batches(stream):
            for line in lines:
                try:
                    fault = _FAULT_DECODER.decode(line)
                except msgspec.DecodeError:
                    continue
                if self.started:
                    self.metrics.fault_injected(fault.fault, fault.amount, trio.current_time())
                heard += 1
                if on_heard is not None:
                    on_heard(heard)

    async def _inject_faults(
        self, csms: EmbeddedCsms, start: float, scope: trio.CancelScope
    ) -> None:
        with scope:
            await run_fault_schedule(
                csms,
                self.profile.embedded.faults,
                start=start,
                on_fault=self.metrics.fault_injected,
            )

    async def _run_campaigns(
        self, csms: EmbeddedCsms, start: float, scope: trio.CancelScope
    ) -> None:
        # Like the faults, campaigns end with the hold: they spare the drain.
        with scope:
            await run_campaigns(
                csms,
                self.profile.embedded.campaigns,
                self.campaigns,
                start=start,
                seed=self.profile.seed,
                payload_for=campaign_payload,
            )

    def campaign_notes(self) -> list[str]:
        """One line per campaign of the embedded CSMS: sent, answers by status and error
        code, timeouts, answer times (the run's summary and report notes show them)."""
        return [record.summary() for record in self.campaigns]

    def campaign_stats(self) -> list[CampaignStats]:
        """The report's record of each campaign of the embedded CSMS (`campaign_stats`)."""
        return [campaign_stats(record) for record in self.campaigns]

    def _count_transaction_messages(self) -> None:
        # Per run, not per message: what each station produced, and what it still held
        # when the run ended (the drain timed out, or the run was cut short).
        undelivered = sum(len(actor.machine.transaction_queue) for actor in self.actors)
        self.metrics.transaction_messages_left(undelivered, self.ended_at or trio.current_time())

    async def _tick(self, start: float) -> None:
        next_tick = start + TICK_SECONDS
        rule = self.profile.station_faults
        while True:
            await trio.sleep_until(next_tick)
            now = trio.current_time()
            interval = self.metrics.tick(now)
            if self.on_tick is not None:
                self.on_tick(interval, self)
            next_tick += TICK_SECONDS
            if self.metrics.station_faults and self.stopped_early is None:
                faulted = self.metrics.stations_faulted_since(now - rule.window)
                if faulted and faulted >= rule.stop_share * self.target:
                    self.stopped_early = (
                        f"stopped early: {faulted} of {self.target} stations faulted within "
                        f"{rule.window:g} s (station_faults.stop_share = {rule.stop_share:g})"
                    )
                    if not self._stop.is_set():
                        self._stop_reason = self.stopped_early
                        self._stop.set()


_FAULT_DECODER = msgspec.json.Decoder(FaultNotice)


def _freeze() -> None:
    """Move every object alive now out of the cyclic garbage collector's generations.

    A station's objects (actor, machine, websocket, task) live as long as the run. Left in
    the collector's oldest generation, every full collection walks all of them: at thousands
    of stations a pause of 100 ms and more, every few seconds, which lands in the latencies.
    Frozen, they are never walked. The cost is bounded: a frozen object that later becomes
    cyclic garbage (a connection replaced after a drop) is not reclaimed, and each object is
    frozen at most once, so this holds at most what was alive at the freezes.
    """
    gc.freeze()


def embedded_csms(profile: Profile) -> EmbeddedCsms:
    """The embedded CSMS as the profile's ``[embedded]`` table sets it up (faults aside: the
    schedule runs with the run, see `run_fault_schedule`)."""
    options = profile.embedded
    return EmbeddedCsms(
        heartbeat_interval=int(options.heartbeat_interval),
        boot_status=options.boot_status,
        boot_pending_share=options.boot_pending_share,
        boot_rejected_share=options.boot_rejected_share,
        response_delay={"*": options.response_delay, **options.action_delay},
        error_share=options.error_share,
        malformed_share=options.malformed_share,
        seed=profile.seed,
        ping_interval=options.ping_interval,
        close_after=options.close_after,
        close_code=options.close_code,
        reset_after=options.reset_after,
        field_jitter=options.field_jitter,
        ignore_close_share=options.ignore_close_share,
        slow_close=options.slow_close,
    )


def _load_behaviour(spec: str, search_path: str | None) -> Callable[..., Any]:
    module_name, _, function_name = spec.partition(":")
    if search_path is not None and search_path not in sys.path:
        sys.path.insert(0, search_path)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"behaviour {spec!r}: cannot import {module_name!r}: {exc}") from None
    function = getattr(module, function_name, None)
    if function is None or not callable(function):
        raise ValueError(f"behaviour {spec!r}: {module_name} has no function {function_name!r}")
    return function


def campaign_stats(record: CampaignRecord) -> CampaignStats:
    """A campaign's record as the report keeps it: its counts, its answers by status and
    CALLERROR code ("CALLERROR <code>", as the stations' side counts them), and its answer
    times in an HdrHistogram (microseconds)."""
    histogram = new_histogram()
    total = 0
    for seconds in record.answer_times:
        micros = min(max(round(seconds * 1_000_000), 1), histogram.highest_trackable_value)
        histogram.record_value(micros)
        total += micros
    answers = dict(record.statuses)
    answers.update({f"CALLERROR {code}": count for code, count in record.errors.items()})
    return CampaignStats(
        name=record.name,
        action=record.action,
        rounds=record.rounds,
        sent=record.sent,
        sent_by_version=dict(sorted(record.sent_by_version.items())),
        answers=dict(sorted(answers.items())),
        timeouts=record.timeouts,
        lost=record.lost,
        not_expressible=record.not_expressible,
        invalid=record.invalid,
        answer=latency_stats(histogram, total),
        not_sent=record.not_sent,
        unanswered=record.unanswered,
    )


def _firmware_settings(section: FirmwareSection) -> FirmwareSettings:
    """The stations' `FirmwareSettings` from a profile's ``[firmware]``: its distributions
    sample the durations (seconds) per job."""
    return FirmwareSettings(
        download=section.download,
        install=section.install,
        upload=section.upload,
        download_failed=section.download_failed,
        invalid_signature=section.invalid_signature,
        install_failed=section.install_failed,
        install_verification_failed=section.install_verification_failed,
        upload_failed=section.upload_failed,
    )
