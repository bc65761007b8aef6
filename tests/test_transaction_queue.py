"""Transaction messages, sans-IO: kept offline and delivered first after the next boot,
retried after a CALLERROR or timeout, bounded by the overflow policy, and always counted."""

from __future__ import annotations

import random
from typing import Any

import pytest

from fleet.ocpp import CallError, ErrorCode, v201
from fleet.profile import Distribution
from fleet.station import Outgoing, StationMachine16
from tests.test_station import MACHINES, Harness, Observer, settings


def kinds(h: Harness, items: list[Outgoing]) -> list[str]:
    """Each transaction message as start / meter / stop, whatever the version."""
    out = []
    for item in items:
        if item.action in ("StartTransaction", "MeterValues", "StopTransaction"):
            out.append(
                {"StartTransaction": "start", "MeterValues": "meter"}.get(item.action, "stop")
            )
        elif item.action == "TransactionEvent":
            event = item.payload.event_type  # type: ignore[attr-defined]
            out.append({"Started": "start", "Updated": "meter", "Ended": "stop"}[event.value])
        else:
            out.append(item.action)
    return out


def go_offline(h: Harness, at: float, back_at: float) -> None:
    """The connection drops at `at` and is open again at `back_at` (the actor's calls)."""
    h.run_until(at)
    h.machine.disconnected(at)
    h.now = back_at
    h.machine.connected(back_at)


@pytest.mark.parametrize("version", MACHINES)
def test_offline_sessions_go_on_and_their_messages_go_first_after_the_boot(version: str) -> None:
    # One connector: session from about 5 s, 12 s long, meter values every 5 s. Offline from
    # 11 s to 30 s: the 15 s meter value and the 17 s stop are produced offline.
    h = Harness(version, connectors=1, length=Distribution.constant(12))
    h.machine.connected(0.0)
    go_offline(h, 11.0, 30.0)
    h.run_until(31.0)
    after = [item for at, item in h.sent if at >= 30.0]
    assert kinds(h, after)[:3] == ["BootNotification", "meter", "stop"]
    assert h.observer.events["queued"] == 2
    assert h.observer.events["delivered late"] == 2
    assert h.observer.events["stopped"] == 1  # the offline stop was acknowledged
    meter, stop = after[1], after[2]
    # Their content is of when they happened; their latency counts from the boot.
    wall = h.machine.wall
    sampled = meter.payload.meter_value[0].timestamp  # type: ignore[attr-defined]
    assert wall(14.9) < sampled < wall(15.2)
    assert wall(16.9) < stop.payload.timestamp < wall(17.2)  # type: ignore[attr-defined]
    assert meter.intended_at >= 30.0 and stop.intended_at >= 30.0
    if version == "2.0.1":
        assert meter.payload.offline is True and stop.payload.offline is True  # type: ignore[attr-defined]
    assert not h.machine.pending_transactions and not h.machine.transaction_queue


@pytest.mark.parametrize("version", MACHINES)
def test_a_transaction_message_lost_in_flight_goes_first_after_the_boot(version: str) -> None:
    h = Harness(version, connectors=1)
    h.machine.connected(0.0)
    h.run_until(9.0)  # charging since about 5 s; the 10 s meter value is next
    machine = h.machine
    machine.on_timer(10.1)
    item = machine.due(10.1)
    assert item is not None and kinds(h, [item]) == ["meter"]
    item.attempts += 1
    machine.on_answer(item, None, "lost", 10.2)  # the actor: the connection closed
    machine.disconnected(10.2)
    assert list(machine.transaction_queue) == [item] and item.queued
    h.now = 12.0
    machine.connected(12.0)
    h.run_until(12.5)
    after = [i for at, i in h.sent if at >= 12.0]
    assert after[1] is item  # right after the boot
    assert h.observer.events["requeued"] == 1
    assert h.observer.events["delivered late"] == 1


@pytest.mark.parametrize("version", MACHINES)
def test_a_refused_stop_is_retried_after_the_retry_interval_times_the_attempts(
    version: str,
) -> None:
    h = Harness(version, connectors=1, transaction_retry_interval=3.0)
    failures = iter([True, True, False])

    def stop(item: Outgoing) -> Any:
        if kinds(h, [item]) == ["stop"] and next(failures):
            return CallError(ErrorCode.INTERNAL_ERROR, "busy")
        return h.respond_normally(item)

    h.answer[{"1.6": "StopTransaction", "2.0.1": "TransactionEvent"}[version]] = stop
    h.machine.connected(0.0)
    h.run_until(40.0)
    stops = [(at, item) for at, item in h.sent if kinds(h, [item]) == ["stop"]]
    assert len(stops) == 3 and stops[0][1] is stops[1][1] is stops[2][1]
    first, second, third = (at for at, _ in stops)
    assert second - first == pytest.approx(0.01 + 3.0, abs=0.001)  # after 1 attempt: 1 x 3 s
    assert third - second == pytest.approx(0.01 + 6.0, abs=0.001)  # after 2 attempts: 2 x 3 s
    assert h.observer.events["requeued"] == 2
    assert h.observer.events["stopped"] == 1 and h.observer.events["dropped"] == 0


@pytest.mark.parametrize("version", MACHINES)
def test_a_stop_refused_every_time_is_dropped_after_the_last_attempt_and_counted(
    version: str,
) -> None:
    h = Harness(version, connectors=1, transaction_retry_interval=1.0, transaction_attempts=2)

    def stop(item: Outgoing) -> Any:
        if kinds(h, [item]) == ["stop"]:
            return CallError(ErrorCode.INTERNAL_ERROR, "busy")
        return h.respond_normally(item)

    h.answer[{"1.6": "StopTransaction", "2.0.1": "TransactionEvent"}[version]] = stop
    h.machine.connected(0.0)
    h.run_until(29.0)
    assert len([1 for _, item in h.sent if kinds(h, [item]) == ["stop"]]) == 2
    assert h.observer.events["dropped"] == 1
    assert h.observer.events["stopped"] == 0  # never acknowledged
    assert h.machine.connectors[0].state.value == "available"  # the station went on


def queued(machine: StationMachine16) -> list[str]:
    return [item.action for item in machine.transaction_queue]


@pytest.mark.parametrize(
    ("policy", "kept", "dropped"),
    [
        (
            "drop-meter-values",
            ["StartTransaction", "MeterValues", "StopTransaction"],
            "MeterValues",
        ),
        ("drop-oldest", ["MeterValues", "MeterValues", "StopTransaction"], "StartTransaction"),
        ("drop-newest", ["StartTransaction", "MeterValues", "MeterValues"], "StopTransaction"),
    ],
)
def test_a_full_queue_drops_by_its_overflow_policy(
    policy: str, kept: list[str], dropped: str
) -> None:
    observer = Observer()
    machine = StationMachine16(
        "ST-1", settings(queue_limit=3, queue_overflow=policy), random.Random(1), observer
    )
    answered: list[tuple[str, str | None]] = []
    machine.answered = lambda item, response, error, now: answered.append((item.action, error))  # type: ignore[method-assign]
    payload: Any = object()  # connector 0: no session state behind these
    machine.send_transaction("StartTransaction", payload, 1.0, 0)
    machine.send_transaction("MeterValues", payload, 2.0, 0, periodic=True)
    machine.send_transaction("MeterValues", payload, 3.0, 0, periodic=True)
    machine.send_transaction("StopTransaction", payload, 4.0, 0)
    assert queued(machine) == kept
    assert answered == [(dropped, "dropped")]  # the session hears of it, as of a failure
    assert observer.events["queued"] == 4  # all produced offline (never booted)
    assert observer.events["dropped"] == 1
    assert machine.transaction_messages == 4


def test_the_station_says_what_it_still_has_to_deliver_2_0_1() -> None:
    h = Harness("2.0.1", connectors=1, length=Distribution.constant(60))
    h.machine.connected(0.0)
    h.run_until(8.0)
    transaction_id = h.machine.connectors[0].transaction_id
    h.machine.disconnected(8.0)
    h.machine.on_timer(20.0)  # offline meter values
    ask = h.machine.on_call
    request = v201.GetTransactionStatusRequest(transaction_id=transaction_id)
    assert ask("GetTransactionStatus", request, 20.0).messages_in_queue is True
    other = v201.GetTransactionStatusRequest(transaction_id="another")
    assert ask("GetTransactionStatus", other, 20.0).messages_in_queue is False
