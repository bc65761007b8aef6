"""The mapping engine: one table per message, applied both ways between 2.0.1 and 1.6.

A `StructMap` is the table of one message (or one nested object): rows that say where each
field of the generic (2.0.1) message goes in the 1.6 message, and back. The engine works on
wire-form dicts (camelCase names, as the specs write them), so the tables read like the specs;
msgspec builds and validates the typed messages at both ends.

Two rules make every mapping explicit:

- **Nothing is dropped silently.** On the way to 1.6, a generic field that no row consumes
  raises `NotExpressible` naming it, unless a `NotCarried` row says 1.6 has no such concept
  (then the table, and the docs made from it, say so).
- **Nothing the peer said is lost.** On the way to 2.0.1, a 1.6 field that no row consumes, or a
  1.6 value that reads as a coarser 2.0.1 one, is kept in the object's ``customData`` under the
  vendor id `LEGACY_VENDOR`, and that ``customData`` is put back when the message goes to 1.6
  again. A user can set 1.6-only fields the same way.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

import msgspec

from fleet.generic._errors import NotExpressible
from fleet.ocpp import dec_hook

__all__ = [
    "LEGACY",
    "LEGACY_VENDOR",
    "LEGACY_VENDOR_ID",
    "SAME",
    "ActionAdapter",
    "ActionMap",
    "Each",
    "Field",
    "Fixed",
    "Func",
    "Guarded",
    "Loss",
    "Nested",
    "NotCarried",
    "StructMap",
    "Values",
    "Where",
    "keep_as",
    "kept_field",
    "wire",
]

LEGACY = "1.6"

#: The ``customData`` vendor id under which 1.6 fields with no 2.0.1 place are kept.
LEGACY_VENDOR = "ocpp1.6"

#: The name a kept 1.6 field ``vendorId`` (StatusNotification's) has in that customData,
#: where ``vendorId`` names customData's own vendor.
LEGACY_VENDOR_ID = "legacyVendorId"


def keep_as(path: str) -> str:
    """The customData key of a kept 1.6 field."""
    return LEGACY_VENDOR_ID if path == "vendorId" else path


def kept_field(key: str) -> str:
    """The 1.6 field of a customData key (`keep_as` undone)."""
    return "vendorId" if key == LEGACY_VENDOR_ID else key


_MISSING: Any = object()


class Where:
    """Where a conversion is, for errors: the action, request or response, and the path."""

    __slots__ = ("action", "link", "part", "prefix")

    def __init__(self, action: str, part: str, prefix: str = "", link: Any = None) -> None:
        self.action = action
        self.part = part
        self.prefix = prefix
        # The connection's `TransactionIds` (1.6 ids the CSMS gave <-> the station's own), or
        # None where no connection is involved (a table used on its own).
        self.link = link

    def path(self, field: str) -> str:
        return f"{self.prefix}{field}"

    def deeper(self, field: str) -> Where:
        return Where(self.action, self.part, f"{self.prefix}{field}.", self.link)

    def fail(self, field: str, value: Any, reason: str) -> NotExpressible:
        return NotExpressible(self.action, self.part, self.path(field), value, LEGACY, reason)


Keep = Callable[[Any], None]


class Conv(Protocol):
    """How one field's value changes between the versions."""

    def to_legacy(self, value: Any, where: Where, field: str) -> Any: ...

    def to_generic(self, value: Any, where: Where, field: str, keep: Keep) -> Any: ...

    def describe(self) -> str: ...


class _Same:
    def to_legacy(self, value: Any, where: Where, field: str) -> Any:
        return value

    def to_generic(self, value: Any, where: Where, field: str, keep: Keep) -> Any:
        return value

    def describe(self) -> str:
        return ""


SAME: Conv = _Same()


class Values:
    """An enumeration's values, 2.0.1 -> 1.6.

    Args:
        pairs: generic value -> 1.6 value; read back the other way (the first generic value
            of a 1.6 value wins).
        generic_only: generic values 1.6 has no counterpart for -> why; sending one raises.
        legacy_only: 1.6 values with no exact 2.0.1 counterpart -> the generic value they read
            as; the 1.6 value itself is kept in ``customData`` so that it goes back unchanged.
    """

    def __init__(
        self,
        pairs: Mapping[str, str],
        *,
        generic_only: Mapping[str, str] | None = None,
        legacy_only: Mapping[str, str] | None = None,
    ) -> None:
        self.pairs = dict(pairs)
        self.generic_only = dict(generic_only or {})
        self.legacy_only = dict(legacy_only or {})
        self.back: dict[str, str] = {}
        for generic, legacy in self.pairs.items():
            self.back.setdefault(legacy, generic)

    @classmethod
    def same(cls, *values: str, **options: Any) -> Values:
        """Values spelled alike in both versions."""
        return cls({value: value for value in values}, **options)

    def to_legacy(self, value: Any, where: Where, field: str) -> Any:
        try:
            return self.pairs[value]
        except KeyError:
            reason = self.generic_only.get(value, "OCPP 1.6 has no such value")
            raise where.fail(field, value, reason) from None

    def to_generic(self, value: Any, where: Where, field: str, keep: Keep) -> Any:
        generic = self.back.get(value)
        if generic is not None:
            return generic
        if value in self.legacy_only:
            keep(value)
            return self.legacy_only[value]
        raise where.fail(field, value, "no 2.0.1 value reads as it")  # the tables are wrong

    def describe(self) -> str:
        rows = [f"{g} ↔ {v}" if g != v else g for g, v in self.pairs.items()]
        rows += [f"1.6 {v} → {g} (kept)" for v, g in self.legacy_only.items()]
        rows += [f"{g}: error" for g in self.generic_only]
        return "; ".join(rows)


class Func:
    """A conversion written as two functions; `doc` says what they do, for the docs table.

    `to_legacy(value, where, field)` may raise ``where.fail(...)``; `to_generic(value)` must
    keep everything (it may call `keep` with the 1.6 value to keep it whole).
    """

    def __init__(
        self,
        to_legacy: Callable[[Any, Where, str], Any],
        to_generic: Callable[[Any, Where, str, Keep], Any],
        doc: str,
    ) -> None:
        self._to_legacy = to_legacy
        self._to_generic = to_generic
        self.doc = doc

    def to_legacy(self, value: Any, where: Where, field: str) -> Any:
        return self._to_legacy(value, where, field)

    def to_generic(self, value: Any, where: Where, field: str, keep: Keep) -> Any:
        return self._to_generic(value, where, field, keep)

    def describe(self) -> str:
        return self.doc


class Nested:
    """A nested object with a table of its own (its leftovers go in its own customData)."""

    def __init__(self, table: StructMap) -> None:
        self.table = table

    def to_legacy(self, value: Any, where: Where, field: str) -> Any:
        return self.table.to_legacy_dict(value, where.deeper(field))

    def to_generic(self, value: Any, where: Where, field: str, keep: Keep) -> Any:
        return self.table.to_generic_dict(value, where.deeper(field))

    def describe(self) -> str:
        return f"see {self.table.generic.__name__}"


class Each:
    """A list whose items convert one by one."""

    def __init__(self, item: Conv) -> None:
        self.item = item

    def to_legacy(self, value: Any, where: Where, field: str) -> Any:
        return [self.item.to_legacy(v, where, f"{field}[{i}]") for i, v in enumerate(value)]

    def to_generic(self, value: Any, where: Where, field: str, keep: Keep) -> Any:
        kept: dict[int, Any] = {}
        out = [
            self.item.to_generic(v, where, f"{field}[{i}]", lambda x, i=i: kept.__setitem__(i, x))
            for i, v in enumerate(value)
        ]
        if kept:
            keep(value)
        return out

    def describe(self) -> str:
        return self.item.describe()


@dataclasses.dataclass(frozen=True)
class Field:
    """A field in both versions: generic wire path, 1.6 wire path, how the value changes."""

    generic: str
    legacy: str
    conv: Conv = SAME
    note: str = ""


@dataclasses.dataclass(frozen=True)
class NotCarried:
    """A generic field 1.6 has no concept for: not sent, and no error.

    Only for what a 1.6 peer would not act on (metadata such as a boot reason or seqNo).
    `fill` is the value it reads as from 1.6 when the generic model requires it (a callable
    is called each time).
    """

    generic: str
    why: str
    fill: Any = _MISSING


@dataclasses.dataclass(frozen=True)
class Fixed:
    """A 1.6 field the generic model has no place for, sent with one value (e.g. errorCode
    NoError). Read back, that value is dropped; another one is kept in customData."""

    legacy: str
    value: Any
    why: str


Row = Field | NotCarried | Fixed


class StructMap:
    """The table between one generic (2.0.1) type and one 1.6 type.

    Args:
        generic: the 2.0.1 Struct type.
        legacy: the 1.6 Struct type.
        rows: `Field`, `NotCarried` and `Fixed` rows; every field of either type that no row
            names is a leftover (an error one way, kept in customData the other).
    """

    def __init__(self, generic: type, legacy: type, *rows: Row) -> None:
        self.generic = generic
        self.legacy = legacy
        self.rows = rows

    # -- whole messages --------------------------------------------------------------------

    def to_legacy(self, message: Any, where: Where) -> Any:
        """The 1.6 message for a generic one (a Struct or its wire-form mapping).

        Raises:
            NotExpressible: a value 1.6 cannot carry, named by its generic path.
        """
        data = wire(message, self.generic)
        legacy = self.to_legacy_dict(data, where)
        try:
            return msgspec.convert(legacy, self.legacy, dec_hook=dec_hook)
        except msgspec.ValidationError as exc:
            raise self._invalid(exc, legacy, where) from None

    def to_generic(self, message: Any, where: Where) -> Any:
        """The generic message for a 1.6 one; keeps whatever has no 2.0.1 place."""
        data = wire(message, self.legacy)
        generic = self.to_generic_dict(data, where)
        return msgspec.convert(generic, self.generic, dec_hook=dec_hook)

    def _invalid(self, exc: msgspec.ValidationError, legacy: dict, where: Where) -> NotExpressible:
        # msgspec names the 1.6 field ("... - at `$.idTag`"); the user wrote the generic one.
        text = str(exc)
        match = re.search(r" - at `\$\.?([^`]*)`$", text)
        legacy_path = match.group(1) if match else ""
        legacy_path = re.sub(r"\[(\d+)\]", r".\1", legacy_path)
        field = self.generic_path(legacy_path.split(".")) or legacy_path or "message"
        reason = text[: match.start()] if match else text
        value = _item(legacy, legacy_path) if legacy_path else legacy
        return where.fail(field, None if value is _MISSING else value, f"1.6 wants: {reason}")

    def generic_path(self, legacy: list[str]) -> str | None:
        """The generic path of a 1.6 one (parts; list indexes as digits), through the tables
        of nested objects; None where no row reads it."""
        for row in self.rows:
            if type(row) is Field and legacy[: row.legacy.count(".") + 1] == row.legacy.split("."):
                return row.generic + _deeper_path(row.conv, legacy[row.legacy.count(".") + 1 :])
        return None

    # -- dicts -----------------------------------------------------------------------------

    def to_legacy_dict(self, data: Mapping[str, Any], where: Where) -> dict[str, Any]:
        out: dict[str, Any] = {}
        consumed: list[str] = []
        for row in self.rows:
            if type(row) is Field:
                value = _get(data, row.generic)
                consumed.append(row.generic)
                if value is not _MISSING:
                    _put(out, row.legacy, row.conv.to_legacy(value, where, row.generic))
            elif type(row) is NotCarried:
                consumed.append(row.generic)
            elif type(row) is Fixed:
                _put(out, row.legacy, row.value)
        custom = data.get("customData")
        if custom is not None:
            if custom.get("vendorId") != LEGACY_VENDOR:
                raise where.fail("customData", dict(custom), "OCPP 1.6 messages have no customData")
            for key, value in custom.items():
                if key != "vendorId":  # 1.6 fields kept from the peer, or set by the user
                    _put(out, kept_field(key), value)
        for path, value in _leaves(data):
            if not any(path == c or path.startswith(c + ".") for c in consumed):
                raise where.fail(path, value, "OCPP 1.6 has no such field here")
        return out

    def to_generic_dict(self, data: Mapping[str, Any], where: Where) -> dict[str, Any]:
        out: dict[str, Any] = {}
        consumed: set[str] = set()
        kept: dict[str, Any] = {}
        for row in self.rows:
            if type(row) is Field:
                value = _get(data, row.legacy)
                if value is _MISSING:
                    continue
                consumed.add(row.legacy)
                converted = row.conv.to_generic(
                    value, where, row.generic, lambda v, p=row.legacy: kept.__setitem__(p, v)
                )
                _put(out, row.generic, converted)
            elif type(row) is Fixed and _get(data, row.legacy) == row.value:
                consumed.add(row.legacy)
        for row in self.rows:
            if type(row) is NotCarried and row.fill is not _MISSING:
                parent = row.generic.rpartition(".")[0]
                # A nested field is filled only where its object came from 1.6.
                if parent and _get(out, parent) is _MISSING:
                    continue
                if _get(out, row.generic) is _MISSING:
                    _put(out, row.generic, row.fill() if callable(row.fill) else row.fill)
        for path, value in _leaves(data):
            if path not in consumed and not any(path.startswith(c + ".") for c in consumed):
                kept[path] = value
        if kept:
            out["customData"] = {
                "vendorId": LEGACY_VENDOR,
                **{keep_as(path): value for path, value in kept.items()},
            }
        return out

    # -- for the docs ------------------------------------------------------------------------

    def generic_fields(self) -> list[str]:
        return [f.encode_name for f in msgspec.structs.fields(self.generic)]

    def legacy_fields(self) -> list[str]:
        return [f.encode_name for f in msgspec.structs.fields(self.legacy)]


def _deeper_path(conv: Conv, rest: list[str]) -> str:
    if rest and isinstance(conv, Each) and rest[0].isdigit():
        return f"[{rest[0]}]" + _deeper_path(conv.item, rest[1:])
    if rest and isinstance(conv, Nested):
        inner = conv.table.generic_path(rest)
        return "" if inner is None else f".{inner}"
    return ""  # the field itself (a conversion written as code says no more)


def _item(data: Any, path: str) -> Any:
    """The value at a 1.6 path whose list indexes are digits (``a.0.b``)."""
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, Mapping) and part in data:
            data = data[part]
        else:
            return _MISSING
    return data


def wire(message: Any, kind: type) -> dict[str, Any]:
    """The wire-form dict (camelCase names) of a `kind` Struct or of a mapping that is one."""
    if isinstance(message, Mapping):
        message = msgspec.convert(message, kind, dec_hook=dec_hook)
    elif not isinstance(message, kind):
        raise TypeError(f"expected a {kind.__name__} or its wire-form mapping, not {message!r}")
    return msgspec.to_builtins(message, builtin_types=(datetime.datetime,))  # type: ignore[no-any-return]


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def _leaves(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if not prefix and key == "customData":
            continue  # this level's: handled by the caller
        path = prefix + key
        if isinstance(value, Mapping) and value and key != "customData":
            yield from _leaves(value, path + ".")
        else:
            yield path, value


def _drop_path(data: dict[str, Any], path: str) -> None:
    """Remove the value at `path`, and the objects above it that it leaves empty."""
    *parents, last = path.split(".")
    chain = [data]
    for part in parents:
        chain.append(chain[-1][part])
    del chain[-1][last]
    for depth in range(len(parents), 0, -1):
        if chain[depth]:
            break
        del chain[depth - 1][parents[depth - 1]]


class Guarded(StructMap):
    """A `StructMap` with the checks its rows cannot say.

    Args:
        refuse: generic path -> why 1.6 cannot carry it: any value there raises with that
            reason (the engine's leftover error says only "no such field").
        only: generic path -> (the values 1.6 implies, why): any other value raises. The path
            needs a `NotCarried` row too (the implied value is not sent).
        zero_is_absent: generic paths whose 1.6 value 0 means what 2.0.1 says by leaving the
            field out (1.6 connectorId 0 is the whole Charge Point): read back without them.
            On the way to 1.6, a `Fixed` row before the `Field` sends the 0.
    """

    def __init__(
        self,
        generic: type,
        legacy: type,
        *rows: Row,
        refuse: Mapping[str, str] | None = None,
        only: Mapping[str, tuple[Iterable[Any], str]] | None = None,
        zero_is_absent: Iterable[str] = (),
    ) -> None:
        super().__init__(generic, legacy, *rows)
        self.refuse = dict(refuse or {})
        self.only = {path: (frozenset(values), why) for path, (values, why) in (only or {}).items()}
        self.zero_is_absent = tuple(zero_is_absent)

    def to_legacy_dict(self, data: Mapping[str, Any], where: Where) -> dict[str, Any]:
        for path, why in self.refuse.items():
            value = _get(data, path)
            if value is not _MISSING:
                raise where.fail(path, value, why)
        for path, (values, why) in self.only.items():
            value = _get(data, path)
            if value is not _MISSING and value not in values:
                raise where.fail(path, value, why)
        return super().to_legacy_dict(data, where)

    def to_generic_dict(self, data: Mapping[str, Any], where: Where) -> dict[str, Any]:
        out = super().to_generic_dict(data, where)
        for path in self.zero_is_absent:
            if _get(out, path) == 0:
                _drop_path(out, path)
        return out


class ActionAdapter(Protocol):
    """How one generic (2.0.1) action goes over a 1.6 link, both ways.

    `ActionMap` is the table-made one; an action that a table cannot say (one generic call
    that is several 1.6 calls, or a state the connection keeps) implements this itself.

    Attributes:
        generic: the 2.0.1 action name.
        legacy: the 1.6 action names it may be sent as or read from.
    """

    generic: str
    legacy: tuple[str, ...]

    def request_to_legacy(self, request: Any, where: Where) -> list[Any]:
        """The 1.6 CALLs that carry a generic request, in order: each an (action, request)
        pair, or a callable that, given the answers so far, returns one or None (nothing to
        send) when its turn comes (a MeterValues needs the id a StartTransaction answer gave)."""
        ...

    def response_to_generic(self, responses: list[Any], request: Any, where: Where) -> Any:
        """The generic response from the 1.6 answers to those CALLs (and the request)."""
        ...

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        """The generic request for a 1.6 CALL received."""
        ...

    def response_to_legacy(self, response: Any, action: str, request: Any, where: Where) -> Any:
        """The 1.6 answer for a generic response to that CALL (`request` is the 1.6 one)."""
        ...


@dataclasses.dataclass(frozen=True)
class ActionMap:
    """One action in both versions, one CALL for one: the request's and response's tables.

    Attributes:
        generic: the 2.0.1 action name (the generic API's).
        legacy_action: the 1.6 action name.
        request, response: the tables.
        note: what the docs table says of the action as a whole.
    """

    generic: str
    legacy_action: str
    request: StructMap
    response: StructMap
    note: str = ""

    @property
    def legacy(self) -> tuple[str, ...]:
        return (self.legacy_action,)

    def request_to_legacy(self, request: Any, where: Where) -> list[tuple[str, Any]]:
        return [(self.legacy_action, self.request.to_legacy(request, where))]

    def response_to_generic(self, responses: list[Any], request: Any, where: Where) -> Any:
        (response,) = responses
        return self.response.to_generic(response, where)

    def request_to_generic(self, action: str, request: Any, where: Where) -> Any:
        return self.request.to_generic(request, where)

    def response_to_legacy(self, response: Any, action: str, request: Any, where: Where) -> Any:
        return self.response.to_legacy(response, where)


@dataclasses.dataclass(frozen=True)
class Loss:
    """A generic value an adapter written as code refuses on 1.6 (tables show theirs).

    The docs table lists it, and a test sends `example` to see the `NotExpressible`.

    Attributes:
        part: "request" or "response".
        field: the generic wire path the error names.
        why: the reason, as the error gives it.
        example: a generic message (wire form) that raises it, on a link in the state
            `setup` leaves (see the adapter).
    """

    part: str
    field: str
    why: str
    example: Mapping[str, Any]
