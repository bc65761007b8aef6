"""The device model beyond configuration: the standard controllers' variables and their
characteristics, GetReport, variable monitoring, display messages, network profiles,
certificates and customer information (1.6 Security Whitepaper; 2.0.1 functional blocks A, B,
M, N, O).

Mixins of the version machines (`StationMachine16`, `StationMachine201`): their methods are the
machine's, reached through `self` (the machine's store `self.variables`, its queues,
`self.wall`). `DEVICE_MODEL_VARIABLES` are the 2.0.1 variables the machine's store starts
with, besides its own (`_v201._DEVICE_MODEL`, whose entries win). `CHARACTERISTICS` holds what
the store has no room for: each variable's data type, mutability, unit, limits, values list
and instances (2.0.1 Part 2 appendix 3), read by GetReport and monitoring; a variable missing
from it is described from its value (`characteristics`).

What a CSMS sets here is kept the way the store keeps its variables: in per-station state
made on first use (`DeviceState`), so a station never asked pays nothing. Monitors are stored
and reported; they trigger no events (NotifyEvent is not modelled).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import msgspec

from fleet.ocpp import CallError, ErrorCode, Payload, v16, v201
from fleet.station._machine import EVSE_MAX_WATTS

__all__ = [
    "CERTIFICATE_STORE_LIMIT",
    "CHARACTERISTICS",
    "DEVICE_MODEL_VARIABLES",
    "Certificate",
    "CertificateStore",
    "Characteristics",
    "DeviceModel16",
    "DeviceModel201",
    "DeviceState",
    "characteristics",
    "parse_certificate",
]

_RO, _RW, _WO = "ReadOnly", "ReadWrite", "WriteOnly"
# Certificates a station's store holds at most (2.0.1 SecurityCtrlr.CertificateEntries'
# maxLimit, 1.6 CertificateStoreMaxLength).
CERTIFICATE_STORE_LIMIT = 10


class Characteristics(NamedTuple):
    """What 2.0.1 says of a variable beyond its value (VariableCharacteristics and
    VariableAttribute.mutability; Part 2 appendix 3).

    data_type: a DataEnum value ("integer", "boolean", "MemberList", ...).
    mutability: "ReadOnly", "ReadWrite" or "WriteOnly".
    unit: of the value ("s", "W"...), None: none.
    min_limit, max_limit: for numbers; max_limit of a list type is its longest CSV length.
    values_list: the allowed values of an OptionList / MemberList / SequenceList (CSV).
    instances: the variable's instances (each reported with the same value); () none.
    supports_monitoring: whether SetVariableMonitoring may put a monitor on it.
    """

    data_type: str
    mutability: str = _RW
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: str | None = None
    instances: tuple[str, ...] = ()
    supports_monitoring: bool = True


def _c(data_type: str, mutability: str = _RW, **more: Any) -> Characteristics:
    return Characteristics(data_type, mutability, **more)


_MEASURANDS = ",".join(m.value for m in v201.MeasurandEnum)
_SECONDS = {"unit": "s", "min_limit": 0}
_AVAILABILITY = "Available,Occupied,Reserved,Unavailable,Faulted"
# Network configuration slots this station has (NetworkConfigurationPriority's valuesList):
# slot 1 holds the connection it was started with.
_SLOTS = (1, 2, 3)

# (component, variable) -> (default value, characteristics): the variables this module adds.
# Mutability and types follow the 2.0.1 appendix; values are what this simulated station does
# (e.g. no clock-aligned data: AlignedDataCtrlr.Interval 0).
_VARIABLES: dict[tuple[str, str], tuple[str, Characteristics]] = {
    # OCPPCommCtrlr (B09, B10, E13, B11)
    ("OCPPCommCtrlr", "ActiveNetworkProfile"): ("1", _c("integer", _RO)),
    ("OCPPCommCtrlr", "FileTransferProtocols"): (
        "HTTPS,HTTP,FTPS,FTP,SFTP",
        _c("MemberList", _RO, values_list="FTP,FTPS,HTTP,HTTPS,SFTP"),
    ),
    ("OCPPCommCtrlr", "MessageAttemptInterval"): (
        "10",
        _c("integer", instances=("TransactionEvent",), **_SECONDS),
    ),
    ("OCPPCommCtrlr", "MessageAttempts"): (
        "3",
        _c("integer", instances=("TransactionEvent",), min_limit=0),
    ),
    ("OCPPCommCtrlr", "NetworkConfigurationPriority"): (
        "1",
        _c("SequenceList", values_list=",".join(map(str, _SLOTS))),
    ),
    ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts"): ("3", _c("integer", min_limit=0)),
    ("OCPPCommCtrlr", "OfflineThreshold"): ("60", _c("integer", **_SECONDS)),
    ("OCPPCommCtrlr", "QueueAllMessages"): ("false", _c("boolean")),
    ("OCPPCommCtrlr", "ResetRetries"): ("1", _c("integer", min_limit=0)),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect"): ("true", _c("boolean")),
    # SampledDataCtrlr (J02)
    ("SampledDataCtrlr", "Available"): ("true", _c("boolean", _RO)),
    ("SampledDataCtrlr", "Enabled"): ("true", _c("boolean")),
    ("SampledDataCtrlr", "RegisterValuesWithoutPhases"): ("true", _c("boolean")),
    ("SampledDataCtrlr", "SignReadings"): ("false", _c("boolean")),
    ("SampledDataCtrlr", "TxEndedInterval"): ("0", _c("integer", **_SECONDS)),
    ("SampledDataCtrlr", "TxEndedMeasurands"): (
        "Energy.Active.Import.Register",
        _c("MemberList", values_list=_MEASURANDS),
    ),
    ("SampledDataCtrlr", "TxStartedMeasurands"): (
        "Energy.Active.Import.Register",
        _c("MemberList", values_list=_MEASURANDS),
    ),
    # AlignedDataCtrlr (J01): this station sends no clock-aligned data (Interval 0).
    ("AlignedDataCtrlr", "Available"): ("true", _c("boolean", _RO)),
    ("AlignedDataCtrlr", "Enabled"): ("true", _c("boolean")),
    ("AlignedDataCtrlr", "Interval"): ("0", _c("integer", **_SECONDS)),
    ("AlignedDataCtrlr", "Measurands"): (
        "Energy.Active.Import.Register",
        _c("MemberList", values_list=_MEASURANDS),
    ),
    ("AlignedDataCtrlr", "SendDuringIdle"): ("false", _c("boolean")),
    ("AlignedDataCtrlr", "SignReadings"): ("false", _c("boolean")),
    ("AlignedDataCtrlr", "TxEndedInterval"): ("0", _c("integer", **_SECONDS)),
    ("AlignedDataCtrlr", "TxEndedMeasurands"): (
        "Energy.Active.Import.Register",
        _c("MemberList", values_list=_MEASURANDS),
    ),
    # DeviceDataCtrlr (B05-B08): sizes this station accepts and sends.
    ("DeviceDataCtrlr", "BytesPerMessage"): (
        "65000",
        _c("integer", _RO, instances=("GetReport", "GetVariables", "SetVariables")),
    ),
    ("DeviceDataCtrlr", "ConfigurationValueSize"): ("1000", _c("integer", _RO)),
    ("DeviceDataCtrlr", "ReportingValueSize"): ("2500", _c("integer", _RO)),
    ("DeviceDataCtrlr", "ValueSize"): ("1000", _c("integer", _RO)),
    # DisplayMessageCtrlr (O01-O06)
    ("DisplayMessageCtrlr", "Available"): ("true", _c("boolean", _RO)),
    ("DisplayMessageCtrlr", "Enabled"): ("true", _c("boolean")),
    ("DisplayMessageCtrlr", "DisplayMessages"): ("10", _c("integer", _RO, max_limit=10)),
    ("DisplayMessageCtrlr", "PersonalMessageSize"): ("255", _c("integer", _RO)),
    ("DisplayMessageCtrlr", "SupportedFormats"): (
        "ASCII,UTF8,URI",
        _c("MemberList", _RO, values_list="ASCII,HTML,URI,UTF8"),
    ),
    ("DisplayMessageCtrlr", "SupportedPriorities"): (
        "AlwaysFront,InFront,NormalCycle",
        _c("MemberList", _RO, values_list="AlwaysFront,InFront,NormalCycle"),
    ),
    ("DisplayMessageCtrlr", "SupportedStates"): (
        "Charging,Idle,Unavailable",
        _c("MemberList", _RO, values_list="Charging,Faulted,Idle,Unavailable"),
    ),
    # MonitoringCtrlr (N02-N08)
    ("MonitoringCtrlr", "Available"): ("true", _c("boolean", _RO)),
    ("MonitoringCtrlr", "Enabled"): ("true", _c("boolean")),
    ("MonitoringCtrlr", "ActiveMonitoringBase"): (
        "All",
        _c("OptionList", _RO, values_list="All,FactoryDefault,HardWiredOnly"),
    ),
    ("MonitoringCtrlr", "ActiveMonitoringLevel"): (
        "9",
        _c("integer", _RO, min_limit=0, max_limit=9),
    ),
    ("MonitoringCtrlr", "BytesPerMessage"): (
        "65000",
        _c("integer", _RO, instances=("ClearVariableMonitoring", "SetVariableMonitoring")),
    ),
    ("MonitoringCtrlr", "ItemsPerMessage"): (
        "20",
        _c("integer", _RO, instances=("ClearVariableMonitoring", "SetVariableMonitoring")),
    ),
    ("MonitoringCtrlr", "OfflineQueuingSeverity"): ("2", _c("integer", min_limit=0, max_limit=9)),
    # SecurityCtrlr (A00-A05, M01-M05)
    ("SecurityCtrlr", "CertificateEntries"): (
        "0",
        _c("integer", _RO, max_limit=CERTIFICATE_STORE_LIMIT),
    ),
    ("SecurityCtrlr", "OrganizationName"): ("ocpp-fleet", _c("string")),
    ("SecurityCtrlr", "SecurityProfile"): ("1", _c("integer", _RO, min_limit=0, max_limit=3)),
    ("SecurityCtrlr", "AdditionalRootCertificateCheck"): ("false", _c("boolean", _RO)),
    ("SecurityCtrlr", "MaxCertificateChainSize"): ("10000", _c("integer", _RO)),
    ("SecurityCtrlr", "CertSigningWaitMinimum"): ("60", _c("integer", **_SECONDS)),
    ("SecurityCtrlr", "CertSigningRepeatTimes"): ("3", _c("integer", min_limit=0)),
    # ClockCtrlr (B?): the time comes from the CSMS's heartbeats; DateTime is live.
    ("ClockCtrlr", "TimeSource"): (
        "Heartbeat",
        _c(
            "SequenceList",
            values_list="Heartbeat,NTP,GPS,RealTimeClock,MobileNetwork,RadioTimeTransmitter",
        ),
    ),
    # CustomizationCtrlr (P): no vendor extension is implemented (instance: the vendorId).
    ("CustomizationCtrlr", "CustomImplementationEnabled"): (
        "false",
        _c("boolean", _RO, instances=("ocpp-fleet",)),
    ),
    # ChargingStation (B, G): its whole; AvailabilityState is live (`live_value`).
    ("ChargingStation", "Available"): ("true", _c("boolean", _RO)),
    ("ChargingStation", "SupplyPhases"): ("3", _c("integer", _RO)),
    # L01.FR.07: false, an install waiting for transactions holds every connector freed.
    ("ChargingStation", "AllowNewSessionsPendingFirmwareUpdate"): ("false", _c("boolean")),
}

DEVICE_MODEL_VARIABLES: dict[tuple[str, str], tuple[str, bool]] = {
    key: (value, info.mutability == _RO)
    for key, (value, info) in _VARIABLES.items()
    if info.mutability != _WO  # the store cannot keep a value unreadable
}
"""(component, variable) -> (value, read-only), merged into the 2.0.1 machine's defaults."""

# Characteristics of the variables other modules define (the 2.0.1 machine's own).
_THEIRS: dict[tuple[str, str], Characteristics] = {
    ("OCPPCommCtrlr", "HeartbeatInterval"): _c("integer", **_SECONDS),
    ("OCPPCommCtrlr", "MessageTimeout"): _c("integer", instances=("Default",), **_SECONDS),
    ("OCPPCommCtrlr", "RetryBackOffWaitMinimum"): _c("integer", **_SECONDS),
    ("OCPPCommCtrlr", "RetryBackOffRandomRange"): _c("integer", **_SECONDS),
    ("OCPPCommCtrlr", "RetryBackOffRepeatTimes"): _c("integer", min_limit=0),
    ("OCPPCommCtrlr", "WebSocketPingInterval"): _c("integer", **_SECONDS),
    ("SampledDataCtrlr", "TxUpdatedInterval"): _c("integer", **_SECONDS),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"): _c("MemberList", values_list=_MEASURANDS),
    ("TxCtrlr", "EVConnectionTimeOut"): _c("integer", **_SECONDS),
    ("TxCtrlr", "StopTxOnInvalidId"): _c("boolean"),
    ("TxCtrlr", "TxStartPoint"): _c(
        "MemberList",
        values_list="ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer",
    ),
    ("TxCtrlr", "TxStopPoint"): _c(
        "MemberList",
        values_list="ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer",
    ),
    ("DeviceDataCtrlr", "ItemsPerMessage"): _c(
        "integer", _RO, instances=("GetReport", "GetVariables", "SetVariables")
    ),
    ("ChargingStation", "AvailabilityState"): _c("OptionList", _RO, values_list=_AVAILABILITY),
    ("SmartChargingCtrlr", "RateUnit"): _c("MemberList", _RO, values_list="A,W"),
    ("SmartChargingCtrlr", "Entries"): _c("integer", _RO, instances=("ChargingProfiles",)),
}

CHARACTERISTICS: dict[tuple[str, str], Characteristics] = {
    **_THEIRS,
    **{key: info for key, (_, info) in _VARIABLES.items()},
}
"""(component, variable) -> its characteristics, for the variables this module knows."""


def characteristics(key: tuple[str, str], value: str, read_only: bool) -> Characteristics:
    """A variable's characteristics: from `CHARACTERISTICS`, else told by its value (an
    integer, a boolean, or a string) and the store's read-only flag."""
    known = CHARACTERISTICS.get(key)
    if known is not None:
        return known
    mutability = _RO if read_only else _RW
    if value in ("true", "false"):
        return Characteristics("boolean", mutability)
    if re.fullmatch(r"-?\d+", value):
        return Characteristics("integer", mutability)
    if re.fullmatch(r"-?\d+\.\d+", value):
        return Characteristics("decimal", mutability)
    return Characteristics("string", mutability)


_NUMERIC = frozenset({"integer", "decimal"})
_MUTABILITY = {m.value: m for m in v201.MutabilityEnum}
_DATA = {d.value: d for d in v201.DataEnum}


# -- certificates -----------------------------------------------------------------------------


class Certificate(NamedTuple):
    """An installed certificate: its use (a 2.0.1 GetCertificateIdUseEnum value) and what its
    hash data is computed from (2.0.1 CertificateHashDataType, RFC 6960's CertID): the DER of
    its issuer's Name, the issuer's public key (its own: only self-signed roots are taken)
    and its serial number."""

    use: str
    issuer_name: bytes
    issuer_key: bytes
    serial: str  # lower-case hex, no leading zeros

    def hash_data(self, algorithm: str = "SHA256") -> tuple[str, str, str, str]:
        """(hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber)."""
        h = getattr(hashlib, algorithm.lower())
        return (
            algorithm,
            h(self.issuer_name).hexdigest(),
            h(self.issuer_key).hexdigest(),
            self.serial,
        )


_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----")


def _der(data: bytes, at: int) -> tuple[int, int, int]:
    """The DER element at `at`: (tag, start of its content, end of its content). Raises
    ValueError when it runs past the data."""
    if at + 2 > len(data):
        raise ValueError("truncated")
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + length > len(data):
        raise ValueError("truncated")
    return tag, at, at + length


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """The elements between start and end: (tag, element start, content start, end)."""
    at = start
    while at < end:
        tag, content, stop = _der(data, at)
        yield tag, at, content, stop
        at = stop


def parse_certificate(pem: str, use: str) -> Certificate | None:
    """The first certificate of a PEM text, or None when it is no X.509 certificate (no PEM
    block, bad base64, or DER that is not Certificate -> TBSCertificate with a serial, an
    issuer and a subject public key)."""
    match = _PEM.search(pem)
    if match is None:
        return None
    try:
        der = base64.b64decode("".join(match.group(1).split()), validate=True)
        tag, start, end = _der(der, 0)
        if tag != 0x30:
            return None
        tag, start, end = _der(der, start)  # tbsCertificate
        if tag != 0x30:
            return None
        fields = list(_children(der, start, end))
        if fields and fields[0][0] == 0xA0:  # [0] version
            fields = fields[1:]
        # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
        if len(fields) < 6 or fields[0][0] != 0x02 or fields[2][0] != 0x30:
            return None
        serial = der[fields[0][2] : fields[0][3]].hex().lstrip("0") or "0"
        issuer = der[fields[2][1] : fields[2][3]]
        key_info = fields[5]
        parts = list(_children(der, key_info[2], key_info[3]))
        if len(parts) != 2 or parts[1][0] != 0x03:  # algorithm, subjectPublicKey BIT STRING
            return None
        key = der[parts[1][2] + 1 : parts[1][3]]  # without the unused-bits octet
    except (ValueError, binascii.Error):
        return None
    return Certificate(use, issuer, key, serial)


class CertificateStore:
    """A station's installed root certificates (2.0.1 M03-M05; 1.6 Security Whitepaper
    sections 2.1-2.3), made on first use: one store per use (certificate type), so one
    certificate installed under two types is two entries, as CertificateEntries counts them.
    `limit`: SecurityCtrlr.CertificateEntries' maxLimit (1.6 CertificateStoreMaxLength)."""

    __slots__ = ("certificates", "limit")

    def __init__(self, limit: int = CERTIFICATE_STORE_LIMIT) -> None:
        self.certificates: list[Certificate] = []
        self.limit = limit

    def install(self, use: str, pem: str) -> str:
        """Accepted; Rejected: not a certificate; Failed: the store is full. Installed into
        the store of `use` without touching the others' (2.0.1 M05): the same certificate
        again under the same use replaces it; under another use it is held by both."""
        certificate = parse_certificate(pem, use)
        if certificate is None:
            return "Rejected"
        if certificate in self.certificates:  # same use and hash data: already there
            return "Accepted"
        if len(self.certificates) >= self.limit:
            return "Failed"
        self.certificates.append(certificate)
        return "Accepted"

    def find(self, algorithm: str, name_hash: str, key_hash: str, serial: str) -> list[int]:
        """The indexes of the entries of the certificate with this hash data, of any use."""
        wanted = (algorithm, name_hash.lower(), key_hash.lower(), serial.lower().lstrip("0") or "0")
        return [
            index
            for index, certificate in enumerate(self.certificates)
            if certificate.hash_data(algorithm) == wanted
        ]

    def delete(self, algorithm: str, name_hash: str, key_hash: str, serial: str) -> str:
        """Delete the certificate matching the hash data (2.0.1 M04.FR.01), from every use it
        is installed under (the hash data names a certificate, not a use). Accepted;
        NotFound; Failed: it holds the last CSMS root (the station could no longer check the
        CSMS it talks to; 2.0.1 M04 lets a station answer Failed for a certificate it cannot
        delete)."""
        indexes = self.find(algorithm, name_hash, key_hash, serial)
        if not indexes:
            return "NotFound"
        kept = [c for i, c in enumerate(self.certificates) if i not in indexes]
        roots = [c for c in self.certificates if c.use == "CSMSRootCertificate"]
        if roots and not any(c.use == "CSMSRootCertificate" for c in kept):
            return "Failed"
        self.certificates = kept
        return "Accepted"

    def of(self, uses: Sequence[str] | None) -> list[Certificate]:
        """The installed certificates of these uses (None: all)."""
        return [c for c in self.certificates if uses is None or c.use in uses]


# -- per-station state ------------------------------------------------------------------------


class Monitor(NamedTuple):
    """A CSMS's variable monitor (N04), as the request gave it, with its id."""

    id: int
    component: v201.Component
    variable: v201.Variable
    type: v201.MonitorEnum
    value: float
    severity: int
    transaction: bool


class DeviceState:
    """What a CSMS set on one station beyond its variables, made on first use: monitors
    (id -> Monitor), display messages (id -> MessageInfo), network profiles (slot ->
    NetworkConnectionProfile), certificates."""

    __slots__ = ("certificates", "messages", "monitor_ids", "monitors", "network_profiles")

    def __init__(self) -> None:
        self.monitors: dict[int, Monitor] = {}
        self.monitor_ids = 0  # the last id given
        self.messages: dict[int, v201.MessageInfo] = {}
        self.network_profiles: dict[int, v201.NetworkConnectionProfile] = {}
        self.certificates = CertificateStore()


class _Machine:
    """Both versions' mixins: the station's `DeviceState`, an attribute of the machine set
    on first use (None until then, so a station never asked pays nothing)."""

    device: DeviceState | None = None

    def device_state(self) -> DeviceState:
        """This station's `DeviceState`, made on first use."""
        state = self.device
        if state is None:
            state = self.device = DeviceState()
        return state


# -- OCPP 1.6 -----------------------------------------------------------------------------------

_USE_16 = {
    "CentralSystemRootCertificate": "CSMSRootCertificate",
    "ManufacturerRootCertificate": "ManufacturerRootCertificate",
}


class DeviceModel16(_Machine):
    """OCPP 1.6 Security Whitepaper, certificate management: InstallCertificate,
    GetInstalledCertificateIds and DeleteCertificate on the station's `CertificateStore`
    (the 2.0.1 one: CentralSystemRootCertificate is its CSMSRootCertificate);
    CertificateSigned answers a signing request."""

    def answer_certificate_signed(
        self, request: v16.CertificateSignedRequest, now: float
    ) -> Payload:
        # This station makes no key pair and sends no SignCertificate (ExtendedTriggerMessage
        # SignChargePointCertificate is NotImplemented), so no certificate can match it.
        return v16.CertificateSignedResponse(status=v16.CertificateSignedStatusEnum.REJECTED)

    def answer_delete_certificate(
        self, request: v16.DeleteCertificateRequest, now: float
    ) -> Payload:
        data = request.certificate_hash_data
        status = self.device_state().certificates.delete(
            data.hash_algorithm.value,
            data.issuer_name_hash,
            data.issuer_key_hash,
            data.serial_number,
        )
        return v16.DeleteCertificateResponse(status=v16.DeleteCertificateStatusEnum(status))

    def answer_get_installed_certificate_ids(
        self, request: v16.GetInstalledCertificateIdsRequest, now: float
    ) -> Payload:
        store = self.device.certificates if self.device is not None else None
        found = store.of([_USE_16[request.certificate_type.value]]) if store else []
        if not found:
            return v16.GetInstalledCertificateIdsResponse(
                status=v16.GetInstalledCertificateStatusEnum.NOT_FOUND
            )
        hashes = []
        for certificate in found:
            algorithm, name, key, serial = certificate.hash_data()
            hashes.append(
                v16.CertificateHashData(
                    hash_algorithm=v16.HashAlgorithmEnum(algorithm),
                    issuer_name_hash=name,
                    issuer_key_hash=key,
                    serial_number=serial,
                )
            )
        return v16.GetInstalledCertificateIdsResponse(
            status=v16.GetInstalledCertificateStatusEnum.ACCEPTED, certificate_hash_data=hashes
        )

    def answer_install_certificate(
        self, request: v16.InstallCertificateRequest, now: float
    ) -> Payload:
        use = _USE_16[request.certificate_type.value]
        status = self.device_state().certificates.install(use, request.certificate)
        return v16.InstallCertificateResponse(status=v16.InstallCertificateStatusEnum(status))


# -- OCPP 2.0.1 ---------------------------------------------------------------------------------


class _Row(NamedTuple):
    """One variable of the device model as GetReport sees it."""

    component: v201.Component
    variable: v201.Variable
    value: str
    info: Characteristics


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()  # component and variable names are case-insensitive


def _evse_of(component: v201.Component) -> tuple[int, int] | None:
    evse = component.evse
    if evse is msgspec.UNSET:
        return None
    connector = evse.connector_id
    return evse.id, (connector if connector is not msgspec.UNSET else 0)


def _matches(row: _Row, wanted: v201.ComponentVariable) -> bool:
    """B08: a componentVariable selects a component (name, and its evse / instance when
    given) and one variable of it (all when none is given)."""
    component = wanted.component
    if not _same(row.component.name, component.name):
        return False
    if component.evse is not msgspec.UNSET:
        have = _evse_of(row.component)
        if have is None or have[0] != component.evse.id:
            return False
        if (
            component.evse.connector_id is not msgspec.UNSET
            and have[1] != component.evse.connector_id
        ):
            return False
    if component.instance is not msgspec.UNSET and (
        row.component.instance is msgspec.UNSET
        or not _same(row.component.instance, component.instance)
    ):
        return False
    variable = wanted.variable
    if variable is msgspec.UNSET:
        return True
    if not _same(row.variable.name, variable.name):
        return False
    return variable.instance is msgspec.UNSET or (
        row.variable.instance is not msgspec.UNSET
        and _same(row.variable.instance, variable.instance)
    )


def _is_component(have: v201.Component, wanted: v201.Component) -> bool:
    """B05/B06: whether `wanted` (a GetVariables / SetVariables component) names `have`: the
    same name and instance (case-insensitive, as the schema says of both), the same EVSE (a
    component with none is the station's; a connectorId left out matches any connector of
    that EVSE, each EVSE here having one)."""
    if not _same(have.name, wanted.name):
        return False
    evse = _evse_of(have)
    if wanted.evse is msgspec.UNSET:
        if evse is not None:
            return False
    elif (
        evse is None
        or evse[0] != wanted.evse.id
        or (wanted.evse.connector_id is not msgspec.UNSET and evse[1] != wanted.evse.connector_id)
    ):
        return False
    if wanted.instance is msgspec.UNSET:
        return have.instance is msgspec.UNSET
    return have.instance is not msgspec.UNSET and _same(have.instance, wanted.instance)


def _is_variable(have: v201.Variable, wanted: v201.Variable) -> bool:
    """Whether `wanted` names `have`: the same name (case-insensitive) and, when it gives
    one, the same instance. One left out matches any instance: the store keeps one value
    for all of a variable's instances."""
    if not _same(have.name, wanted.name):
        return False
    return wanted.instance is msgspec.UNSET or (
        have.instance is not msgspec.UNSET and _same(have.instance, wanted.instance)
    )


def _key(component: v201.Component) -> tuple[str, int | None, int | None, str | None]:
    """A component's identity: name (lower case), evse, connector, instance."""
    evse = _evse_of(component)
    instance = component.instance if component.instance is not msgspec.UNSET else None
    return (
        component.name.lower(),
        evse[0] if evse else None,
        evse[1] if evse else None,
        instance.lower() if instance else None,
    )


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    size = max(1, size)
    return [items[i : i + size] for i in range(0, len(items), size)] or [items]


_CRITERIA = {
    v201.ComponentCriterionEnum.ACTIVE: "active",
    v201.ComponentCriterionEnum.AVAILABLE: "available",
    v201.ComponentCriterionEnum.ENABLED: "enabled",
    v201.ComponentCriterionEnum.PROBLEM: "problem",
}
_MONITOR_KINDS = {
    v201.MonitoringCriterionEnum.THRESHOLD_MONITORING: {
        v201.MonitorEnum.UPPER_THRESHOLD,
        v201.MonitorEnum.LOWER_THRESHOLD,
    },
    v201.MonitoringCriterionEnum.DELTA_MONITORING: {v201.MonitorEnum.DELTA},
    v201.MonitoringCriterionEnum.PERIODIC_MONITORING: {
        v201.MonitorEnum.PERIODIC,
        v201.MonitorEnum.PERIODIC_CLOCK_ALIGNED,
    },
}
_THRESHOLDS = frozenset({v201.MonitorEnum.UPPER_THRESHOLD, v201.MonitorEnum.LOWER_THRESHOLD})
_PERIODIC = frozenset({v201.MonitorEnum.PERIODIC, v201.MonitorEnum.PERIODIC_CLOCK_ALIGNED})
# A monitor's variable, matched against componentVariables by name only.
_ANY = Characteristics("string")
_URL = re.compile(r"wss?://[^\s/?#]+(/\S*)?", re.IGNORECASE)


class DeviceModel201(_Machine):
    """OCPP 2.0.1: GetReport, monitoring, display messages, network profiles, certificates,
    customer information, cost updates. The machine provides `variables`, `connectors`,
    `send_requested`, `wall`, `is_reserved` and `in_session` connectors."""

    variables: Any
    connectors: Any

    # -- the device model as reported (B07, B08) ---------------------------------------------

    def _flag(self, component: str, variable: str) -> bool:
        return self.variables.get((component, variable), ("false", True))[0] == "true"

    def _number(self, component: str, variable: str, default: int) -> int:
        entry = self.variables.get((component, variable))
        try:
            return int(entry[0]) if entry is not None else default
        except ValueError:
            return default

    def availability(self, connector: Any) -> str:
        """An EVSE's AvailabilityState, as its StatusNotification says it (G01)."""
        machine: Any = self
        if connector.state.value == "unavailable":
            return "Unavailable"
        if connector.in_session:
            return "Occupied"
        if machine.is_reserved(connector):
            return "Reserved"
        return "Available"

    def check_variable(self, key: tuple[str, str], value: str) -> bool:
        """Whether a SetVariables value suits the variable's characteristics (B05: Rejected
        when it does not): an integer / decimal within its limits, true or false, one value
        of an OptionList's valuesList, members of a MemberList's, distinct members of a
        SequenceList's (NetworkConfigurationPriority: slots that hold a profile, B10, or
        slot 1, the one the station runs on), a string within maxLimit and
        DeviceDataCtrlr.ConfigurationValueSize. A variable without known characteristics
        passes (the machine checks its own)."""
        info = CHARACTERISTICS.get(key)
        if info is None:
            return True
        if len(value) > self._number("DeviceDataCtrlr", "ConfigurationValueSize", 1000):
            return False
        kind = info.data_type
        if kind in _NUMERIC:
            try:
                number = int(value) if kind == "integer" else float(value)
            except ValueError:
                return False
            low, high = info.min_limit, info.max_limit
            return (low is None or number >= low) and (high is None or number <= high)
        if kind == "boolean":
            return value.strip().lower() in ("true", "false")
        if kind in ("OptionList", "MemberList", "SequenceList") and info.values_list is not None:
            allowed = info.values_list.split(",")
            members = [m.strip() for m in value.split(",")] if value.strip() else []
            if kind == "OptionList":
                return len(members) == 1 and members[0] in allowed
            if any(m not in allowed for m in members):
                return False
            if kind == "SequenceList":
                if len(set(members)) != len(members) or not members:
                    return False
                if key == ("OCPPCommCtrlr", "NetworkConfigurationPriority"):
                    stored = self.device.network_profiles if self.device is not None else {}
                    return all(m == "1" or int(m) in stored for m in members)
            return True
        if kind == "string" and info.max_limit is not None:
            return len(value) <= info.max_limit
        return True

    def live_value(self, key: tuple[str, str], now: float) -> str | None:
        """The value of a variable that changes by itself (the clock, the station's
        availability), None for the others: GetVariables should answer it too."""
        if key == ("ClockCtrlr", "DateTime"):
            machine: Any = self
            return machine.wall(now).isoformat().replace("+00:00", "Z")
        if key == ("ChargingStation", "AvailabilityState"):
            states = {self.availability(c) for c in self.connectors}
            return "Unavailable" if states == {"Unavailable"} else "Available"
        if key == ("SecurityCtrlr", "CertificateEntries"):
            state = self.device
            return str(len(state.certificates.certificates)) if state is not None else "0"
        return None

    def find_variable(
        self, component: v201.Component, variable: v201.Variable, rows: Sequence[_Row]
    ) -> _Row | str:
        """The row of `rows` (`report_rows`) a GetVariables / SetVariables item names, else
        why not: "UnknownComponent" (no such component, EVSE or instance) or
        "UnknownVariable" (no such variable of a known one) (B05, B06)."""
        known = False
        for row in rows:
            if _is_component(row.component, component):
                known = True
                if _is_variable(row.variable, variable):
                    return row
        return "UnknownVariable" if known else "UnknownComponent"

    def report_rows(self, now: float) -> list[_Row]:
        """Every variable of this station, with its characteristics: the store's (one row
        per instance), then the live ones: the clock and each EVSE and its connector."""
        rows = []
        for key, (value, read_only) in self.variables.items():
            live = self.live_value(key, now)
            info = characteristics(key, value, read_only)
            component = v201.Component(name=key[0])
            for instance in info.instances or (None,):
                variable = v201.Variable(name=key[1], instance=instance or msgspec.UNSET)
                rows.append(_Row(component, variable, live if live is not None else value, info))
        clock = ("ClockCtrlr", "DateTime")
        rows.append(
            _Row(
                v201.Component(name=clock[0]),
                v201.Variable(name=clock[1]),
                self.live_value(clock, now) or "",
                Characteristics("dateTime", _RO, supports_monitoring=False),
            )
        )
        option = Characteristics("OptionList", _RO, values_list=_AVAILABILITY)
        flag = Characteristics("boolean", _RO)
        for connector in self.connectors:
            evse = v201.Component(name="EVSE", evse=v201.EVSE(id=connector.id))
            plug = v201.Component(name="Connector", evse=v201.EVSE(id=connector.id, connector_id=1))
            state = self.availability(connector)
            usable = "false" if state == "Unavailable" else "true"
            power = Characteristics("decimal", _RO, unit="W", max_limit=EVSE_MAX_WATTS)
            watts = connector.power_w if connector.state.value == "charging" else 0.0
            rows += [
                _Row(evse, v201.Variable(name="AvailabilityState"), state, option),
                _Row(evse, v201.Variable(name="Available"), usable, flag),
                _Row(evse, v201.Variable(name="Power"), f"{watts:.1f}", power),
                _Row(
                    evse, v201.Variable(name="SupplyPhases"), "3", Characteristics("integer", _RO)
                ),
                _Row(plug, v201.Variable(name="AvailabilityState"), state, option),
                _Row(plug, v201.Variable(name="Available"), usable, flag),
                _Row(
                    plug,
                    v201.Variable(name="ConnectorType"),
                    "cType2",
                    Characteristics("OptionList", _RO, values_list="cType2,sType2,cCCS2"),
                ),
            ]
        return rows

    @staticmethod
    def report_data(row: _Row) -> v201.ReportData:
        info = row.info
        write_only = info.mutability == _WO
        return v201.ReportData(
            component=row.component,
            variable=row.variable,
            variable_attribute=[
                v201.VariableAttribute(
                    type=v201.AttributeEnum.ACTUAL,
                    value=msgspec.UNSET if write_only else row.value,
                    mutability=_MUTABILITY[info.mutability],
                )
            ],
            variable_characteristics=v201.VariableCharacteristics(
                data_type=_DATA[info.data_type],
                supports_monitoring=info.supports_monitoring,
                unit=info.unit if info.unit is not None else msgspec.UNSET,
                min_limit=info.min_limit if info.min_limit is not None else msgspec.UNSET,
                max_limit=info.max_limit if info.max_limit is not None else msgspec.UNSET,
                values_list=info.values_list if info.values_list is not None else msgspec.UNSET,
            ),
        )

    def _check_items(self, items: Any, limit: int) -> None:
        """More componentVariables than ItemsPerMessage allows: a CALLERROR (B08.FR.17,
        N02.FR.07, N04.FR.09 say OccurrenceConstraintViolation)."""
        if items is not msgspec.UNSET and len(items) > limit:
            raise CallError(
                ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
                f"{len(items)} entries, ItemsPerMessage is {limit}",
            )

    def send_report(self, request_id: int, rows: Sequence[_Row], now: float) -> None:
        """NotifyReports of these rows after the answer (B07, B08), ItemsPerMessage
        each, seqNo from 0, tbc on all but the last; what the CSMS asked for, so they may go
        while Pending (B02.FR.09)."""
        machine: Any = self
        size = self._number("DeviceDataCtrlr", "ItemsPerMessage", 50)
        chunks = _chunks(rows, size)
        at = machine.wall(now)
        for seq_no, chunk in enumerate(chunks):
            machine.send_requested(
                "NotifyReport",
                v201.NotifyReportRequest(
                    request_id=request_id,
                    generated_at=at,
                    seq_no=seq_no,
                    tbc=seq_no < len(chunks) - 1,
                    report_data=[self.report_data(row) for row in chunk],
                ),
                now,
            )

    def base_report_rows(self, report_base: str, now: float) -> list[_Row]:
        """What a GetBaseReport of this reportBase holds (B07), for `send_report`:
        FullInventory every variable; ConfigurationInventory those a CSMS may set (ReadWrite,
        WriteOnly); SummaryInventory each component's Available, AvailabilityState and
        Problem."""
        rows = self.report_rows(now)
        if report_base == "ConfigurationInventory":
            return [row for row in rows if row.info.mutability != _RO]
        if report_base == "SummaryInventory":
            summary = ("available", "availabilitystate", "problem")
            return [row for row in rows if row.variable.name.lower() in summary]
        return rows

    def answer_get_report(self, request: v201.GetReportRequest, now: float) -> Payload:
        """B08: the variables that match the componentVariables (all without) of components
        that match a componentCriterion (all without; a component matches Available /
        Enabled / Active / Problem when its variable of that name is "true"; a list of
        criteria is any of them, as monitoringCriteria are). Accepted and the NotifyReports;
        none: EmptyResultSet (B08.FR.15), no NotifyReport."""
        self._check_items(
            request.component_variable, self._number("DeviceDataCtrlr", "ItemsPerMessage", 50)
        )
        rows = self.report_rows(now)
        if request.component_variable is not msgspec.UNSET:
            wanted = request.component_variable
            rows = [row for row in rows if any(_matches(row, w) for w in wanted)]
        if request.component_criteria is not msgspec.UNSET:
            flags: dict[tuple[Any, ...], set[str]] = {}
            for row in self.report_rows(now):
                if row.value == "true" and row.variable.instance is msgspec.UNSET:
                    flags.setdefault(_key(row.component), set()).add(row.variable.name.lower())
            wanted_flags = {_CRITERIA[c] for c in request.component_criteria}
            rows = [row for row in rows if wanted_flags & flags.get(_key(row.component), set())]
        if not rows:
            return v201.GetReportResponse(status=v201.GenericDeviceModelStatusEnum.EMPTY_RESULT_SET)
        self.send_report(request.request_id, rows, now)
        return v201.GetReportResponse(status=v201.GenericDeviceModelStatusEnum.ACCEPTED)

    # -- monitoring (N02-N08) -------------------------------------------------------------

    def _known(self, component: v201.Component, variable: v201.Variable, now: float) -> Any:
        """The row of the component and variable a monitor names; else the SetMonitoringStatus
        (UnknownComponent / UnknownVariable) that refuses it."""
        wanted = v201.ComponentVariable(component=component, variable=variable)
        rows = self.report_rows(now)
        for row in rows:
            if _matches(row, wanted):
                return row
        probe = v201.ComponentVariable(component=component)
        if any(_matches(row, probe) for row in rows):
            return v201.SetMonitoringStatusEnum.UNKNOWN_VARIABLE
        return v201.SetMonitoringStatusEnum.UNKNOWN_COMPONENT

    def _set_monitor(self, item: v201.SetMonitoringData, now: float) -> tuple[Any, int | None]:
        """N04: (status, monitor id). Rejected: monitoring disabled, a severity outside 0-9,
        a value the type cannot have (a negative delta, a period <= 0, a threshold outside
        the variable's limits), an id of no monitor (ids are only given to replace one);
        UnsupportedMonitorType: a threshold on a variable that is no number; Duplicate: the
        variable has a monitor of that type and severity already."""
        status = v201.SetMonitoringStatusEnum
        found = self._known(item.component, item.variable, now)
        if not isinstance(found, _Row):
            return found, None
        info = found.info
        if not (
            self._flag("MonitoringCtrlr", "Available") and self._flag("MonitoringCtrlr", "Enabled")
        ):
            return status.REJECTED, None
        if not info.supports_monitoring:
            return status.REJECTED, None
        if item.type in _THRESHOLDS and info.data_type not in _NUMERIC:
            return status.UNSUPPORTED_MONITOR_TYPE, None
        if not 0 <= item.severity <= 9:
            return status.REJECTED, None
        value = item.value
        if item.type in _PERIODIC and value <= 0:
            return status.REJECTED, None
        if item.type == v201.MonitorEnum.DELTA and value < 0:
            return status.REJECTED, None
        if item.type in _THRESHOLDS and (
            (info.min_limit is not None and value < info.min_limit)
            or (info.max_limit is not None and value > info.max_limit)
        ):
            return status.REJECTED, None
        state = self.device_state()
        replaces = item.id if item.id is not msgspec.UNSET else None
        if replaces is not None and replaces not in state.monitors:
            return status.REJECTED, None
        target = (_key(found.component), found.variable.name.lower())
        for monitor in state.monitors.values():
            if (
                monitor.id != replaces
                and (_key(monitor.component), monitor.variable.name.lower()) == target
                and monitor.type == item.type
                and monitor.severity == item.severity
            ):
                return status.DUPLICATE, None
        if replaces is None:
            state.monitor_ids += 1
            replaces = state.monitor_ids
        state.monitors[replaces] = Monitor(
            replaces,
            found.component,
            found.variable,
            item.type,
            value,
            item.severity,
            item.transaction if item.transaction is not msgspec.UNSET else False,
        )
        return status.ACCEPTED, replaces

    def answer_set_variable_monitoring(
        self, request: v201.SetVariableMonitoringRequest, now: float
    ) -> Payload:
        self._check_items(
            request.set_monitoring_data, self._number("MonitoringCtrlr", "ItemsPerMessage", 20)
        )
        results = []
        for item in request.set_monitoring_data:
            status, monitor_id = self._set_monitor(item, now)
            results.append(
                v201.SetMonitoringResult(
                    status=status,
                    type=item.type,
                    component=item.component,
                    variable=item.variable,
                    severity=item.severity,
                    id=monitor_id if monitor_id is not None else msgspec.UNSET,
                )
            )
        return v201.SetVariableMonitoringResponse(set_monitoring_result=results)

    def answer_clear_variable_monitoring(
        self, request: v201.ClearVariableMonitoringRequest, now: float
    ) -> Payload:
        """N06: each id Accepted (removed) or NotFound. (Rejected is for hard-wired monitors;
        this station has none.)"""
        self._check_items(request.id, self._number("MonitoringCtrlr", "ItemsPerMessage", 20))
        monitors = self.device.monitors if self.device is not None else {}
        results = []
        for monitor_id in request.id:
            found = monitors.pop(monitor_id, None) is not None
            results.append(
                v201.ClearMonitoringResult(
                    status=v201.ClearMonitoringStatusEnum.ACCEPTED
                    if found
                    else v201.ClearMonitoringStatusEnum.NOT_FOUND,
                    id=monitor_id,
                )
            )
        return v201.ClearVariableMonitoringResponse(clear_monitoring_result=results)

    def answer_set_monitoring_base(
        self, request: v201.SetMonitoringBaseRequest, now: float
    ) -> Payload:
        """N03: All keeps the CSMS's monitors; FactoryDefault and HardWiredOnly remove them
        (this station has no pre-configured or hard-wired ones). Shown in
        MonitoringCtrlr.ActiveMonitoringBase."""
        base = request.monitoring_base
        if base != v201.MonitoringBaseEnum.ALL and self.device is not None:
            self.device.monitors.clear()
        self.variables[("MonitoringCtrlr", "ActiveMonitoringBase")] = (base.value, True)
        return v201.SetMonitoringBaseResponse(status=v201.GenericDeviceModelStatusEnum.ACCEPTED)

    def answer_set_monitoring_level(
        self, request: v201.SetMonitoringLevelRequest, now: float
    ) -> Payload:
        """N05: a severity of 0-9 becomes MonitoringCtrlr.ActiveMonitoringLevel; else
        Rejected (N05)."""
        if not 0 <= request.severity <= 9:
            return v201.SetMonitoringLevelResponse(status=v201.GenericStatusEnum.REJECTED)
        self.variables[("MonitoringCtrlr", "ActiveMonitoringLevel")] = (str(request.severity), True)
        return v201.SetMonitoringLevelResponse(status=v201.GenericStatusEnum.ACCEPTED)

    def answer_get_monitoring_report(
        self, request: v201.GetMonitoringReportRequest, now: float
    ) -> Payload:
        """N02: the monitors of the componentVariables asked (all without) whose type the
        criteria name (all without), grouped by variable in NotifyMonitoringReports after
        the answer; none: EmptyResultSet, no report."""
        self._check_items(
            request.component_variable, self._number("DeviceDataCtrlr", "ItemsPerMessage", 50)
        )
        monitors = list(self.device.monitors.values()) if self.device is not None else []
        if request.monitoring_criteria is not msgspec.UNSET:
            kinds = set().union(*(_MONITOR_KINDS[c] for c in request.monitoring_criteria))
            monitors = [m for m in monitors if m.type in kinds]
        if request.component_variable is not msgspec.UNSET:
            wanted = request.component_variable
            monitors = [
                m
                for m in monitors
                if any(_matches(_Row(m.component, m.variable, "", _ANY), w) for w in wanted)
            ]
        if not monitors:
            return v201.GetMonitoringReportResponse(
                status=v201.GenericDeviceModelStatusEnum.EMPTY_RESULT_SET
            )
        grouped: dict[tuple[Any, ...], list[Monitor]] = {}
        for monitor in monitors:
            grouped.setdefault((_key(monitor.component), monitor.variable.name.lower()), []).append(
                monitor
            )
        data = [
            v201.MonitoringData(
                component=group[0].component,
                variable=group[0].variable,
                variable_monitoring=[
                    v201.VariableMonitoring(
                        id=m.id,
                        transaction=m.transaction,
                        value=m.value,
                        type=m.type,
                        severity=m.severity,
                    )
                    for m in group
                ],
            )
            for group in grouped.values()
        ]
        machine: Any = self
        chunks = _chunks(data, self._number("DeviceDataCtrlr", "ItemsPerMessage", 50))
        at = machine.wall(now)
        for seq_no, chunk in enumerate(chunks):
            machine.send_requested(
                "NotifyMonitoringReport",
                v201.NotifyMonitoringReportRequest(
                    request_id=request.request_id,
                    seq_no=seq_no,
                    generated_at=at,
                    tbc=seq_no < len(chunks) - 1,
                    monitor=list(chunk),
                ),
                now,
            )
        return v201.GetMonitoringReportResponse(status=v201.GenericDeviceModelStatusEnum.ACCEPTED)

    # -- display messages (O01-O06) -------------------------------------------------------

    def _supported(self, variable: str, value: str) -> bool:
        entry = self.variables.get(("DisplayMessageCtrlr", variable))
        return entry is not None and value in entry[0].split(",")

    def _drop_expired_messages(self, now: float) -> dict[int, v201.MessageInfo]:
        """The stored messages, without those past their endDateTime (O01: removed then)
        or of a transaction no longer running (MessageInfo.transactionId: removed when it
        ends)."""
        if self.device is None:
            return {}
        messages = self.device.messages
        machine: Any = self
        wall = machine.wall(now)
        running = {c.transaction_id for c in self.connectors if c.in_session}
        for message_id, message in list(messages.items()):
            ended = message.end_date_time is not msgspec.UNSET and message.end_date_time <= wall
            gone = (
                message.transaction_id is not msgspec.UNSET
                and message.transaction_id not in running
            )
            if ended or gone:
                del messages[message_id]
        return messages

    def answer_set_display_message(
        self, request: v201.SetDisplayMessageRequest, now: float
    ) -> Payload:
        """O01/O02/O03: stored (a message of the same id is replaced, O01), or refused:
        Rejected when DisplayMessageCtrlr is off, the store (DisplayMessages) is full, or it
        ends before it starts or has ended; NotSupportedPriority / NotSupportedMessageFormat
        / NotSupportedState outside SupportedPriorities / SupportedFormats /
        SupportedStates; UnknownTransaction: a transactionId of no running transaction
        (O03)."""
        status = v201.DisplayMessageStatusEnum
        message = request.message
        if not (
            self._flag("DisplayMessageCtrlr", "Available")
            and self._flag("DisplayMessageCtrlr", "Enabled")
        ):
            return v201.SetDisplayMessageResponse(status=status.REJECTED)
        if not self._supported("SupportedPriorities", message.priority.value):
            return v201.SetDisplayMessageResponse(status=status.NOT_SUPPORTED_PRIORITY)
        if not self._supported("SupportedFormats", message.message.format.value):
            return v201.SetDisplayMessageResponse(status=status.NOT_SUPPORTED_MESSAGE_FORMAT)
        if message.state is not msgspec.UNSET and not self._supported(
            "SupportedStates", message.state.value
        ):
            return v201.SetDisplayMessageResponse(status=status.NOT_SUPPORTED_STATE)
        if message.transaction_id is not msgspec.UNSET and not any(
            c.in_session and c.transaction_id == message.transaction_id for c in self.connectors
        ):
            return v201.SetDisplayMessageResponse(status=status.UNKNOWN_TRANSACTION)
        machine: Any = self
        start, end = message.start_date_time, message.end_date_time
        if end is not msgspec.UNSET and (
            end <= machine.wall(now) or (start is not msgspec.UNSET and end <= start)
        ):
            return v201.SetDisplayMessageResponse(status=status.REJECTED)
        messages = self._drop_expired_messages(now)
        limit = self._number("DisplayMessageCtrlr", "DisplayMessages", 10)
        if message.id not in messages and len(messages) >= limit:
            return v201.SetDisplayMessageResponse(status=status.REJECTED)
        self.device_state().messages[message.id] = message
        return v201.SetDisplayMessageResponse(status=status.ACCEPTED)

    def answer_get_display_messages(
        self, request: v201.GetDisplayMessagesRequest, now: float
    ) -> Payload:
        """O04: the stored messages matching every criterion given (ids, priority, state):
        Accepted and NotifyDisplayMessages after it (ItemsPerMessage each, tbc on all but the
        last); none: Unknown, no report."""
        found = list(self._drop_expired_messages(now).values())
        if request.id is not msgspec.UNSET:
            ids = set(request.id)
            found = [m for m in found if m.id in ids]
        if request.priority is not msgspec.UNSET:
            found = [m for m in found if m.priority == request.priority]
        if request.state is not msgspec.UNSET:
            found = [m for m in found if m.state == request.state]
        if not found:
            return v201.GetDisplayMessagesResponse(status=v201.GetDisplayMessagesStatusEnum.UNKNOWN)
        machine: Any = self
        chunks = _chunks(found, self._number("DeviceDataCtrlr", "ItemsPerMessage", 50))
        for index, chunk in enumerate(chunks):
            machine.send_requested(
                "NotifyDisplayMessages",
                v201.NotifyDisplayMessagesRequest(
                    request_id=request.request_id,
                    message_info=list(chunk),
                    tbc=index < len(chunks) - 1,
                ),
                now,
            )
        return v201.GetDisplayMessagesResponse(status=v201.GetDisplayMessagesStatusEnum.ACCEPTED)

    def answer_clear_display_message(
        self, request: v201.ClearDisplayMessageRequest, now: float
    ) -> Payload:
        """O05: Accepted (removed), or Unknown: no message of that id."""
        messages = self._drop_expired_messages(now)
        if messages.pop(request.id, None) is None:
            return v201.ClearDisplayMessageResponse(status=v201.ClearMessageStatusEnum.UNKNOWN)
        return v201.ClearDisplayMessageResponse(status=v201.ClearMessageStatusEnum.ACCEPTED)

    # -- network profiles (B09, B10) ------------------------------------------------------

    def answer_set_network_profile(
        self, request: v201.SetNetworkProfileRequest, now: float
    ) -> Payload:
        """B09: the profile is stored in its configurationSlot (it takes effect when a CSMS
        puts the slot first in NetworkConfigurationPriority and resets; this station keeps
        its connection). Rejected (B09): a slot not in NetworkConfigurationPriority's
        valuesList; an OCPP version or transport this station does not speak (it speaks
        OCPP 2.0.1 over JSON: OCPP20, JSON); a CSMS URL that is no ws:// or wss:// URL; a
        security profile outside 0-3 or below the one in use (SecurityCtrlr.SecurityProfile:
        no downgrade, A05)."""
        rejected = v201.SetNetworkProfileResponse(status=v201.SetNetworkProfileStatusEnum.REJECTED)
        data = request.connection_data
        if request.configuration_slot not in _SLOTS:
            return rejected
        if data.ocpp_version != v201.OCPPVersionEnum.OCPP20:
            return rejected
        if data.ocpp_transport != v201.OCPPTransportEnum.JSON:
            return rejected
        if not _URL.fullmatch(data.ocpp_csms_url):
            return rejected
        current = self._number("SecurityCtrlr", "SecurityProfile", 1)
        if not current <= data.security_profile <= 3:
            return rejected
        self.device_state().network_profiles[request.configuration_slot] = data
        return v201.SetNetworkProfileResponse(status=v201.SetNetworkProfileStatusEnum.ACCEPTED)

    # -- certificates (M03-M05, A02) ------------------------------------------------------

    def answer_certificate_signed(
        self, request: v201.CertificateSignedRequest, now: float
    ) -> Payload:
        # A02/A03: a signed certificate answers this station's SignCertificateRequest; it
        # makes no key pair and sends none (TriggerMessage Sign*Certificate is refused), so
        # the certificate cannot match its key: Rejected (A02).
        return v201.CertificateSignedResponse(status=v201.CertificateSignedStatusEnum.REJECTED)

    def answer_install_certificate(
        self, request: v201.InstallCertificateRequest, now: float
    ) -> Payload:
        """M05: Accepted; Rejected: not a PEM X.509 certificate (M05: invalid); Failed:
        the store is full (SecurityCtrlr.CertificateEntries' maxLimit)."""
        store = self.device_state().certificates
        status = store.install(request.certificate_type.value, request.certificate)
        return v201.InstallCertificateResponse(status=v201.InstallCertificateStatusEnum(status))

    def answer_get_installed_certificate_ids(
        self, request: v201.GetInstalledCertificateIdsRequest, now: float
    ) -> Payload:
        """M03: the installed certificates of the types asked (all without), each as a
        CertificateHashDataChain (SHA256); none: NotFound."""
        uses = (
            None
            if request.certificate_type is msgspec.UNSET
            else [t.value for t in request.certificate_type]
        )
        found = self.device.certificates.of(uses) if self.device is not None else []
        if not found:
            return v201.GetInstalledCertificateIdsResponse(
                status=v201.GetInstalledCertificateStatusEnum.NOT_FOUND
            )
        chains = []
        for certificate in found:
            algorithm, name, key, serial = certificate.hash_data()
            chains.append(
                v201.CertificateHashDataChain(
                    certificate_type=v201.GetCertificateIdUseEnum(certificate.use),
                    certificate_hash_data=v201.CertificateHashData(
                        hash_algorithm=v201.HashAlgorithmEnum(algorithm),
                        issuer_name_hash=name,
                        issuer_key_hash=key,
                        serial_number=serial,
                    ),
                )
            )
        return v201.GetInstalledCertificateIdsResponse(
            status=v201.GetInstalledCertificateStatusEnum.ACCEPTED,
            certificate_hash_data_chain=chains,
        )

    def answer_delete_certificate(
        self, request: v201.DeleteCertificateRequest, now: float
    ) -> Payload:
        """M04: Accepted; NotFound: no such certificate; Failed: the last CSMS root
        (`CertificateStore.delete`)."""
        data = request.certificate_hash_data
        if self.device is None:
            return v201.DeleteCertificateResponse(status=v201.DeleteCertificateStatusEnum.NOT_FOUND)
        status = self.device.certificates.delete(
            data.hash_algorithm.value,
            data.issuer_name_hash,
            data.issuer_key_hash,
            data.serial_number,
        )
        return v201.DeleteCertificateResponse(status=v201.DeleteCertificateStatusEnum(status))

    # -- customer information (N09, N10), cost (I03) --------------------------------------

    def answer_customer_information(
        self, request: v201.CustomerInformationRequest, now: float
    ) -> Payload:
        """N09/N10: Invalid when the request names no customer (no customerIdentifier,
        idToken nor customerCertificate); else Accepted, and with `report` a
        NotifyCustomerInformation of what this station holds of the customer: its sessions
        with that idToken (with `clear`, nothing is kept, so nothing is left to remove)."""
        if (
            request.customer_identifier is msgspec.UNSET
            and request.id_token is msgspec.UNSET
            and request.customer_certificate is msgspec.UNSET
        ):
            return v201.CustomerInformationResponse(
                status=v201.CustomerInformationStatusEnum.INVALID
            )
        if request.report:
            token = request.id_token.id_token if request.id_token is not msgspec.UNSET else None
            sessions = [
                f"EVSE {c.id}: transaction {c.transaction_id}"
                for c in self.connectors
                if token is not None and c.in_session and c.id_tag == token
            ]
            data = "; ".join(sessions) if sessions else "No customer data held"
            machine: Any = self
            machine.send_requested(
                "NotifyCustomerInformation",
                v201.NotifyCustomerInformationRequest(
                    data=data[:512],
                    seq_no=0,
                    generated_at=machine.wall(now),
                    request_id=request.request_id,
                    tbc=False,
                ),
                now,
            )
        return v201.CustomerInformationResponse(status=v201.CustomerInformationStatusEnum.ACCEPTED)

    def answer_cost_updated(self, request: v201.CostUpdatedRequest, now: float) -> Payload:
        # I03: shown to the driver; the response has no status to refuse with.
        return v201.CostUpdatedResponse()
