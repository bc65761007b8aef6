"""`fleet run PROFILE`: the main job."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec
import trio

from fleet.metrics import Interval, Report, build_report, format_summary, write_report
from fleet.profile import Profile, ProfileError, load_profile
from fleet.report import Threshold, check_thresholds, parse_thresholds, render_html
from fleet.run._live import LiveView
from fleet.run._orchestrator import FleetRun, Shard, plan_stations
from fleet.run._workers import WorkersRun, cpu_count, merge_worker_reports
from fleet.toolkit import ConnectError, client_ssl_context, open_station_websocket

__all__ = ["add_parser", "run"]

# Exit codes: 0 the run completed (and its thresholds passed); 1 it could not run (CSMS
# unreachable); 2 bad input; 4 a threshold of the profile failed; 5 a worker died (the
# report has the others).
EXIT_OK, EXIT_CANNOT_RUN, EXIT_BAD_INPUT, EXIT_THRESHOLDS_FAILED = 0, 1, 2, 4
EXIT_WORKER_DIED = 5


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a load-test profile against a CSMS",
        description="Ramp up the profile's simulated stations against a CSMS (or the embedded "
        "one), hold them for the run's duration, and write a report of per-action latency, "
        "errors and throughput. Ctrl-C stops early and still writes the report.",
    )
    parser.add_argument("profile", help="the profile, a TOML file (see profiles/)")
    parser.add_argument("--csms", metavar="URL", help='CSMS URL, or "embedded"')
    parser.add_argument("--stations", type=int, metavar="N", help="number of stations")
    parser.add_argument("--duration", type=float, metavar="S", help="run duration in seconds")
    parser.add_argument(
        "--out", metavar="FILE", help="report file (default: reports/NAME-TIME.json)"
    )
    parser.add_argument("--html", metavar="FILE", help="also write the HTML report here")
    parser.add_argument("--quiet", action="store_true", help="no live view")
    parser.add_argument(
        "--workers",
        metavar="N",
        default="1",
        help='worker processes, each its own shard of the stations ("auto": one per core; '
        "default 1)",
    )
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="run only shard I of N of the stations (one machine of several; then "
        "`fleet report merge` the shards' reports)",
    )
    # A worker of --workers: streams its intervals to the parent as JSON lines on stdout.
    parser.add_argument("--worker-stream", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        profile = load_profile(args.profile).with_overrides(
            csms=args.csms, stations=args.stations, duration=args.duration
        )
        thresholds = parse_thresholds(profile.thresholds)
    except ProfileError as exc:
        print(f"fleet run: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:  # a threshold that does not parse
        print(f"fleet run: {args.profile}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        shard = Shard.parse(args.shard) if args.shard else None
    except ValueError as exc:
        print(f"fleet run: --shard: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        workers = _worker_count(args.workers)
    except ValueError as exc:
        print(f"fleet run: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else _default_report_path(profile, shard)
    if workers > 1:
        return _run_workers(args, profile, thresholds, shard, workers, out)
    if args.worker_stream:  # a worker of --workers: its intervals go to the parent
        encode = msgspec.json.Encoder().encode
        stdout = sys.stdout.buffer

        def stream(interval: Interval, run: FleetRun) -> None:
            stdout.write(encode(interval) + b"\n")
            stdout.flush()

        # The parent checked the CSMS once: a worker's check could knock out a station of
        # another worker that is already running.
        outcome = _run_one(
            args, profile, shard, stream, LiveView(interactive=False), preflight=False
        )
        if isinstance(outcome, int):
            return outcome
        write_report(_report_of(outcome), out)  # the parent checks and shows the merged one
        return EXIT_OK
    live = LiveView(
        interactive=False if args.quiet else None, plain_every=1e9 if args.quiet else 5.0
    )
    outcome = _run_one(args, profile, shard, None if args.quiet else live, live)
    if isinstance(outcome, int):
        return outcome
    live.close()
    return _finish(_report_of(outcome), thresholds, out, args.html)


def _run_one(
    args: argparse.Namespace,
    profile: Profile,
    shard: Shard | None,
    on_tick: Callable[[Interval, FleetRun], None] | None,
    live: LiveView,
    *,
    preflight: bool = True,
) -> FleetRun | int:
    """Run in this process: the finished run, or the exit code of a run that could not run."""
    fleet_run = FleetRun(
        profile,
        on_tick=on_tick,
        behaviour_path=str(Path(args.profile).resolve().parent),
        shard=shard,
    )
    try:
        trio.run(_main, fleet_run, live, preflight)
    except ConnectError as exc:
        print(f"fleet run: cannot reach the CSMS: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except ValueError as exc:  # e.g. a custom behaviour that cannot be imported
        print(f"fleet run: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return fleet_run


def _report_of(fleet_run: FleetRun) -> Report:
    return build_report(
        fleet_run.metrics,
        name=fleet_run.profile.name,
        profile=msgspec.to_builtins(fleet_run.profile),
        started_at=fleet_run.started_at_wall or dt.datetime.now(dt.UTC),
        ended_at=fleet_run.ended_at_wall or dt.datetime.now(dt.UTC),
        ended_monotonic=fleet_run.ended_at or 0.0,
        interrupted=fleet_run.interrupted,
        notes=_notes(fleet_run),
    )


def _finish(report: Report, thresholds: list[Threshold], out: Path, html: str | None) -> int:
    """Check the thresholds, write the report (and page), print the summary; the exit code."""
    report = msgspec.structs.replace(report, thresholds=check_thresholds(thresholds, report))
    write_report(report, out)
    print(format_summary(report))
    print(f"report: {out}")
    if html:
        Path(html).parent.mkdir(parents=True, exist_ok=True)
        Path(html).write_text(render_html([report]), encoding="utf-8")
        print(f"html: {html}")
    if any(not result.passed for result in report.thresholds):
        return EXIT_THRESHOLDS_FAILED
    return EXIT_OK


def _worker_count(text: str) -> int:
    if text == "auto":
        return cpu_count()
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f'--workers: expected a number >= 1 or "auto", got {text!r}')
    return count


def _run_workers(
    args: argparse.Namespace,
    profile: Profile,
    thresholds: list[Threshold],
    shard: Shard | None,
    workers: int,
    out: Path,
) -> int:
    if profile.csms != "embedded":
        try:
            trio.run(_preflight, profile, shard)
        except ConnectError as exc:
            print(f"fleet run: cannot reach the CSMS: {exc}", file=sys.stderr)
            return EXIT_CANNOT_RUN
    live = LiveView(
        interactive=False if args.quiet else None, plain_every=1e9 if args.quiet else 5.0
    )
    overrides = []
    if args.stations is not None:
        overrides += ["--stations", str(args.stations)]
    if args.duration is not None:
        overrides += ["--duration", str(args.duration)]
    run = WorkersRun(
        profile,
        args.profile,
        workers,
        shard=shard,
        overrides=overrides,
        on_tick=None if args.quiet else live,
    )
    try:
        outcomes = trio.run(run.run)
    except OSError as exc:  # e.g. the embedded CSMS cannot listen
        print(f"fleet run: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    live.close()
    if all(outcome.died for outcome in outcomes):
        # They could not run (the same reason each, as a rule): say it once, with its code.
        first = next((o.stderr_tail[-1] for o in outcomes if o.stderr_tail), None)
        print(first or f"fleet run: every worker failed: {outcomes[0].describe()}", file=sys.stderr)
        bad_input = outcomes[0].exit_code == EXIT_BAD_INPUT
        return EXIT_BAD_INPUT if bad_input else EXIT_CANNOT_RUN
    report = merge_worker_reports(run, profile.name)
    code = _finish(report, thresholds, out, args.html)
    if any(outcome.died for outcome in outcomes):
        for outcome in outcomes:
            if outcome.died:
                print(f"fleet run: {outcome.describe()}", file=sys.stderr)
        return EXIT_WORKER_DIED
    return code


async def _main(fleet_run: FleetRun, live: LiveView, preflight: bool = True) -> None:
    if preflight and fleet_run.profile.csms != "embedded":
        await _preflight(fleet_run.profile, fleet_run.shard)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:

            async def watch_signals() -> None:
                async for signum in signals:
                    if not fleet_run.interrupted:
                        name = signal.Signals(signum).name
                        live.message(
                            f"{name}: stopping the ramp, draining stations (again to quit)"
                        )
                        fleet_run.stop(f"interrupted by {name}")
                    else:
                        nursery.cancel_scope.cancel(reason="second signal")

            nursery.start_soon(watch_signals)
            await fleet_run.run()
            nursery.cancel_scope.cancel(reason="run over")


async def _preflight(profile: Profile, shard: Shard | None = None) -> None:
    """One connection before the ramp, so an unreachable CSMS is one clear error, not a run
    of thousands of failed connects. It is the first station's (of this shard), before that
    station connects for real: never one that is already running elsewhere."""
    plans = plan_stations(profile)
    first = next(plan for plan in plans if shard is None or plan.index in shard)
    tls = profile.tls
    context = None
    if profile.csms.startswith("wss://"):
        context = client_ssl_context(tls.ca_file, tls.client_cert, tls.client_key)
    password = profile.auth.password
    if password is not None:
        password = password.replace("{station}", first.station_id)
    async with open_station_websocket(
        profile.csms,
        first.station_id,
        first.version,
        password=password,
        username=profile.auth.username,
        ssl_context=context,
        connect_timeout=profile.timeouts.connect,
    ):
        pass


def _notes(fleet_run: FleetRun) -> list[str]:
    notes = []
    if fleet_run.interrupted:
        notes.append("the run was interrupted before its planned end")
    if not fleet_run.drained:
        notes.append("some stations did not finish within the drain timeout and were cancelled")
    if fleet_run.profile.csms == "embedded":
        notes.append("the embedded CSMS ran in the same process as the fleet")
    if fleet_run.shard is not None:
        notes.append(f"shard {fleet_run.shard} of the stations")
    return notes


def _default_report_path(profile: Profile, shard: Shard | None = None) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    part = f"-shard-{shard.index}-of-{shard.count}" if shard is not None else ""
    return Path("reports") / f"{profile.name}-{stamp}{part}.json"
