"""An OCPP 2.0.1 station: sessions through Authorize and TransactionEvent Started / Updated /
Ended with sequence numbers, and answers to what a CSMS sends, on a small device model."""

from __future__ import annotations

import collections
import random
from typing import Any

import msgspec

from fleet.ocpp import OcppVersion, Payload, v201
from fleet.station import _smart_charging as sc
from fleet.station._authorization import (
    Authorizer,
    AuthSettings,
    entry_from_v201,
    settings_from_v201,
    update_from_v201,
    v201_update_status,
)
from fleet.station._device_model import DEVICE_MODEL_VARIABLES, DeviceModel201
from fleet.station._firmware import Firmware201
from fleet.station._machine import (
    EV_PHASES,
    EVSE_MAX_WATTS,
    REACTION_ANY,
    Connector,
    ConnectorState,
    Observer,
    Outgoing,
    StationMachine,
    StationSettings,
    answer_methods,
)
from fleet.station._reservations import ReservationBook, request_from_v201

__all__ = ["StationMachine201"]

_HEARTBEAT = v201.HeartbeatRequest()
_ACCEPTED = v201.AuthorizationStatusEnum.ACCEPTED
_CONNECTOR_STATUS = {
    ConnectorState.AVAILABLE: v201.ConnectorStatusEnum.AVAILABLE,
    ConnectorState.AUTHORIZING: v201.ConnectorStatusEnum.OCCUPIED,
    ConnectorState.STARTING: v201.ConnectorStatusEnum.OCCUPIED,
    ConnectorState.CHARGING: v201.ConnectorStatusEnum.OCCUPIED,
    ConnectorState.STOPPING: v201.ConnectorStatusEnum.OCCUPIED,
    ConnectorState.UNAVAILABLE: v201.ConnectorStatusEnum.UNAVAILABLE,
}
# Why a transaction ended -> (TransactionEvent triggerReason, stoppedReason).
_STOPS = {
    "Local": (v201.TriggerReasonEnum.STOP_AUTHORIZED, v201.ReasonEnum.LOCAL),
    "Remote": (v201.TriggerReasonEnum.REMOTE_STOP, v201.ReasonEnum.REMOTE),
    "SoftReset": (v201.TriggerReasonEnum.RESET_COMMAND, v201.ReasonEnum.IMMEDIATE_RESET),
    "HardReset": (v201.TriggerReasonEnum.RESET_COMMAND, v201.ReasonEnum.IMMEDIATE_RESET),
    # A firmware install's reboot (it waits for the transactions, so none should be left):
    # no trigger reason says reboot; the closest, an abnormal condition.
    "Reboot": (v201.TriggerReasonEnum.ABNORMAL_CONDITION, v201.ReasonEnum.REBOOT),
    "UnlockCommand": (v201.TriggerReasonEnum.UNLOCK_COMMAND, v201.ReasonEnum.OTHER),
    "DeAuthorized": (v201.TriggerReasonEnum.DEAUTHORIZED, v201.ReasonEnum.DE_AUTHORIZED),
}
# A station without a key pair makes no certificate signing requests (see
# `answer_trigger_message`).
_NOT_IMPLEMENTED_TRIGGERS = frozenset(
    {
        v201.MessageTriggerEnum.SIGN_CHARGING_STATION_CERTIFICATE,
        v201.MessageTriggerEnum.SIGN_V2_G_CERTIFICATE,
        v201.MessageTriggerEnum.SIGN_COMBINED_CERTIFICATE,
    }
)
_PHASES = (v201.PhaseEnum.L1, v201.PhaseEnum.L2, v201.PhaseEnum.L3)[:EV_PHASES]
_WH = v201.UnitOfMeasure(unit="Wh")
_W = v201.UnitOfMeasure(unit="W")
_A = v201.UnitOfMeasure(unit="A")

# The device model: (component, variable) -> [value, read-only].
_DEVICE_MODEL = {
    ("OCPPCommCtrlr", "HeartbeatInterval"): ("60", False),
    ("OCPPCommCtrlr", "MessageTimeout"): ("30", False),
    ("OCPPCommCtrlr", "RetryBackOffWaitMinimum"): ("3", False),
    ("OCPPCommCtrlr", "RetryBackOffRandomRange"): ("10", False),
    ("OCPPCommCtrlr", "RetryBackOffRepeatTimes"): ("5", False),
    ("OCPPCommCtrlr", "WebSocketPingInterval"): ("0", False),
    ("SampledDataCtrlr", "TxUpdatedInterval"): ("60", False),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"): (
        "Energy.Active.Import.Register,Power.Active.Import,Current.Import",
        False,
    ),
    # Local authorization (C10-C15, D01-D02): a cache, a list of up to _LOCAL_LIST_MAX
    # tokens (Entries: how many it holds now); offline, listed and cached tokens start
    # sessions, unknown ones wait for the CSMS.
    ("AuthCtrlr", "Enabled"): ("true", False),
    ("AuthCtrlr", "AuthorizeRemoteStart"): ("false", False),
    ("AuthCtrlr", "LocalAuthorizeOffline"): ("true", False),
    ("AuthCtrlr", "LocalPreAuthorize"): ("false", False),
    ("AuthCtrlr", "OfflineTxForUnknownIdEnabled"): ("false", False),
    ("AuthCacheCtrlr", "Available"): ("true", True),
    ("AuthCacheCtrlr", "Enabled"): ("true", False),
    ("AuthCacheCtrlr", "LifeTime"): ("86400", False),
    ("AuthCacheCtrlr", "Storage"): (str(64 * 1000), True),
    ("LocalAuthListCtrlr", "Available"): ("true", True),
    ("LocalAuthListCtrlr", "Enabled"): ("true", False),
    ("LocalAuthListCtrlr", "Entries"): ("0", True),
    ("LocalAuthListCtrlr", "ItemsPerMessage"): ("100", True),
    ("LocalAuthListCtrlr", "BytesPerMessage"): ("65536", True),
    ("TxCtrlr", "EVConnectionTimeOut"): ("60", False),
    ("TxCtrlr", "StopTxOnInvalidId"): ("true", False),
    ("TxCtrlr", "TxStartPoint"): ("Authorized", False),
    ("TxCtrlr", "TxStopPoint"): ("Authorized", False),
    (
        "DeviceDataCtrlr",
        "ItemsPerMessage",
    ): ("50", True),
    ("ChargingStation", "AvailabilityState"): ("Available", True),
    # Smart charging (K01): what the charging profile store allows. Entries is the
    # ChargingProfiles instance of the spec's variable.
    ("SmartChargingCtrlr", "Available"): ("true", True),
    ("SmartChargingCtrlr", "Enabled"): ("true", False),
    ("SmartChargingCtrlr", "Entries"): ("16", True),
    ("SmartChargingCtrlr", "PeriodsPerSchedule"): ("24", True),
    ("SmartChargingCtrlr", "ProfileStackLevel"): ("8", True),
    ("SmartChargingCtrlr", "RateUnit"): ("A,W", True),
    # Reservations (H01): on, and for any EVSE too (no evseId).
    ("ReservationCtrlr", "Available"): ("true", True),
    ("ReservationCtrlr", "Enabled"): ("true", False),
    ("ReservationCtrlr", "NonEvseSpecific"): ("true", True),
}
_INTEGER_VARIABLES = frozenset(
    {
        ("OCPPCommCtrlr", "HeartbeatInterval"),
        ("OCPPCommCtrlr", "MessageTimeout"),
        ("OCPPCommCtrlr", "RetryBackOffWaitMinimum"),
        ("OCPPCommCtrlr", "RetryBackOffRandomRange"),
        ("OCPPCommCtrlr", "RetryBackOffRepeatTimes"),
        ("OCPPCommCtrlr", "WebSocketPingInterval"),
        ("SampledDataCtrlr", "TxUpdatedInterval"),
        ("TxCtrlr", "EVConnectionTimeOut"),
        ("AuthCacheCtrlr", "LifeTime"),
    }
)
# What the authorizer reads (a change reconfigures it), and which of them are booleans.
_AUTHORIZATION_VARIABLES = frozenset(
    {
        ("AuthCtrlr", "LocalAuthorizeOffline"),
        ("AuthCtrlr", "LocalPreAuthorize"),
        ("AuthCtrlr", "OfflineTxForUnknownIdEnabled"),
        ("AuthCacheCtrlr", "Enabled"),
        ("AuthCacheCtrlr", "LifeTime"),
        ("LocalAuthListCtrlr", "Enabled"),
        ("TxCtrlr", "StopTxOnInvalidId"),
    }
)
_BOOLEAN_VARIABLES = frozenset(
    {
        ("AuthCtrlr", "Enabled"),
        ("AuthCtrlr", "AuthorizeRemoteStart"),
        ("AuthCtrlr", "LocalAuthorizeOffline"),
        ("AuthCtrlr", "LocalPreAuthorize"),
        ("AuthCtrlr", "OfflineTxForUnknownIdEnabled"),
        ("AuthCacheCtrlr", "Enabled"),
        ("LocalAuthListCtrlr", "Enabled"),
        ("TxCtrlr", "StopTxOnInvalidId"),
    }
)
# The local list's capacity: the maxLimit of LocalAuthListCtrlr.Entries.
_LOCAL_LIST_MAX = 1000
# What one cache entry takes of AuthCacheCtrlr.Storage (bytes): a 36-character idToken, its
# status, expiry and group, rounded up.
_CACHE_ENTRY_BYTES = 64
_LOCAL_LIST_ENTRIES = ("LocalAuthListCtrlr", "Entries")


_SMART_CHARGING_ENABLED = ("SmartChargingCtrlr", "Enabled")
_RESERVATION_ENABLED = ("ReservationCtrlr", "Enabled")
_UPDATE_STATUS = {s.value: s for s in v201.ReservationUpdateStatusEnum}
_RATE_UNITS = {"A": sc.Unit.A, "W": sc.Unit.W}


def _charging_state(connector: Connector) -> Any:
    """A charging session's chargingState: SuspendedEVSE once the station stopped its energy."""
    if connector.suspended:
        return v201.ChargingStateEnum.SUSPENDED_EVSE
    return v201.ChargingStateEnum.CHARGING


def _variable_defaults(settings: StationSettings) -> dict[tuple[str, str], tuple[str, bool]]:
    defaults = dict(DEVICE_MODEL_VARIABLES)
    defaults.update(_DEVICE_MODEL)
    for key, value in (
        (("OCPPCommCtrlr", "HeartbeatInterval"), f"{settings.heartbeat_interval:g}"),
        (("SampledDataCtrlr", "TxUpdatedInterval"), f"{settings.meter_interval:g}"),
        # The transaction queue's retries (E13; 1.6 TransactionMessageAttempts / ...Interval).
        (("OCPPCommCtrlr", "MessageAttempts"), str(settings.transaction_attempts)),
        (
            ("OCPPCommCtrlr", "MessageAttemptInterval"),
            f"{settings.transaction_retry_interval:g}",
        ),
    ):
        defaults[key] = (value, defaults[key][1])
    return defaults


class StationMachine201(Firmware201, DeviceModel201, StationMachine):
    """An OCPP 2.0.1 charging station with one connector on each of `settings.connectors`
    EVSEs."""

    version = OcppVersion.V201

    def __init__(
        self,
        station_id: str,
        settings: StationSettings,
        rng: random.Random,
        observer: Observer | None = None,
    ) -> None:
        super().__init__(station_id, settings, rng, observer)
        # (component, variable) -> (value, read-only): this station's changes over defaults
        # shared by the run.
        defaults = settings.shared.get("2.0.1 variables")
        if defaults is None:
            defaults = settings.shared["2.0.1 variables"] = _variable_defaults(settings)
        self.variables: collections.ChainMap[tuple[str, str], tuple[str, bool]] = (
            collections.ChainMap({}, defaults)
        )
        self.meter_interval = settings.meter_interval
        self._transaction_counter = 0
        # EVSE id -> the connector status last sent: one StatusNotification per change (G01).
        self.status_sent: dict[int, Any] = {}

    # -- messages ----------------------------------------------------------------------------

    def boot_request(self) -> Payload:
        reason = {
            "PowerUp": v201.BootReasonEnum.POWER_UP,
            "soft": v201.BootReasonEnum.REMOTE_RESET,
            "hard": v201.BootReasonEnum.REMOTE_RESET,
            "firmware": v201.BootReasonEnum.FIRMWARE_UPDATE,
        }.get(self.boot_reason, v201.BootReasonEnum.UNKNOWN)
        return v201.BootNotificationRequest(
            reason=reason,
            charging_station=v201.ChargingStation(
                model=self.settings.model,
                vendor_name=self.settings.vendor,
                serial_number=self.station_id[-25:],
                firmware_version=self.firmware_version,  # the last installed (`_firmware.py`)
            ),
        )

    def triggered_boot_request(self) -> Payload:
        request = self.boot_request()
        return msgspec.structs.replace(request, reason=v201.BootReasonEnum.TRIGGERED)  # type: ignore[type-var]

    def heartbeat_request(self) -> Payload:
        return _HEARTBEAT

    def _status(
        self, connector: Connector, now: float, *, preparing: bool = False, finishing: bool = False
    ) -> v201.StatusNotificationRequest:
        if preparing or finishing:
            status = v201.ConnectorStatusEnum.OCCUPIED
        elif self.is_reserved(connector):
            status = v201.ConnectorStatusEnum.RESERVED
        else:
            status = _CONNECTOR_STATUS[connector.state]
        return v201.StatusNotificationRequest(
            timestamp=self.wall(now), connector_status=status, evse_id=connector.id, connector_id=1
        )

    def send_status(
        self, connector: Connector, now: float, *, preparing: bool = False, finishing: bool = False
    ) -> None:
        """A StatusNotification when the connector's status changes (G01, and the
        StatusNotificationRequest's definition): a session's steps are all Occupied, so it
        is sent once at its start and Available (or what follows) once at its end. A boot
        reports every connector (`after_boot`); a TriggerMessage always sends."""
        request = self._status(connector, now, preparing=preparing, finishing=finishing)
        if self.status_sent.get(connector.id) == request.connector_status:
            return
        self.status_sent[connector.id] = request.connector_status
        self.send("StatusNotification", request, now, connector.id)

    def after_boot(self, now: float, first_boot: bool) -> None:
        # Every connector's status after a boot, whatever was sent before it (B01).
        self.status_sent.clear()
        super().after_boot(now, first_boot)

    def _triggered_meter_values(
        self, connector: Connector | None, now: float
    ) -> v201.MeterValuesRequest:
        """MeterValues of the register, context Trigger (F06: a reading outside transactions,
        idle EVSEs too). EVSE 0 is the station's main meter: the sum of its EVSEs'."""
        if connector is None:
            evse_id, energy = 0, sum(c.energy_wh for c in self.connectors)
        else:
            if connector.state is ConnectorState.CHARGING:
                self._advance_meter(connector, now)
            evse_id, energy = connector.id, connector.energy_wh
        reading = v201.SampledValue(
            value=round(energy, 1),
            context=v201.ReadingContextEnum.TRIGGER,
            measurand=v201.MeasurandEnum.ENERGY_ACTIVE_IMPORT_REGISTER,
            unit_of_measure=_WH,
        )
        return v201.MeterValuesRequest(
            evse_id=evse_id,
            meter_value=[v201.MeterValue(timestamp=self.wall(now), sampled_value=[reading])],
        )

    def _triggered_transaction_event(self, connector: Connector, now: float) -> None:
        """TransactionEvent Updated, triggerReason Trigger, for an ongoing transaction (F06):
        a transaction message, so it goes in order with its seqNo."""
        self._advance_meter(connector, now)
        connector.seq_no += 1
        request = v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnum.UPDATED,
            timestamp=self.wall(now),
            trigger_reason=v201.TriggerReasonEnum.TRIGGER,
            seq_no=connector.seq_no,
            transaction_info=v201.Transaction(
                transaction_id=connector.transaction_id,
                charging_state=_charging_state(connector),
            ),
            evse=v201.EVSE(id=connector.id, connector_id=1),
            meter_value=self._meter_value(connector, now, v201.ReadingContextEnum.TRIGGER),
        )
        self.send_transaction("TransactionEvent", request, now, connector.id)

    def _offline(self) -> bool | msgspec.UnsetType:
        """TransactionEvent's `offline`: the event happened while the station was offline."""
        return msgspec.UNSET if self.booted else True

    def _id_token(self, connector: Connector) -> v201.IdToken:
        return v201.IdToken(id_token=connector.id_tag, type=v201.IdTokenEnum.ISO14443)

    def send_authorize(self, connector: Connector, now: float) -> None:
        request = v201.AuthorizeRequest(id_token=self._id_token(connector))
        self.send("Authorize", request, now, connector.id)

    def _meter_value(self, connector: Connector, now: float, context: Any) -> list[v201.MeterValue]:
        power = connector.power_w * self.rng.uniform(0.97, 1.03)
        phases = connector.phases
        return [
            v201.MeterValue(
                timestamp=self.wall(now),
                sampled_value=[
                    v201.SampledValue(
                        value=round(connector.energy_wh, 1),
                        context=context,
                        measurand=v201.MeasurandEnum.ENERGY_ACTIVE_IMPORT_REGISTER,
                        unit_of_measure=_WH,
                    ),
                    v201.SampledValue(
                        value=round(power, 1),
                        context=context,
                        measurand=v201.MeasurandEnum.POWER_ACTIVE_IMPORT,
                        unit_of_measure=_W,
                    ),
                    # The current of each phase the EV draws on, 0 on the others (a limit
                    # in A is per phase, K01).
                    *(
                        v201.SampledValue(
                            value=round(power / (phases * 230.0), 1) if n < phases else 0.0,
                            context=context,
                            measurand=v201.MeasurandEnum.CURRENT_IMPORT,
                            phase=phase,
                            unit_of_measure=_A,
                        )
                        for n, phase in enumerate(_PHASES)
                    ),
                ],
            )
        ]

    def send_start(self, connector: Connector, now: float) -> None:
        self._transaction_counter += 1
        connector.transaction_id = f"{self.station_id[-24:]}-{self._transaction_counter}"
        connector.seq_no = 0
        if connector.local_id is not None:  # started offline: its own id is its local one
            connector.local_id = connector.transaction_id
        remote = connector.remote_start_id is not None
        info = v201.Transaction(
            transaction_id=connector.transaction_id,
            charging_state=v201.ChargingStateEnum.CHARGING,
            remote_start_id=connector.remote_start_id if remote else msgspec.UNSET,
        )
        request = v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnum.STARTED,
            timestamp=self.wall(now),
            offline=self._offline(),
            trigger_reason=(
                v201.TriggerReasonEnum.REMOTE_START if remote else v201.TriggerReasonEnum.AUTHORIZED
            ),
            seq_no=connector.seq_no,
            transaction_info=info,
            evse=v201.EVSE(id=connector.id, connector_id=1),
            id_token=self._id_token(connector),
            meter_value=self._meter_value(
                connector, now, v201.ReadingContextEnum.TRANSACTION_BEGIN
            ),
            reservation_id=(
                connector.reservation_id if connector.reservation_id is not None else msgspec.UNSET
            ),
        )
        self.send_transaction(
            "TransactionEvent", request, now, connector.id, session=connector.local_id
        )
        self.use_reservation(connector, now)

    def send_meter_values(self, connector: Connector, now: float) -> None:
        self._send_updated(
            connector,
            now,
            v201.TriggerReasonEnum.METER_VALUE_PERIODIC,
            v201.ReadingContextEnum.SAMPLE_PERIODIC,
            periodic=True,
        )

    def _send_updated(
        self, connector: Connector, now: float, trigger: Any, context: Any, *, periodic: bool
    ) -> None:
        """TransactionEvent Updated with a reading of the running session (E02)."""
        connector.seq_no += 1
        request = v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnum.UPDATED,
            timestamp=self.wall(now),
            offline=self._offline(),
            trigger_reason=trigger,
            seq_no=connector.seq_no,
            transaction_info=v201.Transaction(
                transaction_id=connector.transaction_id,
                charging_state=_charging_state(connector),
            ),
            meter_value=self._meter_value(connector, now, context),
        )
        self.send_transaction("TransactionEvent", request, now, connector.id, periodic=periodic)

    def send_stop(self, connector: Connector, now: float, reason: str) -> None:
        trigger, stopped = _STOPS.get(reason, _STOPS["Local"])
        connector.seq_no += 1
        request = v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnum.ENDED,
            timestamp=self.wall(now),
            offline=self._offline(),
            trigger_reason=trigger,
            seq_no=connector.seq_no,
            transaction_info=v201.Transaction(
                transaction_id=connector.transaction_id,
                charging_state=v201.ChargingStateEnum.EV_CONNECTED,
                stopped_reason=stopped,
            ),
            meter_value=self._meter_value(connector, now, v201.ReadingContextEnum.TRANSACTION_END),
        )
        self.send_transaction("TransactionEvent", request, now, connector.id)

    def charging_rate_changed(self, connector: Connector, now: float) -> None:
        """A charging limit changed the session's power (a profile set, cleared, or its next
        period): TransactionEvent Updated, triggerReason ChargingRateChanged, with the
        reading at the new rate (K01/K02 expect the station to say so; the next periodic
        sample follows at its own time)."""
        self._send_updated(
            connector,
            now,
            v201.TriggerReasonEnum.CHARGING_RATE_CHANGED,
            v201.ReadingContextEnum.OTHER,
            periodic=False,
        )

    def energy_stopped(self, connector: Connector, now: float) -> None:
        """E05 / C15: the energy stops for an invalid idToken (StopTxOnInvalidId false):
        TransactionEvent Updated, ChargingStateChanged to SuspendedEVSE."""
        connector.seq_no += 1
        request = v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnum.UPDATED,
            timestamp=self.wall(now),
            offline=self._offline(),
            trigger_reason=v201.TriggerReasonEnum.CHARGING_STATE_CHANGED,
            seq_no=connector.seq_no,
            transaction_info=v201.Transaction(
                transaction_id=connector.transaction_id,
                charging_state=v201.ChargingStateEnum.SUSPENDED_EVSE,
            ),
        )
        self.send_transaction("TransactionEvent", request, now, connector.id)

    def answered(self, item: Outgoing, response: Any, error: str | None, now: float) -> None:
        connector = self.connector(item.connector)
        if connector is None:
            return
        payload: Any = item.payload
        if error is None:
            # Every idTokenInfo the CSMS gives on a token goes into the cache (C10).
            info = getattr(response, "id_token_info", msgspec.UNSET)
            token = getattr(payload, "id_token", msgspec.UNSET)
            if info is not msgspec.UNSET and token is not msgspec.UNSET:
                entry = entry_from_v201(info, self.settings.wall_offset)
                self.auth_answered(token.id_token, entry, now)
        if item.action == "Authorize":
            accepted = error is None and response.id_token_info.status == _ACCEPTED
            self.authorize_answered(connector, accepted, now)
            return
        if item.action != "TransactionEvent":
            return
        event_type = item.payload.event_type  # type: ignore[attr-defined]
        if event_type == v201.TransactionEventEnum.STARTED:
            info = getattr(response, "id_token_info", msgspec.UNSET) if error is None else None
            status = None if info is None or info is msgspec.UNSET else str(info.status)
            if item.session is not None:
                # Started offline: already charging; a refused idToken stops it or its energy
                # (C15) if it still runs.
                if connector.transaction_id == item.session:
                    connector.local_id = None
                    self.token_answered(connector, status, now)
                return
            if connector.state is not ConnectorState.STARTING:
                return
            connector.remote_start_id = None
            self.start_answered(connector, error is None, now)
            self.token_answered(connector, status, now)
        elif event_type == v201.TransactionEventEnum.ENDED:
            self.stop_answered(connector, now, acknowledged=error is None)

    # -- answers to the CSMS ---------------------------------------------------------------

    def answer_request_start_transaction(
        self, request: v201.RequestStartTransactionRequest, now: float
    ) -> Payload:
        token = request.id_token.id_token
        if request.evse_id is msgspec.UNSET:
            connector = self.idle_connector(token)
        else:
            connector = self.connector(request.evse_id)
        if (
            connector is None
            or connector.state is not ConnectorState.AVAILABLE
            or self.stopping
            or self.reset_scheduled is not None  # a Reset OnIdle waits for idle (B12)
            or not self.booted
            or not self.may_start(connector, token)  # reserved for another idToken
        ):
            return v201.RequestStartTransactionResponse(
                status=v201.RequestStartStopStatusEnum.REJECTED
            )
        if request.charging_profile is not msgspec.UNSET:
            # F01: the transaction's TxProfile, without a transactionId (F01.FR.11).
            given = request.charging_profile
            if (
                given.charging_profile_purpose is not v201.ChargingProfilePurposeEnum.TX_PROFILE
                or given.transaction_id is not msgspec.UNSET
            ):
                return v201.RequestStartTransactionResponse(
                    status=v201.RequestStartStopStatusEnum.REJECTED
                )
            self.hold_start_profile(connector, sc.profile_from_v201(connector.id, given))
        connector.remote_start_id = request.remote_start_id
        self.remote_start(connector, request.id_token.id_token, now)
        return v201.RequestStartTransactionResponse(
            status=v201.RequestStartStopStatusEnum.ACCEPTED,
            # None while its token is being authorized first (AuthorizeRemoteStart).
            transaction_id=(
                connector.transaction_id if connector.transaction_id is not None else msgspec.UNSET
            ),
        )

    def answer_request_stop_transaction(
        self, request: v201.RequestStopTransactionRequest, now: float
    ) -> Payload:
        for connector in self.connectors:
            if (
                connector.state is ConnectorState.CHARGING
                and connector.transaction_id == request.transaction_id
            ):
                self.stop_session(connector, now, "Remote")
                return v201.RequestStopTransactionResponse(
                    status=v201.RequestStartStopStatusEnum.ACCEPTED
                )
        return v201.RequestStopTransactionResponse(status=v201.RequestStartStopStatusEnum.REJECTED)

    def answer_reset(self, request: v201.ResetRequest, now: float) -> Payload:
        """B11 (Immediate): the transactions stop (ImmediateReset) and the station reboots;
        B12 (OnIdle): at once when no transaction runs, else Scheduled: no new one starts and
        the reboot comes when the last ends. Rejected for one EVSE (not modelled: B11/B12
        let a station that cannot reset an EVSE refuse)."""
        if request.evse_id is not msgspec.UNSET:  # resetting one EVSE is not modelled
            return v201.ResetResponse(status=v201.ResetStatusEnum.REJECTED)
        if request.type == v201.ResetEnum.ON_IDLE and self.reset_when_idle(now, "soft"):
            return v201.ResetResponse(status=v201.ResetStatusEnum.SCHEDULED)
        if not self.reboot_requested:
            self.request_reboot(now, "soft")
        return v201.ResetResponse(status=v201.ResetStatusEnum.ACCEPTED)

    def answer_change_availability(
        self, request: v201.ChangeAvailabilityRequest, now: float
    ) -> Payload:
        """G03 (an EVSE) / G04 (no EVSE, or EVSE 0: the station): Accepted when done now,
        Scheduled when a transaction runs on an EVSE it makes Inoperative (G03.FR.05,
        G04.FR.06): done when it ends (`change_availability`), the station's idle EVSEs
        Unavailable at once (G04.FR.07: its operative EVSEs become Unavailable)."""
        available = request.operational_status == v201.OperationalStatusEnum.OPERATIVE
        station = request.evse is msgspec.UNSET or request.evse.id == 0
        if station:
            targets = self.connectors
        else:
            single = self.connector(request.evse.id)
            if single is None:
                return v201.ChangeAvailabilityResponse(
                    status=v201.ChangeAvailabilityStatusEnum.REJECTED
                )
            targets = [single]
        done = self.change_availability(targets, available, now, station=station)
        return v201.ChangeAvailabilityResponse(
            status=v201.ChangeAvailabilityStatusEnum.ACCEPTED
            if done
            else v201.ChangeAvailabilityStatusEnum.SCHEDULED
        )

    def answer_trigger_message(self, request: v201.TriggerMessageRequest, now: float) -> Payload:
        """TriggerMessage (2.0.1 F06): Accepted only when the message then follows.

        - BootNotification: before a boot is Accepted, at once, replacing the scheduled one
          (B02, B03); after, Rejected (F06.FR.17).
        - While Pending the others go out too (B02.FR.09's exception for triggered messages);
          while Rejected they are Rejected: the station sends nothing until it boots again.
        - evse targets StatusNotification, MeterValues and TransactionEvent: an unknown EVSE,
          or a connector other than each EVSE's one (1), is Rejected; no evse means all.
          MeterValues of EVSE 0 is the station's main meter; StatusNotification has no
          connector there.
        - MeterValues: a reading of the register (context Trigger), idle EVSEs too.
        - TransactionEvent: one per ongoing transaction, in its order; none ongoing, or the
          station not Accepted (its transaction messages wait for that), Rejected.
        - StatusNotification: each EVSE's connector status now (Reserved included).
        - Log/FirmwareStatusNotification: the status of the upload or update under way (its
          requestId), Idle when none runs (L01, N01: Idle only in answer to a trigger).
        - PublishFirmwareStatusNotification: Idle: this station is no Local Controller and
          never publishes firmware (PublishFirmware is refused).
        - Sign*Certificate: NotImplemented: this station makes no key pair and so never sends
          a SignCertificate; F06.FR.08 keeps NotImplemented for a message the station does
          not implement (Rejected would say it could, another time).
        """
        wanted = request.requested_message
        status = v201.TriggerMessageStatusEnum
        trigger = v201.MessageTriggerEnum
        if wanted in _NOT_IMPLEMENTED_TRIGGERS:
            return v201.TriggerMessageResponse(status=status.NOT_IMPLEMENTED)
        if wanted == trigger.BOOT_NOTIFICATION:
            if self.booted:  # F06.FR.17
                return v201.TriggerMessageResponse(status=status.REJECTED)
            self.trigger_boot(now)
            return v201.TriggerMessageResponse(status=status.ACCEPTED)
        if not self.may_send_requested:
            return v201.TriggerMessageResponse(status=status.REJECTED)
        targets: list[Connector | None]  # None: EVSE 0, the station itself
        evse = request.evse
        if evse is msgspec.UNSET:
            targets = list(self.connectors)
        elif evse.connector_id not in (msgspec.UNSET, 1):
            targets = []
        elif evse.id == 0:
            targets = [None] if evse.connector_id is msgspec.UNSET else []
        else:
            single = self.connector(evse.id)
            targets = [single] if single is not None else []
        if wanted == trigger.HEARTBEAT:
            self.send_requested("Heartbeat", _HEARTBEAT, now)
        elif wanted == trigger.STATUS_NOTIFICATION:
            connectors = [c for c in targets if c is not None]
            if not connectors:
                return v201.TriggerMessageResponse(status=status.REJECTED)
            for connector in connectors:
                payload = self._status(connector, now)
                self.send_requested("StatusNotification", payload, now, connector.id)
        elif wanted == trigger.METER_VALUES:
            if not targets:
                return v201.TriggerMessageResponse(status=status.REJECTED)
            for target in targets:
                payload = self._triggered_meter_values(target, now)
                self.send_requested("MeterValues", payload, now, target.id if target else 0)
        elif wanted == trigger.TRANSACTION_EVENT:
            charging = [c for c in targets if c is not None and c.state is ConnectorState.CHARGING]
            if not charging or not self.booted:
                return v201.TriggerMessageResponse(status=status.REJECTED)
            for connector in charging:
                self._triggered_transaction_event(connector, now)
        elif wanted == trigger.LOG_STATUS_NOTIFICATION:
            self.send_requested("LogStatusNotification", self.triggered_log_status(now), now)
        elif wanted == trigger.FIRMWARE_STATUS_NOTIFICATION:
            payload = self.triggered_firmware_status(now)
            self.send_requested("FirmwareStatusNotification", payload, now)
        elif wanted == trigger.PUBLISH_FIRMWARE_STATUS_NOTIFICATION:
            payload = v201.PublishFirmwareStatusNotificationRequest(
                status=v201.PublishFirmwareStatusEnum.IDLE
            )
            self.send_requested("PublishFirmwareStatusNotification", payload, now)
        else:  # a value the schema knows and this station does not
            return v201.TriggerMessageResponse(status=status.NOT_IMPLEMENTED)
        return v201.TriggerMessageResponse(status=status.ACCEPTED)

    def answer_unlock_connector(self, request: v201.UnlockConnectorRequest, now: float) -> Payload:
        connector = self.connector(request.evse_id)
        if connector is None or request.connector_id != 1:
            return v201.UnlockConnectorResponse(status=v201.UnlockStatusEnum.UNKNOWN_CONNECTOR)
        if connector.in_session:
            return v201.UnlockConnectorResponse(
                status=v201.UnlockStatusEnum.ONGOING_AUTHORIZED_TRANSACTION
            )
        return v201.UnlockConnectorResponse(status=v201.UnlockStatusEnum.UNLOCKED)

    def answer_get_variables(self, request: v201.GetVariablesRequest, now: float) -> Payload:
        """B06: each item's value, the live ones as they are now (`live_value`: the clock,
        availability); names matched case-insensitively, the component's EVSE and instance
        and the variable's instance honoured (`find_variable`). UnknownComponent /
        UnknownVariable; NotSupportedAttributeType for an attributeType other than Actual
        (the only one this station keeps)."""
        rows = self.report_rows(now)
        results = []
        for item in request.get_variable_data:
            found = self.find_variable(item.component, item.variable, rows)
            value: Any = msgspec.UNSET
            if isinstance(found, str):
                status = v201.GetVariableStatusEnum(found)
            elif item.attribute_type not in (msgspec.UNSET, v201.AttributeEnum.ACTUAL):
                status = v201.GetVariableStatusEnum.NOT_SUPPORTED_ATTRIBUTE_TYPE
            else:
                status = v201.GetVariableStatusEnum.ACCEPTED
                value = found.value
            results.append(
                v201.GetVariableResult(
                    attribute_status=status,
                    attribute_type=item.attribute_type,
                    component=item.component,
                    variable=item.variable,
                    attribute_value=value,
                )
            )
        return v201.GetVariablesResponse(get_variable_result=results)

    def answer_set_variables(self, request: v201.SetVariablesRequest, now: float) -> Payload:
        """B05: each item set (`_set_variable`), the variable found as GetVariables finds it;
        NotSupportedAttributeType for an attributeType other than Actual; Rejected for a
        variable of a live component (EVSE, Connector, the clock: all ReadOnly)."""
        rows = self.report_rows(now)
        results = []
        for item in request.set_variable_data:
            found = self.find_variable(item.component, item.variable, rows)
            if isinstance(found, str):
                status: Any = v201.SetVariableStatusEnum(found)
            elif item.attribute_type not in (msgspec.UNSET, v201.AttributeEnum.ACTUAL):
                status = v201.SetVariableStatusEnum.NOT_SUPPORTED_ATTRIBUTE_TYPE
            else:
                key = (found.component.name, found.variable.name)
                if key in self.variables and found.component.evse is msgspec.UNSET:
                    status = self._set_variable(key, item.attribute_value, now)
                else:
                    status = v201.SetVariableStatusEnum.REJECTED
            results.append(
                v201.SetVariableResult(
                    attribute_status=status,
                    attribute_type=item.attribute_type,
                    component=item.component,
                    variable=item.variable,
                )
            )
        return v201.SetVariablesResponse(set_variable_result=results)

    def _set_variable(self, key: tuple[str, str], value: str, now: float) -> Any:
        entry = self.variables.get(key)
        if entry is None:
            known_component = any(c == key[0] for c, _ in self.variables)
            return (
                v201.SetVariableStatusEnum.UNKNOWN_VARIABLE
                if known_component
                else v201.SetVariableStatusEnum.UNKNOWN_COMPONENT
            )
        if entry[1] or not self.check_variable(key, value):
            # ReadOnly, or a value its characteristics do not allow (type, limits,
            # valuesList; NetworkConfigurationPriority: slots holding a profile, B10).
            return v201.SetVariableStatusEnum.REJECTED
        if key == _SMART_CHARGING_ENABLED:
            if value not in ("true", "false"):
                return v201.SetVariableStatusEnum.REJECTED
            if self.smart_charging is not None:
                self.smart_charging.enabled = value == "true"
        if key == _RESERVATION_ENABLED and value not in ("true", "false"):
            return v201.SetVariableStatusEnum.REJECTED
        if key in _BOOLEAN_VARIABLES and value.strip().lower() not in ("true", "false"):
            return v201.SetVariableStatusEnum.REJECTED
        if key in _INTEGER_VARIABLES:
            try:
                number = int(value)
            except ValueError:
                return v201.SetVariableStatusEnum.REJECTED
            if number < 0:
                return v201.SetVariableStatusEnum.REJECTED
            if key == ("OCPPCommCtrlr", "HeartbeatInterval") and number > 0:
                self.heartbeat_interval = float(number)
                if self.booted and not self.stopping:
                    self.heartbeat_at = now + self.heartbeat_interval
            elif key == ("SampledDataCtrlr", "TxUpdatedInterval") and number > 0:
                self.meter_interval = float(number)
        # The transaction queue's retries (E13); check_variable has made them integers >= 0.
        if key == ("OCPPCommCtrlr", "MessageAttempts"):
            self.transaction_attempts = int(value)
        elif key == ("OCPPCommCtrlr", "MessageAttemptInterval"):
            self.transaction_retry_interval = float(value)
        self.variables[key] = (value, False)
        if key in _AUTHORIZATION_VARIABLES:  # takes effect now (and needs the authorizer)
            self.configure_authorizer(self.authorization())
        return v201.SetVariableStatusEnum.ACCEPTED

    def answer_get_base_report(self, request: v201.GetBaseReportRequest, now: float) -> Payload:
        """B07: Accepted, then NotifyReports of the reportBase's variables with their
        characteristics (`base_report_rows`: FullInventory, ConfigurationInventory,
        SummaryInventory), after the answer; what GetBaseReport asked for, so they may go
        while Pending (B02.FR.09)."""
        rows = self.base_report_rows(str(request.report_base), now)
        self.send_report(request.request_id, rows, now)
        return v201.GetBaseReportResponse(status=v201.GenericDeviceModelStatusEnum.ACCEPTED)

    def answer_data_transfer(self, request: Any, now: float) -> Payload:
        return v201.DataTransferResponse(status=v201.DataTransferStatusEnum.UNKNOWN_VENDOR_ID)

    # -- local authorization (functional blocks C and D) -----------------------------------

    def _auth_flag(self, component: str, variable: str, default: bool) -> bool:
        entry = self.variables.get((component, variable))
        return default if entry is None else entry[0].strip().lower() == "true"

    def _auth_number(self, component: str, variable: str) -> int | None:
        entry = self.variables.get((component, variable))
        try:
            return None if entry is None else int(entry[0])
        except ValueError:
            return None

    def configure_authorizer(self, authorizer: Authorizer) -> Authorizer:
        """The device model as it is now: LocalAuthListCtrlr Available / Enabled /
        ItemsPerMessage (and _LOCAL_LIST_MAX entries), AuthCacheCtrlr Available / Enabled /
        LifeTime / Storage (in _CACHE_ENTRY_BYTES per entry), AuthCtrlr and TxCtrlr switches.
        (BytesPerMessage is not checked: ItemsPerMessage bounds a message first.)"""
        local_list = authorizer.local_list
        local_list.v16 = False
        local_list.supported = self._auth_flag("LocalAuthListCtrlr", "Available", False)
        local_list.enabled = self._auth_flag("LocalAuthListCtrlr", "Enabled", True)
        local_list.max_entries = _LOCAL_LIST_MAX
        local_list.max_per_message = self._auth_number("LocalAuthListCtrlr", "ItemsPerMessage")
        cache = authorizer.cache
        cache.supported = self._auth_flag("AuthCacheCtrlr", "Available", False)
        cache.enabled = self._auth_flag("AuthCacheCtrlr", "Enabled", True)
        lifetime = self._auth_number("AuthCacheCtrlr", "LifeTime")
        cache.lifetime = float(lifetime) if lifetime else None
        storage = self._auth_number("AuthCacheCtrlr", "Storage")
        cache.max_entries = None if storage is None else storage // _CACHE_ENTRY_BYTES
        authorizer.settings = self.auth_settings()
        return authorizer

    def auth_cache_wanted(self) -> bool:
        return self._auth_flag("AuthCacheCtrlr", "Available", False) and self._auth_flag(
            "AuthCacheCtrlr", "Enabled", True
        )

    def auth_settings(self) -> AuthSettings:
        return settings_from_v201(self.variables)

    def authorization_enabled(self) -> bool:
        return self._auth_flag("AuthCtrlr", "Enabled", True)

    def authorize_remote_start(self) -> bool:
        return self._auth_flag("AuthCtrlr", "AuthorizeRemoteStart", False)

    def answer_send_local_list(self, request: v201.SendLocalListRequest, now: float) -> Payload:
        """D01: Full replaces the list, Differential updates it (a versionNumber above the
        current one, else VersionMismatch); too many entries, an entry of a Full list
        without its idTokenInfo, or no list (LocalAuthListCtrlr.Available false): Failed,
        and nothing changes. Entries then says how many it holds."""
        authorizer = self.authorization()
        version, full, items = update_from_v201(request, self.settings.wall_offset)
        status = v201_update_status(authorizer.local_list.update(version, full, items))
        if status == "Accepted":
            count = str(len(authorizer.local_list.entries))
            self.variables[_LOCAL_LIST_ENTRIES] = (count, True)
        return v201.SendLocalListResponse(status=v201.SendLocalListStatusEnum(status))

    def answer_get_local_list_version(
        self, request: v201.GetLocalListVersionRequest, now: float
    ) -> Payload:
        """D02: the list's version (0: none, or no list support)."""
        authorizer = self.authorizer
        version = 0 if authorizer is None else authorizer.local_list.get_version()
        return v201.GetLocalListVersionResponse(version_number=version)

    def answer_clear_cache(self, request: v201.ClearCacheRequest, now: float) -> Payload:
        """C11: Accepted and emptied when the cache is there and enabled, else Rejected."""
        if self.authorizer is None:
            accepted = self.auth_cache_wanted()  # nothing cached yet: nothing to clear
        else:
            accepted = self.authorizer.cache.clear() == "Accepted"
        status = v201.ClearCacheStatusEnum
        return v201.ClearCacheResponse(status=status.ACCEPTED if accepted else status.REJECTED)

    def answer_get_transaction_status(
        self, request: v201.GetTransactionStatusRequest, now: float
    ) -> Payload:
        if request.transaction_id is msgspec.UNSET:
            queued = bool(self.transaction_queue)
            return v201.GetTransactionStatusResponse(messages_in_queue=queued)
        queued = any(
            item.payload.transaction_info.transaction_id == request.transaction_id  # type: ignore[attr-defined]
            for item in self.transaction_queue
        )
        ongoing = any(
            c.in_session and c.transaction_id == request.transaction_id for c in self.connectors
        )
        return v201.GetTransactionStatusResponse(
            messages_in_queue=queued, ongoing_indicator=ongoing
        )

    # -- smart charging (functional block K) ---------------------------------------------------

    def _setting(self, variable: str, default: int) -> int:
        entry = self.variables.get(("SmartChargingCtrlr", variable))
        try:
            return int(entry[0]) if entry is not None else default
        except ValueError:
            return default

    def new_charging_profiles(self) -> sc.ChargingProfiles:
        entry = self.variables.get(("SmartChargingCtrlr", "RateUnit"))
        names = entry[0] if entry is not None else "A,W"
        units = [_RATE_UNITS[n.strip()] for n in names.split(",") if n.strip() in _RATE_UNITS]
        units = units or [sc.Unit.A, sc.Unit.W]
        enabled = self.variables.get(_SMART_CHARGING_ENABLED, ("true", False))[0] == "true"
        return sc.ChargingProfiles(
            version="2.0.1",
            evse_count=len(self.connectors),
            allowed_units=units,
            max_stack_level=self._setting("ProfileStackLevel", 8),
            max_profiles=self._setting("Entries", 16),
            periods_max=self._setting("PeriodsPerSchedule", 24),
            enabled=enabled,
            default_unit=units[0],
        )

    def answer_set_charging_profile(
        self, request: v201.SetChargingProfileRequest, now: float
    ) -> Payload:
        response = sc.set_profile_v201(self.charging_profiles(), request, self.wall(now))
        if response.status == v201.ChargingProfileStatusEnum.ACCEPTED:
            self.apply_limits(now)
        return response

    def answer_clear_charging_profile(
        self, request: v201.ClearChargingProfileRequest, now: float
    ) -> Payload:
        response = sc.clear_v201(self.charging_profiles(), request)
        if response.status == v201.ClearChargingProfileStatusEnum.ACCEPTED:
            self.apply_limits(now)
        return response

    def answer_get_charging_profiles(
        self, request: v201.GetChargingProfilesRequest, now: float
    ) -> Payload:
        """K09: the answer, then the ReportChargingProfiles it announces (what the CSMS asked
        for, so they may go while Pending, as GetBaseReport's NotifyReport)."""
        response, reports = sc.get_profiles_v201(self.charging_profiles(), request)
        for report in reports:
            self.send_requested("ReportChargingProfiles", report, now)
        return response

    def answer_get_composite_schedule(
        self, request: v201.GetCompositeScheduleRequest, now: float
    ) -> Payload:
        evses = len(self.connectors) if request.evse_id == 0 else 1
        return sc.composite_v201(
            self.charging_profiles(),
            request,
            self.wall(now),
            max_watts=EVSE_MAX_WATTS * evses,
            phases=EV_PHASES,
        )

    # -- reservations (functional block H) ------------------------------------------------------

    def _configure_book(self, book: ReservationBook) -> ReservationBook:
        """ReservationCtrlr as it is now: Available and Enabled turn reservations on,
        NonEvseSpecific allows a ReserveNow without evseId."""
        variables = self.variables

        def flag(name: str) -> bool:
            return variables.get(("ReservationCtrlr", name), ("false", True))[0] == "true"

        book.enabled = flag("Available") and flag("Enabled")
        book.any_connector = flag("NonEvseSpecific")
        return book

    def new_reservation_book(self) -> ReservationBook:
        return self._configure_book(ReservationBook(status_updates=True))

    def send_reservation_update(self, reservation_id: int, status: str, now: float) -> None:
        """H04: Expired at the expiry, Removed when its EVSE became Unavailable."""
        request = v201.ReservationStatusUpdateRequest(
            reservation_id=reservation_id, reservation_update_status=_UPDATE_STATUS[status]
        )
        self.send("ReservationStatusUpdate", request, now)

    def answer_reserve_now(self, request: v201.ReserveNowRequest, now: float) -> Payload:
        book = self._configure_book(self.reservation_book())
        reserve = request_from_v201(request, self.settings.wall_offset)
        outcome = book.reserve(reserve, self.reservation_conditions(), now)
        self.reservation_effects(outcome.effects, now)
        return v201.ReserveNowResponse(status=v201.ReserveNowStatusEnum(outcome.status))

    def answer_cancel_reservation(
        self, request: v201.CancelReservationRequest, now: float
    ) -> Payload:
        outcome = self.reservation_book().cancel(
            request.reservation_id, self.reservation_conditions()
        )
        self.reservation_effects(outcome.effects, now)
        return v201.CancelReservationResponse(
            status=v201.CancelReservationStatusEnum(outcome.status)
        )

    # What a station without displays, monitoring, local lists, firmware or certificate
    # management answers: valid refusals.


StationMachine201.answer_methods = answer_methods(
    StationMachine201,
    [name for name, spec in v201.ACTIONS.items() if spec.sent_by_csms],
)
StationMachine201.reactions = {
    "CancelReservation": frozenset({"StatusNotification"}),
    "ChangeAvailability": frozenset({"StatusNotification"}),
    "ClearChargingProfile": frozenset(),  # tagged on the next sampled TransactionEvent
    "RequestStartTransaction": frozenset({"TransactionEvent"}),
    "RequestStopTransaction": frozenset({"TransactionEvent"}),
    "ReserveNow": frozenset({"StatusNotification"}),
    "Reset": frozenset({"BootNotification"}),
    "SetChargingProfile": frozenset(),  # tagged on the next sampled TransactionEvent
    "TriggerMessage": frozenset({REACTION_ANY}),
}
if len(StationMachine201.answer_methods) != 40:  # every CSMS action has an answer
    raise ImportError("StationMachine201 must answer all 40 CSMS actions of OCPP 2.0.1")
