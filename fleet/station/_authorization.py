"""Local authorization of one station, both OCPP versions, sans-IO: the local authorization
list, the authorization cache, and the decision whether a token starts a session now, waits for
the CSMS, or is refused. References: 1.6 section 3.5 (3.5.1 the cache, 3.5.2 the list, 3.5.3
their relation, 3.5.4 unknown offline authorization), the SendLocalList / GetLocalListVersion /
ClearCache operations and the configuration keys of 9.1; 2.0.1 functional blocks C (C10-C15)
and D (D01-D02). Requirement numbers are given only where checked; otherwise the use case.

Version-neutral inside: a token is its idTag / idToken string (compared case-insensitively:
1.6 CiString20, 2.0.1 IdToken "is case insensitive"), an `Entry` is what 1.6 IdTagInfo and
2.0.1 IdTokenInfo share (status, expiry, parent / group id). Times are the station clock (plain
float seconds); the converters take the station's wall offset (wall = clock + offset).

- `LocalList`: SendLocalList Full / Differential with a version, GetLocalListVersion.
  - Full replaces the list (every entry must carry its info, 1.6 7.1 "Required when UpdateType
    is Full"; else Failed). Differential adds or updates entries with info and deletes those
    without (1.6 7.1; 2.0.1 D01), and needs a version above the current one, else
    VersionMismatch (1.6 SendLocalList; 2.0.1 D01). A version below 0 (1.6: -1 means "no list
    support") fails; more entries than the list holds (LocalAuthListMaxLength,
    LocalAuthListCtrlr.Entries) or than one message may carry (SendLocalListMaxLength,
    LocalAuthListCtrlr.ItemsPerMessage) fail, and a failed update changes nothing.
  - Without list support: 1.6 NotSupported and version -1; 2.0.1 has no NotSupported, so
    Failed and version 0. Disabled (LocalAuthListEnabled / LocalAuthListCtrlr.Enabled false)
    it is still kept up to date, and not consulted.
- `AuthCache`: entries from the CSMS's answers (Authorize, 1.6 StartTransaction /
  StopTransaction, 2.0.1 TransactionEvent: 1.6 3.5.1, 2.0.1 C10), never for a token in the
  local list (the list has precedence, 1.6 3.5.3); an entry past its expiry
  (IdTagInfo.expiryDate, IdTokenInfo.cacheExpiryDateTime) counts as Expired (2.0.1 C10, the
  OCTT's TC_C_11); one not used within AuthCacheCtrlr.LifeTime goes (C10.FR.08, TC_C_46); a
  full cache drops non-Accepted entries first, then the least recently used. ClearCache:
  Accepted and emptied when the cache is there and enabled, else Rejected (2.0.1 C11; the same
  rule for 1.6 is a choice).
- `Authorizer.decide(token, online, now)`:
  - online: with LocalPreAuthorize, a token Accepted (not expired) in the enabled list, else
    the enabled cache, starts now (1.6 LocalPreAuthorize in 9.1: "without waiting for or
    requesting an Authorize.conf"; 2.0.1 C12, C14). Anything else asks the CSMS (Authorize,
    or the transaction's own answer): the CSMS has the last word on a known-invalid token too.
  - offline: a token found Blocked / Expired / Invalid / past its expiry in the list or cache
    is refused (1.6 3.5.4: "MUST be rejected"; 2.0.1 C15); an Accepted one starts with
    LocalAuthorizeOffline (1.6 9.1; 2.0.1 C13); otherwise (unknown, or known but
    LocalAuthorizeOffline false) AllowOfflineTxForUnknownId / OfflineTxForUnknownIdEnabled
    starts it (1.6 3.5.4; 2.0.1 C15), else it is refused.
- `after_answer(status, settings)`: what a session does when the CSMS's answer for a token it
  started on (offline, pre-authorized, unknown) is not Accepted: StopTransactionOnInvalidId /
  TxCtrlr.StopTxOnInvalidId true -> stop, reason DeAuthorized (1.6 StartTransaction and the
  key in 9.1; 2.0.1 C15); false -> only stop energy delivery (1.6: "only stop energy delivery
  to the vehicle"; 2.0.1: after TxCtrlr.MaxEnergyOnInvalidId Wh, handed on by this block).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import msgspec

__all__ = [
    "AuthCache",
    "AuthSettings",
    "Authorizer",
    "Decision",
    "Entry",
    "InvalidAction",
    "LocalList",
    "Verdict",
    "after_answer",
    "entry_from_v16",
    "entry_from_v201",
    "settings_from_v16",
    "settings_from_v201",
    "update_from_v16",
    "update_from_v201",
    "v201_update_status",
]

ACCEPTED = "Accepted"


class Entry(NamedTuple):
    """What the station knows of a token: 1.6 IdTagInfo, 2.0.1 IdTokenInfo."""

    status: str  # Accepted, Blocked, Expired, Invalid, ConcurrentTx, (2.0.1) Unknown, ...
    expiry: float | None = None  # station clock
    parent: str | None = None  # 1.6 parentIdTag, 2.0.1 groupIdToken.idToken

    def valid(self, now: float) -> bool:
        return self.status == ACCEPTED and (self.expiry is None or now < self.expiry)


def _key(token: str) -> str:
    return token.casefold()


# -- the local authorization list ---------------------------------------------------------------


class LocalList:
    """The local authorization list.

    Args:
        supported: the station has one at all (1.6 LocalAuthListManagement profile; 2.0.1
            LocalAuthListCtrlr.Available).
        enabled: LocalAuthListEnabled / LocalAuthListCtrlr.Enabled: consulted for decisions.
        max_entries: LocalAuthListMaxLength / LocalAuthListCtrlr.Entries (None: no bound).
        max_per_message: SendLocalListMaxLength / LocalAuthListCtrlr.ItemsPerMessage.
        v16: answer as 1.6 (NotSupported, version -1 without support) or 2.0.1.
    """

    def __init__(
        self,
        *,
        supported: bool = True,
        enabled: bool = True,
        max_entries: int | None = None,
        max_per_message: int | None = None,
        v16: bool = True,
    ) -> None:
        self.supported = supported
        self.enabled = enabled
        self.max_entries = max_entries
        self.max_per_message = max_per_message
        self.v16 = v16
        self.version = 0
        self.entries: dict[str, Entry] = {}

    def get_version(self) -> int:
        """GetLocalListVersion's answer."""
        if not self.supported:
            return -1 if self.v16 else 0
        return self.version

    def lookup(self, token: str) -> Entry | None:
        """The token's entry, if the list is enabled and holds it."""
        if not (self.supported and self.enabled):
            return None
        return self.entries.get(_key(token))

    def update(self, version: int, full: bool, items: Iterable[tuple[str, Entry | None]]) -> str:
        """SendLocalList: Accepted, Failed, NotSupported (1.6 only) or VersionMismatch."""
        if not self.supported:
            return "NotSupported" if self.v16 else "Failed"
        items = list(items)
        if version < 0 or (self.max_per_message is not None and len(items) > self.max_per_message):
            return "Failed"
        if full:
            if any(entry is None for _, entry in items):
                return "Failed"
            entries: dict[str, Entry] = {}
        else:
            if version <= self.version:
                return "VersionMismatch"
            entries = dict(self.entries)
        for token, entry in items:
            if entry is None:
                entries.pop(_key(token), None)
            else:
                entries[_key(token)] = entry
        if self.max_entries is not None and len(entries) > self.max_entries:
            return "Failed"
        self.entries, self.version = entries, version
        return ACCEPTED


def v201_update_status(status: str) -> str:
    """A `LocalList.update` status as 2.0.1 SendLocalListStatusEnum (no NotSupported)."""
    return "Failed" if status == "NotSupported" else status


# -- the authorization cache --------------------------------------------------------------------


class AuthCache:
    """The authorization cache.

    Args:
        supported: the station has one (2.0.1 AuthCacheCtrlr.Available).
        enabled: AuthorizationCacheEnabled / AuthCacheCtrlr.Enabled.
        lifetime: AuthCacheCtrlr.LifeTime: seconds an entry lasts since it was last used.
        max_entries: how many entries it holds (2.0.1 AuthCacheCtrlr.Storage is in bytes: the
            wiring turns it into a count).
    """

    def __init__(
        self,
        *,
        supported: bool = True,
        enabled: bool = True,
        lifetime: float | None = None,
        max_entries: int | None = None,
    ) -> None:
        self.supported = supported
        self.enabled = enabled
        self.lifetime = lifetime
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Entry, float]] = {}  # token -> (entry, last used)

    def __len__(self) -> int:
        return len(self._entries)

    def store(self, token: str, entry: Entry, now: float) -> None:
        """Remember the CSMS's answer for `token` (the caller keeps list tokens out)."""
        if not (self.supported and self.enabled):
            return
        key = _key(token)
        self._entries.pop(key, None)
        if self.max_entries is not None:
            if self.max_entries <= 0:
                return
            while len(self._entries) >= self.max_entries:
                invalid = [k for k, (e, _) in self._entries.items() if not e.valid(now)]
                victim = invalid[0] if invalid else min(self._entries, key=self._last_used)
                del self._entries[victim]
        self._entries[key] = (entry, now)

    def _last_used(self, key: str) -> float:
        return self._entries[key][1]

    def lookup(self, token: str, now: float) -> Entry | None:
        """The token's entry (status Expired once past its expiry), if enabled and held; a
        lookup counts as a use for the lifetime."""
        if not (self.supported and self.enabled):
            return None
        key = _key(token)
        held = self._entries.get(key)
        if held is None:
            return None
        entry, used = held
        if self.lifetime is not None and now - used >= self.lifetime:
            del self._entries[key]
            return None
        if entry.expiry is not None and now >= entry.expiry and entry.status == ACCEPTED:
            entry = entry._replace(status="Expired")
        self._entries[key] = (entry, now)
        return entry

    def clear(self) -> str:
        """ClearCache: Accepted (and emptied) or Rejected."""
        if not (self.supported and self.enabled):
            return "Rejected"
        self._entries.clear()
        return ACCEPTED


# -- decisions ------------------------------------------------------------------------------


class AuthSettings(NamedTuple):
    """The switches of the decision (1.6 keys / 2.0.1 variables)."""

    local_pre_authorize: bool = False  # LocalPreAuthorize / AuthCtrlr.LocalPreAuthorize
    local_authorize_offline: bool = True  # LocalAuthorizeOffline / AuthCtrlr.LocalAuthorizeOffline
    allow_offline_unknown: bool = False  # AllowOfflineTxForUnknownId / AuthCtrlr.OfflineTxFor...
    stop_on_invalid: bool = True  # StopTransactionOnInvalidId / TxCtrlr.StopTxOnInvalidId
    max_energy_on_invalid: float | None = None  # TxCtrlr.MaxEnergyOnInvalidId (Wh), 2.0.1


class Decision(enum.Enum):
    START = "start"  # start now, authorized locally
    ASK = "ask"  # ask the CSMS (Authorize, or the transaction's answer)
    REFUSE = "refuse"


class Verdict(NamedTuple):
    decision: Decision
    source: str | None  # "list", "cache", "unknown" (offline, unknown token) or None
    entry: Entry | None  # what the list / cache held (its parent for reservations)


class InvalidAction(enum.Enum):
    CONTINUE = "continue"  # the answer is Accepted
    STOP = "stop"  # stop the transaction, reason DeAuthorized
    STOP_ENERGY = "stop energy"  # keep the transaction, deliver no (more) energy


def after_answer(status: str, settings: AuthSettings) -> tuple[InvalidAction, float | None]:
    """What a running session does with the CSMS's authorization answer for its token (1.6
    StartTransaction.conf idTagInfo, 2.0.1 TransactionEventResponse idTokenInfo): the
    action, and for STOP_ENERGY the Wh it may still deliver (2.0.1 MaxEnergyOnInvalidId; 0
    when not set)."""
    if status == ACCEPTED:
        return InvalidAction.CONTINUE, None
    if settings.stop_on_invalid:
        return InvalidAction.STOP, None
    return InvalidAction.STOP_ENERGY, settings.max_energy_on_invalid or 0.0


class Authorizer:
    """One station's local list and cache, and the decision that uses them."""

    def __init__(
        self,
        settings: AuthSettings | None = None,
        local_list: LocalList | None = None,
        cache: AuthCache | None = None,
    ) -> None:
        self.settings = settings or AuthSettings()
        self.local_list = local_list or LocalList()
        self.cache = cache or AuthCache()

    def known(self, token: str, now: float) -> tuple[str | None, Entry | None]:
        """Where the token is known (the list first, it has precedence) and its entry."""
        entry = self.local_list.lookup(token)
        if entry is not None:
            if entry.expiry is not None and now >= entry.expiry and entry.status == ACCEPTED:
                entry = entry._replace(status="Expired")
            return "list", entry
        entry = self.cache.lookup(token, now)
        if entry is not None:
            return "cache", entry
        return None, None

    def decide(self, token: str, online: bool, now: float) -> Verdict:
        """Start now, ask the CSMS, or refuse: see the module doc."""
        source, entry = self.known(token, now)
        settings = self.settings
        if online:
            if settings.local_pre_authorize and entry is not None and entry.valid(now):
                return Verdict(Decision.START, source, entry)
            return Verdict(Decision.ASK, source, entry)
        if entry is not None and not entry.valid(now):
            return Verdict(Decision.REFUSE, source, entry)
        if entry is not None and settings.local_authorize_offline:
            return Verdict(Decision.START, source, entry)
        if settings.allow_offline_unknown:
            return Verdict(Decision.START, "unknown", entry)
        return Verdict(Decision.REFUSE, source, entry)

    def answered(self, token: str, entry: Entry, now: float) -> None:
        """The CSMS answered for `token` (Authorize, a transaction message): cache it, unless
        the local list holds the token."""
        if self.local_list.supported and _key(token) in self.local_list.entries:
            return
        self.cache.store(token, entry, now)


# -- converters ---------------------------------------------------------------------------------


def _clock(when: Any, wall_offset: float) -> float | None:
    if when is msgspec.UNSET or when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp() - wall_offset


def _str(value: Any) -> str | None:
    return None if value is msgspec.UNSET or value is None else str(value)


def entry_from_v16(id_tag_info: Any, wall_offset: float) -> Entry:
    """A 1.6 IdTagInfo."""
    return Entry(
        str(id_tag_info.status),
        _clock(id_tag_info.expiry_date, wall_offset),
        _str(id_tag_info.parent_id_tag),
    )


def entry_from_v201(id_token_info: Any, wall_offset: float) -> Entry:
    """A 2.0.1 IdTokenInfo."""
    group = id_token_info.group_id_token
    return Entry(
        str(id_token_info.status),
        _clock(id_token_info.cache_expiry_date_time, wall_offset),
        None if group is msgspec.UNSET else group.id_token,
    )


def update_from_v16(
    request: Any, wall_offset: float
) -> tuple[int, bool, list[tuple[str, Entry | None]]]:
    """A 1.6 SendLocalListRequest as `LocalList.update`'s arguments."""
    data = request.local_authorization_list
    items = [
        (
            item.id_tag,
            None
            if item.id_tag_info is msgspec.UNSET
            else entry_from_v16(item.id_tag_info, wall_offset),
        )
        for item in ([] if data is msgspec.UNSET else data)
    ]
    return request.list_version, str(request.update_type) == "Full", items


def update_from_v201(
    request: Any, wall_offset: float
) -> tuple[int, bool, list[tuple[str, Entry | None]]]:
    """A 2.0.1 SendLocalListRequest as `LocalList.update`'s arguments."""
    data = request.local_authorization_list
    items = [
        (
            item.id_token.id_token,
            None
            if item.id_token_info is msgspec.UNSET
            else entry_from_v201(item.id_token_info, wall_offset),
        )
        for item in ([] if data is msgspec.UNSET else data)
    ]
    return request.version_number, str(request.update_type) == "Full", items


def _flag(value: str | None, default: bool) -> bool:
    return default if value is None else value.strip().lower() == "true"


def _number(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def settings_from_v16(configuration: Mapping[str, tuple[str, bool]]) -> AuthSettings:
    """The decision's switches from a 1.6 configuration store (key -> (value, read-only))."""

    def get(key: str) -> str | None:
        entry = configuration.get(key)
        return None if entry is None else entry[0]

    return AuthSettings(
        local_pre_authorize=_flag(get("LocalPreAuthorize"), False),
        local_authorize_offline=_flag(get("LocalAuthorizeOffline"), True),
        allow_offline_unknown=_flag(get("AllowOfflineTxForUnknownId"), False),
        stop_on_invalid=_flag(get("StopTransactionOnInvalidId"), True),
    )


def settings_from_v201(variables: Mapping[tuple[str, str], tuple[str, bool]]) -> AuthSettings:
    """The decision's switches from a 2.0.1 device model ((component, variable) -> (value,
    read-only))."""

    def get(component: str, variable: str) -> str | None:
        entry = variables.get((component, variable))
        return None if entry is None else entry[0]

    return AuthSettings(
        local_pre_authorize=_flag(get("AuthCtrlr", "LocalPreAuthorize"), False),
        local_authorize_offline=_flag(get("AuthCtrlr", "LocalAuthorizeOffline"), True),
        allow_offline_unknown=_flag(get("AuthCtrlr", "OfflineTxForUnknownIdEnabled"), False),
        stop_on_invalid=_flag(get("TxCtrlr", "StopTxOnInvalidId"), True),
        max_energy_on_invalid=_number(get("TxCtrlr", "MaxEnergyOnInvalidId")),
    )
