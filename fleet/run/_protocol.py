"""What a `--workers` parent and its worker processes say to each other, one JSON line each.

A worker writes its per-second `Interval`s (and `FaultsHeard`) on its stdout; the parent,
which runs the embedded CSMS and its fault schedule, writes a `FaultNotice` on each worker's
stdin before it injects a fault, and waits for the `FaultsHeard` answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import trio

__all__ = ["FaultNotice", "FaultsHeard", "line_batches"]


class FaultNotice(msgspec.Struct, frozen=True):
    """A fault the parent is about to inject (`FleetRun.hear_faults` records it)."""

    fault: str
    amount: float


class FaultsHeard(msgspec.Struct, frozen=True):
    """A worker's answer to `FaultNotice`: how many faults it has heard of."""

    heard_faults: int


async def line_batches(stream: trio.abc.ReceiveStream) -> AsyncIterator[list[bytes]]:
    """The complete lines of each chunk `stream` delivers (a partial line waits for the rest),
    until the stream ends."""
    buffer = b""
    async for chunk in stream:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        yield lines
