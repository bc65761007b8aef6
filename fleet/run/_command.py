"""`fleet run PROFILE`: the main job."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
from pathlib import Path

import msgspec
import trio

from fleet.metrics import build_report, format_summary, write_report
from fleet.profile import Profile, ProfileError, load_profile
from fleet.report import check_thresholds, parse_thresholds, render_html
from fleet.run._live import LiveView
from fleet.run._orchestrator import FleetRun, plan_stations
from fleet.toolkit import ConnectError, client_ssl_context, open_station_websocket

__all__ = ["add_parser", "run"]

# Exit codes: 0 the run completed (and its thresholds passed); 1 it could not run (CSMS
# unreachable); 2 bad input; 4 a threshold of the profile failed.
EXIT_OK, EXIT_CANNOT_RUN, EXIT_BAD_INPUT, EXIT_THRESHOLDS_FAILED = 0, 1, 2, 4


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
    out = Path(args.out) if args.out else _default_report_path(profile)
    live = LiveView(
        interactive=False if args.quiet else None, plain_every=1e9 if args.quiet else 5.0
    )
    fleet_run = FleetRun(
        profile,
        on_tick=None if args.quiet else live,
        behaviour_path=str(Path(args.profile).resolve().parent),
    )
    try:
        trio.run(_main, fleet_run, live)
    except ConnectError as exc:
        print(f"fleet run: cannot reach the CSMS: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except ValueError as exc:  # e.g. a custom behaviour that cannot be imported
        print(f"fleet run: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    live.close()
    report = build_report(
        fleet_run.metrics,
        name=profile.name,
        profile=msgspec.to_builtins(profile),
        started_at=fleet_run.started_at_wall or dt.datetime.now(dt.UTC),
        ended_at=fleet_run.ended_at_wall or dt.datetime.now(dt.UTC),
        ended_monotonic=fleet_run.ended_at or 0.0,
        interrupted=fleet_run.interrupted,
        notes=_notes(fleet_run),
    )
    report = msgspec.structs.replace(report, thresholds=check_thresholds(thresholds, report))
    write_report(report, out)
    print(format_summary(report))
    print(f"report: {out}")
    if args.html:
        Path(args.html).parent.mkdir(parents=True, exist_ok=True)
        Path(args.html).write_text(render_html([report]), encoding="utf-8")
        print(f"html: {args.html}")
    if any(not result.passed for result in report.thresholds):
        return EXIT_THRESHOLDS_FAILED
    return EXIT_OK


async def _main(fleet_run: FleetRun, live: LiveView) -> None:
    if fleet_run.profile.csms != "embedded":
        await _preflight(fleet_run.profile)
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


async def _preflight(profile: Profile) -> None:
    """One connection before the ramp, so an unreachable CSMS is one clear error, not a run
    of thousands of failed connects."""
    first = plan_stations(profile)[0]
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
    return notes


def _default_report_path(profile: Profile) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Path("reports") / f"{profile.name}-{stamp}.json"
