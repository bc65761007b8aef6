"""The embedded CSMS as its own process, with a stall on demand (the accuracy benchmark).

``fleet csms`` runs the same `EmbeddedCsms`; this adds what a benchmark needs to line a fault
up with its measurement window: SIGUSR1 makes the CSMS stall (answer nothing) for
``--stall`` seconds from that moment, through `EmbeddedCsms.stall`.

Run: ``python benchmarks/_csms_process.py [--heartbeat-interval S] [--delay S] [--stall S]``;
it prints its URL once it listens on 127.0.0.1 (a free port), and a line per stall.
"""

from __future__ import annotations

import argparse
import signal

import trio

from fleet.csms import open_csms


async def serve(heartbeat_interval: int, delay: float, stall: float) -> None:
    with trio.open_signal_receiver(signal.SIGUSR1) as signals:
        async with open_csms(
            port=0, heartbeat_interval=heartbeat_interval, response_delay=delay
        ) as csms:
            print(f"embedded CSMS listening on {csms.url}", flush=True)
            async for _ in signals:
                csms.stall(stall)
                print(f"stalled for {stall:g} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heartbeat-interval", type=int, default=300, help="s, given at boot")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--stall", type=float, default=1.0, help="seconds a SIGUSR1 stalls")
    args = parser.parse_args()
    trio.run(serve, args.heartbeat_interval, args.delay, args.stall)


if __name__ == "__main__":
    main()
