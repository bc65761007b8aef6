"""A CSMS built on the PyPI `ocpp` library (asyncio + websockets), for interop tests.

Run as a subprocess: ``python ocpp_lib_csms.py``. It listens on 127.0.0.1 on a free port and
prints ``PORT <n>``, then one JSON line per CALL it received (validated against the official
schemas by the library) and per answer to its own remote start. A station whose id starts
with ``remote-`` is sent RemoteStartTransaction (1.6) / RequestStartTransaction (2.0.1) 0.3 s
after it connects. Whatever the library rejects (a frame that is not OCPP-J, a CALL or an answer
that fails its schema, a CALLERROR answer to the remote start) is printed as a line with
"error". Ends on SIGTERM or SIGINT.

Field behaviours, as real CSMSs show them (by default none: no pings, no closes of its own):

--ping-interval S   websocket keepalive pings every S seconds (websockets' own keepalive; a
                    pong missing for 20 s closes with 1011, as websockets does). S may be tiny:
                    0.005 pings "continuously".
--close-after S     close each chosen connection itself after S seconds: a clean close
                    handshake with --close-code (1000, 1001, 1011...; default 1000).
--reset-after S     reset each chosen connection after S seconds: SO_LINGER 0 on its socket
                    and the transport aborted, so a TCP RST goes out and no close frame.
--jitter J          each close or reset up to J seconds later, at random.
--ignore-close      chosen connections never answer a station's close frame (nor close TCP):
                    the station's close handshake never completes; the station must give up.
--slow-close S      chosen connections answer a station's close frame only after S seconds.
--answer-delay S    every frame a station sends is handled (answered) S seconds late.
--service-time S    every frame takes S seconds of the CSMS's one worker: frames queue for it,
                    so a burst of messages waits as on a busy single-threaded server.
--share P           the share of connections chosen for the closes, resets and close answers
                    above (default 1: all), drawn with --seed (default 0).

Each close, reset, ignored or slowed close is printed as a JSON line with "field", e.g.
``{"station": "cp-1", "field": "reset"}``.

Smart charging (issue 15), for every station, timed from its first transaction's start
(1.6 StartTransaction, 2.0.1 TransactionEvent Started) and sent one after the other:

--tx-default-profile L  at --profile-at, SetChargingProfile with a TxDefaultProfile (id 1,
                        stack level 0) of limit L ("7000W", "16A") on connector 0 (1.6
                        csChargingProfiles) / EVSE 0 (2.0.1).
--profile-kind K        absolute (default: startSchedule a minute in the past) or relative.
--profile-at S          default 1.
--composite-at S        then GetCompositeSchedule for connector / EVSE 1, 60 s, in the unit of L.
--clear-at S            then ClearChargingProfile of id 1.
--print-meter-values    print the meter values received (implied by --tx-default-profile).

Each answer is a line ``{"station", "action", "status", "sent", "at", ...}`` (the times the
call went and its answer came, ISO 8601 UTC), GetCompositeSchedule's with its "schedule"
(chargingSchedulePeriod as received, snake_case keys). Each meter value received (1.6
MeterValues, 2.0.1 TransactionEvent) is a line ``{"station", "meter": <action>,
"transaction", "timestamp", "power" (W), "energy" (Wh), "context"}`` (a measurand it lacks is
null; the context is its last sampled value's).

CSMS operations of issue 15, for every station, timed from its first BootNotification (later
boots, e.g. after a firmware update's reboot, start nothing again) and sent one after the
other, each answer printed as above (with the whole answer under "answer"):

--reserve-at S          ReserveNow id 1 for --reserve-token (default RESERVED-1) on connector 1
                        (1.6) / EVSE 1 (2.0.1), expiring in 60 s.
--reserve-expiry S2     then ReserveNow id 2 for the same token on connector / EVSE 2, expiring
                        S2 seconds after it is sent: left to expire.
--reserve-start-at S    then RemoteStartTransaction / RequestStartTransaction with the token on
                        connector / EVSE 1.
--other-start-at S1,S2  then, at each time, a remote start for another token (OTHER-1) on
                        connector / EVSE 2: refused while reservation 2 holds it, accepted once
                        it expired.
--local-list T1,T2      at --local-list-at (default 0.2): ChangeConfiguration
                        LocalAuthListEnabled and LocalAuthorizeOffline true (1.6) / SetVariables
                        LocalAuthListCtrlr.Enabled and AuthCtrlr.LocalAuthorizeOffline true
                        (2.0.1), SendLocalList Full version 1 with the tokens Accepted, then
                        GetLocalListVersion.
--update-firmware-at S  UpdateFirmware (1.6 location, retrieveDate now; 2.0.1 requestId,
                        firmware location and retrieveDateTime now).
--get-diagnostics-at S  1.6 GetDiagnostics; 2.0.1 GetLog of the DiagnosticsLog.
--get-log-at S          GetLog of the SecurityLog (1.6: the Security Whitepaper's).
--invalid-tokens T1,T2  Authorize, StartTransaction and TransactionEvent answer these tokens
                        Invalid (all others Accepted).

An outage, for all stations, timed from the first BootNotification the CSMS received:

--outage-at S           every connection is closed (--outage-kind close: a close handshake
--outage-for N          with 1001; reset: a TCP RST) and every new one refused (HTTP 503 to
--outage-kind K         the handshake) for N seconds (default 5), then accepted again. Printed:
                        ``{"outage": "started" | "ended", "at"}`` and each refused handshake
                        ``{"station", "field": "refused"}``.

Every CALL received is printed with "at" (when it came, ISO 8601 UTC); transaction messages and
the status notifications of these modes with their fields: StatusNotification "connector" (1.6
connectorId, 2.0.1 evseId); StartTransaction "id_tag", "timestamp", "reservation_id",
"transaction"; StopTransaction "transaction", "timestamp", "reason"; TransactionEvent "event",
"timestamp", "offline", "id_token", "reservation_id", "trigger", "transaction", "seq_no",
"stopped_reason"; BootNotification "reason" (2.0.1) and "firmware" (its firmwareVersion);
FirmwareStatusNotification, DiagnosticsStatusNotification, LogStatusNotification "status" (and
"request_id"); ReservationStatusUpdate "reservation_id", "status"; Authorize the token.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import datetime as dt
import decimal
import http
import itertools
import json
import random
import signal
import socket
import struct
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
from websockets.asyncio.server import ServerConnection

TRANSACTION_IDS = itertools.count(1)
REQUEST_IDS = itertools.count(1)
OPTIONS = argparse.Namespace(
    answer_delay=0.0,
    service_time=0.0,
    tx_default_profile=None,
    print_meter_values=False,
    invalid_tokens=frozenset(),
)
WORKER = asyncio.Lock()  # --service-time: the CSMS's one worker


class Csms:
    """What the CSMS keeps across connections: each station's boots (the operations start on
    its first), the open connections and the outage."""

    def __init__(self) -> None:
        self.boots: collections.Counter[str] = collections.Counter()
        self.connections: set[ServerConnection] = set()
        self.outage = False
        self.outage_task: asyncio.Task | None = None
        self.closing: set[asyncio.Task] = set()  # the outage's closes, kept from the collector


CSMS = Csms()


def emit(**fields: object) -> None:
    print(json.dumps(fields, default=plain), flush=True)


def plain(value: object) -> object:
    """What json cannot write: the library reads numbers in answers as Decimal."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


class Reporting:
    """Prints what the library rejects; it would only log it (and answer a CALLERROR)."""

    id: str

    async def route_message(self, raw_msg: str) -> None:
        if OPTIONS.answer_delay:
            await asyncio.sleep(OPTIONS.answer_delay)
        if OPTIONS.service_time:
            async with WORKER:  # one at a time: a burst queues here
                await asyncio.sleep(OPTIONS.service_time)
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

    # -- smart charging (--tx-default-profile) ------------------------------------------------

    smart_task: asyncio.Task | None = None

    def transaction_started(self) -> None:
        """A transaction started: the first one starts the smart charging sequence."""
        if OPTIONS.tx_default_profile and self.smart_task is None:
            self.smart_task = asyncio.create_task(self.smart_charging())

    async def smart_charging(self) -> None:
        started = asyncio.get_running_loop().time()
        limit, unit = OPTIONS.tx_default_profile
        steps = [(OPTIONS.profile_at, self.set_profile_request(limit, unit))]
        if OPTIONS.composite_at is not None:
            steps.append((OPTIONS.composite_at, self.composite_request(unit)))
        if OPTIONS.clear_at is not None:
            steps.append((OPTIONS.clear_at, self.clear_request()))
        try:
            for at, request in steps:
                delay = started + at - asyncio.get_running_loop().time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self.ask(request)
        except Exception as exc:  # a failure of the peer itself: make it visible to the test
            emit(station=self.id, error=f"smart charging: {type(exc).__name__}: {exc}")

    async def ask(self, request: object, **tags: object) -> None:
        """Send `request`, print its answer with `tags`: ``{"station", "action", "status",
        "sent", "at", "answer", **tags}`` ("status" None for an answer without one)."""
        action = type(request).__name__
        sent = now()
        try:
            answer = await self.call(request, suppress=False)  # type: ignore[attr-defined]
        except Exception as exc:  # a CALLERROR answer, or one that fails its schema
            emit(station=self.id, action=action, error=f"{type(exc).__name__}: {exc}", **tags)
            return
        extra = {}
        if action == "GetCompositeSchedule":
            extra["schedule"] = getattr(answer, "charging_schedule", None) or getattr(
                answer, "schedule", None
            )
        emit(
            station=self.id,
            action=action,
            status=getattr(answer, "status", None),
            sent=sent,
            at=now(),
            answer=dataclasses.asdict(answer),  # type: ignore[call-overload]
            **extra,
            **tags,
        )

    # -- reservations, local list, firmware (timed from the first boot) ------------------------

    operations_task: asyncio.Task | None = None

    def booted(self, reason: object = None, firmware: object = None) -> None:
        """A BootNotification came: print it; the first one of this station starts its
        operations, the first one of all the outage's clock."""
        emit(
            station=self.id,
            action="BootNotification",
            direction="received",
            at=now(),
            reason=reason,
            firmware=firmware,
        )
        CSMS.boots[self.id] += 1
        if OPTIONS.outage_at is not None and CSMS.outage_task is None:
            CSMS.outage_task = asyncio.create_task(outage(OPTIONS.outage_at, OPTIONS.outage_for))
        if CSMS.boots[self.id] == 1:
            steps = self.operations()
            if steps:
                self.operations_task = asyncio.create_task(self.run_steps(steps))

    def operations(self) -> list[tuple[float, object]]:
        """(seconds after the first boot, a function making the request and its tags), in
        the order they go."""
        steps: list[tuple[float, object]] = []
        if OPTIONS.local_list:
            at = OPTIONS.local_list_at
            steps += [(at, make) for make in self.local_list_requests(OPTIONS.local_list)]
        if OPTIONS.reserve_at is not None:
            token, at = OPTIONS.reserve_token, OPTIONS.reserve_at
            steps.append(
                (at, lambda: (self.reserve_request(1, 1, token, 60.0), {"reservation": 1}))
            )
            if OPTIONS.reserve_expiry is not None:
                expiry = OPTIONS.reserve_expiry
                steps.append(
                    (at, lambda: (self.reserve_request(2, 2, token, expiry), {"reservation": 2}))
                )
            if OPTIONS.reserve_start_at is not None:
                steps.append((OPTIONS.reserve_start_at, lambda: (self.start_request(1, token), {})))
            for other_at in OPTIONS.other_start_at:
                steps.append(
                    (other_at, lambda: (self.start_request(2, OTHER_TOKEN), {"token": OTHER_TOKEN}))
                )
        if OPTIONS.update_firmware_at is not None:
            steps.append((OPTIONS.update_firmware_at, lambda: (self.firmware_request(), {})))
        if OPTIONS.get_diagnostics_at is not None:
            steps.append((OPTIONS.get_diagnostics_at, lambda: (self.diagnostics_request(), {})))
        if OPTIONS.get_log_at is not None:
            steps.append((OPTIONS.get_log_at, lambda: (self.log_request(), {})))
        return sorted(steps, key=lambda step: step[0])  # stable: same times keep their order

    async def run_steps(self, steps: list[tuple[float, object]]) -> None:
        started = asyncio.get_running_loop().time()
        try:
            for at, make in steps:
                delay = started + at - asyncio.get_running_loop().time()
                if delay > 0:
                    await asyncio.sleep(delay)
                request, tags = make()  # type: ignore[operator]
                await self.ask(request, **tags)
        except websockets.ConnectionClosed:
            emit(station=self.id, error="operations: the connection closed before they ran")
        except Exception as exc:  # a failure of the peer itself: make it visible to the test
            emit(station=self.id, error=f"operations: {type(exc).__name__}: {exc}")

    def token_status(self, token: object) -> str:
        return "Invalid" if str(token) in OPTIONS.invalid_tokens else "Accepted"

    def local_list_requests(self, tokens: list[str]) -> list[object]:
        raise NotImplementedError

    def reserve_request(
        self, reservation: int, connector: int, token: str, expiry: float
    ) -> object:
        raise NotImplementedError

    def start_request(self, connector: int, token: str) -> object:
        raise NotImplementedError

    def firmware_request(self) -> object:
        raise NotImplementedError

    def diagnostics_request(self) -> object:
        raise NotImplementedError

    def log_request(self) -> object:
        raise NotImplementedError

    def print_meter(self, action: str, transaction: object, meter_values: object) -> None:
        if not OPTIONS.print_meter_values:
            return
        for meter_value in meter_values or []:  # type: ignore[union-attr]
            readings: dict[str, object] = {"power": None, "energy": None, "context": None}
            for sampled in meter_value.get("sampled_value", []):
                readings["context"] = sampled.get("context", "Sample.Periodic")
                measurand = sampled.get("measurand", "Energy.Active.Import.Register")
                key = MEASURANDS.get(measurand)
                if key is None or sampled.get("phase"):
                    continue
                unit = sampled.get("unit") or (sampled.get("unit_of_measure") or {}).get("unit")
                factor = 1000.0 if unit in ("kW", "kWh") else 1.0
                readings[key] = float(sampled["value"]) * factor
            emit(
                station=self.id,
                meter=action,
                transaction=str(transaction),
                timestamp=meter_value.get("timestamp"),
                **readings,
            )

    def set_profile_request(self, limit: float, unit: str) -> object:
        raise NotImplementedError

    def composite_request(self, unit: str) -> object:
        raise NotImplementedError

    def clear_request(self) -> object:
        raise NotImplementedError


MEASURANDS = {"Power.Active.Import": "power", "Energy.Active.Import.Register": "energy"}


def schedule_start() -> str | None:
    """An absolute profile's startSchedule, a minute ago; None for a relative one."""
    if OPTIONS.profile_kind == "relative":
        return None
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    return start.isoformat(timespec="seconds").replace("+00:00", "Z")


def charging_schedule(limit: float, unit: str) -> dict:
    schedule: dict = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
    }
    start = schedule_start()
    if start is not None:
        schedule["startSchedule"] = start
    return schedule


def later(seconds: float) -> str:
    """The wall-clock time `seconds` from now, ISO 8601 UTC (whole seconds and up: 1.6 and
    2.0.1 date-times)."""
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


OTHER_TOKEN = "OTHER-1"  # --other-start-at: a driver without a reservation
FIRMWARE_LOCATION = "https://firmware.example.com/ocpp-fleet-2.0.0.bin"
UPLOAD_LOCATION = "https://logs.example.com/upload"


async def outage(at: float, length: float) -> None:
    """From `at` seconds on, for `length` seconds: every connection closed (or reset), every
    new one refused (`refuse_in_outage`)."""
    await asyncio.sleep(at)
    CSMS.outage = True
    emit(outage="started", at=now())
    for connection in list(CSMS.connections):
        if OPTIONS.outage_kind == "reset":
            sock = connection.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.transport.abort()
        else:  # the close handshake goes on by itself; the station is offline from its start
            CSMS.closing.add(asyncio.create_task(connection.close(1001, "CSMS outage")))
    await asyncio.sleep(length)
    CSMS.outage = False
    emit(outage="ended", at=now())


def refuse_in_outage(connection: ServerConnection, request: object) -> object:
    """websockets' process_request: during an outage the handshake gets HTTP 503."""
    if not CSMS.outage:
        return None
    station_id = getattr(request, "path", "?").rstrip("/").rsplit("/", 1)[-1]
    emit(station=station_id, field="refused", at=now())
    return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "CSMS outage\n")


def token_list(text: str) -> list[str]:
    return [token.strip() for token in text.split(",") if token.strip()]


def times(text: str) -> list[float]:
    return [float(t) for t in text.split(",") if t.strip()]


def profile_limit(text: str) -> tuple[float, str]:
    """ "7000W" -> (7000.0, "W"); "16A" -> (16.0, "A")."""
    unit = text[-1:].upper()
    if unit not in ("W", "A"):
        raise argparse.ArgumentTypeError(f"expected a limit in W or A, e.g. 7000W, got {text!r}")
    return float(text[:-1]), unit


class Station16(Reporting, ChargePoint16):
    def seen(self, action: str, **fields: object) -> None:
        emit(station=self.id, action=action, direction="received", at=now(), **fields)

    @on(Action16.boot_notification)
    def on_boot(self, firmware_version: str | None = None, **_: object) -> object:
        self.booted(firmware=firmware_version)
        return result16.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on(Action16.heartbeat)
    def on_heartbeat(self, **_: object) -> result16.Heartbeat:
        self.seen("Heartbeat")
        return result16.Heartbeat(current_time=now())

    @on(Action16.authorize)
    def on_authorize(self, id_tag: str = "", **_: object) -> result16.Authorize:
        self.seen("Authorize", id_tag=id_tag)
        return result16.Authorize(id_tag_info={"status": self.token_status(id_tag)})

    @on(Action16.status_notification)
    def on_status(
        self, status: str = "", connector_id: int = 0, **_: object
    ) -> result16.StatusNotification:
        self.seen("StatusNotification", status=status, connector=connector_id)
        return result16.StatusNotification()

    @on(Action16.start_transaction)
    def on_start(
        self,
        connector_id: int = 0,
        id_tag: str = "",
        timestamp: str = "",
        reservation_id: int | None = None,
        **_: object,
    ) -> result16.StartTransaction:
        transaction = next(TRANSACTION_IDS)
        self.seen(
            "StartTransaction",
            connector=connector_id,
            id_tag=id_tag,
            timestamp=timestamp,
            reservation_id=reservation_id,
            transaction=str(transaction),
        )
        self.transaction_started()
        return result16.StartTransaction(
            transaction_id=transaction, id_tag_info={"status": self.token_status(id_tag)}
        )

    @on(Action16.stop_transaction)
    def on_stop(
        self,
        transaction_id: int = 0,
        timestamp: str = "",
        reason: str | None = None,
        id_tag: str | None = None,
        **_: object,
    ) -> result16.StopTransaction:
        self.seen(
            "StopTransaction",
            transaction=str(transaction_id),
            timestamp=timestamp,
            reason=reason,
            id_tag=id_tag,
        )
        return result16.StopTransaction()

    @on(Action16.firmware_status_notification)
    def on_firmware_status(self, status: str = "", **_: object) -> object:
        self.seen("FirmwareStatusNotification", status=status)
        return result16.FirmwareStatusNotification()

    @on(Action16.diagnostics_status_notification)
    def on_diagnostics_status(self, status: str = "", **_: object) -> object:
        self.seen("DiagnosticsStatusNotification", status=status)
        return result16.DiagnosticsStatusNotification()

    @on(Action16.log_status_notification)
    def on_log_status(self, status: str = "", request_id: int | None = None, **_: object) -> object:
        self.seen("LogStatusNotification", status=status, request_id=request_id)
        return result16.LogStatusNotification()

    @on(Action16.signed_firmware_status_notification)
    def on_signed_firmware_status(
        self, status: str = "", request_id: int | None = None, **_: object
    ) -> object:
        self.seen("SignedFirmwareStatusNotification", status=status, request_id=request_id)
        return result16.SignedFirmwareStatusNotification()

    @on(Action16.security_event_notification)
    def on_security_event(self, type: str = "", **_: object) -> object:
        self.seen("SecurityEventNotification", type=type)
        return result16.SecurityEventNotification()

    def local_list_requests(self, tokens: list[str]) -> list[object]:
        entries = [{"idTag": t, "idTagInfo": {"status": "Accepted"}} for t in tokens]
        return [
            lambda: (call16.ChangeConfiguration(key="LocalAuthListEnabled", value="true"), {}),
            lambda: (call16.ChangeConfiguration(key="LocalAuthorizeOffline", value="true"), {}),
            lambda: (
                call16.SendLocalList(
                    list_version=1, update_type="Full", local_authorization_list=entries
                ),
                {},
            ),
            lambda: (call16.GetLocalListVersion(), {}),
        ]

    def reserve_request(
        self, reservation: int, connector: int, token: str, expiry: float
    ) -> call16.ReserveNow:
        return call16.ReserveNow(
            connector_id=connector,
            expiry_date=later(expiry),
            id_tag=token,
            reservation_id=reservation,
        )

    def start_request(self, connector: int, token: str) -> call16.RemoteStartTransaction:
        return call16.RemoteStartTransaction(id_tag=token, connector_id=connector)

    def firmware_request(self) -> call16.UpdateFirmware:
        return call16.UpdateFirmware(location=FIRMWARE_LOCATION, retrieve_date=now())

    def diagnostics_request(self) -> call16.GetDiagnostics:
        return call16.GetDiagnostics(location=UPLOAD_LOCATION)

    def log_request(self) -> call16.GetLog:
        return call16.GetLog(
            log={"remoteLocation": UPLOAD_LOCATION},
            log_type="SecurityLog",
            request_id=next(REQUEST_IDS),
        )

    @on(Action16.meter_values)
    def on_meter_values(
        self, meter_value: object = None, transaction_id: object = None, **_: object
    ) -> result16.MeterValues:
        self.seen("MeterValues")
        self.print_meter("MeterValues", transaction_id, meter_value)
        return result16.MeterValues()

    def remote_start_request(self) -> call16.RemoteStartTransaction:
        return call16.RemoteStartTransaction(id_tag="Tag2")

    def set_profile_request(self, limit: float, unit: str) -> call16.SetChargingProfile:
        profile = {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": OPTIONS.profile_kind.capitalize(),
            "chargingSchedule": charging_schedule(limit, unit),
        }
        return call16.SetChargingProfile(connector_id=0, cs_charging_profiles=profile)

    def composite_request(self, unit: str) -> call16.GetCompositeSchedule:
        return call16.GetCompositeSchedule(connector_id=1, duration=60, charging_rate_unit=unit)

    def clear_request(self) -> call16.ClearChargingProfile:
        return call16.ClearChargingProfile(id=1)


class Station201(Reporting, ChargePoint201):
    def seen(self, action: str, **fields: object) -> None:
        emit(station=self.id, action=action, direction="received", at=now(), **fields)

    @on(Action201.boot_notification)
    def on_boot(
        self, reason: str = "", charging_station: dict | None = None, **_: object
    ) -> object:
        self.booted(reason, (charging_station or {}).get("firmware_version"))
        return result201.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on(Action201.heartbeat)
    def on_heartbeat(self, **_: object) -> result201.Heartbeat:
        self.seen("Heartbeat")
        return result201.Heartbeat(current_time=now())

    @on(Action201.authorize)
    def on_authorize(self, id_token: dict | None = None, **_: object) -> result201.Authorize:
        token = (id_token or {}).get("id_token")
        self.seen("Authorize", id_token=token)
        return result201.Authorize(id_token_info={"status": self.token_status(token)})

    @on(Action201.status_notification)
    def on_status(
        self, connector_status: str = "", evse_id: int = 0, **_: object
    ) -> result201.StatusNotification:
        self.seen("StatusNotification", status=connector_status, connector=evse_id)
        return result201.StatusNotification()

    @on(Action201.transaction_event)
    def on_transaction_event(
        self,
        event_type: str = "",
        timestamp: str = "",
        trigger_reason: str = "",
        seq_no: int = 0,
        id_token: dict | None = None,
        transaction_info: dict | None = None,
        meter_value: object = None,
        offline: bool = False,
        reservation_id: int | None = None,
        evse: dict | None = None,
        **_: object,
    ) -> object:
        transaction = (transaction_info or {}).get("transaction_id")
        token = (id_token or {}).get("id_token")
        self.seen(
            "TransactionEvent",
            event=event_type,
            timestamp=timestamp,
            offline=offline,
            id_token=token,
            reservation_id=reservation_id,
            trigger=trigger_reason,
            transaction=transaction,
            seq_no=seq_no,
            connector=(evse or {}).get("id"),
            stopped_reason=(transaction_info or {}).get("stopped_reason"),
        )
        if event_type == "Started":
            self.transaction_started()
        self.print_meter("TransactionEvent", transaction, meter_value)
        if id_token is not None:
            return result201.TransactionEvent(id_token_info={"status": self.token_status(token)})
        return result201.TransactionEvent()

    @on(Action201.firmware_status_notification)
    def on_firmware_status(
        self, status: str = "", request_id: int | None = None, **_: object
    ) -> object:
        self.seen("FirmwareStatusNotification", status=status, request_id=request_id)
        return result201.FirmwareStatusNotification()

    @on(Action201.log_status_notification)
    def on_log_status(self, status: str = "", request_id: int | None = None, **_: object) -> object:
        self.seen("LogStatusNotification", status=status, request_id=request_id)
        return result201.LogStatusNotification()

    @on(Action201.reservation_status_update)
    def on_reservation_status(
        self, reservation_id: int = 0, reservation_update_status: str = "", **_: object
    ) -> object:
        self.seen(
            "ReservationStatusUpdate",
            reservation_id=reservation_id,
            status=reservation_update_status,
        )
        return result201.ReservationStatusUpdate()

    @on(Action201.security_event_notification)
    def on_security_event(self, type: str = "", **_: object) -> object:
        self.seen("SecurityEventNotification", type=type)
        return result201.SecurityEventNotification()

    @on(Action201.notify_event)
    def on_notify_event(self, **_: object) -> object:
        self.seen("NotifyEvent")
        return result201.NotifyEvent()

    def local_list_requests(self, tokens: list[str]) -> list[object]:
        entries = [
            {"idToken": {"idToken": t, "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}
            for t in tokens
        ]
        settings = [
            {
                "attributeValue": "true",
                "component": {"name": component},
                "variable": {"name": variable},
            }
            for component, variable in (
                ("LocalAuthListCtrlr", "Enabled"),
                ("AuthCtrlr", "LocalAuthorizeOffline"),
            )
        ]
        return [
            lambda: (call201.SetVariables(set_variable_data=settings), {}),
            lambda: (
                call201.SendLocalList(
                    version_number=1, update_type="Full", local_authorization_list=entries
                ),
                {},
            ),
            lambda: (call201.GetLocalListVersion(), {}),
        ]

    def reserve_request(
        self, reservation: int, connector: int, token: str, expiry: float
    ) -> call201.ReserveNow:
        return call201.ReserveNow(
            id=reservation,
            expiry_date_time=later(expiry),
            id_token={"idToken": token, "type": "ISO14443"},
            evse_id=connector,
        )

    def start_request(self, connector: int, token: str) -> call201.RequestStartTransaction:
        return call201.RequestStartTransaction(
            id_token={"idToken": token, "type": "ISO14443"},
            remote_start_id=next(REQUEST_IDS),
            evse_id=connector,
        )

    def firmware_request(self) -> call201.UpdateFirmware:
        return call201.UpdateFirmware(
            request_id=next(REQUEST_IDS),
            firmware={"location": FIRMWARE_LOCATION, "retrieveDateTime": now()},
        )

    def diagnostics_request(self) -> call201.GetLog:
        return call201.GetLog(
            log={"remoteLocation": UPLOAD_LOCATION},
            log_type="DiagnosticsLog",
            request_id=next(REQUEST_IDS),
        )

    def log_request(self) -> call201.GetLog:
        return call201.GetLog(
            log={"remoteLocation": UPLOAD_LOCATION},
            log_type="SecurityLog",
            request_id=next(REQUEST_IDS),
        )

    @on(Action201.meter_values)
    def on_meter_values(self, **_: object) -> result201.MeterValues:
        self.seen("MeterValues")
        return result201.MeterValues()

    def remote_start_request(self) -> call201.RequestStartTransaction:
        return call201.RequestStartTransaction(
            id_token={"idToken": "Tag2", "type": "Central"}, remote_start_id=42
        )

    def set_profile_request(self, limit: float, unit: str) -> call201.SetChargingProfile:
        profile = {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": OPTIONS.profile_kind.capitalize(),
            "chargingSchedule": [{"id": 1, **charging_schedule(limit, unit)}],
        }
        return call201.SetChargingProfile(evse_id=0, charging_profile=profile)

    def composite_request(self, unit: str) -> call201.GetCompositeSchedule:
        return call201.GetCompositeSchedule(duration=60, evse_id=1, charging_rate_unit=unit)

    def clear_request(self) -> call201.ClearChargingProfile:
        return call201.ClearChargingProfile(charging_profile_id=1)


class FieldConnection(ServerConnection):
    """A connection that may hold back its answer to the station's close frame: for ever
    (`hold` is inf) or for `hold` seconds. websockets answers a close frame by itself, in
    `data_received`, through `send_data`; each chunk it writes is one frame (a server's frames
    are unmasked: a close frame starts with 0x88), or b"" for the end of TCP."""

    hold: float | None = None  # None: answer at once
    held: list[bytes] | None = None  # our answer to the close and what followed, held back
    station_id = "?"

    def send_data(self) -> None:
        for data in self.protocol.data_to_send():
            if self.held is not None:
                self.held.append(data)
            elif (
                self.hold is not None
                and data[:1] == b"\x88"
                and self.protocol.close_rcvd is not None
                and self.protocol.close_rcvd_then_sent  # an answer, not a close of ours
            ):
                ignored = self.hold == float("inf")
                emit(station=self.station_id, field="close ignored" if ignored else "close slowed")
                self.held = [data]
                if not ignored:
                    self.loop.call_later(self.hold, self._release)
            else:
                self._write(data)

    def _release(self) -> None:
        held, self.held = self.held or [], None
        for data in held:
            self._write(data)

    def _write(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        if data:
            self.transport.write(data)
        elif self.transport.can_write_eof():
            self.transport.write_eof()
        else:
            self.transport.close()


async def close_later(connection: ServerConnection, station_id: str, delay: float) -> None:
    await asyncio.sleep(delay)
    emit(station=station_id, field=f"closed {OPTIONS.close_code}")
    await connection.close(OPTIONS.close_code, "closed by the CSMS")


async def reset_later(connection: ServerConnection, station_id: str, delay: float) -> None:
    await asyncio.sleep(delay)
    emit(station=station_id, field="reset")
    sock = connection.transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.transport.abort()


def field_tasks(connection: ServerConnection, station_id: str) -> list[asyncio.Task]:
    """The field behaviours chosen for this connection (see the module's docstring)."""
    if OPTIONS.rng.random() >= OPTIONS.share:
        return []
    assert isinstance(connection, FieldConnection)
    connection.station_id = station_id
    if OPTIONS.ignore_close:
        connection.hold = float("inf")
    elif OPTIONS.slow_close:
        connection.hold = OPTIONS.slow_close
    tasks = []
    for after, action in ((OPTIONS.close_after, close_later), (OPTIONS.reset_after, reset_later)):
        if after is not None:
            delay = after + OPTIONS.rng.uniform(0, OPTIONS.jitter)
            tasks.append(asyncio.create_task(action(connection, station_id, delay)))
    return tasks


async def serve_station(connection: websockets.ServerConnection) -> None:
    station_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
    cls = Station16 if connection.subprotocol == "ocpp1.6" else Station201
    station = cls(station_id, connection)
    CSMS.connections.add(connection)
    tasks = [asyncio.create_task(station.start())]
    if station_id.startswith("remote-"):
        tasks.append(asyncio.create_task(station.remote_start()))
    tasks.extend(field_tasks(connection, station_id))
    try:
        await tasks[0]
    except websockets.ConnectionClosed:
        pass
    except Exception as exc:  # an interop failure: make it visible to the test
        emit(station=station_id, error=f"{type(exc).__name__}: {exc}")
    finally:
        CSMS.connections.discard(connection)
        for task in [*tasks, station.operations_task, station.smart_task]:
            if task is not None:
                task.cancel()


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A CSMS on the PyPI ocpp library.")
    parser.add_argument("--ping-interval", type=float, default=None)
    parser.add_argument("--close-after", type=float, default=None)
    parser.add_argument("--close-code", type=int, default=1000)
    parser.add_argument("--reset-after", type=float, default=None)
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--ignore-close", action="store_true")
    parser.add_argument("--slow-close", type=float, default=0.0)
    parser.add_argument("--answer-delay", type=float, default=0.0)
    parser.add_argument("--service-time", type=float, default=0.0)
    parser.add_argument("--share", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tx-default-profile", type=profile_limit, default=None)
    parser.add_argument("--profile-kind", choices=("absolute", "relative"), default="absolute")
    parser.add_argument("--profile-at", type=float, default=1.0)
    parser.add_argument("--composite-at", type=float, default=None)
    parser.add_argument("--clear-at", type=float, default=None)
    parser.add_argument("--print-meter-values", action="store_true")
    parser.add_argument("--reserve-at", type=float, default=None)
    parser.add_argument("--reserve-token", default="RESERVED-1")
    parser.add_argument("--reserve-expiry", type=float, default=None)
    parser.add_argument("--reserve-start-at", type=float, default=None)
    parser.add_argument("--other-start-at", type=times, default=[])
    parser.add_argument("--local-list", type=token_list, default=[])
    parser.add_argument("--local-list-at", type=float, default=0.2)
    parser.add_argument("--update-firmware-at", type=float, default=None)
    parser.add_argument("--get-diagnostics-at", type=float, default=None)
    parser.add_argument("--get-log-at", type=float, default=None)
    parser.add_argument("--invalid-tokens", type=token_list, default=[])
    parser.add_argument("--outage-at", type=float, default=None)
    parser.add_argument("--outage-for", type=float, default=5.0)
    parser.add_argument("--outage-kind", choices=("close", "reset"), default="close")
    options = parser.parse_args(argv)
    options.invalid_tokens = frozenset(options.invalid_tokens)
    options.print_meter_values |= options.tx_default_profile is not None
    options.rng = random.Random(options.seed)
    return options


async def main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with websockets.serve(
        serve_station,
        "127.0.0.1",
        0,
        subprotocols=["ocpp1.6", "ocpp2.0.1"],
        ping_interval=OPTIONS.ping_interval,  # None (the default here): no keepalive pings
        create_connection=FieldConnection,
        process_request=refuse_in_outage,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"PORT {port}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    OPTIONS = parse_options(sys.argv[1:])
    asyncio.run(main())
    sys.exit(0)
