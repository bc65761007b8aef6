"""Field behaviours of the embedded CSMS: what real CSMSs do to a connection, on purpose.

Real CSMSs ping (any CSMS on the Python `websockets` library does, every 20 s by default),
close connections themselves (1000 on a redeploy, 1001 going away, 1011 on an internal
error), lose them without a close frame (a TCP reset from a crashed process or a load
balancer), and sometimes never answer a station's close frame, or answer it late. The
embedded CSMS does each of these when asked, so stations and the toolkit meet them in tests:

- `FieldBehaviour.ping_interval`: a websocket ping to every connection this often (pings
  not answered in time are given up, never fatal: this CSMS does not enforce pongs).
- `close_after` (+ up to `jitter`): the CSMS closes each connection itself, with
  `close_code`, a clean close handshake.
- `reset_after` (+ up to `jitter`): the CSMS resets each connection: TCP RST
  (``SO_LINGER`` 0), no close frame.
- `ignore_close_share`: that share of connections never answers a station's close frame; the
  connection ends when the station gives up and closes TCP.
- `slow_close`: the other connections answer a station's close frame only after this long.

On demand, for all connections or a share: `close_connections()`, `reset_connections()`
(`EmbeddedCsms` has both as methods; the fault schedule has them as "close" and "reset").

trio-websocket (0.12) answers a close frame inside its reader task, with no hook. To hold
the answer back, a connection's stream is wrapped after the handshake (its private
``_stream``) and the close frame is recognised on the way out; whether it answers the
station's close or starts our own is read from its private ``_wsproto`` state.
tests/test_field_peers.py fails if that contract changes.
"""

from __future__ import annotations

import collections
import contextlib
import math
import random
import socket
import struct
from typing import Any

import trio
import trio_websocket
from wsproto.connection import ConnectionState
from wsproto.utilities import LocalProtocolError

__all__ = ["FieldBehaviour", "check_close_code", "reset_connection"]

_LINGER_ZERO = struct.pack("ii", 1, 0)


class FieldBehaviour:
    """How the embedded CSMS treats each connection (see the module's docstring).

    Args:
        ping_interval: seconds between pings to each connection; None: no pings.
        close_after: seconds after which the CSMS closes each connection; None: never.
        close_code: the close code of those closes (and of `close_connections()`'s default).
        reset_after: seconds after which the CSMS resets each connection; None: never.
        jitter: each close or reset up to this much later, at random (seeded).
        ignore_close_share: share (0..1) of connections that never answer a close frame.
        slow_close: seconds the other connections wait before answering a close frame.

    The attributes may be changed while the CSMS runs; each new connection reads them (and a
    change of `ping_interval` reaches running pings at their next tick).
    """

    def __init__(
        self,
        *,
        ping_interval: float | None = None,
        close_after: float | None = None,
        close_code: int = 1000,
        reset_after: float | None = None,
        jitter: float = 0.0,
        ignore_close_share: float = 0.0,
        slow_close: float = 0.0,
    ) -> None:
        for name, value in (
            ("ping_interval", ping_interval),
            ("close_after", close_after),
            ("reset_after", reset_after),
        ):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be a number of seconds > 0, not {value!r}")
        if not (jitter >= 0 and slow_close >= 0):
            raise ValueError("jitter and slow_close must not be negative")
        if not 0 <= ignore_close_share <= 1:
            raise ValueError("ignore_close_share is between 0 and 1")
        check_close_code(close_code)
        self.ping_interval = ping_interval
        self.close_after = close_after
        self.close_code = close_code
        self.reset_after = reset_after
        self.jitter = jitter
        self.ignore_close_share = ignore_close_share
        self.slow_close = slow_close
        self.pings_sent = 0
        self.pongs_received = 0

    @property
    def active(self) -> bool:
        """Whether anything here applies to new connections."""
        return bool(
            self.ping_interval
            or self.close_after
            or self.reset_after
            or self.ignore_close_share
            or self.slow_close
        )

    def attach(
        self,
        ws: trio_websocket.WebSocketConnection,
        session: Any,
        nursery: trio.Nursery,
        rng: random.Random,
        faults: collections.Counter[str],
    ) -> None:
        """Apply the behaviours to one accepted connection: its tasks run in `nursery` (the
        connection's, cancelled when it ends); `session` is its `OcppConnection`; `faults`
        counts what was injected."""
        if self.ping_interval:
            nursery.start_soon(self._ping, ws)
        if self.close_after:
            delay = self.close_after + (rng.uniform(0, self.jitter) if self.jitter else 0.0)
            nursery.start_soon(self._close_later, session, delay, faults)
        if self.reset_after:
            delay = self.reset_after + (rng.uniform(0, self.jitter) if self.jitter else 0.0)
            nursery.start_soon(self._reset_later, ws, session, delay, faults)
        ignore = self.ignore_close_share and rng.random() < self.ignore_close_share
        if ignore or self.slow_close:
            hold = math.inf if ignore else self.slow_close
            ws._stream = _CloseAnswerStream(ws._stream, ws, hold, faults)  # type: ignore[attr-defined]

    async def _ping(self, ws: trio_websocket.WebSocketConnection) -> None:
        # As the `websockets` library's keepalive: a ping every interval (less the last
        # round trip), each waiting for its pong; one not back within a second (or the
        # interval, if longer) is given up, not enforced.
        latency = 0.0
        while self.ping_interval and ws.closed is None:
            await trio.sleep(max(self.ping_interval - latency, 0.0))
            sent_at = trio.current_time()
            with trio.move_on_after(max(self.ping_interval, 1.0)):
                try:
                    self.pings_sent += 1
                    await ws.ping()
                except trio_websocket.ConnectionClosed:
                    return
                except LocalProtocolError:
                    # Our own close began between the check and the send (trio-websocket
                    # lets a ping through to wsproto then): a closing CSMS stops pinging.
                    return
                self.pongs_received += 1
            latency = trio.current_time() - sent_at

    async def _close_later(
        self, session: Any, delay: float, faults: collections.Counter[str]
    ) -> None:
        await trio.sleep(delay)
        faults[f"closed {self.close_code}"] += 1
        await session.aclose(self.close_code, "closed by the CSMS (field behaviour)")

    async def _reset_later(
        self,
        ws: trio_websocket.WebSocketConnection,
        session: Any,
        delay: float,
        faults: collections.Counter[str],
    ) -> None:
        await trio.sleep(delay)
        faults["reset"] += 1
        await reset_connection(ws)


def check_close_code(code: int) -> int:
    """`code` if a CSMS may send it in a close frame (1000-1014 but the reserved ones, or
    3000-4999), else ValueError."""
    if code in (1004, 1005, 1006) or not (1000 <= code <= 1014 or 3000 <= code <= 4999):
        raise ValueError(f"{code} is not a close code a CSMS may send")
    return code


async def reset_connection(ws: trio_websocket.WebSocketConnection) -> None:
    """Reset one connection: the socket closed with ``SO_LINGER`` 0, so the kernel sends a
    TCP RST and no close frame goes out. The connection's reader sees the stream closed and
    ends it as abnormal (1006), as a station would see a crashed CSMS."""
    stream = _socket_stream(ws._stream)  # type: ignore[attr-defined]
    if stream is None:
        return
    with contextlib.suppress(OSError):  # already closed: nothing to reset
        stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    await trio.aclose_forcefully(stream)


def _socket_stream(stream: Any) -> trio.SocketStream | None:
    while not isinstance(stream, trio.SocketStream):
        inner = getattr(stream, "transport_stream", None)
        if inner is None:
            return None
        stream = inner
    return stream


class _CloseAnswerStream(trio.abc.Stream):
    """A connection's stream that holds back our answer to the peer's close frame: for
    `hold` seconds (a slow close), or for ever (`math.inf`: the answer never goes; once the
    peer gives up and closes TCP, the stream is broken, as for any lost connection).

    Each `send_all` of trio-websocket carries exactly one frame (one wsproto event); a
    server's frames are unmasked, so a close frame starts with 0x88."""

    def __init__(
        self,
        inner: trio.abc.Stream,
        ws: trio_websocket.WebSocketConnection,
        hold: float,
        faults: collections.Counter[str],
    ) -> None:
        self.transport_stream = inner
        self._ws = ws
        self._hold = hold
        self._faults = faults

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if bytes(data[:1]) == b"\x88" and self._answering():
            if math.isinf(self._hold):
                self._faults["close ignored"] += 1
                await self._wait_for_the_peer_to_leave()
                raise trio.BrokenResourceError("the peer gave up waiting for our close")
            self._faults["close slowed"] += 1
            await trio.sleep(self._hold)
        await self.transport_stream.send_all(data)

    def _answering(self) -> bool:
        # wsproto's state moves to CLOSED when the answer is sent, LOCAL_CLOSING when we start.
        return self._ws._wsproto.state is ConnectionState.CLOSED  # type: ignore[attr-defined]

    async def _wait_for_the_peer_to_leave(self) -> None:
        # The reader task is here, sending: nobody else reads, so reading (and discarding
        # whatever the peer still sends) is ours to do until its end of TCP.
        try:
            while await self.transport_stream.receive_some(65536):
                pass
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    async def wait_send_all_might_not_block(self) -> None:
        await self.transport_stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        return await self.transport_stream.receive_some(max_bytes)

    async def aclose(self) -> None:
        await self.transport_stream.aclose()
