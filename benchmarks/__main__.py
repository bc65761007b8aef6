"""Run the benchmark suite: ``python -m benchmarks [--quick] [--only NAME ...] [--out-dir DIR |
--update-results]``.

Runs, in order: codec, transport, fleet_cost, capacity, accuracy, workers, csms_ops. Each
prints its table and writes DIR/<name>.json: by default DIR is a new folder under the user's cache
(``~/.cache/ocpp-fleet/benchmarks/<UTC time>/``), never the checkout; ``--update-results``
writes benchmarks/results/, the committed figures that benchmarks/README.md quotes (full
runs only). The last line says where the results went. A benchmark that fails is
reported and the others still run; the exit code is 1 if any failed. ``--quick`` finishes in
about three minutes on two cores (rougher figures; capacity at 1,000 stations only); the full
suite takes about sixteen.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import accuracy, capacity, csms_ops, fleet_cost, transport, workers
from benchmarks._common import (
    BENCHMARKS,
    PYTHON,
    RESULTS,
    ROOT,
    raise_open_files_limit,
    run_dir,
)


def run_codec(quick: bool, out: Path) -> None:
    """codec.py stays a plain script (as before the suite): run as one."""
    command = [PYTHON, str(BENCHMARKS / "codec.py"), "--out", str(out)]
    subprocess.run([*command, "--quick"] if quick else command, check=True, cwd=ROOT)


BENCHMARKS_IN_ORDER: dict[str, Callable[[bool, Path], Any]] = {
    "codec": run_codec,
    "transport": transport.run,
    "fleet_cost": fleet_cost.run,
    "capacity": capacity.run,
    "accuracy": accuracy.run,
    "workers": workers.run,
    "csms_ops": csms_ops.run,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the benchmark suite; each benchmark writes DIR/<name>.json.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="the whole suite in about 3 minutes, rougher"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHMARKS_IN_ORDER),
        metavar="NAME",
        help=f"run only this one (repeat): {', '.join(BENCHMARKS_IN_ORDER)}",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--out-dir",
        type=Path,
        help="where the JSON files go (default: a new folder under ~/.cache/ocpp-fleet/"
        "benchmarks/, or $XDG_CACHE_HOME/ocpp-fleet/benchmarks/)",
    )
    where.add_argument(
        "--update-results",
        action="store_true",
        help=f"write to {RESULTS.relative_to(ROOT)}/, the committed figures that "
        "benchmarks/README.md quotes: for a change that updates them on purpose (full runs only)",
    )
    args = parser.parse_args()
    if args.update_results and args.quick:
        parser.error("--update-results takes full figures, not --quick")
    out_dir = RESULTS if args.update_results else args.out_dir or run_dir()
    print(f"results go to {out_dir}", flush=True)
    raise_open_files_limit()
    chosen = [name for name in BENCHMARKS_IN_ORDER if not args.only or name in args.only]
    failed = []
    suite_started = time.perf_counter()
    for name in chosen:
        print(f"\n== {name}{' (quick)' if args.quick else ''}", flush=True)
        started = time.perf_counter()
        try:
            BENCHMARKS_IN_ORDER[name](args.quick, out_dir / f"{name}.json")
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    elapsed = time.perf_counter() - suite_started
    print(f"\nsuite: {len(chosen) - len(failed)}/{len(chosen)} ran in {elapsed:.0f} s", flush=True)
    print(f"results: {out_dir}", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
