"""Fleet cost: the fleet's CPU per OCPP round trip, as a ratio to the transport limit's.

The fleet (`FleetRun`, a worker process) runs M stations, half OCPP 1.6 and half 2.0.1, with
no charging sessions against the embedded CSMS in its own process (``fleet csms
--heartbeat-interval 1``): once booted, every station sends one Heartbeat a second, a fixed
message rate of M per second (they connect at 250/s, a pace the fleet keeps up with, so the
heartbeats are spread over the second). Over a steady window the fleet's CPU-seconds (user +
system) divided by the round trips it completed is its cost per message: station state
machine, OCPP framing and schema validation of every answer, latency recording, and the
transport.

The transport limit (see ``transport.py``) is measured in the same run at the same rate:
M raw clients, one CALL a second each. The rounds alternate (transport, fleet, transport,
fleet, ...); each round's ratio compares the fleet with the transport measured just before
it, so that a neighbour's load on this shared machine weighs on both alike, and the figure is
the median ratio. The closed-loop transport figure is shown too, for reference.

Run: ``python -m benchmarks.fleet_cost [--quick] [--out FILE | --update-results]``. Prints a
table; writes fleet_cost.json to a new folder under ~/.cache/ocpp-fleet/benchmarks/, to FILE, or
with --update-results to benchmarks/results/ (the committed figures).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    Target,
    add_output_arguments,
    csms_command,
    output_path,
    print_table,
    print_targets,
    raise_open_files_limit,
    run_worker,
    server_process,
    write_result,
)
from benchmarks.transport import transport_run

NAME = "fleet_cost"
TARGET_RATIO = 1.3
# Stations connecting per second: a pace the fleet keeps up with. A ramp that falls behind
# starts its overdue stations together; their heartbeats then go out in bursts, in phase, for
# the rest of the run, which is a different load (see the README), not the steady one here.
RAMP_RATE = 250.0
VERSIONS = {"1.6": 0.5, "2.0.1": 0.5}


def fleet_run(
    stations: int,
    *,
    settle: float,
    windows: list[dict[str, Any]],
    csms: list[str] | None = None,
    lag_probe: bool = False,
    ramp_rate: float = RAMP_RATE,
) -> dict[str, Any]:
    """One fleet measurement: a fresh CSMS process (heartbeats every second unless `csms`
    says otherwise) and a fresh fleet worker; the worker's figures."""
    command = csms or csms_command("--heartbeat-interval", "1")
    with server_process(command) as process:
        return run_worker(
            {
                "kind": "fleet",
                "url": process.url,
                "server_pid": process.pid,
                "stations": stations,
                "versions": VERSIONS,
                "ramp_rate": ramp_rate,
                "boot_timeout": stations / min(ramp_rate, 100) + 30,
                "settle": settle,
                "lag_probe": lag_probe,
                "windows": windows,
            },
            timeout=stations / min(ramp_rate, 100)
            + 90
            + settle
            + sum(w["seconds"] for w in windows),
        )


def settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {"stations": 400, "settle": 2.0, "window": 4.0, "rounds": 1, "closed_clients": 50}
    return {"stations": 1000, "settle": 3.0, "window": 10.0, "rounds": 3, "closed_clients": 100}


def run(quick: bool, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    raise_open_files_limit()
    s = settings(quick)
    m = s["stations"]
    rounds = []
    for _ in range(s["rounds"]):
        transport = transport_run(
            m, 1.0, settle=s["settle"], window=s["window"], ramp_rate=RAMP_RATE
        )
        fleet = fleet_run(
            m, settle=s["settle"], windows=[{"name": "steady", "seconds": s["window"]}]
        )
        rounds.append({"transport": transport, "fleet": fleet})
    closed = transport_run(s["closed_clients"], 0.0, settle=1.0, window=min(s["window"], 10.0))

    def cost(r: dict[str, Any], side: str) -> float:
        return r[side]["windows"][0]["cpu_us_per_answer"]

    # Each round's fleet against the transport measured just before it, on the same machine
    # state; the median of those ratios is the figure (medians of each side shown too).
    ratios = [cost(r, "fleet") / cost(r, "transport") for r in rounds]
    ratio = statistics.median(ratios)
    fleet_us = round(statistics.median(cost(r, "fleet") for r in rounds), 1)
    transport_us = round(statistics.median(cost(r, "transport") for r in rounds), 1)
    closed_us = closed["windows"][0]["cpu_us_per_answer"]
    rows = []
    for number, r in enumerate(rounds, 1):
        for side, label in (("transport", "transport, paced"), ("fleet", "fleet")):
            w = r[side]["windows"][0]
            rows.append(
                {
                    "round": number,
                    "side": label,
                    "stations": r[side]["connected"],
                    "rate": w["rate"],
                    "cpu_share": w["cpu_share"],
                    "cpu_us_per_message": w["cpu_us_per_answer"],
                    "server_cpu_us_per_message": w["server_cpu_us_per_answer"],
                    "ratio": round(ratios[number - 1], 3) if side == "fleet" else None,
                    "problems": w["problems"],
                }
            )
    print(f"fleet cost: {m} stations, one Heartbeat a second each, against a server process")
    print_table(
        [
            "round",
            "side",
            "stations",
            "messages/s",
            "CPU",
            "CPU/message",
            "server CPU/msg",
            "ratio",
        ],
        [
            (
                r["round"],
                r["side"],
                r["stations"],
                r["rate"],
                f"{100 * r['cpu_share']:.0f} %",
                f"{r['cpu_us_per_message']} us",
                f"{r['server_cpu_us_per_message']} us",
                f"{r['ratio']:.2f}x" if r["ratio"] is not None else "",
            )
            for r in rows
        ],
        left=2,
    )
    print(
        f"median ratio fleet / transport: {ratio:.2f}x (medians: fleet {fleet_us} us, "
        f"transport paced {transport_us} us, transport closed loop {closed_us} us)"
    )
    targets = [
        Target(
            name="fleet CPU per round trip",
            target=f"<= {TARGET_RATIO}x transport",
            measured=f"{ratio:.2f}x (median of {len(ratios)} rounds)",
            passed=ratio <= TARGET_RATIO,
            note=f"against the closed-loop floor ({closed_us:.0f} us): {fleet_us / closed_us:.2f}x",
        )
    ]
    print_targets(targets)
    body = {
        "settings": s,
        "fleet_cpu_us_per_message": fleet_us,
        "transport_cpu_us_per_round_trip": transport_us,
        "transport_closed_loop_cpu_us_per_round_trip": closed_us,
        "ratio": round(ratio, 3),
        "ratios": [round(r, 3) for r in ratios],
        "ratio_to_closed_loop": round(fleet_us / closed_us, 3),
        "rows": rows,
        "rounds": rounds,
        "closed_loop": closed,
        "targets": targets,
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
