"""OCPP-J error codes and the exceptions of the message layer.

Errors split by blame, as in h11:

- `LocalProtocolError`: we misused the API (sent an action our role may not send, a payload that
  breaks the schema, a second CALL while one is outstanding). Raised at once; nothing was sent.
- `RemoteProtocolError`: the peer sent something that is not valid OCPP. It carries the OCPP
  error code that answers it (`code`), so a CALLERROR can be built from it.
- `CallError`: the peer answered our CALL with a CALLERROR. One subclass per standard error code,
  so ``except NotImplementedCallError`` reads naturally; unknown codes raise plain `CallError`.
"""

from __future__ import annotations

import enum
from typing import Any

from fleet.ocpp._actions import OcppVersion

__all__ = [
    "CallError",
    "ErrorCode",
    "FormatViolationCallError",
    "GenericCallError",
    "InternalCallError",
    "LocalProtocolError",
    "MessageTypeNotSupportedCallError",
    "NotImplementedCallError",
    "NotSupportedCallError",
    "OccurrenceConstraintViolationCallError",
    "OcppError",
    "PropertyConstraintViolationCallError",
    "ProtocolCallError",
    "RemoteProtocolError",
    "RpcFrameworkCallError",
    "SecurityCallError",
    "TypeConstraintViolationCallError",
    "error_codes",
    "format_violation",
]


class ErrorCode(enum.StrEnum):
    """CALLERROR codes of OCPP-J 1.6 and 2.0.1, spelled as on the wire.

    Both versions keep the misspelling "OccurenceConstraintViolation" (1.6 errata 5.1; 2.0.1's
    list repeats it). 1.6 says "FormationViolation" where 2.0.1 says "FormatViolation".
    """

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"  # 1.6
    FORMAT_VIOLATION = "FormatViolation"  # 2.0.1
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"  # 2.0.1
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"  # 2.0.1


_COMMON_CODES = frozenset(ErrorCode) - {
    ErrorCode.FORMATION_VIOLATION,
    ErrorCode.FORMAT_VIOLATION,
    ErrorCode.RPC_FRAMEWORK_ERROR,
    ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED,
}
_CODES = {
    OcppVersion.V16: _COMMON_CODES | {ErrorCode.FORMATION_VIOLATION},
    OcppVersion.V201: _COMMON_CODES
    | {
        ErrorCode.FORMAT_VIOLATION,
        ErrorCode.RPC_FRAMEWORK_ERROR,
        ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED,
    },
}


def error_codes(version: OcppVersion) -> frozenset[ErrorCode]:
    """The error codes a CALLERROR may carry in `version`."""
    return _CODES[version]


def format_violation(version: OcppVersion) -> ErrorCode:
    """The version's code for a payload that does not fit the action's structure."""
    return (
        ErrorCode.FORMATION_VIOLATION if version is OcppVersion.V16 else ErrorCode.FORMAT_VIOLATION
    )


class OcppError(Exception):
    """Base of every exception the OCPP layer raises."""


class LocalProtocolError(OcppError):
    """We tried to do something OCPP or this API does not allow; nothing was sent."""


class RemoteProtocolError(OcppError):
    """The peer sent something that is not valid OCPP.

    Attributes:
        code: the OCPP error code that answers it.
        description: what was wrong, naming the field when there is one.
        details: extra JSON-able facts for the CALLERROR's details object.
    """

    def __init__(
        self, code: ErrorCode, description: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details if details is not None else {}


class CallError(OcppError):
    """A CALLERROR: the peer's answer to our CALL, or ours to the peer's.

    Raised by a call when the peer answered with a CALLERROR. A handler raises it to answer
    the peer's CALL with a CALLERROR of its choice, e.g.
    ``raise CallError(ErrorCode.NOT_SUPPORTED, "no reservations here")``.

    Attributes:
        code: the error code as received (a plain string if it is not a standard code).
        description: the peer's description.
        details: the peer's details object.
        action: the action of the CALL it answers.
    """

    def __init__(
        self,
        code: str,
        description: str = "",
        details: dict[str, Any] | None = None,
        action: str = "",
    ) -> None:
        where = f" to {action}" if action else ""
        super().__init__(f"CALLERROR{where}: {code}" + (f": {description}" if description else ""))
        self.code = str(code)
        self.description = description
        self.details = details if details is not None else {}
        self.action = action

    @staticmethod
    def from_wire(code: str, description: str, details: dict[str, Any], action: str) -> CallError:
        """The CallError subclass for `code` (plain `CallError` for a non-standard code)."""
        return _CALL_ERROR_CLASSES.get(code, CallError)(code, description, details, action)


class NotImplementedCallError(CallError):
    """The peer does not know the action."""


class NotSupportedCallError(CallError):
    """The peer knows the action but does not support it."""


class InternalCallError(CallError):
    """The peer failed while handling the action."""


class ProtocolCallError(CallError):
    """The peer found our payload incomplete."""


class SecurityCallError(CallError):
    """The peer refused the action for security reasons."""


class FormatViolationCallError(CallError):
    """The peer found our payload malformed (1.6 FormationViolation, 2.0.1 FormatViolation)."""


class PropertyConstraintViolationCallError(CallError):
    """The peer found a field value invalid."""


class OccurrenceConstraintViolationCallError(CallError):
    """The peer found a field missing or repeated too often."""


class TypeConstraintViolationCallError(CallError):
    """The peer found a field of the wrong data type."""


class GenericCallError(CallError):
    """Any other error."""


class RpcFrameworkCallError(CallError):
    """The peer could not read our message as an RPC at all (2.0.1)."""


class MessageTypeNotSupportedCallError(CallError):
    """The peer does not support our message type number (2.0.1)."""


_CALL_ERROR_CLASSES: dict[str, type[CallError]] = {
    ErrorCode.NOT_IMPLEMENTED: NotImplementedCallError,
    ErrorCode.NOT_SUPPORTED: NotSupportedCallError,
    ErrorCode.INTERNAL_ERROR: InternalCallError,
    ErrorCode.PROTOCOL_ERROR: ProtocolCallError,
    ErrorCode.SECURITY_ERROR: SecurityCallError,
    ErrorCode.FORMATION_VIOLATION: FormatViolationCallError,
    ErrorCode.FORMAT_VIOLATION: FormatViolationCallError,
    ErrorCode.PROPERTY_CONSTRAINT_VIOLATION: PropertyConstraintViolationCallError,
    ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION: OccurrenceConstraintViolationCallError,
    "OccurrenceConstraintViolation": OccurrenceConstraintViolationCallError,  # 2.1 spelling
    ErrorCode.TYPE_CONSTRAINT_VIOLATION: TypeConstraintViolationCallError,
    ErrorCode.GENERIC_ERROR: GenericCallError,
    ErrorCode.RPC_FRAMEWORK_ERROR: RpcFrameworkCallError,
    ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED: MessageTypeNotSupportedCallError,
}
