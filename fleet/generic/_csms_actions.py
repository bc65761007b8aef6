"""The actions a CSMS sends, between 2.0.1 (the generic model) and 1.6: `CSMS_ACTIONS`.

One adapter per generic action that has a 1.6 counterpart; their `legacy` tuples cover every
1.6 action a Central System sends (core and Security Whitepaper). Choices where the specs
leave room, in short (each table says more):

- **1.6 connector N is 2.0.1 EVSE N** (with one connector, id 1), as everywhere in fleet. Where
  1.6 says "connector 0: the whole Charge Point" (ChangeAvailability, ReserveNow), 2.0.1 leaves
  the evse out. An evse's connectorId other than 1 is an error.
- **Reset**: 2.0.1 Immediate (stop transactions, then reset) is 1.6 Soft (gracefully stop
  transactions, then restart); 1.6 Hard (restart the hardware, transactions need not stop
  gracefully) reads as Immediate, kept as Hard. OnIdle (wait for the transactions to end) has
  no 1.6 counterpart: both 1.6 resets end them at once.
- **Two 1.6 actions for one**: TriggerMessage goes as TriggerMessage (a LogStatusNotification
  as DiagnosticsStatusNotification, the status of what GetLog of a DiagnosticsLog goes as), or
  as the Security Whitepaper's ExtendedTriggerMessage for SignChargingStationCertificate;
  GetLog goes as GetDiagnostics (core) for a DiagnosticsLog and as the Whitepaper's GetLog for
  a SecurityLog; UpdateFirmware goes as SignedUpdateFirmware when the firmware has a signing
  certificate or signature. A generic request may name the
  1.6 action itself: ``customData {"vendorId": "ocpp1.6", "action": "GetLog"}``; a 1.6 request
  read where the default would choose another action is marked so, and goes back as it came.
- **DataTransfer** goes both ways: the CSMS's is the station actions' adapter (`DATA_TRANSFER`).
- **statusInfo** of a 2.0.1 answer is not carried: a 1.6 answer is a status, and statusInfo is
  detail for people (reasonCode, additionalInfo), not something a 1.6 CSMS acts on.
- **Ids 1.6 lacks** (remoteStartId, requestId of UpdateFirmware and GetDiagnostics) are not
  sent: they only match later notifications, which 1.6 does not number. remoteStartId reads
  back as 0; a core UpdateFirmware or GetDiagnostics read on a link gets a requestId from the
  link (`LinkState.core_request`), which remembers it so that the station's notifications
  with it go back as the core ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from fleet.generic._charging import (
    CHARGING_PROFILE_FIELD,
    CHARGING_PROFILE_PURPOSE,
    CHARGING_RATE_UNIT,
    CHARGING_SCHEDULE_PERIOD,
)
from fleet.generic._common import ID_TAG_INFO_FIELD, TRANSACTION_ID, id_token_rows
from fleet.generic._engine import (
    LEGACY_VENDOR,
    ActionAdapter,
    ActionMap,
    Each,
    Field,
    Fixed,
    Guarded,
    Loss,
    Nested,
    NotCarried,
    StructMap,
    Values,
    Where,
    wire,
)
from fleet.generic._station_actions import DATA_TRANSFER
from fleet.generic._variables import GET_VARIABLES, SET_VARIABLES
from fleet.ocpp import dec_hook, v16, v201

__all__ = ["ACTION_KEY", "CSMS_ACTIONS"]

#: The generic request's customData key (vendorId "ocpp1.6") that names the 1.6 action, where
#: two could carry it.
ACTION_KEY = "action"

STATUS_INFO = NotCarried(
    "statusInfo",
    "1.6 answers have a status only; statusInfo is detail for people (reasonCode, "
    "additionalInfo), not something the CSMS acts on",
)

_WHOLE_STATION = "1.6 connectorId 0 is the whole Charge Point: 2.0.1 leaves the EVSE out"
_ONE_CONNECTOR = (
    "a 1.6 connector is a 2.0.1 EVSE with one connector (id 1); 1.6 cannot name another "
    "connector of an EVSE"
)


def _statuses(*values: str, **options: Any) -> Field:
    return Field("status", "status", Values.same(*values, **options))


def _answer(generic: type, legacy: type, *values: str, **options: Any) -> StructMap:
    """A response that is a status (and 2.0.1's statusInfo)."""
    return StructMap(generic, legacy, _statuses(*values, **options), STATUS_INFO)


def _same(generic: type, legacy: type, *fields: str) -> StructMap:
    return StructMap(generic, legacy, *(Field(f, f) for f in fields))


# -- tables ----------------------------------------------------------------------------------

CANCEL_RESERVATION = ActionMap(
    "CancelReservation",
    "CancelReservation",
    _same(v201.CancelReservationRequest, v16.CancelReservationRequest, "reservationId"),
    _answer(v201.CancelReservationResponse, v16.CancelReservationResponse, "Accepted", "Rejected"),
    note="alike",
)

CHANGE_AVAILABILITY = ActionMap(
    "ChangeAvailability",
    "ChangeAvailability",
    Guarded(
        v201.ChangeAvailabilityRequest,
        v16.ChangeAvailabilityRequest,
        Field("operationalStatus", "type", Values.same("Operative", "Inoperative")),
        Fixed("connectorId", 0, _WHOLE_STATION),
        Field("evse.id", "connectorId"),
        NotCarried("evse.connectorId", _ONE_CONNECTOR),
        only={"evse.connectorId": ({1}, _ONE_CONNECTOR)},
        zero_is_absent=("evse.id",),
    ),
    _answer(
        v201.ChangeAvailabilityResponse,
        v16.ChangeAvailabilityResponse,
        "Accepted",
        "Rejected",
        "Scheduled",
    ),
    note="no evse <-> connectorId 0; evse.id N <-> connectorId N",
)

CLEAR_CACHE = ActionMap(
    "ClearCache",
    "ClearCache",
    StructMap(v201.ClearCacheRequest, v16.ClearCacheRequest),
    _answer(v201.ClearCacheResponse, v16.ClearCacheResponse, "Accepted", "Rejected"),
    note="alike",
)

CLEAR_CHARGING_PROFILE = ActionMap(
    "ClearChargingProfile",
    "ClearChargingProfile",
    StructMap(
        v201.ClearChargingProfileRequest,
        v16.ClearChargingProfileRequest,
        Field("chargingProfileId", "id"),
        Field("chargingProfileCriteria.evseId", "connectorId"),
        Field(
            "chargingProfileCriteria.chargingProfilePurpose",
            "chargingProfilePurpose",
            CHARGING_PROFILE_PURPOSE,
        ),
        Field("chargingProfileCriteria.stackLevel", "stackLevel"),
    ),
    _answer(
        v201.ClearChargingProfileResponse,
        v16.ClearChargingProfileResponse,
        "Accepted",
        "Unknown",
    ),
    note="chargingProfileCriteria's fields are 1.6's top-level ones",
)

GET_COMPOSITE_SCHEDULE_RESPONSE = StructMap(
    v201.GetCompositeScheduleResponse,
    v16.GetCompositeScheduleResponse,
    _statuses("Accepted", "Rejected"),
    STATUS_INFO,
    Field("schedule.evseId", "connectorId"),
    Field("schedule.scheduleStart", "scheduleStart"),
    Field("schedule.duration", "chargingSchedule.duration"),
    Field("schedule.chargingRateUnit", "chargingSchedule.chargingRateUnit", CHARGING_RATE_UNIT),
    Field(
        "schedule.chargingSchedulePeriod",
        "chargingSchedule.chargingSchedulePeriod",
        Each(Nested(CHARGING_SCHEDULE_PERIOD)),
    ),
)

#: A 1.6 answer without what a 2.0.1 CompositeSchedule requires: all of it stays in customData.
_GET_COMPOSITE_SCHEDULE_KEPT = StructMap(
    v201.GetCompositeScheduleResponse,
    v16.GetCompositeScheduleResponse,
    _statuses("Accepted", "Rejected"),
    STATUS_INFO,
)


class _CompositeScheduleAnswer(ActionMap):
    def response_to_generic(self, responses: list[Any], request: Any, where: Where) -> Any:
        (response,) = responses
        data = wire(response, v16.GetCompositeScheduleResponse)
        complete = (
            "connectorId" in data
            and "scheduleStart" in data
            and "duration" in data.get("chargingSchedule", {})
        )
        if complete:
            return self.response.to_generic(data, where)
        return _GET_COMPOSITE_SCHEDULE_KEPT.to_generic(data, where)


GET_COMPOSITE_SCHEDULE = _CompositeScheduleAnswer(
    "GetCompositeSchedule",
    "GetCompositeSchedule",
    StructMap(
        v201.GetCompositeScheduleRequest,
        v16.GetCompositeScheduleRequest,
        Field("duration", "duration"),
        Field("evseId", "connectorId"),
        Field("chargingRateUnit", "chargingRateUnit", CHARGING_RATE_UNIT),
    ),
    GET_COMPOSITE_SCHEDULE_RESPONSE,
    note=(
        "schedule <-> connectorId, scheduleStart and chargingSchedule; a 1.6 answer "
        "lacking connectorId, scheduleStart or duration keeps its schedule in customData"
    ),
)

GET_LOCAL_LIST_VERSION = ActionMap(
    "GetLocalListVersion",
    "GetLocalListVersion",
    StructMap(v201.GetLocalListVersionRequest, v16.GetLocalListVersionRequest),
    StructMap(
        v201.GetLocalListVersionResponse,
        v16.GetLocalListVersionResponse,
        Field("versionNumber", "listVersion", note="1.6: -1 means no local list support"),
    ),
    note="versionNumber <-> listVersion",
)

REQUEST_START_TRANSACTION = ActionMap(
    "RequestStartTransaction",
    "RemoteStartTransaction",
    Guarded(
        v201.RequestStartTransactionRequest,
        v16.RemoteStartTransactionRequest,
        *id_token_rows("idToken", "idTag"),
        NotCarried(
            "remoteStartId",
            "1.6 RemoteStartTransaction has no remoteStartId (2.0.1 matches the "
            "TransactionEvent that follows by it; 1.6 StartTransaction echoes none); read as 0",
            fill=0,
        ),
        Field("evseId", "connectorId"),
        Field("chargingProfile", "chargingProfile", CHARGING_PROFILE_FIELD),
        refuse={
            "groupIdToken": "1.6 RemoteStartTransaction has no group id: the Charge Point "
            "would authorize the idTag alone",
        },
    ),
    StructMap(
        v201.RequestStartTransactionResponse,
        v16.RemoteStartTransactionResponse,
        _statuses("Accepted", "Rejected"),
        STATUS_INFO,
        NotCarried(
            "transactionId",
            "1.6 RemoteStartTransaction.conf has a status only; the CSMS learns of a "
            "transaction already started from its StartTransaction",
        ),
    ),
    note="remoteStartId is not carried (read as 0); idToken <-> idTag",
)

REQUEST_STOP_TRANSACTION = ActionMap(
    "RequestStopTransaction",
    "RemoteStopTransaction",
    StructMap(
        v201.RequestStopTransactionRequest,
        v16.RemoteStopTransactionRequest,
        Field("transactionId", "transactionId", TRANSACTION_ID),
    ),
    _answer(
        v201.RequestStopTransactionResponse,
        v16.RemoteStopTransactionResponse,
        "Accepted",
        "Rejected",
    ),
    note="transactionId: string <-> the 1.6 integer",
)

RESERVE_NOW = ActionMap(
    "ReserveNow",
    "ReserveNow",
    Guarded(
        v201.ReserveNowRequest,
        v16.ReserveNowRequest,
        Field("id", "reservationId"),
        Field("expiryDateTime", "expiryDate"),
        *id_token_rows("idToken", "idTag"),
        *id_token_rows("groupIdToken", "parentIdTag"),
        Fixed("connectorId", 0, _WHOLE_STATION),
        Field("evseId", "connectorId"),
        refuse={
            "connectorType": "1.6 ReserveNow reserves a connector by id; it cannot ask for "
            "a connector type",
        },
        zero_is_absent=("evseId",),
    ),
    _answer(
        v201.ReserveNowResponse,
        v16.ReserveNowResponse,
        "Accepted",
        "Faulted",
        "Occupied",
        "Rejected",
        "Unavailable",
    ),
    note="no evseId <-> connectorId 0; groupIdToken <-> parentIdTag",
)

RESET = ActionMap(
    "Reset",
    "Reset",
    Guarded(
        v201.ResetRequest,
        v16.ResetRequest,
        Field(
            "type",
            "type",
            Values(
                {"Immediate": "Soft"},
                generic_only={
                    "OnIdle": "1.6 ResetType has Hard and Soft only, and both end "
                    "transactions at once; none waits for them to end",
                },
                legacy_only={"Hard": "Immediate"},
            ),
            note="2.0.1 Immediate stops transactions then resets, as a 1.6 Soft reset does",
        ),
        refuse={"evseId": "1.6 Reset resets the whole Charge Point, not one EVSE"},
    ),
    _answer(
        v201.ResetResponse,
        v16.ResetResponse,
        "Accepted",
        "Rejected",
        generic_only={"Scheduled": "1.6 ResetStatus has Accepted and Rejected only"},
    ),
    note="Immediate <-> Soft; 1.6 Hard reads as Immediate (kept); OnIdle is an error",
)

AUTHORIZATION_DATA = StructMap(
    v201.AuthorizationData,
    v16.AuthorizationData,
    *id_token_rows("idToken", "idTag"),
    Field("idTokenInfo", "idTagInfo", ID_TAG_INFO_FIELD),
)


class _SendLocalList(ActionMap):
    """1.6 clears the local list with an empty localAuthorizationList; 2.0.1 has no empty
    one (minItems 1) and clears it with none. An empty 1.6 list reads as none, kept."""

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        data = wire(request, v16.SendLocalListRequest)
        if data.get("localAuthorizationList") != []:
            return self.request.to_generic(data, where)
        del data["localAuthorizationList"]
        generic = wire(self.request.to_generic(data, where), v201.SendLocalListRequest)
        custom = generic.get("customData") or {"vendorId": LEGACY_VENDOR}
        generic["customData"] = {**custom, "localAuthorizationList": []}
        return msgspec.convert(generic, v201.SendLocalListRequest, dec_hook=dec_hook)


SEND_LOCAL_LIST = _SendLocalList(
    "SendLocalList",
    "SendLocalList",
    StructMap(
        v201.SendLocalListRequest,
        v16.SendLocalListRequest,
        Field("versionNumber", "listVersion"),
        Field("updateType", "updateType", Values.same("Differential", "Full")),
        Field(
            "localAuthorizationList",
            "localAuthorizationList",
            Each(Nested(AUTHORIZATION_DATA)),
        ),
    ),
    _answer(
        v201.SendLocalListResponse,
        v16.SendLocalListResponse,
        "Accepted",
        "Failed",
        "VersionMismatch",
        legacy_only={"NotSupported": "Failed"},
    ),
    note="idToken <-> idTag, idTokenInfo <-> idTagInfo; an empty 1.6 localAuthorizationList "
    "(clear the list) reads as none (kept); 1.6 NotSupported reads as Failed (kept)",
)

SET_CHARGING_PROFILE = ActionMap(
    "SetChargingProfile",
    "SetChargingProfile",
    StructMap(
        v201.SetChargingProfileRequest,
        v16.SetChargingProfileRequest,
        Field("evseId", "connectorId"),
        Field("chargingProfile", "csChargingProfiles", CHARGING_PROFILE_FIELD),
    ),
    _answer(
        v201.SetChargingProfileResponse,
        v16.SetChargingProfileResponse,
        "Accepted",
        "Rejected",
        legacy_only={"NotSupported": "Rejected"},
    ),
    note="chargingProfile <-> csChargingProfiles; 1.6 NotSupported reads as Rejected (kept)",
)

UNLOCK_CONNECTOR = ActionMap(
    "UnlockConnector",
    "UnlockConnector",
    Guarded(
        v201.UnlockConnectorRequest,
        v16.UnlockConnectorRequest,
        Field("evseId", "connectorId"),
        NotCarried("connectorId", _ONE_CONNECTOR, fill=1),
        only={"connectorId": ({1}, _ONE_CONNECTOR)},
    ),
    _answer(
        v201.UnlockConnectorResponse,
        v16.UnlockConnectorResponse,
        "Unlocked",
        "UnlockFailed",
        legacy_only={"NotSupported": "UnlockFailed"},
        generic_only={
            "OngoingAuthorizedTransaction": "1.6 UnlockStatus has Unlocked, UnlockFailed and "
            "NotSupported only (a 1.6 Charge Point ends the transaction and unlocks)",
            "UnknownConnector": "1.6 UnlockStatus has Unlocked, UnlockFailed and NotSupported "
            "only (answer an unknown connector with a CALLERROR)",
        },
    ),
    note="evseId <-> connectorId (connector 1 of the EVSE); 1.6 NotSupported reads as "
    "UnlockFailed (kept)",
)

# -- DeleteCertificate, InstallCertificate, CertificateSigned, GetInstalledCertificateIds ---

CERTIFICATE_HASH_DATA = StructMap(
    v201.CertificateHashData,
    v16.CertificateHashData,
    Field("hashAlgorithm", "hashAlgorithm", Values.same("SHA256", "SHA384", "SHA512")),
    Field("issuerNameHash", "issuerNameHash"),
    Field("issuerKeyHash", "issuerKeyHash"),
    Field("serialNumber", "serialNumber"),
)

_ROOT_TYPES = "1.6 (Security Whitepaper) has CentralSystemRootCertificate and "
_ROOT_TYPES += "ManufacturerRootCertificate only"

#: 2.0.1 certificate types <-> 1.6 CertificateUseEnum.
CERTIFICATE_USE = Values(
    {
        "CSMSRootCertificate": "CentralSystemRootCertificate",
        "ManufacturerRootCertificate": "ManufacturerRootCertificate",
    },
    generic_only={
        name: _ROOT_TYPES
        for name in ("V2GRootCertificate", "MORootCertificate", "V2GCertificateChain")
    },
)

DELETE_CERTIFICATE = ActionMap(
    "DeleteCertificate",
    "DeleteCertificate",
    StructMap(
        v201.DeleteCertificateRequest,
        v16.DeleteCertificateRequest,
        Field("certificateHashData", "certificateHashData", Nested(CERTIFICATE_HASH_DATA)),
    ),
    _answer(
        v201.DeleteCertificateResponse,
        v16.DeleteCertificateResponse,
        "Accepted",
        "Failed",
        "NotFound",
    ),
    note="alike",
)

INSTALL_CERTIFICATE = ActionMap(
    "InstallCertificate",
    "InstallCertificate",
    StructMap(
        v201.InstallCertificateRequest,
        v16.InstallCertificateRequest,
        Field("certificateType", "certificateType", CERTIFICATE_USE),
        Field("certificate", "certificate"),
    ),
    _answer(
        v201.InstallCertificateResponse,
        v16.InstallCertificateResponse,
        "Accepted",
        "Rejected",
        "Failed",
    ),
    note="CSMSRootCertificate <-> CentralSystemRootCertificate; V2G and MO roots are errors",
)

_CHARGING_STATION_CERTIFICATE = (
    "a 1.6 CertificateSigned is the Charge Point's own certificate (ChargingStationCertificate); "
    "1.6 has no V2G certificate"
)

CERTIFICATE_SIGNED = ActionMap(
    "CertificateSigned",
    "CertificateSigned",
    Guarded(
        v201.CertificateSignedRequest,
        v16.CertificateSignedRequest,
        Field("certificateChain", "certificateChain"),
        NotCarried("certificateType", _CHARGING_STATION_CERTIFICATE),
        only={"certificateType": ({"ChargingStationCertificate"}, _CHARGING_STATION_CERTIFICATE)},
    ),
    _answer(v201.CertificateSignedResponse, v16.CertificateSignedResponse, "Accepted", "Rejected"),
    note="certificateType ChargingStationCertificate is implied; V2GCertificate is an error",
)

#: What a GetInstalledCertificateIds with no certificateType (every type) asks of a 1.6 station.
_ALL_TYPES = ("CSMSRootCertificate", "ManufacturerRootCertificate")


_NO_CHILDREN = "1.6 reports root certificates only, with no child certificates"
_EXAMPLE_HASH = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a1",
    "issuerKeyHash": "b2",
    "serialNumber": "c3",
}


def _no_custom(data: Mapping[str, Any], where: Where, field: str) -> None:
    custom = data.get("customData")
    if custom is not None and dict(custom) != {"vendorId": LEGACY_VENDOR}:
        raise where.fail(f"{field}customData", dict(custom), "OCPP 1.6 messages have no customData")


class GetInstalledCertificateIdsAdapter:
    """GetInstalledCertificateIds: one 1.6 CALL per certificate type.

    A 1.6 request names one type; a 2.0.1 one a list, or none for every type, which asks a
    1.6 station for both of its types. The chains of the answers are each answer's hashes,
    with the type asked; the status is Accepted if any answer is. Going back to 1.6, a chain
    with childCertificateHashData, or of a type the 1.6 request did not ask, is an error.
    """

    generic = "GetInstalledCertificateIds"
    legacy = ("GetInstalledCertificateIds",)
    not_carried: Mapping[str, str] = {"statusInfo": STATUS_INFO.why}
    losses = (
        Loss(
            "request",
            "certificateType[0]",
            _ROOT_TYPES,
            {"certificateType": ["V2GRootCertificate"]},
        ),
        Loss(
            "response",
            "certificateHashDataChain[0].childCertificateHashData",
            _NO_CHILDREN,
            {
                "status": "Accepted",
                "certificateHashDataChain": [
                    {
                        "certificateHashData": _EXAMPLE_HASH,
                        "certificateType": "CSMSRootCertificate",
                        "childCertificateHashData": [_EXAMPLE_HASH],
                    }
                ],
            },
        ),
    )
    note = (
        "one CALL per certificateType (none: both 1.6 types); CSMSRootCertificate <-> "
        "CentralSystemRootCertificate"
    )

    def _types(self, request: Any) -> tuple[dict[str, Any], list[str]]:
        data = wire(request, v201.GetInstalledCertificateIdsRequest)
        return data, list(data.get("certificateType") or _ALL_TYPES)

    def request_to_legacy(self, request: Any, where: Where) -> list[tuple[str, Any]]:
        data, types = self._types(request)
        _no_custom(data, where, "")
        return [
            (
                "GetInstalledCertificateIds",
                v16.GetInstalledCertificateIdsRequest(
                    certificate_type=CERTIFICATE_USE.to_legacy(t, where, f"certificateType[{i}]")
                ),
            )
            for i, t in enumerate(types)
        ]

    def response_to_generic(self, responses: list[Any], request: Any, where: Where) -> Any:
        _, types = self._types(request)
        chains = []
        accepted = False
        for kind, response in zip(types, responses, strict=True):
            answer = wire(response, v16.GetInstalledCertificateIdsResponse)
            accepted = accepted or answer["status"] == "Accepted"
            for hashes in answer.get("certificateHashData", []):
                chains.append(
                    {
                        "certificateHashData": CERTIFICATE_HASH_DATA.to_generic_dict(
                            hashes, where.deeper("certificateHashDataChain")
                        ),
                        "certificateType": kind,
                    }
                )
        out: dict[str, Any] = {"status": "Accepted" if accepted else "NotFound"}
        if chains:
            out["certificateHashDataChain"] = chains
        return msgspec.convert(out, v201.GetInstalledCertificateIdsResponse, dec_hook=dec_hook)

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        data = wire(request, v16.GetInstalledCertificateIdsRequest)
        kind = CERTIFICATE_USE.to_generic(
            data["certificateType"], where, "certificateType", _ignore
        )
        return v201.GetInstalledCertificateIdsRequest(certificate_type=[kind])

    def response_to_legacy(self, response: Any, action: str, request: Any, where: Where) -> Any:
        data = wire(response, v201.GetInstalledCertificateIdsResponse)
        _no_custom(data, where, "")
        asked = None
        if request is not None:
            asked = wire(request, v16.GetInstalledCertificateIdsRequest)["certificateType"]
        hashes = []
        for i, chain in enumerate(data.get("certificateHashDataChain", [])):
            field = f"certificateHashDataChain[{i}]"
            _no_custom(chain, where, f"{field}.")
            if "childCertificateHashData" in chain:
                raise where.fail(
                    f"{field}.childCertificateHashData",
                    chain["childCertificateHashData"],
                    _NO_CHILDREN,
                )
            kind = CERTIFICATE_USE.to_legacy(
                chain["certificateType"], where, f"{field}.certificateType"
            )
            if asked is not None and kind != asked:
                raise where.fail(
                    f"{field}.certificateType",
                    chain["certificateType"],
                    f"the 1.6 request asked for {asked} only",
                )
            hashes.append(
                CERTIFICATE_HASH_DATA.to_legacy_dict(
                    chain["certificateHashData"], where.deeper(f"{field}.certificateHashData")
                )
            )
        out: dict[str, Any] = {"status": data["status"]}
        if hashes:
            out["certificateHashData"] = hashes
        return msgspec.convert(out, v16.GetInstalledCertificateIdsResponse, dec_hook=dec_hook)


def _ignore(value: Any) -> None:
    pass


GET_INSTALLED_CERTIFICATE_IDS = GetInstalledCertificateIdsAdapter()

# -- one generic action, two 1.6 actions -----------------------------------------------------


_EXAMPLE_TIME = "2026-01-01T00:00:00Z"


class ChoosingAdapter:
    """One generic action that goes as one of several 1.6 actions, chosen by its content.

    `choose` says which by default; a generic request may name the 1.6 action in its
    customData (vendorId "ocpp1.6", key `ACTION_KEY`). A 1.6 request read where `choose`
    would pick another action gets that mark, so that it goes back as it came. `example` is
    a valid generic request (the docs' example of a wrong mark).
    """

    def __init__(
        self,
        generic: str,
        maps: Mapping[str, ActionMap],
        choose: Any,
        note: str,
        example: Mapping[str, Any],
    ) -> None:
        self.generic = generic
        self.maps = dict(maps)
        self.legacy = tuple(self.maps)
        self.choose = choose
        self.note = note
        self._request_type = getattr(v201, f"{generic}Request")
        # The tables say the rest.
        self.not_carried: Mapping[str, str] = {}
        self.losses = (
            Loss(
                "request",
                f"customData.{ACTION_KEY}",
                f"{generic} goes as {' or '.join(self.legacy)}",
                {**example, "customData": {"vendorId": LEGACY_VENDOR, ACTION_KEY: "Heartbeat"}},
            ),
        )

    def _pick(self, request: Any, where: Where) -> tuple[str, dict[str, Any]]:
        data = wire(request, self._request_type)
        custom = data.get("customData")
        if custom is not None and ACTION_KEY in custom and custom.get("vendorId") == LEGACY_VENDOR:
            action = custom.pop(ACTION_KEY)
            if action not in self.maps:
                raise where.fail(
                    f"customData.{ACTION_KEY}",
                    action,
                    f"{self.generic} goes as {' or '.join(self.legacy)}",
                )
            if set(custom) == {"vendorId"}:
                del data["customData"]
            return action, data
        return self.choose(data), data

    def request_to_legacy(self, request: Any, where: Where) -> list[tuple[str, Any]]:
        action, data = self._pick(request, where)
        return self.maps[action].request_to_legacy(data, where)

    def response_to_generic(self, responses: list[Any], request: Any, where: Where) -> Any:
        action, data = self._pick(request, where)
        return self.maps[action].response_to_generic(responses, data, where)

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        generic = self.maps[action].request_to_generic(action, request, where)
        data = wire(generic, self._request_type)
        if self.choose(data) == action:
            return generic
        custom = data.setdefault("customData", {"vendorId": LEGACY_VENDOR})
        custom[ACTION_KEY] = action
        return msgspec.convert(data, self._request_type, dec_hook=dec_hook)

    def response_to_legacy(self, response: Any, action: str, request: Any, where: Where) -> Any:
        return self.maps[action].response_to_legacy(response, action, request, where)


# TriggerMessage <-> TriggerMessage / ExtendedTriggerMessage

_TRIGGER_EVSE_ROWS = (
    Field("evse.id", "connectorId"),
    NotCarried("evse.connectorId", _ONE_CONNECTOR),
)
_TRIGGER_NOT_IN_16 = {
    name: "1.6 TriggerMessage and ExtendedTriggerMessage cannot request it"
    for name in (
        "SignV2GCertificate",
        "TransactionEvent",
        "SignCombinedCertificate",
        "PublishFirmwareStatusNotification",
    )
}
_COMMON_TRIGGERS = (
    "BootNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
)
_SIGN_CERTIFICATE = {"SignChargingStationCertificate": "SignChargePointCertificate"}
_TRIGGER_STATUS = ("Accepted", "Rejected", "NotImplemented")

TRIGGER_MESSAGE = ActionMap(
    "TriggerMessage",
    "TriggerMessage",
    Guarded(
        v201.TriggerMessageRequest,
        v16.TriggerMessageRequest,
        Field(
            "requestedMessage",
            "requestedMessage",
            Values(
                {
                    **{name: name for name in _COMMON_TRIGGERS},
                    # The status of a core GetDiagnostics upload, which is what GetLog goes
                    # as for a DiagnosticsLog.
                    "LogStatusNotification": "DiagnosticsStatusNotification",
                },
                generic_only={
                    "SignChargingStationCertificate": "1.6 TriggerMessage has no such "
                    "message: ExtendedTriggerMessage (SignChargePointCertificate) has",
                    **_TRIGGER_NOT_IN_16,
                },
            ),
        ),
        *_TRIGGER_EVSE_ROWS,
        only={"evse.connectorId": ({1}, _ONE_CONNECTOR)},
    ),
    _answer(v201.TriggerMessageResponse, v16.TriggerMessageResponse, *_TRIGGER_STATUS),
)

EXTENDED_TRIGGER_MESSAGE = ActionMap(
    "TriggerMessage",
    "ExtendedTriggerMessage",
    Guarded(
        v201.TriggerMessageRequest,
        v16.ExtendedTriggerMessageRequest,
        Field(
            "requestedMessage",
            "requestedMessage",
            Values(
                {
                    **{name: name for name in _COMMON_TRIGGERS},
                    "LogStatusNotification": "LogStatusNotification",
                    **_SIGN_CERTIFICATE,
                },
                generic_only=_TRIGGER_NOT_IN_16,
            ),
        ),
        *_TRIGGER_EVSE_ROWS,
        only={"evse.connectorId": ({1}, _ONE_CONNECTOR)},
    ),
    _answer(v201.TriggerMessageResponse, v16.ExtendedTriggerMessageResponse, *_TRIGGER_STATUS),
)


def _choose_trigger(data: Mapping[str, Any]) -> str:
    if data["requestedMessage"] in _SIGN_CERTIFICATE:
        return "ExtendedTriggerMessage"
    return "TriggerMessage"


TRIGGER = ChoosingAdapter(
    "TriggerMessage",
    {"TriggerMessage": TRIGGER_MESSAGE, "ExtendedTriggerMessage": EXTENDED_TRIGGER_MESSAGE},
    _choose_trigger,
    "TriggerMessage (LogStatusNotification <-> DiagnosticsStatusNotification, as GetLog of a "
    "DiagnosticsLog is GetDiagnostics); ExtendedTriggerMessage for "
    "SignChargingStationCertificate (<-> SignChargePointCertificate), or when customData "
    "names it (LogStatusNotification of a Security Whitepaper GetLog)",
    {"requestedMessage": "Heartbeat"},
)

# UpdateFirmware <-> UpdateFirmware / SignedUpdateFirmware

_SIGNED_ONLY = "1.6 UpdateFirmware has no {}: it goes as SignedUpdateFirmware, which needs both "
_SIGNED_ONLY += "signingCertificate and signature"


class _CoreRequest(ActionMap):
    """A core 1.6 request with no requestId, read as a 2.0.1 one that needs it: the link
    gives one and remembers which core action it came from (`LinkState.core_request`), so
    that the station's status notifications with it go back as the core ones."""

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        generic = self.request.to_generic(request, where)
        core_request = getattr(where.link, "core_request", None)
        if core_request is None:
            return generic
        data = wire(generic, self.request.generic)
        data["requestId"] = core_request(action)
        return msgspec.convert(data, self.request.generic, dec_hook=dec_hook)


UPDATE_FIRMWARE_CORE = _CoreRequest(
    "UpdateFirmware",
    "UpdateFirmware",
    Guarded(
        v201.UpdateFirmwareRequest,
        v16.UpdateFirmwareRequest,
        NotCarried(
            "requestId",
            "1.6 UpdateFirmware has no requestId (FirmwareStatusNotification echoes none); "
            "read as one the link gives and remembers (0 with no link)",
            fill=0,
        ),
        Field("firmware.location", "location"),
        Field("firmware.retrieveDateTime", "retrieveDate"),
        Field("retries", "retries"),
        Field("retryInterval", "retryInterval"),
        refuse={
            "firmware.installDateTime": "1.6 UpdateFirmware installs when downloaded; only "
            "SignedUpdateFirmware has an installDateTime (it needs a signing certificate and "
            "a signature)",
            "firmware.signingCertificate": _SIGNED_ONLY.format("signingCertificate"),
            "firmware.signature": _SIGNED_ONLY.format("signature"),
        },
    ),
    Guarded(
        v201.UpdateFirmwareResponse,
        v16.UpdateFirmwareResponse,
        NotCarried(
            "status", "1.6 UpdateFirmware.conf is empty: answering is accepting", fill="Accepted"
        ),
        STATUS_INFO,
        only={
            "status": (
                {"Accepted"},
                "1.6 UpdateFirmware.conf is empty: a 1.6 Charge Point cannot refuse "
                "(other than by a CALLERROR)",
            )
        },
    ),
)

FIRMWARE = StructMap(
    v201.Firmware,
    v16.Firmware,
    Field("location", "location"),
    Field("retrieveDateTime", "retrieveDateTime"),
    Field("installDateTime", "installDateTime"),
    Field("signingCertificate", "signingCertificate"),
    Field("signature", "signature"),
)

UPDATE_FIRMWARE_SIGNED = ActionMap(
    "UpdateFirmware",
    "SignedUpdateFirmware",
    StructMap(
        v201.UpdateFirmwareRequest,
        v16.SignedUpdateFirmwareRequest,
        Field("requestId", "requestId"),
        Field("firmware", "firmware", Nested(FIRMWARE)),
        Field("retries", "retries"),
        Field("retryInterval", "retryInterval"),
    ),
    _answer(
        v201.UpdateFirmwareResponse,
        v16.SignedUpdateFirmwareResponse,
        "Accepted",
        "Rejected",
        "AcceptedCanceled",
        "InvalidCertificate",
        "RevokedCertificate",
    ),
)


def _choose_firmware(data: Mapping[str, Any]) -> str:
    firmware = data["firmware"]
    if "signingCertificate" in firmware or "signature" in firmware:
        return "SignedUpdateFirmware"
    return "UpdateFirmware"


UPDATE_FIRMWARE = ChoosingAdapter(
    "UpdateFirmware",
    {"UpdateFirmware": UPDATE_FIRMWARE_CORE, "SignedUpdateFirmware": UPDATE_FIRMWARE_SIGNED},
    _choose_firmware,
    "UpdateFirmware (requestId not carried; read, the link gives one; its empty answer is "
    "Accepted); "
    "SignedUpdateFirmware when the firmware has a signing certificate or signature",
    {"requestId": 1, "firmware": {"location": "https://x/", "retrieveDateTime": _EXAMPLE_TIME}},
)

# GetLog <-> GetDiagnostics / GetLog

GET_DIAGNOSTICS = _CoreRequest(
    "GetLog",
    "GetDiagnostics",
    Guarded(
        v201.GetLogRequest,
        v16.GetDiagnosticsRequest,
        NotCarried(
            "logType",
            "1.6 GetDiagnostics uploads the diagnostics log (DiagnosticsLog)",
            fill="DiagnosticsLog",
        ),
        NotCarried(
            "requestId",
            "1.6 GetDiagnostics has no requestId (DiagnosticsStatusNotification echoes none); "
            "read as one the link gives and remembers (0 with no link)",
            fill=0,
        ),
        Field("log.remoteLocation", "location"),
        Field("log.oldestTimestamp", "startTime"),
        Field("log.latestTimestamp", "stopTime"),
        Field("retries", "retries"),
        Field("retryInterval", "retryInterval"),
        only={
            "logType": (
                {"DiagnosticsLog"},
                "1.6 GetDiagnostics uploads diagnostics; a SecurityLog goes by GetLog",
            )
        },
    ),
    Guarded(
        v201.GetLogResponse,
        v16.GetDiagnosticsResponse,
        NotCarried(
            "status",
            "1.6 GetDiagnostics.conf has no status: answering is accepting",
            fill="Accepted",
        ),
        STATUS_INFO,
        Field("filename", "fileName"),
        only={
            "status": (
                {"Accepted"},
                "1.6 GetDiagnostics.conf has no status: a 1.6 Charge Point cannot refuse "
                "(other than by a CALLERROR)",
            )
        },
    ),
)

LOG_PARAMETERS = StructMap(
    v201.LogParameters,
    v16.LogParameters,
    Field("remoteLocation", "remoteLocation"),
    Field("oldestTimestamp", "oldestTimestamp"),
    Field("latestTimestamp", "latestTimestamp"),
)

GET_LOG_SECURITY = ActionMap(
    "GetLog",
    "GetLog",
    StructMap(
        v201.GetLogRequest,
        v16.GetLogRequest,
        Field("log", "log", Nested(LOG_PARAMETERS)),
        Field("logType", "logType", Values.same("DiagnosticsLog", "SecurityLog")),
        Field("requestId", "requestId"),
        Field("retries", "retries"),
        Field("retryInterval", "retryInterval"),
    ),
    StructMap(
        v201.GetLogResponse,
        v16.GetLogResponse,
        _statuses("Accepted", "Rejected", "AcceptedCanceled"),
        STATUS_INFO,
        Field("filename", "filename"),
    ),
)


def _choose_log(data: Mapping[str, Any]) -> str:
    return "GetLog" if data["logType"] == "SecurityLog" else "GetDiagnostics"


GET_LOG = ChoosingAdapter(
    "GetLog",
    {"GetDiagnostics": GET_DIAGNOSTICS, "GetLog": GET_LOG_SECURITY},
    _choose_log,
    "DiagnosticsLog as GetDiagnostics (core; requestId not carried, read, the link gives "
    "one; its answer is Accepted), "
    "SecurityLog as the Security Whitepaper's GetLog",
    {"log": {"remoteLocation": "ftp://x/"}, "logType": "SecurityLog", "requestId": 1},
)

#: Every CSMS-initiated generic action with a 1.6 counterpart, one adapter each.
CSMS_ACTIONS: tuple[ActionAdapter, ...] = (
    CANCEL_RESERVATION,
    CERTIFICATE_SIGNED,
    CHANGE_AVAILABILITY,
    CLEAR_CACHE,
    CLEAR_CHARGING_PROFILE,
    DATA_TRANSFER,
    DELETE_CERTIFICATE,
    GET_COMPOSITE_SCHEDULE,
    GET_INSTALLED_CERTIFICATE_IDS,
    GET_LOCAL_LIST_VERSION,
    GET_LOG,
    GET_VARIABLES,
    INSTALL_CERTIFICATE,
    REQUEST_START_TRANSACTION,
    REQUEST_STOP_TRANSACTION,
    RESERVE_NOW,
    RESET,
    SEND_LOCAL_LIST,
    SET_CHARGING_PROFILE,
    SET_VARIABLES,
    TRIGGER,
    UNLOCK_CONNECTOR,
    UPDATE_FIRMWARE,
)
