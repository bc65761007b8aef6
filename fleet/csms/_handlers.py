"""The embedded CSMS's answers: a valid response to every action a charge point sends.

Boots are answered with the configured status and heartbeat interval, authorizations are
accepted, transactions get ids unique within the CSMS, and every action whose response has no
required field is answered with an empty one.

`RegistrationGate` keeps a 2.0.1 station that is not Accepted to its boot (B02.FR.09,
B03.FR.07): any other CALL is answered with CALLERROR SecurityError, except what the CSMS
asked for itself (TriggerMessage's message, GetBaseReport's and GetReport's NotifyReport).
OCPP 1.6 is not gated: its 4.2.1 only asks the charge point to hold back, allows transactions
before acceptance and cached messages from before, and sets the CSMS no such rule; refusing
those would lose transaction data.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import msgspec

from fleet.ocpp import CallError, ErrorCode, v16, v201
from fleet.toolkit._generated import HANDLER_NAMES, CsmsHandlers16, CsmsHandlers201

__all__ = [
    "AdmitsRequestedCalls",
    "AnsweringCsms",
    "DefaultCsmsHandlers16",
    "DefaultCsmsHandlers201",
    "RegistrationGate",
]


class AnsweringCsms(Protocol):
    """What the default answers read of the CSMS that built them (an `EmbeddedCsms`).

    Named here, not imported: the server imports this module, and modules only look down.
    A subclass that reaches further (``self.csms.station(...)``) declares
    ``csms: EmbeddedCsms`` itself.
    """

    @property
    def heartbeat_interval(self) -> int: ...

    def boot_answer_status(self) -> str: ...

    def next_transaction_id(self) -> int: ...


def _now() -> dt.datetime:
    # Wall-clock time for the payloads; durations use trio's clock.
    return dt.datetime.now(dt.UTC)


class DefaultCsmsHandlers16(CsmsHandlers16):
    """OCPP 1.6 answers of the embedded CSMS; subclass and override to change one.

    Attributes:
        csms: the CSMS that built these handlers (its settings and transaction ids).
        station_id: the station these handlers answer.
    """

    def __init__(self, csms: AnsweringCsms, station_id: str) -> None:
        self.csms = csms
        self.station_id = station_id

    def on_boot_notification(
        self, request: v16.BootNotificationRequest
    ) -> v16.BootNotificationResponse:
        return v16.BootNotificationResponse(
            status=v16.RegistrationStatus(self.csms.boot_answer_status()),
            current_time=_now(),
            interval=self.csms.heartbeat_interval,
        )

    def on_heartbeat(self, request: v16.HeartbeatRequest) -> v16.HeartbeatResponse:
        return v16.HeartbeatResponse(current_time=_now())

    def on_authorize(self, request: v16.AuthorizeRequest) -> v16.AuthorizeResponse:
        return v16.AuthorizeResponse(id_tag_info=_ACCEPTED_16)

    def on_start_transaction(
        self, request: v16.StartTransactionRequest
    ) -> v16.StartTransactionResponse:
        return v16.StartTransactionResponse(
            id_tag_info=_ACCEPTED_16, transaction_id=self.csms.next_transaction_id()
        )

    def on_stop_transaction(
        self, request: v16.StopTransactionRequest
    ) -> v16.StopTransactionResponse:
        if request.id_tag is msgspec.UNSET:
            return _EMPTY_STOP_16
        return v16.StopTransactionResponse(id_tag_info=_ACCEPTED_16)

    def on_data_transfer(self, request: v16.DataTransferRequest) -> v16.DataTransferResponse:
        return v16.DataTransferResponse(status=v16.DataTransferStatus.ACCEPTED)

    def on_sign_certificate(
        self, request: v16.SignCertificateRequest
    ) -> v16.SignCertificateResponse:
        return v16.SignCertificateResponse(status=v16.GenericStatusEnum.ACCEPTED)


class DefaultCsmsHandlers201(CsmsHandlers201):
    """OCPP 2.0.1 answers of the embedded CSMS; subclass and override to change one."""

    def __init__(self, csms: AnsweringCsms, station_id: str) -> None:
        self.csms = csms
        self.station_id = station_id

    def on_boot_notification(
        self, request: v201.BootNotificationRequest
    ) -> v201.BootNotificationResponse:
        return v201.BootNotificationResponse(
            status=v201.RegistrationStatusEnum(self.csms.boot_answer_status()),
            current_time=_now(),
            interval=self.csms.heartbeat_interval,
        )

    def on_heartbeat(self, request: v201.HeartbeatRequest) -> v201.HeartbeatResponse:
        return v201.HeartbeatResponse(current_time=_now())

    def on_authorize(self, request: v201.AuthorizeRequest) -> v201.AuthorizeResponse:
        return v201.AuthorizeResponse(id_token_info=_ACCEPTED_201)

    def on_transaction_event(
        self, request: v201.TransactionEventRequest
    ) -> v201.TransactionEventResponse:
        if request.id_token is msgspec.UNSET:
            return _EMPTY_TRANSACTION_EVENT
        return v201.TransactionEventResponse(id_token_info=_ACCEPTED_201)

    def on_data_transfer(self, request: v201.DataTransferRequest) -> v201.DataTransferResponse:
        return v201.DataTransferResponse(status=v201.DataTransferStatusEnum.ACCEPTED)

    def on_sign_certificate(
        self, request: v201.SignCertificateRequest
    ) -> v201.SignCertificateResponse:
        return v201.SignCertificateResponse(status=v201.GenericStatusEnum.ACCEPTED)

    def on_get_certificate_status(
        self, request: v201.GetCertificateStatusRequest
    ) -> v201.GetCertificateStatusResponse:
        return v201.GetCertificateStatusResponse(status=v201.GetCertificateStatusEnum.ACCEPTED)

    def on_get15118_ev_certificate(
        self, request: v201.Get15118EVCertificateRequest
    ) -> v201.Get15118EVCertificateResponse:
        # No certificate authority behind this CSMS: refuse, validly.
        return v201.Get15118EVCertificateResponse(
            status=v201.Iso15118EVCertificateStatusEnum.FAILED, exi_response=""
        )

    def on_notify_ev_charging_needs(
        self, request: v201.NotifyEVChargingNeedsRequest
    ) -> v201.NotifyEVChargingNeedsResponse:
        return v201.NotifyEVChargingNeedsResponse(
            status=v201.NotifyEVChargingNeedsStatusEnum.ACCEPTED
        )

    def on_notify_ev_charging_schedule(
        self, request: v201.NotifyEVChargingScheduleRequest
    ) -> v201.NotifyEVChargingScheduleResponse:
        return v201.NotifyEVChargingScheduleResponse(status=v201.GenericStatusEnum.ACCEPTED)


_ACCEPTED_16 = v16.IdTagInfo(status=v16.AuthorizationStatus.ACCEPTED)
_ACCEPTED_201 = v201.IdTokenInfo(status=v201.AuthorizationStatusEnum.ACCEPTED)
_EMPTY_STOP_16 = v16.StopTransactionResponse()
_EMPTY_TRANSACTION_EVENT = v201.TransactionEventResponse()


def _answer_the_rest_empty(cls: type, base: str, actions: dict[str, Any]) -> None:
    """Give `cls` an empty answer for every action it leaves to the NotImplemented default.

    Only responses without required fields can be empty; the others are written out above,
    and this fails at import if one is missing, so the CSMS answers every action.
    """
    for action, method in HANDLER_NAMES[base].items():
        if method in vars(cls):
            continue
        response_type = actions[action].response
        if any(field.required for field in msgspec.structs.fields(response_type)):
            raise TypeError(
                f"{cls.__name__} must answer {action}: its response has required fields"
            )
        empty = response_type()
        setattr(cls, method, lambda self, request, _empty=empty: _empty)


_answer_the_rest_empty(DefaultCsmsHandlers16, "CsmsHandlers16", dict(v16.ACTIONS))
_answer_the_rest_empty(DefaultCsmsHandlers201, "CsmsHandlers201", dict(v201.ACTIONS))


# -- the registration gate (2.0.1 B02.FR.09, B03.FR.07) -------------------------------------

# The message a trigger asks for, by requestedMessage (the Sign*Certificate ones: SignCertificate).
_TRIGGERED_ACTION = {trigger.value: trigger.value for trigger in v201.MessageTriggerEnum} | {
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
}
# Triggered per EVSE: without an EVSE, one each; the CSMS does not know how many, so these are
# admitted until the station sends something else.
_PER_EVSE = frozenset({"StatusNotification", "MeterValues", "TransactionEvent"})
_BURST = -1  # admitted count: until another action arrives


class _Registration:
    """A 2.0.1 station not Accepted: its last boot status and what the CSMS asked of it."""

    __slots__ = ("admitted", "status")

    def __init__(self, status: str) -> None:
        self.status = status
        self.admitted: dict[str, int] = {}  # action -> messages still admitted, or _BURST

    def admit(self, action: str, count: int) -> None:
        held = self.admitted.get(action, 0)
        self.admitted[action] = _BURST if _BURST in (held, count) else held + count

    def withdraw(self, action: str, count: int) -> None:
        held = self.admitted.get(action, 0)
        if held == _BURST or held <= count:
            self.admitted.pop(action, None)
        else:
            self.admitted[action] = held - count

    def take(self, action: str, request: Any) -> bool:
        """Whether this CALL was asked for; it uses up its admission."""
        for other in [a for a, n in self.admitted.items() if n == _BURST and a != action]:
            del self.admitted[other]  # a burst ends when the station sends something else
        held = self.admitted.get(action)
        if held is None:
            return False
        if action == "NotifyReport":
            if request.tbc is not True:  # the report's last part
                del self.admitted[action]
        elif held == 1:
            del self.admitted[action]
        elif held > 1:
            self.admitted[action] = held - 1
        return True


class RegistrationGate:
    """Answers a 2.0.1 station that is not Accepted as B02.FR.09 and B03.FR.07 ask.

    One per CSMS. A station's status is its last BootNotification answer, kept across
    reconnects (a station that reconnects without booting is no more accepted than before) and
    restarts; only stations not Accepted are held, so an all-Accepted fleet costs a dict lookup
    per CALL.
    """

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: dict[str, _Registration] = {}

    def status(self, station_id: str) -> str | None:
        """The last boot status ("Pending", "Rejected") while held; None once Accepted."""
        held = self._held.get(station_id)
        return held.status if held is not None else None

    def wrap(self, handlers: object, station_id: str) -> object:
        """`handlers` (a CsmsHandlers201) behind the gate, for one connection."""
        return _GatedHandlers201(self, handlers, station_id)

    def booted(self, station_id: str, response: Any) -> None:
        """Note the answer given to the station's BootNotification."""
        status = response.get("status") if isinstance(response, Mapping) else response.status
        status = str(status)
        if status == "Accepted":
            self._held.pop(station_id, None)
        elif status in ("Pending", "Rejected"):
            held = self._held.get(station_id)
            if held is None:
                self._held[station_id] = _Registration(status)
            else:
                held.status = status

    def admits(self, station_id: str, action: str, request: Any) -> bool:
        held = self._held.get(station_id)
        return held is None or held.take(action, request)

    def expect(self, station_id: str, action: str, payload: Any) -> tuple[str, int] | None:
        """Before the CSMS sends `action`: admit what it asks the held station to send.

        Returns the admission, to withdraw if the station does not accept (None: nothing
        admitted, the station is not held or the call asks for nothing).
        """
        held = self._held.get(station_id)
        if held is None:
            return None
        admission = _asked_for(action, payload)
        if admission is not None:
            held.admit(*admission)
        return admission

    def withdraw(self, station_id: str, admission: tuple[str, int]) -> None:
        held = self._held.get(station_id)
        if held is not None:
            held.withdraw(*admission)


def _field(payload: Any, wire: str, name: str) -> Any:
    if isinstance(payload, Mapping):
        return payload.get(wire, msgspec.UNSET)
    return getattr(payload, name, msgspec.UNSET)


def _asked_for(action: str, payload: Any) -> tuple[str, int] | None:
    """(action, count) a CSMS call asks the station to send (B02.FR.09's exceptions)."""
    if action in ("GetBaseReport", "GetReport"):
        return "NotifyReport", 1
    if action != "TriggerMessage":
        return None
    requested = _field(payload, "requestedMessage", "requested_message")
    wanted = _TRIGGERED_ACTION.get(str(requested))
    if wanted is None:
        return None
    if wanted in _PER_EVSE and _field(payload, "evse", "evse") is msgspec.UNSET:
        return wanted, _BURST
    return wanted, 1


def _accepted(response: Any) -> bool:
    return str(getattr(response, "status", "")) == "Accepted"


class _GatedHandlers201:
    """A connection's 2.0.1 handlers behind the gate: the generated ``on_<action>`` methods,
    each checking the station's registration before the real handler answers."""

    __slots__ = ("_gate", "_handlers", "_station_id")

    def __init__(self, gate: RegistrationGate, handlers: object, station_id: str) -> None:
        self._gate = gate
        self._handlers = handlers
        self._station_id = station_id

    def _answer(self, action: str, method: str, request: Any) -> Any:
        if not self._gate.admits(self._station_id, action, request):
            status = self._gate.status(self._station_id)
            raise CallError(
                ErrorCode.SECURITY_ERROR,
                f"{action} refused: the station's boot was answered {status} (B02.FR.09, "
                "B03.FR.07); only BootNotification and what the CSMS asks for are answered",
            )
        handler: Callable[[Any], Any] = getattr(self._handlers, method)
        return handler(request)

    def on_boot_notification(self, request: v201.BootNotificationRequest) -> Any:
        result = self._handlers.on_boot_notification(request)  # type: ignore[attr-defined]
        if inspect.isawaitable(result):
            return self._note_boot_later(result)
        self._gate.booted(self._station_id, result)
        return result

    async def _note_boot_later(self, pending: Awaitable[Any]) -> Any:
        result = await pending
        self._gate.booted(self._station_id, result)
        return result


def _gated_method(action: str, method: str) -> Callable[[_GatedHandlers201, Any], Any]:
    def gated(self: _GatedHandlers201, request: Any) -> Any:
        return self._answer(action, method, request)

    gated.__name__ = method
    return gated


for _action, _method in HANDLER_NAMES["CsmsHandlers201"].items():
    if _action != "BootNotification":
        setattr(_GatedHandlers201, _method, _gated_method(_action, _method))
del _action, _method


class AdmitsRequestedCalls:
    """Mixed into the CSMS's 2.0.1 station sessions: what a call asks a held station to send
    (a triggered message, a report) is admitted before the call goes out, because the
    station may send it before its answer reaches the caller; a refusal withdraws it."""

    station_id: str
    registration_gate: RegistrationGate | None = None

    async def call(self, action: str, payload: Any, **options: Any) -> Any:
        gate = self.registration_gate
        admission = gate.expect(self.station_id, action, payload) if gate is not None else None
        if admission is None:
            return await super().call(action, payload, **options)  # type: ignore[misc]
        assert gate is not None
        try:
            response = await super().call(action, payload, **options)  # type: ignore[misc]
        except BaseException:
            gate.withdraw(self.station_id, admission)
            raise
        if not _accepted(response):
            gate.withdraw(self.station_id, admission)
        return response
