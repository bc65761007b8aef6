"""`fleet report show | merge | compare`."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec

from fleet.metrics import Report, decode_histogram, format_summary, read_report, write_report
from fleet.report._analysis import Comparison, compare, merge, parse_bound
from fleet.report._html import render_html

__all__ = ["add_parser"]

# Exit codes: 0 fine; 2 bad input; 3 a --fail-on bound was broken (for CI).
EXIT_OK, EXIT_BAD_INPUT, EXIT_REGRESSION = 0, 2, 3


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("report", help="show, merge and compare run reports")
    commands = parser.add_subparsers(dest="report_command", metavar="COMMAND", required=True)

    show = commands.add_parser("show", help="a report's summary, or one action's spectrum")
    show.add_argument("report")
    form = show.add_mutually_exclusive_group()
    form.add_argument(
        "--spectrum",
        metavar="ACTION",
        help="the HdrHistogram percentile distribution of ACTION (.hgrm layout, ms); "
        "'connect' and 'boot' for those",
    )
    form.add_argument("--json", action="store_true", help="figures as JSON (no histograms)")
    form.add_argument("--csv", action="store_true", help="one CSV row per action")
    show.set_defaults(run=_guarded(_show))

    merged = commands.add_parser(
        "merge", help="join reports of one run's shards into one, histograms added exactly"
    )
    merged.add_argument("reports", nargs="+")
    merged.add_argument("-o", "--out", required=True, metavar="FILE")
    merged.add_argument("--name", help="the merged report's name (default: the first's)")
    merged.set_defaults(run=_guarded(_merge))

    page = commands.add_parser(
        "html", help="one self-contained HTML page with tables and charts (offline)"
    )
    page.add_argument("reports", nargs="+", help="one report, or several to overlay")
    page.add_argument("-o", "--out", required=True, metavar="FILE")
    page.set_defaults(run=_guarded(_html))

    compared = commands.add_parser(
        "compare", help="compare reports with the first one; --fail-on for CI"
    )
    compared.add_argument("reports", nargs="+", help="baseline first, then candidates")
    compared.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="BOUND",
        help="exit 3 when a candidate regresses past BOUND, e.g. p99+10%%, "
        "Heartbeat.p99+5ms, errors+0.1%% (points), throughput-5%%; repeatable",
    )
    compared.set_defaults(run=_guarded(_compare))


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Bad input (a missing or foreign report, a bad bound) is one line and exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ValueError as exc:
            print(f"fleet report: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT

    return run


def _load(paths: list[str]) -> list[Report]:
    return [read_report(path) for path in paths]


def _show(args: argparse.Namespace) -> int:
    report = read_report(args.report)
    if args.spectrum:
        if args.spectrum in ("connect", "boot"):
            encoded = getattr(report, args.spectrum).histogram
        elif args.spectrum in report.actions:
            encoded = report.actions[args.spectrum].latency.histogram
        else:
            known = ", ".join([*report.actions, "connect", "boot"])
            raise ValueError(f"no action {args.spectrum!r} in {args.report} (it has: {known})")
        buffer = io.BytesIO()
        decode_histogram(encoded).output_percentile_distribution(buffer, 1000)  # us -> ms
        sys.stdout.write(buffer.getvalue().decode())
        return EXIT_OK
    if args.json:
        figures = msgspec.to_builtins(report)
        for stats in figures["actions"].values():
            stats["latency"].pop("histogram")
        figures["connect"].pop("histogram")
        figures["boot"].pop("histogram")
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(figures)).decode() + "\n")
        return EXIT_OK
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(
            ["action", "sent", "answered", "errors", "invalid", "timeouts", "lost",
             "p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms", "mean_ms"]
        )  # fmt: skip
        for action, s in report.actions.items():
            lat = s.latency
            writer.writerow(
                [action, s.sent, s.answered, sum(s.errors.values()), s.invalid, s.timeouts, s.lost,
                 lat.p50_ms, lat.p90_ms, lat.p99_ms, lat.p99_9_ms, lat.max_ms, lat.mean_ms]
            )  # fmt: skip
        return EXIT_OK
    print(format_summary(report))
    return EXIT_OK


def _html(args: argparse.Namespace) -> int:
    reports = _load(args.reports)
    labels = [Path(path).stem for path in args.reports] if len(reports) > 1 else None
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(render_html(reports, labels), encoding="utf-8")
    print(f"wrote {args.out}")
    return EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    merged = merge(_load(args.reports), name=args.name)
    write_report(merged, args.out)
    print(format_summary(merged))
    print(f"merged {len(args.reports)} reports into {args.out}")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    bounds = [parse_bound(text) for text in args.fail_on]
    if len(args.reports) < 2:
        raise ValueError("compare needs a baseline and at least one other report")
    baseline, *candidates = _load(args.reports)
    regressions = 0
    for path, candidate in zip(args.reports[1:], candidates, strict=True):
        rows = compare(baseline, candidate, bounds)
        print(f"{args.reports[0]} -> {path}")
        print(_table(rows))
        broken = [row for row in rows if row.regressed_by]
        regressions += len(broken)
        for row in broken:
            print(
                f"REGRESSION {row.action} {row.metric}: {row.baseline:g} -> {row.candidate:g}"
                f" breaks {', '.join(row.regressed_by)}"
            )
        print()
    return EXIT_REGRESSION if regressions else EXIT_OK


def _table(rows: list[Comparison]) -> str:
    lines = [f"{'action':<30}{'metric':<12}{'baseline':>12}{'candidate':>12}{'change':>12}{'':>9}"]
    for row in rows:
        percent = "" if row.change_percent is None else f"{row.change_percent:+.1f}%"
        mark = "  <-- regression" if row.regressed_by else ""
        lines.append(
            f"{row.action:<30}{row.metric:<12}{row.baseline:>12,.3f}{row.candidate:>12,.3f}"
            f"{row.change:>+12,.3f}{percent:>9}{mark}"
        )
    return "\n".join(lines)
