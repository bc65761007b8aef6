"""Transactions and connector status over a 1.6 link, without sockets: the 1.6 CALLs each
generic message becomes, the state the link keeps, and every loss they declare."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fleet.generic import LinkState, NotExpressible, Ocpp16Link, adapters
from fleet.generic._engine import Where
from fleet.ocpp import CustomData, v16, v201

STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TOKEN = v201.IdToken(id_token="321", type=v201.IdTokenEnum.CENTRAL)


def register(wh: float, unit: str | None = None) -> list[v201.MeterValue]:
    sample = v201.SampledValue(value=wh, measurand=v201.MeasurandEnum.ENERGY_ACTIVE_IMPORT_REGISTER)
    if unit is not None:
        sample = v201.SampledValue(
            value=wh,
            measurand=v201.MeasurandEnum.ENERGY_ACTIVE_IMPORT_REGISTER,
            unit_of_measure=v201.UnitOfMeasure(unit=unit),
        )
    return [v201.MeterValue(timestamp=STAMP, sampled_value=[sample])]


def event(kind: str, tx: str = "tx-1", **fields: Any) -> v201.TransactionEventRequest:
    return v201.TransactionEventRequest(
        event_type=kind,  # type: ignore[arg-type]
        timestamp=STAMP,
        trigger_reason=v201.TriggerReasonEnum.AUTHORIZED,
        seq_no=0,
        transaction_info=fields.pop("info", v201.Transaction(transaction_id=tx)),
        **fields,
    )


def status(connector_status: str) -> v201.StatusNotificationRequest:
    return v201.StatusNotificationRequest(
        timestamp=STAMP,
        connector_status=connector_status,  # type: ignore[arg-type]
        evse_id=1,
        connector_id=1,
    )


class FakeCsms:
    """Answers 1.6 CALLs as a CSMS would, and notes them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.next_id = 41

    def answer(self, action: str, request: Any) -> Any:
        self.calls.append((action, request))
        if action == "StartTransaction":
            self.next_id += 1
            return v16.StartTransactionResponse(
                transaction_id=self.next_id, id_tag_info=v16.IdTagInfo(status="Accepted")
            )
        if action == "StopTransaction":
            return v16.StopTransactionResponse(id_tag_info=v16.IdTagInfo(status="Accepted"))
        return {
            "MeterValues": v16.MeterValuesResponse,
            "StatusNotification": v16.StatusNotificationResponse,
        }[action]()

    def statuses(self) -> list[str]:
        return [request.status for action, request in self.calls if action == "StatusNotification"]


def send(link: Ocpp16Link, csms: FakeCsms, action: str, request: Any) -> Any:
    """What `GenericChargePoint.call` does, with the fake CSMS answering."""
    found, steps = link.calls_for(action, request)
    answers: list[Any] = []
    for step in steps:
        if callable(step):
            step = step(answers)
            if step is None:
                continue
        answers.append(csms.answer(*step))
    return found.response_to_generic(answers, request, link.response_where(action))


def test_a_session_is_the_1_6_messages_a_1_6_charger_sends() -> None:
    link, csms = Ocpp16Link(), FakeCsms()
    send(link, csms, "StatusNotification", status("Occupied"))
    started = send(
        link,
        csms,
        "TransactionEvent",
        event(
            "Started",
            info=v201.Transaction(transaction_id="tx-1", charging_state="Charging"),
            evse=v201.EVSE(id=1, connector_id=1),
            id_token=TOKEN,
            meter_value=register(1.5, "kWh"),
        ),
    )
    send(link, csms, "TransactionEvent", event("Updated", meter_value=register(2500)))
    send(
        link,
        csms,
        "TransactionEvent",
        event(
            "Updated",
            info=v201.Transaction(transaction_id="tx-1", charging_state="SuspendedEV"),
        ),
    )
    send(
        link,
        csms,
        "TransactionEvent",
        event(
            "Ended",
            info=v201.Transaction(transaction_id="tx-1", stopped_reason="EVDisconnected"),
            meter_value=register(4000),
        ),
    )
    send(link, csms, "StatusNotification", status("Available"))
    actions = [action for action, _ in csms.calls]
    assert actions == [
        "StatusNotification",
        "StartTransaction",
        "StatusNotification",
        "MeterValues",
        "StatusNotification",
        "StopTransaction",
        "StatusNotification",
        "StatusNotification",
    ]
    assert csms.statuses() == ["Preparing", "Charging", "SuspendedEV", "Finishing", "Available"]
    start = csms.calls[1][1]
    assert (start.connector_id, start.id_tag, start.meter_start) == (1, "321", 1500)
    meter = csms.calls[3][1]
    assert (meter.connector_id, meter.transaction_id) == (1, 42)
    stop = csms.calls[5][1]
    assert (stop.transaction_id, stop.meter_stop, stop.reason) == (42, 4000, "EVDisconnected")
    assert started.custom_data == CustomData(vendor_id="ocpp1.6", transactionId=42)
    assert started.id_token_info.status == "Accepted"
    # The transaction is over: its ids are forgotten, the connector is free.
    assert link.state.to_legacy == {} and link.state.transaction_of == {}


def test_started_sends_the_other_readings_in_a_meter_values() -> None:
    link, csms = Ocpp16Link(), FakeCsms()
    readings = [
        v201.MeterValue(
            timestamp=STAMP,
            sampled_value=[
                v201.SampledValue(value=10, measurand="Energy.Active.Import.Register"),
                v201.SampledValue(
                    value=80, measurand="SoC", unit_of_measure=v201.UnitOfMeasure(unit="Percent")
                ),
            ],
        )
    ]
    send(
        link,
        csms,
        "TransactionEvent",
        event("Started", evse=v201.EVSE(id=2), id_token=TOKEN, meter_value=readings),
    )
    assert [action for action, _ in csms.calls] == [
        "StartTransaction",
        "MeterValues",
        "StatusNotification",
    ]
    meter = csms.calls[1][1]
    assert meter.transaction_id == 42 and meter.connector_id == 2
    assert [s.measurand for s in meter.meter_value[0].sampled_value] == [
        "Energy.Active.Import.Register",
        "SoC",
    ]


def test_a_failed_start_leaves_no_state() -> None:
    link = Ocpp16Link()
    _, steps = link.calls_for(
        "TransactionEvent",
        event("Started", evse=v201.EVSE(id=1), id_token=TOKEN, meter_value=register(0)),
    )
    # The StartTransaction was never answered (a CALLERROR, a timeout): nothing recorded.
    assert steps[0][0] == "StartTransaction"
    assert link.state.to_legacy == {} and link.state.transaction_of == {}
    with pytest.raises(NotExpressible, match=r"transactionInfo\.transactionId"):
        link.calls_for("TransactionEvent", event("Updated", meter_value=register(5)))


def test_occupied_reads_as_the_connector_s_1_6_status() -> None:
    state = LinkState()
    assert state.occupied_status(1) == "Preparing"
    state.transaction_of[1] = "tx"
    assert state.occupied_status(1) == "Charging"
    for charging, legacy in [
        ("SuspendedEVSE", "SuspendedEVSE"),
        ("EVConnected", "SuspendedEV"),
        ("Idle", "SuspendedEV"),
    ]:
        state.charging_state[1] = charging
        assert state.occupied_status(1) == legacy
    del state.transaction_of[1]
    state.finished.add(1)
    assert state.occupied_status(1) == "Finishing"


@pytest.mark.parametrize(
    "legacy",
    [
        v16.StatusNotificationRequest(connector_id=1, error_code="NoError", status="Charging"),
        v16.StatusNotificationRequest(
            connector_id=2,
            error_code="GroundFailure",
            status="Faulted",
            info="earth leak",
            timestamp=STAMP,
            vendor_id="com.example",
            vendor_error_code="E42",
        ),
        v16.StatusNotificationRequest(connector_id=0, error_code="NoError", status="Available"),
    ],
)
def test_a_1_6_status_round_trips_through_the_generic_model(
    legacy: v16.StatusNotificationRequest,
) -> None:
    adapter = next(each for each in adapters() if each.generic == "StatusNotification")
    where = Where("StatusNotification", "request", link=LinkState())
    generic = adapter.request_to_generic("StatusNotification", legacy, where)
    ((action, back),) = [s for s in adapter.request_to_legacy(generic, where) if not callable(s)]
    assert action == "StatusNotification"
    expected = (
        legacy
        if legacy.timestamp
        else v16.StatusNotificationRequest(
            connector_id=legacy.connector_id,
            error_code=legacy.error_code,
            status=legacy.status,
            timestamp=generic.timestamp,  # 1.6's optional timestamp: the generic model needs one
        )
    )
    assert back == expected


def test_a_1_6_stop_reads_as_an_ended_event_and_back() -> None:
    adapter = next(each for each in adapters() if each.generic == "TransactionEvent")
    link = Ocpp16Link()
    link.state.add("tx-1", 42)
    link.state.transaction_of[3] = "tx-1"
    link.state.connector_of["tx-1"] = 3
    stop = v16.StopTransactionRequest(
        meter_stop=900, timestamp=STAMP, transaction_id=42, id_tag="321", reason="SoftReset"
    )
    generic = adapter.request_to_generic("StopTransaction", stop, link.request_where("x"))
    assert generic.event_type == "Ended"
    assert generic.transaction_info.transaction_id == "tx-1"  # the station's own id
    assert generic.transaction_info.stopped_reason == "ImmediateReset"
    assert generic.custom_data == CustomData(vendor_id="ocpp1.6", reason="SoftReset")
    back = adapter.request_to_legacy(generic, link.request_where("TransactionEvent"))
    assert back[0] == ("StopTransaction", v16.StopTransactionRequest(
        meter_stop=900, timestamp=STAMP, transaction_id=42, id_tag="321", reason="SoftReset"
    ))  # fmt: skip


def _declared_losses() -> list[tuple[str, Any]]:
    return [(each.generic, loss) for each in adapters() for loss in getattr(each, "losses", ())]


@pytest.mark.parametrize(
    ("action", "loss"),
    _declared_losses(),
    ids=[f"{action}-{loss.field}" for action, loss in _declared_losses()],
)
def test_every_declared_loss_raises_naming_its_field(action: str, loss: Any) -> None:
    adapter = next(each for each in adapters() if each.generic == action)
    link = Ocpp16Link()
    with pytest.raises(NotExpressible) as caught:
        if loss.part == "request":
            steps = adapter.request_to_legacy(loss.example, link.request_where(action))
            for step in steps:  # a loss found when a step's turn comes counts too
                if callable(step):
                    step([])
        else:
            legacy = adapter.legacy[0]
            adapter.response_to_legacy(loss.example, legacy, None, link.response_where(action))
    error = caught.value
    assert (error.action, error.part, error.field, error.version) == (
        action,
        loss.part,
        loss.field,
        "1.6",
    )
    assert loss.why in str(error)


# -- what a new user's try found -----------------------------------------------------------


def started(link: Ocpp16Link, csms: FakeCsms, tx: str, charging: str = "Charging") -> Any:
    return send(
        link,
        csms,
        "TransactionEvent",
        event(
            "Started",
            tx,
            info=v201.Transaction(transaction_id=tx, charging_state=charging),
            evse=v201.EVSE(id=1),
            id_token=TOKEN,
            meter_value=register(0),
        ),
    )


def test_a_charging_state_that_implies_no_new_status_sends_nothing() -> None:
    link, csms = Ocpp16Link(), FakeCsms()
    started(link, csms, "tx-1", "EVConnected")
    before = len(csms.calls)
    answer = send(
        link,
        csms,
        "TransactionEvent",
        event("Updated", info=v201.Transaction(transaction_id="tx-1", charging_state="Idle")),
    )
    assert len(csms.calls) == before  # EVConnected and Idle are both SuspendedEV in 1.6
    assert answer == v201.TransactionEventResponse()
    assert link.state.charging_state[1] == "Idle"


@pytest.mark.parametrize("kind", ["Updated", "Ended"])
def test_an_event_for_a_transaction_this_link_did_not_start_is_refused(kind: str) -> None:
    link, csms = Ocpp16Link(), FakeCsms()
    started(link, csms, "tx-ok")
    before = (dict(link.state.transaction_of), len(csms.calls))
    with pytest.raises(NotExpressible) as caught:
        link.calls_for(
            "TransactionEvent",
            event(kind, "999", evse=v201.EVSE(id=1), meter_value=register(10)),
        )
    assert caught.value.field == "transactionInfo.transactionId"
    assert "generic_state" in str(caught.value)
    assert (dict(link.state.transaction_of), len(csms.calls)) == before


class FailingStatus(FakeCsms):
    """Answers StatusNotification with a CALLERROR, once."""

    failed = False

    def answer(self, action: str, request: Any) -> Any:
        if action == "StatusNotification" and not self.failed:
            self.failed = True
            self.calls.append((action, request))
            raise RuntimeError("CALLERROR")
        return super().answer(action, request)


def test_a_started_whose_status_failed_is_sent_again_without_a_second_start() -> None:
    link, csms = Ocpp16Link(), FailingStatus()
    with pytest.raises(RuntimeError):
        started(link, csms, "tx-1")
    # The StartTransaction was answered: the link holds the transaction, the status is due.
    assert link.state.to_legacy == {"tx-1": 42} and 1 not in link.state.status_sent
    answer = started(link, csms, "tx-1")
    actions = [action for action, _ in csms.calls]
    assert actions == ["StartTransaction", "StatusNotification", "StatusNotification"]
    assert csms.statuses() == ["Charging", "Charging"]
    assert link.state.status_sent[1] == "Charging"
    assert answer.custom_data == CustomData(vendor_id="ocpp1.6", transactionId=42)


def test_a_too_long_id_tag_in_a_transaction_event_names_the_field() -> None:
    link = Ocpp16Link()
    token = v201.IdToken(id_token="x" * 21, type=v201.IdTokenEnum.CENTRAL)
    with pytest.raises(NotExpressible) as caught:
        link.calls_for(
            "TransactionEvent",
            event("Started", evse=v201.EVSE(id=1), id_token=token, meter_value=register(0)),
        )
    assert (caught.value.field, caught.value.value) == ("idToken.idToken", "x" * 21)
    assert "StartTransaction.idTag" in str(caught.value)


def test_a_register_reading_without_measurand_is_the_meter_start_and_not_sent_twice() -> None:
    link, csms = Ocpp16Link(), FakeCsms()
    reading = [v201.MeterValue(timestamp=STAMP, sampled_value=[v201.SampledValue(value=250)])]
    send(
        link,
        csms,
        "TransactionEvent",
        event("Started", evse=v201.EVSE(id=1), id_token=TOKEN, meter_value=reading),
    )
    assert [action for action, _ in csms.calls] == ["StartTransaction", "StatusNotification"]
    assert csms.calls[0][1].meter_start == 250


class FailingMeterValues(FakeCsms):
    """Answers MeterValues with a CALLERROR, once."""

    failed = False

    def answer(self, action: str, request: Any) -> Any:
        if action == "MeterValues" and not self.failed:
            self.failed = True
            self.calls.append((action, request))
            raise RuntimeError("CALLERROR")
        return super().answer(action, request)


def test_a_started_whose_readings_failed_sends_them_again() -> None:
    link, csms = Ocpp16Link(), FailingMeterValues()
    readings = [
        v201.MeterValue(
            timestamp=STAMP,
            sampled_value=[
                v201.SampledValue(value=10, measurand="Energy.Active.Import.Register"),
                v201.SampledValue(value=16, measurand="Current.Import"),
            ],
        )
    ]
    started_event = event("Started", evse=v201.EVSE(id=1), id_token=TOKEN, meter_value=readings)
    with pytest.raises(RuntimeError):
        send(link, csms, "TransactionEvent", started_event)
    send(link, csms, "TransactionEvent", started_event)
    send(link, csms, "TransactionEvent", started_event)  # all delivered: nothing more is due
    assert [action for action, _ in csms.calls] == [
        "StartTransaction",
        "MeterValues",
        "MeterValues",
        "StatusNotification",
    ]
