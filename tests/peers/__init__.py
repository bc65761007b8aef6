"""Independent peers for the tests (scripts run as subprocesses), and how to run them.

`library_csms(*flags)` runs ocpp_lib_csms.py (a CSMS on the PyPI `ocpp` library) with its
field-behaviour flags (see that file's docstring) for the length of an ``async with`` block,
reading its output all along so that a long, busy run never fills the pipe and stalls it.
"""

from __future__ import annotations

import collections
import contextlib
import json
import math
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import trio

PEERS = Path(__file__).resolve().parent


class LibraryCsms:
    """The `ocpp`-library CSMS subprocess, its port and the JSON lines it printed (the
    CALLs it received, its answers' outcomes, its field behaviours, what it refused)."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.port: int | None = None
        self.lines: list[dict] = []
        self._buffer = b""
        self._draining = False
        self.url = ""

    async def read_until(self, predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
        """Read the peer's lines until `predicate()` holds (or its output ends); while
        `drain()` reads them, just wait for the predicate."""
        if self._draining:
            await wait_for(predicate, timeout)
            return
        await self._read(predicate, timeout)

    async def drain(self) -> None:
        """Read every line the peer prints, until cancelled or its output ends."""
        self._draining = True
        try:
            await self._read(lambda: False, math.inf)
        finally:
            self._draining = False

    async def _read(self, predicate, timeout: float) -> None:  # type: ignore[no-untyped-def]
        assert self.process.stdout is not None
        with trio.fail_after(timeout):
            while not predicate():
                chunk = await self.process.stdout.receive_some()
                if not chunk:
                    return
                self._buffer += chunk
                *complete, self._buffer = self._buffer.split(b"\n")
                for line in filter(bytes.strip, complete):
                    if line.startswith(b"PORT "):
                        self.port = int(line.split()[1])
                    else:
                        self.lines.append(json.loads(line))

    def received(self, station: str) -> collections.Counter[str]:
        return collections.Counter(
            line["action"]
            for line in self.lines
            if line.get("station") == station and line.get("direction") == "received"
        )

    def statuses(self, station: str) -> list[str]:
        """The statuses of the station's StatusNotifications, in order (1.6 status, 2.0.1
        connectorStatus)."""
        return [
            line["status"]
            for line in self.lines
            if line.get("station") == station
            and line.get("action") == "StatusNotification"
            and line.get("direction") == "received"
        ]

    def errors(self) -> list[dict]:
        return [line for line in self.lines if "error" in line]


@contextlib.asynccontextmanager
async def library_csms(*flags: str) -> AsyncIterator[LibraryCsms]:
    """The ocpp-library CSMS with `flags`, listening; terminated (killed if need be) on exit."""
    process = await trio.lowlevel.open_process(
        [sys.executable, str(PEERS / "ocpp_lib_csms.py"), *flags], stdout=subprocess.PIPE
    )
    csms = LibraryCsms(process)
    try:
        await csms.read_until(lambda: csms.port is not None, timeout=15)
        assert csms.port is not None, "the ocpp-library CSMS ended before it listened"
        csms.url = f"ws://127.0.0.1:{csms.port}/ocpp"
        async with trio.open_nursery() as nursery:
            nursery.start_soon(csms.drain)
            try:
                yield csms
            finally:
                nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            process.terminate()
            with trio.move_on_after(5):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()


async def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait until `condition()` holds, polling; trio.TooSlowError after `timeout` seconds."""
    with trio.fail_after(timeout):
        while not condition():
            await trio.sleep(0.01)


def field_events(csms: LibraryCsms, kind: str) -> list[str]:
    """The stations the library CSMS printed a field behaviour `kind` for ("reset",
    "closed 1011", "close ignored", ...), in order."""
    return [line["station"] for line in csms.lines if line.get("field") == kind]
