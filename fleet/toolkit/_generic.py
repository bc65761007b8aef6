"""The generic API on a connection: OCPP 2.0.1 messages over a 1.6 or a 2.0.1 link.

`cp.generic` (a `GenericChargePoint`) has one typed method per action a station sends, named
and typed as in 2.0.1 (``await cp.generic.authorize(v201.AuthorizeRequest(...))``), whatever
the connection's version. `GenericChargePointHandlers` answers what a CSMS sends, in 2.0.1
terms, on either version. On the CSMS side, `session.generic` (a `GenericStation`) sends the
CSMS's actions the same way. On a 2.0.1 link every call passes straight through; on a 1.6 link
`fleet.generic` maps it (see fleet/generic/MAPPING.md) or raises `NotExpressible`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import trio

from fleet.generic import (
    ConfigurationVariable,
    LinkState,
    Ocpp16Link,
    adapter_for_legacy,
    configuration_to_variables,
    get_all_request,
)
from fleet.ocpp import OcppVersion, Payload, v201
from fleet.toolkit._generated import (
    HANDLER_NAMES,
    ChargePointCalls201,
    ChargePointHandlers201,
    CsmsCalls201,
)

__all__ = [
    "GenericChargePoint",
    "GenericChargePointHandlers",
    "GenericStation",
    "legacy_handlers",
]

Call = Callable[..., Awaitable[Any]]


class GenericChargePointHandlers(ChargePointHandlers201):
    """Answers to what a CSMS sends, written once in OCPP 2.0.1 terms, for either version.

    Override ``on_<action>`` as in `ChargePointHandlers201` (``on_request_start_transaction``,
    ``on_reset``, ``on_set_variables``, ...). On a 1.6 connection a RemoteStartTransaction
    arrives as a RequestStartTransactionRequest, and the RequestStartTransactionResponse you
    return goes back as a RemoteStartTransaction answer. Any `ChargePointHandlers201` works
    the same way; this name says what it is for.
    """


class _GenericCalls:
    """Sends generic calls over a connection: straight through on 2.0.1, mapped on 1.6.

    Calls on one view go one at a time (a 1.6 TransactionEvent may be several CALLs, and the
    next one needs the ids the first was given).
    """

    def __init__(self, connection: Any, link: Ocpp16Link | None) -> None:
        self.connection = connection
        self.link = link
        self._lock = trio.Lock()

    @property
    def version(self) -> OcppVersion:
        """The link's OCPP version."""
        return OcppVersion(self.connection.version)

    @property
    def state(self) -> LinkState | None:
        """A 1.6 link's `LinkState` (transaction ids the CSMS gave, connector statuses); give
        it to the next `connect(..., generic_state=...)` to carry on after a reconnect.
        None on 2.0.1, where messages carry everything themselves."""
        return self.link.state if self.link is not None else None

    async def call(
        self,
        action: str,
        payload: Payload | Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> Any:
        """Send a generic (OCPP 2.0.1) CALL and return the generic (2.0.1) response.

        Args:
            action: the 2.0.1 action, e.g. "RequestStartTransaction".
            payload: its 2.0.1 request Struct, or a mapping in wire (camelCase) form.
            timeout: seconds to wait for each answer (default: the connection's).

        Raises:
            NotExpressible: on a 1.6 link, the action or a value in it has no 1.6
                counterpart (names the field, the value and the version); nothing was sent.
            As `OcppConnection.call`: CallError, CallTimeout, ConnectionLost, ...
        """
        link = self.link
        if link is None:
            return await self.connection.call(action, payload, timeout=timeout)
        async with self._lock:
            adapter, steps = link.calls_for(action, payload)
            answers: list[Any] = []
            for step in steps:
                if callable(step):
                    step = step(answers)
                    if step is None:
                        continue
                legacy_action, legacy_request = step
                answers.append(
                    await self.connection.call(legacy_action, legacy_request, timeout=timeout)
                )
            return adapter.response_to_generic(answers, payload, link.response_where(action))

    async def _call_typed(self, action: str, request: Any, timeout: float | None) -> Any:
        return await self.call(action, request, timeout=timeout)


class GenericChargePoint(_GenericCalls, ChargePointCalls201):
    """A charge point's generic side: the 2.0.1 actions a station sends, on any version.

    Get it as ``cp.generic`` from `connect()`; ``cp.generic.version`` is the link's version.
    Methods are those of `ChargePoint201` (``authorize``, ``boot_notification``,
    ``status_notification``, ``transaction_event``, ``meter_values``, ``heartbeat``, ...) and
    `call()`; each takes and returns 2.0.1 Structs.
    """


class ReportSource(Protocol):
    """What `GenericStation.get_all_variables` needs of a 2.0.1 session: the station's
    NotifyReports for a request id (the embedded CSMS's sessions collect them)."""

    def next_request_id(self) -> int: ...

    async def collect_report(
        self, request_id: int, started: Awaitable[Any], timeout: float
    ) -> list[Any]: ...


class GenericStation(_GenericCalls, CsmsCalls201):
    """A connected station as a CSMS sees it, generically: the 2.0.1 actions a CSMS sends.

    Get it as ``csms.station(id).generic``. Methods are those of a 2.0.1 station session
    (``reset``, ``request_start_transaction``, ``set_variables``, ``get_variables``,
    ``set_charging_profile``, ...) and `call()`; each takes and returns 2.0.1 Structs; and
    `get_all_variables()`.
    """

    async def get_all_variables(self, *, timeout: float = 30.0) -> list[v201.ReportData]:
        """Every configuration variable the station has, with its value and mutability.

        2.0.1: GetBaseReport(ConfigurationInventory), then the NotifyReports it answers with
        (until ``tbc`` is false). 1.6: GetConfiguration with no keys; each key reads as its
        2.0.1 component and variable (fleet/generic/MAPPING.md), a key the table lacks as
        variable `key` of component "ocpp1.6".

        Returns:
            One `ReportData` per variable: its Actual attribute's value (absent when the
            station gave none) and mutability (ReadOnly or ReadWrite).

        Raises:
            CallError: the station refused GetBaseReport (its status is in the message).
            trio.TooSlowError: the reports did not end within `timeout` seconds.
        """
        if self.link is not None:
            answer = await self.connection.call(
                "GetConfiguration", get_all_request(), timeout=timeout
            )
            return [_report_data(each) for each in configuration_to_variables(answer)]
        source: ReportSource = self.connection
        request_id = source.next_request_id()
        request = v201.GetBaseReportRequest(
            request_id=request_id, report_base=v201.ReportBaseEnum.CONFIGURATION_INVENTORY
        )
        reports = await source.collect_report(
            request_id, self.connection.call("GetBaseReport", request, timeout=timeout), timeout
        )
        return [data for report in reports for data in (report.report_data or ())]


def _report_data(each: ConfigurationVariable) -> v201.ReportData:
    mutability = "ReadOnly" if each.readonly else "ReadWrite"
    attribute = (
        v201.VariableAttribute(mutability=mutability)  # type: ignore[arg-type]
        if each.value is None
        else v201.VariableAttribute(value=each.value, mutability=mutability)  # type: ignore[arg-type]
    )
    variable = (
        v201.Variable(name=each.variable)
        if each.instance is None
        else v201.Variable(name=each.variable, instance=each.instance)
    )
    return v201.ReportData(
        component=v201.Component(name=each.component),
        variable=variable,
        variable_attribute=[attribute],
    )


class _LegacyHandlers:
    """1.6 handlers made of generic ones: each 1.6 CALL is read as its 2.0.1 action."""


def legacy_handlers(generic: ChargePointHandlers201, link: Ocpp16Link) -> object:
    """Handlers for a 1.6 connection that answer through `generic`'s 2.0.1 methods.

    A response the 2.0.1 handler gives that 1.6 cannot carry is answered with a CALLERROR
    (the connection's rule for a failing handler) and the `NotExpressible` is logged.
    """
    handlers = _LegacyHandlers()
    generic_names = HANDLER_NAMES["ChargePointHandlers201"]
    for legacy_action, method_name in HANDLER_NAMES["ChargePointHandlers16"].items():
        try:
            found = adapter_for_legacy(legacy_action)
        except KeyError:
            continue  # no 2.0.1 counterpart: NotImplemented, as with no handler
        method = getattr(generic, generic_names[found.generic])
        setattr(handlers, method_name, _answer_with(found, legacy_action, method, link))
    return handlers


def _answer_with(
    found: Any, legacy_action: str, method: Callable[[Any], Any], link: Ocpp16Link
) -> Callable[[Any], Any]:
    generic_action = found.generic

    def back(request: Any, response: Any) -> Any:
        where = link.response_where(generic_action)
        return found.response_to_legacy(response, legacy_action, request, where)

    async def later(request: Any, pending: Awaitable[Any]) -> Any:
        return back(request, await pending)

    def answer(request: Any) -> Any:
        generic_request = found.request_to_generic(
            legacy_action, request, link.request_where(generic_action)
        )
        response = method(generic_request)
        if inspect.isawaitable(response):
            return later(request, response)
        return back(request, response)

    return answer
