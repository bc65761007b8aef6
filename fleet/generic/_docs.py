"""fleet/generic/MAPPING.md, generated from the adapters' tables: ``python -m fleet.generic._docs``.

Nothing here is written twice: the field rows, what is not carried, what is kept in customData
and every error are read off the `StructMap` tables (and, for adapters written as code, their
``note``, ``not_carried`` and ``losses``). `errors` enumerates the errors the docs list; the
tests (tests/test_generic_mapping.py) send each one and expect its `NotExpressible`, so the
docs and the behaviour cannot drift apart.

The errors of a table are computed from the generic (2.0.1) Struct against its rows:

- a field that no row consumes (recursively, through `Nested` and `Each`);
- an enumeration value a `Values` conversion has no 1.6 value for (``generic_only`` says why);
- a `Guarded` table's ``refuse`` (any value) and ``only`` (any other value) checks;
- a value longer or larger than the 1.6 field allows, where the value passes as it is;
- the errors of the conversions written as code (`FUNC_ERRORS`, the meter values').
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec.inspect as mi

from fleet.generic._charging import CHARGING_SCHEDULE, CHARGING_SCHEDULES, Guarded
from fleet.generic._common import ID_TOKEN_TYPE, TRANSACTION_ID
from fleet.generic._engine import (
    LEGACY_VENDOR,
    SAME,
    ActionAdapter,
    ActionMap,
    Conv,
    Each,
    Field,
    Fixed,
    Func,
    Nested,
    NotCarried,
    StructMap,
    Values,
)
from fleet.generic._link import adapters
from fleet.generic._meter import _METER_VALUE, _PLAIN, METER_VALUE, SAMPLED_VALUE, UNITS
from fleet.generic._station_actions import DATA
from fleet.generic._variables import CONFIGURATION_KEYS, LEGACY_COMPONENT, LEGACY_ONLY_KEYS
from fleet.ocpp import Direction, OcppVersion, actions_of

__all__ = [
    "ANY",
    "MAPPING",
    "REGENERATE",
    "Error",
    "errors",
    "mapping_markdown",
    "table_maps",
    "type_at",
    "unique_adapters",
]

MAPPING = Path(__file__).with_name("MAPPING.md")
REGENERATE = ".venv/bin/python -m fleet.generic._docs"


class _Any:
    def __repr__(self) -> str:
        return "ANY"


#: An `Error.value` that stands for any value of the field's type.
ANY: Any = _Any()

_NO_FIELD = "OCPP 1.6 has no such field here"


@dataclasses.dataclass(frozen=True)
class Error:
    """A generic value an adapter refuses on a 1.6 link (a `NotExpressible`).

    Attributes:
        part: "request" or "response".
        field: the generic wire path the error names (list items as ``[0]``).
        why: the error's reason (its start, for adapters written as code).
        value: the value that raises; `ANY` for any value of the field's type.
        but: with `ANY`: the values that do not raise (a `Guarded` table's ``only``).
        also: other values the message must hold for this one to raise (generic path -> value).
        absent: the generic path left out to raise it (a field 1.6 requires); the error names
            the object that lacks it.
        legacy: the 1.6 action whose table raises ("" for an adapter written as code).
        example: for an adapter written as code, the whole generic message (its `Loss`).
    """

    part: str
    field: str
    why: str
    value: Any = ANY
    but: frozenset[Any] = frozenset()
    also: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    absent: str = ""
    legacy: str = ""
    example: Mapping[str, Any] | None = None

    def shown_value(self) -> str:
        if self.example is not None:
            return "see the test's example"
        if self.absent:
            return f"without `{self.absent}`"
        if self.value is ANY:
            if self.but:
                return "anything but " + ", ".join(f"`{v}`" for v in sorted(self.but))
            return "any"
        return f"`{_short(self.value)}`"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else f"{text[:18]}… ({len(text)} characters)"


# -- conversions written as code: their errors and tables ----------------------------------

_TWO_SCHEDULES = [
    {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]},
    {"id": 2, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}]},
]

#: A `Func` -> its errors: (path below the field, value, why); and the table it applies to
#: the value below the field, if any.
FUNC_ERRORS: Mapping[Func, tuple[tuple[tuple[str, Any, str], ...], tuple[str, StructMap] | None]]
FUNC_ERRORS = {
    TRANSACTION_ID: (
        (
            (
                "",
                "tx-unknown",
                "1.6 transaction ids are integers the CSMS gives in its StartTransaction answer",
            ),
        ),
        None,
    ),
    CHARGING_SCHEDULES: (
        (("", _TWO_SCHEDULES, "a 1.6 ChargingProfile has one chargingSchedule, not 2"),),
        ("[0]", CHARGING_SCHEDULE),
    ),
    DATA: ((("", {"soc": 80}, "1.6 DataTransfer data is a string"),), None),
}

_SIGNED = {
    "signedMeterData": "c2lnbmVk",
    "signingMethod": "",
    "encodingMethod": "",
    "publicKey": "",
}

#: The sampled value's fields the table `_PLAIN` leaves to code, and how they go.
_SAMPLE_ROWS = (
    (
        "value",
        "value",
        "number ↔ decimal text without exponent; a 1.6 spelling that reads as the same number "
        "(`12000.0`, `1e3`) or no number at all is kept in the sample's customData",
    ),
    (
        "unitOfMeasure.unit",
        "unit",
        "; ".join(f"{g} ↔ {v}" if g != v else g for g, v in UNITS.items())
        + "; 1.6 Celcius → Celsius (kept); other units: error",
    ),
    (
        "unitOfMeasure.multiplier",
        "value",
        "scales the 1.6 value exactly (decimal), the unit stays",
    ),
    (
        "signedMeterValue.signedMeterData",
        "value (format SignedData)",
        "only with value 0 and empty signingMethod, encodingMethod and publicKey (1.6 names "
        "none of them; read back as empty strings)",
    ),
)

_SAMPLE_ERRORS = (
    ("unitOfMeasure.unit", "VAh", "1.6 UnitOfMeasure has " + ", ".join(UNITS.values()), {}),
    *(
        (
            f"signedMeterValue.{name}",
            "x",
            "a 1.6 SignedData sample holds the signed data alone",
            {"signedMeterValue": _SIGNED},
        )
        for name in ("signingMethod", "encodingMethod", "publicKey")
    ),
    (
        "unitOfMeasure.multiplier",
        5000,
        "1.6 has no multiplier: the value scaled by it is too long a 1.6 decimal",
        {},
    ),
    (
        "value",
        1.0,
        "a 1.6 SignedData sample holds signed data instead of a reading",
        {"signedMeterValue": _SIGNED},
    ),
)

_METER_VALUE_KEPT = (
    "1.6 samples of a measurand 2.0.1 lacks (Temperature, RPM): the whole 1.6 list, with "
    "null where a sample is carried, as the MeterValue's customData `sampledValue`. (A 1.6 "
    "MeterValue of such samples alone cannot be read: 2.0.1 needs a sampled value; that raises "
    "NotExpressible.)"
)


def _nested_tables(conv: Conv) -> Iterator[StructMap]:
    """The tables a conversion applies (for the docs' table sections)."""
    if isinstance(conv, Nested):
        yield conv.table
    elif isinstance(conv, Each):
        yield from _nested_tables(conv.item)
    elif conv is METER_VALUE:
        yield _METER_VALUE
    elif conv is SAMPLED_VALUE:
        yield _PLAIN
    elif isinstance(conv, Func) and conv in FUNC_ERRORS and FUNC_ERRORS[conv][1] is not None:
        yield FUNC_ERRORS[conv][1][1]  # type: ignore[index]


# -- types -----------------------------------------------------------------------------------


def _bare(info: mi.Type) -> mi.Type:
    """The type without UNSET (an optional field's)."""
    if isinstance(info, mi.UnionType):
        kinds = [t for t in info.types if not isinstance(t, mi.UnsetType | mi.NoneType)]
        if len(kinds) == 1:
            return kinds[0]
    return info


def _struct_fields(info: mi.Type) -> dict[str, mi.Field]:
    info = _bare(info)
    assert isinstance(info, mi.StructType), info
    return {f.encode_name: f for f in info.fields}


def type_at(kind: type, path: str) -> mi.Type:
    """The type of a generic wire path (``a.b[0].c``) of a Struct type."""
    info: mi.Type = mi.type_info(kind)
    for part in path.replace("[0]", ".[0]").split("."):
        if part == "[0]":
            info = _bare(info)
            assert isinstance(info, mi.ListType), info
            info = info.item_type
        else:
            info = _struct_fields(info)[part].type
    return _bare(info)


# -- errors ----------------------------------------------------------------------------------


def unique_adapters() -> list[ActionAdapter]:
    """Every adapter once (DataTransfer goes both ways: `adapters` lists it twice), by the
    2.0.1 action's name."""
    return sorted({a.generic: a for a in adapters()}.values(), key=lambda a: a.generic)


def table_maps(adapter: ActionAdapter) -> list[ActionMap]:
    """The `ActionMap` tables of an adapter: its own, or those it chooses from ([] for an
    adapter written as code)."""
    if isinstance(adapter, ActionMap):
        return [adapter]
    maps = getattr(adapter, "maps", None)
    return list(maps.values()) if isinstance(maps, Mapping) else []


def errors(adapter: ActionAdapter) -> list[Error]:
    """Every error the docs list for an adapter, in the docs' order."""
    found: list[Error] = []
    for each in table_maps(adapter):
        for part, table in (("request", each.request), ("response", each.response)):
            for error in table_errors(table):
                found.append(dataclasses.replace(error, part=part, legacy=each.legacy_action))
    for loss in getattr(adapter, "losses", ()):
        found.append(Error(loss.part, loss.field, loss.why, example=loss.example))
    return found


def table_errors(table: StructMap, prefix: str = "") -> Iterator[Error]:
    """The errors of one table (and the tables it applies), paths from `prefix` on."""
    yield from _struct_errors(table, mi.type_info(table.generic), prefix, "")


def _checks(table: StructMap) -> tuple[Mapping[str, str], Mapping[str, Any]]:
    if isinstance(table, Guarded):
        return table.refuse, table.only
    return {}, {}


def _struct_errors(table: StructMap, info: mi.Type, prefix: str, rel: str) -> Iterator[Error]:
    rows = {row.generic: row for row in table.rows if isinstance(row, Field | NotCarried)}
    refuse, only = _checks(table)
    named = [*rows, *refuse, *only]
    for name, field in _struct_fields(info).items():
        path = rel + name
        if name == "customData":
            continue  # the rule for every object: see the introduction
        if path in refuse:
            yield Error("", prefix + path, refuse[path])
            continue
        if path in only:
            allowed, why = only[path]
            yield Error("", prefix + path, why, but=frozenset(allowed))
            continue
        row = rows.get(path)
        if isinstance(row, Field):
            legacy = _legacy_type(table, row.legacy)
            if not field.required and _required(table, row.legacy):
                parent = (prefix + rel).rstrip(".") or "message"
                why = f"1.6 wants: Object missing required field `{row.legacy.split('.')[-1]}`"
                yield Error("", parent, why, absent=prefix + path)
            yield from _conv_errors(row.conv, _bare(field.type), legacy, prefix + path)
        elif isinstance(row, NotCarried):
            continue
        elif any(n.startswith(path + ".") for n in named):
            yield from _struct_errors(table, field.type, prefix, path + ".")
        else:
            yield Error("", prefix + path, _NO_FIELD)


def _required(table: StructMap, path: str) -> bool:
    """Whether a 1.6 field is required (and no `Fixed` row sends it)."""
    if any(isinstance(row, Fixed) and row.legacy == path for row in table.rows):
        return False
    info: mi.Type = mi.type_info(table.legacy)
    for part in path.split("."):
        found = _struct_fields(info)[part]
        if not found.required:
            return False
        info = found.type
    return True


def _legacy_type(table: StructMap, path: str) -> mi.Type | None:
    try:
        return type_at(table.legacy, path)
    except (KeyError, AssertionError):
        return None


def _conv_errors(conv: Conv, info: mi.Type, legacy: mi.Type | None, path: str) -> Iterator[Error]:
    if conv is SAME:
        yield from _limit_errors(info, legacy, path)
    elif isinstance(conv, Values):
        if isinstance(info, mi.EnumType):
            for member in info.cls:
                if member.value not in conv.pairs:
                    why = conv.generic_only.get(member.value, "OCPP 1.6 has no such value")
                    yield Error("", path, why, value=member.value)
    elif isinstance(conv, Nested):
        yield from table_errors(conv.table, path + ".")
    elif isinstance(conv, Each):
        assert isinstance(info, mi.ListType), info
        item = None
        if isinstance(legacy, mi.ListType):
            item = _bare(legacy.item_type)
        yield from _conv_errors(conv.item, _bare(info.item_type), item, path + "[0]")
    elif isinstance(conv, Func):
        func_errors, below = FUNC_ERRORS.get(conv, ((), None))
        for suffix, value, why in func_errors:
            yield Error("", path + suffix, why, value=value)
        if below is not None:
            yield from table_errors(below[1], path + below[0] + ".")
    elif conv is METER_VALUE:
        yield from table_errors(_METER_VALUE, path + ".")
    elif conv is SAMPLED_VALUE:
        for error in table_errors(_PLAIN, path + "."):
            if error.field[len(path) + 1 :].split(".")[0] not in _CODED:
                yield error
        for suffix, value, why, also in _SAMPLE_ERRORS:
            yield Error(
                "",
                f"{path}.{suffix}",
                why,
                value=value,
                also={f"{path}.{k}": v for k, v in also.items()},
            )
    else:
        raise TypeError(f"no docs for the conversion {conv!r}: add it to fleet/generic/_docs.py")


_CODED = {"value", "unitOfMeasure", "signedMeterValue"}


def _limit_errors(info: mi.Type, legacy: mi.Type | None, path: str) -> Iterator[Error]:
    """A string that passes as it is but is longer than the 1.6 field allows."""
    if not isinstance(info, mi.StrType) or not isinstance(legacy, mi.StrType):
        return
    if legacy.max_length is not None and (info.max_length or 10**9) > legacy.max_length:
        yield Error(
            "",
            path,
            f"1.6 wants: Expected `str` of length <= {legacy.max_length}",
            value="9" * (legacy.max_length + 1),
        )


# -- Markdown --------------------------------------------------------------------------------


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def _anchor(table: StructMap) -> str:
    return "table-" + table.generic.__name__.lower()


def _describe(conv: Conv) -> str:
    tables = list(_nested_tables(conv))
    text = conv.describe()
    if isinstance(conv, Nested | Each) and tables and text.startswith("see "):
        text = ""
    links = ", ".join(f"[{t.generic.__name__}](#{_anchor(t)})" for t in tables)
    if links:
        text = f"{text}; see {links}" if text else f"see {links}"
    return text


def _fill(row: NotCarried) -> str:
    fill = row.fill
    if callable(fill):
        return "a value the link gives"
    if fill is _MISSING_FILL:
        return "absent"
    return f"`{fill}`"


_MISSING_FILL = NotCarried("x", "").fill


def _kept(table: StructMap) -> list[str]:
    """The 1.6 fields no row reads (kept in customData when the peer sends them)."""
    read = [row.legacy for row in table.rows if isinstance(row, Field | Fixed)]
    out: list[str] = []

    def walk(info: mi.Type, rel: str) -> None:
        for name, field in _struct_fields(info).items():
            path = rel + name
            if path in read:
                continue
            if any(r.startswith(path + ".") for r in read):
                walk(field.type, path + ".")
            else:
                out.append(path)

    walk(mi.type_info(table.legacy), "")
    return out


def _rows(table: StructMap) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for row in table.rows:
        if isinstance(row, Field):
            how = _describe(row.conv)
            if row.note:
                how = f"{how}; {row.note}" if how else row.note
            out.append((f"`{row.generic}`", f"`{row.legacy}`", how or "as it is"))
        elif isinstance(row, Fixed):
            out.append(("—", f"`{row.legacy}`", f"sent as `{row.value}`: {row.why}"))
    if table is _PLAIN:
        out += [(f"`{g}`", f"`{v}`", how) for g, v, how in _SAMPLE_ROWS]
    return out


def _table_section(table: StructMap, level: str) -> list[str]:
    out = _table(("2.0.1 field", "1.6 field", "how the value maps"), _rows(table))
    if table.generic.__name__ == "MeterValue":
        out += [f"Kept in customData: {_METER_VALUE_KEPT}.", ""]
    not_carried = [row for row in table.rows if isinstance(row, NotCarried)]
    if not_carried:
        out += [f"{level} Not carried", ""]
        out += _table(
            ("2.0.1 field", "why", "reads back as"),
            [(f"`{row.generic}`", row.why, _fill(row)) for row in not_carried],
        )
    kept = [k for k in _kept(table) if not (table is _PLAIN and k in ("value", "unit", "format"))]
    if table is _PLAIN:
        kept.append("format (but SignedData)")
    if kept:
        out += [
            "Kept in customData (vendorId `ocpp1.6`) when the 1.6 peer sends them: "
            + ", ".join(f"`{k}`" for k in kept)
            + ".",
            "",
        ]
    return out


def _errors_section(found: list[Error], level: str) -> list[str]:
    if not found:
        return [f"{level} Errors", "", "None.", ""]
    rows = [(f"`{e.field}`", e.shown_value(), e.why) for e in found]
    return [f"{level} Errors", "", *_table(("2.0.1 field", "value", "why"), rows)]


_SENDERS = {
    Direction.CHARGE_POINT_TO_CSMS: "the charging station",
    Direction.CSMS_TO_CHARGE_POINT: "the CSMS",
    Direction.BOTH: "either side",
}


def _sender(action: str) -> str:
    return _SENDERS[actions_of(OcppVersion.V201)[action].direction]


def _action_section(adapter: ActionAdapter, shared: list[StructMap]) -> list[str]:
    note = getattr(adapter, "note", "")
    legacy = " / ".join(adapter.legacy)
    out = [
        f"## {adapter.generic}",
        "",
        f"1.6: **{legacy}**. Sent by {_sender(adapter.generic)}.",
        "",
    ]
    if note:
        out += [note + ("" if note.endswith(".") else "."), ""]
    found = errors(adapter)
    maps = table_maps(adapter)
    for each in maps:
        for part, table in (("Request", each.request), ("Response", each.response)):
            title = f"### {part}"
            if len(maps) > 1:
                title += f" as {each.legacy_action}"
            out += [title, ""]
            out += _table_section(table, "####")
            for row in table.rows:
                if isinstance(row, Field):
                    for nested in _nested_tables(row.conv):
                        _collect(nested, shared)
            mine = [e for e in found if e.legacy == each.legacy_action and e.part == part.lower()]
            out += _errors_section(mine, "####")
    not_carried = getattr(adapter, "not_carried", {})
    if not maps and not_carried:
        out += ["### Not carried", ""]
        out += _table(("2.0.1 field", "why"), [(f"`{k}`", v) for k, v in not_carried.items()])
    coded = [e for e in found if e.example is not None]
    if coded:
        title = "### Errors" if not maps else "### Errors of the choice"
        rows = [(e.part, f"`{e.field}`", e.why) for e in coded]
        out += [title, "", *_table(("part", "2.0.1 field", "why"), rows)]
    return out


def _collect(table: StructMap, shared: list[StructMap]) -> None:
    if table in shared:
        return
    shared.append(table)
    for row in table.rows:
        if isinstance(row, Field):
            for nested in _nested_tables(row.conv):
                _collect(nested, shared)


_INTRO = f"""\
# The generic API on OCPP 1.6: every mapping and every loss

<!-- Generated by `{REGENERATE}` from the tables in fleet/generic/: do not edit. -->

The generic API's model is OCPP 2.0.1: a generic message is a `fleet.ocpp.v201` Struct. Over
a 2.0.1 link it goes as it is; over a 1.6 link each action has an adapter that maps it to and
from OCPP 1.6 (`fleet.ocpp.v16`), mostly by the tables below (fleet/generic/_engine.py). Field
paths are wire names (camelCase), list items as `[0]`.

- **A value 1.6 cannot carry raises `NotExpressible`** before anything is sent, naming the
  action, request or response, the generic field path, the value and the version ("1.6"). The
  *Errors* of each section list them all; a test sends each one.
- **Nothing the peer said is lost.** A 1.6 value with no 2.0.1 place (a field, or an
  enumeration value that reads as a coarser 2.0.1 one, marked *kept*) is kept in the object's
  `customData` under vendorId `{LEGACY_VENDOR}`, and put back when the message goes to 1.6 again;
  a user may set 1.6 fields the same way. Any other `customData` is an error: 1.6 messages have
  none.
- **Not carried** fields are documented silent drops: metadata a 1.6 peer would not act on
  (a boot reason, a statusInfo). Read from 1.6 they are absent, or the value the table says.
- **Connector = EVSE.** A 1.6 connectorId N is 2.0.1 EVSE N with one connector (connectorId
  1); 1.6 connectorId 0 (the whole Charge Point) is a 2.0.1 message without an EVSE. Another
  connectorId is an error.
- **Id tags.** A 2.0.1 IdToken is a 1.6 idTag (at most 20 characters); its type is not
  carried, and a 1.6 idTag reads as type `{ID_TOKEN_TYPE}` (the 2.0.1 type with no format of its
  own). additionalInfo is an error.
- **Transaction ids.** 2.0.1 names a transaction with the station's own string; 1.6 with the
  integer the CSMS gives in its StartTransaction answer. A 1.6 link remembers both (its
  `LinkState`, per connection unless `connect(generic_state=...)` carries it on): the
  station's id goes out as the CSMS's integer and comes back as the station's id. A station's
  Updated or Ended event must name a transaction the link started; elsewhere an integer the
  link does not know reads as its decimal string, and a decimal string goes as that integer
  (a CSMS's RequestStopTransaction).
- **Energy.** meterStart and meterStop are the Energy.Active.Import.Register reading (no
  measurand means that register) in whole Wh: kWh and multipliers are converted exactly,
  then rounded half to even.
- **Statuses.** 2.0.1 splits a connector's state in StatusNotification's connectorStatus and
  TransactionEvent's chargingState. 1.6 connectorStatus Occupied is sent as Preparing,
  Charging, SuspendedEV, SuspendedEVSE or Finishing, from the connector's transaction and
  its chargingState (EVConnected and Idle are SuspendedEV); read from 1.6, those statuses are
  Occupied, and the 1.6 status is kept.

## Where our names differ from the seed toolkit

The Kotlin OCPP toolkit this project answers to (IZIVIA's ocpp-toolkit) has three APIs: 1.6
(`AuthorizeReq16`, `StartTransactionReq16`, ...), 2.0 (`AuthorizeReq`, `TransactionEventReq`,
...) and a generic one with Req/Resp types of its own, shaped after 2.0.1. Ours has no such
third set: the generic messages *are* the 2.0.1 Structs (`v201.AuthorizeRequest`,
`v201.TransactionEventRequest`, ...), so a 2.0.1 link needs no mapping and users learn one set
of names. Our types end in `Request` / `Response` (the specs' names) where the seed's end in
`Req` / `Resp`; Python fields are snake_case (`id_token`), their wire names the specs'
camelCase (`idToken`), which this document uses.
"""


def mapping_markdown() -> str:
    """The text of fleet/generic/MAPPING.md."""
    out = [_INTRO]
    every = unique_adapters()
    rows = [
        (f"[{a.generic}](#{a.generic.lower()})", " / ".join(a.legacy), _sender(a.generic))
        for a in every
    ]
    out += ["## Actions", "", *_table(("2.0.1 action", "1.6 action(s)", "sent by"), rows)]
    shared: list[StructMap] = []
    for adapter in every:
        out += _action_section(adapter, shared)
    out += [
        "## Tables the actions share",
        "",
        "Their errors are listed, with the whole path, under each action that uses them.",
        "",
    ]
    for table in shared:
        legacy = table.legacy.__name__
        out += [
            f'<a id="{_anchor(table)}"></a>',
            "",
            f"### Table {table.generic.__name__}",
            "",
            f"2.0.1 `{table.generic.__name__}` ↔ 1.6 `{legacy}`.",
            "",
            *_table_section(table, "####"),
        ]
    out += _missing_section()
    out += _configuration_section()
    return "\n".join(out).rstrip("\n") + "\n"


def _missing_section() -> list[str]:
    carried = {a.generic for a in adapters()}
    missing = sorted(set(actions_of(OcppVersion.V201)) - carried)
    rows = [(f"`{name}`", _sender(name)) for name in missing]
    return [
        "## 2.0.1 actions with no 1.6 counterpart",
        "",
        "Sending one on a 1.6 link raises `NotExpressible` (the field it names is the action).",
        "",
        *_table(("2.0.1 action", "sent by"), rows),
    ]


def _configuration_section() -> list[str]:
    rows = []
    for entry in CONFIGURATION_KEYS:
        variable = entry.variable
        if entry.instance is not None:
            variable += f" (instance {entry.instance})"
        rows.append(
            (
                f"`{entry.key}`",
                f"`{entry.component}`",
                f"`{variable}`",
                entry.mutability,
                entry.value.doc,
                entry.note,
            )
        )
    legacy_only = [(f"`{key}`", why) for key, why in LEGACY_ONLY_KEYS]
    return [
        "## Configuration keys and variables",
        "",
        "SetVariables and GetVariables carry these 1.6 keys as these 2.0.1 variables (the "
        "Actual attribute, no EVSE). Any other 1.6 key (vendor keys, and the keys of the second "
        f"table) is the variable of that name of component `{LEGACY_COMPONENT}`; a variable of "
        "another component the table does not name is an error.",
        "",
        *_table(
            ("1.6 key", "component", "variable", "mutability", "value", "note"),
            rows,
        ),
        "### 1.6 keys with no 2.0.1 variable",
        "",
        *_table(("1.6 key", "why"), legacy_only),
    ]


def main() -> int:
    MAPPING.write_text(mapping_markdown(), encoding="utf-8")
    print(f"wrote {MAPPING}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
