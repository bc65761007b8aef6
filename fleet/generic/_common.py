"""Tables several actions share: id tokens and their authorization answers."""

from __future__ import annotations

from fleet.generic._engine import Field, Func, Keep, Nested, NotCarried, StructMap, Values, Where
from fleet.ocpp import v16, v201

__all__ = [
    "AUTHORIZATION_STATUS",
    "ID_TAG_INFO",
    "ID_TAG_INFO_FIELD",
    "ID_TOKEN_TYPE",
    "IN_TRANSACTION",
    "TRANSACTION_ID",
    "LinkState",
    "TransactionIds",
    "id_token_rows",
]

#: The type a 1.6 idTag reads as. 1.6 tags have no type; "Central" is the 2.0.1 type with no
#: format of its own (ISO14443 would claim a 4 or 7 byte hex UID, which "Tag2" is not).
ID_TOKEN_TYPE = "Central"

_TYPE_WHY = "1.6 id tags have no type; the CSMS sees the idTag alone (read back as Central)"


def id_token_rows(generic: str, legacy: str) -> tuple[Field | NotCarried, ...]:
    """The rows of a 2.0.1 IdToken at `generic` <-> a 1.6 idTag at `legacy`.

    idToken is the idTag (1.6: at most 20 characters); its type is not carried; an
    additionalInfo has no 1.6 place, so it is an error (the engine's leftover rule).
    """
    return (
        Field(f"{generic}.idToken", legacy),
        NotCarried(f"{generic}.type", _TYPE_WHY, fill=ID_TOKEN_TYPE),
    )


AUTHORIZATION_STATUS = Values.same(
    "Accepted",
    "Blocked",
    "Expired",
    "Invalid",
    "ConcurrentTx",
    generic_only={
        value: "1.6 AuthorizationStatus has Accepted, Blocked, Expired, Invalid, ConcurrentTx"
        for value in (
            "NoCredit",
            "NotAllowedTypeEVSE",
            "NotAtThisLocation",
            "NotAtThisTime",
            "Unknown",
        )
    },
)

#: 2.0.1 IdTokenInfo <-> 1.6 IdTagInfo.
ID_TAG_INFO = StructMap(
    v201.IdTokenInfo,
    v16.IdTagInfo,
    Field("status", "status", AUTHORIZATION_STATUS),
    Field("cacheExpiryDateTime", "expiryDate"),
    *id_token_rows("groupIdToken", "parentIdTag"),
)

ID_TAG_INFO_FIELD = Nested(ID_TAG_INFO)


class TransactionIds:
    """A connection's transaction ids: the station's own (2.0.1 style, strings) <-> the
    integers a 1.6 CSMS gave in StartTransaction answers. One per 1.6 connection."""

    def __init__(self) -> None:
        self.to_legacy: dict[str, int] = {}
        self.to_generic: dict[int, str] = {}

    def add(self, generic: str, legacy: int) -> None:
        self.to_legacy[generic] = legacy
        self.to_generic[legacy] = generic


_INT32 = 2**31 - 1


def _transaction_id_to_legacy(value: str, where: Where, field: str) -> int:
    ids: TransactionIds | None = where.link
    if ids is not None and value in ids.to_legacy:
        return ids.to_legacy[value]
    digits = value[1:] if value.startswith("-") else value
    if digits.isascii() and digits.isdigit() and -_INT32 - 1 <= int(value) <= _INT32:
        return int(value)
    raise where.fail(
        field,
        value,
        "1.6 transaction ids are integers the CSMS gives in its StartTransaction answer, "
        "and this connection has not been given one for it",
    )


def _transaction_id_to_generic(value: int, where: Where, field: str, keep: Keep) -> str:
    ids: TransactionIds | None = where.link
    if ids is not None and value in ids.to_generic:
        return ids.to_generic[value]
    return str(value)


#: A 2.0.1 transactionId (string) <-> a 1.6 transactionId (integer).
TRANSACTION_ID = Func(
    _transaction_id_to_legacy,
    _transaction_id_to_generic,
    "1.6 integer as a decimal string; on a station, the station's own id for the transaction "
    "the CSMS numbered",
)


class LinkState(TransactionIds):
    """What a 1.6 connection remembers to carry 2.0.1 transactions and statuses.

    Attributes (connector = 1.6 connectorId = 2.0.1 evse id):
        to_legacy, to_generic: transaction ids (see `TransactionIds`).
        transaction_of: connector -> the station's id of its ongoing transaction.
        connector_of: the station's transaction id -> its connector.
        charging_state: connector -> the last 2.0.1 chargingState given for it.
        finished: connectors whose transaction ended, not yet Available again.
        status_sent: connector -> the last 1.6 ChargePointStatus sent for it.
        core_requests: requestId -> the core 1.6 action ("GetDiagnostics", "UpdateFirmware")
            that a 2.0.1 GetLog / UpdateFirmware was read from, with the requestId the
            generic model needed: its status notifications go back as the core ones
            (DiagnosticsStatusNotification, FirmwareStatusNotification), not the Security
            Whitepaper's, which that CSMS did not ask for.
        next_request_id: the next such requestId to give.
    """

    def __init__(self) -> None:
        super().__init__()
        self.transaction_of: dict[int, str] = {}
        self.connector_of: dict[str, int] = {}
        self.charging_state: dict[int, str] = {}
        self.finished: set[int] = set()
        self.status_sent: dict[int, str] = {}
        self.core_requests: dict[int, str] = {}
        # Started transactions whose start readings went out (or had none to send).
        self.readings_sent: set[str] = set()
        self.next_request_id = 1

    def core_request(self, action: str) -> int:
        """A requestId for a core 1.6 `action` read as its 2.0.1 counterpart, remembered."""
        request_id = self.next_request_id
        self.next_request_id += 1
        self.core_requests[request_id] = action
        return request_id

    def occupied_status(self, connector: int) -> str:
        """The 1.6 status an Occupied connector has now."""
        if connector in self.transaction_of:
            return IN_TRANSACTION.get(self.charging_state.get(connector, "Charging"), "Charging")
        return "Finishing" if connector in self.finished else "Preparing"


# chargingState during a transaction -> the 1.6 status. 1.6 has no status for "in a
# transaction, no EV" (Idle) nor "EV connected, not charging yet" (EVConnected): in both the
# EV takes no energy, which 1.6 calls SuspendedEV.
IN_TRANSACTION = {
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
    "EVConnected": "SuspendedEV",
    "Idle": "SuspendedEV",
}
