"""Custom station behaviour: a profile's ``behaviour = "module:function"``.

The function is called once per station as ``await function(station)`` with a
`CustomStation`; it drives the station through the toolkit (``async with station.connect()
as cp``), and every call it makes is recorded like the built-in behaviour's: latency from the
call's intended time, errors, timeouts. It should return when `station.stopping` turns true
(`await station.sleep(...)` returns False then), or it is cancelled at the end of the drain.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import trio

import fleet.toolkit as tk
from fleet.generic import LinkState
from fleet.metrics import Metrics
from fleet.ocpp import OcppVersion
from fleet.profile import Profile
from fleet.station import Reconnect

__all__ = ["CustomRun", "CustomStation", "PlannedStation", "run_custom_station"]


# What this module needs of the run (a `FleetRun`) and of a station's plan (a `StationPlan`),
# named here rather than imported: the orchestrator imports this module, which looks only down.


class CustomRun(Protocol):
    """The run custom behaviours take part in."""

    profile: Profile
    metrics: Metrics  # replaced when the run starts: read it at each use
    csms_url: str
    custom_stop: trio.Event  # set when the run ends
    custom_running: int  # custom behaviours still running; the drain waits for none


class PlannedStation(Protocol):
    """Who one station is."""

    @property
    def index(self) -> int: ...

    @property
    def station_id(self) -> str: ...

    @property
    def version(self) -> OcppVersion: ...


class StationMemory:
    """What one station keeps across its behaviour's restarts."""

    def __init__(self) -> None:
        self.behaviour: dict[str, Any] = {}
        self.generic_state = LinkState()
        self.connected_before = False


class CustomStation:
    """What a custom behaviour gets for one station.

    Attributes:
        station_id: the station's identity.
        version: its OCPP version ("ocpp1.6" or "ocpp2.0.1").
        index: its position in the fleet.
        rng: its own random source (seeded: runs repeat).
        profile: the whole profile, for the behaviour's own settings.
        memory: a dict the behaviour may keep things in across its restarts (a charger's
            controller remembers its open transaction across a reboot).
        generic_state: the generic API's 1.6 state (the transaction ids the CSMS gave),
            kept across this station's connections and restarts; `connect()` uses it.
    """

    def __init__(
        self,
        run: CustomRun,
        plan: PlannedStation,
        rng: random.Random,
        memory: StationMemory | None = None,
    ) -> None:
        memory = memory if memory is not None else StationMemory()
        self._memory = memory
        self.memory = memory.behaviour
        self.generic_state = memory.generic_state
        self._run = run
        self.station_id = plan.station_id
        self.version: OcppVersion = plan.version
        self.index = plan.index
        self.rng = rng
        self.profile = run.profile
        self._boot_intended: float | None = None  # the pending boot's first BootNotification
        self._booted = False
        self._boot_answered_once = False

    @property
    def stopping(self) -> bool:
        """The run is ending: finish up and return."""
        return self._run.custom_stop.is_set()

    async def sleep(self, seconds: float) -> bool:
        """Sleep, but wake when the run ends; True if the whole time passed."""
        with trio.move_on_after(seconds):
            await self._run.custom_stop.wait()
            return False
        return True

    @contextlib.asynccontextmanager
    async def connect(self, handlers: Any = None) -> AsyncIterator[Any]:
        """Connect this station as the profile says; yields a toolkit charge point."""
        run = self._run
        profile = run.profile
        metrics = run.metrics
        password = profile.auth.password
        if password is not None:
            password = password.replace("{station}", self.station_id)
        tls = profile.tls
        started = trio.current_time()
        try:
            connection = tk.connect(
                run.csms_url,
                self.station_id,
                version=self.version,
                handlers=handlers,
                call_timeout=profile.timeouts.call,
                connect_timeout=profile.timeouts.connect,
                password=password,
                username=profile.auth.username,
                ca_file=tls.ca_file,
                client_cert=tls.client_cert,
                client_key=tls.client_key,
                on_call=self._record,
                generic_state=self.generic_state,
            )
            async with connection as cp:
                now = trio.current_time()
                metrics.connect_succeeded(now - started, now)  # the gauge goes up
                if self._memory.connected_before:
                    metrics.reconnected(now)
                self._memory.connected_before = True
                try:
                    yield cp
                finally:
                    metrics.connected_stations -= 1
                    if cp.closed:  # the CSMS closed it (or the network), not the behaviour
                        metrics.disconnected(trio.current_time())
        except tk.ConnectError as exc:
            metrics.connect_failed(type(exc).__name__, trio.current_time())
            raise

    def _boot_answered(self, timing: tk.CallTiming) -> None:
        # Boot-to-Accepted as the built-in stations measure it: from the first
        # BootNotification of the boot (Pending and Rejected ones retry) to its acceptance.
        if self._boot_intended is None:
            self._boot_intended = timing.intended_at
        if getattr(timing.response, "status", None) == "Accepted":
            assert timing.answered_at is not None
            self._run.metrics.boot_accepted(
                timing.answered_at - self._boot_intended, timing.answered_at, not self._booted
            )
            self._booted = True
            self._boot_intended = None

    def _record(self, timing: tk.CallTiming) -> None:
        metrics = self._run.metrics
        # Any outcome but a lost connection: its part of the ramp's boot storm is over.
        if (
            timing.action == "BootNotification"
            and timing.outcome != "lost"
            and not self._boot_answered_once
        ):
            self._boot_answered_once = True
            metrics.first_boot_answered(timing.answered_at or trio.current_time())
        metrics.call_sent(timing.action, timing.intended_at, timing.sent_at)
        if timing.outcome == "result":
            assert timing.answered_at is not None
            metrics.call_answered(
                timing.action, timing.intended_at, timing.sent_at, timing.answered_at
            )
            if timing.action == "BootNotification":
                self._boot_answered(timing)
        elif timing.outcome == "error":
            metrics.call_errored(
                timing.action,
                timing.error_code or "",
                timing.intended_at,
                timing.answered_at or 0.0,
            )
        elif timing.outcome == "invalid":
            metrics.call_invalid(timing.action, timing.intended_at, timing.answered_at or 0.0)
        elif timing.outcome == "timeout":
            metrics.call_timed_out(timing.action, timing.intended_at, trio.current_time())
        else:
            metrics.call_lost(timing.action, timing.intended_at, trio.current_time())


async def run_custom_station(
    behaviour: Callable[[CustomStation], Any],
    run: CustomRun,
    plan: PlannedStation,
    rng: random.Random,
) -> None:
    """Run one station's custom behaviour until it returns or the run ends.

    It is the station's watchdog: when the behaviour raises, the fault is counted by kind
    (`Metrics.station_faulted`; a `ConnectError` is a connect failure and a `ConnectionLost`
    a disconnect, both counted by `connect()`: the CSMS's doing, not the station's), and after
    the reconnect backoff the behaviour runs again, as a charger whose controller restarted.
    Never raises but for cancellation.
    """
    run.custom_running += 1
    reconnect = run.profile.reconnect
    backoff = Reconnect(reconnect.wait_minimum, reconnect.random_range, reconnect.repeat_times)
    failures = 0
    memory = StationMemory()
    try:
        while True:
            station = CustomStation(run, plan, rng, memory)
            try:
                await behaviour(station)
                return
            except (tk.ConnectError, tk.ConnectionLost):
                pass  # counted by connect()
            except Exception as exc:
                run.metrics.station_faulted(plan.station_id, exc, trio.current_time())
            failures += 1
            if station.stopping or not await station.sleep(backoff.delay(failures, rng)):
                return
    finally:
        run.custom_running -= 1
