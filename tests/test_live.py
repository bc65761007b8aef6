"""The live view fits the terminal: no line wider than it, the key figures first."""

from __future__ import annotations

import io
import itertools
import re

import msgspec
import pytest

from fleet.metrics import Interval, Metrics
from fleet.run import LiveView
from fleet.run._live import status_line


class Run:
    target = 10_000


def interval(**changes: object) -> Interval:
    figures: dict[str, object] = {
        "t": 125.0,
        "seconds": 1.0,
        "connected": 9_876,
        "sent": 12_400,
        "answered": 12_345,
        "errors": 12,
        "timeouts": 3,
        "rate": 12_345.0,
        "p50_ms": 3.2,
        "p99_ms": 145.7,
        "max_ms": 310.0,
        "phase": "fault-1",
    }
    return Interval(**(figures | changes))  # type: ignore[arg-type]


# A quiet second, a busy one, and one with every figure at its widest.
INTERVALS = [
    interval(t=1.0, connected=0, rate=0.0, p50_ms=0.0, p99_ms=0.0, errors=0, timeouts=0, phase="ramp"),
    interval(),
    interval(
        t=86_400.0, connected=100_000, rate=1_234_567.0, p50_ms=9_876.5, p99_ms=123_456.7,
        errors=12_345_678, timeouts=9_876_543, phase="fault-12",
    ),
    interval(phase=""),  # no phase: a run from before phases, or a worker's merge
]  # fmt: skip

ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def drawn_lines(output: str) -> list[str]:
    """What each redraw leaves on the screen: the text between carriage returns and
    newlines, without the escape sequences."""
    return [ESCAPE.sub("", part) for part in re.split(r"[\r\n]", output) if part]


def draw(width: int, monkeypatch: pytest.MonkeyPatch, *shown: Interval) -> str:
    monkeypatch.setenv("COLUMNS", str(width))  # shutil.get_terminal_size reads it first
    stream = io.StringIO()
    view = LiveView(stream, interactive=True)
    for each in shown:
        view(each, Run())
    return stream.getvalue()


@pytest.mark.parametrize("width", [40, 80, 120, 200])
def test_no_line_is_wider_than_the_terminal(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = drawn_lines(draw(width, monkeypatch, *INTERVALS))
    assert len(lines) == len(INTERVALS)
    # The last column stays empty: writing into it wraps the cursor on many terminals.
    assert [line for line in lines if len(line) >= width] == []
    assert all(line.startswith("[") for line in lines)  # the time is always there


def test_the_key_figures_survive_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    [line] = drawn_lines(draw(80, monkeypatch, interval()))
    for figure in ("[  125s]", "9,876/10,000", "12,345/s", "p99 145.7"):
        assert figure in line, line
    assert "fault-1" in line  # there is room for the phase too
    [widest] = drawn_lines(draw(80, monkeypatch, INTERVALS[2]))
    for figure in ("[86400s]", "100,000/10,000", "1,234,567/s", "p99 123,456.7"):
        assert figure in widest, widest


def test_wide_terminals_show_every_field_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    [line] = drawn_lines(draw(120, monkeypatch, interval()))
    assert line == (
        "[  125s]  fault-1  connected  9,876/10,000   12,345 answers/s  p50    3.2 ms"
        "  p99  145.7 ms  errors 12  timeouts 3"
    )


def test_narrow_terminals_drop_the_least_important_fields_first() -> None:
    shown = interval()
    lines = [status_line(shown, 10_000, width) for width in range(120, 0, -1)]
    # Each narrower line keeps some of the wider one's fields (long or short), never another.
    fields = {
        "time": r"\[  125s\]",
        "phase": r"fault-1",
        "connected": r"(connected|conn) +9,876/10,000",
        "rate": r"12,345( answers)?/s",
        "p50": r"p50 +3\.2 ?ms",
        "p99": r"p99 +145\.7 ?ms",
        "errors": r"(errors|err) 12",
        "timeouts": r"(timeouts|t/o) 3",
    }
    kept = [[name for name, shown in fields.items() if re.search(shown, line)] for line in lines]
    assert kept[0] == list(fields)
    dropped = []
    for wider, narrower in itertools.pairwise(kept):
        assert set(narrower) <= set(wider)
        dropped += [name for name in wider if name not in narrower]
    assert dropped == ["p50", "phase", "timeouts", "errors", "p99", "rate", "connected", "time"]
    assert status_line(shown, 10_000, 39) == "[  125s]  conn 9,876/10,000  12,345/s"
    assert status_line(shown, 10_000, 5) == "[  12"
    assert status_line(shown, 10_000, 0) == ""


def test_each_redraw_is_measured_and_clears_what_the_last_one_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    view = LiveView(stream, interactive=True)
    monkeypatch.setenv("COLUMNS", "200")
    view(interval(), Run())
    wide = stream.getvalue()
    monkeypatch.setenv("COLUMNS", "40")  # the terminal was made narrower
    view(interval(t=126.0), Run())
    narrow = stream.getvalue()[len(wide) :]
    assert wide.startswith("\r") and wide.endswith("\x1b[K")
    assert narrow.startswith("\r") and narrow.endswith("\x1b[K")
    assert len(ESCAPE.sub("", narrow).strip("\r")) < 40
    view.close()
    assert stream.getvalue().endswith("\x1b[K\n")  # the last line stays, the prompt below


def test_a_log_gets_every_field_however_narrow_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    stream = io.StringIO()
    view = LiveView(stream, interactive=False, plain_every=5.0)
    for t in range(1, 11):
        view(interval(t=float(t)), Run())
    lines = stream.getvalue().splitlines()
    assert [line[:8] for line in lines] == ["[    5s]", "[   10s]"]
    assert all("\x1b" not in line and "\r" not in line for line in lines)
    # Each line is of its five seconds together: 5 x 3 timeouts.
    assert all("p50" in line and "timeouts 15" in line and "fault-1" in line for line in lines)


def test_a_log_line_shows_its_seconds_together_not_only_the_last() -> None:
    """Printed every 5 s, a line whose last second was quiet still shows the others' work:
    the rate over the five seconds, counts added, the worst second's latencies (shards'
    merged seconds keep no latencies to combine)."""
    stream = io.StringIO()
    view = LiveView(stream, interactive=False, plain_every=5.0)
    busy = interval(answered=400, rate=400.0, errors=2, timeouts=0, p50_ms=2.0, p99_ms=9.0)
    quiet = interval(answered=0, rate=0.0, errors=0, timeouts=0, p50_ms=0.0, p99_ms=0.0)
    for t, second in enumerate([busy, quiet, busy, quiet, quiet], start=1):
        view(msgspec.structs.replace(second, t=float(t)), Run())
    [line] = stream.getvalue().splitlines()
    assert "160 answers/s" in line and "errors 4" in line
    assert "p50    2.0 ms" in line and "p99    9.0 ms" in line


def test_a_fleet_run_s_log_line_has_exact_percentiles_of_its_seconds() -> None:
    """A FleetRun keeps each second's latencies: the line's p50 / p99 are of all of them."""
    metrics = Metrics(0.0)
    for second in range(5):
        for n in range(100):  # second 0: 1..100 ms; the others: none
            if second == 0:
                metrics.call_sent("Heartbeat", second, second)
                metrics.call_answered("Heartbeat", second, second, second + (n + 1) / 1000)
        metrics.tick(second + 1.0)

    class FleetRun:
        target = 10

        def __init__(self) -> None:
            self.metrics = metrics

    stream = io.StringIO()
    view = LiveView(stream, interactive=False, plain_every=5.0)
    for part in metrics.timeline:
        view(part, FleetRun())
    [line] = stream.getvalue().splitlines()
    assert "20 answers/s" in line
    assert "p50   50.0 ms" in line or "p50   51.0 ms" in line
    assert metrics.window(5).answered == 100 and metrics.window(1).answered == 0
