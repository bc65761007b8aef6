"""Transport limit: what an OCPP round trip costs our stack with no OCPP logic at all.

N trio-websocket clients (this benchmark's worker process) do OCPP-shaped round trips, a
Heartbeat CALL ``[2,"<id>","Heartbeat",{}]`` encoded with msgspec and its CALLRESULT decoded
with msgspec and its id checked, against a minimal server in another process that answers by
slicing the id out of the frame (``benchmarks/_transport_server.py``). The figure is the
clients' CPU-seconds per round trip (user + system, ``time.process_time``): the floor for the
fleet, which runs on the same trio + trio-websocket + wsproto + msgspec stack.

Measured two ways, because the cost per round trip depends on the rate: a wake-up per message
costs more than a busy loop that finds work waiting.

- paced: every client sends one CALL per second from its connect time, as stations send
  heartbeats: the rate the fleet-cost benchmark compares the fleet with;
- closed loop: every client sends its next CALL as soon as the answer is in: the most round
  trips a second one process gets out of the stack here.

Run: ``python -m benchmarks.transport [--quick] [--out FILE | --update-results]``. Prints a
table; writes transport.json to a new folder under ~/.cache/ocpp-fleet/benchmarks/, to FILE, or
with --update-results to benchmarks/results/ (the committed figures).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    BENCHMARKS,
    PYTHON,
    add_output_arguments,
    output_path,
    print_table,
    raise_open_files_limit,
    run_worker,
    server_process,
    write_result,
)

NAME = "transport"
RAMP_RATE = 1000.0  # clients connecting per second, unless told otherwise


def transport_run(
    clients: int,
    interval: float,
    *,
    settle: float,
    window: float,
    delay: float = 0.0,
    lag_probe: bool = False,
    ramp_rate: float = RAMP_RATE,
) -> dict[str, Any]:
    """One measurement: a fresh minimal server and a fresh client process; the worker's
    figures (ramp, then one window named "steady")."""
    server = [PYTHON, str(BENCHMARKS / "_transport_server.py"), "--delay", str(delay)]
    with server_process(server) as process:
        return run_worker(
            {
                "kind": "transport",
                "url": process.url,
                "server_pid": process.pid,
                "clients": clients,
                "interval": interval,
                "ramp_rate": ramp_rate,
                "boot_timeout": clients / min(ramp_rate, 100) + 30,
                "settle": settle,
                "lag_probe": lag_probe,
                "windows": [{"name": "steady", "seconds": window}],
            },
            timeout=clients / min(ramp_rate, 100) + 60 + settle + window,
        )


def row(mode: str, clients: int, result: dict[str, Any]) -> dict[str, Any]:
    """The figures of one run that the table and the JSON show."""
    window = result["windows"][0]
    latency = window["latency"]
    return {
        "mode": mode,
        "clients": clients,
        "connected": result["connected"],
        "rate": window["rate"],
        "client_cpu_share": window["cpu_share"],
        "cpu_us_per_round_trip": window["cpu_us_per_answer"],
        "server_cpu_share": window["server_cpu_share"],
        "p50_ms": latency.get("p50_ms"),
        "p99_ms": latency.get("p99_ms"),
        "problems": window["problems"],
        "gc": window["gc"],
    }


def print_rows(rows: list[dict[str, Any]]) -> None:
    print_table(
        [
            "mode",
            "clients",
            "round trips/s",
            "client CPU",
            "CPU/round trip",
            "server CPU",
            "p50",
            "p99",
        ],
        [
            (
                r["mode"],
                r["clients"],
                r["rate"],
                f"{100 * r['client_cpu_share']:.0f} %",
                f"{r['cpu_us_per_round_trip']} us",
                f"{100 * r['server_cpu_share']:.0f} %",
                f"{r['p50_ms']} ms",
                f"{r['p99_ms']} ms",
            )
            for r in rows
        ],
    )


def settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {"paced_clients": 300, "closed_clients": 50, "settle": 2.0, "window": 3.0}
    return {"paced_clients": 1000, "closed_clients": 100, "settle": 3.0, "window": 15.0}


def run(quick: bool, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    raise_open_files_limit()
    s = settings(quick)
    paced = transport_run(s["paced_clients"], 1.0, settle=s["settle"], window=s["window"])
    closed = transport_run(s["closed_clients"], 0.0, settle=s["settle"], window=s["window"])
    rows = [
        row("paced, 1 CALL/s per client", s["paced_clients"], paced),
        row("closed loop", s["closed_clients"], closed),
    ]
    print("transport limit: trio-websocket + msgspec clients against a minimal server process")
    print_rows(rows)
    print("CPU/round trip: the clients' process (user + system); latency from intended send")
    body = {
        "settings": s,
        "rows": rows,
        "paced": paced,
        "closed_loop": closed,
        "targets": [],  # the floor itself has none: fleet_cost compares the fleet with it
    }
    write_result(NAME, out, quick, started, body)
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds, rougher figures")
    add_output_arguments(parser, NAME)
    args = parser.parse_args()
    run(args.quick, output_path(parser, args, NAME))


if __name__ == "__main__":
    main()
