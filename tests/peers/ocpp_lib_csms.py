"""A CSMS built on the PyPI `ocpp` library (asyncio + websockets), for interop tests.

Run as a subprocess: ``python ocpp_lib_csms.py``. It listens on 127.0.0.1 on a free port and
prints ``PORT <n>``, then one JSON line per CALL it received (validated against the official
schemas by the library) and per answer to its own remote start. A station whose id starts
with ``remote-`` is sent RemoteStartTransaction (1.6) / RequestStartTransaction (2.0.1) 0.3 s
after it connects. Whatever the library rejects (a frame that is not OCPP-J, a CALL or an answer
that fails its schema, a CALLERROR answer to the remote start) is printed as a line with
"error". Ends on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import signal
import sys

import websockets
from ocpp.exceptions import OCPPError
from ocpp.messages import unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

TRANSACTION_IDS = itertools.count(1)


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


class Reporting:
    """Prints what the library rejects; it would only log it (and answer a CALLERROR)."""

    id: str

    async def route_message(self, raw_msg: str) -> None:
        try:
            unpack(raw_msg)
        except OCPPError as exc:
            emit(station=self.id, error=f"not OCPP-J: {type(exc).__name__}: {exc}", frame=raw_msg)
        await super().route_message(raw_msg)  # type: ignore[misc]

    async def _handle_call(self, msg: object) -> object:
        try:
            return await super()._handle_call(msg)  # type: ignore[misc]
        except OCPPError as exc:  # e.g. the CALL fails its schema: answered with a CALLERROR
            action = getattr(msg, "action", None)
            emit(station=self.id, action=action, error=f"{type(exc).__name__}: {exc}")
            raise

    async def remote_start(self) -> None:
        await asyncio.sleep(0.3)
        request = self.remote_start_request()
        action = type(request).__name__
        try:
            answer = await self.call(request, suppress=False)  # type: ignore[attr-defined]
        except Exception as exc:  # a CALLERROR answer, or one that fails its schema
            emit(station=self.id, action=action, error=f"{type(exc).__name__}: {exc}")
            return
        emit(station=self.id, action=action, status=answer.status)

    def remote_start_request(self) -> object:
        raise NotImplementedError


class Station16(Reporting, ChargePoint16):
    def seen(self, action: str) -> None:
        emit(station=self.id, action=action, direction="received")

    @on(Action16.boot_notification)
    def on_boot(self, **_: object) -> result16.BootNotification:
        self.seen("BootNotification")
        return result16.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on(Action16.heartbeat)
    def on_heartbeat(self, **_: object) -> result16.Heartbeat:
        self.seen("Heartbeat")
        return result16.Heartbeat(current_time=now())

    @on(Action16.authorize)
    def on_authorize(self, **_: object) -> result16.Authorize:
        self.seen("Authorize")
        return result16.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action16.status_notification)
    def on_status(self, **_: object) -> result16.StatusNotification:
        self.seen("StatusNotification")
        return result16.StatusNotification()

    @on(Action16.start_transaction)
    def on_start(self, **_: object) -> result16.StartTransaction:
        self.seen("StartTransaction")
        return result16.StartTransaction(
            transaction_id=next(TRANSACTION_IDS), id_tag_info={"status": "Accepted"}
        )

    @on(Action16.stop_transaction)
    def on_stop(self, **_: object) -> result16.StopTransaction:
        self.seen("StopTransaction")
        return result16.StopTransaction()

    @on(Action16.meter_values)
    def on_meter_values(self, **_: object) -> result16.MeterValues:
        self.seen("MeterValues")
        return result16.MeterValues()

    def remote_start_request(self) -> call16.RemoteStartTransaction:
        return call16.RemoteStartTransaction(id_tag="Tag2")


class Station201(Reporting, ChargePoint201):
    def seen(self, action: str) -> None:
        emit(station=self.id, action=action, direction="received")

    @on(Action201.boot_notification)
    def on_boot(self, **_: object) -> result201.BootNotification:
        self.seen("BootNotification")
        return result201.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on(Action201.heartbeat)
    def on_heartbeat(self, **_: object) -> result201.Heartbeat:
        self.seen("Heartbeat")
        return result201.Heartbeat(current_time=now())

    @on(Action201.authorize)
    def on_authorize(self, **_: object) -> result201.Authorize:
        self.seen("Authorize")
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on(Action201.status_notification)
    def on_status(self, **_: object) -> result201.StatusNotification:
        self.seen("StatusNotification")
        return result201.StatusNotification()

    @on(Action201.transaction_event)
    def on_transaction_event(self, id_token: object = None, **_: object) -> object:
        self.seen("TransactionEvent")
        if id_token is not None:
            return result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return result201.TransactionEvent()

    @on(Action201.meter_values)
    def on_meter_values(self, **_: object) -> result201.MeterValues:
        self.seen("MeterValues")
        return result201.MeterValues()

    def remote_start_request(self) -> call201.RequestStartTransaction:
        return call201.RequestStartTransaction(
            id_token={"idToken": "Tag2", "type": "Central"}, remote_start_id=42
        )


async def serve_station(connection: websockets.ServerConnection) -> None:
    station_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
    cls = Station16 if connection.subprotocol == "ocpp1.6" else Station201
    station = cls(station_id, connection)
    tasks = [asyncio.create_task(station.start())]
    if station_id.startswith("remote-"):
        tasks.append(asyncio.create_task(station.remote_start()))
    try:
        await tasks[0]
    except websockets.ConnectionClosed:
        pass
    except Exception as exc:  # an interop failure: make it visible to the test
        emit(station=station_id, error=f"{type(exc).__name__}: {exc}")
    finally:
        for task in tasks:
            task.cancel()


async def main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with websockets.serve(
        serve_station, "127.0.0.1", 0, subprotocols=["ocpp1.6", "ocpp2.0.1"]
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"PORT {port}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
