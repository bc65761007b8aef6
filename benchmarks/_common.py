"""What the benchmarks share: the processes they start, what they read from /proc, the machine
description and the results files (`run_dir`: where a run writes them).

Every benchmark measures in fresh processes (a server, and a worker for the measured side) so
that one measurement's heap, garbage and open sockets never weigh on the next; the parent only
starts, waits and kills. Everything listens and connects on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
# The committed figures that benchmarks/README.md quotes: written only with --update-results,
# so that a run of one's own never dirties the checkout.
RESULTS = BENCHMARKS / "results"
PYTHON = sys.executable

# Open files each process keeps besides its sockets (stdio, epoll, trio's wakeup pair, pipes),
# with room to spare: what is left of the per-process limit is the station budget.
FD_RESERVE = 32
_URL = re.compile(r"(ws://127\.0\.0\.1:\d+/\S*)")


class BenchmarkError(RuntimeError):
    """A benchmark could not measure (a process died, a server never listened)."""


# -- this process ------------------------------------------------------------------------------


def raise_open_files_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard one (children inherit it); (soft, hard).

    Each station holds one socket in the fleet and one in the CSMS, so the limit is the
    station ceiling of both processes. The hard limit itself needs CAP_SYS_RESOURCE to raise.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def station_budget() -> tuple[int, str]:
    """How many connections one process may hold here, and what bounds it."""
    _, hard = raise_open_files_limit()
    low, high = _port_range()
    ports = high - low + 1
    fds = hard - FD_RESERVE if hard != resource.RLIM_INFINITY else 1 << 30
    if fds <= ports:
        return fds, (
            f"RLIMIT_NOFILE hard limit {hard} per process (fleet and CSMS each hold one socket "
            f"per station; {FD_RESERVE} kept for the process itself)"
        )
    return ports, f"ephemeral ports {low}-{high} towards one CSMS address"


def _port_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size now (VmRSS), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def runqueue_wait_seconds(pid: int | str = "self") -> float:
    """Seconds process `pid` (its main thread) was runnable but waiting for a CPU
    (/proc/PID/schedstat): what a neighbour's load on a shared machine took from it."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def machine() -> dict[str, Any]:
    """The machine and software the figures come from."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("trio", "trio-websocket", "wsproto", "msgspec", "hdrhistogram", "ocpp-fleet"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "open_files_limit": [soft, hard],
        "ephemeral_ports": list(_port_range()),
        "versions": versions,
    }


# -- processes -----------------------------------------------------------------------------------


class Server:
    """A server process we started, once it listens: `url`, `pid`; its last output lines."""

    def __init__(self, process: subprocess.Popen[str], url: str, lines: collections.deque[str]):
        self.process = process
        self.url = url
        self.pid = process.pid
        self.lines = lines

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def alive(self) -> bool:
        return self.process.poll() is None


@contextlib.contextmanager
def server_process(args: Sequence[str], *, ready_timeout: float = 30.0) -> Iterator[Server]:
    """Start a server that prints its ``ws://127.0.0.1:PORT/...`` URL once it listens (the
    embedded CSMS does; so do our own servers), yield it, and kill it on the way out.

    Its output is drained by a thread so that a chatty server never blocks on a full pipe.
    """
    process = subprocess.Popen(
        [str(a) for a in args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=_child_env(),
    )
    try:
        lines: collections.deque[str] = collections.deque(maxlen=40)
        found: list[str] = []
        listening = threading.Event()

        def drain() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line.rstrip())
                if not found and (match := _URL.search(line)):
                    found.append(match.group(1))
                    listening.set()
            listening.set()  # the process ended

        threading.Thread(target=drain, daemon=True).start()
        if not listening.wait(ready_timeout) or not found:
            raise BenchmarkError(
                f"{' '.join(map(str, args))} did not start listening: " + " | ".join(lines)
            )
        yield Server(process, found[0], lines)
    finally:
        kill(process)


def kill(process: subprocess.Popen[Any]) -> None:
    """Kill a process we started (by its pid) and reap it; a no-op once it has exited."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)


def run_worker(params: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """Run ``python -m benchmarks._worker PARAMS`` and return the JSON object it prints.

    The worker exits as soon as it has printed (it does not wind its connections down); if it
    outlives `timeout` it is killed and this raises.
    """
    process = subprocess.Popen(
        [PYTHON, "-m", "benchmarks._worker", msgspec.json.encode(params).decode()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=_child_env(),
    )
    try:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchmarkError(f"worker {params.get('kind')} took over {timeout:g} s") from None
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if process.returncode != 0 or not lines:
            tail = "\n".join(err.strip().splitlines()[-15:])
            raise BenchmarkError(
                f"worker {params.get('kind')} failed (exit {process.returncode}):\n{tail}"
            )
        return msgspec.json.decode(lines[-1])
    finally:
        kill(process)


def csms_command(*options: str) -> list[str]:
    """The embedded CSMS as its own process: ``python -m fleet csms --port 0 ...``."""
    return [PYTHON, "-m", "fleet", "csms", "--port", "0", *options]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    return env


# -- results -------------------------------------------------------------------------------------


class Target(msgspec.Struct, kw_only=True):
    """One target of the issue, what was measured, and whether it was met."""

    name: str
    target: str
    measured: str
    passed: bool | None  # None: not measured in this run (quick mode)
    note: str = ""


def write_result(name: str, out: Path, quick: bool, started: float, body: dict[str, Any]) -> None:
    """Write the benchmark's JSON (msgspec, indented) with the run's context around `body`."""
    document = {
        "benchmark": name,
        "quick": quick,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "commit": commit(),
        "machine": machine(),
        **body,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n")
    print(f"wrote {out}")


def commit() -> str | None:
    """The checked-out commit of the code measured; when fleet/ has uncommitted changes,
    "+changes-" and a short hash of their diff, so that two runs can tell whether they
    measured the same code."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", "fleet"], capture_output=True, cwd=ROOT
        ).stdout
    except OSError:
        return None
    if not head:
        return None
    return f"{head}+changes-{hashlib.sha1(diff).hexdigest()[:8]}" if diff else head


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, left: int = 1) -> None:
    """A plain fixed-width table: the first `left` columns left-aligned, the others right."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def print_targets(targets: Sequence[Target]) -> None:
    verdict = {True: "pass", False: "MISS", None: "-"}
    print_table(
        ["target", "wanted", "measured", "verdict"],
        [(t.name, t.target, t.measured, verdict[t.passed]) for t in targets],
        left=4,
    )
    for t in targets:
        if t.note:
            print(f"  {t.name}: {t.note}")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def run_dir() -> Path:
    """A new folder for one run's JSON, outside the checkout: the user's cache,
    ``${XDG_CACHE_HOME:-~/.cache}/ocpp-fleet/benchmarks/<UTC time>/``."""
    cache = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(cache) if os.path.isabs(cache) else Path.home() / ".cache"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return base / "ocpp-fleet" / "benchmarks" / stamp


def out_path(out_dir: Path | None, name: str) -> Path:
    """`name`'s JSON file in `out_dir`, or in a new `run_dir()`."""
    return (out_dir or run_dir()) / f"{name}.json"


def add_output_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """One benchmark's --out FILE and --update-results (read back with `output_path`)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help=f"the JSON file (default: {name}.json in a new folder under "
        "~/.cache/ocpp-fleet/benchmarks/)",
    )
    where.add_argument(
        "--update-results",
        action="store_true",
        help=f"write benchmarks/results/{name}.json, the committed figures that "
        "benchmarks/README.md quotes (full runs only)",
    )


def output_path(parser: argparse.ArgumentParser, args: argparse.Namespace, name: str) -> Path:
    """Where the benchmark `name` writes, from `add_output_arguments`' flags and --quick."""
    if args.update_results:
        if args.quick:
            parser.error("--update-results takes full figures, not --quick")
        return RESULTS / f"{name}.json"
    return args.out or out_path(None, name)
