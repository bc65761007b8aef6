"""Independent peers for the tests (scripts run as subprocesses), and how to run them.

`library_csms(*flags)` runs ocpp_lib_csms.py (a CSMS on the PyPI `ocpp` library) with its
field-behaviour flags (see that file's docstring) for the length of an ``async with`` block,
reading its output all along so that a long, busy run never fills the pipe and stalls it.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import trio

from tests.test_interop import LibraryCsms

PEERS = Path(__file__).resolve().parent


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
            nursery.start_soon(csms.read_until, lambda: False, math.inf)  # drain its output
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
