"""A connection's adapter: which table carries each action, and the connection's state.

`GenericLink` is what a toolkit connection holds to speak the generic API: for a 2.0.1
connection it passes messages through; for a 1.6 one (`Ocpp16Link`) it finds each action's
adapter and keeps the connection's `LinkState`. Sans-IO: the toolkit sends the CALLs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from fleet.generic._common import LinkState
from fleet.generic._engine import LEGACY, ActionAdapter, Where
from fleet.generic._errors import NotExpressible
from fleet.ocpp import OcppVersion, actions_of

__all__ = ["Ocpp16Link", "adapter", "adapter_for_legacy", "adapters", "generic_actions"]


@functools.cache
def adapters() -> tuple[ActionAdapter, ...]:
    """Every action adapter: what a station sends, then what a CSMS sends.

    Built on first use: importing the toolkit does not build the tables.
    """
    from fleet.generic._csms_actions import CSMS_ACTIONS
    from fleet.generic._station_actions import STATION_ACTIONS
    from fleet.generic._transactions import STATUS_NOTIFICATION, TRANSACTION_EVENT

    return (*STATION_ACTIONS, TRANSACTION_EVENT, STATUS_NOTIFICATION, *CSMS_ACTIONS)


@functools.cache
def _by_generic() -> Mapping[str, ActionAdapter]:
    return {each.generic: each for each in adapters()}


@functools.cache
def _by_legacy() -> Mapping[str, ActionAdapter]:
    table: dict[str, ActionAdapter] = {}
    for each in adapters():
        for name in each.legacy:
            table.setdefault(name, each)
    return table


def generic_actions() -> frozenset[str]:
    """The 2.0.1 actions a 1.6 link can carry."""
    return frozenset(_by_generic())


def adapter(action: str) -> ActionAdapter:
    """The adapter of a generic (2.0.1) action.

    Raises:
        NotExpressible: 1.6 has no counterpart (the field named is the action).
        ValueError: `action` is no 2.0.1 action at all.
    """
    found = _by_generic().get(action)
    if found is not None:
        return found
    if action not in actions_of(OcppVersion.V201):
        raise ValueError(f"{action!r} is not an OCPP 2.0.1 action")
    raise NotExpressible(action, "request", action, None, LEGACY, "OCPP 1.6 has no such action")


def adapter_for_legacy(action: str) -> ActionAdapter:
    """The adapter that reads a 1.6 action.

    Raises:
        KeyError: no adapter reads it (every 1.6 action has one: a test holds it).
    """
    return _by_legacy()[action]


class Ocpp16Link:
    """One 1.6 connection's generic side: its `LinkState` and the places errors name.

    Args:
        state: the station's state to carry on (its transactions' ids, its connectors'
            statuses), e.g. from the connection before a reconnect; a new one by default.
    """

    version = OcppVersion.V16

    def __init__(self, state: LinkState | None = None) -> None:
        self.state = state if state is not None else LinkState()

    def request_where(self, action: str) -> Where:
        return Where(action, "request", link=self.state)

    def response_where(self, action: str) -> Where:
        return Where(action, "response", link=self.state)

    def calls_for(self, action: str, request: Any) -> tuple[ActionAdapter, list[Any]]:
        """The adapter and the 1.6 CALL steps for a generic request (see `ActionAdapter`).

        Raises:
            NotExpressible: the action or a value in it has no 1.6 counterpart.
        """
        found = adapter(action)
        return found, found.request_to_legacy(request, self.request_where(action))
