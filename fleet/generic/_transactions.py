"""Transactions and connector status over a 1.6 link: the adapters that keep state.

OCPP 2.0.1 reports a session with TransactionEvent (Started, Updated, Ended), names the
transaction itself (a string), and splits a connector's state in two: StatusNotification's
connectorStatus (Available, Occupied, Reserved, Unavailable, Faulted) and TransactionEvent's
chargingState (Charging, EVConnected, SuspendedEV, SuspendedEVSE, Idle). OCPP 1.6 reports it
with StartTransaction (the CSMS gives an integer id), MeterValues with that id, and
StopTransaction, and has one ChargePointStatus (Available, Preparing, Charging, SuspendedEV,
SuspendedEVSE, Finishing, Reserved, Unavailable, Faulted), sent in StatusNotification.

So a 1.6 link keeps, per connection (`LinkState`): the station's transaction ids and the
integers the CSMS gave them; each connector's transaction and charging state; and the last
1.6 status it sent. With these:

- TransactionEvent Started -> StartTransaction (meterStart from the meterValue's
  Energy.Active.Import.Register), then MeterValues with the other readings, then a
  StatusNotification when the 1.6 status changes (Preparing -> Charging, say).
- Updated -> MeterValues with the CSMS's id, and a StatusNotification when chargingState
  changes the 1.6 status.
- Ended -> StopTransaction (meterStop, reason, transactionData), then StatusNotification
  Finishing.
- StatusNotification(Occupied) -> Preparing, Charging, SuspendedEV, SuspendedEVSE or Finishing,
  from the connector's transaction and charging state.

A 1.6 connectorId is a 2.0.1 EVSE with one connector: evse.id <-> connectorId, connectorId 1.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from fleet.generic._common import ID_TAG_INFO, TRANSACTION_ID, LinkState
from fleet.generic._engine import LEGACY_VENDOR, Loss, Values, Where, keep_as, kept_field
from fleet.generic._meter import METER_VALUES, energy_register_wh
from fleet.ocpp import dec_hook, v16, v201

__all__ = ["STATUS_NOTIFICATION", "STOP_REASON", "TRANSACTION_EVENT"]


_STATUS_OF_CONNECTOR = {
    "Available": "Available",
    "Reserved": "Reserved",
    "Unavailable": "Unavailable",
    "Faulted": "Faulted",
}

# 1.6 status -> 2.0.1 connectorStatus (the 1.6 status is kept when it says more).
_CONNECTOR_OF_STATUS = {
    **{status: status for status in _STATUS_OF_CONNECTOR},
    "Preparing": "Occupied",
    "Charging": "Occupied",
    "SuspendedEV": "Occupied",
    "SuspendedEVSE": "Occupied",
    "Finishing": "Occupied",
}

#: 2.0.1 stoppedReason <-> 1.6 StopTransaction.reason.
STOP_REASON = Values(
    {
        "DeAuthorized": "DeAuthorized",
        "EmergencyStop": "EmergencyStop",
        "EVDisconnected": "EVDisconnected",
        "ImmediateReset": "HardReset",
        "Local": "Local",
        "Other": "Other",
        "PowerLoss": "PowerLoss",
        "Reboot": "Reboot",
        "Remote": "Remote",
    },
    generic_only={
        reason: "1.6 Reason has no such value (its catch-all is Other)"
        for reason in (
            "EnergyLimitReached",
            "GroundFault",
            "LocalOutOfCredit",
            "MasterPass",
            "OvercurrentFault",
            "PowerQuality",
            "SOCLimitReached",
            "StoppedByEV",
            "TimeLimitReached",
            "Timeout",
        )
    },
    legacy_only={"SoftReset": "ImmediateReset", "UnlockCommand": "Remote"},
)

#: TransactionEvent fields a 1.6 link does not send: 1.6 has no place for them, and its
#: transaction messages mean the same without them.
NOT_CARRIED = {
    "triggerReason": "1.6 transaction messages give no trigger",
    "seqNo": "1.6 orders transaction messages by sending them one at a time",
    "offline": "1.6 has no offline flag (the timestamps tell)",
    "numberOfPhasesUsed": "1.6 transaction messages have no phase count",
    "cableMaxCurrent": "1.6 transaction messages have no cable rating",
    "transactionInfo.remoteStartId": "1.6 RemoteStartTransaction has no id to echo",
    "transactionInfo.timeSpentCharging": "1.6 has no such figure",
    "transactionInfo.chargingState": "sent as the StatusNotification it implies",
}

# The TransactionEvent fields each event type carries to 1.6 (the rest: NOT_CARRIED or errors).
_COMMON_FIELDS = {"eventType", "timestamp", "transactionInfo.transactionId", "meterValue", "evse"}
_STARTED_FIELDS = _COMMON_FIELDS | {"idToken", "reservationId"}
_UPDATED_FIELDS = _COMMON_FIELDS
_ENDED_FIELDS = _COMMON_FIELDS | {"idToken", "transactionInfo.stoppedReason"}

Step = tuple[str, Any] | Callable[[list[Any]], "tuple[str, Any] | None"]


def _wire(message: Any, kind: type) -> dict[str, Any]:
    if isinstance(message, Mapping):
        message = msgspec.convert(message, kind, dec_hook=dec_hook)
    return msgspec.to_builtins(message, builtin_types=(datetime.datetime,))  # type: ignore[no-any-return]


def _state(where: Where) -> LinkState:
    state = where.link
    if not isinstance(state, LinkState):
        raise TypeError("transactions need the connection's LinkState (where.link)")
    return state


def _connector(data: Mapping[str, Any], where: Where, state: LinkState, tx: str) -> int:
    evse = data.get("evse")
    if evse is not None:
        if evse.get("connectorId", 1) != 1:
            raise where.fail(
                "evse.connectorId",
                evse["connectorId"],
                "a 1.6 connectorId is an EVSE with one connector (connectorId 1)",
            )
        if "customData" in evse:
            raise where.fail("evse.customData", evse["customData"], "1.6 has no customData")
        return int(evse["id"])
    if tx in state.connector_of:
        return state.connector_of[tx]
    raise where.fail("evse", None, "1.6 StartTransaction needs the connectorId: give evse.id")


def _ongoing(data: Mapping[str, Any], where: Where, state: LinkState, tx: str) -> tuple[int, int]:
    """The CSMS's integer and the connector of a transaction this link started.

    Raises:
        NotExpressible: the link knows no such transaction (1.6 needs the CSMS's integer),
            or `evse` names another connector than the transaction's.
    """
    if tx not in state.to_legacy:
        raise where.fail(
            "transactionInfo.transactionId",
            tx,
            "1.6 transaction ids are integers the CSMS gives in its StartTransaction answer, "
            "and this link started no such transaction (to keep them across connections, "
            "give connect() the same generic_state)",
        )
    connector = state.connector_of[tx]
    evse = data.get("evse")
    if evse is not None and _connector(data, where, state, tx) != connector:
        raise where.fail("evse.id", evse["id"], f"the transaction runs on connector {connector}")
    return state.to_legacy[tx], connector


def _check_carried(data: Mapping[str, Any], where: Where, allowed: set[str]) -> None:
    for key, value in data.items():
        if key == "transactionInfo":
            for inner, inner_value in value.items():
                path = f"transactionInfo.{inner}"
                if path not in NOT_CARRIED and path not in allowed:
                    raise where.fail(path, inner_value, "OCPP 1.6 has no such field here")
        elif key not in NOT_CARRIED and key not in allowed:
            raise where.fail(key, value, "OCPP 1.6 has no such field here")


def _status_steps(state: LinkState, connector: int, timestamp: Any) -> list[Step]:
    """A StatusNotification if the connector's 1.6 status changed (decided when it is due),
    and the record that it was sent (only once it was answered: a failed one is due again)."""
    due: list[str] = []

    def send(responses: list[Any]) -> tuple[str, Any] | None:
        status = state.occupied_status(connector)
        if state.status_sent.get(connector) == status:
            return None
        due.append(status)
        request = v16.StatusNotificationRequest(
            connector_id=connector,
            error_code=v16.ChargePointErrorCode.NO_ERROR,
            status=v16.ChargePointStatus(status),
            timestamp=timestamp,
        )
        return ("StatusNotification", request)

    def sent(responses: list[Any]) -> None:
        if due:
            state.status_sent[connector] = due[-1]

    return [send, sent]


def _set(table: dict[int, str], key: int, value: str) -> None:
    table[key] = value


def _legacy_fields(custom: Mapping[str, Any] | None, where: Where) -> dict[str, Any]:
    """The 1.6 fields in a customData of `LEGACY_VENDOR`; any other customData is an error."""
    if custom is None:
        return {}
    if custom.get("vendorId") != LEGACY_VENDOR:
        raise where.fail("customData", dict(custom), "1.6 has no customData")
    return {kept_field(k): v for k, v in custom.items() if k != "vendorId"}


def _drop(value: Any) -> None:
    pass


def _register(wh: int, timestamp: Any, context: str) -> dict[str, Any]:
    return {
        "timestamp": timestamp,
        "sampledValue": [
            {
                "value": wh,
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "Wh"},
            }
        ],
    }


def _only_register(meter: list[Any] | None) -> bool:
    """The meter values are one Energy.Active.Import.Register reading and nothing else."""
    if not meter or len(meter) != 1:
        return False
    samples = meter[0].get("sampledValue", [])
    # No measurand means the register (2.0.1 SampledValueType's default).
    register = samples[0].get("measurand", "Energy.Active.Import.Register") if samples else None
    return len(samples) == 1 and register == "Energy.Active.Import.Register"


# The generic field each 1.6 field of StatusNotification comes from, for errors.
_STATUS_NAMES = {
    "connectorId": "evseId",
    "timestamp": "timestamp",
    "status": "customData.status",
    "errorCode": "customData.errorCode",
    "info": "customData.info",
    "vendorId": "customData.legacyVendorId",
    "vendorErrorCode": "customData.vendorErrorCode",
}

# The generic field each 1.6 field of the transaction messages comes from, for errors.
_NAMES = {
    "connectorId": "evse.id",
    "idTag": "idToken.idToken",
    "meterStart": "meterValue",
    "meterStop": "meterValue",
    "reservationId": "reservationId",
    "timestamp": "timestamp",
    "reason": "transactionInfo.stoppedReason",
    "transactionData": "meterValue",
    "meterValue": "meterValue",
}


def _build(
    kind: type, data: dict[str, Any], where: Where, names: Mapping[str, str] | None = None
) -> Any:
    try:
        return msgspec.convert(data, kind, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        # msgspec names the 1.6 field ("... - at `$.idTag`"); the user wrote the generic one.
        text = str(exc)
        match = re.search(r" - at `\$\.([A-Za-z]+)[^`]*`$", text)
        legacy = match.group(1) if match else ""
        field = (names or _NAMES).get(legacy, legacy or "message")
        reason = text[: match.start()] if match else text
        value = data.get(legacy, data) if legacy else data
        raise where.fail(
            field, value, f"1.6 {kind.__name__.removesuffix('Request')}.{legacy} wants: {reason}"
        ) from None


# -- what the docs table says, and the tests send ---------------------------------------------

_STAMP = "2026-01-01T00:00:00Z"


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    """A TransactionEvent (wire form) for the examples: transaction "tx-1" on EVSE 1."""
    event: dict[str, Any] = {
        "eventType": kind,
        "timestamp": _STAMP,
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "tx-1"},
        "evse": {"id": 1},
        "meterValue": [_register(0, _STAMP, "Transaction.Begin")],
    }
    if kind == "Started":
        event["idToken"] = {"idToken": "321", "type": "Central"}
    event.update(fields)
    return {key: value for key, value in event.items() if value is not None}


def _transaction_event_losses() -> tuple[Loss, ...]:
    need = "1.6 StartTransaction needs"
    return (
        Loss("request", "idToken", f"{need} an idTag", _event("Started", idToken=None)),
        Loss(
            "request",
            "meterValue",
            f"{need} meterStart: give an Energy.Active.Import.Register reading",
            _event("Started", meterValue=None),
        ),
        Loss("request", "evse", f"{need} the connectorId", _event("Started", evse=None)),
        Loss(
            "request",
            "evse.connectorId",
            "a 1.6 connectorId is an EVSE with one connector",
            _event("Started", evse={"id": 1, "connectorId": 2}),
        ),
        Loss(
            "request",
            "idToken.additionalInfo",
            "a 1.6 idTag is a string",
            _event(
                "Started",
                idToken={
                    "idToken": "321",
                    "type": "Central",
                    "additionalInfo": [{"additionalIdToken": "x", "type": "y"}],
                },
            ),
        ),
        Loss(
            "request",
            "transactionInfo.transactionId",
            "1.6 transaction ids are integers the CSMS gives",
            _event("Updated"),
        ),
        Loss(
            "request",
            "eventType",
            "this Updated event carries nothing 1.6 sends",
            _event("Updated", transactionInfo={"transactionId": "7"}, meterValue=None),
        ),
        Loss(
            "request",
            "meterValue",
            "1.6 StopTransaction needs meterStop",
            _event("Ended", transactionInfo={"transactionId": "7"}, meterValue=None),
        ),
        Loss(
            "request",
            "transactionInfo.stoppedReason",
            "1.6 Reason has no such value",
            _event(
                "Ended",
                transactionInfo={"transactionId": "7", "stoppedReason": "TimeLimitReached"},
            ),
        ),
        Loss(
            "request",
            "customData",
            "1.6 has no customData",
            _event("Started", customData={"vendorId": "com.example", "soc": 80}),
        ),
        Loss(
            "response",
            "customData",
            "a 1.6 StartTransaction answer needs the transactionId",
            {"idTokenInfo": {"status": "Accepted"}},
        ),
        Loss(
            "response",
            "idTokenInfo",
            "a 1.6 StartTransaction answer needs the idTagInfo",
            {"customData": {"vendorId": "ocpp1.6", "transactionId": 1}},
        ),
        *(
            Loss("response", field, "1.6 transaction answers have no such field", {field: value})
            for field, value in (
                ("totalCost", 1.5),
                ("chargingPriority", 1),
                ("updatedPersonalMessage", {"format": "ASCII", "content": "hi"}),
            )
        ),
    )


def _status(**fields: Any) -> dict[str, Any]:
    status = {"timestamp": _STAMP, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}
    return {**status, **fields}


# 1.6 gives no trigger for a stop; its reason says the most. (2.0.1 has no "Local" trigger:
# a local stop, or one with an idTag, is StopAuthorized.)
_STOP_TRIGGER = {
    "DeAuthorized": "Deauthorized",
    "EVDisconnected": "EVDeparted",
    "HardReset": "ResetCommand",
    "SoftReset": "ResetCommand",
    "Reboot": "ResetCommand",
    "Remote": "RemoteStop",
    "UnlockCommand": "UnlockCommand",
    "EmergencyStop": "AbnormalCondition",
    "PowerLoss": "AbnormalCondition",
}


def _stop_trigger(data: Mapping[str, Any]) -> str:
    if "idTag" in data:
        return "StopAuthorized"
    return _STOP_TRIGGER.get(data.get("reason", ""), "StopAuthorized")


class _TransactionEvent:
    """TransactionEvent <-> StartTransaction / MeterValues / StopTransaction (see the module)."""

    generic = "TransactionEvent"
    legacy = ("StartTransaction", "StopTransaction")
    losses = _transaction_event_losses()
    not_carried = NOT_CARRIED
    note = (
        "Started -> StartTransaction (+ MeterValues with its other readings, "
        "StatusNotification); Updated -> MeterValues (+ StatusNotification); Ended -> "
        "StopTransaction (+ StatusNotification Finishing). The station's transactionId <-> "
        "the CSMS's integer, kept per connection. A Started needs an idToken: 1.6 starts a "
        "transaction once authorized, so a 2.0.1 transaction that starts before "
        "authorization (TxStartPoint EVConnected) cannot run on 1.6. meterStart/meterStop "
        "are the latest Energy.Active.Import.Register reading, in whole Wh. stoppedReason <-> "
        f"reason: {STOP_REASON.describe()}. Read from 1.6: StartTransaction is a Started with "
        'transactionId "" (the CSMS has not numbered it yet), chargingState Charging and '
        "seqNo 0; StopTransaction an Ended whose triggerReason follows the 1.6 reason."
    )

    def request_to_legacy(self, request: Any, where: Where) -> list[Step]:
        state = _state(where)
        data = _wire(request, v201.TransactionEventRequest)
        # 1.6 fields kept from a 1.6 message (or set by the user) go back into the first CALL.
        overrides = _legacy_fields(data.pop("customData", None), where)
        tx = data["transactionInfo"]["transactionId"]
        kind = data["eventType"]
        stamp = data["timestamp"]
        meter = data.get("meterValue")
        charging = data["transactionInfo"].get("chargingState")
        if kind == "Started":
            _check_carried(data, where, _STARTED_FIELDS)
            connector = _connector(data, where, state, tx)
            if tx in state.to_legacy:
                # Sent again after a later CALL of it failed (its StartTransaction was
                # answered): the transaction exists at the CSMS; send only what is still due:
                # its other readings, if their MeterValues did not get through, and its status.
                connector = state.connector_of.get(tx, connector)
                due: list[Step] = []
                if meter and not _only_register(meter) and tx not in state.readings_sent:
                    values = {
                        "connectorId": connector,
                        "transactionId": state.to_legacy[tx],
                        "meterValue": METER_VALUES.to_legacy(meter, where, "meterValue"),
                    }
                    due.append(("MeterValues", _build(v16.MeterValuesRequest, values, where)))
                    due.append(_after(lambda _: state.readings_sent.add(tx)))
                return [*due, *_status_steps(state, connector, stamp)]
            token = data.get("idToken")
            if token is None:
                raise where.fail("idToken", None, "1.6 StartTransaction needs an idTag")
            if "additionalInfo" in token or "customData" in token:
                extra = "additionalInfo" if "additionalInfo" in token else "customData"
                raise where.fail(f"idToken.{extra}", token[extra], "a 1.6 idTag is a string")
            meter_start = energy_register_wh(meter or [])
            if meter_start is None:
                raise where.fail(
                    "meterValue",
                    meter,
                    "1.6 StartTransaction needs meterStart: give an "
                    "Energy.Active.Import.Register reading",
                )
            start = {
                "connectorId": connector,
                "idTag": token["idToken"],
                "meterStart": meter_start,
                "timestamp": stamp,
            }
            if "reservationId" in data:
                start["reservationId"] = data["reservationId"]
            legacy_meter = METER_VALUES.to_legacy(meter, where, "meterValue") if meter else None
            first = _build(v16.StartTransactionRequest, {**start, **overrides}, where, _NAMES)
            steps: list[Step] = [("StartTransaction", first)]

            def started(responses: list[Any]) -> tuple[str, Any] | None:
                answer = responses[0]
                state.add(tx, answer.transaction_id)
                state.transaction_of[connector] = tx
                state.connector_of[tx] = connector
                state.finished.discard(connector)
                if charging is not None:
                    state.charging_state[connector] = charging
                else:
                    state.charging_state.pop(connector, None)
                if legacy_meter is None or _only_register(meter):
                    state.readings_sent.add(tx)  # nothing more to send
                    return None
                values = {
                    "connectorId": connector,
                    "transactionId": answer.transaction_id,
                    "meterValue": legacy_meter,
                }
                return ("MeterValues", _build(v16.MeterValuesRequest, values, where, _NAMES))

            readings_sent = _after(lambda _: state.readings_sent.add(tx))
            return [*steps, started, readings_sent, *_status_steps(state, connector, stamp)]
        if kind == "Updated":
            _check_carried(data, where, _UPDATED_FIELDS)
            if not meter and charging is None:
                raise where.fail(
                    "eventType",
                    kind,
                    "this Updated event carries nothing 1.6 sends: no meterValue and no "
                    "chargingState",
                )
            legacy_id, connector = _ongoing(data, where, state, tx)
            steps = []
            if meter:
                values = {
                    "connectorId": connector,
                    "transactionId": legacy_id,
                    "meterValue": METER_VALUES.to_legacy(meter, where, "meterValue"),
                    **overrides,
                }
                steps.append(("MeterValues", _build(v16.MeterValuesRequest, values, where)))
            if charging is not None:
                # 1.6 says a charging state with the status it implies; a change that implies
                # no new status (EVConnected -> Idle: both SuspendedEV) sends nothing.
                steps.append(_after(lambda _: _set(state.charging_state, connector, charging)))
                steps += _status_steps(state, connector, stamp)
            return steps
        # Ended
        _check_carried(data, where, _ENDED_FIELDS)
        meter_stop = energy_register_wh(meter or [])
        if meter_stop is None and "meterStop" in overrides:
            meter_stop = overrides["meterStop"]  # kept from a 1.6 StopTransaction
        if meter_stop is None:
            raise where.fail(
                "meterValue",
                meter,
                "1.6 StopTransaction needs meterStop: give an Energy.Active.Import.Register "
                "reading",
            )
        stop: dict[str, Any] = {"meterStop": meter_stop, "timestamp": stamp}
        token = data.get("idToken")
        if token is not None:
            if "additionalInfo" in token or "customData" in token:
                extra = "additionalInfo" if "additionalInfo" in token else "customData"
                raise where.fail(f"idToken.{extra}", token[extra], "a 1.6 idTag is a string")
            stop["idTag"] = token["idToken"]
        reason = data["transactionInfo"].get("stoppedReason")
        if reason is not None:
            stop["reason"] = STOP_REASON.to_legacy(reason, where, "transactionInfo.stoppedReason")
        if meter and not _only_register(meter):
            stop["transactionData"] = METER_VALUES.to_legacy(meter, where, "meterValue")
        legacy_id, connector = _ongoing(data, where, state, tx)
        stop["transactionId"] = legacy_id

        def ended(responses: list[Any]) -> None:
            if state.transaction_of.get(connector) == tx:
                del state.transaction_of[connector]
                state.charging_state.pop(connector, None)
                state.finished.add(connector)
            state.connector_of.pop(tx, None)
            state.readings_sent.discard(tx)
            state.to_generic.pop(state.to_legacy.pop(tx, -1), None)

        stop.update(overrides)
        first = _build(v16.StopTransactionRequest, stop, where, _NAMES)
        return [("StopTransaction", first), _after(ended), *_status_steps(state, connector, stamp)]

    def response_to_generic(self, responses: list[Any], request: Any, where: Where) -> Any:
        # Started -> the StartTransaction answer (none when a retry found it answered);
        # Ended -> the StopTransaction answer; Updated -> MeterValues answers, or none.
        first = responses[0] if responses else None
        out: dict[str, Any] = {}
        info = getattr(first, "id_tag_info", msgspec.UNSET)
        if info is not msgspec.UNSET:
            out["idTokenInfo"] = ID_TAG_INFO.to_generic_dict(msgspec.to_builtins(info), where)
        data = _wire(request, v201.TransactionEventRequest)
        if data["eventType"] == "Started":
            # The CSMS's own number for the transaction, kept as the rule for 1.6 fields says.
            legacy_id = (
                first.transaction_id
                if isinstance(first, v16.StartTransactionResponse)
                else _state(where).to_legacy[data["transactionInfo"]["transactionId"]]
            )
            out["customData"] = {"vendorId": LEGACY_VENDOR, "transactionId": legacy_id}
        return msgspec.convert(out, v201.TransactionEventResponse, dec_hook=dec_hook)

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        """A 1.6 StartTransaction / StopTransaction as the TransactionEvent it is.

        A StartTransaction has no transaction id yet (the CSMS gives it): it reads as "".
        """
        data = _wire(request, type(request))
        if action == "StartTransaction":
            out: dict[str, Any] = {
                "eventType": "Started",
                "timestamp": data["timestamp"],
                "triggerReason": "Authorized",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "", "chargingState": "Charging"},
                "evse": {"id": data["connectorId"], "connectorId": 1},
                "idToken": {"idToken": data["idTag"], "type": "Central"},
                "meterValue": [
                    _register(data["meterStart"], data["timestamp"], "Transaction.Begin")
                ],
            }
            if "reservationId" in data:
                out["reservationId"] = data["reservationId"]
        else:
            out = {
                "eventType": "Ended",
                "timestamp": data["timestamp"],
                "triggerReason": _stop_trigger(data),
                "seqNo": 0,
                "transactionInfo": {
                    "transactionId": TRANSACTION_ID.to_generic(
                        data["transactionId"], where, "transactionInfo.transactionId", _drop
                    )
                },
            }
            if "reason" in data:
                out["transactionInfo"]["stoppedReason"] = STOP_REASON.to_generic(
                    data["reason"], where, "transactionInfo.stoppedReason", _drop
                )
                if data["reason"] in STOP_REASON.legacy_only:
                    out["customData"] = {"vendorId": LEGACY_VENDOR, "reason": data["reason"]}
            if "idTag" in data:
                out["idToken"] = {"idToken": data["idTag"], "type": "Central"}
            readings = [_register(data["meterStop"], data["timestamp"], "Transaction.End")]
            kept: dict[str, Any] = {}
            if data.get("transactionData"):
                readings = METER_VALUES.to_generic(
                    data["transactionData"], where, "meterValue", _drop
                )
                if energy_register_wh(readings) != data["meterStop"]:
                    # The readings say another register value (or none): meterStop is kept
                    # as the 1.6 field it is, not made into a reading of its own.
                    kept["meterStop"] = data["meterStop"]
            elif "transactionData" in data:
                kept["transactionData"] = []
            out["meterValue"] = readings
            if kept:
                custom = out.get("customData") or {"vendorId": LEGACY_VENDOR}
                out["customData"] = {**custom, **kept}
        return msgspec.convert(out, v201.TransactionEventRequest, dec_hook=dec_hook)

    def response_to_legacy(self, response: Any, action: str, request: Any, where: Where) -> Any:
        data = _wire(response, v201.TransactionEventResponse)
        for field in ("totalCost", "chargingPriority", "updatedPersonalMessage"):
            if field in data:
                raise where.fail(field, data[field], "1.6 transaction answers have no such field")
        out: dict[str, Any] = {}
        if "idTokenInfo" in data:
            out["idTagInfo"] = ID_TAG_INFO.to_legacy_dict(
                data["idTokenInfo"], where.deeper("idTokenInfo")
            )
        if action == "StartTransaction":
            custom = data.get("customData") or {}
            if "transactionId" not in custom:
                raise where.fail(
                    "customData", custom, "a 1.6 StartTransaction answer needs the transactionId"
                )
            if "idTagInfo" not in out:
                raise where.fail(
                    "idTokenInfo", None, "a 1.6 StartTransaction answer needs the idTagInfo"
                )
            out["transactionId"] = custom["transactionId"]
            return _build(v16.StartTransactionResponse, out, where)
        if "customData" in data:
            raise where.fail("customData", data["customData"], "1.6 has no customData")
        return _build(v16.StopTransactionResponse, out, where)


class _StatusNotification:
    """StatusNotification: 2.0.1 connectorStatus (+ the connector's transaction and charging
    state) <-> 1.6 ChargePointStatus; 1.6 errorCode NoError (Faulted: OtherError)."""

    generic = "StatusNotification"
    legacy = ("StatusNotification",)
    not_carried: Mapping[str, str] = {}
    losses = (
        Loss(
            "request",
            "connectorId",
            "a 1.6 connectorId is an EVSE with one connector",
            _status(connectorId=2),
        ),
        Loss(
            "request",
            "customData",
            "OCPP 1.6 messages have no customData",
            _status(customData={"vendorId": "com.example", "door": "open"}),
        ),
    )
    note = (
        "connectorStatus Occupied -> Preparing, Charging, SuspendedEV, SuspendedEVSE or "
        "Finishing from the connector's transaction; evseId <-> connectorId (connectorId 1); "
        "errorCode NoError, or OtherError when Faulted; 1.6 fields kept in customData. Read "
        "from 1.6, a StatusNotification without a timestamp reads as the time it was read"
    )

    def request_to_legacy(self, request: Any, where: Where) -> list[Step]:
        data = _wire(request, v201.StatusNotificationRequest)
        state = where.link if isinstance(where.link, LinkState) else LinkState()
        if data["connectorId"] not in (0, 1):
            raise where.fail(
                "connectorId",
                data["connectorId"],
                "a 1.6 connectorId is an EVSE with one connector (connectorId 1)",
            )
        connector = data["evseId"]
        status_2 = data["connectorStatus"]
        status = _STATUS_OF_CONNECTOR.get(status_2) or state.occupied_status(connector)
        out: dict[str, Any] = {
            "connectorId": connector,
            "errorCode": "OtherError" if status == "Faulted" else "NoError",
            "status": status,
            "timestamp": data["timestamp"],
        }
        custom = data.get("customData")
        if custom is not None:
            if custom.get("vendorId") != LEGACY_VENDOR:
                raise where.fail("customData", custom, "OCPP 1.6 messages have no customData")
            out.update({kept_field(k): v for k, v in custom.items() if k != "vendorId"})
        message = _build(v16.StatusNotificationRequest, out, where, _STATUS_NAMES)

        def sent(responses: list[Any]) -> None:
            state.status_sent[connector] = message.status
            if message.status == "Available":
                state.finished.discard(connector)

        return [("StatusNotification", message), _after(sent)]

    def response_to_generic(self, responses: list[Any], request: Any, where: Where) -> Any:
        return v201.StatusNotificationResponse()

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        data = _wire(request, v16.StatusNotificationRequest)
        status = data["status"]
        out: dict[str, Any] = {
            "timestamp": data.get("timestamp") or datetime.datetime.now(datetime.UTC),
            "connectorStatus": _CONNECTOR_OF_STATUS[status],
            "evseId": data["connectorId"],
            "connectorId": 0 if data["connectorId"] == 0 else 1,
        }
        kept = {
            keep_as(k): v for k, v in data.items() if k in ("info", "vendorId", "vendorErrorCode")
        }
        if status not in _STATUS_OF_CONNECTOR:
            kept["status"] = status
        if data["errorCode"] != ("OtherError" if status == "Faulted" else "NoError"):
            kept["errorCode"] = data["errorCode"]
        if kept:
            out["customData"] = {"vendorId": LEGACY_VENDOR, **kept}
        return msgspec.convert(out, v201.StatusNotificationRequest, dec_hook=dec_hook)

    def response_to_legacy(self, response: Any, action: str, request: Any, where: Where) -> Any:
        data = _wire(response, v201.StatusNotificationResponse)
        if "customData" in data:
            raise where.fail("customData", data["customData"], "1.6 has no customData")
        return v16.StatusNotificationResponse()


def _after(effect: Callable[[list[Any]], None]) -> Step:
    """A step that sends nothing: it records what the calls before it did, once they did."""

    def step(responses: list[Any]) -> None:
        effect(responses)
        return None

    return step


TRANSACTION_EVENT = _TransactionEvent()
STATUS_NOTIFICATION = _StatusNotification()
