"""Fault injection in the embedded CSMS: errors, malformed answers, drops, restarts."""

from __future__ import annotations

import pytest
import trio

import fleet.toolkit as tk
from fleet.csms import open_csms
from fleet.ocpp import InternalCallError, RemoteProtocolError, v16

HEARTBEAT = v16.HeartbeatRequest()


async def test_a_share_of_calls_answered_with_callerror() -> None:
    async with open_csms(error_share=1.0) as csms, tk.connect(csms.url, "cp") as cp:
        with pytest.raises(InternalCallError, match="injected fault"):
            await cp.heartbeat(HEARTBEAT)
        assert csms.faults_injected == {"error": 1}
    async with open_csms(error_share=0.5, seed=3) as csms, tk.connect(csms.url, "cp") as cp:
        failed = 0
        for _ in range(200):
            try:
                await cp.heartbeat(HEARTBEAT)
            except InternalCallError:
                failed += 1
        assert failed == csms.faults_injected["error"]
        assert 60 <= failed <= 140  # binomial(200, 0.5): 10 standard deviations either side


async def test_malformed_answers_fail_the_call_and_the_connection_goes_on() -> None:
    async with open_csms(malformed_share=1.0) as csms, tk.connect(csms.url, "cp") as cp:
        with pytest.raises(RemoteProtocolError, match="malformed CALLRESULT"):
            await cp.heartbeat(HEARTBEAT)
        csms.malformed_share = 0.0
        await cp.heartbeat(HEARTBEAT)  # still connected, still in step
        assert csms.faults_injected == {"malformed": 1}


async def test_dropping_a_share_of_connections() -> None:
    async with open_csms(seed=1) as csms, trio.open_nursery() as nursery:
        closed: list[str] = []

        async def station(name: str) -> None:
            async with tk.connect(csms.url, name) as cp:
                await cp.wait_closed()
                closed.append(name)

        for i in range(4):
            nursery.start_soon(station, f"cp-{i}")
        with trio.fail_after(5):
            while len(csms.stations) < 4:
                await trio.sleep(0.01)
        assert csms.drop_connections(0.5) == 2
        with trio.fail_after(5):
            while len(closed) < 2:
                await trio.sleep(0.01)
        await trio.sleep(0.1)
        assert len(closed) == 2 and len(csms.stations) == 2
        nursery.cancel_scope.cancel()


async def test_restart_closes_everything_refuses_then_serves_on_the_same_port() -> None:
    async with open_csms() as csms:
        url, port = csms.url, csms.port
        async with tk.connect(url, "cp") as cp:
            await cp.heartbeat(HEARTBEAT)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(csms.restart, 0.5)
                with trio.fail_after(5):
                    await cp.wait_closed()
                with pytest.raises(tk.ConnectError):  # down: the port is closed
                    async with tk.connect(url, "other", connect_timeout=1):
                        pass
        with trio.fail_after(5):
            while True:  # back up within the down time and a bit
                try:
                    async with tk.connect(url, "cp") as again:
                        await again.heartbeat(HEARTBEAT)
                    break
                except tk.ConnectError:
                    await trio.sleep(0.05)
        assert csms.port == port and csms.restarts == 1
        assert csms.received_by_station["cp"]["Heartbeat"] == 2


@pytest.mark.deadline(90)
async def test_a_csms_restart_mid_run_loses_nothing() -> None:
    """200 stations with sessions running; the CSMS restarts (down 1 s). Every station
    reconnects and boots again, and every message is acknowledged exactly once (the CSMS's
    counts equal the fleet's) or counted; transaction messages caught in flight are sent again,
    also those whose send the closing connection cut short; and the run drains normally."""
    from fleet.profile import parse_profile
    from fleet.run import FleetRun
    from fleet.station import TRANSACTION_ACTIONS
    from tests.test_fleet import profile_text

    text = (
        profile_text(
            count="count = 200",
            rate="rate = 400",
            duration='duration = "9s"',
            length='length = { distribution = "uniform", min = "2s", max = "5s" }',
            meter_interval='meter_interval = "0.5s"',
        )
        + '\n[reconnect]\nwait_minimum = "0.2s"\nrandom_range = "0.5s"\n'
    )
    run = FleetRun(parse_profile(text))

    async def restart_the_csms() -> None:
        while run.csms is None:
            await trio.sleep(0.01)
        await trio.sleep(3.5)  # all connected, sessions under way
        await run.csms.restart(1.0)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(restart_the_csms)
        await run.run()
    csms, metrics = run.csms, run.metrics
    assert csms is not None and csms.restarts == 1
    boots = [counts["BootNotification"] for counts in csms.received_by_station.values()]
    assert len(boots) == 200 and min(boots) >= 2  # every station booted again
    assert metrics.reconnects >= 200
    answered = {action: record.answered for action, record in metrics.actions.items()}
    assert answered == dict(csms.received)  # each acknowledged exactly once, both sides agree
    assert metrics.transaction_messages_requeued > 0  # the restart did catch some in flight
    assert metrics.transaction_messages_dropped == 0
    # Sessions went on metering offline; all of it was held and delivered after the boot.
    assert metrics.transaction_messages_queued > metrics.transaction_messages_requeued
    assert metrics.transaction_messages_delivered_late == metrics.transaction_messages_queued
    assert metrics.transaction_messages_undelivered == 0
    # Every transaction message produced was acknowledged once (or would be counted).
    acknowledged = sum(answered[action] for action in TRANSACTION_ACTIONS if action in answered)
    assert metrics.transaction_messages == acknowledged
    assert metrics.sessions_started > 100
    assert metrics.sessions_started == metrics.sessions_stopped  # every session ended, acked
    assert run.drained and not run.interrupted
