"""Per-action answer overrides: a profile's shares of a CSMS action's calls that the stations
answer with a given status or a CALLERROR instead of doing what the call asks (issue 15 item
7), so that a CSMS's handling of refusals and failures can be tested.

The answers are built once, here, for every OCPP version that has the action: a minimal
valid response carrying the status (every CSMS-initiated response with a ``status`` has it as
its only required field; optional fields stay out), or a `CallError` with the code. The
station machine draws which calls get them (`StationSettings.answer_overrides`, `on_call`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from fleet.ocpp import CallError, Direction, OcppVersion, Payload, actions_of, dec_hook

__all__ = ["Answer", "answer_overrides", "answer_with"]

# An override's answer: the request in, the response out (or `CallError` raised).
Answer = Callable[[Any], Payload]


def answer_with(action: str, *, status: str | None = None, error: str | None = None) -> Answer:
    """The answer to `action`'s calls, whatever the station's OCPP version: a response with
    `status` (its response's ``status`` enumeration value, e.g. "Rejected"), or a CALLERROR
    with code `error` (e.g. "InternalError").

    Raises:
        ValueError: neither or both of status and error; `action` is no CSMS action of any
            version; or `status` is no status of its response in any version that has it (a
            profile checks these at load, naming the field).
    """
    if (status is None) == (error is None):
        raise ValueError("expected one of status or error")
    if error is not None:
        code = error

        def fail(request: Any) -> Payload:
            raise CallError(code, f"answered {code} as the profile's [[answers]] say")

        if not _specs(action):
            raise ValueError(f"{action} is not an action a CSMS sends")
        return fail
    responses: dict[type, Payload] = {}
    for spec in _specs(action):
        try:
            responses[spec.request] = msgspec.convert(
                {"status": status}, type=spec.response, dec_hook=dec_hook
            )
        except msgspec.ValidationError:
            continue  # not a status of this version's answer: its stations answer as always
    if not responses:
        raise ValueError(f"{status!r} is no {action} status of OCPP 1.6 or 2.0.1")

    def respond(request: Any) -> Payload:
        # The request's type says the version; a version without this status (the profile
        # allows none) answers with a CALLERROR rather than a wrong-version response.
        response = responses.get(type(request))
        if response is None:
            raise CallError("InternalError", f"no {action} answer {status!r} in this version")
        return response

    return respond


def answer_overrides(
    rules: Iterable[tuple[str, float, Answer]],
) -> dict[str, tuple[tuple[float, Answer], ...]]:
    """`StationSettings.answer_overrides` from (action, share, answer) rules in the
    profile's order: per action, each rule's cumulative share and its answer.

    Raises:
        ValueError: an action's shares add up to more than 1.
    """
    table: dict[str, list[tuple[float, Answer]]] = {}
    for action, share, answer in rules:
        rules_of = table.setdefault(action, [])
        total = (rules_of[-1][0] if rules_of else 0.0) + share
        if total > 1 + 1e-9:
            raise ValueError(f"the shares of {action}'s answers add up to more than 1")
        rules_of.append((total, answer))
    return {action: tuple(rules_of) for action, rules_of in table.items()}


def _specs(action: str) -> list[Any]:
    found = []
    for version in OcppVersion:
        spec = actions_of(version).get(action)
        if spec is not None and spec.direction & Direction.CSMS_TO_CHARGE_POINT:
            found.append(spec)
    return found
