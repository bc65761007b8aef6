"""One self-contained HTML page for one or more reports: tables and inline SVG charts.

No scripts, fonts or styles from anywhere else: the page works offline and in CI artifacts.
With several reports their curves are overlaid, one colour each, for comparison.

The page shows every figure of the text summary (`fleet.metrics.format_summary`), in the same
order and number format, and a little more (connect failures by reason, errors by code);
tests/test_html.py holds it to that. Charts are hand-written SVG: a line chart with its
legend below the plot (never over a curve), and on the timeline charts a band per report
above the plot showing its phases (ramp, hold, fault-N, drain), with dashed lines down the
plot where each phase begins.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Sequence

from fleet.metrics import (
    DEFAULT_PHASE,
    WHOLE_RUN,
    LatencyStats,
    Report,
    decode_histogram,
    describe_answers,
    describe_fault,
    describe_threshold,
    phase_view,
)
from fleet.metrics._report import redact_report

__all__ = ["render_html"]

# One colour per report (matplotlib's "tab10"); an eleventh report reuses the first.
COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
# The response time's curve on a latency spectrum: the report's colour, dashed.
RESPONSE_DASH = "5 3"
# Phase bands, and the page's phase chips, by kind of phase.
PHASE_FILLS = {"ramp": "#d6e6f5", "hold": "#e2f0d9", "fault": "#f7d0cc", "drain": "#e4e4e4"}
OTHER_PHASE_FILL = "#efe4cc"

# Chart geometry, in SVG user units (px). From the top: the phase bands (one row per report,
# timeline charts only), the plot, the x axis's ticks and label, then the legend.
WIDTH = 640
LEFT, RIGHT = 64, 32
PAD = 8
PLOT_H = 190
BAND_H = 15
FONT_PX = 11
# Wide enough for the widest glyphs of an 11 px sans-serif: a label's box is never too short.
CHAR_W = 6.6
LEGEND_ROW = 16
SWATCH = 20
# Legend labels longer than this are cut (the whole label is the entry's tooltip).
LEGEND_MAX_CHARS = 60
# Percentile spectrum on the 1/(1-p) axis, as HdrHistogram's plots: 0 % to 99.999 %.
SPECTRUM_MAX_NINES = 5


@dataclasses.dataclass(frozen=True)
class _Series:
    label: str
    colour: str
    points: Sequence[tuple[float, float]]
    dash: str = ""  # SVG stroke-dasharray; "" draws a solid line


@dataclasses.dataclass(frozen=True)
class _PhaseRow:
    """One report's phases on a timeline chart: (phase, start s, end s), in time order."""

    label: str
    colour: str
    spans: Sequence[tuple[str, float, float]]


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def _ms(value: float) -> str:
    """A latency in ms as the text summary writes it: 12.3, or 1,234 from a second up."""
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _phase_fill(phase: str) -> str:
    return PHASE_FILLS.get(phase.split("-", 1)[0], OTHER_PHASE_FILL)


def _text_width(text: str) -> float:
    return len(text) * CHAR_W


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    step = 10 ** math.floor(math.log10((high - low) / count))
    for factor in (1, 2, 5, 10):
        if (high - low) / (step * factor) <= count:
            step *= factor
            break
    start = math.floor(low / step) * step
    return [
        start + i * step
        for i in range(int((high - start) / step) + 2)
        if low - 1e-9 <= start + i * step <= high * 1.0001
    ]


class _Scale:
    """Data to SVG coordinates along one axis."""

    def __init__(self, low: float, high: float, start: float, length: float) -> None:
        self.low, self.high = low, high if high > low else low + 1
        self.start, self.length = start, length

    def __call__(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * self.length


def _legend(series: Sequence[_Series], top: float) -> tuple[list[str], float]:
    """The legend's SVG, entries flowing left to right in rows from `top`, and its bottom.

    Its box (`rect.legend-box`) spans from `LEFT` to the plot's right edge: below the plot
    and the x axis, so it is never over a curve whatever the data.
    """
    right = WIDTH - RIGHT
    parts: list[str] = []
    x, row = LEFT + 6.0, 0
    for entry in series:
        label = entry.label
        if len(label) > LEGEND_MAX_CHARS:
            label = label[: LEGEND_MAX_CHARS - 1] + "…"
        width = SWATCH + 4 + _text_width(label)
        if x > LEFT + 6 and x + width > right - 6:
            x, row = LEFT + 6.0, row + 1
        y = top + 4 + row * LEGEND_ROW + LEGEND_ROW / 2
        dash = f' stroke-dasharray="{entry.dash}"' if entry.dash else ""
        parts.append(
            f'<g class="legend-entry"><title>{_escape(entry.label)}</title>'
            f'<line x1="{x:.1f}" x2="{x + SWATCH:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{entry.colour}" stroke-width="2.2"{dash}/>'
            f'<text x="{x + SWATCH + 4:.1f}" y="{y + 4:.1f}" fill="{entry.colour}">'
            f"{_escape(label)}</text></g>"
        )
        x += width + 14
    bottom = top + 8 + (row + 1) * LEGEND_ROW
    box = (
        f'<rect class="legend-box" x="{LEFT}" y="{top}" width="{right - LEFT}" '
        f'height="{bottom - top}" fill="none" stroke="#ddd"/>'
    )
    return ['<g class="legend">', box, *parts, "</g>"], bottom


def _phase_bands(
    rows: Sequence[_PhaseRow],
    sx: _Scale,
    x_range: tuple[float, float],
    plot_top: float,
    plot_h: float,
) -> tuple[list[str], list[str]]:
    """The phase bands above the plot (one row per report) and the marks in the plot: the
    phases' spans shaded (one report only; several would hide each other) and a dashed line,
    in the report's colour, where each phase begins. Returns (above, in the plot)."""
    above = ['<g class="phases">']
    inside = []
    low, high = x_range
    for index, row in enumerate(rows):
        y = PAD + index * BAND_H
        above.append(
            f'<rect class="phase-owner" x="{LEFT - 10}" y="{y + 2}" width="6" '
            f'height="{BAND_H - 4}" fill="{row.colour}"><title>{_escape(row.label)}</title></rect>'
        )
        label_end = -math.inf
        for phase, start, end in row.spans:
            x1, x2 = sx(max(start, low)), sx(min(end, high))
            span = f"{phase} {start:g}–{end:g} s" + (f" ({row.label})" if len(rows) > 1 else "")
            above.append(
                f'<rect class="phase" data-phase="{_escape(phase)}" '
                f'data-report="{_escape(row.label)}" x="{x1:.1f}" y="{y + 1}" '
                f'width="{max(x2 - x1, 0.5):.1f}" height="{BAND_H - 2}" '
                f'fill="{_phase_fill(phase)}" stroke="#fff" stroke-width="0.5">'
                f"<title>{_escape(span)}</title></rect>"
            )
            # A label where it fits: pushed right past the one before, drawn if it still
            # starts inside its own span (a short phase's label may run into the next).
            width = _text_width(phase)
            lx = max(x1 + 3, label_end + 6)
            lx = min(lx, WIDTH - RIGHT - width - 2)
            if x1 <= lx < x2 and lx >= label_end + 4:
                above.append(
                    f'<text class="phase-label" x="{lx:.1f}" y="{y + BAND_H - 4}" '
                    f'font-size="10">{_escape(phase)}</text>'
                )
                label_end = lx + width
            if start > low:
                inside.append(
                    f'<line class="phase-mark" data-phase="{_escape(phase)}" x1="{x1:.1f}" '
                    f'x2="{x1:.1f}" y1="{plot_top}" y2="{plot_top + plot_h}" '
                    f'stroke="{row.colour}" stroke-dasharray="3 3" stroke-opacity="0.6"/>'
                )
            if len(rows) == 1 and not phase.startswith("hold"):
                inside.insert(
                    0,
                    f'<rect class="phase-band" data-phase="{_escape(phase)}" x="{x1:.1f}" '
                    f'y="{plot_top}" width="{max(x2 - x1, 0.5):.1f}" height="{plot_h}" '
                    f'fill="{_phase_fill(phase)}" fill-opacity="0.55"/>',
                )
    above.append("</g>")
    return above, inside


def _chart(
    title: str,
    series: Sequence[_Series],
    x_label: str,
    y_label: str,
    *,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    x_range: tuple[float, float] | None = None,
    phases: Sequence[_PhaseRow] = (),
) -> str:
    """An SVG line chart in a <figure>: the plot (`rect.plot`), its axes, the legend below
    them, and for a timeline the phase bands of each report above the plot."""
    points = [p for s in series for p in s.points]
    rows = [row for row in phases if row.spans]
    plot_top = PAD + (len(rows) * BAND_H + 6 if rows else 0)
    plot_w = WIDTH - LEFT - RIGHT
    axis_bottom = plot_top + PLOT_H + 36
    legend, bottom = _legend(series, axis_bottom)
    height = math.ceil(bottom + PAD)
    parts = [
        f"<figure><figcaption>{_escape(title)}</figcaption>"
        f'<svg class="chart" role="img" aria-label="{_escape(title)}" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if x_range is None:
        x_range = (min(p[0] for p in points), max(p[0] for p in points)) if points else (0.0, 1.0)
    sx = _Scale(x_range[0], x_range[1], LEFT, plot_w)
    y_high = max((p[1] for p in points), default=0.0) * 1.05 or 1.0
    sy = _Scale(0.0, y_high, plot_top + PLOT_H, -PLOT_H)
    above, inside = _phase_bands(rows, sx, (sx.low, sx.high), plot_top, PLOT_H)
    if rows:
        parts += above
    parts += inside
    parts.append(
        f'<rect class="plot" x="{LEFT}" y="{plot_top}" width="{plot_w}" height="{PLOT_H}" '
        f'fill="none" stroke="#999"/>'
    )
    for value in _ticks(0, y_high):
        y = sy(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    for value, label in x_ticks or [(v, f"{v:g}") for v in _ticks(sx.low, sx.high)]:
        if not sx.low <= value <= sx.high:
            continue
        x = sx(value)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{plot_top}" y2="{plot_top + PLOT_H}" '
            f'stroke="#eee"/>'
        )
        y = plot_top + PLOT_H + 15
        parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{_escape(label)}</text>')
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{plot_top + PLOT_H + 30}" text-anchor="middle">'
        f"{_escape(x_label)}</text>"
    )
    parts.append(
        f'<text transform="translate(14 {plot_top + PLOT_H / 2}) rotate(-90)" '
        f'text-anchor="middle">{_escape(y_label)}</text>'
    )
    if not points:
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{plot_top + PLOT_H / 2}" text-anchor="middle">'
            "no data</text>"
        )
    for entry in series:
        if entry.points:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in entry.points)
            dash = f' stroke-dasharray="{entry.dash}"' if entry.dash else ""
            parts.append(
                f'<polyline class="series" fill="none" stroke="{entry.colour}" '
                f'stroke-width="1.8"{dash} points="{path}"><title>{_escape(entry.label)}'
                "</title></polyline>"
            )
    parts += legend
    parts.append("</svg></figure>")
    return "".join(parts)


def _spectrum(encoded: str) -> list[tuple[float, float]]:
    """(log10 of 1/(1-p), latency ms) along the percentile spectrum."""
    histogram = decode_histogram(encoded)
    if not histogram.get_total_count():
        return []
    points = []
    for step in range(SPECTRUM_MAX_NINES * 10 + 1):
        nines = step / 10
        percentile = 100.0 * (1 - 10**-nines)
        points.append((nines, histogram.get_value_at_percentile(percentile) / 1000))
    return points


def _phase_name(phase: str) -> str:
    return "the whole run" if phase == WHOLE_RUN else f"{phase} phase"


def _latency_cells(lat: LatencyStats) -> str:
    if not lat.count:  # no sample: no latency (the text summary writes 0.0)
        return '<td class="none" title="no answer: no latency sample">–</td>' * 5
    return "".join(
        f"<td>{_ms(value)}</td>"
        for value in (lat.p50_ms, lat.p90_ms, lat.p99_ms, lat.p99_9_ms, lat.max_ms)
    )


def _action_table(view: Report) -> str:
    """The phase's table: per action, counts, latency and response time; then the connect
    (handshake) and boot (to Accepted) times, when measured."""
    rows = []
    for action, stats in view.actions.items():
        lat, resp = stats.latency, stats.response
        errors = sum(stats.errors.values()) + stats.invalid + stats.lost
        why = [f"{code} {n:,}" for code, n in stats.errors.items()]
        why += [f"{what} {n:,}" for what, n in (("invalid", stats.invalid), ("lost", stats.lost))]
        if resp is None:
            resp_cells = '<td class="none" title="not in this report\'s format">–</td>' * 2
        elif not resp.count:
            resp_cells = '<td class="none" title="no answer: no response time">–</td>' * 2
        else:
            resp_cells = f"<td>{_ms(resp.p50_ms)}</td><td>{_ms(resp.p99_ms)}</td>"
        rows.append(
            f"<tr><td>{_escape(action)}</td><td>{stats.sent:,}</td><td>{stats.answered:,}</td>"
            f'<td title="CALLERROR by code, invalid answers, lost: {_escape(", ".join(why))}">'
            f"{errors:,}</td><td>{stats.timeouts:,}</td>{_latency_cells(lat)}{resp_cells}</tr>"
        )
    for label, lat in (("connect: handshake", view.connect), ("boot: to Accepted", view.boot)):
        if lat.count:  # nothing measured: no row (a custom behaviour boots on its own)
            rows.append(
                f'<tr class="timing"><td>{label}</td><td>{lat.count:,}</td><td></td><td></td>'
                f"<td></td>{_latency_cells(lat)}<td></td><td></td></tr>"
            )
    return (
        '<table class="actions"><thead>'
        '<tr class="group"><th colspan="5"></th><th colspan="5">latency (ms)</th>'
        '<th colspan="2">response time (ms)</th></tr>'
        "<tr><th>action</th><th>sent</th><th>answered</th><th>errors</th><th>timeouts</th>"
        "<th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th>"
        "<th>resp p50</th><th>resp p99</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _csms_table(view: Report) -> str:
    """The phase's CSMS-initiated operations: per action, the calls received, the answers
    by status, the stations' answer time and the reaction time (what it runs to in the
    reaction's title); empty without any."""
    if not view.csms:
        return ""
    rows = []
    for action, stats in view.csms.items():
        answer, reaction = stats.answer, stats.reaction
        if reaction.count:
            react = (
                f"<td>{reaction.count:,}</td><td>{_ms(reaction.p50_ms)}</td>"
                f"<td>{_ms(reaction.p99_ms)}</td>"
            )
        else:
            react = '<td class="none" title="no reaction came">–</td>' * 3
        rows.append(
            f"<tr><td>{_escape(action)}</td><td>{stats.received:,}</td>"
            f"<td>{_escape(describe_answers(stats.answers))}</td>"
            f"<td>{_ms(answer.p50_ms)}</td><td>{_ms(answer.p99_ms)}</td>{react}"
            f"<td>{_escape(stats.reaction_to)}</td></tr>"
        )
    return (
        '<table class="csms"><caption>CSMS-initiated operations ('
        f"{_escape(_phase_name(view.phase))})</caption><thead>"
        '<tr class="group"><th colspan="3"></th><th colspan="2">answer time (ms)</th>'
        '<th colspan="4">reaction: from the request to what shows it done (ms)</th></tr>'
        "<tr><th>action</th><th>received</th><th>answers</th><th>p50</th><th>p99</th>"
        "<th>n</th><th>p50</th><th>p99</th><th>to</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _campaigns(report: Report) -> str:
    """The embedded CSMS's campaigns, as it counted them: sent, answers, answer times."""
    if not report.campaigns:
        return ""
    rows = []
    for c in report.campaigns:
        versions = ", ".join(f"{v} {n:,}" for v, n in c.sent_by_version.items())
        unsent = c.not_expressible + c.invalid + c.not_sent
        cells = (
            f"<td>{_ms(c.answer.p50_ms)}</td><td>{_ms(c.answer.p99_ms)}</td>"
            if c.answer.count
            else '<td class="none" title="no answer">–</td>' * 2
        )
        rows.append(
            f"<tr><td>{_escape(c.name)}</td><td>{_escape(c.action)}</td><td>{c.rounds:,}</td>"
            f'<td title="{_escape(versions)}">{c.sent:,}</td>'
            f"<td>{_escape(describe_answers(c.answers))}</td><td>{c.timeouts:,}</td>"
            f"<td>{c.lost + c.unanswered:,}</td>"
            f'<td title="not expressible, invalid, or the run ended first">{unsent:,}</td>'
            f"{cells}</tr>"
        )
    return (
        '<table class="campaigns"><caption>campaigns of the embedded CSMS (its side: '
        "from each call's send to its answer, ms)</caption><thead><tr><th>campaign</th>"
        "<th>action</th><th>rounds</th><th>sent</th><th>answers</th><th>timeouts</th>"
        "<th>lost</th><th>not sent</th><th>p50</th><th>p99</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _counters(view: Report) -> str:
    """The phase's counters, in the text summary's order; tables by kind spelled out."""
    c = view.counters
    failures = ", ".join(f"{reason} {n:,}" for reason, n in c.connect_failures.items())
    faults = ", ".join(f"{kind} {n:,}" for kind, n in c.station_faults.items())
    rows = [
        ("sessions started", c.sessions_started, ""),
        ("sessions stopped", c.sessions_stopped, ""),
        ("connect failures", sum(c.connect_failures.values()), failures),
        ("disconnects", c.disconnects, ""),
        ("reconnects", c.reconnects, ""),
        ("invalid messages from the CSMS", c.invalid_messages, ""),
        ("transaction messages", c.transaction_messages, "produced"),
        ("held offline", c.transaction_messages_queued, "queued for a later connection"),
        ("delivered late", c.transaction_messages_delivered_late, "answered after a reconnect"),
        ("sent again", c.transaction_messages_requeued, "lost, CALLERROR or timeout"),
        ("dropped", c.transaction_messages_dropped, "attempts used up, or queue full"),
        ("undelivered at the end", c.transaction_messages_undelivered, "queued or unanswered"),
        (
            "station faults",
            sum(c.station_faults.values()),
            "each station restarted by its watchdog" + (f": {faults}" if faults else ""),
        ),
    ]
    # the transaction messages' fates are indented under their total
    body = "".join(
        f'<tr class="{"sub" if 7 <= i <= 11 else "top"}"><th>{_escape(name)}</th>'
        f"<td>{count:,}</td><td>{_escape(detail)}</td></tr>"
        for i, (name, count, detail) in enumerate(rows)
    )
    return (
        f'<table class="counters"><caption>counters ({_escape(_phase_name(view.phase))})'
        f"</caption><tbody>{body}</tbody></table>"
    )


def _phases_line(report: Report, shown: Sequence[str]) -> str:
    if not report.phases:
        return ""
    spans = sorted(
        (start, end, name) for name, stats in report.phases.items() for start, end in stats.spans
    )
    chips = ", ".join(
        f'<span class="chip" style="background:{_phase_fill(name)}">'
        f"{_escape(name)} {start:g}–{end:g} s</span>"
        for start, end, name in spans
    )
    tables = ", ".join(_phase_name(name) for name in shown)
    return f'<p class="phases">phases: {chips}<br>tables: {_escape(tables)}</p>'


def _faults(report: Report) -> str:
    if not report.faults:
        return ""
    items = "".join(f"<li>{_escape(describe_fault(fault).strip())}</li>" for fault in report.faults)
    return f"<h3>Faults injected by the embedded CSMS</h3><ul>{items}</ul>"


def _thresholds(report: Report) -> str:
    if not report.thresholds:
        return ""
    failed = sum(not t.passed for t in report.thresholds)
    items = []
    for result in report.thresholds:
        verdict, _, rest = describe_threshold(result).partition("  ")
        css = "pass" if result.passed else "fail"
        items.append(
            f'<li class="{css}"><span class="verdict">{_escape(verdict)}</span> '
            f"{_escape(rest)}</li>"
        )
    return (
        f"<h3>thresholds: {len(report.thresholds) - failed} passed, {failed} failed</h3>"
        f'<ul class="thresholds">{"".join(items)}</ul>'
    )


def _views(report: Report, phase: str) -> list[Report]:
    """The report's views whose tables the page shows: `phase`'s, or for "all" each phase's
    and then the whole run's (as `format_summary`)."""
    if phase != "all":
        return [phase_view(report, phase)]
    return [phase_view(report, name) for name in [*report.phases, WHOLE_RUN]]


def _section(name: str, colour: str, report: Report, views: Sequence[Report]) -> str:
    env = report.environment
    counters = report.counters  # the whole run's, as the text summary's header
    received = sum(stats.received for stats in report.csms.values())
    header = (
        f"{report.started_at.isoformat()} to {report.ended_at.isoformat()}: "
        f"{report.duration_s:,.1f} s, {counters.connects:,} connects, "
        + (f"{received:,} CSMS calls answered, " if received else "")
        + f"generator CPU {env.cpu_percent:.0f} %"
        + (" (interrupted)" if report.interrupted else "")
    )
    parts = [
        f'<section class="report"><h2 style="color:{colour}">{_escape(name)}'
        + (f" <small>(run {_escape(report.name)})</small>" if name != report.name else "")
        + "</h2>",
        f'<p class="header">{_escape(header)}</p>',
        f'<p class="environment">fleet {_escape(env.fleet_version)}, Python '
        f"{_escape(env.python)}, {env.cpu_count} CPUs</p>",
    ]
    if report.interrupted:
        parts.append(
            '<p class="warning">interrupted: the run was stopped before its planned end; '
            "the figures are what it measured until then</p>"
        )
    if env.cpu_suspect:
        parts.append(
            '<p class="warning">SUSPECT: generator CPU &gt; 90 %: latencies may measure the '
            "fleet, not the CSMS</p>"
        )
    parts.append(_phases_line(report, [view.phase for view in views]))
    for view in views:
        title = (
            f"{_phase_name(view.phase)} ({view.duration_s:,.1f} s): latency from the intended "
            "send time; resp: response time, from the frame's send to the answer (ms)"
        )
        parts.append(
            f'<p class="phase-title">{_escape(title)}</p>'
            f'<div class="phase">{_action_table(view)}{_counters(view)}</div>' + _csms_table(view)
        )
    parts += [_campaigns(report), _faults(report), _thresholds(report)]
    notes = list(dict.fromkeys(note for view in [report, *views] for note in view.notes))
    parts += [f'<p class="note">note: {_escape(note)}</p>' for note in notes]
    parts.append("</section>")
    return "".join(parts)


def _phase_row(name: str, colour: str, report: Report) -> _PhaseRow:
    spans = sorted(
        (
            (start, end, phase)
            for phase, stats in report.phases.items()
            for start, end in stats.spans
        )
    )
    return _PhaseRow(name, colour, [(phase, start, end) for start, end, phase in spans])


def _spectra(
    names: Sequence[str], colours: Sequence[str], views: Sequence[Report]
) -> tuple[str, list[str]]:
    """Per action, the latency spectrum of each report's view (solid) and its response
    time's (dashed); and which phase they are of, for the heading."""
    same_phase = len({view.phase for view in views}) == 1
    phase = _phase_name(views[0].phase) if same_phase else "each report's phase in the legend"
    nines_ticks = [(float(n), f"{100 * (1 - 10**-n):g}%") for n in range(SPECTRUM_MAX_NINES + 1)]
    charts = []
    for action in sorted({a for view in views for a in view.actions}):
        series = []
        for name, colour, view in zip(names, colours, views, strict=True):
            stats = view.actions.get(action)
            if stats is None:
                continue
            label = name if same_phase else f"{name} ({_phase_name(view.phase)})"
            series.append(_Series(f"{label}: latency", colour, _spectrum(stats.latency.histogram)))
            if stats.response is not None:
                response = _spectrum(stats.response.histogram)
                series.append(_Series(f"{label}: response time", colour, response, RESPONSE_DASH))
        title = f"{action}: latency by percentile ({phase})"
        charts.append(
            _chart(title, series, "percentile (1/(1-p) scale)", "ms", x_ticks=nines_ticks,
                   x_range=(0.0, SPECTRUM_MAX_NINES))
        )  # fmt: skip
    return phase, charts


def _timelines(
    names: Sequence[str], colours: Sequence[str], reports: Sequence[Report]
) -> list[str]:
    """The whole runs over time, one chart per figure of the timeline, phases marked."""
    end = max(max([r.duration_s, *(i.t for i in r.timeline)]) for r in reports)
    rows = [
        _phase_row(name, colour, r) for name, colour, r in zip(names, colours, reports, strict=True)
    ]

    def over_time(title: str, field: str, unit: str) -> str:
        series = [
            _Series(name, colour, [(i.t, float(getattr(i, field))) for i in report.timeline])
            for name, colour, report in zip(names, colours, reports, strict=True)
        ]
        return _chart(title, series, "seconds since start", unit, x_range=(0.0, end), phases=rows)

    return [
        over_time("p99 latency over time (per second)", "p99_ms", "ms"),
        over_time("p50 latency over time (per second)", "p50_ms", "ms"),
        over_time("throughput over time", "rate", "answers/s"),
        over_time("connected stations over time", "connected", "stations"),
        over_time("connections opened over time (reconnect storms)", "connects", "per second"),
        over_time("errors over time (CALLERROR, invalid, lost)", "errors", "per second"),
        over_time("timeouts over time", "timeouts", "per second"),
    ]


def render_html(
    reports: Sequence[Report], labels: Sequence[str] | None = None, phase: str = DEFAULT_PHASE
) -> str:
    """The page for `reports` (overlaid when several); `labels` name them (default: name).

    Tables and latency spectra are of `phase` (default: the hold; "run" the whole run;
    see `fleet.metrics.phase_view`); "all": a table per phase and the whole run's, and the
    spectra of the whole run. The timeline charts are the whole run's, phases marked.

    Whatever the page shows of a report, it shows without secrets (`redact_report`).

    Raises:
        ValueError: no reports, not one label each, or no such phase in one of them.
    """
    if not reports:
        raise ValueError("no reports to show")
    reports = [redact_report(report) for report in reports]
    names = list(labels) if labels else [r.name for r in reports]
    if len(names) != len(reports):
        raise ValueError(f"{len(names)} labels for {len(reports)} reports")
    colours = [COLOURS[i % len(COLOURS)] for i in range(len(reports))]
    views = [_views(report, phase) for report in reports]
    # The spectra's phase: the tables' (for "all", the whole run's).
    spectra_views = [
        report if phase == "all" else shown[0] for report, shown in zip(reports, views, strict=True)
    ]
    sections = [
        _section(name, colour, report, shown)
        for name, colour, report, shown in zip(names, colours, reports, views, strict=True)
    ]
    spectra_title, spectra = _spectra(names, colours, spectra_views)
    timelines = _timelines(names, colours, reports)
    title = " vs ".join(names)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>ocpp-fleet: {_escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
        "caption{text-align:left;font-weight:600;padding:4px 0}"
        ".phase-title{font-weight:600;font-size:13px;margin:16px 0 0}"
        "td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}"
        ".counters th{font-weight:normal}"
        ".counters td:last-child{text-align:left;color:#555;font-size:12px;max-width:22em}"
        ".counters tr.sub th{padding-left:20px}tr.group th{border-bottom:none}"
        "tr.timing td:first-child{font-style:italic}td.none{color:#999}"
        ".csms td:nth-child(3),.csms td:last-child{text-align:left;font-size:12px}"
        ".campaigns td:nth-child(2),.campaigns td:nth-child(5){text-align:left}"
        ".chip{padding:1px 6px;border-radius:3px;white-space:nowrap}"
        ".warning{color:#b00;font-weight:600}.environment{color:#666;font-size:13px}"
        "li.fail{color:#b00}.verdict{display:inline-block;width:3em;font-weight:600}"
        ".phase{display:flex;flex-wrap:wrap;gap:0 24px;align-items:flex-start}"
        "figure{display:inline-block;margin:8px;vertical-align:top}"
        "figcaption{font-weight:600;font-size:14px}"
        f"svg text{{font-size:{FONT_PX}px}}"
        f"</style></head><body><h1>ocpp-fleet report: {_escape(title)}</h1>"
        f"{''.join(sections)}<h2>Charts</h2>"
        f"<h3>Latency by percentile: {_escape(spectra_title)}; dashed: response time</h3>"
        f"{''.join(spectra)}"
        "<h3>Over time: the whole run, per second, its phases above each chart</h3>"
        f"{''.join(timelines)}</body></html>\n"
    )
