"""Local authorization wired into the simulated stations (issue 15 item 3), on virtual time:
the local list (SendLocalList, GetLocalListVersion), the cache (ClearCache), LocalPreAuthorize,
sessions started offline and delivered after the reconnect, and what an invalid token does.

The machines are driven by `tests.test_station.Harness` (a fake clock, the embedded CSMS's
answers); the CSMS's calls go straight to `on_call`, decoded from JSON as off the wire.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from fleet.ocpp import v16, v201
from fleet.profile import Distribution
from fleet.station import ConnectorState, Outgoing
from tests.test_station import Harness

VERSIONS = ("1.6", "2.0.1")


def harness(version: str, **overrides: Any) -> Harness:
    """One connector, booted at t=0; drivers (TAG-1) arrive at t=20 and charge 30 s, a
    sample every 5 s, then come back 1000 s later."""
    values: dict[str, Any] = {
        "connectors": 1,
        "first_start": Distribution.constant(20),
        "length": Distribution.constant(30),
        "idle": Distribution.constant(1000),
        "id_tags": ["TAG-1"],
    }
    values.update(overrides)
    h = Harness(version, **values)
    h.machine.connected(0.0)
    h.run_until(1.0)
    assert h.machine.booted
    return h


def call(h: Harness, action: str, payload: dict[str, Any]) -> Any:
    """A CALL as it comes off the wire (decoded and validated); its answer checked too."""
    spec = h.module.ACTIONS[action]
    request = spec.request_decoder.decode(msgspec.json.encode(payload))
    response = h.machine.on_call(action, request, h.now)
    spec.response_decoder.decode(msgspec.json.encode(response))
    return response


def send_list(
    h: Harness, version: int, entries: dict[str, str | None], update: str = "Full"
) -> str:
    """SendLocalList: token -> status (None: no info, a deletion in a Differential one)."""
    items: list[dict[str, Any]] = []
    for token, status in entries.items():
        if h.module is v16:
            item: dict[str, Any] = {"idTag": token}
            if status is not None:
                item["idTagInfo"] = {"status": status}
        else:
            item = {"idToken": {"idToken": token, "type": "ISO14443"}}
            if status is not None:
                item["idTokenInfo"] = {"status": status}
        items.append(item)
    if h.module is v16:
        payload: dict[str, Any] = {"listVersion": version, "updateType": update}
    else:
        payload = {"versionNumber": version, "updateType": update}
    if items:
        payload["localAuthorizationList"] = items
    return str(call(h, "SendLocalList", payload).status)


def list_version(h: Harness) -> int:
    answer = call(h, "GetLocalListVersion", {})
    return answer.list_version if h.module is v16 else answer.version_number


def configure(h: Harness, name: str, value: str) -> str:
    """ChangeConfiguration (1.6 key) / SetVariables (2.0.1 "Component.Variable")."""
    if h.module is v16:
        return str(call(h, "ChangeConfiguration", {"key": name, "value": value}).status)
    component, variable = name.split(".")
    payload = {
        "setVariableData": [
            {
                "component": {"name": component},
                "variable": {"name": variable},
                "attributeValue": value,
            }
        ]
    }
    return str(call(h, "SetVariables", payload).set_variable_result[0].attribute_status)


KEYS = {
    "1.6": {
        "pre": "LocalPreAuthorize",
        "offline": "LocalAuthorizeOffline",
        "unknown": "AllowOfflineTxForUnknownId",
        "stop": "StopTransactionOnInvalidId",
        "cache": "AuthorizationCacheEnabled",
        "list": "LocalAuthListEnabled",
    },
    "2.0.1": {
        "pre": "AuthCtrlr.LocalPreAuthorize",
        "offline": "AuthCtrlr.LocalAuthorizeOffline",
        "unknown": "AuthCtrlr.OfflineTxForUnknownIdEnabled",
        "stop": "TxCtrlr.StopTxOnInvalidId",
        "cache": "AuthCacheCtrlr.Enabled",
        "list": "LocalAuthListCtrlr.Enabled",
    },
}


def kind(item: Outgoing) -> str:
    """A message as start / meter / stop / suspended (a transaction message) or its action."""
    p: Any = item.payload
    if item.action == "StartTransaction":
        return "start"
    if item.action == "MeterValues" and p.transaction_id is not msgspec.UNSET:
        return "meter"
    if item.action == "StopTransaction":
        return "stop"
    if item.action == "TransactionEvent":
        if p.event_type == "Updated" and p.trigger_reason == "ChargingStateChanged":
            return "suspended"
        return {"Started": "start", "Updated": "meter", "Ended": "stop"}[p.event_type.value]
    return item.action


def transaction(h: Harness, since: float = 0.0) -> list[tuple[float, Outgoing]]:
    return [
        (at, item)
        for at, item in h.sent
        if at >= since and kind(item) in ("start", "meter", "stop", "suspended")
    ]


def go_offline(h: Harness, at: float, back_at: float) -> None:
    """The connection drops at `at` and is open again at `back_at` (the actor's calls)."""
    h.run_until(at)
    h.machine.disconnected(at)
    h.now = back_at
    h.machine.connected(back_at)


def refusing(h: Harness, status: str) -> None:
    """The CSMS answers every start with the given idTagInfo / idTokenInfo status."""
    if h.module is v16:

        def start(item: Outgoing) -> Any:
            answer = h.respond_normally(item)
            return msgspec.structs.replace(answer, id_tag_info=v16.IdTagInfo(status=status))

        h.answer["StartTransaction"] = start
    else:

        def event(item: Outgoing) -> Any:
            answer = h.respond_normally(item)
            if item.payload.event_type == "Started":  # type: ignore[attr-defined]
                info = v201.IdTokenInfo(status=status)
                return msgspec.structs.replace(answer, id_token_info=info)
            return answer

        h.answer["TransactionEvent"] = event


# -- the local list ------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_send_local_list_full_differential_and_version(version: str) -> None:
    h = harness(version)
    assert h.machine.authorizer is None  # nothing made before the first use
    assert list_version(h) == 0
    assert send_list(h, 3, {"A": "Accepted", "B": "Blocked"}) == "Accepted"
    assert list_version(h) == 3
    entries = h.machine.authorizer.local_list.entries  # type: ignore[union-attr]
    assert {k: e.status for k, e in entries.items()} == {"a": "Accepted", "b": "Blocked"}
    # Differential: a version above the current one; adds, updates, deletes (no info).
    assert send_list(h, 3, {"C": "Accepted"}, "Differential") == "VersionMismatch"
    assert send_list(h, 4, {"C": "Accepted", "B": None, "A": "Expired"}, "Differential") == (
        "Accepted"
    )
    entries = h.machine.authorizer.local_list.entries  # type: ignore[union-attr]
    assert {k: e.status for k, e in entries.items()} == {"a": "Expired", "c": "Accepted"}
    assert list_version(h) == 4
    # Full replaces it whatever its version; an entry of a Full list needs its info.
    assert send_list(h, 2, {"D": "Accepted"}) == "Accepted"
    assert list_version(h) == 2
    assert send_list(h, 5, {"E": None}) == "Failed"
    assert list_version(h) == 2  # a failed update changes nothing
    if version == "2.0.1":
        entries_variable = h.machine.variables["LocalAuthListCtrlr", "Entries"]  # type: ignore[attr-defined]
        assert entries_variable == ("1", True)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_list_too_long_fails(version: str) -> None:
    h = harness(version)
    per_message = 100  # SendLocalListMaxLength / LocalAuthListCtrlr.ItemsPerMessage
    many = {f"T{i}": "Accepted" for i in range(per_message + 1)}
    assert send_list(h, 1, many) == "Failed"
    assert list_version(h) == 0
    # Within a message, but the list would hold more than it may (1000).
    for n in range(10):
        part = {f"T{n}-{i}": "Accepted" for i in range(100)}
        assert send_list(h, n + 1, part, "Full" if n == 0 else "Differential") == "Accepted"
    assert send_list(h, 11, {"ONE-MORE": "Accepted"}, "Differential") == "Failed"
    assert list_version(h) == 10


def test_no_list_support_1_6_not_supported_and_2_0_1_failed() -> None:
    h = harness("1.6")
    h.machine.configuration["SupportedFeatureProfiles"] = ("Core,SmartCharging", True)  # type: ignore[attr-defined]
    assert list_version(h) == -1
    assert send_list(h, 1, {"A": "Accepted"}) == "NotSupported"
    assert list_version(h) == -1
    h = harness("2.0.1")
    h.machine.variables["LocalAuthListCtrlr", "Available"] = ("false", True)  # type: ignore[attr-defined]
    assert send_list(h, 1, {"A": "Accepted"}) == "Failed"
    assert list_version(h) == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_authorization_keys_are_checked_and_take_effect(version: str) -> None:
    h = harness(version)
    keys = KEYS[version]
    assert configure(h, keys["pre"], "maybe") == "Rejected"
    assert h.machine.authorizer is None
    assert configure(h, keys["pre"], "true") == "Accepted"
    authorizer = h.machine.authorizer
    assert authorizer is not None and authorizer.settings.local_pre_authorize
    assert configure(h, keys["unknown"], "true") == "Accepted"
    assert configure(h, keys["stop"], "false") == "Accepted"
    assert configure(h, keys["list"], "false") == "Accepted"
    assert configure(h, keys["cache"], "false") == "Accepted"
    settings = authorizer.settings
    assert settings.allow_offline_unknown and not settings.stop_on_invalid
    assert not authorizer.local_list.enabled and not authorizer.cache.enabled
    if version == "1.6":
        assert configure(h, "LocalAuthListMaxLength", "5") == "Rejected"  # read-only
    else:
        assert configure(h, "LocalAuthListCtrlr.Entries", "5") == "Rejected"  # read-only
        assert configure(h, "AuthCacheCtrlr.LifeTime", "60") == "Accepted"
        assert authorizer.cache.lifetime == 60.0


# -- the cache -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_the_cache_is_filled_by_answers_and_cleared(version: str) -> None:
    h = harness(version)
    h.run_until(25.0)  # Authorize and the start answered
    authorizer = h.machine.authorizer
    assert authorizer is not None  # made by the first answer
    entry = authorizer.cache.lookup("TAG-1", h.now)
    assert entry is not None and entry.status == "Accepted"
    assert str(call(h, "ClearCache", {}).status) == "Accepted"
    assert len(authorizer.cache) == 0
    # The start's answer does not refill it; the stop's answer (1.6 idTagInfo) may.
    configure(h, KEYS[version]["cache"], "false")
    assert str(call(h, "ClearCache", {}).status) == "Rejected"
    h.run_until(60.0)
    assert len(authorizer.cache) == 0  # off: nothing goes in


@pytest.mark.parametrize("version", VERSIONS)
def test_a_station_with_the_cache_off_makes_no_authorizer(version: str) -> None:
    h = Harness(version, connectors=1, id_tags=["TAG-1"])
    if version == "1.6":
        h.machine.configuration["AuthorizationCacheEnabled"] = ("false", False)  # type: ignore[attr-defined]
    else:
        h.machine.variables["AuthCacheCtrlr", "Enabled"] = ("false", False)  # type: ignore[attr-defined]
    h.machine.connected(0.0)
    h.run_until(60.0)
    assert h.observer.events["started"] >= 1
    assert h.machine.authorizer is None
    assert str(call(h, "ClearCache", {}).status) == "Rejected"


@pytest.mark.parametrize("version", VERSIONS)
def test_local_pre_authorize_starts_a_known_token_without_authorize(version: str) -> None:
    h = harness(version)
    assert send_list(h, 1, {"TAG-1": "Accepted"}) == "Accepted"
    h.run_until(25.0)
    assert "Authorize" in h.actions()  # LocalPreAuthorize is false: the CSMS is asked
    h = harness(version)
    assert send_list(h, 1, {"TAG-1": "Accepted"}) == "Accepted"
    assert configure(h, KEYS[version]["pre"], "true") == "Accepted"
    h.run_until(25.0)
    assert "Authorize" not in h.actions()
    assert [kind(item) for _, item in transaction(h)][:1] == ["start"]
    assert h.machine.connectors[0].state is ConnectorState.CHARGING
    # A token the list does not know is still asked for.
    h = harness(version, id_tags=["STRANGER"])
    send_list(h, 1, {"TAG-1": "Accepted"})
    configure(h, KEYS[version]["pre"], "true")
    h.run_until(25.0)
    assert "Authorize" in h.actions()


# -- offline ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_a_listed_token_starts_offline_and_its_session_is_delivered_after_the_reconnect(
    version: str,
) -> None:
    h = harness(version)
    assert send_list(h, 1, {"TAG-1": "Accepted"}) == "Accepted"
    # Offline from 2 s to 100 s: the driver of t=20 charges until 50, all offline.
    go_offline(h, 2.0, 100.0)
    h.run_until(102.0)
    after = [item for at, item in h.sent if at >= 100.0]
    assert after[0].action == "BootNotification"
    delivered = [item for _, item in transaction(h, 100.0)]
    assert [kind(i) for i in delivered] == ["start"] + ["meter"] * 6 + ["stop"]
    assert "Authorize" not in h.actions()
    wall = h.machine.wall
    start: Any = delivered[0].payload
    stop: Any = delivered[-1].payload
    assert wall(19.9) < start.timestamp < wall(20.1)
    assert wall(49.9) < stop.timestamp < wall(50.1)
    samples = [i.payload.meter_value[0].timestamp for i in delivered[1:-1]]  # type: ignore[attr-defined]
    assert samples == sorted(samples) and wall(24.9) < samples[0] < wall(25.1)
    if version == "1.6":
        # The transactionId was known only from the start's answer: every later message
        # carries it, not the placeholder.
        started = next(at for at, i in h.sent if i.action == "StartTransaction")
        assert started >= 100.0
        ids = {i.payload.transaction_id for i in delivered[1:]}  # type: ignore[attr-defined]
        assert len(ids) == 1 and next(iter(ids)) > 0
        assert stop.reason == "Local"
    else:
        assert all(i.payload.offline is True for i in delivered)  # type: ignore[attr-defined]
        assert [i.payload.seq_no for i in delivered] == list(range(8))  # type: ignore[attr-defined]
        ids = {i.payload.transaction_info.transaction_id for i in delivered}  # type: ignore[attr-defined]
        assert len(ids) == 1
    assert h.observer.events["started"] == 1 and h.observer.events["stopped"] == 1
    assert not h.machine.transaction_queue


def test_an_offline_session_still_running_gets_its_transaction_id_1_6() -> None:
    h = harness("1.6")
    send_list(h, 1, {"TAG-1": "Accepted"})
    go_offline(h, 2.0, 32.0)  # back while the session (20-50 s) runs
    h.run_until(33.0)
    connector = h.machine.connectors[0]
    assert connector.state is ConnectorState.CHARGING
    start = next(i for _, i in h.sent if i.action == "StartTransaction")
    assert start.session is not None and start.session < 0  # it carried its placeholder
    # Answered: the CSMS's id is on the connector now, and on every message of the session.
    transaction_id = connector.transaction_id
    assert transaction_id is not None and transaction_id > 0
    h.run_until(60.0)
    later = [i.payload.transaction_id for _, i in transaction(h) if kind(i) in ("meter", "stop")]  # type: ignore[attr-defined]
    assert len(later) == 7 and set(later) == {transaction_id}


@pytest.mark.parametrize("version", VERSIONS)
def test_an_unknown_token_offline_waits_for_the_csms_unless_allowed(version: str) -> None:
    h = harness(version)
    send_list(h, 1, {"SOMEONE-ELSE": "Accepted"})
    go_offline(h, 2.0, 100.0)
    h.run_until(101.0)
    # Refused offline: the driver waited; after the boot the CSMS is asked, online.
    actions = h.actions(100.0)
    assert actions.index("BootNotification") < actions.index("Authorize")
    (start,) = [i for _, i in transaction(h) if kind(i) == "start"]
    if version == "2.0.1":
        assert start.payload.offline is msgspec.UNSET  # type: ignore[attr-defined]
    # AllowOfflineTxForUnknownId / OfflineTxForUnknownIdEnabled: it starts offline.
    h = harness(version)
    send_list(h, 1, {"SOMEONE-ELSE": "Accepted"})
    assert configure(h, KEYS[version]["unknown"], "true") == "Accepted"
    go_offline(h, 2.0, 100.0)
    h.run_until(101.0)
    assert "Authorize" not in h.actions()
    kinds = [kind(i) for _, i in transaction(h)]
    assert kinds[0] == "start" and kinds[-1] == "stop"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_blocked_token_offline_is_refused_and_local_authorize_offline_false_waits(
    version: str,
) -> None:
    h = harness(version)
    send_list(h, 1, {"TAG-1": "Blocked"})
    configure(h, KEYS[version]["unknown"], "true")  # unknown ones would start: not this
    go_offline(h, 2.0, 100.0)
    h.run_until(200.0)
    assert transaction(h) == []  # refused, and the driver left (back in 1000 s)
    assert "Authorize" not in h.actions()
    # LocalAuthorizeOffline false: a listed token is not enough; it waits for the boot.
    h = harness(version)
    send_list(h, 1, {"TAG-1": "Accepted"})
    assert configure(h, KEYS[version]["offline"], "false") == "Accepted"
    go_offline(h, 2.0, 100.0)
    h.run_until(101.0)
    actions = h.actions(100.0)
    assert actions.index("BootNotification") < actions.index("Authorize")


@pytest.mark.parametrize("version", VERSIONS)
def test_an_offline_start_the_csms_refuses_stops_with_stop_on_invalid_id(version: str) -> None:
    h = harness(version)
    send_list(h, 1, {"TAG-1": "Accepted"})
    refusing(h, "Invalid")
    go_offline(h, 2.0, 30.0)  # back while the session runs
    h.run_until(31.0)
    kinds = [kind(i) for _, i in transaction(h)]
    assert kinds[0] == "start" and kinds[-1] == "stop"
    stop: Any = transaction(h)[-1][1].payload
    if version == "1.6":
        assert stop.reason == "DeAuthorized"
    else:
        assert stop.trigger_reason == "Deauthorized"
        assert stop.transaction_info.stopped_reason == "DeAuthorized"
    assert h.machine.connectors[0].state is ConnectorState.AVAILABLE
    # The list has precedence: its tokens stay out of the cache, whatever the CSMS says.
    entry = h.machine.authorizer.cache.lookup("TAG-1", h.now)  # type: ignore[union-attr]
    assert entry is None


@pytest.mark.parametrize("version", VERSIONS)
def test_an_offline_start_the_csms_refuses_only_loses_its_energy_without_stop_on_invalid_id(
    version: str,
) -> None:
    h = harness(version, meter_interval=5.0)
    send_list(h, 1, {"TAG-1": "Accepted"})
    assert configure(h, KEYS[version]["stop"], "false") == "Accepted"
    refusing(h, "Blocked")
    go_offline(h, 2.0, 30.0)
    h.run_until(31.0)
    connector = h.machine.connectors[0]
    assert connector.state is ConnectorState.CHARGING and connector.power_w == 0.0
    energy = connector.energy_wh
    h.run_until(45.0)
    assert connector.energy_wh == pytest.approx(energy)  # no more energy
    if version == "1.6":
        statuses = [i.payload.status for _, i in h.sent if i.action == "StatusNotification"]
        assert "SuspendedEVSE" in statuses
        power = [
            float(i.payload.meter_value[0].sampled_value[1].value)  # type: ignore[attr-defined]
            for at, i in h.sent
            if at >= 31.0 and kind(i) == "meter"
        ]
    else:
        assert "suspended" in [kind(i) for _, i in transaction(h)]
        later = [i.payload for at, i in h.sent if at >= 31.0 and kind(i) == "meter"]
        assert {p.transaction_info.charging_state for p in later} == {"SuspendedEVSE"}  # type: ignore[attr-defined]
        power = [p.meter_value[0].sampled_value[1].value for p in later]  # type: ignore[attr-defined]
    assert power and set(power) == {0.0}
    h.run_until(60.0)
    assert transaction(h)[-1][1].payload is not None
    assert kind(transaction(h)[-1][1]) == "stop"  # it ends as planned, at 50 s


@pytest.mark.parametrize("version", VERSIONS)
def test_an_online_start_the_csms_refuses_follows_stop_on_invalid_id(version: str) -> None:
    h = harness(version)
    configure(h, KEYS[version]["stop"], "false")
    refusing(h, "Invalid")
    h.run_until(25.0)
    connector = h.machine.connectors[0]
    assert connector.state is ConnectorState.CHARGING and connector.suspended
    h = harness(version)
    refusing(h, "Invalid")
    h.run_until(25.0)
    assert h.machine.connectors[0].state is ConnectorState.AVAILABLE
    assert kind(transaction(h)[-1][1]) == "stop"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_remote_start_is_authorized_first_when_configured(version: str) -> None:
    key = {"1.6": "AuthorizeRemoteTxRequests", "2.0.1": "AuthCtrlr.AuthorizeRemoteStart"}

    def remote_start(h: Harness, token: str) -> str:
        if h.module is v16:
            payload: dict[str, Any] = {"idTag": token, "connectorId": 1}
            return str(call(h, "RemoteStartTransaction", payload).status)
        payload = {"idToken": {"idToken": token, "type": "ISO14443"}, "remoteStartId": 4}
        payload["evseId"] = 1
        return str(call(h, "RequestStartTransaction", payload).status)

    h = harness(version, first_start=Distribution.constant(1000))
    assert remote_start(h, "REMOTE") == "Accepted"
    h.run_until(h.now + 1)
    assert "Authorize" not in h.actions()  # off by default: the CSMS's word is enough
    h = harness(version, first_start=Distribution.constant(1000))
    assert configure(h, key[version], "yes") == "Rejected"
    assert configure(h, key[version], "true") == "Accepted"
    assert remote_start(h, "REMOTE") == "Accepted"
    h.run_until(h.now + 1)
    actions = h.actions()
    assert actions.index("Authorize") < actions.index(
        "StartTransaction" if version == "1.6" else "TransactionEvent"
    )
    if version == "2.0.1":
        (start,) = [i for _, i in transaction(h) if kind(i) == "start"]
        p: Any = start.payload
        assert p.trigger_reason == "RemoteStart" and p.transaction_info.remote_start_id == 4
    # Refused by the CSMS's Authorize: no transaction, the connector free again.
    h = harness(version, first_start=Distribution.constant(1000))
    configure(h, key[version], "true")
    if version == "1.6":
        refused: Any = v16.AuthorizeResponse(id_tag_info=v16.IdTagInfo(status="Invalid"))
    else:
        refused = v201.AuthorizeResponse(id_token_info=v201.IdTokenInfo(status="Invalid"))
    h.answer["Authorize"] = refused
    assert remote_start(h, "REMOTE") == "Accepted"
    h.run_until(h.now + 1)
    assert transaction(h) == []
    assert h.machine.connectors[0].state is ConnectorState.AVAILABLE
    assert h.machine.connectors[0].remote_start_id is None
