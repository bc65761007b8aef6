"""One OCPP-J connection over trio-websocket: calls out, handlers in.

`OcppConnection` is the thin trio driver around the sans-IO `RpcEndpoint`; it only moves
messages and time. Both sides use it: a charge point (`ChargePoint16`, `ChargePoint201`) and the
embedded CSMS's per-station sessions.

Concurrency: `read_messages()` is the only reader of the websocket. Whoever owns the connection
runs it (the charge point's `connect()` in a background task, a CSMS session in its handler
task). Callers of `call()` queue on a FIFO lock, because OCPP-J allows one outstanding CALL per
direction; the reader hands each answer to the waiting caller. Plain handlers run inline in the
reader; ``async`` handlers run in the connection's nursery so that they may make calls of
their own.
"""

from __future__ import annotations

import collections
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
import trio
import trio_websocket

from fleet.ocpp import (
    CallError,
    CallReceived,
    ErrorCode,
    ErrorReceived,
    InvalidMessage,
    InvalidReply,
    LocalProtocolError,
    Payload,
    ResultReceived,
    RpcEndpoint,
    UnexpectedReply,
)
from fleet.toolkit._errors import CallTimeout, ConnectionLost
from fleet.toolkit._generated import HANDLER_NAMES, TypedCaller

__all__ = ["CallTiming", "ConnectionStats", "OcppConnection"]

logger = logging.getLogger("fleet.toolkit")

DEFAULT_CALL_TIMEOUT = 30.0


class CallTiming(msgspec.Struct, frozen=True):
    """When one CALL was meant to go, went, and was answered (trio clock, seconds).

    `outcome` is "result", "error" (CALLERROR), "invalid" (an answer that breaks the schema),
    "timeout" or "lost" (the connection closed first); `answered_at` is None for the last two.
    `response` is the decoded answer of a "result" (None otherwise).
    """

    action: str
    intended_at: float
    sent_at: float
    answered_at: float | None
    outcome: str
    error_code: str | None = None
    response: Any = None


class ConnectionStats(msgspec.Struct):
    """What went through a connection, counted."""

    calls_sent: int = 0
    calls_received: int = 0
    invalid_messages: int = 0
    unexpected_replies: int = 0
    late_replies: int = 0
    handler_errors: int = 0


class _PendingCall:
    """The slot where the reader puts the answer to our outstanding CALL."""

    __slots__ = ("answer", "done")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.answer: ResultReceived | ErrorReceived | InvalidReply | None = None


class OcppConnection(TypedCaller):
    """An open OCPP-J connection.

    Args:
        ws: the open websocket; this object closes it.
        rpc: the sans-IO endpoint for the negotiated version and our role.
        handlers: an instance of the generated handler base for our role and version (or a
            subclass); ``None`` answers every incoming CALL with NotImplemented.
        handler_base: the name of that generated base, to find the handler methods.
        nursery: where ``async`` handlers run; owned by whoever opened the connection.
        call_timeout: default seconds to wait for an answer.
        on_call: called with a `CallTiming` after every CALL we send, whatever its outcome.
        received_counts: a counter, by action, of the peer's CALLs we answered (counted once
            the answer is sent: a CALL whose answer never left was not acknowledged).
        answer_delay: seconds to wait before answering a CALL of a given action (the
            embedded CSMS's injected latency); the reader waits, as a slow peer would.
        answer_fault: for fault injection (the embedded CSMS): given the action, None to
            answer normally, "error" to answer with an InternalError CALLERROR, "malformed"
            to answer with a CALLRESULT frame that breaks OCPP-J.
    """

    def __init__(
        self,
        ws: trio_websocket.WebSocketConnection,
        rpc: RpcEndpoint,
        handlers: object | None,
        handler_base: str,
        nursery: trio.Nursery,
        *,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        on_call: Callable[[CallTiming], None] | None = None,
        received_counts: collections.Counter[str] | None = None,
        answer_delay: Callable[[str], float] | None = None,
        answer_fault: Callable[[str], str | None] | None = None,
    ) -> None:
        self._answer_fault = answer_fault
        self._ws = ws
        self.received_counts = (
            received_counts if received_counts is not None else collections.Counter()
        )
        self._answer_delay = answer_delay
        self._rpc = rpc
        self._nursery = nursery
        self.call_timeout = call_timeout
        self._on_call = on_call
        self._call_lock = trio.Lock()  # FIFO: concurrent callers go in order
        self._pending: _PendingCall | None = None
        self._closed = trio.Event()
        self._close_code: int | None = None
        self._close_reason: str | None = None
        self.stats = ConnectionStats()
        self.last_call: CallTiming | None = None
        # Resolve handlers once per connection, not per message.
        self._handlers: dict[str, Callable[[Any], Any]] = {}
        if handlers is not None:
            for action, method in HANDLER_NAMES[handler_base].items():
                self._handlers[action] = getattr(handlers, method)

    @property
    def version(self) -> str:
        """The OCPP version's subprotocol, e.g. "ocpp1.6"."""
        return self._rpc.version.value

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        """Wait until the connection is closed, by either side."""
        await self._closed.wait()

    # -- calls -----------------------------------------------------------------------------

    async def call(
        self,
        action: str,
        payload: Payload | Mapping[str, Any],
        *,
        timeout: float | None = None,
        intended_at: float | None = None,
    ) -> Any:
        """Send a CALL and return the peer's typed response.

        Args:
            action: the action name, e.g. "Heartbeat".
            payload: the request Struct, or a mapping in wire (camelCase) form; either is
                validated against the action's schema before it is sent.
            timeout: seconds to wait for the answer once sent (default: the connection's).
            intended_at: when the caller meant to send it (trio clock), for latency that
                includes waiting in the queue; defaults to now.

        Returns:
            The response Struct of the action.

        Raises:
            CallError: the peer answered with a CALLERROR (a subclass per error code).
            RemoteProtocolError: the answer broke the action's response schema.
            CallTimeout: no answer in time; the call is given up.
            ConnectionLost: the connection closed before the answer.
            LocalProtocolError: the payload or action is invalid for us; nothing was sent.

        Cancellation: cancelling a call gives it up like a timeout; if the frame was already
        sent, a late answer is counted and ignored.
        """
        if intended_at is None:
            intended_at = trio.current_time()
        limit = self.call_timeout if timeout is None else timeout
        async with self._call_lock:
            if self._closed.is_set():
                raise self._lost(f"cannot send {action}: the connection is closed")
            _, frame = self._rpc.send_call(action, payload)
            pending = _PendingCall()
            self._pending = pending
            sent_at = trio.current_time()
            try:
                try:
                    await self._ws.send_message(frame)
                except trio_websocket.ConnectionClosed as exc:
                    self._mark_closed(exc.reason)
                else:
                    self.stats.calls_sent += 1
                    with trio.move_on_after(limit):
                        await pending.done.wait()
            except BaseException:
                if self._pending is pending:  # cancelled before the answer: counted as lost
                    self._record(action, intended_at, sent_at, None, "lost", None)
                raise
            finally:
                if self._pending is pending:  # not answered: timed out, lost or cancelled
                    self._pending = None
                    self._rpc.abandon_call()
            answer = pending.answer
            if answer is None:
                outcome = "lost" if self._closed.is_set() else "timeout"
                self._record(action, intended_at, sent_at, None, outcome, None)
                if outcome == "lost":
                    raise self._lost(f"{action}: the connection closed before the answer")
                raise CallTimeout(action, limit)
            answered_at = trio.current_time()
            if type(answer) is ResultReceived:
                response = answer.response
                self._record(action, intended_at, sent_at, answered_at, "result", None, response)
                return response
            if type(answer) is ErrorReceived:
                self._record(action, intended_at, sent_at, answered_at, "error", answer.error.code)
                raise answer.error
            assert type(answer) is InvalidReply
            self._record(action, intended_at, sent_at, answered_at, "invalid", answer.error.code)
            raise answer.error

    async def _call_typed(self, action: str, request: Any, timeout: float | None) -> Any:
        return await self.call(action, request, timeout=timeout)

    def _record(
        self,
        action: str,
        intended_at: float,
        sent_at: float,
        answered_at: float | None,
        outcome: str,
        error_code: str | None,
        response: Any = None,
    ) -> None:
        timing = CallTiming(
            action, intended_at, sent_at, answered_at, outcome, error_code, response
        )
        self.last_call = timing
        if self._on_call is not None:
            self._on_call(timing)

    # -- the reader ------------------------------------------------------------------------

    async def read_messages(self) -> None:
        """Read and dispatch messages until the connection closes. Never raises for bad input.

        Cancellation: safe; the websocket keeps unread messages.
        """
        ws = self._ws
        receive = self._rpc.receive_message
        try:
            while True:
                message = await ws.get_message()
                if type(message) is str:
                    event = receive(message)
                else:
                    event = self._rpc.receive_binary(message)  # type: ignore[arg-type]
                event_type = type(event)
                if event_type is CallReceived:
                    await self._dispatch_call(event)  # type: ignore[arg-type]
                elif event_type is InvalidMessage:
                    self.stats.invalid_messages += 1
                    logger.debug("invalid message from peer: %s", event.error)  # type: ignore[union-attr]
                    if event.reply is not None:  # type: ignore[union-attr]
                        await ws.send_message(event.reply)  # type: ignore[union-attr]
                elif event_type is UnexpectedReply:
                    if event.late:  # type: ignore[union-attr]
                        self.stats.late_replies += 1
                    else:
                        self.stats.unexpected_replies += 1
                else:  # the answer to our outstanding CALL
                    pending = self._pending
                    if pending is not None:
                        self._pending = None
                        pending.answer = event  # type: ignore[assignment]
                        pending.done.set()
        except trio_websocket.ConnectionClosed as exc:
            self._mark_closed(exc.reason)

    async def _dispatch_call(self, event: CallReceived) -> None:
        self.stats.calls_received += 1
        if self._answer_delay is not None:
            delay = self._answer_delay(event.action)
            if delay > 0:
                await trio.sleep(delay)
        if self._answer_fault is not None:
            fault = self._answer_fault(event.action)
            if fault is not None:
                await self._answer_faultily(event, fault)
                return
        handler = self._handlers.get(event.action)
        if handler is None:
            await self._answer_error(
                event.message_id,
                CallError(ErrorCode.NOT_IMPLEMENTED, f"{event.action} is not implemented"),
                event.action,
            )
            return
        try:
            result = handler(event.request)
        except Exception as exc:  # a handler's failure is answered, never fatal
            await self._answer_error(
                event.message_id, self._handler_failure(event.action, exc), event.action
            )
            return
        if inspect.isawaitable(result):
            self._nursery.start_soon(self._finish_async_handler, event, result)
        else:
            await self._answer(event, result)

    async def _answer_faultily(self, event: CallReceived, fault: str) -> None:
        frame = self._rpc.send_error(event.message_id, ErrorCode.INTERNAL_ERROR, "injected fault")
        if fault == "malformed":
            # A CALLRESULT without its payload: the id is readable, the frame is not OCPP-J.
            frame = f"[3,{msgspec.json.encode(event.message_id).decode()}]"
        if await self._send_quietly(frame):
            self.received_counts[event.action] += 1

    async def _finish_async_handler(self, event: CallReceived, pending: Awaitable[Any]) -> None:
        try:
            result = await pending
        except Exception as exc:
            await self._answer_error(
                event.message_id, self._handler_failure(event.action, exc), event.action
            )
            return
        await self._answer(event, result)

    async def _answer(self, event: CallReceived, response: Any) -> None:
        try:
            frame = self._rpc.send_result(event.message_id, response)
        except LocalProtocolError as exc:
            self.stats.handler_errors += 1
            logger.warning("handler for %s returned an invalid response: %s", event.action, exc)
            frame = self._rpc.send_error(
                event.message_id, ErrorCode.INTERNAL_ERROR, f"invalid {event.action} response"
            )
        if await self._send_quietly(frame):
            self.received_counts[event.action] += 1

    async def _answer_error(
        self, message_id: str, error: CallError, action: str | None = None
    ) -> None:
        frame = self._rpc.send_error(message_id, error.code, error.description, error.details)
        if await self._send_quietly(frame) and action is not None:
            self.received_counts[action] += 1

    def _handler_failure(self, action: str, exc: Exception) -> CallError:
        if isinstance(exc, CallError):
            return exc
        self.stats.handler_errors += 1
        logger.warning("handler for %s failed", action, exc_info=exc)
        return CallError(ErrorCode.INTERNAL_ERROR, f"{action} handler failed: {type(exc).__name__}")

    async def _send_quietly(self, frame: str) -> bool:
        """Send an answer; False if the peer had left (not an error of ours)."""
        try:
            await self._ws.send_message(frame)
        except trio_websocket.ConnectionClosed as exc:
            self._mark_closed(exc.reason)
            return False
        return True

    # -- closing ---------------------------------------------------------------------------

    def _mark_closed(self, reason: trio_websocket.CloseReason | None) -> None:
        if self._closed.is_set():
            return
        if reason is not None:
            self._close_code, self._close_reason = reason.code, reason.reason
        self._closed.set()
        pending = self._pending
        if pending is not None:  # wake the caller; it sees no answer and a closed connection
            self._pending = None
            pending.done.set()

    def _lost(self, message: str) -> ConnectionLost:
        return ConnectionLost(message, self._close_code, self._close_reason)

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection (idempotent). Waiting callers get `ConnectionLost`."""
        with trio.move_on_after(2.0, shield=True):  # polite, but bounded
            await self._ws.aclose(code, reason)
        self._mark_closed(self._ws.closed)

    async def keep_alive(self, interval: float, timeout: float) -> None:
        """Ping every `interval` seconds; close the connection if a pong takes over `timeout`."""
        while not self._closed.is_set():
            await trio.sleep(interval)
            with trio.move_on_after(timeout) as scope:
                try:
                    await self._ws.ping()
                except trio_websocket.ConnectionClosed as exc:
                    self._mark_closed(exc.reason)
                    return
            if scope.cancelled_caught:
                logger.info("no pong within %g s; closing", timeout)
                await self.aclose(1001, "ping timeout")
                return
