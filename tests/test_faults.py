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
    from tests.peers import wait_for
    from tests.test_fleet import profile_text

    text = (
        profile_text(
            count="count = 200",
            rate="rate = 400",
            duration='duration = "120s"',  # ended by the test once all is back: run.finish()
            length='length = { distribution = "uniform", min = "2s", max = "5s" }',
            meter_interval='meter_interval = "0.5s"',
        )
        + '\n[reconnect]\nwait_minimum = "0.2s"\nrandom_range = "0.5s"\n'
    )
    run = FleetRun(parse_profile(text))

    def booted_again() -> bool:
        assert run.csms is not None
        counts = run.csms.received_by_station.values()
        return len(counts) == 200 and all(c["BootNotification"] >= 2 for c in counts)

    async def restart_the_csms() -> None:
        # Conditions, not the clock: a busy machine ramps and reconnects slower.
        await wait_for(lambda: run.started, 60)
        metrics = run.metrics  # the run's, made as it starts
        await wait_for(lambda: metrics.connected_stations == 200, 60)
        # Every first boot answered: a restart while one is in flight leaves that station
        # with one boot the CSMS saw, and booted_again() waits for two.
        await wait_for(lambda: metrics.first_boots == 200, 60)
        await wait_for(lambda: metrics.sessions_started >= 50, 60)  # sessions under way
        assert run.csms is not None
        await run.csms.restart(1.0)
        await wait_for(booted_again, 60)
        await wait_for(lambda: metrics.connected_stations == 200, 60)
        await trio.sleep(1.0)  # a second of sessions after the storm, then the planned end
        run.finish()

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


async def test_boots_answered_pending_or_rejected_by_share() -> None:
    request = v16.BootNotificationRequest(charge_point_vendor="v", charge_point_model="m")
    async with (
        open_csms(boot_pending_share=0.3, boot_rejected_share=0.2, seed=5) as csms,
        tk.connect(csms.url, "cp") as cp,
    ):
        statuses = [(await cp.boot_notification(request)).status for _ in range(300)]
    counts = {status: statuses.count(status) for status in set(statuses)}
    assert counts["Pending"] == csms.faults_injected["boot pending"]
    assert counts["Rejected"] == csms.faults_injected["boot rejected"]
    assert 60 <= counts["Pending"] <= 120 and 30 <= counts["Rejected"] <= 90  # ~5 sd
    assert counts["Accepted"] == 300 - counts["Pending"] - counts["Rejected"]


async def test_per_action_delay_with_a_default() -> None:
    async with (
        open_csms(response_delay={"*": 0.0, "Heartbeat": 0.3}) as csms,
        tk.connect(csms.url, "cp") as cp,
    ):
        started = trio.current_time()
        await cp.status_notification(
            v16.StatusNotificationRequest(connector_id=0, error_code="NoError", status="Available")
        )
        quick = trio.current_time() - started
        await cp.heartbeat(HEARTBEAT)
        slow = trio.current_time() - started - quick
    assert quick < 0.2 <= 0.3 <= slow


@pytest.mark.deadline(60)
async def test_a_profile_schedules_faults_and_the_report_shows_the_recovery() -> None:
    """A profile's [[embedded.faults]]: a restart and a repeated drop, at their times; the
    report has one record each with the connected count before, the recovery time and the
    reconnect storm; faults stop when the run does, so the drain is clean."""
    from fleet.metrics import build_report, format_summary
    from fleet.profile import parse_profile
    from fleet.run import FleetRun
    from tests.test_fleet import profile_text

    text = (
        profile_text(
            count="count = 60",
            rate="rate = 200",
            duration='duration = "8s"',
        )
        + '\n[reconnect]\nwait_minimum = "0.1s"\nrandom_range = "0.3s"\n'
        + '[[embedded.faults]]\nat = "2s"\nrestart = "0.5s"\n'
        + '[[embedded.faults]]\nat = "4.5s"\nevery = "2s"\ndrop = 0.5\n'
    )
    run = FleetRun(parse_profile(text))
    await run.run()
    csms = run.csms
    assert csms is not None and csms.restarts == 1
    assert csms.dropped >= 2 * 25  # at 4.5 s and 6.5 s, half of the ~60 connected each time
    kinds = [(mark.kind, round(mark.at, 1)) for mark in run.metrics.faults]
    assert kinds == [("restart", 2.0), ("drop", 4.5), ("drop", 6.5)]
    report = build_report(
        run.metrics,
        name="faults",
        profile={},
        started_at=run.started_at_wall,  # type: ignore[arg-type]
        ended_at=run.ended_at_wall,  # type: ignore[arg-type]
        ended_monotonic=run.ended_at,  # type: ignore[arg-type]
    )
    restart = report.faults[0]
    assert restart.connected_before == 60
    assert restart.recovery_s is not None and 0.5 < restart.recovery_s < 4
    assert restart.peak_connects_per_s >= 20  # the storm: most reconnect within a second
    assert all(f.recovery_s is not None for f in report.faults)
    assert "restart (down 0.5 s): 60 connected before; all back after" in format_summary(report)
    # Nothing lost to the faults: every transaction message answered, dropped or counted.
    counters = report.counters
    answered = sum(
        report.actions[a].answered
        for a in ("StartTransaction", "StopTransaction", "MeterValues", "TransactionEvent")
        if a in report.actions
    )
    accounted = answered + counters.transaction_messages_dropped
    assert counters.transaction_messages == accounted + counters.transaction_messages_undelivered
    assert counters.transaction_messages_queued > 0  # sessions metered on while offline
    assert run.drained


def test_fault_lines_in_the_summary() -> None:
    from fleet.metrics import FaultRecord, describe_fault

    def line(**fields: object) -> str:
        values: dict = {"kind": "drop", "amount": 0.1, "at_s": 25.0, "connected_before": 1000}
        values |= {"recovery_s": 4.1, "peak_connects_per_s": 48} | fields
        return describe_fault(FaultRecord(**values)).strip()

    assert line() == (
        "25.0 s  drop 10% of connections: 1,000 connected before; all back after 4.1 s; "
        "reconnect peak 48/s"
    )
    assert line(kind="restart", amount=5.0, recovery_s=None).startswith(
        "25.0 s  restart (down 5 s): 1,000 connected before; not all back by the end"
    )
    assert line(kind="stall", amount=3.0) == "25.0 s  stall 3 s: 1,000 connected before"
    assert line(connected_before=0) == "25.0 s  drop 10% of connections: no station was connected"


@pytest.mark.deadline(10_000)  # virtual seconds: the autojump clock skips the waits
async def test_the_fault_schedule_keeps_its_times_on_trio_clock(autojump_clock: object) -> None:
    import random

    from fleet.csms import run_fault_schedule
    from fleet.profile import parse_fault_option

    class FakeCsms:
        def __init__(self) -> None:
            self.rng = random.Random(1)
            self.log: list[tuple[float, str, float]] = []
            self.start = trio.current_time()

        def _note(self, what: str, amount: float) -> None:
            self.log.append((round(trio.current_time() - self.start, 6), what, amount))

        async def restart(self, down_for: float) -> None:
            self._note("restart", down_for)
            await trio.sleep(down_for)  # returns once listening again

        def drop_connections(self, share: float) -> int:
            self._note("drop", share)
            return 0

        def stall(self, seconds: float) -> None:
            self._note("stall", seconds)

    csms = FakeCsms()
    faults = [
        parse_fault_option("restart=5s,at=40s"),
        parse_fault_option("drop=0.1,at=25s,every=30s"),
        parse_fault_option("stall=3s,at=10s,every=50s,jitter=5s"),
    ]
    heard: list[str] = []
    with trio.move_on_after(100):
        await run_fault_schedule(
            csms,  # type: ignore[arg-type]
            faults,
            start=csms.start,
            on_fault=lambda kind, amount, now: heard.append(kind),
        )
    fixed = [entry for entry in csms.log if entry[1] != "stall"]
    assert fixed == [
        (25.0, "drop", 0.1),
        (40.0, "restart", 5.0),
        (55.0, "drop", 0.1),
        (85.0, "drop", 0.1),
    ]
    stalls = [at for at, what, _ in csms.log if what == "stall"]
    assert len(stalls) == 2 and 10 <= stalls[0] <= 15 and 60 <= stalls[1] <= 65
    assert stalls != [10.0, 60.0]  # the jitter moved them
    assert sorted(heard) == sorted(what for _, what, _ in csms.log)
