"""The embedded CSMS's answers: a valid response to every action a charge point sends.

Boots are answered with the configured status and heartbeat interval, authorizations are
accepted, transactions get ids unique within the CSMS, and every action whose response has no
required field is answered with an empty one.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import msgspec

from fleet.ocpp import v16, v201
from fleet.toolkit._generated import HANDLER_NAMES, CsmsHandlers16, CsmsHandlers201

if TYPE_CHECKING:
    from fleet.csms._server import EmbeddedCsms

__all__ = ["DefaultCsmsHandlers16", "DefaultCsmsHandlers201"]


def _now() -> dt.datetime:
    # Wall-clock time for the payloads; durations use trio's clock.
    return dt.datetime.now(dt.UTC)


class DefaultCsmsHandlers16(CsmsHandlers16):
    """OCPP 1.6 answers of the embedded CSMS; subclass and override to change one.

    Attributes:
        csms: the CSMS (its settings and transaction ids).
        station_id: the station these handlers answer.
    """

    def __init__(self, csms: EmbeddedCsms, station_id: str) -> None:
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

    def __init__(self, csms: EmbeddedCsms, station_id: str) -> None:
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
