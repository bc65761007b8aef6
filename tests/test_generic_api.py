"""The generic API end to end: one script per scenario, run on OCPP 1.6 and 2.0.1, against
our embedded CSMS and the `ocpp`-library CSMS (which validates every message); and the
embedded CSMS's generic calls to stations of both versions."""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio

import fleet.toolkit
from fleet.csms import DefaultCsmsHandlers16, DefaultCsmsHandlers201, EmbeddedCsms, open_csms
from fleet.ocpp import CustomData, OcppVersion, v16, v201
from tests import generic_scenarios as scenarios
from tests import peers
from tests.peers import LibraryCsms

VERSIONS = ["1.6", "2.0.1"]


class Seen:
    """What a CSMS's handlers saw: each station's statuses and transaction events."""

    def __init__(self) -> None:
        self.statuses: dict[str, list[str]] = collections.defaultdict(list)
        self.events: dict[str, list[Any]] = collections.defaultdict(list)

    def handlers(self, csms: EmbeddedCsms, station_id: str, version: OcppVersion) -> object:
        seen = self

        class Seeing16(DefaultCsmsHandlers16):
            def on_status_notification(self, request: Any) -> Any:
                seen.statuses[station_id].append(request.status)
                return v16.StatusNotificationResponse()

            def on_start_transaction(self, request: Any) -> Any:
                seen.events[station_id].append(request)
                return super().on_start_transaction(request)

        class Seeing201(DefaultCsmsHandlers201):
            def on_status_notification(self, request: Any) -> Any:
                seen.statuses[station_id].append(request.connector_status)
                return v201.StatusNotificationResponse()

            def on_transaction_event(self, request: Any) -> Any:
                seen.events[station_id].append(request)
                return super().on_transaction_event(request)

        if version is OcppVersion.V16:
            return Seeing16(csms, station_id)
        return Seeing201(csms, station_id)


@pytest.fixture
async def library_csms() -> AsyncIterator[LibraryCsms]:
    async with peers.library_csms() as csms:
        yield csms


# -- the seed's charge scenario ------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_charge_on_both_versions_against_the_embedded_csms(version: str) -> None:
    seen = Seen()
    async with open_csms(handlers=seen.handlers) as csms:
        with trio.fail_after(20):
            answer = await scenarios.charge(csms.url, "cp-1", version)
        received = csms.received_by_station["cp-1"]
    if version == "1.6":
        # What the seed's 1.6 script sends by hand.
        assert seen.statuses["cp-1"] == ["Preparing", "Charging"]
        assert received == {"Authorize": 1, "StatusNotification": 2, "StartTransaction": 1}
        (start,) = seen.events["cp-1"]
        assert (start.connector_id, start.id_tag, start.meter_start) == (1, "321", 0)
        # The CSMS's own transaction id, kept where the generic model has no place for it.
        assert answer.custom_data == CustomData(vendor_id="ocpp1.6", transactionId=1)
    else:
        assert seen.statuses["cp-1"] == ["Occupied"]
        assert received == {"Authorize": 1, "StatusNotification": 1, "TransactionEvent": 1}
        (event,) = seen.events["cp-1"]
        assert event.transaction_info.transaction_id == "tx-1"
        assert event.transaction_info.charging_state == "Charging"
    assert answer.id_token_info is not None and answer.id_token_info.status == "Accepted"


@pytest.mark.parametrize("version", VERSIONS)
async def test_charge_on_both_versions_against_the_library_csms(
    version: str, library_csms: LibraryCsms
) -> None:
    with trio.fail_after(20):
        await scenarios.charge(library_csms.url, "cp-1", version)
    if version == "1.6":
        expected = {"Authorize": 1, "StatusNotification": 2, "StartTransaction": 1}
        statuses = ["Preparing", "Charging"]
    else:
        expected = {"Authorize": 1, "StatusNotification": 1, "TransactionEvent": 1}
        statuses = ["Occupied"]
    await library_csms.read_until(lambda: library_csms.received("cp-1") == expected)
    assert library_csms.received("cp-1") == expected
    assert library_csms.statuses("cp-1") == statuses
    assert library_csms.errors() == []


# -- the seed's remote charge scenario -----------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_remote_charge_on_both_versions_against_the_embedded_csms(version: str) -> None:
    seen = Seen()
    async with open_csms(handlers=seen.handlers) as csms, trio.open_nursery() as nursery:
        answers: list[v201.RequestStartTransactionResponse] = []

        async def remote_start() -> None:
            session = await csms.wait_for_station("remote-1")
            # The CSMS side, generic too: the same request to a 1.6 or a 2.0.1 station.
            answers.append(
                await session.generic.request_start_transaction(
                    v201.RequestStartTransactionRequest(
                        id_token=v201.IdToken(id_token="Tag2", type=v201.IdTokenEnum.CENTRAL),
                        remote_start_id=42,
                        evse_id=1,
                    )
                )
            )

        nursery.start_soon(remote_start)
        with trio.fail_after(20):
            request = await scenarios.remote_charge(csms.url, "remote-1", version)
    assert [answer.status for answer in answers] == ["Accepted"]
    assert request.id_token.id_token == "Tag2"
    assert request.evse_id == 1
    if version == "1.6":
        assert csms.received_by_station["remote-1"] == {
            "StatusNotification": 2,
            "StartTransaction": 1,
        }
        assert seen.statuses["remote-1"] == ["Preparing", "Charging"]
        assert request.remote_start_id == 0  # 1.6 has no remote start id: it reads as 0
    else:
        assert request.remote_start_id == 42
        (event,) = seen.events["remote-1"]
        assert event.transaction_info.remote_start_id == 42
        assert event.trigger_reason == "RemoteStart"


@pytest.mark.parametrize("version", VERSIONS)
async def test_remote_charge_on_both_versions_against_the_library_csms(
    version: str, library_csms: LibraryCsms
) -> None:
    with trio.fail_after(20):
        request = await scenarios.remote_charge(library_csms.url, "remote-2", version)
    assert request.id_token.id_token == "Tag2"
    action = "RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction"
    await library_csms.read_until(
        lambda: any(line.get("action") == action for line in library_csms.lines)
    )
    answers = [line for line in library_csms.lines if line.get("action") == action]
    assert answers == [{"station": "remote-2", "action": action, "status": "Accepted"}]
    if version == "1.6":
        expected = {"StatusNotification": 2, "StartTransaction": 1}
    else:
        expected = {"StatusNotification": 1, "TransactionEvent": 1}
    await library_csms.read_until(lambda: library_csms.received("remote-2") == expected)
    assert library_csms.received("remote-2") == expected
    assert library_csms.errors() == []


# -- a whole session, longer than the CSMS's ping interval ---------------------------------


async def whole_session(url: str, station_id: str, version: str, hold: float) -> None:
    async with fleet.toolkit.connect(url, station_id, version=version) as cp:
        g = cp.generic
        token = v201.IdToken(id_token="321", type=v201.IdTokenEnum.CENTRAL)
        await g.authorize(v201.AuthorizeRequest(id_token=token))
        await scenarios.start_charging(g, token, "tx-9")
        await trio.sleep(hold)  # the CSMS pings meanwhile
        await g.transaction_event(
            v201.TransactionEventRequest(
                event_type=v201.TransactionEventEnum.UPDATED,
                timestamp=scenarios.now(),
                trigger_reason=v201.TriggerReasonEnum.METER_VALUE_PERIODIC,
                seq_no=1,
                transaction_info=v201.Transaction(transaction_id="tx-9"),
                meter_value=scenarios.energy(1500),
            )
        )
        await g.transaction_event(
            v201.TransactionEventRequest(
                event_type=v201.TransactionEventEnum.ENDED,
                timestamp=scenarios.now(),
                trigger_reason=v201.TriggerReasonEnum.EV_COMMUNICATION_LOST,
                seq_no=2,
                transaction_info=v201.Transaction(
                    transaction_id="tx-9",
                    stopped_reason=v201.ReasonEnum.EV_DISCONNECTED,
                    charging_state=v201.ChargingStateEnum.IDLE,
                ),
                meter_value=scenarios.energy(3000),
            )
        )
        await g.status_notification(
            v201.StatusNotificationRequest(
                timestamp=scenarios.now(),
                connector_status=v201.ConnectorStatusEnum.AVAILABLE,
                evse_id=1,
                connector_id=1,
            )
        )


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_whole_session_against_a_pinging_library_csms(version: str) -> None:
    async with peers.library_csms("--ping-interval", "0.5") as csms:
        with trio.fail_after(30):
            await whole_session(csms.url, "cp-9", version, hold=1.2)
        if version == "1.6":
            expected = {
                "Authorize": 1,
                "StatusNotification": 4,
                "StartTransaction": 1,
                "MeterValues": 1,
                "StopTransaction": 1,
            }
            statuses = ["Preparing", "Charging", "Finishing", "Available"]
        else:
            expected = {"Authorize": 1, "StatusNotification": 2, "TransactionEvent": 3}
            statuses = ["Occupied", "Available"]
        await csms.read_until(lambda: csms.received("cp-9") == expected)
        assert csms.received("cp-9") == expected
        assert csms.statuses("cp-9") == statuses
        assert csms.errors() == []


# -- the embedded CSMS's generic calls, to generic stations of both versions ---------------


class Obliging(fleet.toolkit.GenericChargePointHandlers):
    """A station's answers in 2.0.1 terms; it notes each request as it read it."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def on_reset(self, request: v201.ResetRequest) -> v201.ResetResponse:
        self.requests.append(request)
        return v201.ResetResponse(status=v201.ResetStatusEnum.ACCEPTED)

    def on_change_availability(
        self, request: v201.ChangeAvailabilityRequest
    ) -> v201.ChangeAvailabilityResponse:
        self.requests.append(request)
        return v201.ChangeAvailabilityResponse(status=v201.ChangeAvailabilityStatusEnum.SCHEDULED)

    def on_request_stop_transaction(
        self, request: v201.RequestStopTransactionRequest
    ) -> v201.RequestStopTransactionResponse:
        self.requests.append(request)
        return v201.RequestStopTransactionResponse(status=v201.RequestStartStopStatusEnum.ACCEPTED)

    async def on_get_variables(self, request: v201.GetVariablesRequest) -> Any:
        self.requests.append(request)
        await trio.sleep(0)  # an async handler is mapped back the same way
        return v201.GetVariablesResponse(
            get_variable_result=[
                v201.GetVariableResult(
                    attribute_status=v201.GetVariableStatusEnum.ACCEPTED,
                    component=each.component,
                    variable=each.variable,
                    attribute_value="300",
                )
                for each in request.get_variable_data
            ]
        )


@pytest.mark.parametrize("version", VERSIONS)
async def test_generic_csms_calls_reach_generic_stations_of_both_versions(version: str) -> None:
    handlers = Obliging()
    async with (
        open_csms() as csms,
        fleet.toolkit.connect(csms.url, "cp-7", version=version, handlers=handlers) as cp,
    ):
        token = v201.IdToken(id_token="321", type=v201.IdTokenEnum.CENTRAL)
        started = await scenarios.start_charging(cp.generic, token, "tx-7")
        with trio.fail_after(10):
            session = (await csms.wait_for_station("cp-7")).generic
            reset = await session.reset(v201.ResetRequest(type=v201.ResetEnum.IMMEDIATE))
            availability = await session.change_availability(
                v201.ChangeAvailabilityRequest(
                    operational_status=v201.OperationalStatusEnum.INOPERATIVE,
                    evse=v201.EVSE(id=1),
                )
            )
            variables = await session.get_variables(
                v201.GetVariablesRequest(
                    get_variable_data=[
                        v201.GetVariableData(
                            component=v201.Component(name="OCPPCommCtrlr"),
                            variable=v201.Variable(name="HeartbeatInterval"),
                        )
                    ]
                )
            )
            # The CSMS names the transaction its way: on 1.6 by the integer it gave.
            csms_id = str(started.custom_data["transactionId"]) if version == "1.6" else "tx-7"
            stop = await session.request_stop_transaction(
                v201.RequestStopTransactionRequest(transaction_id=csms_id)
            )
    assert reset.status == "Accepted"
    assert availability.status == "Scheduled"
    (result,) = variables.get_variable_result
    assert (result.component.name, result.variable.name) == ("OCPPCommCtrlr", "HeartbeatInterval")
    assert (result.attribute_status, result.attribute_value) == ("Accepted", "300")
    assert stop.status == "Accepted"
    kinds = [type(request).__name__ for request in handlers.requests]
    assert kinds == [
        "ResetRequest",
        "ChangeAvailabilityRequest",
        "GetVariablesRequest",
        "RequestStopTransactionRequest",
    ]
    # The station reads the stop by its own transaction id, whatever the CSMS called it.
    assert handlers.requests[3].transaction_id == "tx-7"
    assert handlers.requests[0].type == "Immediate"
    assert handlers.requests[1].evse is not None and handlers.requests[1].evse.id == 1


# -- generic CSMS calls to the fleet's own stations, 1.6 and 2.0.1 side by side ------------


@pytest.mark.deadline(60)
async def test_generic_csms_calls_to_built_in_stations_of_both_versions() -> None:
    from fleet.profile import parse_profile
    from fleet.run import FleetRun
    from tests.test_fleet import profile_text

    text = profile_text(
        count="count = 2",
        duration='duration = "4s"',
        versions='versions = { "1.6" = 0.5, "2.0.1" = 0.5 }',
        first_start='first_start = "1h"',  # idle: no session in the way
    )
    run = FleetRun(parse_profile(text))
    seen: dict[str, dict[str, Any]] = {}
    interval = v201.GetVariableData(
        component=v201.Component(name="OCPPCommCtrlr"),
        variable=v201.Variable(name="HeartbeatInterval"),
    )

    async def ask(station_id: str) -> None:
        while run.csms is None:
            await trio.sleep(0.01)
        session = await run.csms.wait_for_station(station_id)
        await peers.wait_for(lambda: run.csms.received_by_station[station_id]["StatusNotification"])
        generic = session.generic
        found: dict[str, Any] = {"version": session.version}
        found["set"] = await generic.set_variables(
            v201.SetVariablesRequest(
                set_variable_data=[
                    v201.SetVariableData(
                        attribute_value="123",
                        component=interval.component,
                        variable=interval.variable,
                    )
                ]
            )
        )
        found["get"] = await generic.get_variables(
            v201.GetVariablesRequest(get_variable_data=[interval])
        )
        found["all"] = await generic.get_all_variables(timeout=10)
        found["trigger"] = await generic.trigger_message(
            v201.TriggerMessageRequest(requested_message=v201.MessageTriggerEnum.HEARTBEAT)
        )
        found["availability"] = await generic.change_availability(
            v201.ChangeAvailabilityRequest(
                operational_status=v201.OperationalStatusEnum.INOPERATIVE, evse=v201.EVSE(id=1)
            )
        )
        seen[station_id] = found

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ask, "SIM-000000")
        nursery.start_soon(ask, "SIM-000001")
        await run.run()
    versions = sorted(found["version"] for found in seen.values())
    assert versions == ["ocpp1.6", "ocpp2.0.1"]
    for found in seen.values():
        (result,) = found["set"].set_variable_result
        assert result.attribute_status == "Accepted", found["version"]
        (value,) = found["get"].get_variable_result
        assert (value.attribute_status, value.attribute_value) == ("Accepted", "123")
        every = {
            (data.component.name, data.variable.name): data.variable_attribute[0]
            for data in found["all"]
        }
        assert every[("OCPPCommCtrlr", "HeartbeatInterval")].value == "123", found["version"]
        assert found["trigger"].status == "Accepted"
        assert found["availability"].status in ("Accepted", "Scheduled")


async def test_a_transaction_started_before_a_reconnect_ends_after_it() -> None:
    # 1.6 needs the CSMS's integer to stop a transaction; a charger keeps it across
    # reconnects, and so does the generic API when given the last connection's state.
    seen = Seen()
    async with open_csms(handlers=seen.handlers) as csms:
        with trio.fail_after(20):
            async with fleet.toolkit.connect(csms.url, "cp-r", version="1.6") as cp:
                token = v201.IdToken(id_token="321", type=v201.IdTokenEnum.CENTRAL)
                await scenarios.start_charging(cp.generic, token, "tx-r")
                state = cp.generic.state
            ended = v201.TransactionEventRequest(
                event_type=v201.TransactionEventEnum.ENDED,
                timestamp=scenarios.now(),
                trigger_reason=v201.TriggerReasonEnum.EV_COMMUNICATION_LOST,
                seq_no=1,
                transaction_info=v201.Transaction(transaction_id="tx-r"),
                meter_value=scenarios.energy(800),
            )
            async with fleet.toolkit.connect(csms.url, "cp-r", version="1.6") as cp:
                with pytest.raises(fleet.toolkit.NotExpressible, match="generic_state"):
                    await cp.generic.transaction_event(ended)  # a new state knows nothing
            async with fleet.toolkit.connect(
                csms.url, "cp-r", version="1.6", generic_state=state
            ) as cp:
                await cp.generic.transaction_event(ended)
    assert csms.received_by_station["cp-r"]["StopTransaction"] == 1
    assert seen.statuses["cp-r"] == ["Preparing", "Charging", "Finishing"]
