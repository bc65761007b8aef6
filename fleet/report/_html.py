"""One self-contained HTML page for one or more reports: tables and inline SVG charts.

No scripts, fonts or styles from anywhere else: the page works offline and in CI artifacts.
With several reports their curves are overlaid, one colour each, for comparison.

The page shows every figure of the text summary (`fleet.metrics.format_summary`), in the same
order and number format, and a little more (connect failures by reason, errors by code);
tests/test_html.py holds it to that.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from fleet.metrics import (
    DEFAULT_PHASE,
    WHOLE_RUN,
    LatencyStats,
    Report,
    decode_histogram,
    describe_fault,
    describe_threshold,
    phase_view,
)
from fleet.metrics._report import redact_report

__all__ = ["render_html"]

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
# The page's phase chips, by kind of phase.
PHASE_FILLS = {"ramp": "#d6e6f5", "hold": "#e2f0d9", "fault": "#f7d0cc", "drain": "#e4e4e4"}
OTHER_PHASE_FILL = "#efe4cc"
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 36, 16, 40
# Percentile spectrum on the 1/(1-p) axis, as HdrHistogram's plots: 0 % to 99.999 %.
SPECTRUM_MAX_NINES = 5


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def _ms(value: float) -> str:
    """A latency in ms as the text summary writes it: 12.3, or 1,234 from a second up."""
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _phase_fill(phase: str) -> str:
    return PHASE_FILLS.get(phase.split("-", 1)[0], OTHER_PHASE_FILL)


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
    header = (
        f"{report.started_at.isoformat()} to {report.ended_at.isoformat()}: "
        f"{report.duration_s:,.1f} s, {counters.connects:,} connects, "
        f"generator CPU {env.cpu_percent:.0f} %" + (" (interrupted)" if report.interrupted else "")
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
            f'<div class="phase">{_action_table(view)}{_counters(view)}</div>'
        )
    parts += [_faults(report), _thresholds(report)]
    notes = list(dict.fromkeys(note for view in [report, *views] for note in view.notes))
    parts += [f'<p class="note">note: {_escape(note)}</p>' for note in notes]
    parts.append("</section>")
    return "".join(parts)


def render_html(
    reports: Sequence[Report], labels: Sequence[str] | None = None, phase: str = DEFAULT_PHASE
) -> str:
    """The page for `reports` (overlaid when several); `labels` name them (default: name).

    Tables and latency spectra are of `phase` (default: the hold; "run" the whole run;
    see `fleet.metrics.phase_view`); "all": a table per phase and the whole run's, and the
    spectra of the whole run. The timeline charts are the whole run's.

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
    coloured = list(zip(names, colours, reports, strict=True))
    charts = []
    nines_ticks = [(float(n), f"{100 * (1 - 10**-n):g}%") for n in range(SPECTRUM_MAX_NINES + 1)]
    actions = sorted({a for view in spectra_views for a in view.actions})
    for action in actions:
        series = [
            (name, colour, _spectrum(view.actions[action].latency.histogram))
            for (name, colour, _), view in zip(coloured, spectra_views, strict=True)
            if action in view.actions
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
        "caption{text-align:left;font-weight:600;padding:4px 0}"
        ".phase-title{font-weight:600;font-size:13px;margin:16px 0 0}"
        "td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}"
        ".counters th{font-weight:normal}"
        ".counters td:last-child{text-align:left;color:#555;font-size:12px;max-width:22em}"
        ".counters tr.sub th{padding-left:20px}tr.group th{border-bottom:none}"
        "tr.timing td:first-child{font-style:italic}td.none{color:#999}"
        ".chip{padding:1px 6px;border-radius:3px;white-space:nowrap}"
        ".warning{color:#b00;font-weight:600}.environment{color:#666;font-size:13px}"
        "li.fail{color:#b00}.verdict{display:inline-block;width:3em;font-weight:600}"
        ".phase{display:flex;flex-wrap:wrap;gap:0 24px;align-items:flex-start}"
        "figure{display:inline-block;margin:8px;vertical-align:top}"
        "figcaption{font-weight:600;font-size:14px}"
        "svg text{font-size:11px}"
        f"</style></head><body><h1>ocpp-fleet report: {_escape(title)}</h1>"
        f"{''.join(sections)}<h2>Charts</h2>"
        f"{''.join(charts)}</body></html>\n"
    )
