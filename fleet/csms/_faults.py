"""Faults on a schedule: restarts, dropped connections, stalls, closes with a chosen code and TCP
resets of the embedded CSMS at given times, once or repeatedly, for profiles
(``[[embedded.faults]]``) and ``fleet csms --fault``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import trio

from fleet.csms._server import EmbeddedCsms

__all__ = ["DEFAULT_CLOSE_CODE", "ScheduledFault", "close_code", "heard_kind", "run_fault_schedule"]


class ScheduledFault(Protocol):
    """One fault of a schedule (a profile's `FaultSection` is one)."""

    @property
    def at(self) -> float: ...  # seconds after the schedule's start
    @property
    def every(self) -> float | None: ...  # then again every so often; None: once
    @property
    def jitter(self) -> float: ...  # each time up to this much later, at random
    @property
    def kind(self) -> str: ...  # "restart", "drop", "stall", "close" or "reset"
    @property
    def amount(self) -> float: ...  # seconds down or stalled, or the share dropped/closed/reset

    # A "close" fault's close code is its `code` attribute, when it has one (else 1001).


# A scheduled close's code when the fault gives none: 1001 "going away".
DEFAULT_CLOSE_CODE = 1001


def close_code(fault: ScheduledFault) -> int:
    """The close code of a "close" fault: its `code`, else `DEFAULT_CLOSE_CODE`."""
    code = getattr(fault, "code", None)
    return DEFAULT_CLOSE_CODE if code is None else int(code)


def heard_kind(fault: ScheduledFault) -> str:
    """The kind `on_fault` hears: the fault's, with the code for a close ("close 1011"), so
    the report and the log say which close it was."""
    return f"close {close_code(fault)}" if fault.kind == "close" else fault.kind


async def run_fault_schedule(
    csms: EmbeddedCsms,
    faults: Sequence[ScheduledFault],
    *,
    start: float | None = None,
    on_fault: Callable[[str, float, float], None] | None = None,
    before_fault: Callable[[str, float], Awaitable[None]] | None = None,
) -> None:
    """Inject `faults` into `csms`, timed from `start` (trio clock; default now), until
    cancelled or every fault is done. `on_fault(kind, amount, now)` hears of each one as it
    starts (the run's metrics, or a log line); a close's kind carries its code, as
    "close 1011" (see `heard_kind`). `before_fault(kind, amount)` is awaited first (e.g. to
    tell other processes, which must know before the connections go).

    Cancellation: safe at any point; a restart in progress is then cut short, like the CSMS.
    """
    if start is None:
        start = trio.current_time()
    async with trio.open_nursery() as nursery:
        for fault in faults:
            nursery.start_soon(_repeat, csms, fault, start, on_fault, before_fault)


async def _repeat(
    csms: EmbeddedCsms,
    fault: ScheduledFault,
    start: float,
    on_fault: Callable[[str, float, float], None] | None,
    before_fault: Callable[[str, float], Awaitable[None]] | None = None,
) -> None:
    due = start + fault.at
    while True:
        await trio.sleep_until(due + (csms.rng.uniform(0, fault.jitter) if fault.jitter else 0))
        if before_fault is not None:
            await before_fault(heard_kind(fault), fault.amount)
        if on_fault is not None:
            on_fault(heard_kind(fault), fault.amount, trio.current_time())
        if fault.kind == "restart":
            await csms.restart(fault.amount)
        elif fault.kind == "drop":
            csms.drop_connections(fault.amount)
        elif fault.kind == "stall":
            csms.stall(fault.amount)
        elif fault.kind == "close":
            csms.close_connections(fault.amount, close_code(fault))
        elif fault.kind == "reset":
            csms.reset_connections(fault.amount)
        else:
            raise ValueError(f"unknown fault {fault.kind!r}")
        if fault.every is None:
            return
        due += fault.every
