"""The HTML report: what it shows (every figure of the text summary), how its charts are
drawn (legends off the plot, phases marked), and that it loads in a real headless browser
(Debian's chromium; .ci/run installs it).

The page must load offline with no console errors and draw its charts; a screenshot is kept
in tests/artifacts/ for people to look at.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import msgspec
import pytest

from fleet.metrics import (
    Metrics,
    Report,
    ThresholdResult,
    build_report,
    format_summary,
    write_report,
)
from fleet.report import render_html
from fleet.report._html import CHAR_W
from tests.test_report import report_from

FLEET = [sys.executable, "-m", "fleet"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]
WALL = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TIMELINE_CHARTS = 7


# -- a report with everything a report can hold ------------------------------------------------


@functools.cache  # building one takes seconds (its histograms); reports are frozen
def rich_report(name: str = "rich") -> Report:
    """55 s of four stations: a ramp (boots, a refused connect), a hold, a restart at 20 s
    (fault-1 until all four are back), the drain from 50 s; every kind of failure and
    counter, station faults, thresholds (two failing), notes; interrupted, CPU suspect."""
    m = Metrics(0.0)
    for i in range(4):
        at = 0.5 + i
        m.connect_succeeded(0.012 + 0.003 * i, at)
        m.call_sent("BootNotification", at, at)
        m.call_answered("BootNotification", at, at + 0.01, at + 0.08 + 0.04 * i)
        m.boot_accepted(0.08 + 0.04 * i, at + 0.1, first=True)
    m.connect_failed("Connection refused", 1.2)
    m.ramp_done(4.6)
    for second in range(1, 56):
        if second == 20:
            m.fault_injected("restart", 3.0, 20.0)
            for _ in range(4):
                m.connected_stations -= 1
                m.disconnected(20.1)
        if second == 24:
            for i in range(4):
                m.connect_succeeded(0.02 + 0.01 * i, 23.5 + 0.1 * i)
                m.reconnected(23.5 + 0.1 * i)
        if second == 50:
            m.drain_started(50.0)
        if m.connected_stations and second > 4:
            for station in range(4):
                at = second - 1 + 0.2 * station
                latency = 0.150 if 20 <= second < 25 else 0.010 + 0.001 * station
                m.call_sent("Heartbeat", at, at)
                m.call_answered("Heartbeat", at, at + 0.002, at + latency)
        m.tick(float(second))
    m.call_sent("Authorize", 29.0, 29.0)
    m.call_answered("Authorize", 29.0, 29.0, 29.0237)
    m.call_sent("Authorize", 30.0, 30.0)
    m.call_errored("Authorize", "NotImplemented", 30.0, 30.1)
    m.call_sent("Authorize", 31.0, 31.0)
    m.call_invalid("Authorize", 31.0, 31.1)
    m.call_sent("Authorize", 32.0, 32.0)
    m.call_timed_out("Authorize", 32.0, 62.0)
    m.call_sent("Authorize", 33.0, 33.0)
    m.call_lost("Authorize", 33.0, 33.5)
    for at in (10.0, 11.0, 12.0, 13.0, 14.0):
        m.session_started(at)
    for at in (15.0, 16.0, 17.0):
        m.session_stopped(at)
    m.message_invalid(34.0)
    m.message_invalid(35.0)
    for _ in range(9):
        m.transaction_message_produced(36.0)
    for _ in range(3):
        m.transaction_message_queued(36.5)
    m.transaction_message_delivered_late(37.0)
    m.transaction_message_delivered_late(37.0)
    m.transaction_message_requeued(38.0)
    m.transaction_message_dropped(39.0)
    m.transaction_messages_left(6, 54.0)
    m.station_faulted("cs-1", KeyError("k"), 40.0)
    m.station_faulted("cs-2", OSError("o"), 41.0, where="transport: ")
    m.station_faulted("cs-3", OSError("o"), 42.0, where="transport: ")
    report = build_report(
        m, name=name, profile={}, started_at=WALL, ended_at=WALL + dt.timedelta(seconds=55),
        ended_monotonic=55.0, interrupted=True,
        notes=["incomplete: worker 2 died (exit 1)", "stopped by Ctrl-C at 55 s"],
    )  # fmt: skip
    return msgspec.structs.replace(
        report,
        environment=msgspec.structs.replace(report.environment, cpu_percent=96.4, cpu_suspect=True),
        thresholds=[
            ThresholdResult(name="Heartbeat.p99", condition="< 500ms", actual=12.3, passed=True),
            ThresholdResult(name="ramp:BootNotification.p99", condition="< 50ms", actual=201.0, passed=False),
            ThresholdResult(name="errors", condition="< 0.1%", actual=1.5, passed=False),
            ThresholdResult(name="Reset.p99", condition="< 1s", actual=None, passed=True),
        ],
    )  # fmt: skip


@functools.cache
def ramp_only_report() -> Report:
    """A run stopped before every station booted: no hold (the page falls back, with a note)."""
    m = Metrics(0.0)
    m.connect_succeeded(0.0314, 0.5)
    m.call_sent("BootNotification", 0.5, 0.5)
    m.call_answered("BootNotification", 0.5, 0.51, 0.5777)
    for second in (1, 2, 3):
        m.tick(float(second))
    return build_report(
        m, name="short", profile={}, started_at=WALL, ended_at=WALL + dt.timedelta(seconds=3),
        ended_monotonic=3.0,
    )  # fmt: skip


# -- reading the page: html.parser into a small tree -------------------------------------------

VOID = {"meta", "br", "hr", "img", "link", "input", "col", "wbr"}


@dataclasses.dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = dataclasses.field(default_factory=list)

    def text(self) -> str:
        """The text inside, pieces joined by spaces (so that cells do not run together)."""
        return " ".join(
            child if isinstance(child, str) else child.text() for child in self.children
        )

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if (tag is None or child.tag == tag) and (
                    cls is None or cls in child.attrs.get("class", "").split()
                ):
                    found.append(child)
                found += child.all(tag, cls)
        return found

    def num(self, name: str) -> float:
        return float(self.attrs[name])


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return
        raise AssertionError(f"</{tag}> closes nothing open")

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(page)
    builder.close()
    assert [n.tag for n in builder.stack] == ["#root"], "elements left open"
    return builder.root


def tokens(text: str) -> list[str]:
    """Words and numbers, punctuation around them dropped: "(actual 201 ms)" -> actual, 201,
    ms; "ramp 0-4.6 s" and "ramp 0–4.6 s" alike; 1,000 and p99.9 whole."""
    found = re.findall(r"[A-Za-z][\w.:,-]*|\d[\d,]*(?:\.\d+)?|%", text)
    return [t.rstrip(".:,-") for t in found]


def missing_in_order(line: str, text: list[str]) -> list[str]:
    """The tokens of `line` that `text` lacks in that order (a subsequence): [] if none."""
    want = tokens(line)
    at = 0
    for index, token in enumerate(want):
        try:
            at = text.index(token, at) + 1
        except ValueError:
            return want[index:]
    return []


def assert_shows_summary(section: Node, summary: str) -> None:
    """Every line of the text summary is in the section: its words and figures, in order."""
    text = tokens(section.text())
    for line in summary.splitlines():
        if tokens(line):
            missing = missing_in_order(line, text)
            assert not missing, f"{line!r}: from {missing[0]!r} on, not in the page"


# -- what the page shows ------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["hold", "ramp", "fault-1", "drain", "run", "all"])
def test_the_page_shows_every_figure_of_the_summary(phase: str) -> None:
    report = rich_report()
    page = parse(render_html([report], phase=phase))
    (section,) = page.all("section", "report")
    assert_shows_summary(section, format_summary(report, phase))


def test_each_report_of_several_shows_its_own_summary() -> None:
    reports = [rich_report(), ramp_only_report()]
    page = parse(render_html(reports, ["before", "after"]))
    sections = page.all("section", "report")
    assert len(sections) == 2
    for section, report, label in zip(sections, reports, ["before", "after"], strict=True):
        assert section.all("h2")[0].text().split()[0] == label
        assert_shows_summary(section, format_summary(report))
    # the run without a hold says its tables are the whole run's, and why
    assert "the run had no hold phase" in sections[1].text()
    assert "tables: the whole run" in sections[1].text()


def test_the_figures_sit_where_they_belong() -> None:
    report = rich_report()
    page = parse(render_html([report]))
    text = page.text()
    # the header: the whole run's duration and connects, CPU, and that it was interrupted
    (header,) = page.all("p", "header")
    assert header.text().endswith("55.0 s, 8 connects, generator CPU 96 % (interrupted)")
    warnings = [p.text() for p in page.all("p", "warning")]
    assert any(w.startswith("interrupted:") for w in warnings)
    assert any(w.startswith("SUSPECT: generator CPU > 90 %") for w in warnings)
    # the table states its phase and units; a row's cells are the summary's figures
    (title,) = page.all("p", "phase-title")
    assert title.text().startswith("hold phase (41.6 s): latency from the intended send time")
    assert title.text().endswith("(ms)")
    (table,) = page.all("table", "actions")
    assert [th.text() for th in table.all("tr", "group")[0].all("th")][1:] == [
        "latency (ms)",
        "response time (ms)",
    ]
    heads = [th.text() for th in table.all("thead")[0].all("tr")[1].all("th")]
    assert heads[-2:] == ["resp p50", "resp p99"]
    cells = {
        row.all("td")[0].text(): [td.text() for td in row.all("td")[1:]]
        for row in table.all("tbody")[0].all("tr")
    }
    hold = report.phase_view("hold").actions
    heartbeat = hold["Heartbeat"]
    assert cells["Heartbeat"][:2] == [f"{heartbeat.sent:,}", f"{heartbeat.answered:,}"]
    assert cells["Heartbeat"][-2:] == ["10.0", "11.0"]  # resp p50, resp p99
    assert cells["Authorize"][:4] == ["5", "1", "3", "1"]  # sent, answered, errors, timeouts
    # counters: each transaction-message counter and the station faults by kind
    counters = {
        row.all("th")[0].text(): [td.text() for td in row.all("td")]
        for row in page.all("table", "counters")[0].all("tr")
    }
    assert counters["undelivered at the end"][0] == "0"  # in the drain, not the hold
    assert counters["station faults"][0] == "3"
    assert counters["station faults"][1].endswith(": KeyError 1, transport: OSError 2")
    # thresholds: the verdicts, the failing ones marked, with their actual figures and units
    items = page.all("ul", "thresholds")[0].all("li")
    assert [li.attrs["class"] for li in items] == ["pass", "fail", "fail", "pass"]
    assert "(actual 201 ms)" in items[1].text()
    assert "(actual 1.5 %)" in items[2].text()
    assert "thresholds: 2 passed, 2 failed" in text
    # notes
    assert [p.text() for p in page.all("p", "note")] == [
        "note: incomplete: worker 2 died (exit 1)",
        "note: stopped by Ctrl-C at 55 s",
    ]


def test_an_action_never_answered_shows_no_latency() -> None:
    report = report_from({"Heartbeat": [0.01]}, timeouts=0)
    metrics_free = msgspec.structs.replace(
        report,
        actions={**report.actions, "Reset": msgspec.structs.replace(
            report.actions["Heartbeat"], answered=0, timeouts=2,
            latency=report.connect, response=report.connect,  # count 0: no sample
        )},
    )  # fmt: skip
    page = parse(render_html([metrics_free], phase="run"))
    (row,) = [r for r in page.all("tr") if r.all("td") and r.all("td")[0].text() == "Reset"]
    assert [td.text() for td in row.all("td")[5:]] == ["–"] * 7


def test_the_page_lists_the_faults_of_a_run() -> None:
    from fleet.metrics import FaultRecord

    fault = FaultRecord(
        kind="restart", amount=5.0, at_s=40.0, connected_before=1000, recovery_s=9.8,
        peak_connects_per_s=412,
    )  # fmt: skip
    report = msgspec.structs.replace(report_from({"Heartbeat": [0.01]}), faults=[fault])
    text = render_html([report])
    assert (
        "<li>40.0 s  restart (down 5 s): 1,000 connected before; all back after 9.8 s; "
        "reconnect peak 412/s</li>" in text
    )
    assert "Faults injected" not in render_html([report_from({"Heartbeat": [0.01]})])


# -- how the charts are drawn -------------------------------------------------------------------


def charts(page: Node) -> list[Node]:
    return page.all("svg", "chart")


def box(node: Node) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a rect."""
    x, y = node.num("x"), node.num("y")
    return x, y, x + node.num("width"), y + node.num("height")


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_legends_are_never_over_the_plot() -> None:
    labels = ["before", "after-a-change-with-a-rather-long-name-that-takes-a-whole-row"]
    page = parse(render_html([rich_report(), rich_report()], labels))
    drawn = charts(page)
    assert len(drawn) == 2 + TIMELINE_CHARTS  # a spectrum per action of the hold, timelines
    for svg in drawn:
        # html.parser lowercases attribute names: viewBox is "viewbox"
        _, _, width, height = map(float, svg.attrs["viewbox"].split())
        (plot,) = svg.all("rect", "plot")
        (legend,) = svg.all("g", "legend")
        (legend_box,) = legend.all("rect", "legend-box")
        assert not overlap(box(legend_box), box(plot)), svg.attrs["aria-label"]
        assert box(legend_box)[1] >= box(plot)[3] + 20  # below the x axis's labels too
        assert box(legend_box)[2] <= width and box(legend_box)[3] <= height
        # each entry (swatch and text, its width at its widest) inside the legend's box
        entries = legend.all("g", "legend-entry")
        assert len(entries) == len(svg.all("polyline", "series"))
        for entry in entries:
            (text,) = entry.all("text")
            (swatch,) = entry.all("line")
            right = text.num("x") + len(text.text()) * CHAR_W
            assert box(legend_box)[0] <= swatch.num("x1") and right <= box(legend_box)[2]
            assert box(legend_box)[1] <= text.num("y") - 11 and text.num("y") <= box(legend_box)[3]
        # and no curve passes through the legend
        for line in svg.all("polyline", "series"):
            for point in line.attrs["points"].split():
                x, y = map(float, point.split(","))
                assert box(plot)[0] - 0.1 <= x <= box(plot)[2] + 0.1
                assert box(plot)[1] - 0.1 <= y <= box(plot)[3] + 0.1


def test_each_report_keeps_its_colour() -> None:
    page = parse(render_html([rich_report(), rich_report(), ramp_only_report()], ["a", "b", "c"]))
    colours = [
        re.search(r"color:(#\w+)", h2.attrs["style"])[1]  # type: ignore[index]
        for section in page.all("section", "report")
        for h2 in section.all("h2")
    ]
    assert len(set(colours)) == 3
    for svg in charts(page)[-TIMELINE_CHARTS:]:
        assert [line.attrs["stroke"] for line in svg.all("polyline", "series")] == colours
        owners = [rect.attrs["fill"] for rect in svg.all("rect", "phase-owner")]
        assert owners == colours


def test_timeline_charts_mark_the_phases() -> None:
    report = rich_report()
    page = parse(render_html([report]))
    timelines = charts(page)[-TIMELINE_CHARTS:]
    spans = sorted(
        (start, end, name) for name, stats in report.phases.items() for start, end in stats.spans
    )
    assert [name for _, _, name in spans] == ["ramp", "hold", "fault-1", "hold", "drain"]
    for svg in timelines:
        (plot,) = svg.all("rect", "plot")
        left, top, right, bottom = box(plot)

        def x_of(seconds: float, left: float = left, right: float = right) -> float:
            return left + seconds / report.duration_s * (right - left)

        # a band above the plot per phase span, where the span is, named
        bands = svg.all("rect", "phase")
        assert [b.attrs["data-phase"] for b in bands] == [name for _, _, name in spans]
        for band, (start, end, name) in zip(bands, spans, strict=True):
            assert box(band)[3] <= top  # above the plot, not over the curves
            assert box(band)[0] == pytest.approx(x_of(start), abs=0.2)
            assert box(band)[2] == pytest.approx(x_of(end), abs=0.6)
            assert name in band.all("title")[0].text()
        labels = [t.text() for t in svg.all("text", "phase-label")]
        assert {"ramp", "hold", "fault-1", "drain"} <= set(labels)
        # a line down the plot where each phase after the first begins
        marks = svg.all("line", "phase-mark")
        assert [m.attrs["data-phase"] for m in marks] == [name for _, _, name in spans[1:]]
        for mark, (start, _, _) in zip(marks, spans[1:], strict=True):
            assert mark.num("x1") == pytest.approx(x_of(start), abs=0.2)
            assert (mark.num("y1"), mark.num("y2")) == (top, bottom)
        # one report: the phases other than the hold shaded in the plot
        shaded = [r.attrs["data-phase"] for r in svg.all("rect", "phase-band")]
        assert sorted(shaded) == ["drain", "fault-1", "ramp"]
    # the spectra are of one phase, and say which
    for svg in charts(page)[:-TIMELINE_CHARTS]:
        assert not svg.all("rect", "phase")
        assert svg.attrs["aria-label"].endswith("(hold phase)")


# -- the page as `fleet report html` writes it, in a browser ------------------------------------


def make_page(tmp_path: Path) -> Path:
    reports = []
    for name, latency in (("before", 0.010), ("after", 0.014)):
        path = tmp_path / f"{name}.json"
        write_report(
            report_from({"Heartbeat": [latency] * 200 + [0.5], "Authorize": [0.003] * 50}), path
        )
        reports.append(str(path))
    rich = tmp_path / "rich.json"
    write_report(rich_report(), rich)
    reports.append(str(rich))
    page = tmp_path / "page.html"
    result = subprocess.run(
        [*FLEET, "report", "html", *reports, "-o", str(page)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return page


def test_the_page_is_self_contained(tmp_path: Path) -> None:
    text = make_page(tmp_path).read_text()
    # nothing to fetch: no scripts, stylesheets, images or fonts from elsewhere
    assert not re.search(r"<script|<link|<img|@import|url\(", text)
    assert set(re.findall(r"https?://[^\s\"']+", text)) <= {"http://www.w3.org/2000/svg"}
    # a spectrum per action of the hold (Authorize, Heartbeat), seven over time
    assert text.count('<svg class="chart"') == 2 + TIMELINE_CHARTS
    assert "before" in text and "after" in text
    parse(text)  # well formed: every element closed


def test_fleet_report_html_takes_phase_all(tmp_path: Path) -> None:
    path, page = tmp_path / "rich.json", tmp_path / "all.html"
    write_report(rich_report(), path)
    result = subprocess.run(
        [*FLEET, "report", "html", str(path), "-o", str(page), "--phase", "all"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    titles = [p.text().split(" (")[0] for p in parse(page.read_text()).all("p", "phase-title")]
    assert titles == ["ramp phase", "hold phase", "fault-1 phase", "drain phase", "the whole run"]


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium here (.ci/run installs Debian's); the page's structure is checked above",
)
def test_the_page_renders_in_a_browser_without_errors(tmp_path: Path) -> None:
    page = make_page(tmp_path)
    profile = tmp_path / "chromium-profile"
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    assert "net::ERR" not in dom.stderr
    # The browser parsed every chart and every curve: on the two spectra, latency and
    # response time of each of the three reports; over time, the three reports.
    assert dom.stdout.count('<svg class="chart"') == 2 + TIMELINE_CHARTS
    assert dom.stdout.count('class="series"') == 2 * 2 * 3 + 3 * TIMELINE_CHARTS
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1400,1800", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
