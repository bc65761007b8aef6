"""The OCPP message layer: generated payload types and the sans-IO OCPP-J RPC endpoint.

Layout: `v16` and `v201` are generated from the official JSON schemas by `codegen`; `_rpc`
frames and validates messages without any I/O. Nothing in this package imports trio or a
socket (a test guards it).
"""

from fleet.ocpp import v16, v201
from fleet.ocpp._actions import ActionSpec, Direction, OcppVersion
from fleet.ocpp._base import CustomData, Payload, dec_hook
from fleet.ocpp._errors import (
    CallError,
    ErrorCode,
    FormatViolationCallError,
    GenericCallError,
    InternalCallError,
    LocalProtocolError,
    MessageTypeNotSupportedCallError,
    NotImplementedCallError,
    NotSupportedCallError,
    OccurrenceConstraintViolationCallError,
    OcppError,
    PropertyConstraintViolationCallError,
    ProtocolCallError,
    RemoteProtocolError,
    RpcFrameworkCallError,
    SecurityCallError,
    TypeConstraintViolationCallError,
    error_codes,
    format_violation,
)
from fleet.ocpp._examples import minimal_example
from fleet.ocpp._rpc import (
    CallReceived,
    ErrorReceived,
    Event,
    InvalidMessage,
    InvalidReply,
    ResultReceived,
    Role,
    RpcEndpoint,
    UnexpectedReply,
    actions_of,
    error_code_for,
)

__all__ = [
    "ActionSpec",
    "CallError",
    "CallReceived",
    "CustomData",
    "Direction",
    "ErrorCode",
    "ErrorReceived",
    "Event",
    "FormatViolationCallError",
    "GenericCallError",
    "InternalCallError",
    "InvalidMessage",
    "InvalidReply",
    "LocalProtocolError",
    "MessageTypeNotSupportedCallError",
    "NotImplementedCallError",
    "NotSupportedCallError",
    "OccurrenceConstraintViolationCallError",
    "OcppError",
    "OcppVersion",
    "Payload",
    "PropertyConstraintViolationCallError",
    "ProtocolCallError",
    "RemoteProtocolError",
    "ResultReceived",
    "Role",
    "RpcEndpoint",
    "RpcFrameworkCallError",
    "SecurityCallError",
    "TypeConstraintViolationCallError",
    "UnexpectedReply",
    "actions_of",
    "dec_hook",
    "error_code_for",
    "error_codes",
    "format_violation",
    "minimal_example",
    "v16",
    "v201",
]
