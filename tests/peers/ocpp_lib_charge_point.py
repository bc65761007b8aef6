"""A charge point built on the PyPI `ocpp` library, for interop tests against our CSMS.

Run as ``python ocpp_lib_charge_point.py URL STATION_ID VERSION`` (VERSION 1.6 or 2.0.1). It
runs one whole charging session; the library validates every answer against the official
schemas, and a CALLERROR answer raises. Prints one JSON line per step (and one with "error" if
a step fails); exits 0 only if every step was answered validly and accepted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from typing import Any

import websockets
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


async def call(cp: ChargePoint16 | ChargePoint201, request: object) -> Any:
    """The library's call, raising on a CALLERROR answer (it returns None by default)."""
    return await cp.call(request, suppress=False)


def step(action: str, ok: bool, **fields: object) -> None:
    print(json.dumps({"action": action, "ok": ok, **fields}), flush=True)
    if not ok:
        raise SystemExit(1)


async def session_16(cp: ChargePoint16) -> None:
    boot = await call(cp, call16.BootNotification(charge_point_model="M", charge_point_vendor="V"))
    step("BootNotification", boot.status == "Accepted")
    beat = await call(cp, call16.Heartbeat())
    step("Heartbeat", bool(beat.current_time))
    auth = await call(cp, call16.Authorize(id_tag="TAG-1"))
    step("Authorize", auth.id_tag_info["status"] == "Accepted")
    await call(
        cp, call16.StatusNotification(connector_id=1, error_code="NoError", status="Preparing")
    )
    step("StatusNotification", True)
    start = await call(
        cp,
        call16.StartTransaction(connector_id=1, id_tag="TAG-1", meter_start=100, timestamp=now()),
    )
    accepted = start.id_tag_info["status"] == "Accepted" and isinstance(start.transaction_id, int)
    step("StartTransaction", accepted, id=start.transaction_id)
    await call(
        cp, call16.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
    )
    step("StatusNotification", True)
    await call(
        cp,
        call16.MeterValues(
            connector_id=1,
            transaction_id=start.transaction_id,
            meter_value=[{"timestamp": now(), "sampledValue": [{"value": "150"}]}],
        ),
    )
    step("MeterValues", True)
    await call(
        cp,
        call16.StopTransaction(
            meter_stop=200, timestamp=now(), transaction_id=start.transaction_id
        ),
    )
    step("StopTransaction", True)


async def session_201(cp: ChargePoint201) -> None:
    boot = await call(
        cp,
        call201.BootNotification(
            charging_station={"model": "M", "vendorName": "V"}, reason="PowerUp"
        ),
    )
    step("BootNotification", boot.status == "Accepted")
    beat = await call(cp, call201.Heartbeat())
    step("Heartbeat", bool(beat.current_time))
    token = {"idToken": "TAG-1", "type": "ISO14443"}
    auth = await call(cp, call201.Authorize(id_token=token))
    step("Authorize", auth.id_token_info["status"] == "Accepted")
    await call(
        cp,
        call201.StatusNotification(
            timestamp=now(), connector_status="Occupied", evse_id=1, connector_id=1
        ),
    )
    step("StatusNotification", True)
    events = [
        ("Started", "Authorized", {"id_token": token}),
        ("Updated", "MeterValuePeriodic", {"meter_value": [{"timestamp": now(), "sampledValue": [{"value": 150.0}]}]}),
        ("Ended", "StopAuthorized", {}),
    ]  # fmt: skip
    for seq_no, (event_type, trigger, extra) in enumerate(events):
        answer = await call(
            cp,
            call201.TransactionEvent(
                event_type=event_type,
                timestamp=now(),
                trigger_reason=trigger,
                seq_no=seq_no,
                transaction_info={"transactionId": "tx-1"},
                **extra,
            ),
        )
        accepted = "id_token" not in extra or answer.id_token_info["status"] == "Accepted"
        step("TransactionEvent", accepted, event=event_type)


async def main(url: str, station_id: str, version: str) -> None:
    subprotocol = "ocpp1.6" if version == "1.6" else "ocpp2.0.1"
    async with websockets.connect(f"{url}/{station_id}", subprotocols=[subprotocol]) as ws:
        if version == "1.6":
            cp: ChargePoint16 | ChargePoint201 = ChargePoint16(station_id, ws, response_timeout=10)
        else:
            cp = ChargePoint201(station_id, ws, response_timeout=10)
        reader = asyncio.create_task(cp.start())
        try:
            await (session_16(cp) if version == "1.6" else session_201(cp))  # type: ignore[arg-type]
        finally:
            reader.cancel()


if __name__ == "__main__":
    try:
        asyncio.run(main(*sys.argv[1:4]))
    except Exception as exc:  # refused, invalid answer, CALLERROR, timeout: print it, fail
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
        raise
