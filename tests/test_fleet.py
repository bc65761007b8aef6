"""The fleet end to end: small runs against the embedded CSMS on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import trio

from fleet.metrics import decode_histogram, latency_stats, read_report
from fleet.profile import parse_profile
from fleet.run import FleetRun, plan_stations, ramp_offsets

ROOT = Path(__file__).resolve().parent.parent
FLEET = [sys.executable, "-m", "fleet"]


def profile_text(**overrides: str) -> str:
    """A small, fast profile; keyword arguments replace whole lines by key."""
    lines = {
        "name": 'name = "test"',
        "duration": 'duration = "6s"',
        "count": "count = 50",
        "versions": 'versions = { "1.6" = 0.5, "2.0.1" = 0.5 }',
        "rate": "rate = 100",
        "first_start": 'first_start = { distribution = "uniform", min = "0s", max = "1s" }',
        "length": 'length = { distribution = "uniform", min = "1s", max = "2s" }',
        "idle": 'idle = { distribution = "uniform", min = "0.5s", max = "1s" }',
        "meter_interval": 'meter_interval = "0.5s"',
        "heartbeat_interval": "heartbeat_interval = 1",
        "response_delay": 'response_delay = "0s"',
        "drain": 'drain = "10s"',
    }
    lines.update(overrides)
    return "\n".join(
        [
            lines["name"],
            'csms = "embedded"',
            lines["duration"],
            "[stations]",
            lines["count"],
            lines["versions"],
            "connectors = 2",
            "[ramp]",
            lines["rate"],
            "[session]",
            lines["first_start"],
            lines["length"],
            lines["idle"],
            lines["meter_interval"],
            "[embedded]",
            lines["heartbeat_interval"],
            lines["response_delay"],
            "[timeouts]",
            lines["drain"],
        ]
    )


@pytest.mark.deadline(60)
async def test_a_small_fleet_counts_exactly_what_the_csms_received() -> None:
    run = FleetRun(parse_profile(profile_text()))
    await run.run()
    csms = run.csms
    assert csms is not None
    metrics = run.metrics
    report_actions = {action: record.answered for action, record in metrics.actions.items()}
    assert all(record.sent == record.answered for record in metrics.actions.values())
    # Every CALL the fleet sent was received by the CSMS and answered, and nothing else.
    assert report_actions == dict(csms.received)
    assert {"BootNotification", "Heartbeat", "StatusNotification", "Authorize"} <= set(
        report_actions
    )
    assert {"StartTransaction", "MeterValues", "StopTransaction", "TransactionEvent"} <= set(
        report_actions
    )
    assert csms.connections_accepted == 50
    assert len(csms.received_by_station) == 50
    assert metrics.sessions_started > 20
    assert metrics.sessions_started == metrics.sessions_stopped  # every session ended
    assert all(r.timeouts == 0 and not r.errors for r in metrics.actions.values())
    assert run.drained and not run.interrupted


@pytest.mark.deadline(60)
async def test_a_known_csms_delay_shows_in_the_percentiles() -> None:
    """Heartbeats and boots never wait behind another call of their station, so their latency
    is the CSMS's delay plus loopback and both sides' handling: on a small shared machine a
    few ms. (Calls queued behind others rightly show more: their wait counts.)"""
    delay_ms = 50
    text = profile_text(
        count="count = 20",
        duration='duration = "5s"',
        first_start='first_start = "1h"',  # no sessions: nothing queues behind a heartbeat
        response_delay=f'response_delay = "{delay_ms}ms"',
    )
    run = FleetRun(parse_profile(text))
    await run.run()
    for action, samples in (("Heartbeat", 40), ("BootNotification", 20)):
        latency = latency_stats(run.metrics.actions[action].histogram)
        assert latency.count >= samples, action
        assert latency.min_ms >= delay_ms, action
        assert latency.p50_ms <= delay_ms + 15, action


@pytest.mark.deadline(60)
async def test_a_csms_stall_shows_in_the_high_percentiles() -> None:
    """Heartbeats every second; the CSMS stalls 2 s. The heartbeat in flight waits 2 s, and
    the one due a second later waits behind it (one CALL at a time) and is answered at once
    when the stall ends: measured from its intended time it took ~1 s, from its actual send
    ~0 s. Intended-time measurement must report the first kind."""
    text = profile_text(
        count="count = 10",
        duration='duration = "7s"',
        first_start='first_start = "1h"',  # heartbeats only
        heartbeat_interval="heartbeat_interval = 1",
    )
    run = FleetRun(parse_profile(text))

    async def stall_once() -> None:
        while run.csms is None:
            await trio.sleep(0.01)
        await trio.sleep(3)
        run.csms.stall(2.0)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(stall_once)
        await run.run()
    record = run.metrics.actions["Heartbeat"]
    latency = latency_stats(record.histogram)
    samples = decode_histogram(latency.histogram)  # what the report keeps: every sample
    over_900ms = sum(
        item.count_added_in_this_iter_step
        for item in samples.get_recorded_iterator()
        if item.value_iterated_to >= 900_000
    )
    assert latency.max_ms >= 1_900
    # each of the 10 stations: one heartbeat ~2 s late and the next one ~1 s late
    assert over_900ms >= 2 * 10 - 2
    assert latency.p99_ms >= 900
    assert record.timeouts == 0


def test_station_plan_is_deterministic_with_exact_version_shares() -> None:
    profile = parse_profile(profile_text(count="count = 10"))
    plan = plan_stations(profile)
    assert [p.station_id for p in plan] == [f"SIM-{i:06d}" for i in range(10)]
    assert sum(p.version == "ocpp1.6" for p in plan) == 5
    assert [p.version for p in plan] == [p.version for p in plan_stations(profile)]


def test_ramp_offsets_follow_rate_duration_and_steps() -> None:
    base = profile_text(count="count = 6")
    assert list(ramp_offsets(parse_profile(base))) == pytest.approx([i / 100 for i in range(6)])
    by_duration = parse_profile(base.replace("rate = 100", 'duration = "3s"'))
    assert list(ramp_offsets(by_duration)) == pytest.approx([0, 0.5, 1, 1.5, 2, 2.5])
    stepped = parse_profile(
        base.replace("rate = 100", 'steps = [{ at = "0s", rate = 2 }, { at = "1s", rate = 4 }]')
    )
    # 2/s for the first second (0, 0.5), then 4/s: 1.0, 1.25, 1.5, 1.75
    assert list(ramp_offsets(stepped)) == pytest.approx([0, 0.5, 1.0, 1.25, 1.5, 1.75])


# -- the command line ---------------------------------------------------------------------------


async def test_a_late_ramp_starts_every_due_station_in_one_turn() -> None:
    """Behind schedule (a busy run), the ramp must not yield once per station: each yield
    waits a whole scheduling round, which would hold it far below the profile's rate. Here
    every station is overdue and any checkpoint would be cancelled at once."""
    run = FleetRun(parse_profile(profile_text(count="count = 300", rate="rate = 100")))
    run.csms_url = "ws://127.0.0.1:1/ocpp"
    started: list[object] = []

    class Nursery:
        def start_soon(self, function: object, *args: object) -> None:
            started.append(function)

    with trio.CancelScope() as outer:
        outer.cancel()  # the first checkpoint raises Cancelled
        await run._ramp(Nursery(), trio.current_time() - 10.0, trio.CancelScope(), None)  # type: ignore[arg-type]
    assert len(started) == 300 and len(run.actors) == 300


async def test_the_ramp_freezes_the_stations_out_of_the_garbage_collector() -> None:
    import gc

    gc.unfreeze()
    run = FleetRun(parse_profile(profile_text(count="count = 20", duration='duration = "1s"')))
    try:
        await run.run()
        assert gc.get_freeze_count() > 1000  # the stations' objects, walked by no collection
    finally:
        gc.unfreeze()


def test_fleet_run_writes_a_report_and_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = subprocess.run(
        [*FLEET, "run", str(ROOT / "profiles/smoke.toml"), "--stations", "10", "--duration", "3", "--out", str(out), "--html", str(tmp_path / "r.html")],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = read_report(out)
    assert report.name == "smoke"
    assert report.actions["BootNotification"].answered == 10
    assert "BootNotification" in result.stdout
    assert f"report: {out}" in result.stdout
    assert "thresholds: 4 passed, 0 failed" in result.stdout
    assert "<svg" in (tmp_path / "r.html").read_text()


def test_a_bad_profile_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nduration = "1s"\n[stations]\ncount = 0\n')
    result = subprocess.run([*FLEET, "run", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fleet run: {bad}: stations.count: expected an integer >= 1, got 0"
    ]


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("ws://127.0.0.1:1/ocpp", 1, "fleet run: csms: cannot connect to ws://127.0.0.1:1/ocpp/SIM-000000: "),
        ("ws://a..b/ocpp", 2, "fleet run: csms: 'a..b' in ws://a..b/ocpp is not a host name"),
        ("ws://127.0.0.1:70000/ocpp", 2, "fleet run: csms: the port of ws://127.0.0.1:70000/ocpp is not in 0-65535"),
    ],
)  # fmt: skip
def test_an_unreachable_or_bad_csms_is_one_clear_line(url: str, code: int, message: str) -> None:
    result = subprocess.run(
        [*FLEET, "run", str(ROOT / "profiles/smoke.toml"), "--csms", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)
    assert "Traceback" not in result.stderr


async def test_a_refused_tls_handshake_is_one_clear_line() -> None:
    from fleet.csms import open_csms

    async with open_csms() as csms:  # plain ws: a TLS client hello gets an HTTP error
        url = csms.url.replace("ws://", "wss://")
        result = await trio.run_process(
            [*FLEET, "run", str(ROOT / "profiles/smoke.toml"), "--csms", url],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"fleet run: csms: TLS with {url}/SIM-000000 failed")


def test_custom_behaviour_drives_stations_through_the_toolkit(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = subprocess.run(
        [*FLEET, "run", str(ROOT / "profiles/custom.toml"), "--stations", "5", "--duration", "3", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = read_report(out)
    assert report.actions["BootNotification"].answered == 5
    # One generic script on both versions: each station said Available, in its version.
    assert report.actions["StatusNotification"].answered >= 5
    assert report.actions["StatusNotification"].errors == {}
    assert msgspec.to_builtins(report.profile)["behaviour"] == "custom_behaviour:drive"
    # Its boots are measured as the built-in stations' are, and end the ramp: the summary
    # shows the hold, with no row of zeros.
    assert report.boot.count == 5
    assert report.phases["ramp"].boot.count == 5
    assert "hold" in report.phases
    assert "hold phase" in result.stdout
    assert not any(
        line.startswith("(boot") and line.split()[3:4] == ["0"]
        for line in result.stdout.splitlines()
    )


@pytest.mark.deadline(60)
@pytest.mark.parametrize(
    ("version", "reset"), [("1.6", {"type": "Soft"}), ("2.0.1", {"type": "Immediate"})]
)
async def test_a_reset_from_the_csms_reboots_the_station(version: str, reset: dict) -> None:
    text = profile_text(
        count="count = 2",
        duration='duration = "5s"',
        versions=f'versions = {{ "{version}" = 1 }}',
        first_start='first_start = "0s"',
        length='length = "1h"',  # charging when the reset comes
    )
    run = FleetRun(parse_profile(text))
    answers = []

    async def reset_first_station() -> None:
        while run.csms is None:
            await trio.sleep(0.01)
        station = await run.csms.wait_for_station("SIM-000000")
        await trio.sleep(1.5)  # booted and charging
        answers.append(await station.call("Reset", reset))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reset_first_station)
        await run.run()
    assert [a.status for a in answers] == ["Accepted"]
    assert run.csms is not None
    received = run.csms.received_by_station["SIM-000000"]
    assert received["BootNotification"] == 2  # rebooted: connected and booted again
    assert run.csms.received_by_station["SIM-000001"]["BootNotification"] == 1
    assert run.metrics.sessions_started == run.metrics.sessions_stopped  # the reset ended one
    assert run.csms.connections_accepted == 3


async def test_stations_take_turns_to_connect() -> None:
    """A shared limiter bounds the connections being opened at once; each station gives its
    turn back once connected (or failed), so all of them get through."""
    text = profile_text(count="count = 30", rate="rate = 10000", duration='duration = "2s"')
    run = FleetRun(parse_profile(text), max_connecting=3)
    limiter = run.connecting
    most = 0

    async def watch() -> None:
        nonlocal most
        while True:
            most = max(most, limiter.borrowed_tokens)
            await trio.sleep(0)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch)
        await run.run()
        nursery.cancel_scope.cancel()
    assert run.metrics.connects == 30 and most == 3
    assert limiter.borrowed_tokens == 0


def test_a_custom_behaviour_against_a_closing_csms_counts_disconnects_not_faults(
    tmp_path: Path,
) -> None:
    # The CSMS closes every connection after 1.5 s: the generic example's stations are
    # disconnected, run again after the backoff, and end the session the close interrupted.
    profile = tmp_path / "custom.toml"
    text = (ROOT / "profiles/custom.toml").read_text()
    text += '\n[embedded]\nclose_after = "1.5s"\n\n[reconnect]\nwait_minimum = "0.2s"\n'
    profile.write_text(text)
    shutil.copy(ROOT / "profiles/custom_behaviour.py", tmp_path / "custom_behaviour.py")
    out = tmp_path / "report.json"
    result = subprocess.run(
        [*FLEET, "run", str(profile), "--stations", "6", "--duration", "6", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = read_report(out)
    counters = report.counters
    assert counters.station_faults == {}
    assert counters.disconnects >= 6  # each station's first connection closed by 1.5 s
    assert counters.reconnects >= 1
    assert counters.connects == 6 + counters.reconnects
    assert report.actions["BootNotification"].answered > counters.reconnects  # boots again
