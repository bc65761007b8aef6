"""The OCPP-J RPC layer, sans-IO: frames in, events out; payloads in, frames out.

`RpcEndpoint` is one side (charge point or CSMS) of one websocket connection. It never touches a
socket or a clock: the driver hands it each received text message and sends the strings it
returns, as with h11 and wsproto. Frames are::

    CALL        [2, messageId, action, payload]
    CALLRESULT  [3, messageId, payload]
    CALLERROR   [4, messageId, errorCode, errorDescription, errorDetails]

Whatever the peer sends, `receive_message` returns an event and never raises: a broken frame
becomes `InvalidMessage`, whose `reply` (when not None) is the CALLERROR to send back. Misuse on
our side raises `LocalProtocolError` before anything is sent, and leaves the endpoint as it was.

OCPP-J allows one outstanding CALL per direction (1.6: SHOULD NOT send another; 2.0.1: SHALL
NOT), so `send_call` refuses a second one until the first is answered or `abandon_call` gives it
up; queueing callers is the driver's job.

Date-times go out with at most millisecond precision, whoever built the payload: 2.0.1 Part 2
section 2.1.4 allows no more than 3 decimal places, and 1.6 CSMSs parse milliseconds best.
Received payloads are read as sent. Integers written ``1.0`` are read as the schemas' JSON
Schema draft says (see `ActionSpec.whole_numbers`).
"""

from __future__ import annotations

import collections
import enum
import re
import secrets
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from fleet.ocpp import v16, v201
from fleet.ocpp._actions import ActionSpec, Direction, OcppVersion, decode_whole_numbers
from fleet.ocpp._base import Payload
from fleet.ocpp._errors import (
    CallError,
    ErrorCode,
    LocalProtocolError,
    RemoteProtocolError,
    format_violation,
)

__all__ = [
    "CallReceived",
    "ErrorReceived",
    "Event",
    "InvalidMessage",
    "InvalidReply",
    "ResultReceived",
    "Role",
    "RpcEndpoint",
    "UnexpectedReply",
    "actions_of",
    "error_code_for",
]

# 2.0.1 (Part 4, 4.2.1): errorDescription is at most 255 characters; 1.6 sets no limit.
_MAX_DESCRIPTION = 255
# The message id a CALLERROR carries when the offending message's id could not be read.
_UNKNOWN_ID = "-1"
# How many given-up call ids to remember, to tell a late answer from a stray one.
_ABANDONED_MEMORY = 16


class Role(enum.Enum):
    """Which side of the connection an endpoint plays."""

    CHARGE_POINT = "charge point"
    CSMS = "CSMS"


_ACTIONS: Final[Mapping[OcppVersion, Mapping[str, ActionSpec]]] = {
    OcppVersion.V16: v16.ACTIONS,
    OcppVersion.V201: v201.ACTIONS,
}
_SENDS: Final = {
    Role.CHARGE_POINT: Direction.CHARGE_POINT_TO_CSMS,
    Role.CSMS: Direction.CSMS_TO_CHARGE_POINT,
}
_RECEIVES: Final = {
    Role.CHARGE_POINT: Direction.CSMS_TO_CHARGE_POINT,
    Role.CSMS: Direction.CHARGE_POINT_TO_CSMS,
}
# (version, role) -> actions it may send / receive. Flag arithmetic per message costs more
# than the rest of a send (measured: ~0.5 us of 1.3); a set lookup costs next to nothing.
_MAY_SEND: Final = {
    (version, role): frozenset(n for n, s in actions.items() if s.direction & _SENDS[role])
    for version, actions in _ACTIONS.items()
    for role in Role
}
_MAY_RECEIVE: Final = {
    (version, role): frozenset(n for n, s in actions.items() if s.direction & _RECEIVES[role])
    for version, actions in _ACTIONS.items()
    for role in Role
}


def actions_of(version: OcppVersion | str) -> Mapping[str, ActionSpec]:
    """Every action of an OCPP version, by name."""
    return _ACTIONS[OcppVersion(version)]


# -- frames ---------------------------------------------------------------------------------
# One tagged union; the tag is the message type number, the first array element.


class _CallFrame(msgspec.Struct, array_like=True, tag=2, forbid_unknown_fields=True):
    message_id: str
    action: str
    payload: msgspec.Raw


class _CallResultFrame(msgspec.Struct, array_like=True, tag=3, forbid_unknown_fields=True):
    message_id: str
    payload: msgspec.Raw


class _CallErrorFrame(msgspec.Struct, array_like=True, tag=4, forbid_unknown_fields=True):
    message_id: str
    error_code: str
    error_description: str
    # Some peers leave out the details object; accept that rather than lose the error.
    error_details: msgspec.Raw = msgspec.Raw(b"{}")


# -- date-times on the wire -----------------------------------------------------------------
# msgspec writes a date-time's microseconds, all 6 digits, whenever it has any (".978000Z" too).
# One regex pass (a literal start, "T": ~0.2-0.8 us on a 1 kB payload, run only for types
# holding a date-time) splits the payload around the digits past the third of every JSON string
# that is a whole RFC 3339 date-time; joining the rest truncates them, as a clock reading is.
# A string inside a string has its quotes escaped (\"), so it never matches.
_EXTRA_DIGITS: Final = re.compile(
    rb'(T(?<="\d{4}-\d\d-\d\dT)\d\d:\d\d:\d\d\.\d{3})\d+(?=(?:Z|[+-]\d\d:\d\d)")'
)


def _to_milliseconds(body: bytes) -> bytes:
    """The encoded payload with every date-time cut to at most millisecond precision."""
    parts = _EXTRA_DIGITS.split(body)
    return body if len(parts) == 1 else b"".join(parts)


_FRAME_DECODER: Final = msgspec.json.Decoder(_CallFrame | _CallResultFrame | _CallErrorFrame)
_ANY_DECODER: Final = msgspec.json.Decoder()
_DETAILS_DECODER: Final = msgspec.json.Decoder(dict[str, Any])
_ENCODER: Final = msgspec.json.Encoder()

# -- events ---------------------------------------------------------------------------------


class CallReceived(msgspec.Struct, frozen=True):
    """A valid CALL from the peer; answer it with `send_result` or `send_error`."""

    message_id: str
    action: str
    request: Payload


class ResultReceived(msgspec.Struct, frozen=True):
    """The CALLRESULT to our outstanding CALL, decoded into the action's response type."""

    message_id: str
    action: str
    response: Payload


class ErrorReceived(msgspec.Struct, frozen=True):
    """The CALLERROR to our outstanding CALL; `error` is ready to raise."""

    message_id: str
    action: str
    error: CallError


class InvalidReply(msgspec.Struct, frozen=True):
    """The answer to our outstanding CALL is not valid OCPP; the call has failed with `error`."""

    message_id: str
    action: str
    error: RemoteProtocolError


class UnexpectedReply(msgspec.Struct, frozen=True):
    """A CALLRESULT or CALLERROR that answers no outstanding CALL of ours.

    `late` is True when it answers a call we already gave up on (`abandon_call`).
    """

    message_id: str
    late: bool


class InvalidMessage(msgspec.Struct, frozen=True):
    """A message from the peer that breaks OCPP-J: a bad frame, or a CALL we must refuse.

    Attributes:
        message_id: its id, if one could be read.
        action: the action of a refused CALL, if known.
        error: what was wrong, with the OCPP error code.
        reply: the CALLERROR frame to send back, or None when none is due (a broken reply, or
            a 1.6 frame whose message id cannot be read).
    """

    message_id: str | None
    action: str | None
    error: RemoteProtocolError
    reply: str | None


Event = (
    CallReceived | ResultReceived | ErrorReceived | InvalidReply | UnexpectedReply | InvalidMessage
)

# -- validation errors -> OCPP error codes --------------------------------------------------


def error_code_for(validation_message: str, version: OcppVersion) -> ErrorCode:
    """The OCPP error code for a msgspec validation message about a payload.

    Missing fields and array bounds break occurrence constraints; wrong JSON types, string
    lengths (a CiString's length is part of its type) and malformed date-times break type
    constraints; enum values, numeric bounds and multiples break property constraints; unknown
    fields and a payload that is not an object at all break the action's format.
    """
    message = validation_message
    if message.startswith(("Object missing required field", "Expected `array` of length")):
        return ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    if message.startswith("Object contains unknown field") or " - at `" not in message:
        return format_violation(version)
    if message.startswith(("Invalid enum value", "Expected `int` >", "Expected `int` <")):
        return ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    if "multiple of" in message:
        return ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    return ErrorCode.TYPE_CONSTRAINT_VIOLATION


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 3] + "..."


class RpcEndpoint:
    """One side of one OCPP-J connection, without I/O.

    Args:
        version: the OCPP version negotiated for the connection.
        role: which side we are; it decides which actions we may send and accept.
        validate_outgoing: check every payload we send against the schema (a decode of what
            we encoded). Turn it off only for payloads built by code that tests prove correct.
        id_prefix: prefix of our message ids; by default a random one, so ids stay unique
            across reconnects of the same station, as OCPP-J 1.6 section 4.1.1 asks.
    """

    __slots__ = (
        "_abandoned",
        "_actions",
        "_counter",
        "_incoming",
        "_outstanding",
        "_prefix",
        "_receives",
        "_sends",
        "_validate",
        "role",
        "version",
    )

    def __init__(
        self,
        version: OcppVersion | str,
        role: Role,
        *,
        validate_outgoing: bool = True,
        id_prefix: str | None = None,
    ) -> None:
        self.version = OcppVersion(version)
        self.role = role
        self._actions = _ACTIONS[self.version]
        self._sends = _MAY_SEND[self.version, role]
        self._receives = _MAY_RECEIVE[self.version, role]
        self._validate = validate_outgoing
        self._prefix = id_prefix if id_prefix is not None else secrets.token_hex(4) + "-"
        self._counter = 0
        self._outstanding: tuple[str, ActionSpec] | None = None
        self._incoming: dict[str, ActionSpec] = {}
        # Ids of calls given up, to tell a late answer from a stray one; made on the first
        # (most connections never give one up: ~760 bytes each saved).
        self._abandoned: collections.deque[str] | None = None

    @property
    def outstanding(self) -> tuple[str, str] | None:
        """(message id, action) of our CALL awaiting its answer, or None."""
        if self._outstanding is None:
            return None
        return self._outstanding[0], self._outstanding[1].name

    @property
    def unanswered(self) -> Mapping[str, str]:
        """Message id -> action of the peer's CALLs we have not answered yet."""
        return {message_id: spec.name for message_id, spec in self._incoming.items()}

    # -- sending ---------------------------------------------------------------------------

    def send_call(self, action: str, payload: Payload | Mapping[str, Any]) -> tuple[str, str]:
        """Encode a CALL.

        Args:
            action: the action name, e.g. ``"Heartbeat"``.
            payload: the action's request Struct, or a mapping in wire (camelCase) form.

        Returns:
            (message id, frame text) to send as a websocket text message.

        Raises:
            LocalProtocolError: a CALL is already outstanding, the action is unknown or not
                ours to send, or the payload breaks the action's schema.
        """
        if self._outstanding is not None:
            raise LocalProtocolError(
                f"cannot send {action}: {self._outstanding[1].name} "
                f"({self._outstanding[0]}) is still awaiting its answer"
            )
        spec = self._actions.get(action)
        if spec is None:
            raise LocalProtocolError(f"unknown OCPP {self.version.value[4:]} action {action!r}")
        if action not in self._sends:
            raise LocalProtocolError(f"a {self.role.value} does not send {action}")
        body = self._encode_payload(
            spec, spec.request, spec.request_decoder, payload, "request", spec.request_has_date_time
        )
        self._counter += 1
        message_id = f"{self._prefix}{self._counter}"
        self._outstanding = (message_id, spec)
        return message_id, f'[2,"{message_id}","{action}",{body}]'

    def send_result(self, message_id: str, payload: Payload | Mapping[str, Any]) -> str:
        """Encode the CALLRESULT answering the peer's CALL `message_id`.

        Raises:
            LocalProtocolError: no unanswered CALL has that id, or the payload breaks the
                action's response schema.
        """
        spec = self._incoming.get(message_id)
        if spec is None:
            raise LocalProtocolError(f"no unanswered CALL with id {message_id!r}")
        body = self._encode_payload(
            spec,
            spec.response,
            spec.response_decoder,
            payload,
            "response",
            spec.response_has_date_time,
        )
        del self._incoming[message_id]
        return f"[3,{_ENCODER.encode(message_id).decode()},{body}]"

    def send_error(
        self,
        message_id: str,
        code: ErrorCode | str,
        description: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> str:
        """Encode a CALLERROR answering the peer's CALL `message_id`.

        Any id may be answered (a CALL we refused never became unanswered); the description is
        cut to 255 characters, as 2.0.1 requires.
        """
        self._incoming.pop(message_id, None)
        return self._error_frame(message_id, code, description, details)

    def abandon_call(self) -> None:
        """Give up on our outstanding CALL (it timed out), so that another may be sent.

        A late answer to it then arrives as `UnexpectedReply(late=True)`.
        """
        if self._outstanding is not None:
            if self._abandoned is None:
                self._abandoned = collections.deque(maxlen=_ABANDONED_MEMORY)
            self._abandoned.append(self._outstanding[0])
            self._outstanding = None

    def _was_abandoned(self, message_id: str) -> bool:
        return self._abandoned is not None and message_id in self._abandoned

    def _encode_payload(
        self,
        spec: ActionSpec,
        expected: type[Payload],
        decoder: msgspec.json.Decoder[Any],
        payload: Payload | Mapping[str, Any],
        what: str,
        has_date_time: bool,
    ) -> str:
        struct = type(payload) is expected
        if not struct and not isinstance(payload, Mapping):
            raise LocalProtocolError(
                f"{spec.name} {what} must be {expected.__name__} or a mapping, "
                f"not {type(payload).__name__}"
            )
        try:
            body = _ENCODER.encode(payload)
            if self._validate or not struct:
                try:
                    decoded = decoder.decode(body)
                except msgspec.ValidationError as exc:
                    if not spec.whole_numbers:
                        raise
                    decoded = decode_whole_numbers(decoder, body, exc)
                    struct = False  # written again below, integers as integers
                if not struct:
                    # A mapping (or a Struct holding 1.0 for an integer) goes out as the Struct
                    # it decodes to: one spelling for every date-time and number.
                    body = _ENCODER.encode(decoded)
                    has_date_time = True
        except (msgspec.ValidationError, TypeError, ValueError) as exc:
            raise LocalProtocolError(f"invalid {spec.name} {what}: {exc}") from None
        if has_date_time:
            body = _to_milliseconds(body)
        return body.decode()

    def _error_frame(
        self,
        message_id: str,
        code: ErrorCode | str,
        description: str,
        details: Mapping[str, Any] | None,
    ) -> str:
        frame = (4, message_id, str(code), _truncate(description), details or {})
        return _ENCODER.encode(frame).decode()

    # -- receiving -------------------------------------------------------------------------

    def receive_message(self, data: str | bytes) -> Event:
        """Turn one received websocket message into an event. Never raises for bad input."""
        try:
            frame = _FRAME_DECODER.decode(data)
        except msgspec.DecodeError as exc:  # ValidationError included
            return self._bad_frame(data, exc)
        frame_type = type(frame)
        if frame_type is _CallFrame:
            return self._on_call(frame)  # type: ignore[arg-type]
        if frame_type is _CallResultFrame:
            return self._on_result(frame)  # type: ignore[arg-type]
        return self._on_error(frame)  # type: ignore[arg-type]

    def receive_binary(self, data: bytes) -> InvalidMessage:
        """A binary websocket message: OCPP-J uses text frames only, so it is refused unread."""
        code = (
            ErrorCode.RPC_FRAMEWORK_ERROR
            if self.version is OcppVersion.V201
            else format_violation(self.version)
        )
        return self._unreadable(code, f"binary frame of {len(data)} bytes; OCPP-J uses text frames")

    def _on_call(self, frame: _CallFrame) -> Event:
        message_id = frame.message_id
        spec = self._actions.get(frame.action)
        if spec is None:
            return self._refuse(
                message_id,
                frame.action,
                ErrorCode.NOT_IMPLEMENTED,
                f"unknown action {frame.action!r} in OCPP {self.version.value[4:]}",
            )
        if frame.action not in self._receives:
            return self._refuse(
                message_id,
                frame.action,
                ErrorCode.NOT_SUPPORTED,
                f"a {self.role.value} does not accept {frame.action}",
            )
        try:
            request = spec.request_decoder.decode(frame.payload)
        except msgspec.ValidationError as exc:
            try:
                if not spec.whole_numbers:
                    raise
                request = decode_whole_numbers(spec.request_decoder, frame.payload, exc)
            except msgspec.ValidationError as refusal:
                message = str(refusal)
                code = error_code_for(message, self.version)
                return self._refuse(message_id, frame.action, code, f"{frame.action}: {message}")
        self._incoming[message_id] = spec
        return CallReceived(message_id, frame.action, request)

    def _on_result(self, frame: _CallResultFrame) -> Event:
        spec = self._take_outstanding(frame.message_id)
        if spec is None:
            return UnexpectedReply(frame.message_id, self._was_abandoned(frame.message_id))
        try:
            response = spec.response_decoder.decode(frame.payload)
        except msgspec.ValidationError as exc:
            try:
                if not spec.whole_numbers:
                    raise
                response = decode_whole_numbers(spec.response_decoder, frame.payload, exc)
            except msgspec.ValidationError as refusal:
                message = str(refusal)
                error = RemoteProtocolError(
                    error_code_for(message, self.version), f"{spec.name} response: {message}"
                )
                return InvalidReply(frame.message_id, spec.name, error)
        return ResultReceived(frame.message_id, spec.name, response)

    def _on_error(self, frame: _CallErrorFrame) -> Event:
        spec = self._take_outstanding(frame.message_id)
        if spec is None:
            return UnexpectedReply(frame.message_id, self._was_abandoned(frame.message_id))
        try:
            details = _DETAILS_DECODER.decode(frame.error_details)
        except msgspec.DecodeError:
            details = {}  # a broken details object should not hide the error itself
        error = CallError.from_wire(frame.error_code, frame.error_description, details, spec.name)
        return ErrorReceived(frame.message_id, spec.name, error)

    def _take_outstanding(self, message_id: str) -> ActionSpec | None:
        outstanding = self._outstanding
        if outstanding is None or outstanding[0] != message_id:
            return None
        self._outstanding = None
        return outstanding[1]

    def _refuse(
        self, message_id: str, action: str | None, code: ErrorCode, description: str
    ) -> InvalidMessage:
        error = RemoteProtocolError(code, description)
        reply = self._error_frame(message_id, code, description, None)
        return InvalidMessage(message_id, action, error, reply)

    def _bad_frame(self, data: str | bytes, exc: msgspec.DecodeError) -> Event:
        """The slow path: work out what a frame that failed to decode was meant to be."""
        v201_rules = self.version is OcppVersion.V201
        unreadable_code = (
            ErrorCode.RPC_FRAMEWORK_ERROR if v201_rules else format_violation(self.version)
        )
        try:
            value = _ANY_DECODER.decode(data)
        except msgspec.DecodeError as parse_error:
            return self._unreadable(unreadable_code, f"not valid JSON: {parse_error}")
        if not isinstance(value, list) or not value:
            return self._unreadable(
                unreadable_code, "not an OCPP-J message (a JSON array starting with a type number)"
            )
        type_id = value[0]
        message_id = value[1] if len(value) > 1 and isinstance(value[1], str) else None
        if message_id is None:
            return self._unreadable(unreadable_code, "the message id could not be read")
        if type_id in (3, 4) and type(type_id) is int:
            error = RemoteProtocolError(
                format_violation(self.version),
                _truncate(f"malformed {'CALLRESULT' if type_id == 3 else 'CALLERROR'}: {exc}"),
            )
            spec = self._take_outstanding(message_id)
            if spec is not None:
                return InvalidReply(message_id, spec.name, error)
            return InvalidMessage(message_id, None, error, None)  # never answer an answer
        if type_id != 2 or type(type_id) is not int:
            code = (
                ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED
                if v201_rules
                else format_violation(self.version)
            )
            return self._refuse(message_id, None, code, f"unknown message type {type_id!r}")
        action = value[2] if len(value) > 2 and isinstance(value[2], str) else None
        if len(value) < 4:
            code = ErrorCode.PROTOCOL_ERROR
            description = f"CALL has {len(value)} elements, needs 4"
        else:
            code = unreadable_code
            description = f"malformed CALL: {exc}"
        return self._refuse(message_id, action, code, description)

    def _unreadable(self, code: ErrorCode, description: str) -> InvalidMessage:
        # 2.0.1 (Part 4, 4.2.3) answers what it cannot read with message id "-1"; 1.6 has no
        # such rule, and an answer nobody can match helps no one, so 1.6 only reports it.
        error = RemoteProtocolError(code, description)
        if self.version is OcppVersion.V201:
            return InvalidMessage(
                None, None, error, self._error_frame(_UNKNOWN_ID, code, description, None)
            )
        return InvalidMessage(None, None, error, None)
