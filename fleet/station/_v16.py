"""An OCPP 1.6J station: sessions through Authorize, StartTransaction, MeterValues and
StopTransaction, and answers to what a CSMS sends, on a per-station configuration store."""

from __future__ import annotations

import collections
import random
from typing import Any

import msgspec

from fleet.ocpp import OcppVersion, Payload, v16
from fleet.station import _smart_charging as sc
from fleet.station._authorization import (
    Authorizer,
    AuthSettings,
    entry_from_v16,
    settings_from_v16,
    update_from_v16,
)
from fleet.station._device_model import CERTIFICATE_STORE_LIMIT, DeviceModel16
from fleet.station._firmware import Firmware16
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
from fleet.station._reservations import ReservationBook, request_from_v16

__all__ = ["StationMachine16"]

_HEARTBEAT = v16.HeartbeatRequest()
_STATUS_OF = {
    ConnectorState.AVAILABLE: v16.ChargePointStatus.AVAILABLE,
    ConnectorState.AUTHORIZING: v16.ChargePointStatus.PREPARING,
    ConnectorState.STARTING: v16.ChargePointStatus.PREPARING,
    ConnectorState.CHARGING: v16.ChargePointStatus.CHARGING,
    ConnectorState.STOPPING: v16.ChargePointStatus.FINISHING,
    ConnectorState.UNAVAILABLE: v16.ChargePointStatus.UNAVAILABLE,
}
_REASONS = {reason.value: reason for reason in v16.Reason}
_ACCEPTED = v16.AuthorizationStatus.ACCEPTED
_PHASES = (v16.Phase.L1, v16.Phase.L2, v16.Phase.L3)[:EV_PHASES]

# Keys of the 1.6 configuration store: (value, read-only).
_CONFIGURATION = {
    # Local authorization (1.6 3.5, 9.1, 9.2): a cache, a list of up to
    # LocalAuthListMaxLength ids, SendLocalListMaxLength per message; offline, listed and
    # cached ids start sessions, unknown ones wait for the CSMS.
    "AllowOfflineTxForUnknownId": ("false", False),
    "AuthorizationCacheEnabled": ("true", False),
    "AuthorizeRemoteTxRequests": ("false", False),
    "LocalAuthListEnabled": ("true", False),
    "LocalAuthListMaxLength": ("1000", True),
    "SendLocalListMaxLength": ("100", True),
    # Smart Charging profile (1.6 section 9.4): what the charging profile store allows.
    "ChargeProfileMaxStackLevel": ("8", True),
    "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True),
    "ChargingScheduleMaxPeriods": ("24", True),
    "MaxChargingProfilesInstalled": ("16", True),
    "ClockAlignedDataInterval": ("0", False),
    "ConnectionTimeOut": ("60", False),
    "GetConfigurationMaxKeys": ("50", True),
    "HeartbeatInterval": ("60", False),
    "LocalAuthorizeOffline": ("true", False),
    "LocalPreAuthorize": ("false", False),
    "MeterValuesAlignedData": ("Energy.Active.Import.Register", False),
    "MeterValuesSampledData": (
        "Energy.Active.Import.Register,Power.Active.Import,Current.Import",
        False,
    ),
    "MeterValueSampleInterval": ("60", False),
    "NumberOfConnectors": ("1", True),
    # Reservation profile (1.6 section 9.5): reservations of connector 0 (any connector).
    "ReserveConnectorZeroSupported": ("true", True),
    "ResetRetries": ("1", False),
    "StopTransactionOnEVSideDisconnect": ("true", False),
    "StopTransactionOnInvalidId": ("true", False),
    "StopTxnAlignedData": ("Energy.Active.Import.Register", False),
    "StopTxnSampledData": ("Energy.Active.Import.Register", False),
    "SupportedFeatureProfiles": (
        "Core,LocalAuthListManagement,RemoteTrigger,Reservation,SmartCharging",
        True,
    ),
    "TransactionMessageAttempts": ("3", False),
    "TransactionMessageRetryInterval": ("60", False),
    "UnlockConnectorOnEVSideDisconnect": ("true", False),
    "WebSocketPingInterval": ("0", False),
    # Security Whitepaper (edition 2, section 3.1): the certificate store's size, no
    # additional root certificate check, and the security profile the station runs (1:
    # Basic auth; it cannot move to TLS profiles by itself, so it is read-only here, as a
    # charger that supports only profile 1 would Reject raising it).
    "AdditionalRootCertificateCheck": ("false", True),
    "CertificateStoreMaxLength": (str(CERTIFICATE_STORE_LIMIT), True),
    "SecurityProfile": ("1", True),
}
_INTEGER_KEYS = frozenset(
    {
        "ClockAlignedDataInterval",
        "ConnectionTimeOut",
        "HeartbeatInterval",
        "MeterValueSampleInterval",
        "ResetRetries",
        "TransactionMessageAttempts",
        "TransactionMessageRetryInterval",
        "WebSocketPingInterval",
    }
)

# Keys the authorizer reads (their change reconfigures it), and which of them are booleans.
_AUTHORIZATION_KEYS = frozenset(
    {
        "AllowOfflineTxForUnknownId",
        "AuthorizationCacheEnabled",
        "LocalAuthListEnabled",
        "LocalAuthListMaxLength",
        "LocalAuthorizeOffline",
        "LocalPreAuthorize",
        "SendLocalListMaxLength",
        "StopTransactionOnInvalidId",
    }
)
_BOOLEAN_KEYS = (_AUTHORIZATION_KEYS | {"AuthorizeRemoteTxRequests"}) - {
    "LocalAuthListMaxLength",
    "SendLocalListMaxLength",
}


def _configuration_defaults(settings: StationSettings) -> dict[str, tuple[str, bool]]:
    defaults = dict(_CONFIGURATION)
    for key, value in (
        ("NumberOfConnectors", str(settings.connectors)),
        ("HeartbeatInterval", f"{settings.heartbeat_interval:g}"),
        ("MeterValueSampleInterval", f"{settings.meter_interval:g}"),
        ("TransactionMessageAttempts", str(settings.transaction_attempts)),
        ("TransactionMessageRetryInterval", f"{settings.transaction_retry_interval:g}"),
    ):
        defaults[key] = (value, defaults[key][1])
    return defaults


_RATE_UNITS = {"Current": sc.Unit.A, "Power": sc.Unit.W}


class StationMachine16(Firmware16, DeviceModel16, StationMachine):
    """An OCPP 1.6J charge point with `settings.connectors` connectors."""

    version = OcppVersion.V16

    def __init__(
        self,
        station_id: str,
        settings: StationSettings,
        rng: random.Random,
        observer: Observer | None = None,
    ) -> None:
        super().__init__(station_id, settings, rng, observer)
        # Key -> (value, read-only): this station's changes over defaults shared by the run.
        defaults = settings.shared.get("1.6 configuration")
        if defaults is None:
            defaults = settings.shared["1.6 configuration"] = _configuration_defaults(settings)
        self.configuration: collections.ChainMap[str, tuple[str, bool]] = collections.ChainMap(
            {}, defaults
        )
        self.meter_interval = settings.meter_interval

    # -- messages ----------------------------------------------------------------------------

    def boot_request(self) -> Payload:
        return v16.BootNotificationRequest(
            charge_point_vendor=self.settings.vendor,
            charge_point_model=self.settings.model,
            charge_point_serial_number=self.station_id[-25:],
            firmware_version=self.firmware_version,  # the last installed (`_firmware.py`)
        )

    def heartbeat_request(self) -> Payload:
        return _HEARTBEAT

    def after_boot(self, now: float, first_boot: bool) -> None:
        # Connector 0 is the charge point itself.
        self.send("StatusNotification", self._charge_point_status(now), now)
        super().after_boot(now, first_boot)

    def _charge_point_status(self, now: float) -> v16.StatusNotificationRequest:
        """Connector 0, the charge point as a whole (4.9): Available, or Unavailable after a
        ChangeAvailability Inoperative of connector 0 (5.2)."""
        return v16.StatusNotificationRequest(
            connector_id=0,
            error_code=v16.ChargePointErrorCode.NO_ERROR,
            status=(
                v16.ChargePointStatus.UNAVAILABLE
                if self.inoperative
                else v16.ChargePointStatus.AVAILABLE
            ),
            timestamp=self.wall(now),
        )

    def station_availability_changed(self, now: float, reaction: tuple[str, float] | None) -> None:
        """ChangeAvailability of connector 0 is done: its status goes out (5.2, 4.9), with
        the request's reaction when it was scheduled."""
        self.send("StatusNotification", self._charge_point_status(now), now)
        self._tag_last_status(reaction)

    def _status(
        self, connector: Connector, now: float, *, preparing: bool = False, finishing: bool = False
    ) -> v16.StatusNotificationRequest:
        if preparing:
            status = v16.ChargePointStatus.PREPARING
        elif finishing:
            status = v16.ChargePointStatus.FINISHING
        elif self.is_reserved(connector):
            status = v16.ChargePointStatus.RESERVED
        elif connector.suspended and connector.state is ConnectorState.CHARGING:
            status = v16.ChargePointStatus.SUSPENDED_EVSE  # energy stopped: invalid idTag
        else:
            status = _STATUS_OF[connector.state]
        return v16.StatusNotificationRequest(
            connector_id=connector.id,
            error_code=v16.ChargePointErrorCode.NO_ERROR,
            status=status,
            timestamp=self.wall(now),
        )

    def send_status(
        self, connector: Connector, now: float, *, preparing: bool = False, finishing: bool = False
    ) -> None:
        request = self._status(connector, now, preparing=preparing, finishing=finishing)
        self.send("StatusNotification", request, now, connector.id)

    def _triggered_meter_values(
        self, connector: Connector | None, now: float
    ) -> v16.MeterValuesRequest:
        """A MeterValues of the register, context Trigger (1.6 5.17: a non-periodic reading).
        On connector 0, the charge point's main meter: the sum of its connectors'. A charging
        connector's reading carries its transaction and power."""
        if connector is None:
            energy = sum(c.energy_wh for c in self.connectors)
            return v16.MeterValuesRequest(
                connector_id=0, meter_value=[self._trigger_reading(energy, None, now)]
            )
        charging = connector.state is ConnectorState.CHARGING
        if charging:
            self._advance_meter(connector, now)
        return v16.MeterValuesRequest(
            connector_id=connector.id,
            transaction_id=connector.transaction_id if charging else msgspec.UNSET,
            meter_value=[
                self._trigger_reading(
                    connector.energy_wh, connector.power_w if charging else None, now
                )
            ],
        )

    def _trigger_reading(self, energy_wh: float, power_w: float | None, now: float) -> Any:
        values = [
            v16.SampledValue(
                value=str(int(energy_wh)),
                context=v16.ReadingContext.TRIGGER,
                measurand=v16.Measurand.ENERGY_ACTIVE_IMPORT_REGISTER,
                unit=v16.UnitOfMeasure.WH,
            )
        ]
        if power_w is not None:
            values.append(
                v16.SampledValue(
                    value=f"{power_w:.0f}",
                    context=v16.ReadingContext.TRIGGER,
                    measurand=v16.Measurand.POWER_ACTIVE_IMPORT,
                    unit=v16.UnitOfMeasure.W,
                )
            )
        return v16.MeterValue(timestamp=self.wall(now), sampled_value=values)

    def send_authorize(self, connector: Connector, now: float) -> None:
        self.send("Authorize", v16.AuthorizeRequest(id_tag=connector.id_tag), now, connector.id)

    def send_start(self, connector: Connector, now: float) -> None:
        if connector.local_id is not None:
            # Started offline: its transactionId comes with this message's answer; until then
            # a placeholder (negative, never the CSMS's) stands in its queued messages.
            self.local_transactions += 1
            connector.transaction_id = connector.local_id = -self.local_transactions
        request = v16.StartTransactionRequest(
            connector_id=connector.id,
            id_tag=connector.id_tag,
            meter_start=int(connector.energy_wh),
            timestamp=self.wall(now),
            reservation_id=(
                connector.reservation_id if connector.reservation_id is not None else msgspec.UNSET
            ),
        )
        self.send_transaction(
            "StartTransaction", request, now, connector.id, session=connector.local_id
        )
        self.use_reservation(connector, now)

    def send_meter_values(self, connector: Connector, now: float) -> None:
        power = connector.power_w * self.rng.uniform(0.97, 1.03)
        phases = connector.phases
        request = v16.MeterValuesRequest(
            connector_id=connector.id,
            transaction_id=connector.transaction_id,
            meter_value=[
                v16.MeterValue(
                    timestamp=self.wall(now),
                    sampled_value=[
                        v16.SampledValue(
                            value=str(int(connector.energy_wh)),  # whole Wh, as meter_start/stop
                            context=v16.ReadingContext.SAMPLE_PERIODIC,
                            measurand=v16.Measurand.ENERGY_ACTIVE_IMPORT_REGISTER,
                            unit=v16.UnitOfMeasure.WH,
                        ),
                        v16.SampledValue(
                            value=f"{power:.0f}",
                            context=v16.ReadingContext.SAMPLE_PERIODIC,
                            measurand=v16.Measurand.POWER_ACTIVE_IMPORT,
                            unit=v16.UnitOfMeasure.W,
                        ),
                        # The current of each phase the EV draws on, 0 on the others (a limit
                        # in A is per phase: 1.6 3.13.4).
                        *(
                            v16.SampledValue(
                                value=f"{power / (phases * 230.0) if n < phases else 0.0:.1f}",
                                context=v16.ReadingContext.SAMPLE_PERIODIC,
                                measurand=v16.Measurand.CURRENT_IMPORT,
                                phase=phase,
                                unit=v16.UnitOfMeasure.A,
                            )
                            for n, phase in enumerate(_PHASES)
                        ),
                    ],
                )
            ],
        )
        self.send_transaction("MeterValues", request, now, connector.id, periodic=True)

    def send_stop(self, connector: Connector, now: float, reason: str) -> None:
        request = v16.StopTransactionRequest(
            meter_stop=int(connector.energy_wh),
            timestamp=self.wall(now),
            transaction_id=connector.transaction_id,
            id_tag=connector.id_tag,
            reason=_REASONS.get(reason, v16.Reason.OTHER),
        )
        self.send_transaction("StopTransaction", request, now, connector.id)

    def answered(self, item: Outgoing, response: Any, error: str | None, now: float) -> None:
        connector = self.connector(item.connector)
        if connector is None:
            return
        action = item.action
        payload: Any = item.payload
        if error is None:
            # Every idTagInfo the CSMS gives goes into the cache (1.6 3.5.1).
            info = getattr(response, "id_tag_info", msgspec.UNSET)
            token = getattr(payload, "id_tag", msgspec.UNSET)
            if info is not msgspec.UNSET and token is not msgspec.UNSET:
                entry = entry_from_v16(info, self.settings.wall_offset)
                self.auth_answered(token, entry, now)
        if action == "Authorize":
            accepted = error is None and response.id_tag_info.status == _ACCEPTED
            self.authorize_answered(connector, accepted, now)
        elif action == "StartTransaction":
            if item.session is not None:
                self._local_start_answered(connector, item.session, response, error, now)
                return
            if error is not None:
                self.start_answered(connector, False, now)
                return
            connector.transaction_id = response.transaction_id
            self.start_answered(connector, True, now)
            # The CSMS opened the transaction but may refuse the tag (5.16 / 9.1).
            self.token_answered(connector, str(response.id_tag_info.status), now)
        elif action == "StopTransaction":
            self.stop_answered(connector, now, acknowledged=error is None)

    def _local_start_answered(
        self, connector: Connector, placeholder: int, response: Any, error: str | None, now: float
    ) -> None:
        """The StartTransaction of a session started offline is answered: its transactionId
        replaces the placeholder in the session's messages still queued (they go after this
        answer: one call at a time, in order) and on the connector if the session runs on;
        a refused idTag then stops it or its energy (`token_answered`). Without an answer (given
        up) the placeholder stays: the CSMS never opened that transaction."""
        if error is not None:
            return
        real = response.transaction_id
        for queue in (self.transaction_queue, self.requested):
            for held in queue:
                if (
                    held.action in ("MeterValues", "StopTransaction")
                    and getattr(held.payload, "transaction_id", None) == placeholder
                ):
                    held.payload = msgspec.structs.replace(held.payload, transaction_id=real)  # type: ignore[type-var]
        if connector.transaction_id != placeholder:
            return  # the session is over
        connector.transaction_id = real
        connector.local_id = None
        if self.smart_charging is not None:
            self.smart_charging.set_transaction_id(connector.id, str(real))
        self.token_answered(connector, str(response.id_tag_info.status), now)

    # -- answers to the CSMS ---------------------------------------------------------------

    def answer_remote_start_transaction(
        self, request: v16.RemoteStartTransactionRequest, now: float
    ) -> Payload:
        if request.connector_id is msgspec.UNSET:
            connector = self.idle_connector(request.id_tag)
        else:
            connector = self.connector(request.connector_id)  # type: ignore[arg-type]
        if (
            connector is None
            or connector.state is not ConnectorState.AVAILABLE
            or self.stopping
            or not self.booted
            or not self.may_start(connector, request.id_tag)  # reserved for another idTag
        ):
            return v16.RemoteStartTransactionResponse(status=v16.RemoteStartStopStatus.REJECTED)
        if request.charging_profile is not msgspec.UNSET:
            # 5.11: a profile here is the transaction's, so its purpose must be TxProfile.
            profile = sc.profile_from_v16(connector.id, request.charging_profile)
            if profile.purpose is not sc.Purpose.TX:
                return v16.RemoteStartTransactionResponse(status=v16.RemoteStartStopStatus.REJECTED)
            self.hold_start_profile(connector, profile)
        self.remote_start(connector, request.id_tag, now)
        return v16.RemoteStartTransactionResponse(status=v16.RemoteStartStopStatus.ACCEPTED)

    def answer_remote_stop_transaction(
        self, request: v16.RemoteStopTransactionRequest, now: float
    ) -> Payload:
        for connector in self.connectors:
            if (
                connector.state is ConnectorState.CHARGING
                and connector.transaction_id == request.transaction_id
            ):
                self.stop_session(connector, now, "Remote")
                return v16.RemoteStopTransactionResponse(status=v16.RemoteStartStopStatus.ACCEPTED)
        return v16.RemoteStopTransactionResponse(status=v16.RemoteStartStopStatus.REJECTED)

    def answer_reset(self, request: v16.ResetRequest, now: float) -> Payload:
        self.request_reboot(now, "hard" if request.type == v16.ResetType.HARD else "soft")
        return v16.ResetResponse(status=v16.ResetStatus.ACCEPTED)

    def answer_change_availability(
        self, request: v16.ChangeAvailabilityRequest, now: float
    ) -> Payload:
        """5.2: Accepted when done now, Scheduled when a transaction runs on a connector it
        makes Inoperative (done when it ends: `change_availability`); connector 0 is the
        charge point as a whole (its own status, 0 Unavailable / Available, follows)."""
        available = request.type == v16.AvailabilityType.OPERATIVE
        if request.connector_id == 0:
            targets = self.connectors
        else:
            single = self.connector(request.connector_id)
            if single is None:
                return v16.ChangeAvailabilityResponse(status=v16.AvailabilityStatus.REJECTED)
            targets = [single]
        done = self.change_availability(targets, available, now, station=request.connector_id == 0)
        status = v16.AvailabilityStatus.ACCEPTED if done else v16.AvailabilityStatus.SCHEDULED
        return v16.ChangeAvailabilityResponse(status=status)

    def answer_trigger_message(self, request: v16.TriggerMessageRequest, now: float) -> Payload:
        """TriggerMessage (1.6 section 5.17): Accepted only when the message then follows.

        - BootNotification: at once, replacing the scheduled boot, in any state (4.2.1: not
          earlier "unless requested to do so with a TriggerMessage").
        - While Pending the others go out too (4.2.1); while Rejected they are Rejected, as the
          station sends nothing until its retry interval has passed.
        - connectorId, where it matters (StatusNotification, MeterValues): 0 is the charge
          point itself (its main meter), absent means every connector and 0; an unknown one
          is Rejected. Elsewhere it is ignored.
        - StatusNotification: each connector's status now (Reserved, SuspendedEVSE included).
        - MeterValues: a reading of the register (context Trigger), idle connectors too.
        - Diagnostics/FirmwareStatusNotification: the status of the upload or update under
          way, Idle when none runs (4.4, 4.5: Idle only in answer to a trigger).
        """
        status = self._trigger(str(request.requested_message), request.connector_id, now)
        return v16.TriggerMessageResponse(status=v16.TriggerMessageStatus(status))

    def answer_extended_trigger_message(
        self, request: v16.ExtendedTriggerMessageRequest, now: float
    ) -> Payload:
        """ExtendedTriggerMessage (Security Whitepaper): as TriggerMessage, for its own list:
        LogStatusNotification (the log upload under way, Idle when none runs),
        FirmwareStatusNotification (answered with a SignedFirmwareStatusNotification, the
        whitepaper's firmware status), SignChargePointCertificate: NotImplemented, as this
        station makes no key pair and so never sends a SignCertificate (the status the
        whitepaper gives a message the charge point does not implement; Rejected would say
        it could, another time)."""
        wanted = str(request.requested_message)
        if wanted == v16.MessageTriggerEnum.SIGN_CHARGE_POINT_CERTIFICATE:
            status = "NotImplemented"
        else:
            status = self._trigger(wanted, request.connector_id, now, extended=True)
        return v16.ExtendedTriggerMessageResponse(status=v16.TriggerMessageStatusEnum(status))

    def _trigger(
        self, wanted: str, connector_id: Any, now: float, *, extended: bool = False
    ) -> str:
        """Send what a (Extended)TriggerMessage asks for; its status: Accepted, Rejected or
        NotImplemented."""
        if wanted == "BootNotification":
            self.trigger_boot(now)
            return "Accepted"
        if not self.may_send_requested:
            return "Rejected"
        targets: list[Connector | None]  # None: connector 0, the charge point itself
        if connector_id is msgspec.UNSET or connector_id is None:
            targets = [None, *self.connectors]
        elif connector_id == 0:
            targets = [None]
        else:
            single = self.connector(connector_id)
            targets = [single] if single is not None else []
        if wanted == "Heartbeat":
            self.send_requested("Heartbeat", _HEARTBEAT, now)
        elif wanted == "StatusNotification":
            if not targets:
                return "Rejected"
            for connector in targets:
                if connector is None:
                    self.send_requested("StatusNotification", self._charge_point_status(now), now)
                else:
                    payload = self._status(connector, now)
                    self.send_requested("StatusNotification", payload, now, connector.id)
        elif wanted == "MeterValues":
            if not targets:
                return "Rejected"
            for connector in targets:
                payload = self._triggered_meter_values(connector, now)
                self.send_requested("MeterValues", payload, now, connector.id if connector else 0)
        elif wanted == "DiagnosticsStatusNotification" and not extended:
            self._send_triggered(self.triggered_diagnostics_status(now), now)
        elif wanted == "FirmwareStatusNotification":
            if extended:
                self._send_triggered(self.triggered_signed_firmware_status(now), now)
            else:
                self._send_triggered(self.triggered_firmware_status(now), now)
        elif wanted == "LogStatusNotification" and extended:
            self._send_triggered(self.triggered_log_status(now), now)
        else:  # a value the schema knows and this station does not
            return "NotImplemented"
        return "Accepted"

    def _send_triggered(self, payload: Payload, now: float) -> None:
        """A triggered notification: its action is its request type's name."""
        self.send_requested(type(payload).__name__.removesuffix("Request"), payload, now)

    def answer_unlock_connector(self, request: v16.UnlockConnectorRequest, now: float) -> Payload:
        connector = self.connector(request.connector_id)
        if connector is None:
            return v16.UnlockConnectorResponse(status=v16.UnlockStatus.NOT_SUPPORTED)
        self.stop_session(connector, now, "UnlockCommand")
        return v16.UnlockConnectorResponse(status=v16.UnlockStatus.UNLOCKED)

    def answer_get_configuration(self, request: v16.GetConfigurationRequest, now: float) -> Payload:
        keys = list(self.configuration) if not request.key else request.key
        known = [
            v16.KeyValue(
                key=key, readonly=self.configuration[key][1], value=self.configuration[key][0]
            )
            for key in keys  # type: ignore[union-attr]
            if key in self.configuration
        ]
        unknown = [key for key in keys if key not in self.configuration]  # type: ignore[union-attr]
        if unknown:
            return v16.GetConfigurationResponse(configuration_key=known, unknown_key=unknown)
        return v16.GetConfigurationResponse(configuration_key=known)

    def answer_change_configuration(
        self, request: v16.ChangeConfigurationRequest, now: float
    ) -> Payload:
        entry = self.configuration.get(request.key)
        if entry is None:
            return v16.ChangeConfigurationResponse(status=v16.ConfigurationStatus.NOT_SUPPORTED)
        if entry[1]:
            return v16.ChangeConfigurationResponse(status=v16.ConfigurationStatus.REJECTED)
        if request.key in _BOOLEAN_KEYS and request.value.strip().lower() not in (
            "true",
            "false",
        ):
            return v16.ChangeConfigurationResponse(status=v16.ConfigurationStatus.REJECTED)
        if request.key in _INTEGER_KEYS:
            try:
                number = int(request.value)
            except ValueError:
                return v16.ChangeConfigurationResponse(status=v16.ConfigurationStatus.REJECTED)
            if number < 0:
                return v16.ChangeConfigurationResponse(status=v16.ConfigurationStatus.REJECTED)
            if request.key == "HeartbeatInterval" and number > 0:
                self.heartbeat_interval = float(number)
                if self.booted and not self.stopping:
                    self.heartbeat_at = now + self.heartbeat_interval
            elif request.key == "MeterValueSampleInterval" and number > 0:
                self.meter_interval = float(number)
            elif request.key == "TransactionMessageAttempts":
                self.transaction_attempts = number
            elif request.key == "TransactionMessageRetryInterval":
                self.transaction_retry_interval = float(number)
        self.configuration[request.key] = (request.value, False)
        if request.key in _AUTHORIZATION_KEYS:  # takes effect now (and needs the authorizer)
            self.configure_authorizer(self.authorization())
        return v16.ChangeConfigurationResponse(status=v16.ConfigurationStatus.ACCEPTED)

    def answer_data_transfer(self, request: v16.DataTransferRequest, now: float) -> Payload:
        return v16.DataTransferResponse(status=v16.DataTransferStatus.UNKNOWN_VENDOR_ID)

    # -- local authorization (1.6 section 3.5, 5.4, 5.10, 5.15, 9.1, 9.2) -----------------

    def _auth_flag(self, key: str, default: bool) -> bool:
        entry = self.configuration.get(key)
        return default if entry is None else entry[0].strip().lower() == "true"

    def configure_authorizer(self, authorizer: Authorizer) -> Authorizer:
        """The configuration as it is now: the LocalAuthListManagement profile gives the list
        (NotSupported without it), LocalAuthListEnabled / AuthorizationCacheEnabled switch
        list and cache, the max lengths bound them, and the decision's keys."""
        profiles = self.configuration.get("SupportedFeatureProfiles", ("", True))[0]
        local_list = authorizer.local_list
        local_list.v16 = True
        local_list.supported = "LocalAuthListManagement" in (p.strip() for p in profiles.split(","))
        local_list.enabled = self._auth_flag("LocalAuthListEnabled", True)
        local_list.max_entries = self._setting("LocalAuthListMaxLength", 1000)
        local_list.max_per_message = self._setting("SendLocalListMaxLength", 100)
        authorizer.cache.enabled = self._auth_flag("AuthorizationCacheEnabled", True)
        authorizer.settings = self.auth_settings()
        return authorizer

    def auth_cache_wanted(self) -> bool:
        return self._auth_flag("AuthorizationCacheEnabled", True)

    def authorize_remote_start(self) -> bool:
        return self._auth_flag("AuthorizeRemoteTxRequests", False)

    def auth_settings(self) -> AuthSettings:
        return settings_from_v16(self.configuration)

    def answer_send_local_list(self, request: v16.SendLocalListRequest, now: float) -> Payload:
        """5.15: Full replaces the list, Differential updates it (a version above the current
        one, else VersionMismatch); too many entries, or an entry of a Full list without its
        idTagInfo, Failed and nothing changes; NotSupported without the profile."""
        authorizer = self.authorization()
        version, full, items = update_from_v16(request, self.settings.wall_offset)
        status = authorizer.local_list.update(version, full, items)
        return v16.SendLocalListResponse(status=v16.UpdateStatus(status))

    def answer_get_local_list_version(
        self, request: v16.GetLocalListVersionRequest, now: float
    ) -> Payload:
        """5.10: the list's version (0: none received yet; -1: no list support)."""
        authorizer = self.authorizer
        if authorizer is None:
            profiles = self.configuration.get("SupportedFeatureProfiles", ("", True))[0]
            supported = "LocalAuthListManagement" in (p.strip() for p in profiles.split(","))
            return v16.GetLocalListVersionResponse(list_version=0 if supported else -1)
        return v16.GetLocalListVersionResponse(list_version=authorizer.local_list.get_version())

    def answer_clear_cache(self, request: v16.ClearCacheRequest, now: float) -> Payload:
        """5.4: Accepted and emptied when the cache is on, else Rejected (the cache being off
        is the one reason a charge point cannot clear it)."""
        if self.authorizer is None:
            accepted = self.auth_cache_wanted()  # nothing cached yet: nothing to clear
        else:
            accepted = self.authorizer.cache.clear() == "Accepted"
        status = v16.ClearCacheStatus.ACCEPTED if accepted else v16.ClearCacheStatus.REJECTED
        return v16.ClearCacheResponse(status=status)

    # -- reservations (1.6 section 5.2, 5.13) ------------------------------------------------

    def _configure_book(self, book: ReservationBook) -> ReservationBook:
        """The configuration as it is now: the Reservation feature profile turns them on,
        ReserveConnectorZeroSupported allows connector 0."""
        profiles = self.configuration.get("SupportedFeatureProfiles", ("", True))[0]
        book.enabled = "Reservation" in (p.strip() for p in profiles.split(","))
        zero = self.configuration.get("ReserveConnectorZeroSupported", ("false", True))[0]
        book.any_connector = zero.strip().lower() == "true"
        return book

    def new_reservation_book(self) -> ReservationBook:
        return self._configure_book(ReservationBook())

    def answer_reserve_now(self, request: v16.ReserveNowRequest, now: float) -> Payload:
        book = self._configure_book(self.reservation_book())
        reserve = request_from_v16(request, self.settings.wall_offset)
        outcome = book.reserve(reserve, self.reservation_conditions(), now)
        self.reservation_effects(outcome.effects, now)
        return v16.ReserveNowResponse(status=v16.ReservationStatus(outcome.status))

    def answer_cancel_reservation(
        self, request: v16.CancelReservationRequest, now: float
    ) -> Payload:
        outcome = self.reservation_book().cancel(
            request.reservation_id, self.reservation_conditions()
        )
        self.reservation_effects(outcome.effects, now)
        return v16.CancelReservationResponse(status=v16.CancelReservationStatus(outcome.status))

    # What a station without local lists, firmware updates or certificates answers: valid
    # refusals.

    # -- smart charging (1.6 section 3.13, 5.5, 5.7, 5.16) -------------------------------------

    def _setting(self, key: str, default: int) -> int:
        entry = self.configuration.get(key)
        try:
            return int(entry[0]) if entry is not None else default
        except ValueError:
            return default

    def new_charging_profiles(self) -> sc.ChargingProfiles:
        entry = self.configuration.get("ChargingScheduleAllowedChargingRateUnit")
        names = entry[0] if entry is not None else "Current,Power"
        units = [_RATE_UNITS[n.strip()] for n in names.split(",") if n.strip() in _RATE_UNITS]
        units = units or [sc.Unit.A, sc.Unit.W]
        return sc.ChargingProfiles(
            version="1.6",
            evse_count=len(self.connectors),
            allowed_units=units,
            max_stack_level=self._setting("ChargeProfileMaxStackLevel", 8),
            max_profiles=self._setting("MaxChargingProfilesInstalled", 16),
            periods_max=self._setting("ChargingScheduleMaxPeriods", 24),
            default_unit=units[0],
        )

    def answer_set_charging_profile(
        self, request: v16.SetChargingProfileRequest, now: float
    ) -> Payload:
        response = sc.set_profile_v16(self.charging_profiles(), request, self.wall(now))
        if response.status == v16.ChargingProfileStatus.ACCEPTED:
            self.apply_limits(now)
        return response

    def answer_clear_charging_profile(
        self, request: v16.ClearChargingProfileRequest, now: float
    ) -> Payload:
        response = sc.clear_v16(self.charging_profiles(), request)
        if response.status == v16.ClearChargingProfileStatus.ACCEPTED:
            self.apply_limits(now)
        return response

    def answer_get_composite_schedule(
        self, request: v16.GetCompositeScheduleRequest, now: float
    ) -> Payload:
        evses = len(self.connectors) if request.connector_id == 0 else 1
        return sc.composite_v16(
            self.charging_profiles(),
            request,
            self.wall(now),
            max_watts=EVSE_MAX_WATTS * evses,
            phases=EV_PHASES,
        )


StationMachine16.answer_methods = answer_methods(
    StationMachine16,
    [name for name, spec in v16.ACTIONS.items() if spec.sent_by_csms],
)
StationMachine16.reactions = {
    "CancelReservation": frozenset({"StatusNotification"}),
    "ChangeAvailability": frozenset({"StatusNotification"}),
    "ClearChargingProfile": frozenset(),  # tagged on the next sampled MeterValues
    "RemoteStartTransaction": frozenset({"StartTransaction"}),
    "RemoteStopTransaction": frozenset({"StopTransaction"}),
    "ReserveNow": frozenset({"StatusNotification"}),
    "Reset": frozenset({"BootNotification"}),
    "SetChargingProfile": frozenset(),  # tagged on the next sampled MeterValues
    "TriggerMessage": frozenset({REACTION_ANY}),
    "ExtendedTriggerMessage": frozenset({REACTION_ANY}),
}
if len(StationMachine16.answer_methods) != 26:  # every CSMS action has an answer
    raise ImportError("StationMachine16 must answer all 26 CSMS actions of OCPP 1.6")
