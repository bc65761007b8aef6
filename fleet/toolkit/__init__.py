"""The toolkit: one charge point talking to a CSMS over a websocket, in a few lines of trio.

`connect()` opens the connection; the `ChargePoint16` / `ChargePoint201` it yields has one typed
method per action the station sends, and `call()` for any action by name. Subclass
`ChargePointHandlers16` / `ChargePointHandlers201` to answer what the CSMS sends.

The generic API is one script for every version: ``cp.generic`` (a `GenericChargePoint`) sends
OCPP 2.0.1 messages over a 1.6 or a 2.0.1 connection, and `GenericChargePointHandlers` answers
a CSMS of either version in 2.0.1 terms. What 1.6 cannot carry raises `NotExpressible`.
"""

from fleet.generic import LEGACY_VENDOR, NotExpressible
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
from fleet.toolkit._generic import GenericChargePoint, GenericChargePointHandlers, GenericStation
from fleet.toolkit._security import client_ssl_context
from fleet.toolkit._websocket import WebSocket

__all__ = [
    "LEGACY_VENDOR",
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
    "GenericChargePoint",
    "GenericChargePointHandlers",
    "GenericStation",
    "HandshakeRejected",
    "NotExpressible",
    "OcppConnection",
    "SubprotocolRefused",
    "WebSocket",
    "client_ssl_context",
    "connect",
    "open_station_websocket",
    "parse_version",
    "station_url",
]
