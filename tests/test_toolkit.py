"""The toolkit connection against the embedded CSMS, over real sockets on 127.0.0.1."""

from __future__ import annotations

import collections
import json
import socket
import ssl
from collections.abc import Callable
from typing import Any

import pytest
import trio
import trio_websocket
import trustme

import fleet.toolkit as tk
from fleet.csms import DefaultCsmsHandlers16, DefaultCsmsHandlers201, EmbeddedCsms, open_csms
from fleet.ocpp import (
    CallError,
    Direction,
    ErrorCode,
    InternalCallError,
    LocalProtocolError,
    NotImplementedCallError,
    SecurityCallError,
    codegen,
    minimal_example,
    v16,
    v201,
)
from tests import scenarios

VERSIONS = {"1.6": v16, "2.0.1": v201}
BOOT_16 = v16.BootNotificationRequest(charge_point_vendor="Acme", charge_point_model="X1")


# -- the seed toolkit's four scenarios -------------------------------------------------------


async def test_charge_16() -> None:
    async with open_csms() as csms:
        assert await scenarios.charge_16(csms.url, "cp-1") == 1
        assert csms.received_by_station["cp-1"] == {
            "Authorize": 1,
            "StatusNotification": 2,
            "StartTransaction": 1,
        }


async def test_remote_charge_16() -> None:
    async with open_csms() as csms, trio.open_nursery() as nursery:

        async def csms_side() -> None:
            station = await csms.wait_for_station("cp-2")
            answer = await station.remote_start_transaction(
                v16.RemoteStartTransactionRequest(id_tag="Tag2")
            )
            assert answer.status == v16.RemoteStartStopStatus.ACCEPTED

        nursery.start_soon(csms_side)
        assert await scenarios.remote_charge_16(csms.url, "cp-2") == ("Tag2", 1)
        assert csms.received_by_station["cp-2"] == {"StatusNotification": 2, "StartTransaction": 1}


async def test_charge_201() -> None:
    async with open_csms() as csms:
        assert await scenarios.charge_201(csms.url, "cp-3") == "Accepted"
        assert csms.received_by_station["cp-3"] == {
            "Authorize": 1,
            "StatusNotification": 1,
            "TransactionEvent": 1,
        }


async def test_remote_charge_201() -> None:
    async with open_csms() as csms, trio.open_nursery() as nursery:

        async def csms_side() -> None:
            station = await csms.wait_for_station("cp-4")
            await station.request_start_transaction(
                v201.RequestStartTransactionRequest(
                    id_token=v201.IdToken(id_token="Tag2", type=v201.IdTokenEnum.CENTRAL),
                    remote_start_id=7,
                )
            )

        nursery.start_soon(csms_side)
        assert await scenarios.remote_charge_201(csms.url, "cp-4") == "Tag2"
        assert csms.received_by_station["cp-4"] == {"StatusNotification": 1, "TransactionEvent": 1}


# -- every action, both ways -----------------------------------------------------------------


def actions_sent_by(version: str, direction: Direction) -> list[str]:
    return [n for n, s in VERSIONS[version].ACTIONS.items() if direction in s.direction]


@pytest.mark.parametrize("version", VERSIONS)
async def test_every_charge_point_action_through_its_typed_method(version: str) -> None:
    module = VERSIONS[version]
    actions = actions_sent_by(version, Direction.CHARGE_POINT_TO_CSMS)
    async with open_csms() as csms, tk.connect(csms.url, "all", version=version) as cp:
        for action in actions:
            spec = module.ACTIONS[action]
            method = getattr(cp, codegen.snake_case(action))
            response = await method(minimal_example(spec.request))
            assert type(response) is spec.response, action
        assert csms.received_by_station["all"] == dict.fromkeys(actions, 1)
    assert len(actions) == {"1.6": 14, "2.0.1": 25}[version]


def answering_everything(version: str) -> tk.ChargePointHandlers16 | tk.ChargePointHandlers201:
    """Handlers overriding every CSMS action: plain ones, and async ones for every other."""
    module = VERSIONS[version]
    base = tk.ChargePointHandlers16 if version == "1.6" else tk.ChargePointHandlers201
    methods: dict[str, Callable[..., Any]] = {}
    for i, action in enumerate(actions_sent_by(version, Direction.CSMS_TO_CHARGE_POINT)):
        response = minimal_example(module.ACTIONS[action].response)
        if i % 2:

            async def answer(self: Any, request: Any, _response: Any = response) -> Any:
                await trio.sleep(0)
                return _response
        else:

            def answer(self: Any, request: Any, _response: Any = response) -> Any:
                return _response

        methods["on_" + codegen.snake_case(action)] = answer
    return type("AnswerEverything", (base,), methods)()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overridden", [False, True], ids=["default", "overridden"])
async def test_every_csms_action_reaches_the_handlers(version: str, overridden: bool) -> None:
    module = VERSIONS[version]
    actions = actions_sent_by(version, Direction.CSMS_TO_CHARGE_POINT)
    handlers = answering_everything(version) if overridden else None
    async with open_csms() as csms, tk.connect(csms.url, "cp", version=version, handlers=handlers):
        station = await csms.wait_for_station("cp")
        for action in actions:
            spec = module.ACTIONS[action]
            call = getattr(station, codegen.snake_case(action))
            if overridden:
                assert await call(minimal_example(spec.request)) == minimal_example(spec.response)
            else:
                with pytest.raises(NotImplementedCallError, match=action):
                    await call(minimal_example(spec.request))
    assert len(actions) == {"1.6": 26, "2.0.1": 40}[version]


async def test_generic_call_by_name_is_validated() -> None:
    async with open_csms() as csms, tk.connect(csms.url, "cp") as cp:
        answer = await cp.call("Heartbeat", {})
        assert isinstance(answer, v16.HeartbeatResponse)
        with pytest.raises(LocalProtocolError, match="chargePointVendor"):
            await cp.call("BootNotification", {"chargePointModel": "X1"})
        with pytest.raises(LocalProtocolError, match="does not send"):
            await cp.call("Reset", {"type": "Soft"})
        assert csms.received == {"Heartbeat": 1}


# -- errors, timeouts, queueing, lost connections --------------------------------------------


class RefusingCsms(DefaultCsmsHandlers16):
    def on_authorize(self, request: v16.AuthorizeRequest) -> v16.AuthorizeResponse:
        raise CallError(ErrorCode.SECURITY_ERROR, "blocked tag", {"tag": request.id_tag})

    def on_heartbeat(self, request: v16.HeartbeatRequest) -> v16.HeartbeatResponse:
        raise RuntimeError("database down")

    def on_data_transfer(self, request: v16.DataTransferRequest) -> Any:
        return v16.HeartbeatResponse(current_time=scenarios.now())  # the wrong type


async def test_call_errors_raise_typed_exceptions() -> None:
    async with (
        open_csms(handlers=lambda csms, sid, v: RefusingCsms(csms, sid)) as csms,
        tk.connect(csms.url, "cp") as cp,
    ):
        with pytest.raises(SecurityCallError) as refused:
            await cp.authorize(v16.AuthorizeRequest(id_tag="bad"))
        assert (refused.value.code, refused.value.description) == ("SecurityError", "blocked tag")
        assert refused.value.details == {"tag": "bad"}
        assert cp.last_call is not None and cp.last_call.outcome == "error"
        assert cp.last_call.error_code == "SecurityError"
        # A failing handler, or one that returns the wrong type, is an InternalError.
        with pytest.raises(InternalCallError, match="RuntimeError"):
            await cp.heartbeat(v16.HeartbeatRequest())
        with pytest.raises(InternalCallError, match="invalid DataTransfer response"):
            await cp.data_transfer(v16.DataTransferRequest(vendor_id="v"))
        station = csms.station("cp")
        assert station.stats.handler_errors == 2
        # The connection survives all of it.
        assert isinstance(await cp.boot_notification(BOOT_16), v16.BootNotificationResponse)


async def test_timeout_then_late_answer_is_counted_and_the_connection_goes_on() -> None:
    timings: list[tk.CallTiming] = []
    async with (
        open_csms(response_delay={"Heartbeat": 0.5}) as csms,
        tk.connect(csms.url, "cp", call_timeout=0.1, on_call=timings.append) as cp,
    ):
        with pytest.raises(tk.CallTimeout, match=r"Heartbeat: no answer within 0\.1 s"):
            await cp.heartbeat(v16.HeartbeatRequest())
        assert timings[-1].outcome == "timeout" and timings[-1].answered_at is None
        # The next call is sent at once; the late Heartbeat answer is counted, not mistaken.
        await cp.boot_notification(BOOT_16, timeout=5)
        assert cp.stats.late_replies == 1
        assert [t.outcome for t in timings] == ["timeout", "result"]


async def test_concurrent_calls_queue_in_order_one_outstanding_at_a_time() -> None:
    order: list[str] = []
    in_flight = 0
    most_in_flight = 0

    class Slow(DefaultCsmsHandlers16):
        async def on_data_transfer(self, request: v16.DataTransferRequest) -> Any:
            nonlocal in_flight, most_in_flight
            in_flight += 1
            most_in_flight = max(most_in_flight, in_flight)
            order.append(request.message_id)  # type: ignore[arg-type]
            await trio.sleep(0.02)
            in_flight -= 1
            return v16.DataTransferResponse(status=v16.DataTransferStatus.ACCEPTED)

    async with (
        open_csms(handlers=lambda csms, sid, v: Slow(csms, sid)) as csms,
        tk.connect(csms.url, "cp") as cp,
        trio.open_nursery() as nursery,
    ):
        for i in range(6):
            request = v16.DataTransferRequest(vendor_id="v", message_id=str(i))
            nursery.start_soon(cp.data_transfer, request)
            await trio.sleep(0)  # start them in a known order
    assert order == [str(i) for i in range(6)]
    assert most_in_flight == 1


async def test_lost_connection_fails_the_waiting_call_and_later_ones() -> None:
    class Hangup(DefaultCsmsHandlers16):
        async def on_heartbeat(self, request: v16.HeartbeatRequest) -> Any:
            await self.csms.station(self.station_id).aclose(1011, "going away")
            await trio.sleep_forever()

    async with (
        open_csms(handlers=lambda csms, sid, v: Hangup(csms, sid)) as csms,
        tk.connect(csms.url, "cp") as cp,
    ):
        with pytest.raises(tk.ConnectionLost) as lost:
            await cp.heartbeat(v16.HeartbeatRequest())
        assert lost.value.code == 1011
        assert cp.closed
        assert cp.last_call is not None and cp.last_call.outcome == "lost"
        with pytest.raises(tk.ConnectionLost, match="closed"):
            await cp.boot_notification(BOOT_16)


async def test_async_handler_may_call_the_csms_while_answering() -> None:
    class StartsAtOnce(tk.ChargePointHandlers16):
        cp: tk.ChargePoint16
        transaction_id: int | None = None

        async def on_remote_start_transaction(
            self, request: v16.RemoteStartTransactionRequest
        ) -> v16.RemoteStartTransactionResponse:
            started = await self.cp.start_transaction(
                v16.StartTransactionRequest(
                    connector_id=1, id_tag=request.id_tag, meter_start=0, timestamp=scenarios.now()
                )
            )
            self.transaction_id = started.transaction_id
            return v16.RemoteStartTransactionResponse(status=v16.RemoteStartStopStatus.ACCEPTED)

    handlers = StartsAtOnce()
    async with open_csms() as csms, tk.connect(csms.url, "cp", handlers=handlers) as cp:
        handlers.cp = cp
        station = await csms.wait_for_station("cp")
        await station.remote_start_transaction(v16.RemoteStartTransactionRequest(id_tag="t"))
        assert handlers.transaction_id == 1


# -- connecting: versions, auth, TLS, bad addresses ------------------------------------------


async def test_a_host_that_does_not_resolve_is_a_clear_error() -> None:
    class NoSuchHost(trio.abc.HostnameResolver):
        async def getaddrinfo(self, host: Any, *args: Any, **kwargs: Any) -> Any:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

        async def getnameinfo(self, *args: Any) -> Any:
            raise NotImplementedError

    trio.socket.set_custom_hostname_resolver(NoSuchHost())  # this test's run only
    url = "ws://csms.example.invalid:9000/ocpp"
    with pytest.raises(tk.ConnectError) as caught:
        async with tk.connect(url, "cp"):
            pass
    assert str(caught.value) == (
        f"cannot resolve the host 'csms.example.invalid' of {url}/cp: Name or service not known"
    )


async def test_refused_subprotocol_is_a_clear_error() -> None:
    async with open_csms(versions=["ocpp1.6"]) as csms:
        with pytest.raises(tk.SubprotocolRefused, match=r"ocpp2\.0\.1"):
            async with tk.connect(csms.url, "cp", version="2.0.1"):
                pass
        assert csms.handshakes_refused == 1
    with pytest.raises(ValueError, match=r"unknown OCPP version '2\.0'"):
        async with tk.connect("ws://127.0.0.1:1", "cp", version="2.0"):
            pass


async def test_basic_auth_accepted_and_refused_without_leaking_the_password() -> None:
    async with open_csms(basic_auth={"cp": "s3cret-pw"}) as csms:
        async with tk.connect(csms.url, "cp", password="s3cret-pw") as cp:
            await cp.heartbeat(v16.HeartbeatRequest())
        for password in ("wrong-pw", None):
            with pytest.raises(tk.HandshakeRejected) as refused:
                async with tk.connect(csms.url, "cp", password=password):
                    pass
            assert refused.value.status_code == 401
            assert "wrong-pw" not in str(refused.value)
        assert csms.handshakes_refused == 2
        assert csms.connections_accepted == 1


async def test_credentials_in_the_url_are_sent_as_basic_auth() -> None:
    async with open_csms(basic_auth={"cp": "s3cret pw/1"}) as csms:
        host = csms.url.removeprefix("ws://")
        async with tk.connect(f"ws://cp:s3cret%20pw%2F1@{host}", "cp") as cp:
            await cp.heartbeat(v16.HeartbeatRequest())
        with pytest.raises(tk.HandshakeRejected) as refused:
            async with tk.connect(f"ws://cp:wrong@{host}", "cp"):
                pass
        assert "wrong" not in str(refused.value)
        assert csms.connections_accepted == 1 and csms.handshakes_refused == 1


async def test_credentials_in_the_url_never_appear_in_errors() -> None:
    with pytest.raises(tk.ConnectError) as failed:
        async with tk.connect("ws://user:hunter2@127.0.0.1:1/ocpp", "cp"):
            pass
    assert "hunter2" not in str(failed.value)
    assert "127.0.0.1:1" in str(failed.value)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, *, require_client_cert: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    if require_client_cert:
        ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


async def test_tls_with_a_ca_bundle(ca: trustme.CA) -> None:
    async with open_csms(ssl_context=server_context(ca, require_client_cert=False)) as csms:
        assert csms.url.startswith("wss://")
        with ca.cert_pem.tempfile() as ca_file:
            async with tk.connect(csms.url, "cp", ca_file=ca_file) as cp:
                await cp.heartbeat(v16.HeartbeatRequest())
        # Without our CA the server is not trusted: one clear error.
        with pytest.raises(tk.ConnectError, match=r"TLS with wss://127\.0\.0\.1"):
            async with tk.connect(csms.url, "cp"):
                pass


async def test_tls_with_a_client_certificate(ca: trustme.CA) -> None:
    client = ca.issue_cert("cp-cert")
    async with open_csms(ssl_context=server_context(ca, require_client_cert=True)) as csms:
        with (
            ca.cert_pem.tempfile() as ca_file,
            client.private_key_and_cert_chain_pem.tempfile() as cert_file,
        ):
            async with tk.connect(csms.url, "cp", ca_file=ca_file, client_cert=cert_file) as cp:
                await cp.heartbeat(v16.HeartbeatRequest())
            with pytest.raises(tk.ConnectError):
                # The server refuses after the handshake: bound how long we wait for it.
                async with tk.connect(csms.url, "cp", ca_file=ca_file, connect_timeout=1) as cp:
                    # TLS 1.3 may report the missing certificate only on first use.
                    await cp.heartbeat(v16.HeartbeatRequest(), timeout=2)
    assert csms.received == {"Heartbeat": 1}


async def test_keep_alive_pings_keep_a_healthy_connection_open() -> None:
    async with (
        open_csms() as csms,
        tk.connect(csms.url, "cp", ping_interval=0.05, ping_timeout=1) as cp,
    ):
        await trio.sleep(0.3)
        assert not cp.closed
        await cp.heartbeat(v16.HeartbeatRequest())


# -- a CSMS that sends garbage ----------------------------------------------------------------


async def test_garbage_from_the_csms_is_answered_or_counted_and_the_station_goes_on() -> None:
    replies: list[str] = []

    async def rude_csms(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept(subprotocol="ocpp2.0.1")
        for frame in [
            "not json",
            b"\x00binary",
            '[2,"g1","RequestStartTransaction",{"remoteStartId":1}]',  # idToken missing
            '[2,"g2","NoSuchAction",{}]',
            '[3,"nobody-asked",{}]',
        ]:
            await ws.send_message(frame)
        for _ in range(4):
            replies.append(await ws.get_message())
        call = await ws.get_message()  # the station still works: it sends its heartbeat
        message_id = call.split('"')[1]
        await ws.send_message(f'[3,"{message_id}",{{"currentTime":"2026-01-01T00:00:00Z"}}]')
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            trio_websocket.serve_websocket, rude_csms, "127.0.0.1", 0, None
        )
        url = f"ws://127.0.0.1:{listeners.port}"
        async with tk.connect(url, "cp", version="2.0.1") as cp:
            with trio.fail_after(5):
                while len(replies) < 4:
                    await trio.sleep(0.01)
            await cp.heartbeat(v201.HeartbeatRequest())
            assert cp.stats.invalid_messages == 4
            assert cp.stats.unexpected_replies == 1
        nursery.cancel_scope.cancel()
    codes = [f"{frame[1]}:{frame[2]}" for frame in map(json.loads, replies)]
    assert codes == [
        "-1:RpcFrameworkError",
        "-1:RpcFrameworkError",
        "g1:OccurenceConstraintViolation",
        "g2:NotImplemented",
    ]


async def test_csms_counts_survive_reconnects_and_a_new_connection_replaces_the_old() -> None:
    csms = EmbeddedCsms()
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.run)
        async with tk.connect(csms.url, "cp") as first:
            await first.heartbeat(v16.HeartbeatRequest())
            async with tk.connect(csms.url, "cp") as second:
                await second.heartbeat(v16.HeartbeatRequest())
                with trio.fail_after(5):
                    await first.wait_closed()
        nursery.cancel_scope.cancel()
    assert csms.received_by_station["cp"] == collections.Counter(Heartbeat=2)
    assert csms.connections_accepted == 2


def test_default_csms_handlers_answer_every_charge_point_action() -> None:
    csms = EmbeddedCsms()
    for handlers, module in ((DefaultCsmsHandlers16, v16), (DefaultCsmsHandlers201, v201)):
        instance = handlers(csms, "cp")
        for action, spec in module.ACTIONS.items():
            if Direction.CHARGE_POINT_TO_CSMS in spec.direction:
                method = getattr(instance, "on_" + codegen.snake_case(action))
                assert type(method(minimal_example(spec.request))) is spec.response


async def test_a_stalled_csms_answers_only_when_the_stall_ends() -> None:
    async with open_csms() as csms, tk.connect(csms.url, "cp") as cp:
        await cp.heartbeat(v16.HeartbeatRequest())
        csms.stall(0.3)
        started = trio.current_time()
        await cp.heartbeat(v16.HeartbeatRequest())
        assert trio.current_time() - started >= 0.3
        started = trio.current_time()
        await cp.heartbeat(v16.HeartbeatRequest())  # the stall is over
        assert trio.current_time() - started < 0.2


async def test_a_failed_handshake_closes_its_socket_at_once() -> None:
    """A reconnect storm against a CSMS that accepts TCP but never answers the handshake must
    not hold a descriptor per attempt until the garbage collector runs."""
    import gc
    import os

    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    accepted: list[trio.SocketStream] = []

    async def silent() -> None:
        while True:
            accepted.append(await listeners[0].accept())

    gc.disable()  # only an explicit close may free them
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(silent)
            before = len(os.listdir("/proc/self/fd"))
            for _ in range(20):
                with pytest.raises(tk.ConnectError, match=r"took over 0\.05 s"):
                    async with tk.open_station_websocket(
                        f"ws://127.0.0.1:{port}/ocpp", "cp", "1.6", connect_timeout=0.05
                    ):
                        pass
            ours = len(os.listdir("/proc/self/fd")) - before - len(accepted)
            assert ours <= 0  # the server's ends are its own; none of ours is left open
            nursery.cancel_scope.cancel()
    finally:
        gc.enable()
        for stream in accepted:
            await trio.aclose_forcefully(stream)
        for listener in listeners:
            await listener.aclose()
