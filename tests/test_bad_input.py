"""Bad input never crashes anything: random frames over real websockets, to a fleet station
(from a rude CSMS) and to the embedded CSMS (from a rude station). Each is answered with the
right CALLERROR or counted, and the connection goes on."""

from __future__ import annotations

import json
import random

import trio
import trio_websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.csms import open_csms
from fleet.metrics import Metrics
from fleet.ocpp import OcppVersion, error_codes
from fleet.profile import Distribution
from fleet.station import StationActor, StationMachine16, StationMachine201, StationSettings

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
frames = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    json_values.map(json.dumps),
    st.tuples(
        st.sampled_from([2, 3, 4, 9, "2"]),
        st.text(min_size=1, max_size=12),
        st.sampled_from(
            [
                "Reset",
                "RemoteStartTransaction",
                "RequestStartTransaction",
                "GetVariables",
                "TriggerMessage",
                "Heartbeat",
                "Nope",
            ]
        ),
        json_values,
    ).map(lambda t: json.dumps(list(t))),
    st.just("x" * 200_000),  # a huge message
)
SETTINGS = settings(
    max_examples=1000,  # two tests: 2,000 examples, up to 8 frames each
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def machine(version: OcppVersion):  # type: ignore[no-untyped-def]
    settings_ = StationSettings(
        connectors=1,
        first_start=Distribution.constant(3600),
        length=Distribution.constant(60),
        idle=Distribution.constant(60),
        power_kw=Distribution.constant(11),
        meter_interval=60,
        id_tags=["T"],
    )
    cls = StationMachine16 if version is OcppVersion.V16 else StationMachine201
    return cls("RUDE-1", settings_, random.Random(1))


@SETTINGS
@given(batch=st.lists(frames, min_size=1, max_size=8), version=st.sampled_from(list(OcppVersion)))
def test_a_station_survives_whatever_a_csms_sends(batch: list, version: OcppVersion) -> None:
    async def scenario() -> None:
        replies: list[str | bytes] = []
        alive = trio.Event()

        async def rude_csms(request: trio_websocket.WebSocketRequest) -> None:
            ws = await request.accept(subprotocol=version.value)
            boot = json.loads(await ws.get_message())
            await ws.send_message(
                json.dumps(
                    [
                        3,
                        boot[1],
                        {
                            "status": "Accepted",
                            "currentTime": "2026-01-01T00:00:00Z",
                            "interval": 300,
                        },
                    ]
                )
            )
            for frame in batch:
                await ws.send_message(frame)
            # Then a good CALL: the station must still answer it, in step.
            await ws.send_message(json.dumps([2, "probe", "ClearCache", {}]))
            while True:
                try:
                    message = await ws.get_message()
                except trio_websocket.ConnectionClosed:
                    return  # the station left, cleanly, at the end
                value = json.loads(message)
                if value[0] == 2:  # its own calls (statuses): answer them
                    await ws.send_message(json.dumps([3, value[1], {}]))
                elif len(value) > 1 and value[1] == "probe":
                    assert value[0] == 3 and value[2] == {"status": "Accepted"}
                    alive.set()
                else:
                    replies.append(message)

        metrics = Metrics(trio.current_time())
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                server = await nursery.start(
                    trio_websocket.serve_websocket, rude_csms, "127.0.0.1", 0, None
                )
                actor = StationActor(
                    machine(version), f"ws://127.0.0.1:{server.port}", metrics, call_timeout=5
                )
                nursery.start_soon(actor.run)
                await alive.wait()  # the station is alive and in step
                actor.request_stop()  # and it ends cleanly, as at the end of a run
                while not actor.done:
                    await trio.sleep(0.005)
                nursery.cancel_scope.cancel()
        assert metrics.disconnects == 0 or any(
            len(f) >= 100_000 for f in batch if isinstance(f, str)
        )
        for reply in replies:  # whatever it answered is a well-formed CALLRESULT or CALLERROR
            value = json.loads(reply)
            assert value[0] in (3, 4)
            if value[0] == 4:
                assert value[2] in error_codes(version) or value[2] == "NotSupported"

    trio.run(scenario)


@SETTINGS
@given(batch=st.lists(frames, min_size=1, max_size=8), version=st.sampled_from(list(OcppVersion)))
def test_the_embedded_csms_survives_whatever_a_station_sends(
    batch: list, version: OcppVersion
) -> None:
    async def scenario() -> None:
        async with open_csms() as csms:
            with trio.fail_after(20):
                ws = await trio_websocket.connect_websocket_url(
                    csms._nursery, f"{csms.url}/RUDE", subprotocols=[version.value]
                )
                for frame in batch:
                    await ws.send_message(frame)
                await ws.send_message(json.dumps([2, "last", "Heartbeat", {}]))
                while True:  # it answers what it must, and still answers a good call
                    message = json.loads(await ws.get_message())
                    assert message[0] in (3, 4)
                    if message[0] == 4:
                        assert message[2] in error_codes(version)
                    if message[1] == "last":
                        assert message[0] == 3
                        break
                await ws.aclose()
            assert csms.received_by_station["RUDE"]["Heartbeat"] >= 1

    trio.run(scenario)
