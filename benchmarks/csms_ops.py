"""CSMS operations: a smart-charging campaign to every station, what each call costs the fleet
and how soon the stations react (issue 15).

The stations are those of ``benchmarks/csms_ops.toml`` (5,000, half OCPP 1.6, half 2.0.1, one
connector each, charging at 11-22 kW from just after the ramp to the end, a meter value
every 10 s) in a fleet worker process (`FleetRun`), against the embedded CSMS the
profile describes in a process of its own (``_csms_campaigns.py``), which holds the profile's
two campaigns: SetChargingProfile, a 7 kW TxDefaultProfile on EVSE / connector 0, to every
station at 500 calls/s; then ClearChargingProfile of that profile, at the same pace. Each
change moves every session's power (7 kW is below every EV's), so every call has a reaction.

Once every station is booted and charging, the worker measures windows of equal length in
turn: quiet (meter values only), a campaign (the CSMS starts its next campaign as the window
opens: Set, then Clear), quiet, the other campaign, ... , quiet. The window is long enough
for the whole campaign (stations / rate, plus 2 s) and a whole number of meter intervals, so
each window holds the same meter-value load.

**CPU per CSMS-initiated operation** is the fleet process's CPU-seconds (user + system) in a
campaign window, less what the same process spent at the rate of the quiet windows on either
side of it (their mean CPU share times the window's length), divided by the calls the stations
received in the window. What is left is what the calls added: receiving, decoding and
validating the request, the profile store, recomputing each session's limit, the answer's
encoding and sending, and on a 2.0.1 station the TransactionEvent Updated (triggerReason
ChargingRateChanged) it sends at once with the reading at the new rate, and its answer (one
more round trip per 2.0.1 call). The CSMS process's CPU per call is figured the same way. The
figure is the median over the rounds, per action; the fleet's CPU per station-initiated
round trip in the quiet windows (meter values: all CPU over all answers) is shown beside it.

**Answer times** are the stations' own time to answer (from the report's section for
CSMS-initiated operations: the CALL's arrival to its answer's send) and the CSMS's (from its
send to the answer's arrival, `fleet.csms.CampaignRecord`). **Reaction times** (the report's
section again) run from a request's arrival to the first meter value at the new power: at once
on a 2.0.1 station (its ChargingRateChanged event), the next periodic sample on a 1.6 one (0-10
s with a meter value every 10 s); what lies beyond 10 s is the fleet's delay, counted apart.

Run: ``python -m benchmarks.csms_ops [--quick] [--stations N] [--rounds N] [--window S]
[--out FILE | --update-results]``. Prints a table; writes csms_ops.json to a new folder under
~/.cache/ocpp-fleet/benchmarks/, to FILE, or with --update-results to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import collections
import math
import statistics
import time
from pathlib import Path
from typing import Any

import msgspec

from benchmarks._common import (
    BENCHMARKS,
    PYTHON,
    Target,
    add_output_arguments,
    output_path,
    print_table,
    print_targets,
    raise_open_files_limit,
    run_worker,
    server_process,
    write_result,
)
from fleet.metrics import decode_histogram
from fleet.profile import Profile, load_profile

NAME = "csms_ops"
PROFILE = BENCHMARKS / "csms_ops.toml"
# A campaign window lasts its calls (stations / rate) and this much more, for the answers.
SLACK = 2.0
# Sessions start this long (s) after the ramp's end, spread over a meter interval: started
# during the ramp, their first answers come late and in bunches, and so would their meter
# values for the rest of the run (measured at 1,000 stations: half of them in one second of
# five). Spread evenly, every second carries the same load and the reactions spread over the
# whole interval.
AFTER_RAMP = 2.0
# After the last session's start is due, the wait for its Authorize and start to go through.
SETTLE_MARGIN = 3.0
# A reaction later than the meter interval and this much (s) waited for the fleet, not only
# for its session's next sample: counted apart ("late").
LATE_MARGIN = 0.1


def settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {"stations": 200, "rounds": 1, "window": None}
    return {"stations": 5000, "rounds": 2, "window": None}


def session_starts(profile: Profile, stations: int) -> tuple[tuple[float, float], float]:
    """When the sessions first start, [low, high] s after their station's boot: all after
    the ramp (stations / rate), spread over a meter interval; and the settle time from the
    last boot until every session runs."""
    ramp = stations / (profile.ramp.rate or 50.0)
    low = ramp + AFTER_RAMP
    high = low + profile.session.meter_interval
    return (round(low, 3), round(high, 3)), round(high + SETTLE_MARGIN, 3)


def plan_windows(profile: Profile, stations: int, rounds: int, window: float | None) -> list[dict]:
    """The windows in turn: quiet, then each campaign of the profile with a quiet one after,
    `rounds` times. Each lasts `window` seconds (default: the longest campaign plus `SLACK`,
    up to a whole number of meter intervals). A quiet window lasts at least a meter interval,
    the last one a second more: every session samples once between two campaigns, so each
    campaign's reactions come before the next campaign changes the limit again (a Clear
    before any sample at the Set's limit would leave the Set no reaction to time)."""
    interval = profile.session.meter_interval
    campaigns = profile.embedded.campaigns
    if window is None:
        longest = max(stations / (c.rate or math.inf) for c in campaigns) + SLACK
        window = math.ceil(longest / interval) * interval
    quiet = max(window, interval)
    windows: list[dict[str, Any]] = [{"name": "quiet-0", "seconds": quiet}]
    for number in range(1, rounds + 1):
        for campaign in campaigns:
            windows.append(
                {"name": f"{campaign.action}-{number}", "seconds": window, "campaign": True}
            )
            windows.append({"name": f"quiet-{len(windows) // 2}", "seconds": quiet})
    windows[-1]["seconds"] = max(window, interval + 1.0)
    return windows


def measure(
    stations: int,
    windows: list[dict[str, Any]],
    first_start: tuple[float, float],
    settle: float,
) -> dict[str, Any]:
    """A fresh CSMS process holding the profile's campaigns and a fresh fleet worker: the
    worker's figures (`worker`) and the CSMS's line per campaign (`campaigns`)."""
    ramp_rate = load_profile(PROFILE).ramp.rate or 50.0
    boot_timeout = stations / ramp_rate + 30
    command = [PYTHON, "-m", "benchmarks._csms_campaigns", str(PROFILE)]
    with server_process(command) as server:
        worker = run_worker(
            {
                "kind": "fleet",
                "profile": str(PROFILE),
                "url": server.url,
                "server_pid": server.pid,
                "stations": stations,
                "ramp_rate": ramp_rate,
                "action": "MeterValues",
                "boot_timeout": boot_timeout,
                "first_start": list(first_start),
                "settle": settle,
                "windows": windows,
            },
            timeout=boot_timeout + settle + sum(w["seconds"] for w in windows) + 60,
        )
        lines = [line for line in server.lines if line.startswith('{"campaign"')]
    campaigns = [msgspec.json.decode(line) for line in lines]
    return {"worker": worker, "campaigns": sorted(campaigns, key=lambda c: c["campaign"])}


def _percentile(values: list[float], percentile: float) -> float:
    """Nearest rank, as `fleet.csms.CampaignRecord.percentile`; 0 with no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(math.ceil(len(ordered) * percentile / 100) - 1, 0)]


def cost_per_operation(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each campaign window's extra CPU per call received, fleet and CSMS, against the mean
    CPU share of the quiet windows on either side of it."""
    rows = []
    for i, window in enumerate(windows):
        if not window.get("campaign"):
            continue
        quiet = [windows[i - 1], windows[i + 1]]
        fleet_rate = statistics.mean(q["cpu_share"] for q in quiet)
        csms_rate = statistics.mean(q["server_cpu_share"] for q in quiet)
        fleet_extra = window["cpu_seconds"] - fleet_rate * window["seconds"]
        csms_extra = window["server_cpu_seconds"] - csms_rate * window["seconds"]
        received = window["csms_received"]
        rows.append(
            {
                "window": window["name"],
                "action": window["name"].rsplit("-", 1)[0],
                "received": received,
                "fleet_cpu_share": window["cpu_share"],
                "fleet_quiet_cpu_share": round(fleet_rate, 4),
                "csms_cpu_share": window["server_cpu_share"],
                "csms_quiet_cpu_share": round(csms_rate, 4),
                "fleet_cpu_us_per_operation": (
                    round(fleet_extra / received * 1e6, 1) if received else None
                ),
                "csms_cpu_us_per_operation": (
                    round(csms_extra / received * 1e6, 1) if received else None
                ),
                "runqueue_wait_share": window["runqueue_wait_share"],
            }
        )
    return rows


def run(
    quick: bool,
    out: Path,
    *,
    stations: int | None = None,
    rounds: int | None = None,
    window: float | None = None,
) -> dict[str, Any]:
    started = time.perf_counter()
    raise_open_files_limit()
    s = settings(quick)
    s.update(
        {k: v for k, v in (("stations", stations), ("rounds", rounds), ("window", window)) if v}
    )
    profile = load_profile(PROFILE)
    windows = plan_windows(profile, s["stations"], s["rounds"], s["window"])
    first_start, settle = session_starts(profile, s["stations"])
    s.update(first_start_s=list(first_start), settle=settle)
    measured = measure(s["stations"], windows, first_start, settle)
    worker, campaigns = measured["worker"], measured["campaigns"]
    measured_windows = worker["windows"]
    costs = cost_per_operation(measured_windows)
    # The k-th campaign window holds the CSMS's k-th campaign: from its first call to its last
    # answer it must fit in the window, or the next quiet window carries some of its cost.
    durations = {c["campaign"]: c["seconds"] for c in campaigns}
    for number, row in enumerate(costs, 1):
        row["campaign_seconds"] = durations.get(number)
    overran = [
        row["window"]
        for row, window in zip(
            costs, [w for w in measured_windows if w.get("campaign")], strict=True
        )
        if row["campaign_seconds"] is None or row["campaign_seconds"] > window["seconds"]
    ]
    section = worker.get("csms", {})
    quiet = [w for w in measured_windows if not w.get("campaign")]
    quiet_answers = sum(w["answered"] for w in quiet)
    quiet_us = (
        round(sum(w["cpu_seconds"] for w in quiet) / quiet_answers * 1e6, 1)
        if quiet_answers
        else None
    )

    actions: dict[str, dict[str, Any]] = {}
    for campaign in profile.embedded.campaigns:
        action = campaign.action
        mine = [c for c in campaigns if c["action"] == action]
        statuses: collections.Counter[str] = collections.Counter()
        errors: collections.Counter[str] = collections.Counter()
        for c in mine:
            statuses.update(c["statuses"])
            errors.update(c["errors"])
        times = [t for c in mine for t in c["answer_times_ms"]]
        fleet_us = [r["fleet_cpu_us_per_operation"] for r in costs if r["action"] == action]
        csms_us = [r["csms_cpu_us_per_operation"] for r in costs if r["action"] == action]
        stats = section.get(action, {})
        answer, reaction = stats.get("answer", {}), stats.get("reaction", {})
        late = _count_above(
            worker.get("csms_reaction_histograms", {}).get(action),
            profile.session.meter_interval + LATE_MARGIN,
        )
        actions[action] = {
            "rounds": len(mine),
            "sent": sum(c["sent"] for c in mine),
            "sent_by_version": dict(
                sum(
                    (collections.Counter(c["sent_by_version"]) for c in mine),
                    start=collections.Counter(),
                )
            ),
            "statuses": dict(statuses),
            "errors": dict(errors),
            "timeouts": sum(c["timeouts"] for c in mine),
            "lost": sum(c["lost"] for c in mine),
            "not_sent": sum(c["not_expressible"] + c["invalid"] for c in mine),
            "fleet_cpu_us_per_operation": _median(fleet_us),
            "csms_cpu_us_per_operation": _median(csms_us),
            "csms_answer_ms": {
                "p50": _percentile(times, 50),
                "p99": _percentile(times, 99),
                "max": _percentile(times, 100),
            },
            "station_received": stats.get("received", 0),
            "station_answers": stats.get("answers", {}),
            "station_answer_ms": {k: answer.get(k) for k in ("count", "p50_ms", "p99_ms")},
            "reaction_to": stats.get("reaction_to", ""),
            "reaction_ms": {k: reaction.get(k) for k in ("count", "p50_ms", "p99_ms", "max_ms")},
            "reactions_late": late,
        }

    print(
        f"csms ops: {worker['booted']:,} of {s['stations']:,} stations booted "
        f"({', '.join(f'{v} {n:,}' for v, n in _versions(campaigns).items())}), "
        f"campaigns at {', '.join(f'{c.rate:g}/s' for c in profile.embedded.campaigns if c.rate)}"
    )
    print_table(
        ["window", "s", "fleet CPU", "CSMS CPU", "station calls/s", "CSMS calls"],
        [
            (
                w["name"],
                w["seconds"],
                f"{100 * w['cpu_share']:.0f} %",
                f"{100 * w['server_cpu_share']:.0f} %",
                w["rate"],
                w["csms_received"],
            )
            for w in measured_windows
        ],
    )
    print()
    print_table(
        [
            "action",
            "sent",
            "answers",
            "fleet CPU/op",
            "CSMS CPU/op",
            "station answer p50/p99",
            "CSMS answer p50/p99",
            "reactions",
            "reaction p50/p99",
            f"> {profile.session.meter_interval + LATE_MARGIN:g} s",
        ],
        [
            (
                action,
                a["sent"],
                ", ".join(f"{k} {v:,}" for k, v in sorted(a["statuses"].items())) or "-",
                _us(a["fleet_cpu_us_per_operation"]),
                _us(a["csms_cpu_us_per_operation"]),
                _ms_pair(a["station_answer_ms"]["p50_ms"], a["station_answer_ms"]["p99_ms"]),
                _ms_pair(a["csms_answer_ms"]["p50"], a["csms_answer_ms"]["p99"]),
                a["reaction_ms"]["count"],
                _ms_pair(a["reaction_ms"]["p50_ms"], a["reaction_ms"]["p99_ms"]),
                a["reactions_late"],
            )
            for action, a in actions.items()
        ],
    )
    print(
        f"fleet CPU per station-initiated round trip in the quiet windows (meter values): "
        f"{_us(quiet_us)}"
    )

    sent = sum(a["sent"] for a in actions.values())
    accepted = sum(a["statuses"].get("Accepted", 0) for a in actions.values())
    problems = sum(
        sum(a["errors"].values()) + a["timeouts"] + a["lost"] + a["not_sent"]
        for a in actions.values()
    )
    expected_calls = s["stations"] * s["rounds"] * len(profile.embedded.campaigns)
    reactions = sum(a["reaction_ms"]["count"] or 0 for a in actions.values())
    targets = [
        Target(
            name="calls sent and answered Accepted",
            target=f"{expected_calls:,} (every station, every round)",
            measured=f"{accepted:,} Accepted of {sent:,} sent",
            passed=accepted == sent == expected_calls,
        ),
        Target(
            name="CALLERRORs, timeouts, lost, not sent",
            target="0",
            measured=str(problems),
            passed=problems == 0,
        ),
        Target(
            name="reactions (a session's power changed)",
            target=f"one per call: {sent:,}",
            measured=f"{reactions:,}",
            passed=reactions == sent,
            note="every session charges above 7 kW: each Set and each Clear moves its power",
        ),
        Target(
            name="each campaign within its window",
            target="first call to last answer",
            measured=", ".join(overran) + " overran" if overran else "all",
            passed=not overran,
        ),
    ]
    print_targets(targets)
    for c in campaigns:
        c.pop("answer_times_ms", None)
    body = {
        "settings": {
            **s,
            "profile": str(PROFILE.relative_to(BENCHMARKS.parent)),
            "meter_interval_s": profile.session.meter_interval,
            "campaign_rates": [c.rate for c in profile.embedded.campaigns],
            "windows": windows,
        },
        "stations_booted": worker["booted"],
        "actions": actions,
        "fleet_cpu_us_per_meter_round_trip": quiet_us,
        "costs": costs,
        "campaigns": campaigns,
        "report_csms": section,
        "worker": worker,
        "targets": targets,
    }
    write_result(NAME, out, quick, started, body)
    return body


def _count_above(encoded: str | None, seconds: float) -> int | None:
    """How many samples of a report's reaction histogram lie above `seconds`."""
    if not encoded:
        return None
    histogram = decode_histogram(encoded)
    limit = seconds * 1e6
    return sum(
        item.count_at_value_iterated_to
        for item in histogram.get_recorded_iterator()
        if histogram.get_highest_equivalent_value(item.value_iterated_to) > limit
    )


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def _versions(campaigns: list[dict[str, Any]]) -> dict[str, int]:
    """The stations a campaign reached, by OCPP version (the first campaign's)."""
    return dict(sorted(campaigns[0]["sent_by_version"].items())) if campaigns else {}


def _us(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} us"


def _ms_pair(p50: float | None, p99: float | None) -> str:
    if p50 is None or p99 is None:
        return "-"
    return f"{p50:,.1f} / {p99:,.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 stations, one round")
    parser.add_argument("--stations", type=int, help="stations (default 5,000; quick 200)")
    parser.add_argument("--rounds", type=int, help="rounds of the campaigns (default 3; quick 1)")
    parser.add_argument(
        "--window", type=float, help="seconds per window (default: a campaign's length, rounded)"
    )
    add_output_arguments(parser, NAME)
    args = parser.parse_args()
    if args.update_results and (args.stations or args.rounds or args.window):
        parser.error("--update-results takes the default settings")
    run(
        args.quick,
        output_path(parser, args, NAME),
        stations=args.stations,
        rounds=args.rounds,
        window=args.window,
    )


if __name__ == "__main__":
    main()
