"""The measured side of a benchmark, in a fresh process: the fleet, or raw transport clients.

``python -m benchmarks._worker PARAMS_JSON`` connects to a server another process runs (its
URL and pid are in the parameters), ramps up, waits until every station (client) is connected
and booted, lets things settle, then measures one or more windows and prints one JSON object.
It exits at once after printing (``os._exit``): tearing thousands of connections down politely
is not what is measured, and the parent kills the server anyway.

Both kinds measure the same way, in the process that does the work: CPU with
``time.process_time`` (user + system, all threads), memory as VmRSS, latency from each
message's intended send time into an HdrHistogram reset at the window's start.

- ``fleet``: a `FleetRun` of a profile built as TOML text (``csms = URL``), through the
  fleet's Python API; no charging sessions, so the load is boots and heartbeats at the
  interval the CSMS gives. Or, with ``profile`` (a file), that profile's stations, ramp and
  sessions against the URL (``csms_ops``; ``first_start``: [low, high] seconds, the
  sessions' first start drawn uniformly in it instead of the file's): a window with
  ``"campaign": true`` starts the server's next campaign (SIGUSR2, ``_csms_campaigns.py``)
  as it opens and counts the CSMS calls the stations received in it; the printed object ends
  with the run's report section for CSMS-initiated operations (``csms``: answers by status,
  answer and reaction times).
- ``transport``: N trio-websocket clients doing OCPP-shaped round trips, encoded and decoded
  with msgspec and nothing else: the floor of our stack. Each sends a Heartbeat CALL every
  `interval` seconds (from its connect time, as a station), or back to back (interval 0).
  Once all are connected the process freezes its objects out of the cyclic garbage collector
  (``gc.freeze``), as the fleet does during its ramp: the floor is the stack at its best, not
  the stack plus a full collection over thousands of connections.
"""

from __future__ import annotations

import collections
import gc
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

import msgspec
import trio
import trio_websocket
from hdrh.histogram import HdrHistogram

from benchmarks._common import (
    cpu_seconds,
    open_fds,
    raise_open_files_limit,
    rss_bytes,
    runqueue_wait_seconds,
)

LOWEST_US, HIGHEST_US = 1, 3_600_000_000  # as fleet.metrics: 1 us to 1 h, 3 digits
POLL = 0.02  # seconds between looks at the counters while waiting


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, 3)


def latency(histogram: HdrHistogram) -> dict[str, Any]:
    """Percentiles of a microsecond histogram, in milliseconds."""
    count = histogram.get_total_count()
    if not count:
        return {"count": 0}
    at = histogram.get_value_at_percentile
    return {
        "count": count,
        "p50_ms": at(50) / 1000,
        "p90_ms": at(90) / 1000,
        "p99_ms": at(99) / 1000,
        "p999_ms": at(99.9) / 1000,
        "max_ms": histogram.get_max_value() / 1000,
        "mean_ms": round(histogram.get_mean_value() / 1000, 3),
    }


class GcWatch:
    """Collections and time spent in the cyclic garbage collector (gc.callbacks)."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.seconds = 0.0
        self.max_pause = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.collections[info["generation"]] += 1
        self.seconds += pause
        self.max_pause = max(self.max_pause, pause)

    def take(self) -> dict[str, Any]:
        """The figures since the last take, and start again."""
        figures = {
            "collections": list(self.collections),
            "seconds": round(self.seconds, 3),
            "max_pause_ms": round(self.max_pause * 1000, 1),
        }
        self.collections = [0, 0, 0]
        self.seconds = self.max_pause = 0.0
        return figures


class LagProbe:
    """How late a timer fires in this process: a task sleeping 10 ms at a time records how
    much later than asked it woke. The event loop's own delay, which every latency the
    process measures carries too."""

    def __init__(self) -> None:
        self.histogram = new_histogram()

    async def run(self) -> None:
        while True:
            due = trio.current_time() + 0.01
            await trio.sleep_until(due)
            late = trio.current_time() - due
            self.histogram.record_value(min(max(int(late * 1e6), LOWEST_US), HIGHEST_US))


class Side(Protocol):
    """What the measurement reads from either kind of worker."""

    def connected(self) -> int: ...
    def booted(self) -> int: ...
    def answered(self) -> int: ...
    def sent(self) -> int: ...
    def failures(self) -> dict[str, int]: ...
    def problems(self) -> dict[str, int]:
        """Answers that were not results: errors, timeouts, lost calls; and disconnects."""
        ...

    def histogram(self) -> HdrHistogram | None: ...
    def csms_received(self) -> int:
        """CSMS-initiated calls the stations received so far."""
        ...

    def final(self) -> dict[str, Any]:
        """What the side adds to the printed figures once the windows are over."""
        ...


# -- the fleet -----------------------------------------------------------------------------------


def fleet_profile(url: str, stations: int, rate: float, versions: dict[str, float]) -> str:
    """The profile: `stations` stations at `rate` per second against `url`, no sessions."""
    shares = ", ".join(f'"{version}" = {share}' for version, share in versions.items())
    return "\n".join(
        [
            'name = "benchmark"',
            f'csms = "{url}"',
            'duration = "10h"  # the worker measures, then exits',
            "[stations]",
            f"count = {stations}",
            f"versions = {{ {shares} }}",
            "[ramp]",
            f"rate = {rate}",
            "[session]",
            'first_start = "1000h"  # no charging sessions: boots and heartbeats only',
        ]
    )


class FleetSide:
    def __init__(self, run: Any, action: str) -> None:
        self.run = run
        self.action = action

    def connected(self) -> int:
        return self.run.metrics.connected_stations

    def booted(self) -> int:
        return self.run.metrics.first_boots

    def answered(self) -> int:
        return sum(record.answered for record in self.run.metrics.actions.values())

    def sent(self) -> int:
        return sum(record.sent for record in self.run.metrics.actions.values())

    def failures(self) -> dict[str, int]:
        return dict(self.run.metrics.connect_failures)

    def problems(self) -> dict[str, int]:
        records = self.run.metrics.actions.values()
        return {
            "errors": sum(sum(r.errors.values()) + r.invalid for r in records),
            "timeouts": sum(r.timeouts for r in records),
            "lost": sum(r.lost for r in records),
            "disconnects": self.run.metrics.disconnects,
        }

    def histogram(self) -> HdrHistogram | None:
        # The live histogram of the current phase (the hold, once the run settled): a
        # window resets it and reads it; the run's `actions` would be a merged copy.
        metrics = self.run.metrics
        record = metrics.phases[metrics.phase].actions.get(self.action)
        return record.histogram if record is not None else None

    def csms_received(self) -> int:
        return sum(
            record.received
            for phase in self.run.metrics.phases.values()
            for record in phase.csms.values()
        )

    def final(self) -> dict[str, Any]:
        """The report's section for CSMS-initiated operations (the whole run so far), by
        action, without the encoded histograms (`csms`); the reaction times' histograms
        apart, encoded as in the report (`csms_reaction_histograms`)."""
        import datetime as dt

        from fleet.metrics import build_report

        run = self.run
        report = build_report(
            run.metrics,
            name=run.profile.name,
            profile=run.profile,
            started_at=run.started_at_wall or dt.datetime.now(dt.UTC),
            ended_at=dt.datetime.now(dt.UTC),
            ended_monotonic=trio.current_time(),
        )
        return {
            "csms": _without_histograms(msgspec.to_builtins(report.csms)),
            "csms_reaction_histograms": {
                action: stats.reaction.histogram for action, stats in report.csms.items()
            },
        }


def _without_histograms(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_histograms(v) for k, v in value.items() if k != "histogram"}
    return value


async def run_fleet(params: dict[str, Any]) -> None:
    from fleet.profile import parse_profile
    from fleet.run import FleetRun

    if params.get("profile"):
        from fleet.profile import Distribution, load_profile

        # The file's stations, ramp and sessions; its CSMS is the server process, and the
        # run lasts until the measurement ends it.
        profile = load_profile(params["profile"]).with_overrides(
            csms=params["url"], stations=params["stations"], duration="10h"
        )
        if params.get("first_start"):  # [low, high] s: sessions start uniformly in it
            low, high = params["first_start"]
            first_start = Distribution(kind="uniform", a=low, b=high)
            session = msgspec.structs.replace(profile.session, first_start=first_start)
            profile = msgspec.structs.replace(profile, session=session)
    else:
        text = fleet_profile(
            params["url"], params["stations"], params["ramp_rate"], params["versions"]
        )
        profile = parse_profile(text)
    run = FleetRun(profile)
    side = FleetSide(run, params.get("action", "Heartbeat"))
    await measure(params, side, run.run)


# -- raw transport clients -----------------------------------------------------------------------


class TransportSide:
    def __init__(self) -> None:
        self.connected_count = 0
        self.answered_count = 0
        self.sent_count = 0
        self.wrong = 0
        self.lost = 0
        self.failure_counts: collections.Counter[str] = collections.Counter()
        self.latency = new_histogram()

    def connected(self) -> int:
        return self.connected_count

    def booted(self) -> int:
        return self.connected_count  # nothing to boot: connected is ready

    def answered(self) -> int:
        return self.answered_count

    def sent(self) -> int:
        return self.sent_count

    def failures(self) -> dict[str, int]:
        return dict(self.failure_counts)

    def problems(self) -> dict[str, int]:
        return {"errors": self.wrong, "timeouts": 0, "lost": self.lost, "disconnects": 0}

    def histogram(self) -> HdrHistogram:
        return self.latency

    def csms_received(self) -> int:
        return 0  # raw clients: no CSMS calls

    def final(self) -> dict[str, Any]:
        return {}


async def transport_client(side: TransportSide, url: str, interval: float) -> None:
    """One client: a Heartbeat-shaped CALL, its CALLRESULT decoded and its id checked."""
    encode = msgspec.json.encode
    decode = msgspec.json.decode
    now = trio.current_time
    record = side.latency.record_value
    try:
        async with trio_websocket.open_websocket_url(url, subprotocols=["ocpp1.6"]) as ws:
            side.connected_count += 1
            send, receive = ws.send_message, ws.get_message
            due = now() + interval
            sequence = 0
            try:
                while True:
                    if interval:
                        await trio.sleep_until(due)
                        intended, due = due, due + interval
                    else:
                        intended = now()
                    sequence += 1
                    message_id = str(sequence)
                    side.sent_count += 1
                    await send(encode([2, message_id, "Heartbeat", {}]).decode())
                    answer = decode(await receive())
                    if answer[0] != 3 or answer[1] != message_id:
                        side.wrong += 1
                    side.answered_count += 1
                    micros = int((now() - intended) * 1e6)
                    record(min(max(micros, LOWEST_US), HIGHEST_US))
            except trio_websocket.ConnectionClosed:
                side.lost += 1
    except (OSError, trio_websocket.HandshakeError) as exc:
        side.failure_counts[type(exc).__name__] += 1


async def run_transport(params: dict[str, Any]) -> None:
    side = TransportSide()
    base = params["url"].rstrip("/")

    async def clients() -> None:
        async with trio.open_nursery() as nursery:
            start = trio.current_time()
            for index in range(params["clients"]):
                await trio.sleep_until(start + index / params["ramp_rate"])
                nursery.start_soon(
                    transport_client, side, f"{base}/CP{index:06d}", params["interval"]
                )

    await measure(params, side, clients)


# -- the measurement -----------------------------------------------------------------------------


async def measure(params: dict[str, Any], side: Side, body: Callable[[], Any]) -> None:
    """Ramp up (`body` runs the fleet or the clients), wait for every station to be booted,
    settle, measure each window, print the figures and exit the process."""
    target = params.get("stations") or params.get("clients")
    server_pid = params["server_pid"]
    watch = GcWatch()
    probe = LagProbe() if params.get("lag_probe") else None
    result: dict[str, Any] = {
        "kind": params["kind"],
        "requested": target,
        "fds_before": open_fds(),
        "rss_before": rss_bytes(),
    }
    async with trio.open_nursery() as nursery:
        cpu0, server0 = time.process_time(), cpu_seconds(server_pid)
        waited0 = runqueue_wait_seconds()
        start = trio.current_time()
        nursery.start_soon(body)
        connected_at = booted_at = None
        deadline = start + params["boot_timeout"]
        while trio.current_time() < deadline:
            await trio.sleep(POLL)
            now = trio.current_time()
            if connected_at is None and side.connected() >= target:
                connected_at = now
            if side.booted() >= target:
                booted_at = now
                break
        result.update(
            connected=side.connected(),
            booted=side.booted(),
            connect_seconds=round(connected_at - start, 3) if connected_at else None,
            boot_seconds=round(booted_at - start, 3) if booted_at else None,
            ramp_wall_seconds=round(trio.current_time() - start, 3),
            ramp_cpu_seconds=round(time.process_time() - cpu0, 3),
            ramp_server_cpu_seconds=round(cpu_seconds(server_pid) - server0, 3),
            ramp_runqueue_wait_seconds=round(runqueue_wait_seconds() - waited0, 3),
            ramp_gc=watch.take(),
            connect_failures=side.failures(),
            rss_booted=rss_bytes(),
        )
        if params["kind"] == "transport":
            gc.freeze()
        if probe is not None:
            nursery.start_soon(probe.run)
        await trio.sleep(params["settle"])
        result["windows"] = [
            await measure_window(window, side, server_pid, watch, probe)
            for window in params["windows"]
        ]
        result["rss_end"] = rss_bytes()
        result["server_rss_end"] = rss_bytes(server_pid)
        result["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        result["open_fds"] = open_fds()
        result.update(side.final())
        # Out at once, connections open: see the module docstring.
        sys.stdout.write(msgspec.json.encode(result).decode() + "\n")
        sys.stdout.flush()
        os._exit(0)
    raise AssertionError("unreachable: the measurement exits the process")


async def measure_window(
    window: dict[str, Any],
    side: Side,
    server_pid: int,
    watch: GcWatch,
    probe: LagProbe | None,
) -> dict[str, Any]:
    histogram = side.histogram()
    if histogram is not None:
        histogram.reset()
    if probe is not None:
        probe.histogram.reset()
    watch.take()
    answered0, sent0, problems0 = side.answered(), side.sent(), side.problems()
    received0 = side.csms_received()
    cpu0, server0, wall0 = time.process_time(), cpu_seconds(server_pid), time.perf_counter()
    waited0, server_waited0 = runqueue_wait_seconds(), runqueue_wait_seconds(server_pid)
    if window.get("campaign"):
        os.kill(server_pid, signal.SIGUSR2)  # the server's next campaign starts now
    stall_at = window.get("stall_at")
    if stall_at is not None:
        await trio.sleep(stall_at)
        os.kill(server_pid, signal.SIGUSR1)
        await trio.sleep(window["seconds"] - stall_at)
    else:
        await trio.sleep(window["seconds"])
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    server = cpu_seconds(server_pid) - server0
    waited = runqueue_wait_seconds() - waited0
    server_waited = runqueue_wait_seconds(server_pid) - server_waited0
    answered = side.answered() - answered0
    histogram = side.histogram()
    problems = side.problems()
    figures = {
        "name": window["name"],
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 4),
        "cpu_share": round(cpu / wall, 4),
        "server_cpu_seconds": round(server, 3),
        "server_cpu_share": round(server / wall, 4),
        "runqueue_wait_share": round(waited / wall, 4),
        "server_runqueue_wait_share": round(server_waited / wall, 4),
        "answered": answered,
        "sent": side.sent() - sent0,
        "rate": round(answered / wall, 1),
        "cpu_us_per_answer": round(cpu / answered * 1e6, 1) if answered else None,
        "server_cpu_us_per_answer": round(server / answered * 1e6, 1) if answered else None,
        "problems": {key: problems[key] - problems0[key] for key in problems},
        "csms_received": side.csms_received() - received0,
        "connected": side.connected(),
        "latency": latency(histogram) if histogram is not None else {"count": 0},
        "gc": watch.take(),
    }
    if stall_at is not None:
        figures["stall_at"] = stall_at
    if window.get("campaign"):
        figures["campaign"] = True
    if probe is not None:
        figures["loop_lag"] = latency(probe.histogram)
    return figures


def main() -> None:
    params = msgspec.json.decode(sys.argv[1])
    raise_open_files_limit()
    runner = {"fleet": run_fleet, "transport": run_transport}[params["kind"]]
    trio.run(runner, params)


if __name__ == "__main__":
    main()
