"""Station state machines, sans-IO: a fake clock and the embedded CSMS's answers, no sockets."""

from __future__ import annotations

import collections
import math
import random
from typing import Any

import msgspec
import pytest

from fleet.csms import DefaultCsmsHandlers16, DefaultCsmsHandlers201, EmbeddedCsms
from fleet.ocpp import CallError, ErrorCode, codegen, minimal_example, v16, v201
from fleet.profile import Distribution
from fleet.station import (
    TRANSITIONS,
    ConnectorState,
    Outgoing,
    SessionEvent,
    StationMachine,
    StationMachine16,
    StationMachine201,
    StationSettings,
)

MACHINES = {"1.6": (StationMachine16, DefaultCsmsHandlers16, v16), "2.0.1": (StationMachine201, DefaultCsmsHandlers201, v201)}  # fmt: skip


class Observer:
    def __init__(self) -> None:
        self.events: collections.Counter[str] = collections.Counter()
        self.boot_seconds: list[float] = []
        self.first_boots = 0
        self.first_boots_answered = 0
        self.produced = 0

    def session_started(self, now: float) -> None:
        self.events["started"] += 1

    def session_stopped(self, now: float) -> None:
        self.events["stopped"] += 1

    def boot_accepted(self, seconds: float, now: float, first: bool = False) -> None:
        self.boot_seconds.append(seconds)
        self.first_boots += first

    def transaction_message_produced(self, now: float) -> None:
        self.produced += 1

    def first_boot_answered(self, now: float) -> None:
        self.first_boots_answered += 1

    def transaction_message_queued(self, now: float) -> None:
        self.events["queued"] += 1

    def transaction_message_requeued(self, now: float) -> None:
        self.events["requeued"] += 1

    def transaction_message_delivered_late(self, now: float) -> None:
        self.events["delivered late"] += 1

    def transaction_message_dropped(self, now: float) -> None:
        self.events["dropped"] += 1


def settings(**overrides: Any) -> StationSettings:
    values: dict[str, Any] = {
        "connectors": 2,
        "first_start": Distribution.constant(5),
        "length": Distribution.constant(20),
        "idle": Distribution.constant(10),
        "power_kw": Distribution.constant(11),
        "meter_interval": 5.0,
        "id_tags": ["TAG-1"],
        "heartbeat_interval": 30.0,
    }
    values.update(overrides)
    return StationSettings(**values)


class Harness:
    """Drives a machine like the actor does, answering with a CSMS handler after `latency`."""

    def __init__(self, version: str, latency: float = 0.01, **overrides: Any) -> None:
        machine_cls, handlers_cls, self.module = MACHINES[version]
        self.observer = Observer()
        self.machine: StationMachine = machine_cls(
            "ST-1", settings(**overrides), random.Random(7), self.observer
        )
        self.csms = EmbeddedCsms(heartbeat_interval=30)
        self.handlers = handlers_cls(self.csms, "ST-1")
        self.latency = latency
        self.now = 0.0
        self.sent: list[tuple[float, Outgoing]] = []
        self.answer: dict[str, Any] = {}  # action -> response override (or CallError)

    def respond(self, item: Outgoing) -> Any:
        override = self.answer.get(item.action)
        if override is not None:
            return override(item) if callable(override) else override
        return self.respond_normally(item)

    def respond_normally(self, item: Outgoing) -> Any:
        return getattr(self.handlers, "on_" + codegen.snake_case(item.action))(item.payload)

    def run_until(self, until: float, *, stop_at: float = math.inf) -> None:
        machine = self.machine
        while self.now < until:
            if self.now >= stop_at and not machine.stopping:
                machine.stop(self.now)
            machine.on_timer(self.now)
            item = machine.due(self.now)
            if item is not None:
                # Everything a station sends must be schema-valid.
                spec = self.module.ACTIONS[item.action]
                spec.request_decoder.decode(msgspec.json.encode(item.payload))
                self.sent.append((self.now, item))
                item.attempts += 1  # as the actor counts sends
                response = self.respond(item)
                self.now += self.latency
                if isinstance(response, CallError):
                    machine.on_answer(item, None, response.code, self.now)
                else:
                    machine.on_answer(item, response, None, self.now)
                continue
            if machine.finished:
                return
            wake = min(machine.next_wakeup(), stop_at if not machine.stopping else math.inf)
            if wake >= until:
                self.now = until
                return
            self.now = max(self.now, wake)

    def actions(self, since: float = 0.0) -> list[str]:
        return [item.action for at, item in self.sent if at >= since]


def test_transition_table_is_the_only_way_to_move() -> None:
    machine = StationMachine16("X", settings(), random.Random(1))
    connector = machine.connectors[0]
    assert (ConnectorState.AVAILABLE, SessionEvent.START_DUE) in TRANSITIONS
    with pytest.raises(RuntimeError, match="no transition from available on stopped"):
        connector.move(SessionEvent.STOPPED)
    # every state is reachable and can get back to AVAILABLE
    reachable = {ConnectorState.AVAILABLE} | set(TRANSITIONS.values())
    assert reachable == set(ConnectorState)


@pytest.mark.parametrize("version", MACHINES)
def test_nothing_but_boots_until_accepted_and_pending_retries_after_the_interval(
    version: str,
) -> None:
    h = Harness(version)
    module = h.module
    answers = iter(["Pending", "Rejected", "Accepted"])

    def boot(item: Outgoing) -> Any:
        status = next(answers)
        return msgspec.convert(
            {"status": status, "currentTime": "2026-01-01T00:00:00Z", "interval": 7},
            module.BootNotificationResponse,
        )

    h.answer["BootNotification"] = boot
    h.machine.connected(0.0)
    h.run_until(14.0)
    # boot at 0 (answered at 0.01) Pending: again 7 s later; Rejected: again 7 s later
    assert [at for at, _ in h.sent] == pytest.approx([0.0, 7.01])
    assert set(h.actions()) == {"BootNotification"}
    assert not h.machine.booted
    h.run_until(15.0)
    boots = [at for at, item in h.sent if item.action == "BootNotification"]
    assert boots == pytest.approx([0.0, 7.01, 14.02])
    assert h.machine.booted
    assert h.observer.boot_seconds == pytest.approx([14.03])


@pytest.mark.parametrize("version", MACHINES)
def test_after_boot_statuses_heartbeats_and_sessions_keep_their_schedule(version: str) -> None:
    h = Harness(version)
    h.machine.connected(0.0)
    h.run_until(100.0)
    heartbeats = [at for at, item in h.sent if item.action == "Heartbeat"]
    # interval 30 from the boot answer at 0.01
    assert heartbeats[:3] == pytest.approx([30.01, 60.01, 90.01], abs=0.2)
    intended = [item.intended_at for at, item in h.sent if item.action == "Heartbeat"]
    assert intended[:3] == pytest.approx([30.01, 60.01, 90.01])
    # both connectors: first session 5 s after the boot, 20 s long, then 10 s idle
    assert h.observer.events["started"] >= 4
    assert h.observer.events["stopped"] >= 2


@pytest.mark.parametrize("version", MACHINES)
def test_a_session_sends_the_right_messages_in_order(version: str) -> None:
    h = Harness(version, connectors=1)
    h.machine.connected(0.0)
    h.run_until(27.0)
    if version == "1.6":
        assert h.actions() == [
            "BootNotification",
            "StatusNotification",  # connector 0
            "StatusNotification",  # connector 1 Available
            "StatusNotification",  # Preparing
            "Authorize",
            "StartTransaction",
            "StatusNotification",  # Charging
            "MeterValues",
            "MeterValues",
            "MeterValues",
            "MeterValues",
            "StopTransaction",
            "StatusNotification",  # Finishing
            "StatusNotification",  # Available
        ]
        statuses = [i.payload.status for _, i in h.sent if i.action == "StatusNotification"]
        assert statuses == [
            "Available",
            "Available",
            "Preparing",
            "Charging",
            "Finishing",
            "Available",
        ]
        tx = [i.payload for _, i in h.sent if i.action in ("MeterValues", "StopTransaction")]
        assert {p.transaction_id for p in tx} == {1}
    else:
        events = [(i.action, getattr(i.payload, "event_type", None)) for _, i in h.sent]
        kinds = [e for a, e in events if a == "TransactionEvent"]
        assert kinds == ["Started", "Updated", "Updated", "Updated", "Updated", "Ended"]
        seq = [i.payload.seq_no for _, i in h.sent if i.action == "TransactionEvent"]
        assert seq == [0, 1, 2, 3, 4, 5]
        ids = {
            i.payload.transaction_info.transaction_id
            for _, i in h.sent
            if i.action == "TransactionEvent"
        }
        assert len(ids) == 1
    assert h.observer.events == {"started": 1, "stopped": 1}


@pytest.mark.parametrize("version", MACHINES)
def test_energy_register_only_grows_across_sessions(version: str) -> None:
    h = Harness(version, connectors=1, idle=Distribution.constant(2))
    h.machine.connected(0.0)
    h.run_until(200.0)
    readings = []
    for _, item in h.sent:
        payload = item.payload
        if version == "1.6" and item.action in ("StartTransaction", "StopTransaction"):
            readings.append(getattr(payload, "meter_start", None) or payload.meter_stop)
        elif version == "1.6" and item.action == "MeterValues":
            readings.append(float(payload.meter_value[0].sampled_value[0].value))
        elif version == "2.0.1" and item.action == "TransactionEvent":
            readings.append(payload.meter_value[0].sampled_value[0].value)
    assert len(readings) > 20
    assert readings == sorted(readings)
    assert readings[-1] > readings[0]  # 11 kW for minutes adds energy


@pytest.mark.parametrize("version", MACHINES)
def test_stop_ends_running_sessions_and_finishes(version: str) -> None:
    h = Harness(version)
    h.machine.connected(0.0)
    h.run_until(60.0, stop_at=12.0)
    assert h.machine.finished
    assert h.observer.events["started"] == h.observer.events["stopped"] == 2
    assert "Heartbeat" not in h.actions(since=12.0)


@pytest.mark.parametrize("version", MACHINES)
def test_a_refused_authorization_starts_nothing(version: str) -> None:
    h = Harness(version, connectors=1)
    module = h.module
    if version == "1.6":
        refused = module.AuthorizeResponse(id_tag_info=module.IdTagInfo(status="Blocked"))
    else:
        refused = module.AuthorizeResponse(id_token_info=module.IdTokenInfo(status="Blocked"))
    h.answer["Authorize"] = refused
    h.machine.connected(0.0)
    h.run_until(40.0)
    assert "StartTransaction" not in h.actions()
    assert "TransactionEvent" not in h.actions()
    assert h.actions().count("Authorize") >= 2  # tried again after the idle gap
    assert h.observer.events["started"] == 0


@pytest.mark.parametrize("version", MACHINES)
def test_the_heartbeat_waiting_behind_a_slow_call_keeps_its_first_intended_time(
    version: str,
) -> None:
    h = Harness(version, connectors=1, first_start=Distribution.constant(10_000))
    h.machine.connected(0.0)
    h.run_until(29.0)
    h.latency = 95.0  # the CSMS stalls: the next answer takes 95 s
    h.run_until(200.0)
    beats = [(at, item.intended_at) for at, item in h.sent if item.action == "Heartbeat"]
    # the tick at 30.01 went out and took 95 s; ticks at 60, 90, 120 coalesced into one that
    # still carries the 60.01 intended time
    assert beats[0] == pytest.approx((30.01, 30.01))
    assert beats[1][1] == pytest.approx(60.01)
    assert beats[1][0] == pytest.approx(125.01)


def csms_requests(version: str) -> list[tuple[str, Any]]:
    module = MACHINES[version][2]
    return [
        (name, minimal_example(spec.request))
        for name, spec in module.ACTIONS.items()
        if spec.sent_by_csms
    ]


@pytest.mark.parametrize("version", MACHINES)
def test_every_csms_action_gets_a_schema_valid_answer(version: str) -> None:
    module = MACHINES[version][2]
    h = Harness(version)
    h.machine.connected(0.0)
    h.run_until(8.0)  # booted, sessions running
    requests = csms_requests(version)
    assert len(requests) == {"1.6": 26, "2.0.1": 40}[version]
    for action, request in requests:
        try:
            response = h.machine.on_call(action, request, h.now)
        except CallError as exc:  # pragma: no cover - every action has an answer
            pytest.fail(f"{action}: {exc}")
        spec = module.ACTIONS[action]
        assert type(response) is spec.response, action
        spec.response_decoder.decode(msgspec.json.encode(response))
        h.run_until(h.now + 3)  # whatever the answer made the station send is valid too


def test_remote_start_and_stop_1_6() -> None:
    h = Harness("1.6", connectors=1, first_start=Distribution.constant(1000))
    h.machine.connected(0.0)
    h.run_until(2.0)
    answer = h.machine.on_call(
        "RemoteStartTransaction", v16.RemoteStartTransactionRequest(id_tag="REMOTE"), h.now
    )
    assert answer.status == "Accepted"
    h.run_until(3.0)
    start = [i.payload for _, i in h.sent if i.action == "StartTransaction"]
    assert [p.id_tag for p in start] == ["REMOTE"]
    assert "Authorize" not in h.actions()  # AuthorizeRemoteTxRequests is false
    busy = h.machine.on_call(
        "RemoteStartTransaction", v16.RemoteStartTransactionRequest(id_tag="X"), h.now
    )
    assert busy.status == "Rejected"
    tx = h.machine.connectors[0].transaction_id
    wrong = h.machine.on_call(
        "RemoteStopTransaction", v16.RemoteStopTransactionRequest(transaction_id=tx + 1), h.now
    )
    assert wrong.status == "Rejected"
    stopped = h.machine.on_call(
        "RemoteStopTransaction", v16.RemoteStopTransactionRequest(transaction_id=tx), h.now
    )
    assert stopped.status == "Accepted"
    h.run_until(4.0)
    assert [i.payload.reason for _, i in h.sent if i.action == "StopTransaction"] == ["Remote"]


def test_reset_stops_sessions_then_asks_to_reboot_1_6() -> None:
    h = Harness("1.6", connectors=1)
    h.machine.connected(0.0)
    h.run_until(8.0)
    assert h.machine.connectors[0].state is ConnectorState.CHARGING
    answer = h.machine.on_call("Reset", v16.ResetRequest(type="Soft"), h.now)
    assert answer.status == "Accepted"
    assert h.machine.reboot_requested and not h.machine.ready_to_reboot
    h.run_until(9.0)
    assert h.machine.ready_to_reboot
    assert [i.payload.reason for _, i in h.sent if i.action == "StopTransaction"] == ["SoftReset"]
    # the actor reconnects: the machine boots again
    h.machine.disconnected(h.now)
    h.machine.connected(h.now)
    h.run_until(h.now + 1)
    assert h.actions().count("BootNotification") == 2


def test_reset_on_idle_is_scheduled_until_the_transactions_end_2_0_1() -> None:
    """B12: OnIdle while a transaction runs is Scheduled; no transaction starts meanwhile,
    and the reboot comes when the last one ends (nothing stopped by it); the boot after it
    is the Reset's reaction. B11: Immediate stops them (ImmediateReset)."""
    h = Harness("2.0.1", connectors=2, idle=Distribution.constant(3))
    h.machine.connected(0.0)
    h.run_until(8.0)  # both EVSEs charge from t=5 to t=25
    assert [c.state for c in h.machine.connectors] == [ConnectorState.CHARGING] * 2
    arrival = h.now
    reset = v201.ResetRequest(type="OnIdle")
    assert h.machine.on_call("Reset", reset, h.now).status == "Scheduled"
    assert not h.machine.reboot_requested
    tx = h.machine.connectors[0].transaction_id
    stop = v201.RequestStopTransactionRequest(transaction_id=tx)
    assert h.machine.on_call("RequestStopTransaction", stop, h.now).status == "Accepted"
    # A remote start is refused while the reset waits (it would start a transaction).
    start = v201.RequestStartTransactionRequest(
        id_token=v201.IdToken(id_token="TAG-1", type="ISO14443"), remote_start_id=1, evse_id=1
    )
    h.run_until(20.0)  # EVSE 1 idle since ~8 s: its next driver (at ~11 s) does not start
    assert h.machine.on_call("RequestStartTransaction", start, h.now).status == "Rejected"
    assert h.machine.connectors[0].state is ConnectorState.AVAILABLE
    assert not h.machine.reboot_requested  # EVSE 2 still charges
    h.run_until(27.0)
    assert h.machine.reboot_requested and h.machine.ready_to_reboot
    ended = [i.payload for _, i in h.sent if i.action == "TransactionEvent"]
    ended = [p for p in ended if p.event_type == "Ended"]
    assert [str(p.transaction_info.stopped_reason) for p in ended] == ["Remote", "Local"]
    assert h.machine.transactions == 2  # none started meanwhile
    h.machine.disconnected(h.now)
    h.machine.connected(h.now)
    h.run_until(h.now + 1)
    boots = [i for _, i in h.sent if i.action == "BootNotification"]
    assert len(boots) == 2
    assert boots[-1].reaction == ("Reset", arrival)
    assert boots[-1].payload.reason == "RemoteReset"
    # OnIdle on an idle station resets at once.
    assert h.machine.on_call("Reset", reset, h.now).status == "Accepted"
    assert h.machine.reboot_requested


def test_immediate_reset_stops_transactions_with_immediate_reset_2_0_1() -> None:
    h = Harness("2.0.1", connectors=1)
    h.machine.connected(0.0)
    h.run_until(8.0)
    reset = v201.ResetRequest(type="Immediate")
    assert h.machine.on_call("Reset", reset, h.now).status == "Accepted"
    assert h.machine.reboot_requested
    h.run_until(9.0)
    ended = [i.payload for _, i in h.sent if i.action == "TransactionEvent"]
    (stop,) = [p for p in ended if p.event_type == "Ended"]
    assert str(stop.transaction_info.stopped_reason) == "ImmediateReset"
    assert str(stop.trigger_reason) == "ResetCommand"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("kind", ["hard", "soft", "firmware"])
def test_a_reboot_s_stop_reason_follows_its_kind(version: str, kind: str) -> None:
    """A Reset's stops say its type (1.6 HardReset / SoftReset, 2.0.1 ImmediateReset); a
    firmware install's reboot says Reboot (it waits for the sessions, so this is a guard)."""
    h = Harness(version, connectors=1)
    h.machine.connected(0.0)
    h.run_until(8.0)
    h.machine.request_reboot(h.now, kind)
    h.run_until(9.0)
    if version == "1.6":
        (stop,) = [i.payload for _, i in h.sent if i.action == "StopTransaction"]
        expected = {"hard": "HardReset", "soft": "SoftReset", "firmware": "Reboot"}[kind]
        assert str(stop.reason) == expected
    else:
        ended = [i.payload for _, i in h.sent if i.action == "TransactionEvent"]
        (stop,) = [p for p in ended if p.event_type == "Ended"]
        expected = "ImmediateReset" if kind != "firmware" else "Reboot"
        assert str(stop.transaction_info.stopped_reason) == expected


@pytest.mark.parametrize("version", MACHINES)
def test_configured_transaction_message_attempts_take_effect(version: str) -> None:
    """1.6 TransactionMessageAttempts / TransactionMessageRetryInterval and 2.0.1
    OCPPCommCtrlr.MessageAttempts / MessageAttemptInterval set by the CSMS replace the
    profile's (3 sends, 10 s): a sample the CSMS keeps refusing goes twice, 4 s apart."""
    h = Harness(version, connectors=1)
    h.machine.connected(0.0)
    h.run_until(1.0)
    if version == "1.6":
        for key, value in (("TransactionMessageAttempts", "2"), ("TransactionMessageRetryInterval", "4")):  # fmt: skip
            request: Any = v16.ChangeConfigurationRequest(key=key, value=value)
            assert h.machine.on_call("ChangeConfiguration", request, h.now).status == "Accepted"
    else:
        data = [
            v201.SetVariableData(
                attribute_value=value,
                component=v201.Component(name="OCPPCommCtrlr"),
                variable=v201.Variable(name=name, instance="TransactionEvent"),
            )
            for name, value in (("MessageAttempts", "2"), ("MessageAttemptInterval", "4"))
        ]
        request = v201.SetVariablesRequest(set_variable_data=data)
        answer = h.machine.on_call("SetVariables", request, h.now)
        assert [r.attribute_status for r in answer.set_variable_result] == ["Accepted"] * 2
    refused = CallError(ErrorCode.INTERNAL_ERROR, "not now")
    for action in ("MeterValues", "TransactionEvent"):
        h.answer[action] = lambda item: refused if item.periodic else h.respond_normally(item)
    h.run_until(24.0)  # the first sample at t=10; a third send would be due after t=18
    first = next(i for _, i in h.sent if i.periodic)
    sends = [at for at, i in h.sent if i is first]
    assert len(sends) == 2
    assert sends[1] - sends[0] == pytest.approx(4.0, abs=0.1)
    assert h.observer.events["dropped"] >= 1


def test_configuration_store_1_6() -> None:
    h = Harness("1.6")
    machine = h.machine
    keys = machine.on_call("GetConfiguration", v16.GetConfigurationRequest(), 0.0)
    assert {k.key for k in keys.configuration_key} >= {"HeartbeatInterval", "NumberOfConnectors"}
    some = machine.on_call(
        "GetConfiguration", v16.GetConfigurationRequest(key=["HeartbeatInterval", "Nope"]), 0.0
    )
    assert [k.value for k in some.configuration_key] == ["30"]
    assert some.unknown_key == ["Nope"]

    def change(key: str, value: str) -> str:
        request = v16.ChangeConfigurationRequest(key=key, value=value)
        return machine.on_call("ChangeConfiguration", request, 0.0).status

    assert change("HeartbeatInterval", "15") == "Accepted"
    assert machine.heartbeat_interval == 15.0
    assert change("HeartbeatInterval", "soon") == "Rejected"
    assert change("NumberOfConnectors", "4") == "Rejected"  # read-only
    assert change("NoSuchKey", "1") == "NotSupported"


def test_device_model_and_base_report_2_0_1() -> None:
    h = Harness("2.0.1")
    machine = h.machine
    h.machine.connected(0.0)
    h.run_until(1.0)
    get = v201.GetVariablesRequest(
        get_variable_data=[
            v201.GetVariableData(
                component=v201.Component(name="OCPPCommCtrlr"),
                variable=v201.Variable(name="HeartbeatInterval"),
            ),
            v201.GetVariableData(
                component=v201.Component(name="OCPPCommCtrlr"), variable=v201.Variable(name="Nope")
            ),
            v201.GetVariableData(
                component=v201.Component(name="Nope"), variable=v201.Variable(name="Nope")
            ),
        ]
    )
    results = machine.on_call("GetVariables", get, h.now).get_variable_result
    assert [(r.attribute_status, r.attribute_value) for r in results] == [
        ("Accepted", "30"),
        ("UnknownVariable", msgspec.UNSET),
        ("UnknownComponent", msgspec.UNSET),
    ]
    set_request = v201.SetVariablesRequest(
        set_variable_data=[
            v201.SetVariableData(
                attribute_value="20",
                component=v201.Component(name="OCPPCommCtrlr"),
                variable=v201.Variable(name="HeartbeatInterval"),
            ),
            v201.SetVariableData(
                attribute_value="9",
                component=v201.Component(name="DeviceDataCtrlr"),
                variable=v201.Variable(name="ItemsPerMessage"),
            ),
        ]
    )
    statuses = [
        r.attribute_status
        for r in machine.on_call("SetVariables", set_request, h.now).set_variable_result
    ]
    assert statuses == ["Accepted", "Rejected"]
    assert machine.heartbeat_interval == 20.0
    report = machine.on_call(
        "GetBaseReport", v201.GetBaseReportRequest(request_id=5, report_base="FullInventory"), h.now
    )
    assert report.status == "Accepted"
    h.run_until(h.now + 1)
    # The report goes in DeviceDataCtrlr.ItemsPerMessage rows a message, seqNo from 0, tbc on
    # all but the last, each row with its characteristics (B07).
    notify = [i.payload for _, i in h.sent if i.action == "NotifyReport"]
    assert len(notify) > 1 and {n.request_id for n in notify} == {5}
    assert [n.seq_no for n in notify] == list(range(len(notify)))
    assert [n.tbc for n in notify] == [True] * (len(notify) - 1) + [False]
    data = [d for n in notify for d in n.report_data]
    assert all(len(n.report_data) <= 50 for n in notify)
    assert all(d.variable_characteristics is not msgspec.UNSET for d in data)
    names = {(d.component.name, d.variable.name) for d in data}
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in names


@pytest.mark.parametrize("version", MACHINES)
def test_change_availability_takes_an_idle_connector_out_of_service(version: str) -> None:
    h = Harness(version, connectors=1, first_start=Distribution.constant(50))
    h.machine.connected(0.0)
    h.run_until(2.0)
    if version == "1.6":
        request: Any = v16.ChangeAvailabilityRequest(connector_id=1, type="Inoperative")
    else:
        request = v201.ChangeAvailabilityRequest(
            operational_status="Inoperative", evse=v201.EVSE(id=1)
        )
    assert h.machine.on_call("ChangeAvailability", request, h.now).status == "Accepted"
    h.run_until(100.0)
    assert h.machine.connectors[0].state is ConnectorState.UNAVAILABLE
    assert h.observer.events["started"] == 0


def test_a_limit_changing_the_power_sends_charging_rate_changed_2_0_1() -> None:
    h = Harness("2.0.1", connectors=1, length=Distribution.constant(10_000))
    h.machine.connected(0.0)
    h.run_until(8.0)
    assert h.machine.connectors[0].state is ConnectorState.CHARGING  # at 11 kW
    schedule = {
        "id": 1,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000.0}],
        "startSchedule": h.machine.wall(0.0).isoformat(),
    }
    profile = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [schedule],
    }
    payload = {"evseId": 0, "chargingProfile": profile}
    request = v201.ACTIONS["SetChargingProfile"].request_decoder.decode(
        msgspec.json.encode(payload)
    )
    assert h.machine.on_call("SetChargingProfile", request, h.now).status == "Accepted"
    h.run_until(8.5)
    events = [i.payload for at, i in h.sent if at >= 8.0 and i.action == "TransactionEvent"]
    (changed,) = [p for p in events if p.trigger_reason == "ChargingRateChanged"]
    power = [
        s.value
        for s in changed.meter_value[0].sampled_value
        if s.measurand == "Power.Active.Import"
    ]
    assert power and power[0] <= 7000.0
    seq = [i.payload.seq_no for _, i in h.sent if i.action == "TransactionEvent"]
    assert seq == list(range(len(seq)))
    # None for the session's first level (its start): this one only.
    every = [i.payload.trigger_reason for _, i in h.sent if i.action == "TransactionEvent"]
    assert every.count("ChargingRateChanged") == 1


@pytest.mark.parametrize("version", MACHINES)
def test_meter_values_carry_the_current_of_each_phase(version: str) -> None:
    h = Harness(version, connectors=1, length=Distribution.constant(10_000))
    h.machine.connected(0.0)
    h.run_until(20.0)
    samples = [
        i.payload.meter_value[0].sampled_value
        for _, i in h.sent
        if i.action in ("MeterValues", "TransactionEvent") and i.periodic
    ]
    assert samples
    for sampled in samples:
        power = next(float(s.value) for s in sampled if s.measurand == "Power.Active.Import")
        currents = {
            str(s.phase): float(s.value) for s in sampled if s.measurand == "Current.Import"
        }
        assert set(currents) == {"L1", "L2", "L3"}
        # 11 kW on three phases of 230 V: about 15.9 A each, together the power.
        assert sum(currents.values()) * 230.0 == pytest.approx(power, rel=0.01)
        assert all(14.0 < amps < 17.0 for amps in currents.values())
