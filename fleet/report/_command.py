"""`fleet report show | merge | compare`."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from hdrh.histogram import HdrHistogram

from fleet.metrics import (
    DEFAULT_PHASE,
    WHOLE_RUN,
    Report,
    decode_histogram,
    format_summary,
    phase_view,
    read_report,
    write_report,
)
from fleet.report._analysis import Comparison, check_mergeable, compare, merge, parse_bound
from fleet.report._html import render_html

__all__ = ["add_parser"]

# Exit codes: 0 fine; 2 bad input; 3 a --fail-on bound was broken (for CI).
EXIT_OK, EXIT_BAD_INPUT, EXIT_REGRESSION = 0, 2, 3


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("report", help="show, merge and compare run reports")
    commands = parser.add_subparsers(dest="report_command", metavar="COMMAND", required=True)

    show = commands.add_parser("show", help="reports' summaries, or one action's spectrum")
    show.add_argument("reports", nargs="+", metavar="report", help="one report or several")
    _add_phase(show)
    show.add_argument(
        "--response",
        action="store_true",
        help="with --spectrum: the response time (frame sent -> answer), not the latency "
        "from the intended send time",
    )
    show.add_argument(
        "--reaction",
        action="store_true",
        help="with --spectrum: a CSMS-initiated action's reaction time (from the request to "
        "what shows it done), not a station action's latency",
    )
    form = show.add_mutually_exclusive_group()
    form.add_argument(
        "--spectrum",
        metavar="ACTION",
        help="the HdrHistogram percentile distribution of ACTION (.hgrm layout, every value "
        "in ms); 'connect' and 'boot' for those",
    )
    form.add_argument("--json", action="store_true", help="figures as JSON (no histograms)")
    form.add_argument(
        "--csv",
        action="store_true",
        help="one CSV row per action (the stations' and, initiator csms, the CSMS's)",
    )
    show.set_defaults(run=_guarded(_show))

    merged = commands.add_parser(
        "merge", help="join reports of one run's shards into one, histograms added exactly"
    )
    merged.add_argument("reports", nargs="+")
    merged.add_argument("-o", "--out", required=True, metavar="FILE")
    merged.add_argument("--name", help="the merged report's name (default: the first's)")
    merged.add_argument(
        "--force",
        action="store_true",
        help="merge even the same run twice or runs of different profiles (counts add up "
        "regardless)",
    )
    merged.set_defaults(run=_guarded(_merge))

    page = commands.add_parser(
        "html", help="one self-contained HTML page with tables and charts (offline)"
    )
    page.add_argument("reports", nargs="+", help="one report, or several to overlay")
    page.add_argument("-o", "--out", required=True, metavar="FILE")
    _add_phase(page)
    page.set_defaults(run=_guarded(_html))

    compared = commands.add_parser(
        "compare", help="compare reports with the first one; --fail-on for CI"
    )
    compared.add_argument("reports", nargs="+", help="baseline first, then candidates")
    _add_phase(compared, every=False)
    compared.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="BOUND",
        help="exit 3 when a candidate regresses past BOUND, e.g. p99+10%%, "
        "Heartbeat.p99+5ms, response.p99+10%% (the response time), errors+0.1%% (points), "
        "throughput-5%%, SetChargingProfile.reaction.p99+20%% (a CSMS-initiated action's "
        "reaction time; answer.p99: the stations' time to answer it); repeatable. A figure "
        "the baseline has and a candidate has none of (the action gone, or no reaction "
        "came) breaks the bounds on it ('no samples in candidate'); one only a candidate "
        "has is shown ('no samples in baseline') and breaks nothing",
    )
    compared.set_defaults(run=_guarded(_compare))


def _add_phase(parser: argparse.ArgumentParser, *, every: bool = True) -> None:
    parser.add_argument(
        "--phase",
        default=DEFAULT_PHASE,
        metavar="PHASE",
        help="whose figures: hold (the steady state; default), ramp, drain, fault-N (a "
        "fault's window), run (the whole run)" + (", or all" if every else ""),
    )


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Bad input (a missing or foreign report, a bad bound, an output that cannot be
    written) is one line and exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ValueError as exc:
            print(f"fleet report: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except OSError as exc:  # reading errors are ValueErrors: this is writing -o/--out
            out = getattr(args, "out", None)
            if out is None:
                raise
            print(
                f"fleet report: --out {out}: cannot write: {exc.strerror or exc}", file=sys.stderr
            )
            return EXIT_BAD_INPUT

    return run


def _load(paths: list[str]) -> list[Report]:
    return [read_report(path) for path in paths]


def _show(args: argparse.Namespace) -> int:
    reports = _load(args.reports)
    for index, (path, report) in enumerate(zip(args.reports, reports, strict=True)):
        if len(reports) > 1:
            print(("\n" if index else "") + f"== {path}")
        _show_one(args, path, report)
    return EXIT_OK


def _bound(text: str) -> Any:
    try:
        return parse_bound(text)
    except ValueError as exc:
        raise ValueError(f"--fail-on: {exc}") from None


def _check_phase(phase: str, paths: list[str], reports: list[Report]) -> None:
    """A --phase that a report lacks is a usage error naming the flag and the report."""
    for path, report in zip(paths, reports, strict=True):
        if phase in ("all", WHOLE_RUN, DEFAULT_PHASE) or phase in report.phases:
            continue
        there = ", ".join([*report.phases, WHOLE_RUN, "all"]) if report.phases else WHOLE_RUN
        raise ValueError(f"--phase {phase}: no such phase in {path} (it has {there})")


def _show_one(args: argparse.Namespace, path: str, report: Report) -> None:
    _check_phase(args.phase, [path], [report])
    if args.response and (not args.spectrum or args.spectrum in ("connect", "boot")):
        raise ValueError("--response goes with --spectrum ACTION (an action's response time)")
    if args.phase == "all" and (args.spectrum or args.json or args.csv):
        raise ValueError("--phase all goes with the summary only; name one phase")
    view = phase_view(report, args.phase) if args.phase != "all" else report
    if args.reaction and (not args.spectrum or args.response):
        raise ValueError("--reaction goes with --spectrum ACTION (a CSMS action), not --response")
    if args.spectrum:
        what = "response" if args.response else "latency"
        if args.reaction:
            if args.spectrum not in view.csms:
                known = ", ".join(view.csms) or "none"
                raise ValueError(
                    f"--spectrum {args.spectrum} --reaction: no CSMS action {args.spectrum!r} "
                    f"in {path} ({view.phase} figures; it has: {known})"
                )
            encoded = view.csms[args.spectrum].reaction.histogram
        elif args.spectrum in ("connect", "boot"):
            encoded = getattr(view, args.spectrum).histogram
        elif args.spectrum in view.actions:
            stats = getattr(view.actions[args.spectrum], what)
            if stats is None:
                raise ValueError(f"{path}: no response times (a report before format 2)")
            encoded = stats.histogram
        else:
            known = ", ".join([*view.actions, "connect", "boot"])
            raise ValueError(
                f"--spectrum: no action {args.spectrum!r} in {path} "
                f"({view.phase} figures; it has: {known})"
            )
        histogram = decode_histogram(encoded)
        if not histogram.get_total_count():
            raise ValueError(
                f"--spectrum {args.spectrum}: no samples in the {view.phase} phase of {path} "
                "(--phase run: the whole run)"
            )
        sys.stdout.write(spectrum(histogram))
        return
    if args.json:
        figures = msgspec.to_builtins(view)
        _drop_histograms(figures)
        for phase in figures.get("phases", {}).values():
            _drop_histograms(phase)
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(figures)).decode() + "\n")
        return
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(
            ["action", "sent", "answered", "errors", "invalid", "timeouts", "lost",
             "p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms", "mean_ms",
             "response_p50_ms", "response_p90_ms", "response_p99_ms", "response_max_ms",
             "phase", "initiator", "answers", "answer_p50_ms", "answer_p99_ms",
             "reaction_count", "reaction_p50_ms", "reaction_p99_ms", "reaction_to"]
        )  # fmt: skip
        for action, s in view.actions.items():
            lat, resp = s.latency, s.response
            response = [resp.p50_ms, resp.p90_ms, resp.p99_ms, resp.max_ms] if resp else [""] * 4
            writer.writerow(
                [action, s.sent, s.answered, sum(s.errors.values()), s.invalid,
                 s.timeouts, s.lost, lat.p50_ms, lat.p90_ms, lat.p99_ms, lat.p99_9_ms,
                 lat.max_ms, lat.mean_ms, *response, view.phase, "station"]
                + [""] * 7
            )  # fmt: skip
        # CSMS-initiated actions: received in "sent" (the CSMS sent them), their answers
        # by status ("Accepted 4; Rejected 2"), answer and reaction times.
        for action, c in view.csms.items():
            answers = "; ".join(f"{answer} {count}" for answer, count in c.answers.items())
            writer.writerow(
                [action, c.received, *[""] * 15, view.phase, "csms", answers,
                 c.answer.p50_ms, c.answer.p99_ms, c.reaction.count,
                 c.reaction.p50_ms if c.reaction.count else "",
                 c.reaction.p99_ms if c.reaction.count else "", c.reaction_to]
            )  # fmt: skip
        return
    print(format_summary(report, args.phase))


def _drop_histograms(figures: dict[str, Any]) -> None:
    for stats in figures["actions"].values():
        stats["latency"].pop("histogram")
        if stats.get("response"):
            stats["response"].pop("histogram")
    figures["connect"].pop("histogram")
    figures["boot"].pop("histogram")
    for stats in figures.get("csms", {}).values():
        stats["answer"].pop("histogram")
        stats["reaction"].pop("histogram")
    for campaign in figures.get("campaigns", []):
        campaign["answer"].pop("histogram")


def spectrum(histogram: HdrHistogram, ticks_per_half_distance: int = 5) -> str:
    """HdrHistogram's percentile distribution (.hgrm layout, which HdrHistogram's plotters
    read), every value in milliseconds: the library's own output leaves the standard
    deviation in the recorded unit (microseconds)."""
    digits = histogram.significant_figures
    lines = [f"{'Value':>12} {'Percentile':>14} {'TotalCount':>10} {'1/(1-Percentile)':>14}", ""]
    for item in histogram.get_percentile_iterator(ticks_per_half_distance):
        value = item.value_iterated_to / 1000
        level = item.percentile_level_iterated_to
        line = f"{value:12.{digits}f} {level / 100:2.12f} {item.total_count_to_this_value:10d}"
        lines.append(line + (f" {1 / (1 - level / 100):14.2f}" if level != 100 else ""))
    mean = histogram.get_mean_value() / 1000
    stddev = histogram.get_stddev() / 1000
    biggest = histogram.get_max_value() / 1000
    lines += [
        f"#[Mean    = {mean:12.{digits}f}, StdDeviation   = {stddev:12.{digits}f}]",
        f"#[Max     = {biggest:12.{digits}f}, TotalCount     = "
        f"{float(histogram.get_total_count()):12.{digits}f}]",
        f"#[Buckets = {histogram.bucket_count:12d}, SubBuckets     = "
        f"{histogram.sub_bucket_count:12d}]",
        "#[Unit    = ms]",
    ]
    return "\n".join(lines) + "\n"


def _html(args: argparse.Namespace) -> int:
    reports = _load(args.reports)
    _check_phase(args.phase, args.reports, reports)
    labels = [Path(path).stem for path in args.reports] if len(reports) > 1 else None
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(render_html(reports, labels, phase=args.phase), encoding="utf-8")
    print(f"wrote {args.out}")
    return EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    reports = _load(args.reports)
    if not args.force:
        check_mergeable(reports, args.reports)
    merged = merge(reports, name=args.name, force=True)
    write_report(merged, args.out)
    print(format_summary(merged))
    print(f"merged {len(args.reports)} reports into {args.out}")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    bounds = [_bound(text) for text in args.fail_on]
    if len(args.reports) < 2:
        raise ValueError("compare needs a baseline and at least one other report")
    reports = _load(args.reports)
    if args.phase == "all":
        raise ValueError("--phase all: compare one phase at a time (hold, ramp, drain, run...)")
    _check_phase(args.phase, args.reports, reports)
    baseline, *candidates = (phase_view(report, args.phase) for report in reports)
    known = {
        action for report in (baseline, *candidates) for action in (*report.actions, *report.csms)
    }
    for bound in bounds:
        if bound.action is not None and bound.action not in known:
            raise ValueError(
                f"--fail-on {bound.text}: no action {bound.action!r} in these reports "
                f"({', '.join(sorted(known))}); a bound that is never checked passes silently"
            )
    regressions = 0
    for path, candidate in zip(args.reports[1:], candidates, strict=True):
        rows = compare(baseline, candidate, bounds)
        print(f"{args.reports[0]} -> {path} ({baseline.phase} phase; latency in ms)")
        print(_table(rows))
        broken = [row for row in rows if row.regressed_by]
        regressions += len(broken)
        for row in broken:
            figures = (
                row.note if row.candidate is None else f"{row.baseline:g} -> {row.candidate:g}"
            )
            print(
                f"REGRESSION {row.action} {row.metric}: {figures}"
                f" breaks {', '.join(row.regressed_by)}"
            )
        print()
    return EXIT_REGRESSION if regressions else EXIT_OK


def _table(rows: list[Comparison]) -> str:
    lines = [f"{'action':<30}{'metric':<15}{'baseline':>12}{'candidate':>12}{'change':>12}{'':>9}"]
    for row in rows:
        percent = "" if row.change_percent is None else f"{row.change_percent:+.1f}%"
        mark = "  <-- regression" if row.regressed_by else ""
        old = "-" if row.baseline is None else f"{row.baseline:,.3f}"
        new = "-" if row.candidate is None else f"{row.candidate:,.3f}"
        change = f"  {row.note}" if row.change is None else f"{row.change:>+12,.3f}{percent:>9}"
        lines.append(f"{row.action:<30}{row.metric:<15}{old:>12}{new:>12}{change}{mark}")
    return "\n".join(lines)
