"""The websocket under every OCPP connection: trio-websocket, with its closing races contained.

Every websocket of ours (the toolkit's and the fleet's stations, the embedded CSMS's sessions)
is a `WebSocket`. It is trio-websocket's `WebSocketConnection` with two faults of that
library (0.12) made harmless:

- Its reader task answers a ping with a pong even after our close frame has gone out; wsproto
  then raises ``LocalProtocolError: Event Pong(...) cannot be sent in state LOCAL_CLOSING``
  out of the reader task, which takes down the nursery that holds it: a station, or the whole
  run (trio-websocket issue 184; the fix of its PR 198 is not released). Any CSMS that pings
  (the `websockets` library does, every 20 s by default) can hit the moment. The same holds
  for the close frame it sends after a protocol error or an oversized message while a close
  is under way. A control frame that can no longer be sent is now dropped: the close it
  would answer or start is already under way (RFC 6455 section 5.5.2 asks for a pong "unless
  it already received a Close frame"; after ours, the peer expects none).
- Anything else that escapes the reader task (a bug of the library, a stream error it does
  not expect) is a lost connection, code 1006, with the exception kept in
  `WebSocket.transport_fault`; during the opening handshake it is a `HandshakeError`.

`WebSocketServer` also accepts every connection waiting in the kernel's queue in one
scheduling round (trio's `accept()` takes one a round, and on a busy loop a ramp or a
reconnect storm then waits past the stations' connect timeout), and contains each
connection's failure.

This leans on trio-websocket's private parts (`_send`, `_reader_task`, `_open_handshake`,
`_close_handshake`, `_close_reason`, `_stream`, `_wsproto`; the server's `_handle_connection`,
`_listeners`, `_handler_nursery` and its settings); pyproject pins the minor version, and
tests/test_ping_race.py and tests/test_faults.py fail if their contract changes.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import NoReturn

import trio
import trio_websocket
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection, Event, Pong
from wsproto.utilities import LocalProtocolError

__all__ = ["WebSocket", "WebSocketServer", "wrap_client_stream"]

logger = logging.getLogger("fleet.transport")

_CLOSING = frozenset(
    (ConnectionState.LOCAL_CLOSING, ConnectionState.REMOTE_CLOSING, ConnectionState.CLOSED)
)
# Frames that only serve the connection itself: dropped when they can no longer be sent.
_CONTROL = (Pong, CloseConnection)
# At most this many connections accepted in one scheduling round.
ACCEPT_BATCH = 256
# accept() errors that mean "not now" (trio.serve_listeners' list).
_OUT_OF_CAPACITY = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})


class WebSocket(trio_websocket.WebSocketConnection):
    """trio-websocket's connection, safe against a ping, pong, close or reset at any moment
    of a close (see the module's docstring). Same API; one attribute more:

    Attributes:
        transport_fault: the exception that ended the reader task abnormally, or None.
    """

    transport_fault: BaseException | None = None

    async def _send(self, event: Event) -> None:
        try:
            await super()._send(event)
        except LocalProtocolError:
            # wsproto refuses before a byte is written: nothing went out.
            if self._wsproto.state not in _CLOSING:
                raise  # a misuse of ours while open: a bug to see, not to hide
            if isinstance(event, _CONTROL):
                return
            # A message or a ping while closing: the connection is closed for its sender.
            raise trio_websocket.ConnectionClosed(
                self._close_reason or trio_websocket.CloseReason(1006, "closing")
            ) from None

    async def abort(self) -> None:
        """Close the TCP connection now, without a close handshake (as a power cut or a
        crashed station would look to the peer), and raise `ConnectionClosed` (1006)."""
        if self._close_reason is None:
            self._close_reason = trio_websocket.CloseReason(1006, "aborted")
        self._close_handshake.set()
        await trio.aclose_forcefully(self._stream)
        raise trio_websocket.ConnectionClosed(self._close_reason)

    async def _reader_task(self) -> None:
        try:
            await super()._reader_task()
        except trio_websocket.ConnectionRejected:
            raise  # the handshake's answer (HTTP 401, 404...): the opener reports it
        except Exception as exc:
            self.transport_fault = exc
            logger.debug("websocket reader failed; the connection is lost", exc_info=exc)
            if not self._open_handshake.is_set():
                raise trio_websocket.HandshakeError(
                    f"websocket failed during the handshake: {type(exc).__name__}"
                ) from exc
            if self._close_reason is None:
                self._close_reason = trio_websocket.CloseReason(
                    1006, f"transport fault: {type(exc).__name__}"
                )
            self._close_handshake.set()  # an aclose() waiting for the peer returns
            await trio.aclose_forcefully(self._stream)
            return
        if not self._open_handshake.is_set() and self.is_client:
            # The server closed TCP before it answered the handshake (a proxy, or a TLS 1.3
            # server refusing the client's certificate after the handshake): say so now,
            # not after the whole connect timeout.
            raise trio_websocket.HandshakeError(
                "the server closed the connection during the websocket handshake"
            )


async def wrap_client_stream(
    nursery: trio.Nursery,
    stream: trio.abc.Stream,
    host: str,
    resource: str,
    *,
    subprotocols: Sequence[str],
    extra_headers: list[tuple[bytes, bytes]],
) -> WebSocket:
    """`trio_websocket.wrap_client_stream`, making a `WebSocket`: the client handshake over an
    open stream; the reader task runs in `nursery`.

    Raises:
        trio_websocket.ConnectionRejected: the server answered the handshake with HTTP != 101
            (raised out of `nursery`, by the reader task, as trio-websocket does).
    """
    ws = WebSocket(
        stream,
        WSConnection(ConnectionType.CLIENT),
        host=host,
        path=resource,
        client_subprotocols=list(subprotocols),
        client_extra_headers=extra_headers,
    )
    nursery.start_soon(ws._reader_task)
    await ws._open_handshake.wait()
    return ws


class WebSocketServer(trio_websocket.WebSocketServer):
    """`trio_websocket.WebSocketServer` whose connections are `WebSocket`s, and where one
    connection's failure (its handler's or its transport's) ends that connection only.

    Args:
        on_fault: called with the exception when a connection's handler fails, after it was
            logged; the server goes on.
        The rest as `trio_websocket.WebSocketServer`.
    """

    def __init__(
        self,
        handler: Callable[[trio_websocket.WebSocketRequest], Awaitable[None]],
        listeners: list[trio.abc.Listener[trio.abc.Stream]],
        *,
        handler_nursery: trio.Nursery | None = None,
        connect_timeout: float = 60,
        disconnect_timeout: float = 60,
        on_fault: Callable[[BaseException], None] | None = None,
    ) -> None:
        super().__init__(
            handler,
            listeners,
            handler_nursery=handler_nursery,
            connect_timeout=connect_timeout,
            disconnect_timeout=disconnect_timeout,
        )
        self._on_fault = on_fault

    async def run(
        self,
        *,
        task_status: trio.TaskStatus[trio_websocket.WebSocketServer] = trio.TASK_STATUS_IGNORED,
    ) -> NoReturn:
        """Serve until cancelled (`nursery.start` protocol, as trio-websocket's `run`).

        A plain TCP listener is served by `_accept_waiting`, which takes every connection
        waiting in the kernel's queue in one scheduling round; others (TLS) by
        `trio.serve_listeners`, one connection a round.
        """
        handlers = self._handler_nursery
        async with trio.open_nursery() as nursery:
            for listener in self._listeners:
                if type(listener) is trio.SocketListener:
                    nursery.start_soon(self._accept_waiting, listener, handlers or nursery)
                else:
                    nursery.start_soon(
                        functools.partial(
                            trio.serve_listeners,
                            self._handle_connection,
                            [listener],
                            handler_nursery=handlers,
                        )
                    )
            task_status.started(self)
            await trio.sleep_forever()

    async def _accept_waiting(self, listener: trio.SocketListener, handlers: trio.Nursery) -> None:
        # trio's accept() takes one connection per scheduling round. On a busy loop a round
        # is long, and a ramp or a reconnect storm waits in the kernel's queue past the
        # stations' connect timeout: seen here, 100 of 200 stations of a run whose machine
        # was busy timed out after 10 s, never accepted. A stdlib socket on a duplicate of
        # the listener's descriptor takes every waiting connection each round instead.
        sock = socket.socket(fileno=os.dup(listener.socket.fileno()))
        sock.setblocking(False)
        try:
            while True:
                await trio.lowlevel.wait_readable(sock)
                for _ in range(ACCEPT_BATCH):
                    try:
                        conn, _ = sock.accept()
                    except BlockingIOError:
                        break
                    except OSError as exc:
                        if exc.errno not in _OUT_OF_CAPACITY:
                            raise
                        # Out of descriptors or memory: as trio.serve_listeners does, wait
                        # for some to be released instead of spinning.
                        logger.warning("accept failed (%s); retrying in 0.1 s", exc.strerror)
                        await trio.sleep(0.1)
                        break
                    stream = trio.SocketStream(trio.socket.from_stdlib_socket(conn))
                    handlers.start_soon(self._handle_connection, stream)
                await trio.lowlevel.checkpoint()
        finally:
            sock.close()  # the duplicate only: the listener's owner closes the original

    async def _handle_connection(self, stream: trio.abc.Stream) -> None:
        try:
            await self._serve(stream)
        except Exception as exc:
            logger.warning("websocket connection failed; the server goes on", exc_info=exc)
            if self._on_fault is not None:
                self._on_fault(exc)
        finally:
            await trio.aclose_forcefully(stream)

    async def _serve(self, stream: trio.abc.Stream) -> None:
        # As trio-websocket's own `_handle_connection`, with our `WebSocket`.
        async with trio.open_nursery() as nursery:
            ws = WebSocket(
                stream,
                WSConnection(ConnectionType.SERVER),
                message_queue_size=self._message_queue_size,
                max_message_size=self._max_message_size,
                receive_buffer_size=self._receive_buffer_size,
            )
            nursery.start_soon(ws._reader_task)
            with trio.move_on_after(self._connect_timeout) as connect_scope:
                request = await ws._get_request()
            if connect_scope.cancelled_caught:
                nursery.cancel_scope.cancel()
                return
            try:
                await self._handler(request)
            finally:
                with trio.move_on_after(self._disconnect_timeout):
                    await ws.aclose()
                nursery.cancel_scope.cancel()  # the reader of a peer that never closes
