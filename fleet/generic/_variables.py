"""Configuration: 1.6 configuration keys <-> 2.0.1 device-model variables, and the adapters
SetVariables <-> ChangeConfiguration and GetVariables <-> GetConfiguration.

`CONFIGURATION_KEYS` is the table of every standard key that both specs define: the 1.6
spec's chapter 9 "Standard Configuration Key Names & Values" (and the 1.6 Security
Whitepaper's keys) against the 2.0.1 Part 2 Appendices' "Standardized Components/Variables".
`LEGACY_ONLY_KEYS` lists the standard 1.6 keys with no 2.0.1 variable, and why.

Any other 1.6 key (those, and vendor keys) is the variable of the same name of the component
`LEGACY_COMPONENT` ("ocpp1.6"): ``component {name: "ocpp1.6"}, variable {name: "BlinkRepeat"}``
is 1.6 key BlinkRepeat, both ways. A variable of another component that the table does not
name has no 1.6 key: sending it is a `NotExpressible` error.

Only the Actual attribute has a 1.6 counterpart (1.6 keys have one value), and only
station-wide variables (no component evse or instance: 1.6 keys are per Charge Point).

GetBaseReport has no 1.6 counterpart one call for one (it answers by NotifyReport); for "get
all variables" on 1.6, send `get_all_request()` and read its answer with
`configuration_to_variables`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import msgspec

from fleet.generic._engine import LEGACY_VENDOR, Loss, Where, wire
from fleet.ocpp import dec_hook, v16, v201

__all__ = [
    "CONFIGURATION_KEYS",
    "GET_VARIABLES",
    "LEGACY_COMPONENT",
    "LEGACY_ONLY_KEYS",
    "SET_VARIABLES",
    "ConfigurationKey",
    "ConfigurationVariable",
    "ValueForm",
    "configuration_to_variables",
    "get_all_request",
    "key_of",
    "variable_of",
]

#: The component whose variables are 1.6 keys of the same name (for keys the table lacks).
LEGACY_COMPONENT = LEGACY_VENDOR

#: 1.6 ChangeConfiguration.req value: at most 500 characters (2.0.1 allows 1000).
_VALUE_LENGTH = 500


class ValueForm:
    """How a key's value is written in each version.

    Args:
        doc: what the docs table says.
        members: for a comma-separated list whose members are spelled differently, 2.0.1
            member -> 1.6 member.
    """

    def __init__(self, doc: str, members: Mapping[str, str] | None = None) -> None:
        self.doc = doc
        self.members = dict(members or {})
        self.back = {legacy: generic for generic, legacy in self.members.items()}

    def to_legacy(self, value: str) -> str | None:
        """The 1.6 value, or None if a list member has no 1.6 spelling."""
        if not self.members:
            return value
        out = []
        for member in value.split(","):
            legacy = self.members.get(member.strip())
            if legacy is None:
                return None
            out.append(legacy)
        return ",".join(out)

    def to_generic(self, value: str) -> str:
        """The 2.0.1 value; a member with no 2.0.1 spelling is kept as the station wrote it."""
        if not self.members:
            return value
        return ",".join(self.back.get(m.strip(), m.strip()) for m in value.split(","))


SAME_TEXT = ValueForm("same text (integers as decimals, booleans as true/false)")
SAME_LIST = ValueForm("comma-separated list, same members (1.6 CSL, 2.0.1 MemberList)")
RATE_UNITS = ValueForm(
    "comma-separated list: 1.6 Current, Power <-> 2.0.1 A, W", {"A": "Current", "W": "Power"}
)


@dataclasses.dataclass(frozen=True)
class ConfigurationKey:
    """A standard 1.6 key and its 2.0.1 variable.

    Attributes:
        key: the 1.6 key.
        component, variable, instance: the 2.0.1 component name, variable name and variable
            instance (None: none).
        value: how the value is written.
        mutability: the 1.6 key's accessibility as a 2.0.1 mutability: ReadOnly (R),
            ReadWrite (RW), WriteOnly (W); a GetConfiguration answer's readonly when the
            generic one does not say.
        note: where the two differ.
    """

    key: str
    component: str
    variable: str
    instance: str | None = None
    value: ValueForm = SAME_TEXT
    mutability: str = "ReadWrite"
    note: str = ""


_K = ConfigurationKey
RO = "ReadOnly"

CONFIGURATION_KEYS: tuple[ConfigurationKey, ...] = (
    # 1.6 chapter 9.1, Core Profile
    _K("AllowOfflineTxForUnknownId", "AuthCtrlr", "OfflineTxForUnknownIdEnabled"),
    _K("AuthorizationCacheEnabled", "AuthCacheCtrlr", "Enabled"),
    _K(
        "AuthorizeRemoteTxRequests",
        "AuthCtrlr",
        "AuthorizeRemoteStart",
        note="1.6: R or RW, the Charge Point chooses",
    ),
    _K("ClockAlignedDataInterval", "AlignedDataCtrlr", "Interval", note="seconds; 0: none"),
    _K(
        "ConnectionTimeOut",
        "TxCtrlr",
        "EVConnectionTimeOut",
        note="seconds; 1.6 counts from status Preparing, 2.0.1 from the transaction's start",
    ),
    _K(
        "GetConfigurationMaxKeys",
        "DeviceDataCtrlr",
        "ItemsPerMessage",
        "GetVariables",
        mutability=RO,
    ),
    _K("HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval", note="seconds"),
    _K("LocalAuthorizeOffline", "AuthCtrlr", "LocalAuthorizeOffline"),
    _K("LocalPreAuthorize", "AuthCtrlr", "LocalPreAuthorize"),
    _K("MaxEnergyOnInvalidId", "TxCtrlr", "MaxEnergyOnInvalidId", note="Wh"),
    _K("MeterValuesAlignedData", "AlignedDataCtrlr", "Measurands", value=SAME_LIST),
    _K("MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands", value=SAME_LIST),
    _K("MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval", note="seconds"),
    _K("ResetRetries", "OCPPCommCtrlr", "ResetRetries"),
    _K("StopTransactionOnEVSideDisconnect", "TxCtrlr", "StopTxOnEVSideDisconnect"),
    _K("StopTransactionOnInvalidId", "TxCtrlr", "StopTxOnInvalidId"),
    _K("StopTxnAlignedData", "AlignedDataCtrlr", "TxEndedMeasurands", value=SAME_LIST),
    _K("StopTxnSampledData", "SampledDataCtrlr", "TxEndedMeasurands", value=SAME_LIST),
    _K(
        "TransactionMessageAttempts",
        "OCPPCommCtrlr",
        "MessageAttempts",
        "TransactionEvent",
        note="1.6 counts StartTransaction, StopTransaction and transaction MeterValues",
    ),
    _K(
        "TransactionMessageRetryInterval",
        "OCPPCommCtrlr",
        "MessageAttemptInterval",
        "TransactionEvent",
        note="seconds",
    ),
    _K("UnlockConnectorOnEVSideDisconnect", "OCPPCommCtrlr", "UnlockOnEVSideDisconnect"),
    _K("WebSocketPingInterval", "OCPPCommCtrlr", "WebSocketPingInterval", note="seconds; 0: off"),
    # 9.2 Local Auth List Management Profile
    _K("LocalAuthListEnabled", "LocalAuthListCtrlr", "Enabled"),
    _K("SendLocalListMaxLength", "LocalAuthListCtrlr", "ItemsPerMessage", mutability=RO),
    # 9.3 Reservation Profile
    _K(
        "ReserveConnectorZeroSupported",
        "ReservationCtrlr",
        "NonEvseSpecific",
        mutability=RO,
        note="a reservation of connector 0 (1.6) is one with no evseId (2.0.1)",
    ),
    # 9.4 Smart Charging Profile
    _K("ChargeProfileMaxStackLevel", "SmartChargingCtrlr", "ProfileStackLevel", mutability=RO),
    _K(
        "ChargingScheduleAllowedChargingRateUnit",
        "SmartChargingCtrlr",
        "RateUnit",
        value=RATE_UNITS,
        mutability=RO,
    ),
    _K("ChargingScheduleMaxPeriods", "SmartChargingCtrlr", "PeriodsPerSchedule", mutability=RO),
    _K("ConnectorSwitch3to1PhaseSupported", "SmartChargingCtrlr", "Phases3to1", mutability=RO),
    # 1.6 Security Whitepaper, configuration keys
    _K(
        "AdditionalRootCertificateCheck",
        "SecurityCtrlr",
        "AdditionalRootCertificateCheck",
        mutability=RO,
    ),
    _K(
        "AuthorizationKey",
        "SecurityCtrlr",
        "BasicAuthPassword",
        mutability="WriteOnly",
        note="the HTTP Basic Auth password, passed as written (1.6 stations may expect hex)",
    ),
    _K(
        "CertificateSignedMaxChainSize",
        "SecurityCtrlr",
        "MaxCertificateChainSize",
        mutability=RO,
    ),
    _K("CpoName", "SecurityCtrlr", "OrganizationName"),
    _K(
        "SecurityProfile",
        "SecurityCtrlr",
        "SecurityProfile",
        note="RW in 1.6; ReadOnly in 2.0.1 (changed by SetNetworkProfile there)",
    ),
)

#: Standard 1.6 keys with no 2.0.1 variable (they pass as variables of `LEGACY_COMPONENT`).
LEGACY_ONLY_KEYS: tuple[tuple[str, str], ...] = (
    ("BlinkRepeat", "2.0.1 standardizes no lighting variables"),
    ("LightIntensity", "2.0.1 standardizes no lighting variables"),
    (
        "ConnectorPhaseRotation",
        "one list for every connector; 2.0.1 has a PhaseRotation variable per EVSE/Connector "
        "component instead",
    ),
    ("ConnectorPhaseRotationMaxLength", "a list length; 2.0.1 puts limits in characteristics"),
    ("MeterValuesAlignedDataMaxLength", "a list length; 2.0.1 puts limits in characteristics"),
    ("MeterValuesSampledDataMaxLength", "a list length; 2.0.1 puts limits in characteristics"),
    ("StopTxnAlignedDataMaxLength", "a list length; 2.0.1 puts limits in characteristics"),
    ("StopTxnSampledDataMaxLength", "a list length; 2.0.1 puts limits in characteristics"),
    ("SupportedFeatureProfiles", "2.0.1 has functional blocks, no variable listing them"),
    ("SupportedFeatureProfilesMaxLength", "a list length; 2.0.1 puts limits in characteristics"),
    ("MinimumStatusDuration", "2.0.1 has no such variable"),
    ("NumberOfConnectors", "2.0.1 describes EVSEs and connectors as components, not a count"),
    (
        "LocalAuthListMaxLength",
        "a maximum; 2.0.1 LocalAuthListCtrlr.Entries is the current count (its maxLimit "
        "the maximum, a characteristic)",
    ),
    (
        "MaxChargingProfilesInstalled",
        "a maximum; 2.0.1 SmartChargingCtrlr.Entries(ChargingProfiles) is the current count",
    ),
    (
        "CertificateStoreMaxLength",
        "a maximum; 2.0.1 SecurityCtrlr.CertificateEntries is the current count",
    ),
)

_BY_KEY = {entry.key: entry for entry in CONFIGURATION_KEYS}

#: Every standard 1.6 key, in the order of the tables: what a 1.6 GetConfiguration without
#: keys asks a generic station for (as GetVariables of each key's variable).
STANDARD_KEYS: tuple[str, ...] = (
    *(entry.key for entry in CONFIGURATION_KEYS),
    *(key for key, _ in LEGACY_ONLY_KEYS),
)

#: The customData mark of a GetVariables read from a 1.6 GetConfiguration without keys.
ALL_KEYS = "allKeys"
_BY_VARIABLE = {(e.component, e.variable, e.instance): e for e in CONFIGURATION_KEYS}


def variable_of(key: str) -> tuple[dict[str, Any], dict[str, Any], ConfigurationKey | None]:
    """The 2.0.1 component and variable (wire form) of a 1.6 key, and its table entry."""
    entry = _BY_KEY.get(key)
    if entry is None:
        return {"name": LEGACY_COMPONENT}, {"name": key}, None
    variable = {"name": entry.variable}
    if entry.instance is not None:
        variable["instance"] = entry.instance
    return {"name": entry.component}, variable, entry


def key_of(
    component: Mapping[str, Any], variable: Mapping[str, Any], where: Where, field: str
) -> tuple[str, ConfigurationKey | None]:
    """The 1.6 key of a 2.0.1 component and variable (wire form), and its table entry.

    Raises:
        NotExpressible: no 1.6 key is that variable (`field` is the item's path).
    """
    for part, data in (("component", component), ("variable", variable)):
        if "customData" in data:
            raise where.fail(f"{field}.{part}.customData", data["customData"], _NO_CUSTOM)
    if "evse" in component:
        raise where.fail(f"{field}.component.evse", component["evse"], _NO_EVSE)
    if "instance" in component:
        raise where.fail(
            f"{field}.component.instance", component["instance"], _NO_COMPONENT_INSTANCE
        )
    name = component["name"]
    if name == LEGACY_COMPONENT:
        if "instance" in variable:
            raise where.fail(f"{field}.variable.instance", variable["instance"], _NO_KEY_INSTANCE)
        return variable["name"], _BY_KEY.get(variable["name"])
    entry = _BY_VARIABLE.get((name, variable["name"], variable.get("instance")))
    if entry is None:
        shown = f"{name}.{variable['name']}"
        if "instance" in variable:
            shown += f"[{variable['instance']}]"
        raise where.fail(f"{field}.variable", shown, _NO_KEY)
    return entry.key, entry


_NO_CUSTOM = "1.6 ChangeConfiguration and GetConfiguration have no customData"
_NO_EVSE = "1.6 configuration keys are per Charge Point; none is an EVSE's"
_NO_COMPONENT_INSTANCE = "1.6 configuration keys name no component instance"
_NO_KEY_INSTANCE = (
    f"a variable of {LEGACY_COMPONENT} is the 1.6 key of its name; keys have no instance"
)
_NO_KEY = (
    "no standard 1.6 configuration key is this variable; a 1.6 key the table lacks is a "
    f"variable of component {LEGACY_COMPONENT!r} named as the key"
)
_ACTUAL_ONLY = "a 1.6 configuration key has one value, the Actual one (no Target, MinSet, MaxSet)"
_TOO_LONG = f"a 1.6 configuration value is at most {_VALUE_LENGTH} characters"
_ONE_STATUS = "a 1.6 ChangeConfiguration sets one key: its answer is one status"


def _item(attribute_type: str | None = None, **fields: Any) -> dict[str, Any]:
    """A variable item of the docs' examples (HeartbeatInterval unless told)."""
    item: dict[str, Any] = {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
    }
    if attribute_type is not None:
        item["attributeType"] = attribute_type
    return {**item, **fields}


def _result() -> dict[str, Any]:
    return _item(attributeStatus="Accepted")


def _attribute_type(item: Mapping[str, Any], where: Where, field: str) -> None:
    kind = item.get("attributeType", "Actual")
    if kind != "Actual":
        raise where.fail(f"{field}.attributeType", kind, _ACTUAL_ONLY)


def _no_custom(
    data: Mapping[str, Any], where: Where, field: str, allowed: tuple[str, ...] = ()
) -> None:
    custom = data.get("customData")
    if custom is None:
        return
    extra = {k: v for k, v in custom.items() if k != "vendorId" and k not in allowed}
    if custom.get("vendorId") != LEGACY_VENDOR or extra:
        raise where.fail(f"{field}customData", dict(custom), _NO_CUSTOM)


# -- SetVariables <-> ChangeConfiguration ---------------------------------------------------

#: 1.6 ConfigurationStatus -> 2.0.1 SetVariableStatusEnum.
_SET_STATUS = {
    "Accepted": "Accepted",
    "Rejected": "Rejected",
    "RebootRequired": "RebootRequired",
    "NotSupported": "UnknownVariable",
}
#: 2.0.1 SetVariableStatusEnum -> 1.6 ConfigurationStatus.
_SET_STATUS_BACK = {
    "Accepted": "Accepted",
    "Rejected": "Rejected",
    "RebootRequired": "RebootRequired",
    "UnknownVariable": "NotSupported",
    "UnknownComponent": "NotSupported",
    "NotSupportedAttributeType": "Rejected",
}


class SetVariablesAdapter:
    """SetVariables <-> ChangeConfiguration: one 1.6 CALL per setVariableData item.

    Statuses: Accepted, Rejected, RebootRequired alike; 1.6 NotSupported (unknown key) <->
    UnknownVariable; UnknownComponent reads as NotSupported and NotSupportedAttributeType as
    Rejected (a 1.6 request is always the Actual attribute). attributeStatusInfo is not
    carried (a 1.6 answer is a status only).
    """

    generic = "SetVariables"
    legacy = ("ChangeConfiguration",)
    not_carried: Mapping[str, str] = {
        "setVariableResult[].attributeStatusInfo": "a 1.6 answer is a status only",
    }
    losses = (
        Loss(
            "request",
            "setVariableData[0].attributeType",
            _ACTUAL_ONLY,
            {"setVariableData": [_item("Target", attributeValue="60")]},
        ),
        Loss(
            "request",
            "setVariableData[0].variable",
            _NO_KEY,
            {
                "setVariableData": [
                    {
                        "attributeValue": "UTC",
                        "component": {"name": "ClockCtrlr"},
                        "variable": {"name": "TimeZone"},
                    }
                ]
            },
        ),
        Loss(
            "request",
            "setVariableData[0].component.evse",
            _NO_EVSE,
            {
                "setVariableData": [
                    _item(attributeValue="60", component={"name": "TxCtrlr", "evse": {"id": 1}})
                ]
            },
        ),
        Loss(
            "request",
            "setVariableData[0].attributeValue",
            _TOO_LONG,
            {"setVariableData": [_item(attributeValue="9" * 501)]},
        ),
        Loss(
            "response",
            "setVariableResult",
            _ONE_STATUS,
            {"setVariableResult": [_result(), _result()]},
        ),
    )
    note = (
        "one ChangeConfiguration per item, keys by the configuration table; a 1.6 answer "
        "NotSupported is UnknownVariable"
    )

    def request_to_legacy(self, request: Any, where: Where) -> list[tuple[str, Any]]:
        data = wire(request, v201.SetVariablesRequest)
        _no_custom(data, where, "")
        calls = []
        for i, item in enumerate(data["setVariableData"]):
            field = f"setVariableData[{i}]"
            _no_custom(item, where, f"{field}.")
            _attribute_type(item, where, field)
            key, entry = key_of(item["component"], item["variable"], where, field)
            value = item["attributeValue"]
            legacy = value if entry is None else entry.value.to_legacy(value)
            if legacy is None:
                raise where.fail(
                    f"{field}.attributeValue", value, f"1.6 {key} has {entry.value.doc}"
                )
            if len(legacy) > _VALUE_LENGTH:
                raise where.fail(f"{field}.attributeValue", value, _TOO_LONG)
            calls.append(
                ("ChangeConfiguration", v16.ChangeConfigurationRequest(key=key, value=legacy))
            )
        return calls

    def response_to_generic(self, responses: list[Any], request: Any, where: Where) -> Any:
        data = wire(request, v201.SetVariablesRequest)
        results = []
        for item, response in zip(data["setVariableData"], responses, strict=True):
            answer = wire(response, v16.ChangeConfigurationResponse)
            result = {
                "attributeStatus": _SET_STATUS[answer["status"]],
                "component": item["component"],
                "variable": item["variable"],
            }
            if "attributeType" in item:
                result["attributeType"] = item["attributeType"]
            results.append(result)
        return msgspec.convert(
            {"setVariableResult": results}, v201.SetVariablesResponse, dec_hook=dec_hook
        )

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        data = wire(request, v16.ChangeConfigurationRequest)
        component, variable, entry = variable_of(data["key"])
        value = data["value"] if entry is None else entry.value.to_generic(data["value"])
        item = {"attributeValue": value, "component": component, "variable": variable}
        return msgspec.convert(
            {"setVariableData": [item]}, v201.SetVariablesRequest, dec_hook=dec_hook
        )

    def response_to_legacy(self, response: Any, action: str, request: Any, where: Where) -> Any:
        data = wire(response, v201.SetVariablesResponse)
        _no_custom(data, where, "")
        results = data["setVariableResult"]
        if len(results) != 1:
            raise where.fail("setVariableResult", results, _ONE_STATUS)
        _no_custom(results[0], where, "setVariableResult[0].")
        status = _SET_STATUS_BACK[results[0]["attributeStatus"]]
        return v16.ChangeConfigurationResponse(status=v16.ConfigurationStatus(status))


# -- GetVariables <-> GetConfiguration ------------------------------------------------------


class GetVariablesAdapter:
    """GetVariables <-> GetConfiguration: one 1.6 CALL with every item's key.

    A 1.6 key in configurationKey is Accepted with its value, and its readonly is kept in the
    result's customData (``{"vendorId": "ocpp1.6", "readonly": true}``: GetVariableResult
    has no mutability); a key in unknownKey is UnknownVariable; a key the answer leaves out is
    Rejected (as 2.0.1 answers a WriteOnly variable). Keys the station reported unasked stay
    in the response's customData. Going back to 1.6, results are read in the order of the
    request's keys; Rejected (and NotSupportedAttributeType) keys are left out, readonly
    comes from customData, else from the key's 1.6 accessibility, else false.
    """

    generic = "GetVariables"
    legacy = ("GetConfiguration",)
    not_carried: Mapping[str, str] = {
        "getVariableResult[].attributeStatusInfo": "a 1.6 key is known or unknown, no more",
        "getVariableResult[].attributeStatus": "Rejected and NotSupportedAttributeType keys "
        "are left out of the 1.6 answer (1.6 has no refused key)",
    }
    losses = (
        Loss(
            "request",
            "getVariableData[0].attributeType",
            _ACTUAL_ONLY,
            {"getVariableData": [_item("MaxSet")]},
        ),
        Loss(
            "request",
            "getVariableData[0].component.instance",
            _NO_COMPONENT_INSTANCE,
            {"getVariableData": [_item(component={"name": "TxCtrlr", "instance": "a"})]},
        ),
        Loss(
            "request",
            "getVariableData[0].variable.instance",
            _NO_KEY_INSTANCE,
            {
                "getVariableData": [
                    {
                        "component": {"name": LEGACY_COMPONENT},
                        "variable": {"name": "BlinkRepeat", "instance": "1"},
                    }
                ]
            },
        ),
    )
    note = (
        "one GetConfiguration with every item's key; readonly kept in each result's "
        "customData; a GetConfiguration without keys asks every standard key's variable "
        "(customData allKeys), and the answer lists those the station knows"
    )

    def request_to_legacy(self, request: Any, where: Where) -> list[tuple[str, Any]]:
        data = wire(request, v201.GetVariablesRequest)
        if _asks_all(data):
            return [("GetConfiguration", v16.GetConfigurationRequest())]
        _no_custom(data, where, "")
        keys = []
        for i, item in enumerate(data["getVariableData"]):
            field = f"getVariableData[{i}]"
            _no_custom(item, where, f"{field}.")
            _attribute_type(item, where, field)
            keys.append(key_of(item["component"], item["variable"], where, field)[0])
        return [("GetConfiguration", v16.GetConfigurationRequest(key=keys))]

    def response_to_generic(self, responses: list[Any], request: Any, where: Where) -> Any:
        (response,) = responses
        answer = wire(response, v16.GetConfigurationResponse)
        data = wire(request, v201.GetVariablesRequest)
        every = _asks_all(data)
        known = {kv["key"]: kv for kv in answer.get("configurationKey", [])}
        unknown = set(answer.get("unknownKey", []))
        asked = set()
        results = []
        for i, item in enumerate(data["getVariableData"]):
            key, entry = key_of(item["component"], item["variable"], where, f"getVariableData[{i}]")
            asked.add(key)
            result: dict[str, Any] = {"component": item["component"], "variable": item["variable"]}
            if "attributeType" in item:
                result["attributeType"] = item["attributeType"]
            if key in known:
                result["attributeStatus"] = "Accepted"
                value = known[key].get("value")
                if value is not None:
                    result["attributeValue"] = (
                        value if entry is None else entry.value.to_generic(value)
                    )
                result["customData"] = {
                    "vendorId": LEGACY_VENDOR,
                    "readonly": known[key]["readonly"],
                }
            elif key in unknown or every:  # a get-all answer lists only the keys it has
                result["attributeStatus"] = "UnknownVariable"
            else:
                result["attributeStatus"] = "Rejected"
            results.append(result)
        out: dict[str, Any] = {"getVariableResult": results}
        extra: dict[str, Any] = {}
        unasked = [kv for kv in answer.get("configurationKey", []) if kv["key"] not in asked]
        if unasked:
            extra["configurationKey"] = unasked
        unasked_unknown = [k for k in answer.get("unknownKey", []) if k not in asked]
        if unasked_unknown:
            extra["unknownKey"] = unasked_unknown
        if extra:
            out["customData"] = {"vendorId": LEGACY_VENDOR, **extra}
        return msgspec.convert(out, v201.GetVariablesResponse, dec_hook=dec_hook)

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        data = wire(request, v16.GetConfigurationRequest)
        keys = data.get("key") or []
        out: dict[str, Any] = {}
        if not keys:
            # Every key: 2.0.1 would send GetBaseReport, answered later by NotifyReport; a
            # 1.6 CSMS wants them in the answer. So the generic handler is asked for every
            # standard key's variable, and the keys it knows are the answer.
            keys = list(STANDARD_KEYS)
            out["customData"] = {"vendorId": LEGACY_VENDOR, ALL_KEYS: True}
        items = []
        for key in keys:
            component, variable, _ = variable_of(key)
            items.append({"component": component, "variable": variable})
        out["getVariableData"] = items
        return msgspec.convert(out, v201.GetVariablesRequest, dec_hook=dec_hook)

    def response_to_legacy(self, response: Any, action: str, request: Any, where: Where) -> Any:
        data = wire(response, v201.GetVariablesResponse)
        _no_custom(data, where, "", ("configurationKey", "unknownKey"))
        keys = wire(request, v16.GetConfigurationRequest).get("key") or []
        every = not keys  # a get-all: only the keys the station has are answered
        if every:
            keys = list(STANDARD_KEYS)
        results = data["getVariableResult"]
        if len(results) != len(keys):
            raise where.fail(
                "getVariableResult",
                len(results),
                f"the 1.6 GetConfiguration asked {len(keys)} keys: one result each, in order",
            )
        known: list[dict[str, Any]] = []
        unknown: list[str] = []
        for i, (key, result) in enumerate(zip(keys, results, strict=True)):
            _no_custom(result, where, f"getVariableResult[{i}].", ("readonly",))
            status = result["attributeStatus"]
            entry = _BY_KEY.get(key)
            if status == "Accepted":
                kv: dict[str, Any] = {"key": key, "readonly": _readonly(result, entry)}
                value = result.get("attributeValue")
                if value is not None:
                    legacy = value if entry is None else entry.value.to_legacy(value)
                    if legacy is None or len(legacy) > _VALUE_LENGTH:
                        why = (
                            _TOO_LONG if legacy is not None else f"1.6 {key} has {entry.value.doc}"  # type: ignore[union-attr]
                        )
                        raise where.fail(f"getVariableResult[{i}].attributeValue", value, why)
                    kv["value"] = legacy
                known.append(kv)
            elif status in ("UnknownVariable", "UnknownComponent") and not every:
                unknown.append(key)
        custom = data.get("customData") or {}
        known += custom.get("configurationKey", [])
        unknown += custom.get("unknownKey", [])
        out: dict[str, Any] = {}
        if known:
            out["configurationKey"] = known
        if unknown:
            out["unknownKey"] = unknown
        return msgspec.convert(out, v16.GetConfigurationResponse, dec_hook=dec_hook)


def _asks_all(data: Mapping[str, Any]) -> bool:
    custom = data.get("customData")
    return bool(custom) and custom.get("vendorId") == LEGACY_VENDOR and bool(custom.get(ALL_KEYS))


def _readonly(result: Mapping[str, Any], entry: ConfigurationKey | None) -> bool:
    custom = result.get("customData") or {}
    if "readonly" in custom:
        return bool(custom["readonly"])
    return entry is not None and entry.mutability == RO


SET_VARIABLES = SetVariablesAdapter()
GET_VARIABLES = GetVariablesAdapter()


# -- "get all variables" ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ConfigurationVariable:
    """One 1.6 configuration key read as a 2.0.1 variable.

    Attributes:
        component, variable, instance: the 2.0.1 names (component `LEGACY_COMPONENT` and
            variable = key for a key the table lacks).
        value: the Actual value in 2.0.1 form; None if the station gave none.
        readonly: the 1.6 readonly flag.
        key: the 1.6 key.
    """

    component: str
    variable: str
    instance: str | None
    value: str | None
    readonly: bool
    key: str


def get_all_request() -> v16.GetConfigurationRequest:
    """The 1.6 request for every configuration key (a GetConfiguration with no keys): what a
    2.0.1 CSMS asks with GetBaseReport(ConfigurationInventory or FullInventory)."""
    return v16.GetConfigurationRequest()


def configuration_to_variables(
    response: v16.GetConfigurationResponse | Mapping[str, Any],
) -> list[ConfigurationVariable]:
    """The variables of a 1.6 GetConfiguration answer, in its order (unknownKey ignored)."""
    data = wire(response, v16.GetConfigurationResponse)
    out = []
    for kv in data.get("configurationKey", []):
        component, variable, entry = variable_of(kv["key"])
        value = kv.get("value")
        if value is not None and entry is not None:
            value = entry.value.to_generic(value)
        out.append(
            ConfigurationVariable(
                component=component["name"],
                variable=variable["name"],
                instance=variable.get("instance"),
                value=value,
                readonly=kv["readonly"],
                key=kv["key"],
            )
        )
    return out
