"""Workers: what `fleet run --workers 2` gives over `--workers 1`, the CSMS in its own process.

Both runs hold the same stations (half OCPP 1.6, half 2.0.1, no sessions) against a fresh
``fleet csms --heartbeat-interval 1`` process: once booted, every station sends a Heartbeat a
second, so the offered load is one message per station per second. The station count is
chosen above what one fleet process keeps up with, so the figure is the fleet's throughput:
answered messages per second over the run's steady part (from the report's timeline, after
the ramp), and the most stations held connected at once. The figure of merit is the ratio
``--workers 2`` / ``--workers 1``.

On a machine with two cores the CSMS process needs one of them: two workers then share the
other with it, and the ratio shows that ceiling rather than the fleet's; on more cores it
shows the fleet's own scaling. The machine's core count is in the JSON.

Run: ``python -m benchmarks.workers [--quick] [--out FILE | --update-results]``. Prints a
table; writes workers.json to a new folder under ~/.cache/ocpp-fleet/benchmarks/, to FILE, or
with --update-results to benchmarks/results/ (the committed figures).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    PYTHON,
    ROOT,
    Target,
    _child_env,
    add_output_arguments,
    csms_command,
    output_path,
    print_table,
    print_targets,
    raise_open_files_limit,
    server_process,
    write_result,
)
from fleet.metrics import read_report

NAME = "workers"
PROFILE = """\
name = "workers-benchmark"
description = "heartbeats only: one message per station per second"
csms = "embedded"
duration = "{duration}s"
[stations]
count = {stations}
versions = {{ "1.6" = 0.5, "2.0.1" = 0.5 }}
connectors = 1
[ramp]
rate = {rate}
[session]
first_start = {{ distribution = "uniform", min = "1h", max = "2h" }}
[timeouts]
drain = "5s"
"""


def measure(workers: int, stations: int, duration: float, rate: float) -> dict[str, Any]:
    """One `fleet run --workers N` against a fresh CSMS process; its figures."""
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as folder:
        profile = Path(folder) / "profile.toml"
        profile.write_text(PROFILE.format(stations=stations, duration=duration, rate=rate))
        report_path = Path(folder) / "report.json"
        with server_process(csms_command("--heartbeat-interval", "1")) as csms:
            started = time.perf_counter()
            result = subprocess.run(
                [PYTHON, "-m", "fleet", "run", str(profile), "--csms", csms.url,
                 "--workers", str(workers), "--quiet", "--out", str(report_path)],
                capture_output=True, text=True, cwd=ROOT, env=_child_env(),
                timeout=duration + 120,
            )  # fmt: skip
            wall = time.perf_counter() - started
            csms_cpu = csms.cpu_seconds()
        if result.returncode != 0:
            raise RuntimeError(f"--workers {workers} failed: {result.stderr.strip()[-500:]}")
        report = read_report(report_path)
    ramp_end = stations / rate + 3.0  # booted and settled by then
    steady = [i for i in report.timeline if ramp_end <= i.t <= duration]
    rates = [i.rate for i in steady]
    return {
        "workers": workers,
        "stations": stations,
        # most connected at once (shards start a little apart: the ends do not line up)
        "connected_at_end": max((i.connected for i in steady), default=0),
        "answers_per_s": round(statistics.mean(rates), 1) if rates else 0.0,
        "answers_per_s_p10": round(sorted(rates)[len(rates) // 10], 1) if rates else 0.0,
        "offered_per_s": stations,
        "p50_ms": round(statistics.median(i.p50_ms for i in steady), 1) if steady else None,
        "connect_failures": sum(report.counters.connect_failures.values()),
        "fleet_cpu_percent": report.environment.cpu_percent,
        "csms_cpu_seconds": round(csms_cpu, 1),
        "wall_seconds": round(wall, 1),
        "steady_seconds": len(steady),
    }


def run(quick: bool, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    raise_open_files_limit()
    stations, duration, rate = (2000, 10.0, 500.0) if quick else (4000, 40.0, 500.0)
    rows = [measure(workers, stations, duration, rate) for workers in (1, 2)]
    one, two = rows
    ratio = two["answers_per_s"] / one["answers_per_s"] if one["answers_per_s"] else 0.0
    held = two["connected_at_end"] / one["connected_at_end"] if one["connected_at_end"] else 0.0
    print_table(
        ["workers", "stations", "answers/s", "offered/s", "p50 ms", "held", "fleet CPU %"],
        [
            [r["workers"], r["stations"], r["answers_per_s"], r["offered_per_s"], r["p50_ms"],
             r["connected_at_end"], r["fleet_cpu_percent"]]
            for r in rows
        ],
    )  # fmt: skip
    targets = [
        Target(
            name="messages/s, --workers 2 over --workers 1",
            target="a ratio (no target set)",
            measured=f"{ratio:.2f}x",
            passed=None,
            note=f"stations held: {held:.2f}x; the CSMS process shares the machine's cores",
        )
    ]
    print_targets(targets)
    body = {
        "settings": {"stations": stations, "duration": duration, "ramp_rate": rate},
        "rows": rows,
        "ratio": round(ratio, 3),
        "held_ratio": round(held, 3),
        "targets": targets,
    }
    write_result(NAME, out, quick, started, body)
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller and shorter")
    add_output_arguments(parser, NAME)
    args = parser.parse_args()
    run(args.quick, output_path(parser, args, NAME))


if __name__ == "__main__":
    main()
