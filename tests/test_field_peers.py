"""The toolkit and the fleet against CSMSs that behave like the field (issue 12, item 5).

A CSMS closes connections itself (1000, 1001, 1011), resets them with no close frame, never
answers a station's close frame, answers it late, or answers calls late. Stations reconnect
and boot again, closes stay bounded, runs end on time, nothing escapes, and no transaction
message is lost uncounted. The embedded CSMS runs in-process (fast, deterministic); the
`ocpp`-library CSMS (another websocket stack, asyncio + websockets) as a subprocess.
"""

from __future__ import annotations

import functools

import pytest
import trio

import fleet.toolkit as tk
from fleet.csms import open_csms
from fleet.ocpp import v16
from fleet.profile import parse_profile
from fleet.run import FleetRun
from fleet.station import TRANSACTION_ACTIONS
from fleet.toolkit._chargepoint import CLOSE_TIMEOUT
from tests.peers import field_events, library_csms, wait_for
from tests.test_ping_race import boot, fleet_profile

HEARTBEAT = v16.HeartbeatRequest()


# -- the toolkit -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001, 1011])
async def test_a_close_by_the_csms_reaches_the_toolkit_with_its_code(code: int) -> None:
    async with open_csms(close_after=0.2, close_code=code) as csms:
        for _ in range(2):  # and the station connects and boots again
            async with tk.connect(csms.url, "cp") as cp:
                await boot(cp)
                with trio.fail_after(5):
                    await cp.wait_closed()
                with pytest.raises(tk.ConnectionLost) as lost:
                    await cp.heartbeat(HEARTBEAT)
                assert lost.value.code == code
        assert csms.faults_injected == {f"closed {code}": 2}
        assert csms.received_by_station["cp"]["BootNotification"] == 2


async def test_closing_a_share_of_connections_with_a_code_now() -> None:
    async with open_csms(seed=2) as csms, trio.open_nursery() as nursery:
        codes: list[int | None] = []

        async def station(name: str) -> None:
            async with tk.connect(csms.url, name) as cp:
                await cp.wait_closed()
                with pytest.raises(tk.ConnectionLost) as lost:
                    await cp.heartbeat(HEARTBEAT)
                codes.append(lost.value.code)

        for i in range(4):
            nursery.start_soon(station, f"cp-{i}")
        await wait_for(lambda: len(csms.stations) == 4)
        assert csms.close_connections(0.5, 1011) == 2
        await wait_for(lambda: len(codes) == 2)
        assert codes == [1011, 1011] and len(csms.stations) == 2
        assert csms.faults_injected == {"closed 1011": 2}
        nursery.cancel_scope.cancel()


async def test_a_tcp_reset_is_a_lost_connection_and_the_station_comes_back() -> None:
    async with open_csms(reset_after=0.2) as csms:
        for _ in range(2):
            async with tk.connect(csms.url, "cp") as cp:
                await boot(cp)
                with trio.fail_after(5):
                    await cp.wait_closed()
                with pytest.raises(tk.ConnectionLost) as lost:
                    await cp.heartbeat(HEARTBEAT)
                assert lost.value.code == 1006  # abnormal: no close frame came
        assert csms.faults_injected == {"reset": 2}
        assert csms.received_by_station["cp"]["BootNotification"] == 2
        # reset_connections() does the same on demand
        async with tk.connect(csms.url, "cp") as cp:
            await boot(cp)
            csms.field.reset_after = None
            assert csms.reset_connections(1.0) == 1
            with trio.fail_after(5):
                await cp.wait_closed()


async def test_a_close_never_answered_is_given_up_after_the_close_timeout() -> None:
    async with open_csms(ignore_close_share=1.0) as csms:
        async with tk.connect(csms.url, "cp") as cp:
            await boot(cp)
            closing = trio.current_time()
        took = trio.current_time() - closing
        assert CLOSE_TIMEOUT <= took < CLOSE_TIMEOUT + 1.5  # bounded, and nothing raised
        assert csms.faults_injected == {"close ignored": 1}
        # The CSMS's side ends when the station gives up and closes TCP.
        await wait_for(lambda: not csms.stations)
        async with tk.connect(csms.url, "cp") as cp:  # and the station connects again
            await boot(cp)
        assert csms.connection_faults == {}


@pytest.mark.parametrize(("slow", "bound"), [(0.5, CLOSE_TIMEOUT), (5.0, CLOSE_TIMEOUT + 1.5)])
async def test_a_slow_close_is_waited_for_up_to_the_close_timeout(
    slow: float, bound: float
) -> None:
    async with open_csms(slow_close=slow) as csms:
        async with tk.connect(csms.url, "cp") as cp:
            await boot(cp)
            closing = trio.current_time()
        took = trio.current_time() - closing
        assert min(slow, CLOSE_TIMEOUT) <= took < bound
        assert csms.faults_injected == {"close slowed": 1}
        await wait_for(lambda: not csms.stations, timeout=slow + 5)
        assert csms.connection_faults == {}


async def test_late_answers_arrive_late_and_in_order() -> None:
    async with open_csms(response_delay=0.3) as csms, tk.connect(csms.url, "cp") as cp:
        started = trio.current_time()
        await boot(cp)  # a boot and a heartbeat, each answered 0.3 s late
        assert trio.current_time() - started >= 0.6
        with pytest.raises(tk.CallTimeout):  # later than the caller waits: given up
            await cp.heartbeat(HEARTBEAT, timeout=0.1)
        await cp.heartbeat(HEARTBEAT)  # its late answer is counted and ignored
        assert cp.stats.late_replies == 1


async def test_the_library_csms_closes_resets_and_ignores_closes() -> None:
    """The same field behaviours from another websocket stack (websockets, asyncio)."""
    flags = ("--close-after", "0.2", "--close-code", "1011")
    async with library_csms(*flags) as csms, tk.connect(csms.url, "lib-close") as cp:
        await boot(cp)
        with trio.fail_after(5):
            await cp.wait_closed()
        with pytest.raises(tk.ConnectionLost) as lost:
            await cp.heartbeat(HEARTBEAT)
        assert lost.value.code == 1011
    async with library_csms("--reset-after", "0.2") as csms:
        async with tk.connect(csms.url, "lib-reset") as cp:
            await boot(cp)
            with trio.fail_after(5):
                await cp.wait_closed()
        await wait_for(lambda: field_events(csms, "reset") == ["lib-reset"])
    async with library_csms("--ignore-close") as csms:
        async with tk.connect(csms.url, "lib-ignore") as cp:
            await boot(cp)
            closing = trio.current_time()
        assert CLOSE_TIMEOUT <= trio.current_time() - closing < CLOSE_TIMEOUT + 1.5
        await wait_for(lambda: field_events(csms, "close ignored") == ["lib-ignore"])
    async with library_csms("--slow-close", "0.5", "--answer-delay", "0.2") as csms:
        async with tk.connect(csms.url, "lib-slow") as cp:
            started = trio.current_time()
            await boot(cp)
            assert trio.current_time() - started >= 0.4  # two answers, each 0.2 s late
            closing = trio.current_time()
        assert 0.5 <= trio.current_time() - closing < CLOSE_TIMEOUT
        assert csms.errors() == []


# -- the fleet -------------------------------------------------------------------------------

FIELD = {
    "close-1000": {"close_after": 1.0, "field_jitter": 0.5, "close_code": 1000},
    "close-1001": {"close_after": 1.0, "field_jitter": 0.5, "close_code": 1001},
    "close-1011": {"close_after": 1.0, "field_jitter": 0.5, "close_code": 1011},
    "reset": {"reset_after": 1.0, "field_jitter": 0.5},
    "close-never-answered": {"ignore_close_share": 1.0},
    "slow-close": {"slow_close": 1.0},
    "late-answers": {"response_delay": 0.2},
}
RECONNECTING = {"close-1000", "close-1001", "close-1011", "reset"}


def assert_nothing_lost(run: FleetRun) -> None:
    """Every transaction message produced was acknowledged once (none dropped or left)."""
    metrics = run.metrics
    answered = {action: record.answered for action, record in metrics.actions.items()}
    acknowledged = sum(answered.get(action, 0) for action in TRANSACTION_ACTIONS)
    assert metrics.transaction_messages > 0
    assert metrics.transaction_messages_dropped == 0
    assert metrics.transaction_messages_undelivered == 0
    assert metrics.transaction_messages == acknowledged
    assert metrics.sessions_started == metrics.sessions_stopped  # every session ended, acked
    assert not metrics.station_faults  # no station task died, nothing escaped


@pytest.mark.deadline(60)
@pytest.mark.parametrize("behaviour", sorted(FIELD))
async def test_a_fleet_run_against_the_embedded_csms_in_the_field(behaviour: str) -> None:
    options = FIELD[behaviour]
    async with open_csms(heartbeat_interval=1, seed=3, **options) as csms:  # type: ignore[arg-type]
        run = FleetRun(parse_profile(fleet_profile(csms.url, count=20, duration="4s")))
        started = trio.current_time()
        with trio.fail_after(40):
            await run.run()
        took = trio.current_time() - started
        # On time: the run, its drain (sessions end at once) and one bounded close.
        assert took < 4 + CLOSE_TIMEOUT + 6
        boots = {sid: c["BootNotification"] for sid, c in csms.received_by_station.items()}
        assert len(boots) == 20 and min(boots.values()) >= 1
        if behaviour in RECONNECTING:
            # Each station's connection ended every 1-1.5 s: all of them came back and
            # booted again, some of them with sessions under way.
            assert run.metrics.reconnects >= 20
            assert sum(boots.values()) >= 40
            assert run.metrics.transaction_messages_requeued + run.metrics.transaction_messages_queued > 0  # fmt: skip
        else:
            assert run.metrics.reconnects == 0
        assert_nothing_lost(run)
        await wait_for(lambda: not csms.stations, timeout=CLOSE_TIMEOUT + 5)
        assert csms.connection_faults == {}
        assert not run.interrupted


@pytest.mark.deadline(60)
@pytest.mark.parametrize(
    "flags",
    [
        ["--ping-interval", "0.2", "--close-after", "1", "--jitter", "0.5", "--close-code", "1011"],
        ["--ping-interval", "0.2", "--reset-after", "1", "--jitter", "0.5"],
    ],
    ids=["pings-and-closes-1011", "pings-and-resets"],
)
async def test_a_fleet_run_against_the_library_csms_in_the_field(flags: list[str]) -> None:
    async with library_csms(*flags) as csms:
        run = FleetRun(parse_profile(fleet_profile(csms.url, count=20, duration="4s")))
        with trio.fail_after(40):
            await run.run()
        booted = [line["station"] for line in csms.lines if line.get("action") == "BootNotification"]  # fmt: skip
        assert len(set(booted)) == 20 and len(booted) >= 40  # all of them, and again
        assert run.metrics.reconnects >= 20
        assert_nothing_lost(run)
        assert csms.errors() == []
        assert not run.interrupted


async def test_a_server_that_closes_during_the_handshake_is_said_at_once() -> None:
    """A proxy (or a TLS 1.3 server refusing the client's certificate) that closes the TCP
    connection instead of answering the websocket handshake: a clear error at once, not
    "took over N s" after the whole connect timeout."""

    async def close_after_the_request(stream: trio.SocketStream) -> None:
        await stream.receive_some(1000)  # the handshake request
        await stream.aclose()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, host="127.0.0.1"), close_after_the_request, 0
        )
        port = listeners[0].socket.getsockname()[1]
        with trio.fail_after(5), pytest.raises(tk.ConnectError) as failed:
            async with tk.connect(f"ws://127.0.0.1:{port}/ocpp", "cp", connect_timeout=30):
                pass
        assert str(failed.value) == (
            f"cannot connect to ws://127.0.0.1:{port}/ocpp/cp: the server closed the "
            "connection during the websocket handshake"
        )
        nursery.cancel_scope.cancel()
