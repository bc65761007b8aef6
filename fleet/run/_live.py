"""The live view of a run: one status line a second on a terminal, plain lines otherwise."""

from __future__ import annotations

import collections
import shutil
import sys
from collections.abc import Sequence
from typing import Protocol, TextIO

import msgspec

from fleet.metrics import Interval

__all__ = ["LiveView", "status_line"]


class _Run(Protocol):
    # What the view reads of the run (a FleetRun or a WorkersRun).
    @property
    def target(self) -> int: ...


class LiveView:
    """Shows each interval: time, phase, connected / target, answers per second, p50 and p99,
    errors and timeouts.

    On a terminal the line is redrawn in place every second, fitted to the terminal's width as
    it is at that moment (see `status_line`); when the output is a file or a pipe, the whole
    line is printed every `plain_every` seconds instead (CI logs stay short), of those seconds
    together (`Metrics.window`): the last one alone would hide what the others did.
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
        self._ticks = 0  # intervals since the last plain line
        self._recent: collections.deque[Interval] = collections.deque(maxlen=60)
        self._drawn = False

    def __call__(self, interval: Interval, run: _Run) -> None:
        self._ticks += 1
        if not self.interactive:
            self._recent.append(interval)
        if self.interactive:
            # The last column stays empty: writing into it wraps the cursor to the next row on
            # many terminals, and "\r" would then rewrite that row instead of this one.
            width = shutil.get_terminal_size().columns - 1
            line = status_line(interval, run.target, max(width, 0))
            # Back to the row's start, the new line over the old, the old one's tail erased.
            self.stream.write("\r" + line + "\x1b[K")
            self.stream.flush()
            self._drawn = True
        elif interval.t - self._last_plain >= self.plain_every - 1e-9:
            self._last_plain = interval.t
            metrics = getattr(run, "metrics", None)
            if self._ticks > 1 and metrics is not None:
                window = metrics.window(self._ticks)  # exact: a FleetRun keeps the latencies
            elif self._ticks > 1:  # a WorkersRun's merged seconds: worst second's latencies
                window = _window(list(self._recent)[-self._ticks :])
            else:
                window = interval
            self._ticks = 0
            self.stream.write(status_line(window, run.target) + "\n")
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


def _window(parts: Sequence[Interval]) -> Interval:
    """Seconds as one: counts added, the rate over their time, latency figures the worst
    second's (an upper bound, as `merge_intervals` gives for shards)."""
    last = parts[-1]
    seconds = sum(p.seconds for p in parts)
    answered = sum(p.answered for p in parts)
    return msgspec.structs.replace(
        last,
        seconds=round(seconds, 3),
        sent=sum(p.sent for p in parts),
        answered=answered,
        errors=sum(p.errors for p in parts),
        timeouts=sum(p.timeouts for p in parts),
        rate=round(answered / max(seconds, 1e-9), 1),
        p50_ms=max(p.p50_ms for p in parts),
        p99_ms=max(p.p99_ms for p in parts),
        max_ms=max(p.max_ms for p in parts),
        connects=sum(p.connects for p in parts),
    )


def status_line(interval: Interval, target: int, width: int | None = None) -> str:
    """One interval as a status line of at most `width` characters (None: no limit).

    Every field is shown when it fits; if not, every field in its short form (``conn``,
    ``/s``, ``err``...); if that is still too wide, fields go, the least important first:
    p50, the phase, timeouts, errors, p99, the rate, the connected count. The time goes last,
    cut to the width when even it does not fit.
    """
    phase = interval.phase
    total = f"{target:,}"
    # (place on the line, long form, short form), most important first.
    fields = [
        (0, f"[{interval.t:5.0f}s]", f"[{interval.t:5.0f}s]"),
        (
            2,
            f"connected {interval.connected:>{len(total)},}/{total}",
            f"conn {interval.connected:,}/{total}",
        ),
        (3, f"{interval.rate:7,.0f} answers/s", f"{interval.rate:,.0f}/s"),
        (5, f"p99 {interval.p99_ms:6,.1f} ms", f"p99 {interval.p99_ms:,.1f}ms"),
        (6, f"errors {interval.errors:,}", f"err {interval.errors:,}"),
        (7, f"timeouts {interval.timeouts:,}", f"t/o {interval.timeouts:,}"),
        (1, phase, phase),
        (4, f"p50 {interval.p50_ms:6,.1f} ms", f"p50 {interval.p50_ms:,.1f}ms"),
    ]
    fields = [field for field in fields if field[1]]
    line = _join(fields, 1)
    if width is None or len(line) <= width:
        return line
    while fields:
        line = _join(fields, 2)
        if len(line) <= width:
            return line
        fields.pop()
    return line[:width]


def _join(fields: list[tuple[int, str, str]], form: int) -> str:
    return "  ".join(field[form] for field in sorted(fields))
