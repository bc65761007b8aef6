"""An example custom station behaviour for `fleet run` (see profiles/custom.toml).

The profile names it as ``behaviour = "custom_behaviour:drive"``; the fleet imports it from
the profile's folder and calls ``await drive(station)`` once per station. Everything sent
through ``station.connect()`` is measured like the built-in behaviour: latency from each
call's intended time, errors and timeouts in the report.

It is written once, against the generic API (OCPP 2.0.1 terms, ``cp.generic``), and runs
unchanged on the profile's mixed fleet: on a 1.6 station the toolkit sends BootNotification,
StatusNotification Preparing / Charging / Finishing / Available, StartTransaction, MeterValues
and StopTransaction; on a 2.0.1 station the same script's TransactionEvents.
"""

from __future__ import annotations

import datetime as dt

from fleet.ocpp import v201
from fleet.run import CustomStation
from fleet.toolkit import GenericChargePoint

REGISTER = v201.MeasurandEnum.ENERGY_ACTIVE_IMPORT_REGISTER


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def reading(wh: int) -> list[v201.MeterValue]:
    sample = v201.SampledValue(value=wh, measurand=REGISTER)
    return [v201.MeterValue(timestamp=now(), sampled_value=[sample])]


def status(connector_status: v201.ConnectorStatusEnum) -> v201.StatusNotificationRequest:
    return v201.StatusNotificationRequest(
        timestamp=now(), connector_status=connector_status, evse_id=1, connector_id=1
    )


async def drive(station: CustomStation) -> None:
    """Boot, then charging sessions on connector 1 until the run ends: authorize, start,
    a meter value every 1-2 s for a few seconds, stop. Idle 1-3 s between sessions.

    When the CSMS drops the connection, the fleet runs this again after its reconnect
    backoff; the session it interrupted (kept in `station.memory`) is ended first, under
    the id the CSMS gave it (`station.connect()` keeps the generic API's state).
    """
    async with station.connect() as cp:
        g = cp.generic  # the same calls on 1.6 and 2.0.1
        await g.boot_notification(
            v201.BootNotificationRequest(
                reason=v201.BootReasonEnum.POWER_UP,
                charging_station=v201.ChargingStation(
                    model=station.station_id[-20:], vendor_name="custom"
                ),
            )
        )
        await g.status_notification(status(v201.ConnectorStatusEnum.AVAILABLE))
        memory = station.memory
        if "open" in memory:
            await end_session(g, memory, v201.ReasonEnum.OTHER)
        sessions = memory.setdefault("sessions", 0)
        while await station.sleep(station.rng.uniform(1.0, 3.0)):
            token = v201.IdToken(id_token=f"TAG-{station.index}", type=v201.IdTokenEnum.CENTRAL)
            auth = await g.authorize(v201.AuthorizeRequest(id_token=token))
            if auth.id_token_info.status != v201.AuthorizationStatusEnum.ACCEPTED:
                continue
            sessions = memory["sessions"] = sessions + 1
            open_session = {
                "transaction": f"{station.station_id}-{sessions}",
                "energy": memory.get("energy", 0),
                "seq_no": 0,
                "token": token,
            }
            await g.status_notification(status(v201.ConnectorStatusEnum.OCCUPIED))
            memory["open"] = open_session
            await g.transaction_event(
                event(
                    v201.TransactionEventEnum.STARTED,
                    v201.TriggerReasonEnum.AUTHORIZED,
                    0,
                    v201.Transaction(
                        transaction_id=open_session["transaction"],
                        charging_state=v201.ChargingStateEnum.CHARGING,
                    ),
                    open_session["energy"],
                    evse=v201.EVSE(id=1, connector_id=1),
                    id_token=token,
                )
            )
            for _ in range(station.rng.randint(1, 3)):
                if not await station.sleep(station.rng.uniform(1.0, 2.0)):
                    break  # the run is ending: stop the session now
                open_session["energy"] += station.rng.randint(500, 3000)
                open_session["seq_no"] += 1
                await g.transaction_event(
                    event(
                        v201.TransactionEventEnum.UPDATED,
                        v201.TriggerReasonEnum.METER_VALUE_PERIODIC,
                        open_session["seq_no"],
                        v201.Transaction(transaction_id=open_session["transaction"]),
                        open_session["energy"],
                    )
                )
            await end_session(g, memory, v201.ReasonEnum.LOCAL)
            await g.status_notification(status(v201.ConnectorStatusEnum.AVAILABLE))


async def end_session(g: GenericChargePoint, memory: dict, reason: v201.ReasonEnum) -> None:
    """End the open session (TransactionEvent Ended), and forget it."""
    session = memory["open"]
    session["seq_no"] += 1
    await g.transaction_event(
        event(
            v201.TransactionEventEnum.ENDED,
            v201.TriggerReasonEnum.STOP_AUTHORIZED,
            session["seq_no"],
            v201.Transaction(transaction_id=session["transaction"], stopped_reason=reason),
            session["energy"],
            id_token=session["token"],
        )
    )
    memory["energy"] = session["energy"]
    del memory["open"]


def event(
    kind: v201.TransactionEventEnum,
    trigger: v201.TriggerReasonEnum,
    seq_no: int,
    info: v201.Transaction,
    energy_wh: int,
    **more: object,
) -> v201.TransactionEventRequest:
    return v201.TransactionEventRequest(
        event_type=kind,
        timestamp=now(),
        trigger_reason=trigger,
        seq_no=seq_no,
        transaction_info=info,
        meter_value=reading(energy_wh),
        **more,  # type: ignore[arg-type]
    )
