"""The seed toolkit's scenarios written once, against the generic API, for every version.

The seed's README has four: charge and remote charge, each in 1.6 and in 2.0.1. Here each is
one function that takes the version, so the four are two scripts run on two versions. They
speak OCPP 2.0.1 terms (`cp.generic`, `GenericChargePointHandlers`); on a 1.6 link the toolkit
sends Authorize, StatusNotification Preparing, StartTransaction and StatusNotification
Charging, as the seed's 1.6 scripts do by hand.
"""

from __future__ import annotations

import datetime as dt

import trio

import fleet.toolkit
from fleet.ocpp import v201


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def energy(wh: float) -> list[v201.MeterValue]:
    """One Energy.Active.Import.Register reading, in Wh."""
    register = v201.MeasurandEnum.ENERGY_ACTIVE_IMPORT_REGISTER
    return [
        v201.MeterValue(
            timestamp=now(), sampled_value=[v201.SampledValue(value=wh, measurand=register)]
        )
    ]


async def start_charging(
    generic: fleet.toolkit.GenericChargePoint,
    token: v201.IdToken,
    transaction_id: str,
    remote_start_id: int | None = None,
) -> v201.TransactionEventResponse:
    """Occupied, then TransactionEvent Started while Charging (the seed's steps)."""
    await generic.status_notification(
        v201.StatusNotificationRequest(
            timestamp=now(),
            connector_status=v201.ConnectorStatusEnum.OCCUPIED,
            evse_id=1,
            connector_id=1,
        )
    )
    info = v201.Transaction(
        transaction_id=transaction_id, charging_state=v201.ChargingStateEnum.CHARGING
    )
    if remote_start_id is not None:
        info = v201.Transaction(
            transaction_id=transaction_id,
            charging_state=v201.ChargingStateEnum.CHARGING,
            remote_start_id=remote_start_id,
        )
    return await generic.transaction_event(
        v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnum.STARTED,
            timestamp=now(),
            trigger_reason=(
                v201.TriggerReasonEnum.AUTHORIZED
                if remote_start_id is None
                else v201.TriggerReasonEnum.REMOTE_START
            ),
            seq_no=0,
            transaction_info=info,
            evse=v201.EVSE(id=1, connector_id=1),
            id_token=token,
            meter_value=energy(0),
        )
    )


async def charge(csms_url: str, station_id: str, version: str) -> v201.TransactionEventResponse:
    """Charge: Authorize; if Accepted, Occupied and a transaction started, Charging."""
    async with fleet.toolkit.connect(csms_url, station_id, version=version) as cp:
        token = v201.IdToken(id_token="321", type=v201.IdTokenEnum.CENTRAL)
        auth = await cp.generic.authorize(v201.AuthorizeRequest(id_token=token))
        assert auth.id_token_info.status == v201.AuthorizationStatusEnum.ACCEPTED
        return await start_charging(cp.generic, token, "tx-1")


class RemoteStart(fleet.toolkit.GenericChargePointHandlers):
    """Accepts a remote start, in 2.0.1 terms, from a CSMS of either version."""

    def __init__(self) -> None:
        self.request: v201.RequestStartTransactionRequest | None = None
        self.arrived = trio.Event()

    def on_request_start_transaction(
        self, request: v201.RequestStartTransactionRequest
    ) -> v201.RequestStartTransactionResponse:
        self.request = request
        self.arrived.set()
        return v201.RequestStartTransactionResponse(status=v201.RequestStartStopStatusEnum.ACCEPTED)


async def remote_charge(
    csms_url: str, station_id: str, version: str, wait: float = 10.0
) -> v201.RequestStartTransactionRequest:
    """Remote charge: wait for the CSMS's remote start, accept it, start charging with its
    token. Returns the remote start request as the station read it."""
    handlers = RemoteStart()
    async with fleet.toolkit.connect(
        csms_url, station_id, version=version, handlers=handlers
    ) as cp:
        with trio.fail_after(wait):
            await handlers.arrived.wait()
        request = handlers.request
        assert request is not None
        await start_charging(cp.generic, request.id_token, "remote-1", request.remote_start_id)
        return request
