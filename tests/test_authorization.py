"""Local authorization, sans-IO, on virtual time: the local list's updates and versions, the
cache, the online / offline decision and StopTransactionOnInvalidId."""

from __future__ import annotations

import collections
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.ocpp import v16, v201
from fleet.station._authorization import (
    AuthCache,
    Authorizer,
    AuthSettings,
    Decision,
    Entry,
    InvalidAction,
    LocalList,
    after_answer,
    entry_from_v16,
    entry_from_v201,
    settings_from_v16,
    settings_from_v201,
    update_from_v16,
    update_from_v201,
    v201_update_status,
)

OK = Entry("Accepted")
BLOCKED = Entry("Blocked")


# -- the local list -----------------------------------------------------------------------------


def test_full_replaces_and_differential_adds_updates_deletes() -> None:
    lst = LocalList()
    assert lst.get_version() == 0
    assert lst.update(1, True, [("A", OK), ("B", OK)]) == "Accepted"
    assert lst.update(2, False, [("a", BLOCKED), ("B", None), ("C", OK)]) == "Accepted"
    assert lst.entries == {"a": BLOCKED, "c": OK}
    assert lst.get_version() == 2
    assert lst.update(3, True, []) == "Accepted"  # a Full without entries empties it
    assert lst.entries == {} and lst.version == 3


def test_differential_needs_a_newer_version() -> None:
    lst = LocalList()
    lst.update(5, True, [("A", OK)])
    assert lst.update(5, False, [("B", OK)]) == "VersionMismatch"
    assert lst.update(4, False, [("B", OK)]) == "VersionMismatch"
    assert lst.update(3, True, [("B", OK)]) == "Accepted"  # a Full may go back
    assert lst.entries == {"b": OK}


def test_failures_change_nothing() -> None:
    lst = LocalList(max_entries=2, max_per_message=3)
    lst.update(1, True, [("A", OK)])
    assert lst.update(2, True, [("A", None)]) == "Failed"  # Full entries need their info
    assert lst.update(2, False, [("B", OK), ("C", OK)]) == "Failed"  # list too long
    assert lst.update(2, True, [("B", OK)] * 4) == "Failed"  # message too long
    assert lst.update(-1, True, []) == "Failed"
    assert lst.entries == {"a": OK} and lst.version == 1


def test_without_support_and_disabled() -> None:
    assert LocalList(supported=False).update(1, True, []) == "NotSupported"
    assert LocalList(supported=False).get_version() == -1
    assert LocalList(supported=False, v16=False).update(1, True, []) == "Failed"
    assert LocalList(supported=False, v16=False).get_version() == 0
    assert v201_update_status("NotSupported") == "Failed"
    off = LocalList(enabled=False)
    assert off.update(1, True, [("A", OK)]) == "Accepted"  # kept up to date
    assert off.lookup("A") is None  # not consulted
    off.enabled = True
    assert off.lookup("a") == OK


_tokens = st.sampled_from(["A", "b", "C", "d", "E"])
_entries = st.sampled_from([OK, BLOCKED, Entry("Accepted", 50.0, "P"), Entry("Expired")])


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(_tokens, _entries),
    st.lists(st.lists(st.tuples(_tokens, st.none() | _entries), max_size=6), max_size=8),
)
def test_differentials_equal_the_full_list_they_describe(start, updates) -> None:
    """A Full list then differential updates holds what one Full of the resulting list would,
    at the last version."""
    lst = LocalList()
    assert lst.update(1, True, list(start.items())) == "Accepted"
    model = {k.casefold(): v for k, v in start.items()}
    for version, update in enumerate(updates, start=2):
        assert lst.update(version, False, update) == "Accepted"
        for token, entry in update:
            if entry is None:
                model.pop(token.casefold(), None)
            else:
                model[token.casefold()] = entry
    full = LocalList()
    assert full.update(len(updates) + 1, True, list(model.items())) == "Accepted"
    assert lst.entries == full.entries == model
    assert lst.version == full.version


# -- the cache ----------------------------------------------------------------------------------


def test_cache_stores_expires_and_clears() -> None:
    cache = AuthCache()
    cache.store("T", Entry("Accepted", expiry=100.0), now=0.0)
    assert cache.lookup("t", 50.0) == Entry("Accepted", 100.0)
    assert cache.lookup("T", 100.0) == Entry("Expired", 100.0)
    assert cache.clear() == "Accepted" and len(cache) == 0
    assert AuthCache(enabled=False).clear() == "Rejected"
    assert AuthCache(supported=False).clear() == "Rejected"
    off = AuthCache(enabled=False)
    off.store("T", OK, 0.0)
    assert len(off) == 0 and off.lookup("T", 0.0) is None


def test_cache_lifetime_counts_from_the_last_use() -> None:
    cache = AuthCache(lifetime=60.0)
    cache.store("T", OK, 0.0)
    assert cache.lookup("T", 59.0) == OK
    assert cache.lookup("T", 118.0) == OK  # used at 59
    assert cache.lookup("T", 178.0) is None and len(cache) == 0


def test_full_cache_drops_invalid_entries_first_then_the_least_recently_used() -> None:
    cache = AuthCache(max_entries=2)
    cache.store("A", OK, 0.0)
    cache.store("B", BLOCKED, 1.0)
    cache.store("C", OK, 2.0)  # B goes: invalid
    assert cache.lookup("B", 3.0) is None
    cache.lookup("A", 4.0)
    cache.store("D", OK, 5.0)  # C goes: A was used since
    assert cache.lookup("C", 6.0) is None
    assert cache.lookup("A", 6.0) == OK and cache.lookup("D", 6.0) == OK


def test_list_tokens_stay_out_of_the_cache() -> None:
    auth = Authorizer()
    auth.local_list.update(1, True, [("L", BLOCKED)])
    auth.answered("l", OK, 0.0)
    auth.answered("X", OK, 0.0)
    assert len(auth.cache) == 1
    assert auth.known("L", 0.0) == ("list", BLOCKED)  # the list has precedence


# -- the decision -------------------------------------------------------------------------------


def make(**switches) -> Authorizer:
    auth = Authorizer(AuthSettings(**switches))
    auth.local_list.update(
        1, True, [("LISTED", OK), ("BLOCKED", BLOCKED), ("OLD", Entry("Accepted", 10.0))]
    )
    auth.answered("CACHED", Entry("Accepted", parent="P"), 0.0)
    auth.answered("REFUSED", Entry("Invalid"), 0.0)
    return auth


def test_online_asks_unless_pre_authorized() -> None:
    auth = make()
    for token in ("LISTED", "CACHED", "UNKNOWN", "BLOCKED"):
        assert auth.decide(token, True, 0.0).decision is Decision.ASK
    pre = make(local_pre_authorize=True)
    assert pre.decide("LISTED", True, 0.0)[:2] == (Decision.START, "list")
    verdict = pre.decide("cached", True, 0.0)
    assert verdict == (Decision.START, "cache", Entry("Accepted", parent="P"))
    assert pre.decide("BLOCKED", True, 0.0).decision is Decision.ASK
    assert pre.decide("OLD", True, 20.0).decision is Decision.ASK  # past its expiry
    assert pre.decide("UNKNOWN", True, 0.0).decision is Decision.ASK


def test_offline_decisions() -> None:
    auth = make(local_authorize_offline=True)
    assert auth.decide("LISTED", False, 0.0)[:2] == (Decision.START, "list")
    assert auth.decide("CACHED", False, 0.0)[:2] == (Decision.START, "cache")
    assert auth.decide("BLOCKED", False, 0.0).decision is Decision.REFUSE
    assert auth.decide("REFUSED", False, 0.0).decision is Decision.REFUSE
    assert auth.decide("OLD", False, 5.0).decision is Decision.START
    assert auth.decide("OLD", False, 10.0).decision is Decision.REFUSE  # expired: rejected
    assert auth.decide("UNKNOWN", False, 0.0).decision is Decision.REFUSE
    free = make(local_authorize_offline=True, allow_offline_unknown=True)
    assert free.decide("UNKNOWN", False, 0.0)[:2] == (Decision.START, "unknown")
    assert free.decide("BLOCKED", False, 0.0).decision is Decision.REFUSE  # known: still not
    assert free.decide("OLD", False, 10.0).decision is Decision.REFUSE


def test_offline_without_local_authorize_offline() -> None:
    auth = make(local_authorize_offline=False)
    assert auth.decide("LISTED", False, 0.0).decision is Decision.REFUSE
    unknown_ok = make(local_authorize_offline=False, allow_offline_unknown=True)
    assert unknown_ok.decide("LISTED", False, 0.0)[:2] == (Decision.START, "unknown")
    assert unknown_ok.decide("BLOCKED", False, 0.0).decision is Decision.REFUSE


def test_disabled_list_and_cache_are_not_consulted() -> None:
    auth = make(local_authorize_offline=True)
    auth.local_list.enabled = False
    auth.cache.enabled = False
    assert auth.decide("LISTED", False, 0.0).decision is Decision.REFUSE
    assert auth.decide("CACHED", False, 0.0).decision is Decision.REFUSE


def test_stop_transaction_on_invalid_id() -> None:
    assert after_answer("Accepted", AuthSettings()) == (InvalidAction.CONTINUE, None)
    assert after_answer("Invalid", AuthSettings()) == (InvalidAction.STOP, None)
    keep = AuthSettings(stop_on_invalid=False)
    assert after_answer("Blocked", keep) == (InvalidAction.STOP_ENERGY, 0.0)
    capped = AuthSettings(stop_on_invalid=False, max_energy_on_invalid=500.0)
    assert after_answer("Invalid", capped) == (InvalidAction.STOP_ENERGY, 500.0)


# -- converters ---------------------------------------------------------------------------------

OFFSET = 1_000_000.0
WHEN = dt.datetime.fromtimestamp(OFFSET + 300.0, dt.UTC)


def test_v16_converters() -> None:
    info = v16.IdTagInfo(
        status=v16.AuthorizationStatus.ACCEPTED, expiry_date=WHEN, parent_id_tag="P"
    )
    assert entry_from_v16(info, OFFSET) == Entry("Accepted", 300.0, "P")
    request = v16.SendLocalListRequest(
        list_version=3,
        update_type=v16.UpdateType.DIFFERENTIAL,
        local_authorization_list=[
            v16.AuthorizationData(id_tag="A", id_tag_info=info),
            v16.AuthorizationData(id_tag="B"),
        ],
    )
    assert update_from_v16(request, OFFSET) == (
        3,
        False,
        [("A", Entry("Accepted", 300.0, "P")), ("B", None)],
    )
    empty = v16.SendLocalListRequest(list_version=1, update_type=v16.UpdateType.FULL)
    assert update_from_v16(empty, OFFSET) == (1, True, [])
    store = collections.ChainMap(
        {"LocalPreAuthorize": ("true", False), "AllowOfflineTxForUnknownId": ("TRUE", False)}
    )
    assert settings_from_v16(store) == AuthSettings(
        local_pre_authorize=True, allow_offline_unknown=True
    )


def test_v201_converters() -> None:
    info = v201.IdTokenInfo(
        status=v201.AuthorizationStatusEnum.BLOCKED,
        cache_expiry_date_time=WHEN,
        group_id_token=v201.IdToken(id_token="G", type=v201.IdTokenEnum.CENTRAL),
    )
    assert entry_from_v201(info, OFFSET) == Entry("Blocked", 300.0, "G")
    token = v201.IdToken(id_token="A", type=v201.IdTokenEnum.ISO14443)
    request = v201.SendLocalListRequest(
        version_number=2,
        update_type=v201.UpdateEnum.FULL,
        local_authorization_list=[v201.AuthorizationData(id_token=token, id_token_info=info)],
    )
    assert update_from_v201(request, OFFSET) == (2, True, [("A", Entry("Blocked", 300.0, "G"))])
    variables = {
        ("AuthCtrlr", "LocalAuthorizeOffline"): ("false", False),
        ("AuthCtrlr", "OfflineTxForUnknownIdEnabled"): ("true", False),
        ("TxCtrlr", "StopTxOnInvalidId"): ("false", False),
        ("TxCtrlr", "MaxEnergyOnInvalidId"): ("250", False),
    }
    assert settings_from_v201(variables) == AuthSettings(
        local_authorize_offline=False,
        allow_offline_unknown=True,
        stop_on_invalid=False,
        max_energy_on_invalid=250.0,
    )


@settings(max_examples=150, deadline=None)
@given(
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.dictionaries(_tokens, _entries),
    st.dictionaries(_tokens, _entries),
    _tokens,
    st.booleans(),
    st.floats(0, 100),
)
def test_decisions_follow_the_rules(
    pre, offline_ok, unknown_ok, listed, cached, token, online, now
):
    """Online never refuses; offline never starts a token the list or cache knows as invalid;
    an offline start needs a valid entry or AllowOfflineTxForUnknownId; the list wins."""
    auth = Authorizer(AuthSettings(pre, offline_ok, unknown_ok))
    auth.local_list.update(1, True, list(listed.items()))
    for t, entry in cached.items():
        auth.answered(t, entry, 0.0)
    verdict = auth.decide(token, online, now)
    entry = listed.get(token)
    if entry is not None:
        assert verdict.source in ("list", "unknown")
    else:
        entry = cached.get(token)
    if online:
        assert verdict.decision is not Decision.REFUSE
        if verdict.decision is Decision.START:
            assert pre and entry is not None and entry.valid(now)
    elif entry is not None and not entry.valid(now):
        assert verdict.decision is Decision.REFUSE
    elif verdict.decision is Decision.START:
        assert (offline_ok and entry is not None) or unknown_ok
    else:
        assert not unknown_ok and not (offline_ok and entry is not None)
