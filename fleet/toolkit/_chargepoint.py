"""`connect()`: one simulated charge point talking to a CSMS."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Literal, overload
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import trio
import trio_websocket

from fleet.generic import LinkState, Ocpp16Link
from fleet.ocpp import OcppVersion, Role, RpcEndpoint
from fleet.toolkit._connection import DEFAULT_CALL_TIMEOUT, CallTiming, OcppConnection
from fleet.toolkit._errors import ConnectError, HandshakeRejected, SubprotocolRefused
from fleet.toolkit._generated import (
    ChargePointCalls16,
    ChargePointCalls201,
    ChargePointHandlers16,
    ChargePointHandlers201,
)
from fleet.toolkit._generic import GenericChargePoint, legacy_handlers
from fleet.toolkit._security import basic_auth_header, client_ssl_context
from fleet.toolkit._websocket import WebSocket, wrap_client_stream

# Seconds to wait for the peer's answer to our websocket close.
CLOSE_TIMEOUT = 2.0

__all__ = [
    "ChargePoint16",
    "ChargePoint201",
    "connect",
    "open_station_websocket",
    "parse_version",
    "station_url",
]


class ChargePoint16(OcppConnection, ChargePointCalls16):
    """An OCPP 1.6J charge point connection: one typed method per action it sends.

    ``cp.generic`` sends the same in OCPP 2.0.1 terms (`GenericChargePoint`).
    """

    _generic_link: Ocpp16Link | None = None
    _generic: GenericChargePoint | None = None

    @property
    def generic(self) -> GenericChargePoint:
        """The version-independent API of this connection (2.0.1 messages, mapped to 1.6)."""
        if self._generic is None:
            if self._generic_link is None:
                self._generic_link = Ocpp16Link()
            self._generic = GenericChargePoint(self, self._generic_link)
        return self._generic


class ChargePoint201(OcppConnection, ChargePointCalls201):
    """An OCPP 2.0.1 charge point connection: one typed method per action it sends.

    ``cp.generic`` is the version-independent API; on 2.0.1 it sends messages as they are.
    """

    _generic: GenericChargePoint | None = None

    @property
    def generic(self) -> GenericChargePoint:
        """The version-independent API of this connection (`GenericChargePoint`)."""
        if self._generic is None:
            self._generic = GenericChargePoint(self, None)
        return self._generic


_VERSION_NAMES = {
    "1.6": OcppVersion.V16,
    "1.6j": OcppVersion.V16,
    "ocpp1.6": OcppVersion.V16,
    "2.0.1": OcppVersion.V201,
    "ocpp2.0.1": OcppVersion.V201,
}


def parse_version(version: str | OcppVersion) -> OcppVersion:
    """ "1.6", "2.0.1", "ocpp1.6", "ocpp2.0.1" or an `OcppVersion`.

    Raises:
        ValueError: any other version.
    """
    if isinstance(version, OcppVersion):
        return version
    try:
        return _VERSION_NAMES[version.lower()]
    except KeyError:
        raise ValueError(f"unknown OCPP version {version!r}; use '1.6' or '2.0.1'") from None


def station_url(csms_url: str, station_id: str) -> str:
    """The station's websocket URL: the CSMS URL, a slash, and the URL-encoded station id."""
    return csms_url.rstrip("/") + "/" + quote(station_id, safe="")


def redact(url: str) -> str:
    """A URL fit for messages: any user:password part removed."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=host))


@overload
def connect(
    csms_url: str,
    station_id: str,
    *,
    version: Literal["1.6"] = ...,
    handlers: ChargePointHandlers16 | ChargePointHandlers201 | None = ...,
    call_timeout: float = ...,
    connect_timeout: float = ...,
    password: str | None = ...,
    username: str | None = ...,
    ssl_context: ssl.SSLContext | None = ...,
    ca_file: str | None = ...,
    client_cert: str | None = ...,
    client_key: str | None = ...,
    ping_interval: float | None = ...,
    ping_timeout: float = ...,
    on_call: Callable[[CallTiming], None] | None = ...,
    generic_state: LinkState | None = ...,
) -> contextlib.AbstractAsyncContextManager[ChargePoint16]: ...
@overload
def connect(
    csms_url: str,
    station_id: str,
    *,
    version: Literal["2.0.1"],
    handlers: ChargePointHandlers201 | None = ...,
    call_timeout: float = ...,
    connect_timeout: float = ...,
    password: str | None = ...,
    username: str | None = ...,
    ssl_context: ssl.SSLContext | None = ...,
    ca_file: str | None = ...,
    client_cert: str | None = ...,
    client_key: str | None = ...,
    ping_interval: float | None = ...,
    ping_timeout: float = ...,
    on_call: Callable[[CallTiming], None] | None = ...,
    generic_state: LinkState | None = ...,
) -> contextlib.AbstractAsyncContextManager[ChargePoint201]: ...
@overload
def connect(
    csms_url: str,
    station_id: str,
    *,
    version: str | OcppVersion,
    handlers: ChargePointHandlers16 | ChargePointHandlers201 | None = ...,
    call_timeout: float = ...,
    connect_timeout: float = ...,
    password: str | None = ...,
    username: str | None = ...,
    ssl_context: ssl.SSLContext | None = ...,
    ca_file: str | None = ...,
    client_cert: str | None = ...,
    client_key: str | None = ...,
    ping_interval: float | None = ...,
    ping_timeout: float = ...,
    on_call: Callable[[CallTiming], None] | None = ...,
    generic_state: LinkState | None = ...,
) -> contextlib.AbstractAsyncContextManager[ChargePoint16 | ChargePoint201]: ...


@contextlib.asynccontextmanager
async def connect(
    csms_url: str,
    station_id: str,
    *,
    version: str | OcppVersion = "1.6",
    handlers: ChargePointHandlers16 | ChargePointHandlers201 | None = None,
    call_timeout: float = DEFAULT_CALL_TIMEOUT,
    connect_timeout: float = 10.0,
    password: str | None = None,
    username: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    ca_file: str | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
    ping_interval: float | None = None,
    ping_timeout: float = 10.0,
    on_call: Callable[[CallTiming], None] | None = None,
    generic_state: LinkState | None = None,
) -> AsyncIterator[ChargePoint16 | ChargePoint201]:
    """Connect one charge point to a CSMS, for the duration of an ``async with`` block.

    Args:
        csms_url: the CSMS's OCPP endpoint, ``ws://`` or ``wss://``; the station id is
            appended as the last path segment.
        station_id: the charge point's identity.
        version: "1.6" (subprotocol ``ocpp1.6``) or "2.0.1" (``ocpp2.0.1``).
        handlers: answers to what the CSMS sends: a `ChargePointHandlers16` /
            `ChargePointHandlers201` subclass instance, or a `GenericChargePointHandlers`
            (2.0.1 terms) for either version. Actions not overridden, or no handlers, are
            answered with a NotImplemented CALLERROR.
        call_timeout: default seconds to wait for each answer.
        connect_timeout: seconds for TCP, TLS and the websocket handshake together.
        password: HTTP Basic auth (security profile 1); the user name defaults to the
            station id, as OCPP requires. Default: the password in the URL, if it has one
            (``ws://user:password@host/ocpp``, percent-encoded), with its user name.
        username: a different Basic auth user name, for CSMSs that want one.
        ssl_context: TLS settings for ``wss://`` (security profiles 2 and 3); or give
            `ca_file` and optionally `client_cert` / `client_key` and one is built.
        ping_interval: send a websocket ping this often (seconds); None sends none.
        ping_timeout: close the connection when a pong takes longer than this.
        on_call: called with a `CallTiming` after every CALL the station sends.
        generic_state: on 1.6, the `LinkState` of ``cp.generic`` (transaction ids the CSMS
            gave, connector statuses): pass the last connection's ``cp.generic.state`` to
            end after a reconnect a transaction started before it. Default: a new one.

    Yields:
        A `ChargePoint16` or `ChargePoint201` with one typed method per action it sends
        (``await cp.authorize(...)``) and `call(action, payload)` for any action by name;
        ``cp.generic`` is the same connection in OCPP 2.0.1 terms, whatever its version.

    Raises:
        ValueError: an unknown version or a URL that is not ws:// or wss://.
        HandshakeRejected: the CSMS answered the handshake with an HTTP error (e.g. 401).
        SubprotocolRefused: the CSMS does not speak the version.
        ConnectError: the CSMS could not be reached, TLS failed, or it took too long.

    Leaving the block closes the connection (code 1000) and stops pending ``async``
    handlers. Errors name the URL without credentials.
    """
    ocpp_version = parse_version(version)
    cls = ChargePoint16 if ocpp_version is OcppVersion.V16 else ChargePoint201
    base = "ChargePointHandlers16" if ocpp_version is OcppVersion.V16 else "ChargePointHandlers201"
    link = Ocpp16Link(generic_state) if ocpp_version is OcppVersion.V16 else None
    if link is not None and isinstance(handlers, ChargePointHandlers201):
        # Generic handlers (2.0.1 terms) answering a 1.6 CSMS: each CALL is mapped.
        handlers = legacy_handlers(handlers, link)  # type: ignore[assignment]
    elif ocpp_version is OcppVersion.V201 and isinstance(handlers, ChargePointHandlers16):
        raise TypeError("ChargePointHandlers16 answer OCPP 1.6; this connection is 2.0.1")
    websocket = open_station_websocket(
        csms_url,
        station_id,
        ocpp_version,
        password=password,
        username=username,
        ssl_context=ssl_context,
        ca_file=ca_file,
        client_cert=client_cert,
        client_key=client_key,
        connect_timeout=connect_timeout,
    )
    async with websocket as ws:
        try:
            async with trio.open_nursery() as nursery:
                cp = cls(
                    ws,
                    RpcEndpoint(ocpp_version, Role.CHARGE_POINT),
                    handlers,
                    base,
                    nursery,
                    call_timeout=call_timeout,
                    on_call=on_call,
                )
                if link is not None:
                    cp._generic_link = link  # type: ignore[union-attr]
                nursery.start_soon(cp.read_messages)
                if ping_interval is not None:
                    nursery.start_soon(cp.keep_alive, ping_interval, ping_timeout)
                try:
                    yield cp
                finally:
                    await cp.aclose()
                    nursery.cancel_scope.cancel(reason="charge point connection closed")
        except BaseExceptionGroup as group:
            # Our tasks never raise, so a group holds the caller's block's one exception.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise


@contextlib.asynccontextmanager
async def open_station_websocket(
    csms_url: str,
    station_id: str,
    version: str | OcppVersion,
    *,
    password: str | None = None,
    username: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    ca_file: str | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
    connect_timeout: float = 10.0,
) -> AsyncIterator[WebSocket]:
    """The bare websocket of one station, for drivers that read it themselves (the fleet).

    Connection settings and errors are those of `connect()`; leaving the block closes it.
    """
    ocpp_version = parse_version(version)
    url = station_url(csms_url, station_id)
    shown_url = redact(url)
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme not in ("ws", "wss"):
        raise ValueError(f"CSMS URL must start with ws:// or wss://, not {shown_url!r}")
    if password is None and parts.password is not None:
        # Credentials in the URL (ws://user:password@host/...) are Basic auth, as in any
        # HTTP client; the request itself never carries them.
        password = unquote(parts.password)
        if username is None and parts.username:
            username = unquote(parts.username)
    headers = []
    if password is not None:
        headers.append(
            basic_auth_header(username if username is not None else station_id, password)
        )
    if scheme == "wss" and ssl_context is None:
        ssl_context = client_ssl_context(ca_file, client_cert, client_key)
    try:
        async with trio.open_nursery() as nursery:
            ws = await _open_websocket(
                nursery, url, shown_url, ssl_context, ocpp_version, headers, connect_timeout
            )
            try:
                yield ws
            finally:
                # Shielded so a cancelled owner still closes politely, but bounded: a peer
                # that never answers the close must not hold the owner forever.
                with trio.move_on_after(CLOSE_TIMEOUT, shield=True):
                    await ws.aclose()
                nursery.cancel_scope.cancel(reason="station websocket closed")
    except BaseExceptionGroup as group:
        # trio-websocket's reader task (in our nursery) never raises but for a handshake
        # rejection; otherwise the group holds the caller's block's one exception.
        if len(group.exceptions) == 1:
            raise _connect_error(group.exceptions[0], shown_url) from None
        raise


async def _open_websocket(
    nursery: trio.Nursery,
    url: str,
    shown_url: str,
    ssl_context: ssl.SSLContext | None,
    version: OcppVersion,
    headers: list[tuple[bytes, bytes]],
    timeout: float,
) -> WebSocket:
    # TCP and TLS are opened here rather than by trio-websocket, whose connect never returns
    # when the TLS handshake fails; done here, a bad certificate is a prompt, clear error.
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    resource = parts.path or "/"
    if parts.query:
        resource += "?" + parts.query
    host_header = host if port in (80, 443) else f"{host}:{port}"
    stream: trio.SocketStream | trio.SSLStream[trio.SocketStream] | None = None
    try:
        with trio.fail_after(timeout):
            try:
                stream = await trio.open_tcp_stream(host, port)
                if ssl_context is not None:
                    stream = trio.SSLStream(
                        stream, ssl_context, server_hostname=host, https_compatible=True
                    )
                    await stream.do_handshake()
                ws = await wrap_client_stream(
                    nursery,
                    stream,
                    host_header,
                    resource,
                    subprotocols=[version.value],
                    extra_headers=headers,
                )
            except BaseException:
                # Close the socket now. Left to the garbage collector (or frozen out of its
                # reach), every failed attempt of a reconnect storm would hold a descriptor.
                if stream is not None:
                    await trio.aclose_forcefully(stream)
                raise
    except trio.TooSlowError:
        raise ConnectError(f"connecting to {shown_url} took over {timeout:g} s") from None
    except trio.BrokenResourceError as exc:
        cause = exc.__cause__
        if isinstance(cause, ssl.SSLError):
            raise _connect_error(cause, shown_url) from None
        raise ConnectError(f"{shown_url} closed the connection during the handshake") from None
    except (OSError, trio_websocket.HandshakeError) as exc:
        raise _connect_error(exc, shown_url) from None
    if ws.subprotocol != version.value:
        await ws.aclose(1002, "subprotocol not accepted")
        raise SubprotocolRefused(
            f"{shown_url} did not accept the websocket subprotocol {version.value!r}"
            + (f" (it chose {ws.subprotocol!r})" if ws.subprotocol else "")
        )
    return ws


def _connect_error(exc: BaseException, shown_url: str) -> BaseException:
    """Our error for a failure to connect; any other exception is returned as it is."""
    if isinstance(exc, trio_websocket.ConnectionRejected):
        return HandshakeRejected(
            f"{shown_url} refused the websocket handshake with HTTP {exc.status_code}",
            exc.status_code,
        )
    if isinstance(exc, ssl.SSLError):
        detail = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        return ConnectError(f"TLS with {shown_url} failed: {detail}")
    if isinstance(exc, socket.gaierror):  # before OSError: it is one
        host = urlsplit(shown_url).hostname
        return ConnectError(f"cannot resolve the host {host!r} of {shown_url}: {exc.strerror}")
    if isinstance(exc, OSError | trio_websocket.HandshakeError):
        return ConnectError(f"cannot connect to {shown_url}: {_describe(exc)}")
    return exc


def _describe(exc: BaseException) -> str:
    """Why a connection failed, said once (the message names the URL already)."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, OSError) and isinstance(cause, BaseExceptionGroup):
        # trio.open_tcp_stream: "all attempts to connect to HOST:PORT failed", from a group
        # of the same words holding each address's error. The reasons are what is news.
        reasons = dict.fromkeys(_reason(each) for each in cause.exceptions)
        return "; ".join(reasons)
    if isinstance(exc, OSError) and exc.errno is not None:
        return _reason(exc)
    text = str(exc) or type(exc).__name__
    if cause is not None and str(cause) and str(cause) not in text and text not in str(cause):
        text = f"{text} ({cause})"
    return text


def _reason(exc: BaseException) -> str:
    # "Connection refused", not trio's "Error connecting to ('127.0.0.1', 9): Connection
    # refused" nor "[Errno 111] ...": the URL in the message says where already.
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__
