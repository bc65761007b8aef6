"""The toolkit: one charge point talking to a CSMS over a websocket, in a few lines of trio.

`connect()` opens the connection; the `ChargePoint16` / `ChargePoint201` it yields has one typed
method per action the station sends, and `call()` for any action by name. Subclass
`ChargePointHandlers16` / `ChargePointHandlers201` to answer what the CSMS sends.
"""

from fleet.toolkit._chargepoint import (
    ChargePoint16,
    ChargePoint201,
    connect,
    open_station_websocket,
    parse_version,
    station_url,
)
from fleet.toolkit._connection import CallTiming, ConnectionStats, OcppConnection
from fleet.toolkit._errors import (
    CallTimeout,
    ConnectError,
    ConnectionLost,
    HandshakeRejected,
    SubprotocolRefused,
)
from fleet.toolkit._generated import (
    ChargePointHandlers16,
    ChargePointHandlers201,
    CsmsHandlers16,
    CsmsHandlers201,
)
from fleet.toolkit._security import client_ssl_context
from fleet.toolkit._websocket import WebSocket

__all__ = [
    "CallTimeout",
    "CallTiming",
    "ChargePoint16",
    "ChargePoint201",
    "ChargePointHandlers16",
    "ChargePointHandlers201",
    "ConnectError",
    "ConnectionLost",
    "ConnectionStats",
    "CsmsHandlers16",
    "CsmsHandlers201",
    "HandshakeRejected",
    "OcppConnection",
    "SubprotocolRefused",
    "WebSocket",
    "client_ssl_context",
    "connect",
    "open_station_websocket",
    "parse_version",
    "station_url",
]
