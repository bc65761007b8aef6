"""Issue 12, item 1: a ping, pong or close arriving at any moment of a close is harmless.

trio-websocket 0.12's reader task answers a ping with a pong even after our close frame went
out; wsproto then raises ``LocalProtocolError: Event Pong(...) cannot be sent in state
ConnectionState.LOCAL_CLOSING`` out of the reader task, which takes down what holds it: a
toolkit client's block, a station, the embedded CSMS, or the whole run (trio-websocket issue
184). Any CSMS on the Python `websockets` library pings every 20 s by default, so any run
longer than that is exposed at its end and at every reconnect.

Here the peers ping continuously (every few ms) while stations open and close, on both sides
of the race: the CSMS pings while stations close, and stations ping while the CSMS closes.
Then the issue's own reproduction ("Done when"): `fleet run profiles/smoke.toml` against the
`ocpp`-library CSMS pinging every 0.5 s, 100 stations for 20 s, alone and with two workers.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
import trio

import fleet.toolkit as tk
from fleet.csms import EmbeddedCsms, open_csms
from fleet.ocpp import v16, v201
from fleet.profile import parse_profile
from fleet.run import FleetRun
from fleet.toolkit._chargepoint import CLOSE_TIMEOUT
from tests.peers import library_csms, wait_for
from tests.test_fleet import profile_text

ROOT = Path(__file__).resolve().parent.parent
FLEET = [sys.executable, "-m", "fleet"]


async def boot(cp: tk.ChargePoint16 | tk.ChargePoint201) -> None:
    if isinstance(cp, tk.ChargePoint16):
        await cp.boot_notification(
            v16.BootNotificationRequest(charge_point_vendor="v", charge_point_model="m")
        )
        await cp.heartbeat(v16.HeartbeatRequest())
    else:
        await cp.boot_notification(
            v201.BootNotificationRequest(
                charging_station=v201.ChargingStation(vendor_name="v", model="m"),
                reason=v201.BootReasonEnum.POWER_UP,
            )
        )
        await cp.heartbeat(v201.HeartbeatRequest())


async def open_and_close(
    url: str, stations: int, rounds: int, close_times: list[float], **options: object
) -> None:
    """`stations` toolkit clients (half 1.6, half 2.0.1), each `rounds` times: connect, boot,
    heartbeat, close. `close_times` gets how long each close took."""

    async def station(i: int) -> None:
        version = "1.6" if i % 2 else "2.0.1"
        for _ in range(rounds):
            async with tk.connect(url, f"race-{i}", version=version, **options) as cp:  # type: ignore[arg-type]
                await boot(cp)
                closing = trio.current_time()
            close_times.append(trio.current_time() - closing)

    async with trio.open_nursery() as nursery:
        for i in range(stations):
            nursery.start_soon(station, i)


@pytest.mark.deadline(60)
async def test_clients_open_and_close_while_the_embedded_csms_pings_every_3_ms() -> None:
    async with open_csms(ping_interval=0.003) as csms:
        close_times: list[float] = []
        with trio.fail_after(45):
            await open_and_close(csms.url, stations=20, rounds=8, close_times=close_times)
        assert len(close_times) == 160
        # Every close completed by its handshake, none by our timeout (a peer that never
        # answered): the CSMS, pinging, still answered each one.
        assert max(close_times) < CLOSE_TIMEOUT
        assert csms.field.pings_sent > 160 and csms.field.pongs_received > 160
        assert csms.connections_accepted == 160
        await wait_for(lambda: not csms.stations)  # the CSMS saw every close too
        assert csms.connection_faults == {}


@pytest.mark.deadline(60)
async def test_the_embedded_csms_closes_connections_while_stations_ping_continuously() -> None:
    """The other side of the race: the CSMS closes (1001) while each station pings again as
    soon as its last pong is back (ping_interval 0: one ping always in flight). The CSMS
    must not answer a ping with a pong after its close frame, nor the station ping after
    the CSMS's close reached it."""
    async with open_csms(close_after=0.03, field_jitter=0.05, close_code=1001) as csms:
        codes: list[int | None] = []

        async def station(i: int) -> None:
            version = "1.6" if i % 2 else "2.0.1"
            for _ in range(8):
                async with tk.connect(csms.url, f"ping-{i}", version=version, ping_interval=0) as cp:  # fmt: skip
                    await cp.wait_closed()
                    with pytest.raises(tk.ConnectionLost) as lost:
                        await cp.heartbeat(
                            v16.HeartbeatRequest() if version == "1.6" else v201.HeartbeatRequest()
                        )
                    codes.append(lost.value.code)

        with trio.fail_after(45):
            async with trio.open_nursery() as nursery:
                for i in range(20):
                    nursery.start_soon(station, i)
        assert codes == [1001] * 160
        assert csms.faults_injected["closed 1001"] == 160
        assert csms.connection_faults == {}


async def reset_stations(
    csms: EmbeddedCsms, rng: random.Random, accepted: list[str], enough: int
) -> None:
    """Every 20 ms, until `enough` resets were accepted, Reset a random connected station
    that booted since its last reset (so that each accepted reset must show as one boot)."""
    boots_at_reset: dict[str, int] = {}
    while len(accepted) < enough:
        await trio.sleep(0.02)
        ready = [
            station_id
            for station_id in sorted(csms.stations)
            if csms.received_by_station[station_id]["BootNotification"]
            > boots_at_reset.get(station_id, 0)
        ]
        if not ready:
            continue
        station_id = rng.choice(ready)
        session = csms.stations[station_id]
        boots_at_reset[station_id] = csms.received_by_station[station_id]["BootNotification"]
        payload = {"type": "Soft"} if session.version == "ocpp1.6" else {"type": "Immediate"}
        try:
            answer = await session.call("Reset", payload, timeout=2)
        except (tk.ConnectionLost, tk.CallTimeout):
            continue  # it was closing already
        if answer.status == "Accepted":
            accepted.append(station_id)


def fleet_profile(url: str, count: int, duration: str) -> str:
    text = profile_text(
        count=f"count = {count}",
        duration=f'duration = "{duration}"',
        rate="rate = 200",
        first_start='first_start = { distribution = "uniform", min = "0s", max = "0.5s" }',
    )
    text = text.replace('csms = "embedded"', f'csms = "{url}"')
    return text + '\n[reconnect]\nwait_minimum = "0.1s"\nrandom_range = "0.2s"\n'


@pytest.mark.deadline(60)
async def test_station_actors_reset_and_reconnect_while_the_embedded_csms_pings_every_3_ms() -> (
    None
):
    """Fleet stations, told to Reset again and again, close their connections and reconnect
    while the CSMS pings them every 3 ms; once every reset station booted again, the run is
    stopped and all of them close at once, still pinged."""
    async with open_csms(ping_interval=0.003, heartbeat_interval=1, seed=5) as csms:
        run = FleetRun(parse_profile(fleet_profile(csms.url, count=30, duration="60s")))
        accepted: list[str] = []

        def boots() -> int:
            return sum(counts["BootNotification"] for counts in csms.received_by_station.values())

        async def reset_then_stop() -> None:
            # 25 resets; a reboot then takes a station a few seconds (its sessions end, it
            # pauses 0.5-2 s, reconnects): stop once every reset one booted again.
            with trio.fail_after(20):
                await reset_stations(csms, random.Random(5), accepted, enough=25)
            await wait_for(lambda: boots() >= 30 + len(accepted), timeout=20)
            run.stop("enough resets")

        with trio.fail_after(50):  # the resets, the reboots and the drain: every close bounded
            async with trio.open_nursery() as nursery:
                nursery.start_soon(reset_then_stop)
                await run.run()
        assert len(accepted) == 25
        assert len(csms.received_by_station) == 30
        # Each reset station closed, came back and booted again, under the pings.
        assert boots() >= 30 + len(accepted)
        assert csms.connections_accepted >= 30 + len(accepted)
        await wait_for(lambda: not csms.stations)  # every station's close reached the CSMS
        assert csms.connection_faults == {}
        assert run.metrics.connect_failures == {}
        assert not run.metrics.station_faults  # no station task died


@pytest.mark.deadline(60)
async def test_clients_open_and_close_while_the_library_csms_pings_every_5_ms() -> None:
    async with library_csms("--ping-interval", "0.005") as csms:
        close_times: list[float] = []
        with trio.fail_after(45):
            await open_and_close(csms.url, stations=16, rounds=6, close_times=close_times)
        assert len(close_times) == 96
        assert max(close_times) < CLOSE_TIMEOUT
        assert csms.errors() == []


@pytest.mark.deadline(60)
async def test_a_fleet_run_reconnecting_through_the_library_csms_pinging_every_5_ms() -> None:
    """The `websockets` CSMS pings every 5 ms and closes each connection (1001) after
    0.5-1 s: stations reconnect and boot again and again, then all close at the run's end."""
    flags = ["--ping-interval", "0.005", "--close-after", "0.5", "--jitter", "0.5", "--close-code", "1001"]  # fmt: skip
    async with library_csms(*flags) as csms:
        run = FleetRun(parse_profile(fleet_profile(csms.url, count=20, duration="4s")))
        with trio.fail_after(30):
            await run.run()
        closed = [line for line in csms.lines if line.get("field") == "closed 1001"]
        assert len(closed) >= 20
        assert run.metrics.reconnects >= 20
        booted = {line["station"] for line in csms.lines if line.get("action") == "BootNotification"}  # fmt: skip
        assert len(booted) == 20
        assert csms.errors() == []
        assert not run.metrics.station_faults  # no station task died
        assert not run.interrupted


# -- the reproduction ---------------------------------------------------------------


@pytest.mark.deadline(90)
@pytest.mark.parametrize("workers", [None, 2], ids=["one-process", "two-workers"])
async def test_a_20_s_run_against_a_csms_pinging_every_half_second_completes(
    workers: int | None, tmp_path: Path
) -> None:
    """`fleet run profiles/smoke.toml` against the `ocpp`-library CSMS with keepalive pings
    every 0.5 s (websockets' default is 20 s): 100 stations for 20 s, forty ping intervals,
    the stations' closes at the end among them. Exits 0 with a complete report."""
    out = tmp_path / "report.json"
    async with library_csms("--ping-interval", "0.5") as csms:
        command = [*FLEET, "run", str(ROOT / "profiles/smoke.toml"), "--csms", csms.url, "--stations", "100", "--duration", "20", "--quiet", "--out", str(out)]  # fmt: skip
        if workers is not None:
            command += ["--workers", str(workers)]
        with trio.fail_after(75):
            result = await trio.run_process(
                command, capture_stdout=True, capture_stderr=True, check=False
            )
        output = result.stdout.decode() + result.stderr.decode()[-3000:]
        assert result.returncode == 0, output
        assert "Traceback" not in output and "LocalProtocolError" not in output
        assert csms.errors() == []
    report = json.loads(out.read_text())
    assert not report["interrupted"]
    assert not any("incomplete" in note for note in report["notes"]), report["notes"]
    assert 19 <= report["duration_s"] <= 35
    boot = report["actions"]["BootNotification"]
    assert boot["answered"] == 100 and boot["sent"] == 100
    counters = report["counters"]
    assert counters["connects"] == 100 and counters["reconnects"] == 0
    assert not counters["connect_failures"]
    assert not counters.get("station_faults")  # no station task died
    assert counters["sessions_started"] >= 50
    assert counters["sessions_started"] == counters["sessions_stopped"]
    assert counters["transaction_messages"] > 100
    assert counters["transaction_messages_dropped"] == 0
    assert counters["transaction_messages_undelivered"] == 0
    for action, stats in report["actions"].items():
        assert stats["answered"] == stats["sent"], action
        assert stats["timeouts"] == stats["lost"] == 0 and not stats["errors"], action
