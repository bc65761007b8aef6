"""The embedded CSMS: an OCPP 1.6J and 2.0.1 server for tests, benchmarks and the fleet.

It accepts charge points on ``ws://host:port/<anything>/<station id>``, answers everything a
charge point sends with a valid response, counts what it received per action and per station,
and lets Python code call any connected station and await its typed answer.
"""

from __future__ import annotations

import collections
import contextlib
import math
import random
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import trio
import trio_websocket

from fleet.csms._field import FieldBehaviour, check_close_code, reset_connection
from fleet.csms._handlers import (
    AdmitsRequestedCalls,
    DefaultCsmsHandlers16,
    DefaultCsmsHandlers201,
    RegistrationGate,
)
from fleet.generic import Ocpp16Link
from fleet.ocpp import CallReceived, OcppVersion, Payload, Role, RpcEndpoint, v201
from fleet.toolkit._connection import DEFAULT_CALL_TIMEOUT, OcppConnection
from fleet.toolkit._generated import HANDLER_NAMES, CsmsCalls16, CsmsCalls201
from fleet.toolkit._generic import GenericStation
from fleet.toolkit._security import parse_basic_auth
from fleet.toolkit._websocket import WebSocketServer

__all__ = ["EmbeddedCsms", "StationSession16", "StationSession201", "open_csms"]


# Answers a connection holds back at most (late ones, and those queued behind them); a station
# that sends more CALLs meanwhile waits for its reader, as a slow CSMS makes it.
_MAX_HELD_ANSWERS = 16


class _HeldAnswers:
    """Mixed into the CSMS's station sessions: the CSMS's answer delay (`response_delay`, a
    stall) holds the answer, not the reader. A late answer is sent by a task of the
    connection's nursery (cancelled with it: an answer still held when the connection closes
    never goes), while the reader goes on reading the station's answers to the CSMS's own
    calls, so their answer times are the station's. Held answers go out in the order of their
    calls (OCPP-J 4.1.1: one CALL outstanding; a station that gave up waiting and called again
    gets its answers in order); a CALL that comes while others are held waits behind them.

    A call's handler runs when its answer is due, as it did when the reader waited: what it
    decides (a boot's status, a transaction id) is decided at answer time.
    """

    csms: EmbeddedCsms
    # Answers held now (late, or queued behind a late one).
    answers_waiting: int = 0
    _held: trio.MemorySendChannel[tuple[float, CallReceived]] | None = None
    _nursery: trio.Nursery

    async def _dispatch_call(self, event: CallReceived) -> None:
        delay = self.csms._answer_delay(event.action)
        if delay <= 0 and not self.answers_waiting:
            await super()._dispatch_call(event)  # type: ignore[misc]
            return
        if self._held is None:
            send, receive = trio.open_memory_channel[tuple[float, CallReceived]](_MAX_HELD_ANSWERS)
            self._held = send
            self._nursery.start_soon(self._answer_held, receive)
        self.answers_waiting += 1
        await self._held.send((trio.current_time() + delay, event))

    async def _answer_held(
        self, receive: trio.MemoryReceiveChannel[tuple[float, CallReceived]]
    ) -> None:
        async for due, event in receive:
            # A stall begun since the call came holds its answer too (`EmbeddedCsms.stall`:
            # every answer due meanwhile waits).
            while (until := max(due, self.csms._stalled_until)) > trio.current_time():
                await trio.sleep_until(until)
            try:
                await super()._dispatch_call(event)  # type: ignore[misc]
            finally:
                self.answers_waiting -= 1


class StationSession16(_HeldAnswers, OcppConnection, CsmsCalls16):
    """A connected 1.6 station as the CSMS sees it: one typed method per CSMS action.

    ``session.generic`` sends the same in OCPP 2.0.1 terms (`GenericStation`).
    """

    station_id: str
    _generic: GenericStation | None = None

    @property
    def generic(self) -> GenericStation:
        """The version-independent API: 2.0.1 requests, mapped to 1.6, 2.0.1 answers."""
        if self._generic is None:
            self._generic = GenericStation(self, Ocpp16Link())
        return self._generic


class StationSession201(_HeldAnswers, AdmitsRequestedCalls, OcppConnection, CsmsCalls201):
    """A connected 2.0.1 station as the CSMS sees it: one typed method per CSMS action.

    What a call asks a station not yet Accepted to send (TriggerMessage, GetBaseReport,
    GetReport) is admitted by the CSMS's `RegistrationGate`. ``session.generic`` is the
    version-independent API (on 2.0.1 it sends messages as they are).
    """

    station_id: str
    _generic: GenericStation | None = None
    _reports: dict[int, _Report] | None = None
    _request_ids = 0

    @property
    def generic(self) -> GenericStation:
        """The version-independent API (`GenericStation`)."""
        if self._generic is None:
            self._generic = GenericStation(self, None)
        return self._generic

    def next_request_id(self) -> int:
        """A requestId for a CSMS request that the station answers with reports."""
        self._request_ids += 1
        return self._request_ids

    def report_received(self, request: v201.NotifyReportRequest) -> None:
        """A NotifyReport from the station: kept if someone is collecting its requestId."""
        report = (self._reports or {}).get(request.request_id)
        if report is not None:
            report.parts.append(request)
            if not request.tbc:
                report.done.set()

    async def collect_report(
        self, request_id: int, started: Awaitable[Any], timeout: float
    ) -> list[v201.NotifyReportRequest]:
        """Await `started` (the GetBaseReport / GetReport call for `request_id`), then the
        NotifyReports it asked for, until one has ``tbc`` false; in seqNo order.

        Raises:
            RuntimeError: the station answered the request with neither Accepted nor
                EmptyResultSet (nothing to report: returns []).
            trio.TooSlowError: not all within `timeout` seconds.
        """
        if self._reports is None:
            self._reports = {}
        report = self._reports[request_id] = _Report()
        try:
            with trio.fail_after(timeout):
                answer = await started
                if answer.status == "EmptyResultSet":
                    return []
                if answer.status != "Accepted":
                    raise RuntimeError(
                        f"station {self.station_id!r} answered the report request "
                        f"{request_id} with {answer.status}"
                    )
                await report.done.wait()
        finally:
            del self._reports[request_id]
        return sorted(report.parts, key=lambda part: part.seq_no)


class _Report:
    """The NotifyReports of one request, as they arrive."""

    def __init__(self) -> None:
        self.parts: list[v201.NotifyReportRequest] = []
        self.done = trio.Event()


class _ReportTap:
    """A 2.0.1 session's handlers, but NotifyReport is shown to the session first (for
    `collect_report`); everything else is the handlers' own."""

    def __init__(self, handlers: object, session: Callable[[], StationSession201]) -> None:
        self._handlers = handlers
        self._session = session
        # Bound once: the gate looks a handler up on every message.
        for method in HANDLER_NAMES["CsmsHandlers201"].values():
            if method != "on_notify_report":
                setattr(self, method, getattr(handlers, method))

    def on_notify_report(self, request: v201.NotifyReportRequest) -> Any:
        self._session().report_received(request)
        return self._handlers.on_notify_report(request)  # type: ignore[attr-defined]


StationSession = StationSession16 | StationSession201
HandlersFactory = Callable[["EmbeddedCsms", str, OcppVersion], object]


def default_handlers(csms: EmbeddedCsms, station_id: str, version: OcppVersion) -> object:
    if version is OcppVersion.V16:
        return DefaultCsmsHandlers16(csms, station_id)
    return DefaultCsmsHandlers201(csms, station_id)


class EmbeddedCsms:
    """An OCPP CSMS that answers every charge-point action validly.

    Args:
        host: the address to listen on; loopback by default.
        port: the port; 0 picks a free one (see `port` and `url` once running).
        versions: the OCPP versions (subprotocols) it accepts.
        heartbeat_interval: the interval (s) it gives in BootNotification answers.
        boot_status: "Accepted", "Pending" or "Rejected" for every boot (but the shares).
        boot_pending_share, boot_rejected_share: shares of boots answered Pending or
            Rejected instead (faults).
        response_delay: seconds to wait before answering: one figure for all actions, or
            per action name (others: the "*" entry, else no delay). The answer waits, the
            connection does not: the station's answers to our calls are read meanwhile.
        basic_auth: station id -> password; when given, a station must present them
            (security profile 1) or its handshake is refused with HTTP 401.
        ssl_context: serve ``wss://`` with this server context.
        handlers: builds the handlers of each connection from (csms, station id, version);
            by default `DefaultCsmsHandlers16` / `DefaultCsmsHandlers201`.
        call_timeout: seconds to wait for a station's answer to our calls.
        error_share: share of calls answered with an InternalError CALLERROR (faults).
        malformed_share: share of calls answered with a broken CALLRESULT frame (faults).
        seed: of the fault injection's random choices.
        ping_interval, close_after, close_code, reset_after, field_jitter,
        ignore_close_share, slow_close: field behaviours (pings, closes with a code, TCP
            resets, close frames never or late answered): see `FieldBehaviour`, whose
            arguments these are (`field_jitter` is its `jitter`); kept in `field`.

    Faults on demand: `stall()`, `drop_connections()`, `close_connections()`,
    `reset_connections()`, `restart()`.

    Use `open_csms()` to run it for the length of an ``async with`` block, or start `run`
    in a nursery of yours.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        versions: Iterable[OcppVersion | str] = (OcppVersion.V16, OcppVersion.V201),
        heartbeat_interval: int = 300,
        boot_status: str = "Accepted",
        boot_pending_share: float = 0.0,
        boot_rejected_share: float = 0.0,
        response_delay: float | Mapping[str, float] = 0.0,
        basic_auth: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        handlers: HandlersFactory = default_handlers,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        error_share: float = 0.0,
        malformed_share: float = 0.0,
        seed: int | None = None,
        ping_interval: float | None = None,
        close_after: float | None = None,
        close_code: int = 1000,
        reset_after: float | None = None,
        field_jitter: float = 0.0,
        ignore_close_share: float = 0.0,
        slow_close: float = 0.0,
    ) -> None:
        self.field = FieldBehaviour(
            ping_interval=ping_interval,
            close_after=close_after,
            close_code=close_code,
            reset_after=reset_after,
            jitter=field_jitter,
            ignore_close_share=ignore_close_share,
            slow_close=slow_close,
        )
        shares = {
            "error_share": error_share,
            "malformed_share": malformed_share,
            "boot_pending_share": boot_pending_share,
            "boot_rejected_share": boot_rejected_share,
        }
        for name, share in shares.items():
            if not 0 <= share <= 1:
                raise ValueError(f"{name}: a share is between 0 and 1, got {share!r}")
        self.host = host
        self.port = port
        self.versions = tuple(OcppVersion(v) for v in versions)
        self.heartbeat_interval = heartbeat_interval
        if boot_status not in ("Accepted", "Pending", "Rejected"):
            raise ValueError(
                f"boot_status must be Accepted, Pending or Rejected, not {boot_status!r}"
            )
        self.boot_status = boot_status
        self.boot_pending_share = boot_pending_share
        self.boot_rejected_share = boot_rejected_share
        self.basic_auth = dict(basic_auth) if basic_auth is not None else None
        self.ssl_context = ssl_context
        self.call_timeout = call_timeout
        self._handlers_factory = handlers
        self._fixed_delay = _delay_function(response_delay)
        self._stalled_until = -math.inf
        self.stations: dict[str, StationSession] = {}
        self.received_by_station: dict[str, collections.Counter[str]] = {}
        self.connections_accepted = 0
        self.handshakes_refused = 0
        # Connections that ended in an exception of ours or the transport's (logged); the
        # server went on serving the others.
        self.connection_faults: collections.Counter[str] = collections.Counter()
        self._transaction_ids = 0
        self._arrived = trio.Event()
        # Fault injection.
        self.error_share = error_share
        self.malformed_share = malformed_share
        self.faults_injected: collections.Counter[str] = collections.Counter()
        self.dropped = 0
        self.restarts = 0
        self.rng = random.Random(seed)  # every random choice of the faults
        # 2.0.1 stations not Accepted get SecurityError but for their boot (B02.FR.09).
        self.registration_gate = RegistrationGate()
        self._nursery: Any = None
        self._serving: trio.CancelScope | None = None
        self._listening = trio.Event()
        self._down_for = 0.0

    @property
    def url(self) -> str:
        """The URL charge points connect to (append ``/<station id>``)."""
        scheme = "wss" if self.ssl_context is not None else "ws"
        return f"{scheme}://{self.host}:{self.port}/ocpp"

    @property
    def received(self) -> collections.Counter[str]:
        """CALLs received from all stations, by action (across reconnects)."""
        total: collections.Counter[str] = collections.Counter()
        for counts in self.received_by_station.values():
            total.update(counts)
        return total

    def stall(self, seconds: float) -> None:
        """Answer nothing for `seconds` from now: every answer due meanwhile waits until then
        (a CSMS stuck on a database lock, say). Connections stay open, and the stations'
        answers to our calls are still read (their answer times stay theirs)."""
        self._stalled_until = trio.current_time() + seconds

    def _answer_delay(self, action: str) -> float:
        delay = self._fixed_delay(action) if self._fixed_delay is not None else 0.0
        return max(delay, self._stalled_until - trio.current_time())

    def boot_answer_status(self) -> str:
        """The status of the next BootNotification answer: `boot_status`, or by the shares
        Pending or Rejected."""
        if self.boot_pending_share or self.boot_rejected_share:
            draw = self.rng.random()
            if draw < self.boot_rejected_share:
                self.faults_injected["boot rejected"] += 1
                return "Rejected"
            if draw < self.boot_rejected_share + self.boot_pending_share:
                self.faults_injected["boot pending"] += 1
                return "Pending"
        return self.boot_status

    def next_transaction_id(self) -> int:
        """A transaction id unique within this CSMS."""
        self._transaction_ids += 1
        return self._transaction_ids

    # -- talking to stations ---------------------------------------------------------------

    def station(self, station_id: str) -> StationSession:
        """The connected station `station_id`.

        Raises:
            KeyError: it is not connected.
        """
        return self.stations[station_id]

    async def wait_for_station(self, station_id: str) -> StationSession:
        """Wait until `station_id` is connected and return its session.

        Cancellation: safe; bound it with ``trio.fail_after`` if it may never come.
        """
        while station_id not in self.stations:
            await self._arrived.wait()
        return self.stations[station_id]

    async def call(
        self,
        station_id: str,
        action: str,
        payload: Payload | Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> Any:
        """Send a CSMS-initiated CALL to a connected station and return its typed answer.

        Raises: as `OcppConnection.call`, and KeyError if the station is not connected.
        """
        return await self.stations[station_id].call(action, payload, timeout=timeout)

    # -- serving ---------------------------------------------------------------------------

    async def run(
        self, *, task_status: trio.TaskStatus[EmbeddedCsms] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled; `task_status.started()` once listening (port known).

        Resource handling: each connection runs in a task of this function's nursery and is
        closed when it returns or is cancelled. `restart()` closes the listener and every
        connection, waits, and listens again on the same port, within this same call.
        """
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            started = False
            while True:
                listeners = await trio.open_tcp_listeners(self.port, host=self.host)
                if self.ssl_context is not None:
                    listeners = [
                        trio.SSLListener(listener, self.ssl_context, https_compatible=True)
                        for listener in listeners
                    ]
                raw = listeners[0].transport_listener if self.ssl_context else listeners[0]
                self.port = raw.socket.getsockname()[1]  # type: ignore[union-attr]
                server = WebSocketServer(
                    self._serve_connection,
                    listeners,
                    handler_nursery=nursery,
                    connect_timeout=10,
                    disconnect_timeout=5,
                    on_fault=self._connection_failed,
                )
                with trio.CancelScope() as serving:
                    self._serving = serving
                    self._listening.set()
                    if not started:
                        started = True
                        task_status.started(self)
                    await server.run()
                for listener in listeners:  # closed: connection attempts are refused
                    await trio.aclose_forcefully(listener)
                await trio.sleep(self._down_for)

    async def restart(self, down_for: float) -> None:
        """Restart: close every connection and the port, stay down `down_for` seconds, then
        listen again on the same port. Returns once listening again."""
        self.restarts += 1
        self._down_for = down_for
        self._listening = trio.Event()
        if self._serving is not None:
            self._serving.cancel()
        for session in list(self.stations.values()):
            self._nursery.start_soon(session.aclose, 1012, "service restart")
        await self._listening.wait()

    def drop_connections(self, share: float) -> int:
        """Close a random `share` (0..1) of the connected stations now, as a flaky network
        would (code 1006 cannot be sent; 1001 "going away"). Returns how many."""
        sessions = list(self.stations.values())
        chosen = self.rng.sample(sessions, round(len(sessions) * share))
        for session in chosen:
            self._nursery.start_soon(session.aclose, 1001, "dropped (fault injection)")
        self.dropped += len(chosen)
        return len(chosen)

    def close_connections(self, share: float, code: int = 1000, reason: str = "") -> int:
        """Close a random `share` (0..1) of the connected stations now, cleanly, with `code`
        (1000 normal, 1001 going away, 1011 internal error...). Returns how many."""
        check_close_code(code)
        sessions = list(self.stations.values())
        chosen = self.rng.sample(sessions, round(len(sessions) * share))
        for session in chosen:
            self._nursery.start_soon(session.aclose, code, reason or "closed by the CSMS")
        self.faults_injected[f"closed {code}"] += len(chosen)
        return len(chosen)

    def reset_connections(self, share: float) -> int:
        """Reset a random `share` (0..1) of the connections now: TCP RST, no close frame
        (a crashed CSMS or a load balancer). Returns how many."""
        sessions = list(self.stations.values())
        chosen = self.rng.sample(sessions, round(len(sessions) * share))
        for session in chosen:
            self._nursery.start_soon(reset_connection, session._ws)
        self.faults_injected["reset"] += len(chosen)
        return len(chosen)

    def _connection_failed(self, exc: BaseException) -> None:
        self.connection_faults[type(exc).__name__] += 1

    def _answer_fault(self, action: str) -> str | None:
        if not (self.error_share or self.malformed_share):
            return None
        draw = self.rng.random()
        if draw < self.error_share:
            fault = "error"
        elif draw < self.error_share + self.malformed_share:
            fault = "malformed"
        else:
            return None
        self.faults_injected[fault] += 1
        return fault

    async def _serve_connection(self, request: trio_websocket.WebSocketRequest) -> None:
        station_id = unquote(urlsplit(request.path).path.rstrip("/").rsplit("/", 1)[-1])
        if not station_id:
            self.handshakes_refused += 1
            await request.reject(404, body=b"no station id in the path")
            return
        if self.basic_auth is not None and not self._authorized(request, station_id):
            self.handshakes_refused += 1
            await request.reject(401, extra_headers=[(b"WWW-Authenticate", b'Basic realm="OCPP"')])
            return
        chosen = next(
            (OcppVersion(p) for p in request.proposed_subprotocols if p in self.versions), None
        )
        if chosen is None:
            # OCPP-J: complete the handshake without a subprotocol, then close at once.
            self.handshakes_refused += 1
            ws = await request.accept()
            await ws.aclose(1002, "no supported OCPP subprotocol")
            return
        ws = await request.accept(subprotocol=chosen.value)
        self.connections_accepted += 1
        counts = self.received_by_station.setdefault(station_id, collections.Counter())
        async with trio.open_nursery() as nursery:
            cls = StationSession16 if chosen is OcppVersion.V16 else StationSession201
            base = "CsmsHandlers16" if chosen is OcppVersion.V16 else "CsmsHandlers201"
            handlers = self._handlers_factory(self, station_id, chosen)
            if chosen is OcppVersion.V201 and handlers is not None:
                handlers = _ReportTap(handlers, lambda: session)  # type: ignore[arg-type]
                handlers = self.registration_gate.wrap(handlers, station_id)
            session = cls(
                ws,
                RpcEndpoint(chosen, Role.CSMS),
                handlers,
                base,
                nursery,
                call_timeout=self.call_timeout,
                received_counts=counts,
                answer_fault=self._answer_fault,
            )
            session.station_id = station_id
            session.csms = self  # its answer delay (`_HeldAnswers`)
            if chosen is OcppVersion.V201:
                session.registration_gate = self.registration_gate  # type: ignore[union-attr]
            if self.field.active:
                self.field.attach(ws, session, nursery, self.rng, self.faults_injected)
            previous = self.stations.get(station_id)
            self.stations[station_id] = session
            self._arrived.set()
            self._arrived = trio.Event()
            if previous is not None:  # the station reconnected: the new connection wins
                nursery.start_soon(previous.aclose, 1000, "replaced by a new connection")
            try:
                await session.read_messages()
            finally:
                if self.stations.get(station_id) is session:
                    del self.stations[station_id]
                await session.aclose()
                nursery.cancel_scope.cancel(reason="station disconnected")

    def _authorized(self, request: trio_websocket.WebSocketRequest, station_id: str) -> bool:
        assert self.basic_auth is not None
        value = next(
            (v.decode("latin-1") for k, v in request.headers if k.lower() == b"authorization"),
            None,
        )
        credentials = parse_basic_auth(value)
        if credentials is None:
            return False
        username, password = credentials
        return username == station_id and self.basic_auth.get(station_id) == password


def _delay_function(delay: float | Mapping[str, float]) -> Callable[[str], float] | None:
    if isinstance(delay, Mapping):
        delays = dict(delay)
        if any(seconds < 0 for seconds in delays.values()):
            raise ValueError("response_delay must not be negative")
        default = delays.pop("*", 0.0)
        if not delays and not default:
            return None
        return lambda action: delays.get(action, default)
    if delay < 0:
        raise ValueError("response_delay must not be negative")
    return (lambda action: delay) if delay else None


@contextlib.asynccontextmanager
async def open_csms(**options: Any) -> AsyncIterator[EmbeddedCsms]:
    """Run an `EmbeddedCsms` (options as its constructor) for the length of the block.

    Yields it once it listens; `csms.url` is where stations connect. Leaving the block closes
    every connection and the listener.
    """
    csms = EmbeddedCsms(**options)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(csms.run)
            try:
                yield csms
            finally:
                nursery.cancel_scope.cancel(reason="embedded CSMS closed")
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:  # the block's own exception, as it was
            raise group.exceptions[0] from None
        raise
