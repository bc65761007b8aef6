"""`fleet run PROFILE`: the main job."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import msgspec
import trio

from fleet._options import DURATION_FORMS, duration_option
from fleet.metrics import Interval, Report, build_report, format_summary
from fleet.profile import Profile, ProfileError, load_profile, secret_values
from fleet.report import Threshold, check_thresholds, parse_thresholds, render_html
from fleet.run._live import LiveView
from fleet.run._orchestrator import FleetRun, Shard, plan_stations
from fleet.run._outputs import RunLog, RunOutputs
from fleet.run._protocol import FaultsHeard
from fleet.run._workers import WorkersRun, cpu_count, merge_worker_reports
from fleet.toolkit import (
    ConnectError,
    HandshakeRejected,
    client_ssl_context,
    open_station_websocket,
)

__all__ = ["add_parser", "run"]

# Exit codes, distinct so that CI can tell one ending from another (README, "Exit codes").
EXIT_OK = 0  # the run completed and its thresholds passed
EXIT_CANNOT_RUN = 1  # the CSMS could not be reached
EXIT_BAD_INPUT = 2  # a bad profile, flag or output path: nothing ran
EXIT_THRESHOLDS_FAILED = 4  # a threshold of the profile failed
EXIT_WORKER_DIED = 5  # a worker process died (the report has the others)
EXIT_CREDENTIALS_REFUSED = 6  # the CSMS refused the credentials (HTTP 401 or 403)
EXIT_STOPPED_EARLY = 7  # too many stations faulted ([station_faults] stop_share)
EXIT_INTERNAL_ERROR = 70  # a bug of ours ended the run (sysexits' EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2, as shells report it
EXIT_TERMINATED = 143  # SIGTERM: 128 + 15
_SIGNAL_EXITS = {"SIGINT": EXIT_INTERRUPTED, "SIGTERM": EXIT_TERMINATED}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a load-test profile against a CSMS",
        description="Ramp up the profile's simulated stations against a CSMS (or the embedded "
        "one), hold them for the run's duration, and write a report of per-action latency, "
        "errors and throughput. Ctrl-C stops early and still writes the report.",
        epilog="exit codes: 0 completed; 1 CSMS unreachable; 2 bad input; 4 a threshold "
        "failed; 5 a worker died; 6 credentials refused; 7 stopped early (station faults); "
        "70 internal error; 130 interrupted (SIGINT); 143 SIGTERM",
    )
    parser.add_argument("profile", help="the profile, a TOML file (see profiles/)")
    parser.add_argument("--csms", metavar="URL", help='CSMS URL, or "embedded"')
    parser.add_argument("--stations", type=int, metavar="N", help="number of stations")
    parser.add_argument("--duration", metavar="DURATION", help=f"run duration: {DURATION_FORMS}")
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
    with _signals_deferred():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        duration = None if args.duration is None else duration_option("--duration", args.duration)
    except ValueError as exc:
        print(f"fleet run: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        profile = load_profile(args.profile).with_overrides(
            csms=args.csms, stations=args.stations, duration=duration
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
    outputs = RunOutputs(out, Path(args.html) if args.html else None, secret_values(profile))
    # Before anything runs: results that cannot be written would be a whole run lost.
    problem = outputs.check("--out" if args.out else "the report folder")
    if problem is not None:
        print(f"fleet run: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if workers > 1:
        return _run_workers(args, profile, thresholds, shard, workers, outputs)
    if args.worker_stream:  # a worker of --workers: its intervals go to the parent
        encode = msgspec.json.Encoder().encode
        stdout = sys.stdout.buffer

        def stream(interval: Interval, run: FleetRun) -> None:
            stdout.write(encode(interval) + b"\n")
            stdout.flush()

        # The parent checked the CSMS once: a worker's check could knock out a station of
        # another worker that is already running.
        with RunLog() as log:
            outcome = _run_one(
                args,
                profile,
                shard,
                stream,
                LiveView(interactive=False),
                preflight=False,
                faults_on_stdin=True,  # the parent tells of the faults it injects
            )
        if isinstance(outcome, int):
            return outcome
        # The parent checks, shows and keeps the merged report (and reads the log).
        fleet_run, failure = outcome
        report = _report_of(fleet_run, failure)
        outputs.write_report(report)
        outputs.write_log(log, fleet_run.metrics.fault_tracebacks, report.counters.station_faults)
        return _ending_code(fleet_run, failure)
    live = LiveView(
        interactive=False if args.quiet else None, plain_every=1e9 if args.quiet else 5.0
    )
    with RunLog() as log:
        outcome = _run_one(args, profile, shard, None if args.quiet else live, live)
    live.close()
    if isinstance(outcome, int):
        return outcome
    fleet_run, failure = outcome
    report = _report_of(fleet_run, failure)
    code = _finish(report, thresholds, outputs, log, fleet_run.metrics.fault_tracebacks)
    ending = _ending_code(fleet_run, failure)
    return ending if ending != EXIT_OK else code


def _run_one(
    args: argparse.Namespace,
    profile: Profile,
    shard: Shard | None,
    on_tick: Callable[[Interval, FleetRun], None] | None,
    live: LiveView,
    *,
    preflight: bool = True,
    faults_on_stdin: bool = False,
) -> tuple[FleetRun, BaseException | None] | int:
    """Run in this process: the run (and the exception that ended it, if any), or the exit
    code of a run that could not start. A run that started always comes back, so that its
    report is written: cut short by a signal, or by an exception of ours."""
    fleet_run = FleetRun(
        profile,
        on_tick=on_tick,
        behaviour_path=str(Path(args.profile).resolve().parent),
        shard=shard,
    )
    try:
        try:
            trio.run(_main, fleet_run, live, preflight, faults_on_stdin)
        except BaseExceptionGroup as group:  # one failure, through our nurseries
            raise _sole(group) from None
    except ConnectError as exc:
        return _cannot_connect(exc)
    except KeyboardInterrupt:  # cannot happen with signals deferred; if it does, it is one
        fleet_run.interrupted_by = fleet_run.interrupted_by or "SIGINT"
        fleet_run.interrupted = True
    except ValueError as exc:  # before the start: e.g. a custom behaviour that cannot import
        if not fleet_run.started:  # the profile's doing: name it, as a ProfileError does
            print(f"fleet run: {args.profile}: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return fleet_run, exc
    except Exception as exc:
        if not fleet_run.started:
            logging.getLogger("fleet").error("the run failed before it began", exc_info=exc)
            print(
                f"fleet run: internal error before the run began: {_describe(exc)}",
                file=sys.stderr,
            )
            return EXIT_INTERNAL_ERROR
        return fleet_run, exc
    if not fleet_run.started and fleet_run.interrupted_by:
        print(f"fleet run: {fleet_run.interrupted_by} before the run began", file=sys.stderr)
        return _SIGNAL_EXITS.get(fleet_run.interrupted_by, EXIT_INTERRUPTED)
    return fleet_run, None


def _cannot_connect(exc: ConnectError) -> int:
    """The preflight connection failed: one line, and the exit code."""
    if isinstance(exc, HandshakeRejected) and exc.status_code in (401, 403):
        print(
            f"fleet run: the CSMS refused the credentials (HTTP {exc.status_code}): "
            "check [auth] in the profile",
            file=sys.stderr,
        )
        return EXIT_CREDENTIALS_REFUSED
    print(f"fleet run: csms: {exc}", file=sys.stderr)  # the field (or --csms) it is about
    return EXIT_CANNOT_RUN


def _sole(exc: BaseException) -> BaseException:
    """The one exception inside nested single-exception groups, or `exc` itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _describe(exc: BaseException) -> str:
    exc = _sole(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _ending_code(fleet_run: FleetRun, failure: BaseException | None) -> int:
    """The exit code of how the run ended (a threshold's verdict aside)."""
    if failure is not None:
        return EXIT_INTERNAL_ERROR
    if fleet_run.interrupted:
        return _SIGNAL_EXITS.get(fleet_run.interrupted_by or "", EXIT_INTERRUPTED)
    if fleet_run.stopped_early:
        return EXIT_STOPPED_EARLY
    return EXIT_OK


def _report_of(fleet_run: FleetRun, failure: BaseException | None = None) -> Report:
    if failure is not None:
        # Its traceback goes to the log with the station faults'.
        fleet_run.metrics.fault_tracebacks["internal error"] = "".join(
            traceback.format_exception(failure)
        )
    return build_report(
        fleet_run.metrics,
        name=fleet_run.profile.name,
        profile=msgspec.to_builtins(fleet_run.profile),
        started_at=fleet_run.started_at_wall or dt.datetime.now(dt.UTC),
        ended_at=fleet_run.ended_at_wall or dt.datetime.now(dt.UTC),
        ended_monotonic=fleet_run.ended_at or 0.0,
        interrupted=fleet_run.interrupted,
        notes=_notes(fleet_run, failure),
        campaigns=fleet_run.campaign_stats(),
    )


def _finish(
    report: Report,
    thresholds: list[Threshold],
    outputs: RunOutputs,
    log: RunLog | None,
    tracebacks: Mapping[str, str],
    more_log: list[str] | None = None,
) -> int:
    """Check the thresholds, write the report (page, log), print the summary; the exit code
    of the thresholds' verdict."""
    report = msgspec.structs.replace(report, thresholds=check_thresholds(thresholds, report))
    out = outputs.write_report(report)
    print(format_summary(report))
    print(f"report: {out}")
    html = outputs.write_html(render_html([report]))
    if html is not None:
        print(f"html: {html}")
    written = outputs.write_log(log, tracebacks, report.counters.station_faults, more_log)
    if written is not None:
        print(f"log: {written} (warnings and the first traceback of each station fault)")
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
    outputs: RunOutputs,
) -> int:
    if profile.csms != "embedded":
        try:
            trio.run(_preflight, profile, shard)
        except ConnectError as exc:
            return _cannot_connect(exc)
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
    with RunLog() as log:
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
        code = outcomes[0].exit_code
        if code in (EXIT_BAD_INPUT, EXIT_CREDENTIALS_REFUSED, EXIT_INTERRUPTED):
            return code
        return EXIT_CANNOT_RUN
    report = merge_worker_reports(run, profile.name)
    worker_logs = [
        f"-- worker {o.shard}:\n{o.log_text}" for o in outcomes if o.log_text is not None
    ]
    code = _finish(report, thresholds, outputs, log, {}, worker_logs)
    if any(outcome.died for outcome in outcomes):
        for outcome in outcomes:
            if outcome.died:
                print(f"fleet run: {outcome.describe()}", file=sys.stderr)
        return EXIT_WORKER_DIED
    if run.interrupted:
        return _SIGNAL_EXITS.get(run.interrupted_by or "", EXIT_INTERRUPTED)
    worst = max((o.exit_code or 0 for o in outcomes), default=0)
    if worst in (EXIT_STOPPED_EARLY, EXIT_INTERNAL_ERROR):
        return worst
    return code


_HEARD_ENCODER = msgspec.json.Encoder()


def _say_heard(count: int) -> None:
    # A worker tells its parent (on the stdout its intervals go to) that it heard a fault.
    sys.stdout.buffer.write(_HEARD_ENCODER.encode(FaultsHeard(count)) + b"\n")
    sys.stdout.buffer.flush()


async def _main(
    fleet_run: FleetRun, live: LiveView, preflight: bool = True, faults_on_stdin: bool = False
) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:

            async def watch_signals() -> None:
                async for signum in signals:
                    name = signal.Signals(signum).name
                    if not fleet_run.started:  # nothing measured yet: nothing to drain
                        fleet_run.interrupted_by = name
                        nursery.cancel_scope.cancel(reason=name)
                    elif not fleet_run.interrupted:
                        live.message(f"{name}: stopping: the stations wind down (again to quit)")
                        fleet_run.interrupted_by = name
                        fleet_run.stop(f"interrupted by {name}")
                    else:
                        live.message(f"{name} again: quitting now; the report has it all")
                        fleet_run.quit()
                        nursery.cancel_scope.cancel(reason="second signal")

            nursery.start_soon(watch_signals)
            if faults_on_stdin:
                stdin = trio.lowlevel.FdStream(os.dup(0))
                nursery.start_soon(fleet_run.hear_faults, stdin, _say_heard)
            if preflight and fleet_run.profile.csms != "embedded":
                await _preflight(fleet_run.profile, fleet_run.shard)
            await fleet_run.run()
            nursery.cancel_scope.cancel(reason="run over")


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM do nothing within (trio's receivers take them while a run is on):
    a late Ctrl-C must not cut the report's writing short. A Python handler, not SIG_IGN,
    which worker processes would inherit."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in saved:
        signal.signal(signum, lambda *_: None)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


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


def _notes(fleet_run: FleetRun, failure: BaseException | None = None) -> list[str]:
    notes = []
    if failure is not None:
        notes.append(f"incomplete: internal error: {_describe(failure)}")
    if fleet_run.interrupted:
        by = f" by {fleet_run.interrupted_by}" if fleet_run.interrupted_by else ""
        notes.append(f"the run was interrupted{by} before its planned end")
    if fleet_run.quit_at is not None:
        notes.append(
            "quit at once on a second signal: connections were cut, not drained; calls cut "
            "short count as lost"
        )
    if fleet_run.stopped_early:
        notes.append(fleet_run.stopped_early)
    if not fleet_run.drained:
        metrics = fleet_run.metrics
        still_open = metrics.sessions_started - metrics.sessions_stopped
        notes.append(
            "some stations did not finish within the drain timeout and were cancelled"
            + (f"; {still_open:,} sessions were still open" if still_open > 0 else "")
        )
    if fleet_run.profile.end.mode == "disconnect" and fleet_run.drained:
        metrics = fleet_run.metrics
        still_open = metrics.sessions_started - metrics.sessions_stopped
        if still_open > 0:
            notes.append(
                f'[end] mode = "disconnect": the stations dropped their connections with '
                f"{still_open:,} sessions open, as a power cut would"
            )
    if fleet_run.profile.csms == "embedded":
        notes.append("the embedded CSMS ran in the same process as the fleet")
    notes.extend(fleet_run.campaign_notes())
    if fleet_run.shard is not None:
        notes.append(f"shard {fleet_run.shard} of the stations")
    return notes


def _default_report_path(profile: Profile, shard: Shard | None = None) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    part = f"-shard-{shard.index}-of-{shard.count}" if shard is not None else ""
    return Path("reports") / f"{profile.name}-{stamp}{part}.json"
