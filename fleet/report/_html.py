"""One self-contained HTML page for one or more reports: tables and inline SVG charts.

No scripts, fonts or styles from anywhere else: the page works offline and in CI artifacts.
With several reports their curves are overlaid, one colour each, for comparison.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from fleet.metrics import DEFAULT_PHASE, Report, decode_histogram, describe_fault, phase_view
from fleet.metrics._report import redact_report

__all__ = ["render_html"]

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 36, 16, 40
# Percentile spectrum on the 1/(1-p) axis, as HdrHistogram's plots: 0 % to 99.999 %.
SPECTRUM_MAX_NINES = 5


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


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
        if start + i * step <= high * 1.0001
    ]


def _chart(
    title: str,
    series: Sequence[tuple[str, str, Sequence[tuple[float, float]]]],
    x_label: str,
    y_label: str,
    *,
    x_ticks: Sequence[tuple[float, str]] | None = None,
) -> str:
    """An SVG line chart. series: (label, colour, points)."""
    points = [p for _, _, pts in series for p in pts]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f"<figure><figcaption>{_escape(title)}</figcaption>"
        f'<svg class="chart" role="img" aria-label="{_escape(title)}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if not points:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data</text>')
        parts.append("</svg></figure>")
        return "".join(parts)
    x_low, x_high = min(p[0] for p in points), max(p[0] for p in points)
    y_high = max(p[1] for p in points) * 1.05 or 1.0
    x_high = x_high if x_high > x_low else x_low + 1

    def sx(x: float) -> float:
        return LEFT + (x - x_low) / (x_high - x_low) * plot_w

    def sy(y: float) -> float:
        return TOP + plot_h - y / y_high * plot_h

    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>'
    )
    for value in _ticks(0, y_high):
        y = sy(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    for value, label in x_ticks or [(v, f"{v:g}") for v in _ticks(x_low, x_high)]:
        x = sx(value)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#eee"/>'
        )
        y = TOP + plot_h + 16
        parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{_escape(label)}</text>')
    middle = LEFT + plot_w / 2
    parts.append(
        f'<text x="{middle}" y="{HEIGHT - 4}" text-anchor="middle">{_escape(x_label)}</text>'
    )
    parts.append(
        f'<text transform="translate(14 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">'
        f"{_escape(y_label)}</text>"
    )
    for i, (label, colour, pts) in enumerate(series):
        if pts:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            parts.append(
                f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="1.8" '
                f'points="{path}"><title>{_escape(label)}</title></polyline>'
            )
        parts.append(
            f'<text x="{LEFT + 8}" y="{TOP + 14 + 14 * i}" fill="{colour}">{_escape(label)}</text>'
        )
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


def _table(report: Report) -> str:
    rows = []
    for action, stats in report.actions.items():
        lat = stats.latency
        errors = sum(stats.errors.values()) + stats.invalid + stats.lost
        rows.append(
            f"<tr><td>{_escape(action)}</td><td>{stats.sent:,}</td><td>{stats.answered:,}</td>"
            f"<td>{errors:,}</td><td>{stats.timeouts:,}</td><td>{lat.p50_ms:,.2f}</td>"
            f"<td>{lat.p90_ms:,.2f}</td><td>{lat.p99_ms:,.2f}</td><td>{lat.p99_9_ms:,.2f}</td>"
            f"<td>{lat.max_ms:,.2f}</td></tr>"
        )
    return (
        "<table><thead><tr><th>action</th><th>sent</th><th>answered</th><th>errors</th>"
        "<th>timeouts</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th>"
        f"<th>max ms</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _faults(report: Report) -> str:
    if not report.faults:
        return ""
    items = "".join(f"<li>{_escape(describe_fault(fault).strip())}</li>" for fault in report.faults)
    return f"<p>Faults injected by the embedded CSMS:</p><ul>{items}</ul>"


def render_html(
    reports: Sequence[Report], labels: Sequence[str] | None = None, phase: str = DEFAULT_PHASE
) -> str:
    """The page for `reports` (overlaid when several); `labels` name them (default: name);
    the figures of `phase` (default: the hold; see `fleet.metrics.phase_view`).

    Whatever the page shows of a report, it shows without secrets (`redact_report`).
    """
    if not reports:
        raise ValueError("no reports to show")
    reports = [phase_view(redact_report(report), phase) for report in reports]
    names = list(labels) if labels else [r.name for r in reports]
    coloured = list(zip(names, COLOURS * (len(reports) // len(COLOURS) + 1), reports, strict=False))
    sections = []
    for name, colour, report in coloured:
        env = report.environment
        suspect = (
            '<p class="suspect">generator CPU above 90 %: latencies may measure the fleet</p>'
            if env.cpu_suspect
            else ""
        )
        sections.append(
            f'<section><h2 style="color:{colour}">{_escape(name)}</h2>'
            f"<p>{_escape(report.started_at.isoformat())} &ndash; {report.duration_s:,.1f} s, "
            f"{report.counters.connects:,} connects, sessions {report.counters.sessions_started:,}"
            f" started / {report.counters.sessions_stopped:,} stopped, generator CPU "
            f"{env.cpu_percent:.0f} %</p>{suspect}{_table(report)}{_faults(report)}</section>"
        )
    charts = []
    nines_ticks = [(float(n), f"{100 * (1 - 10**-n):g}%") for n in range(SPECTRUM_MAX_NINES + 1)]
    actions = sorted({a for r in reports for a in r.actions})
    for action in actions:
        series = [
            (name, colour, _spectrum(report.actions[action].latency.histogram))
            for name, colour, report in coloured
            if action in report.actions
        ]
        charts.append(
            _chart(f"{action}: latency by percentile", series, "percentile (1/(1-p) scale)",
                   "ms", x_ticks=nines_ticks)
        )  # fmt: skip

    def over_time(title: str, field: str, unit: str) -> str:
        series = [
            (name, colour, [(i.t, float(getattr(i, field))) for i in report.timeline])
            for name, colour, report in coloured
        ]
        return _chart(title, series, "seconds since start", unit)

    charts += [
        over_time("p99 latency over time (per second)", "p99_ms", "ms"),
        over_time("p50 latency over time (per second)", "p50_ms", "ms"),
        over_time("throughput over time", "rate", "answers/s"),
        over_time("connected stations over time", "connected", "stations"),
        over_time("connections opened over time (reconnect storms)", "connects", "per second"),
        over_time("errors over time (CALLERROR, invalid, lost)", "errors", "per second"),
        over_time("timeouts over time", "timeouts", "per second"),
    ]
    title = " vs ".join(names)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>ocpp-fleet: {_escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
        "td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}"
        "figure{display:inline-block;margin:8px}figcaption{font-weight:600;font-size:14px}"
        "svg text{font-size:11px}.suspect{color:#b00;font-weight:600}"
        f"</style></head><body><h1>ocpp-fleet report: {_escape(title)}</h1>"
        f"{''.join(sections)}<h2>Charts</h2>{''.join(charts)}</body></html>\n"
    )
