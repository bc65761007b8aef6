"""The generic API's one error: a value the link's OCPP version cannot carry."""

from __future__ import annotations

from typing import Any

from fleet.ocpp import LocalProtocolError

__all__ = ["NotExpressible"]


class NotExpressible(LocalProtocolError):
    """A generic message holds a value the link's OCPP version has no place for; nothing was sent.

    Attributes:
        action: the generic (OCPP 2.0.1) action, e.g. "Reset".
        part: "request" or "response".
        field: the field's wire path in the generic message, e.g. "idToken.idToken" (or the
            action's name when the whole action has no counterpart).
        value: the value that cannot be carried.
        version: the link's version, e.g. "1.6".
        reason: why, in the specs' terms.
    """

    def __init__(
        self, action: str, part: str, field: str, value: Any, version: str, reason: str
    ) -> None:
        self.action = action
        self.part = part
        self.field = field
        self.value = value
        self.version = version
        self.reason = reason
        if field == action:  # the whole action
            text = f"{action} cannot be sent over OCPP {version}: {reason}"
        else:
            shown = _shown(value)
            text = (
                f"{action} {part}: {field} = {shown} cannot be sent over OCPP {version}: {reason}"
            )
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.action, self.part, self.field, self.value, self.version, self.reason),
        )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
