"""Capacity: how many connected, booted, heartbeating stations one fleet process holds, what
they cost in memory and CPU, and how fast they come up.

At each level (1k, 5k, 10k, 20k stations; half OCPP 1.6, half 2.0.1, no charging sessions) a
fresh embedded CSMS process (``fleet csms --heartbeat-interval H``) and a fresh fleet worker
process (`FleetRun` through the Python API) are started. Up to 10,000 stations the fleet ramps
at 1,000 stations/s offered (twice the 500/s target; what it achieves is the figure). Above
that, the ramp is offered at half the rate the fleet achieved at 10,000: a ramp the fleet
cannot keep up with starts its overdue stations all at once, and at 20,000 that turned into
a storm of connect timeouts and retries, at 1,000/s and at 80 % of the 10,000 rate alike
(see the README), so the memory and CPU figures there would be those of the storm's debris
rather than of 20,000 stations. The worker measures:

- ramp: seconds until every station is connected and until every boot is Accepted, and the
  stations per second that makes (all booted / seconds from the start of the ramp);
- memory: the fleet process's RSS (VmRSS) once all are booted, minus its RSS before the run,
  per station;
- at rest: over a window of one heartbeat interval (so every station heartbeats exactly once
  in it, whatever its phase), the fleet's CPU per station per minute.

Every station holds a socket in the fleet and one in the CSMS. Where the per-process open
files limit (RLIMIT_NOFILE, raised to its hard limit) or the ephemeral ports cannot hold a
level, it runs with as many stations as fit and says so.

Run: ``python -m benchmarks.capacity [--quick] [--out FILE | --update-results]``. Prints a
table; writes capacity.json to a new folder under ~/.cache/ocpp-fleet/benchmarks/, to FILE, or
with --update-results to benchmarks/results/ (the committed figures).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    BenchmarkError,
    Target,
    add_output_arguments,
    csms_command,
    output_path,
    print_table,
    print_targets,
    raise_open_files_limit,
    run_worker,
    server_process,
    station_budget,
    write_result,
)

NAME = "capacity"
RAMP_OFFERED = 1000.0  # stations per second the profile asks for, up to RAMP_LEVEL
SUSTAINABLE = 0.5  # above RAMP_LEVEL: this share of the rate achieved at RAMP_LEVEL
VERSIONS = {"1.6": 0.5, "2.0.1": 0.5}
TARGET_STATIONS = 20_000
TARGET_RSS_KB = 30.0
TARGET_RAMP = 500.0
RAMP_LEVEL = 10_000


def settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {"levels": [1000], "heartbeat_interval": 10, "settle": 1.0}
    return {"levels": [1000, 5000, 10000, 20000], "heartbeat_interval": 20, "settle": 1.0}


def measure_level(level: int, heartbeat: int, settle: float, offered: float) -> dict[str, Any]:
    budget, reason = station_budget()
    stations = min(level, budget)
    figures: dict[str, Any] = {"requested": level, "stations": stations, "ramp_offered": offered}
    if stations < level:
        figures["limited_by"] = reason
    try:
        with server_process(csms_command("--heartbeat-interval", str(heartbeat))) as csms:
            result = run_worker(
                {
                    "kind": "fleet",
                    "url": csms.url,
                    "server_pid": csms.pid,
                    "stations": stations,
                    "versions": VERSIONS,
                    "ramp_rate": offered,
                    "boot_timeout": stations / 100 + 30,
                    "settle": settle,
                    "windows": [{"name": "rest", "seconds": float(heartbeat)}],
                },
                timeout=stations / 100 + 120 + heartbeat,
            )
    except BenchmarkError as exc:
        figures["error"] = str(exc)
        print(f"  {level} stations: {exc}")
        return figures
    booted = result["booted"]
    rest = result["windows"][0]
    all_booted = booted >= stations
    ramp_seconds = result["boot_seconds"] if all_booted else result["ramp_wall_seconds"]
    per_minute = 60.0 / rest["seconds"]
    figures.update(
        connected=result["connected"],
        booted=booted,
        all_booted=all_booted,
        connected_after_rest=rest["connected"],
        connect_seconds=result["connect_seconds"],
        boot_seconds=result["boot_seconds"],
        stations_per_second=round(booted / ramp_seconds, 1) if ramp_seconds else None,
        ramp_cpu_ms_per_station=round(1000 * result["ramp_cpu_seconds"] / max(booted, 1), 3),
        ramp_csms_cpu_ms_per_station=round(
            1000 * result["ramp_server_cpu_seconds"] / max(booted, 1), 3
        ),
        rss_kb_per_station=round(
            (result["rss_booted"] - result["rss_before"]) / max(booted, 1) / 1024, 1
        ),
        rss_kb_per_station_after_rest=round(
            (result["rss_end"] - result["rss_before"]) / max(booted, 1) / 1024, 1
        ),
        rss_mb=round(result["rss_end"] / 2**20, 1),
        csms_rss_kb_per_station=round(result["server_rss_end"] / max(booted, 1) / 1024, 1),
        rest_cpu_ms_per_station_per_minute=round(
            1000 * rest["cpu_seconds"] / max(booted, 1) * per_minute, 4
        ),
        rest_csms_cpu_ms_per_station_per_minute=round(
            1000 * rest["server_cpu_seconds"] / max(booted, 1) * per_minute, 4
        ),
        rest_heartbeats=rest["answered"],
        rest_problems=rest["problems"],
        connect_failures=result["connect_failures"],
        ramp_gc=result["ramp_gc"],
        worker=result,
    )
    return figures


def targets_of(levels: list[dict[str, Any]]) -> list[Target]:
    by_level = {row["requested"]: row for row in levels}
    measured = [row for row in levels if "booted" in row]
    targets = []
    top = by_level.get(TARGET_STATIONS)
    if top is None:
        targets.append(Target(name="stations", target="20,000", measured="not run", passed=None))
    else:
        booted = top.get("booted", 0)
        targets.append(
            Target(
                name="stations connected + booted, one process",
                target=f">= {TARGET_STATIONS:,}",
                measured=f"{booted:,}",
                passed=booted >= TARGET_STATIONS,
                note=top.get("limited_by", top.get("error", "")),
            )
        )
    if measured:
        largest = max(measured, key=lambda row: row["booted"])
        kb = largest["rss_kb_per_station"]
        targets.append(
            Target(
                name="fleet RSS per connected station",
                target=f"<= {TARGET_RSS_KB:g} KB",
                measured=f"{kb} KB at {largest['booted']:,}",
                passed=kb <= TARGET_RSS_KB,
            )
        )
    ramp = by_level.get(RAMP_LEVEL)
    if ramp is None or "booted" not in ramp:
        targets.append(
            Target(name="ramp to 10,000", target=">= 500/s", measured="not run", passed=None)
        )
    else:
        rate = ramp["stations_per_second"] or 0.0
        targets.append(
            Target(
                name="ramp, sustained to 10,000",
                target=f">= {TARGET_RAMP:g} stations/s",
                measured=f"{rate:,.0f}/s",
                passed=rate >= TARGET_RAMP and ramp["all_booted"],
                note=f"fleet CPU {ramp['ramp_cpu_ms_per_station']} ms and CSMS CPU "
                f"{ramp['ramp_csms_cpu_ms_per_station']} ms per station connected + booted",
            )
        )
    return targets


def _ramp_cpu(row: dict[str, Any]) -> str:
    if "ramp_cpu_ms_per_station" not in row:
        return "-"
    return f"{row['ramp_cpu_ms_per_station']:.2f} ms, {row['ramp_csms_cpu_ms_per_station']:.2f} ms"


def run(quick: bool, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    raise_open_files_limit()
    s = settings(quick)
    levels = []
    offered = RAMP_OFFERED
    for level in s["levels"]:
        if level > RAMP_LEVEL and levels and levels[-1].get("stations_per_second"):
            offered = round(min(RAMP_OFFERED, SUSTAINABLE * levels[-1]["stations_per_second"]))
        levels.append(measure_level(level, s["heartbeat_interval"], s["settle"], offered))
    print(
        f"capacity: half 1.6, half 2.0.1, no sessions; at rest they heartbeat every "
        f"{s['heartbeat_interval']} s"
    )
    print_table(
        [
            "stations",
            "booted",
            "offered/s",
            "all booted in",
            "stations/s",
            "connect fails",
            "RSS/station",
            "CPU/station/min",
            "ramp CPU/station (fleet, CSMS)",
        ],
        [
            (
                row["requested"],
                row.get("booted", row.get("error", "-")),
                row["ramp_offered"],
                f"{row['boot_seconds']} s" if row.get("boot_seconds") else "-",
                row.get("stations_per_second"),
                sum(row.get("connect_failures", {}).values()),
                f"{row['rss_kb_per_station']} KB" if "rss_kb_per_station" in row else "-",
                f"{row['rest_cpu_ms_per_station_per_minute']:.2f} ms"
                if "rest_cpu_ms_per_station_per_minute" in row
                else "-",
                _ramp_cpu(row),
            )
            for row in levels
        ],
    )
    for row in levels:
        if row.get("limited_by"):
            print(f"  {row['requested']:,}: ran {row['stations']:,}: {row['limited_by']}")
    targets = targets_of(levels)
    print_targets(targets)
    body = {"settings": s, "levels": levels, "targets": targets}
    write_result(NAME, out, quick, started, body)
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 stations only")
    add_output_arguments(parser, NAME)
    args = parser.parse_args()
    run(args.quick, output_path(parser, args, NAME))


if __name__ == "__main__":
    main()
