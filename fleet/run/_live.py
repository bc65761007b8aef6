"""The live view of a run: one status line a second on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from fleet.metrics import Interval

if TYPE_CHECKING:
    from fleet.run._orchestrator import FleetRun

__all__ = ["LiveView"]


class LiveView:
    """Shows each interval: connected / target, answers per second, p50 and p99, errors.

    On a terminal the line is redrawn in place every second; when the output is a file or a
    pipe, a plain line is printed every `plain_every` seconds instead (CI logs stay short).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        interactive: bool | None = None,
        plain_every: float = 5.0,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.plain_every = plain_every
        self._last_plain = 0.0
        self._drawn = False

    def __call__(self, interval: Interval, run: FleetRun) -> None:
        line = (
            f"[{interval.t:6.0f}s] connected {interval.connected:,}/{run.target:,}"
            f"  {interval.rate:8,.0f} answers/s"
            f"  p50 {interval.p50_ms:8.1f} ms  p99 {interval.p99_ms:8.1f} ms"
            f"  errors {interval.errors:,}  timeouts {interval.timeouts:,}"
        )
        if self.interactive:
            self.stream.write("\r\x1b[2K" + line)
            self.stream.flush()
            self._drawn = True
        elif interval.t - self._last_plain >= self.plain_every - 1e-9:
            self._last_plain = interval.t
            self.stream.write(line + "\n")
            self.stream.flush()

    def message(self, text: str) -> None:
        """A line that stays (e.g. "stopping: interrupted")."""
        self.close()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
