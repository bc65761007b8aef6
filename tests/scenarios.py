"""The four scenarios of the seed toolkit's README, as a user would script them with fleet.

Each takes the CSMS URL and a station id and returns what it observed, so that tests can run it
against the embedded CSMS and against a CSMS built on the `ocpp` library. The remote scenarios
wait (bounded) for the CSMS to send its remote start.
"""

from __future__ import annotations

import datetime as dt

import trio

import fleet.toolkit
from fleet.ocpp import v16, v201


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def charge_16(csms_url: str, station_id: str) -> int:
    """1.6 charge: authorize, Preparing, StartTransaction, Charging. Returns the transaction id."""
    async with fleet.toolkit.connect(csms_url, station_id, version="1.6") as cp:
        id_tag = "321"
        auth = await cp.authorize(v16.AuthorizeRequest(id_tag=id_tag))
        assert auth.id_tag_info.status == v16.AuthorizationStatus.ACCEPTED
        await cp.status_notification(
            v16.StatusNotificationRequest(
                connector_id=1,
                error_code=v16.ChargePointErrorCode.NO_ERROR,
                status=v16.ChargePointStatus.PREPARING,
            )
        )
        started = await cp.start_transaction(
            v16.StartTransactionRequest(
                connector_id=1, id_tag=id_tag, meter_start=0, timestamp=now()
            )
        )
        await cp.status_notification(
            v16.StatusNotificationRequest(
                connector_id=1,
                error_code=v16.ChargePointErrorCode.NO_ERROR,
                status=v16.ChargePointStatus.CHARGING,
            )
        )
        return started.transaction_id


class RemoteStart16(fleet.toolkit.ChargePointHandlers16):
    def __init__(self) -> None:
        self.request: v16.RemoteStartTransactionRequest | None = None
        self.arrived = trio.Event()

    def on_remote_start_transaction(
        self, request: v16.RemoteStartTransactionRequest
    ) -> v16.RemoteStartTransactionResponse:
        self.request = request
        self.arrived.set()
        return v16.RemoteStartTransactionResponse(status=v16.RemoteStartStopStatus.ACCEPTED)


async def remote_charge_16(csms_url: str, station_id: str, wait: float = 10.0) -> tuple[str, int]:
    """1.6 remote charge: wait for RemoteStartTransaction, accept it, start. Returns (idTag, tx)."""
    handlers = RemoteStart16()
    async with fleet.toolkit.connect(csms_url, station_id, version="1.6", handlers=handlers) as cp:
        with trio.fail_after(wait):
            await handlers.arrived.wait()
        assert handlers.request is not None
        id_tag = handlers.request.id_tag
        await cp.status_notification(
            v16.StatusNotificationRequest(
                connector_id=1,
                error_code=v16.ChargePointErrorCode.NO_ERROR,
                status=v16.ChargePointStatus.PREPARING,
            )
        )
        started = await cp.start_transaction(
            v16.StartTransactionRequest(
                connector_id=1, id_tag=id_tag, meter_start=0, timestamp=now()
            )
        )
        await cp.status_notification(
            v16.StatusNotificationRequest(
                connector_id=1,
                error_code=v16.ChargePointErrorCode.NO_ERROR,
                status=v16.ChargePointStatus.CHARGING,
            )
        )
        return id_tag, started.transaction_id


async def _start_201(cp: fleet.toolkit.ChargePoint201, transaction_id: str) -> None:
    await cp.status_notification(
        v201.StatusNotificationRequest(
            timestamp=now(),
            connector_status=v201.ConnectorStatusEnum.OCCUPIED,
            evse_id=1,
            connector_id=1,
        )
    )
    await cp.transaction_event(
        v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnum.STARTED,
            timestamp=now(),
            trigger_reason=v201.TriggerReasonEnum.AUTHORIZED,
            seq_no=1,
            transaction_info=v201.Transaction(
                transaction_id=transaction_id, charging_state=v201.ChargingStateEnum.CHARGING
            ),
            evse=v201.EVSE(id=1, connector_id=1),
        )
    )


async def charge_201(csms_url: str, station_id: str) -> str:
    """2.0.1 charge: authorize, Occupied, TransactionEvent Started. Returns the auth status."""
    async with fleet.toolkit.connect(csms_url, station_id, version="2.0.1") as cp:
        auth = await cp.authorize(
            v201.AuthorizeRequest(
                id_token=v201.IdToken(id_token="2233223", type=v201.IdTokenEnum.CENTRAL)
            )
        )
        assert auth.id_token_info.status == v201.AuthorizationStatusEnum.ACCEPTED
        await _start_201(cp, "tx-1")
        return auth.id_token_info.status


class RemoteStart201(fleet.toolkit.ChargePointHandlers201):
    def __init__(self) -> None:
        self.request: v201.RequestStartTransactionRequest | None = None
        self.arrived = trio.Event()

    def on_request_start_transaction(
        self, request: v201.RequestStartTransactionRequest
    ) -> v201.RequestStartTransactionResponse:
        self.request = request
        self.arrived.set()
        return v201.RequestStartTransactionResponse(status=v201.RequestStartStopStatusEnum.ACCEPTED)


async def remote_charge_201(csms_url: str, station_id: str, wait: float = 10.0) -> str:
    """2.0.1 remote charge: wait for RequestStartTransaction, accept, start. Returns the idToken."""
    handlers = RemoteStart201()
    async with fleet.toolkit.connect(
        csms_url, station_id, version="2.0.1", handlers=handlers
    ) as cp:
        with trio.fail_after(wait):
            await handlers.arrived.wait()
        assert handlers.request is not None
        await _start_201(cp, f"remote-{handlers.request.remote_start_id}")
        return handlers.request.id_token.id_token
