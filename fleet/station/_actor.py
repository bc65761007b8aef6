"""The station actor: one trio task drives one `StationMachine` over its own websocket.

The task owns everything about its station: the connection, the machine, the one outstanding
CALL and its timeout. Each turn it fires due timers, sends the next due message if no CALL is
outstanding (OCPP-J allows one per direction), then waits for a message or the next deadline,
whichever comes first. Nothing runs per message in other tasks, channels or locks of ours.

Latency is recorded from each message's intended send time (see `_machine.py`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import ssl
from typing import Protocol

import trio
import trio_websocket

from fleet.ocpp import (
    CallError,
    CallReceived,
    ErrorCode,
    ErrorReceived,
    InvalidMessage,
    InvalidReply,
    ResultReceived,
    Role,
    RpcEndpoint,
    UnexpectedReply,
)
from fleet.station._machine import LOST, Outgoing, StationMachine
from fleet.toolkit import ConnectError, WebSocket, open_station_websocket

__all__ = ["Reconnect", "StationActor"]

logger = logging.getLogger("fleet.station")


class Recorder(Protocol):
    """What the actor reports to (the run's `Metrics`)."""

    connected_stations: int

    def call_sent(self, action: str, now: float) -> None: ...
    def call_answered(self, action: str, intended_at: float, answered_at: float) -> None: ...
    def call_errored(self, action: str, code: str, answered_at: float) -> None: ...
    def call_invalid(self, action: str, answered_at: float) -> None: ...
    def call_timed_out(self, action: str, now: float) -> None: ...
    def call_lost(self, action: str, now: float) -> None: ...
    def connect_succeeded(self, handshake_seconds: float, now: float) -> None: ...
    def connect_failed(self, reason: str, now: float) -> None: ...
    def disconnected(self, now: float) -> None: ...
    def reconnected(self, now: float) -> None: ...
    def message_invalid(self, now: float) -> None: ...
    def csms_call_answered(self, action: str, answer: str, seconds: float, now: float) -> None: ...
    def csms_reaction(self, action: str, seconds: float, now: float) -> None: ...
    def station_faulted(
        self, station_id: str, exc: BaseException, now: float, where: str = ""
    ) -> str: ...


class Reconnect:
    """Randomized exponential backoff, as OCPP 2.0.1 Part 4 section 5.3 describes it.

    The n-th consecutive failed attempt waits ``wait_minimum * 2**min(n, repeat_times)``
    plus a random part up to `random_range` seconds.
    """

    __slots__ = ("random_range", "repeat_times", "wait_minimum")

    def __init__(
        self, wait_minimum: float = 3.0, random_range: float = 10.0, repeat_times: int = 5
    ) -> None:
        self.wait_minimum = wait_minimum
        self.random_range = random_range
        self.repeat_times = repeat_times

    def delay(self, failures: int, rng: random.Random) -> float:
        doubling = min(max(failures - 1, 0), self.repeat_times)
        return self.wait_minimum * (2**doubling) + rng.uniform(0, self.random_range)


class _ConnectionLost(Exception):
    pass


class StationActor:
    """Connects, drives the machine, reconnects; ends when the run stops it.

    Args:
        machine: the station's behaviour.
        csms_url: where to connect (the station id is appended).
        metrics: where to record what happens.
        call_timeout: seconds to wait for each answer.
        connect_timeout: seconds for TCP, TLS and handshake.
        reconnect: backoff between failed connection attempts.
        password, username, ssl_context: security profile settings.
        connecting: shared by the run's stations: how many may be opening a connection at
            once (TCP, TLS and handshake), so that a ramp or a reconnect storm queues here
            instead of piling thousands of handshakes onto the loop and the CSMS at once.
    """

    __slots__ = (  # one per station: no instance dict
        "_connected",
        "_nudge",
        "_wait_scope",
        "call_timeout",
        "connect_timeout",
        "connecting",
        "csms_url",
        "cut",
        "done",
        "machine",
        "metrics",
        "password",
        "reconnect",
        "ssl_context",
        "stop_requested",
        "stop_spread",
        "username",
    )

    def __init__(
        self,
        machine: StationMachine,
        csms_url: str,
        metrics: Recorder,
        *,
        call_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        reconnect: Reconnect | None = None,
        password: str | None = None,
        username: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        connecting: trio.CapacityLimiter | None = None,
    ) -> None:
        self.machine = machine
        self.connecting = connecting
        self.csms_url = csms_url
        self.metrics = metrics
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self.reconnect = reconnect or Reconnect()
        self.password = password
        self.username = username
        self.ssl_context = ssl_context
        self.stop_requested = False
        self.stop_spread = 0.0  # seconds over which running sessions end when stopped
        self.cut = False  # stopped as by a power cut: no goodbye, sessions left open
        self.done = False
        self._connected = False
        self._wait_scope: trio.CancelScope | None = None
        self._nudge: trio.CancelScope | None = None  # the offline pause's sleep

    def request_stop(self, spread: float = 0.0, *, cut: bool = False) -> None:
        """Ask the station to end its sessions (within `spread` seconds), close and return;
        never abruptly. While disconnected with transactions pending it keeps its backoff.

        `cut`: stop as a power cut would instead: the TCP connection closes at once, without
        a websocket close handshake, an outstanding call is lost, and open sessions and held
        transaction messages stay as they are (the run counts them)."""
        self.stop_requested = True
        self.stop_spread = spread
        self.cut = self.cut or cut
        if self._wait_scope is not None and (
            self.cut or not (self._connected is False and self.machine.pending_transactions)
        ):
            self._wait_scope.cancel()
        elif self._nudge is not None:  # offline, sessions to stop: the pause stops them
            self._nudge.cancel()

    async def run(self) -> None:
        """Run until stopped; cancellation ends it at once. Never raises for network trouble,
        nor for a fault of its own: any exception that escapes a connection is counted
        (`station_faulted`) and the station recovers as a charger's watchdog would: closes,
        waits its reconnect backoff, connects and boots again."""
        machine = self.machine
        failures = 0
        ever_connected = False
        try:
            # After a stop, a station with transactions to deliver still reconnects: the
            # run's drain timeout bounds how long it may try.
            while not self.stop_requested or (machine.pending_transactions and not self.cut):
                started = trio.current_time()  # the wait for a turn to connect counts
                try:
                    async with contextlib.AsyncExitStack() as stack:
                        if self.connecting is not None:
                            await self.connecting.acquire()
                        try:
                            ws = await stack.enter_async_context(
                                open_station_websocket(
                                    self.csms_url,
                                    machine.station_id,
                                    machine.version,
                                    password=self.password,
                                    username=self.username,
                                    ssl_context=self.ssl_context,
                                    connect_timeout=self.connect_timeout,
                                )
                            )
                        finally:
                            if self.connecting is not None:
                                self.connecting.release()  # connected or failed: next one
                        now = trio.current_time()
                        if ever_connected:  # first: the connect may end a fault's window
                            self.metrics.reconnected(now)
                        self.metrics.connect_succeeded(now - started, now)
                        ever_connected = True
                        failures = 0
                        self._connected = True
                        try:
                            outcome = await self._drive(ws)
                        finally:
                            self._connected = False
                            self.metrics.connected_stations -= 1
                except ConnectError as exc:
                    failures += 1
                    self.metrics.connect_failed(type(exc).__name__, trio.current_time())
                    await self._pause(self.reconnect.delay(failures, machine.rng))
                    continue
                except Exception as exc:
                    outcome = self._fault(exc)
                except BaseExceptionGroup as group:  # a fault, and our cancellation with it
                    faults, cancelled = group.split(Exception)
                    if faults is not None:
                        self._fault(faults)
                    if cancelled is not None:
                        raise cancelled from None
                    outcome = "fault"
                if outcome == "finished" or self.cut:
                    return
                if outcome == "reboot":
                    await self._pause(machine.rng.uniform(0.5, 2.0))  # a reboot takes a moment
                    continue
                # The connection was lost, or the station faulted (closed by its watchdog):
                # back off, then reconnect and boot again.
                if outcome == "lost":
                    self.metrics.disconnected(trio.current_time())
                failures += 1
                await self._pause(self.reconnect.delay(failures, machine.rng))
        finally:
            self.done = True

    def _fault(self, exc: BaseException) -> str:
        """The watchdog: an exception escaped this station (its connection is closed by
        now). Counted, never raised: one station's fault never ends a run."""
        self.metrics.station_faulted(self.machine.station_id, exc, trio.current_time())
        return "fault"

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds` without a connection (a backoff, a reboot). The station lives on
        meanwhile, as a charger does offline: its machine's timers fire at their times, so
        running sessions sample and end, drivers arrive and start sessions on local
        authorization, all into the transaction queue (held for the next connection); and
        a stop asked for now stops its sessions, whose messages the run then counts."""
        machine = self.machine
        current_time = trio.current_time
        with trio.CancelScope(deadline=current_time() + seconds) as scope:
            self._wait_scope = scope
            if self.stop_requested and (self.cut or not machine.pending_transactions):
                scope.cancel()
            while True:
                now = current_time()
                if self.stop_requested and not machine.stopping:
                    machine.stop(now, self.stop_spread)
                machine.on_timer(now)
                wake = machine.next_timer()
                # A timer that fired without moving on must not spin this task. A stop asked
                # for meanwhile wakes it (`request_stop`), to stop the sessions.
                with trio.CancelScope() as self._nudge:
                    await trio.sleep_until(wake if wake > now else now + 0.001)
                self._nudge = None
        self._wait_scope = None

    async def _drive(self, ws: WebSocket) -> str:
        """Talk to the CSMS until the machine is finished ("finished"), rebooting ("reboot"),
        or the connection is gone ("lost")."""
        machine = self.machine
        metrics = self.metrics
        rpc = RpcEndpoint(machine.version, Role.CHARGE_POINT, validate_outgoing=False)
        receive = ws.get_message
        send = ws.send_message
        current_time = trio.current_time
        call_timeout = self.call_timeout
        outstanding: Outgoing | None = None
        sent_at = 0.0  # when the outstanding call's frame went out: its response time's start
        timeout_at = math.inf
        machine.connected(current_time())
        try:
            while True:
                now = current_time()
                if self.cut:
                    await ws.abort()  # raises ConnectionClosed (1006), as a lost connection
                if self.stop_requested and not machine.stopping:
                    machine.stop(now, self.stop_spread)
                machine.on_timer(now)
                if outstanding is None:
                    if machine.finished:
                        return "finished"
                    if machine.reboot_requested and machine.ready_to_reboot:
                        return "reboot"
                    item = machine.due(now)
                    if item is not None:
                        _, frame = rpc.send_call(item.action, item.payload)
                        item.attempts += 1
                        # Outstanding before the send: if the connection closes under the
                        # send, the message is handled as lost (re-sent or counted).
                        outstanding = item
                        timeout_at = now + call_timeout
                        sent_at = now
                        metrics.call_sent(item.action, item.intended_at, now)
                        if item.reaction is not None:  # what a CSMS request waited for
                            action, since = item.reaction
                            metrics.csms_reaction(action, now - since, now)
                        await send(frame)
                        continue
                    wake = machine.next_wakeup()
                else:
                    wake = min(machine.next_timer(), timeout_at)
                with trio.CancelScope(deadline=wake) as scope:
                    self._wait_scope = scope
                    if self.stop_requested and not machine.stopping:
                        scope.cancel()
                    message = await receive()
                self._wait_scope = None
                if scope.cancelled_caught:
                    if outstanding is not None and current_time() >= timeout_at:
                        rpc.abandon_call()
                        now = current_time()
                        metrics.call_timed_out(outstanding.action, outstanding.intended_at, now)
                        item, outstanding = outstanding, None
                        machine.on_answer(item, None, "timeout", now)
                    continue
                now = current_time()
                if type(message) is str:
                    event = rpc.receive_message(message)
                else:
                    event = rpc.receive_binary(message)  # type: ignore[arg-type]
                event_type = type(event)
                if event_type is ResultReceived:
                    assert outstanding is not None
                    item, outstanding = outstanding, None
                    metrics.call_answered(item.action, item.intended_at, sent_at, now)
                    machine.on_answer(item, event.response, None, now)  # type: ignore[union-attr]
                elif event_type is CallReceived:
                    await send(self._answer(rpc, event, now))  # type: ignore[arg-type]
                elif event_type is ErrorReceived:
                    assert outstanding is not None
                    item, outstanding = outstanding, None
                    code = event.error.code  # type: ignore[union-attr]
                    metrics.call_errored(item.action, code, item.intended_at, now)
                    machine.on_answer(item, None, code, now)
                elif event_type is InvalidReply:
                    assert outstanding is not None
                    item, outstanding = outstanding, None
                    metrics.call_invalid(item.action, item.intended_at, now)
                    machine.on_answer(item, None, "invalid", now)
                elif event_type is InvalidMessage:
                    metrics.message_invalid(now)
                    if event.reply is not None:  # type: ignore[union-attr]
                        await send(event.reply)  # type: ignore[union-attr]
                elif event_type is UnexpectedReply and not event.late:  # type: ignore[union-attr]
                    metrics.message_invalid(now)  # a late answer was already counted as a timeout
        except trio_websocket.ConnectionClosed:
            now = current_time()
            fault = ws.transport_fault
            if fault is not None:  # the transport failed under us: a lost connection, shown
                metrics.station_faulted(machine.station_id, fault, now, "transport: ")
            if outstanding is not None:
                metrics.call_lost(outstanding.action, outstanding.intended_at, now)
                item, outstanding = outstanding, None
                machine.on_answer(item, None, LOST, now)  # a transaction message is kept
            machine.disconnected(now)
            return "finished" if self.stop_requested and machine.finished else "lost"
        except Exception:
            # A fault (a bug of ours, a library's): handled as a lost connection first, so
            # the outstanding message is re-sent or counted; then the watchdog in run().
            with contextlib.suppress(Exception):
                now = current_time()
                if outstanding is not None:
                    metrics.call_lost(outstanding.action, outstanding.intended_at, now)
                    item, outstanding = outstanding, None
                    machine.on_answer(item, None, LOST, now)
                machine.disconnected(now)
            raise
        finally:
            self._wait_scope = None
            if outstanding is not None:
                # Cut off (the drain timed out, or a second Ctrl-C): counted as lost, as when
                # the connection closes first; a transaction message goes back in the
                # queue, where the run counts it as undelivered.
                metrics.call_lost(outstanding.action, outstanding.intended_at, current_time())
                if outstanding.transaction:
                    machine.transaction_queue.appendleft(outstanding)

    def _answer(self, rpc: RpcEndpoint, event: CallReceived, now: float) -> str:
        """The frame answering a CSMS's CALL; its answer (the response's status, "Answered"
        when it has none, or "CALLERROR <code>") and the time to make it are recorded."""
        action = event.action
        try:
            response = self.machine.on_call(action, event.request, now)
            frame = rpc.send_result(event.message_id, response)
            status = getattr(response, "status", None)
            answer = "Answered" if status is None else str(getattr(status, "value", status))
        except CallError as exc:
            frame = rpc.send_error(event.message_id, exc.code, exc.description, exc.details)
            answer = f"CALLERROR {exc.code}"
        except Exception:  # a bug of ours must not take the station down
            logger.exception("station %s failed to answer %s", self.machine.station_id, action)
            frame = rpc.send_error(event.message_id, ErrorCode.INTERNAL_ERROR, "station error")
            answer = f"CALLERROR {ErrorCode.INTERNAL_ERROR}"
        self.metrics.csms_call_answered(action, answer, trio.current_time() - now, now)
        return frame
