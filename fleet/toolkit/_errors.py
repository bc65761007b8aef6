"""Errors of the trio connection layer; the OCPP-level ones live in `fleet.ocpp`."""

from __future__ import annotations

from fleet.ocpp import OcppError

__all__ = [
    "CallTimeout",
    "ConnectError",
    "ConnectionLost",
    "HandshakeRejected",
    "SubprotocolRefused",
]


class ConnectError(OcppError):
    """Could not open an OCPP connection: unreachable, TLS failure, timeout, or refused.

    The message names the URL without credentials.
    """


class HandshakeRejected(ConnectError):
    """The CSMS answered the websocket handshake with an HTTP error (e.g. 401, 404)."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class SubprotocolRefused(ConnectError):
    """The CSMS did not accept the OCPP version's websocket subprotocol."""


class ConnectionLost(OcppError):
    """The connection closed while it was in use, or was already closed.

    Attributes:
        code: the websocket close code, if one was received.
        reason: the close reason, if any.
    """

    def __init__(self, message: str, code: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class CallTimeout(OcppError):
    """The peer did not answer a CALL in time. The call is given up; a late answer is counted."""

    def __init__(self, action: str, timeout: float) -> None:
        super().__init__(f"{action}: no answer within {timeout:g} s")
        self.action = action
        self.timeout = timeout
