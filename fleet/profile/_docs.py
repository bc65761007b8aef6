"""The profile reference (Markdown) and JSON Schema, both generated from the model.

Everything here is read off `Profile` and its section Structs: each field's TOML name, type,
`Meta` bounds, default, unit and meaning (``about(...)`` in its annotation), the tables' own
docstrings, the `Secret` / `SecretInUrl` markers, and the distribution kinds. Nothing about a
field is written twice, so `profiles/REFERENCE.md` (``fleet profile docs``) and the schema
(``fleet profile schema``) follow the model; a test fails when the committed reference is stale.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
from msgspec import Meta, Struct

from fleet.profile._model import (
    _PARAMETERS,
    _UNITLESS,
    Distribution,
    Duration,
    DurationDistribution,
    NumberDistribution,
    Profile,
)
from fleet.profile._secrets import REDACTED, Secret, SecretInUrl

__all__ = [
    "DURATION_PATTERN",
    "REGENERATE",
    "format_duration",
    "json_schema",
    "reference",
    "tables",
]

REGENERATE = ".venv/bin/fleet profile docs > profiles/REFERENCE.md"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# What a duration string looks like, for the JSON Schema: the units largest first, each at
# most once, at least one ("1h", "1m30s", "1.5s", "250ms"). It accepts what `parse_duration`
# does (a test compares them) but spells the "at least one" as alternatives, with no
# lookahead, so that any regex dialect an editor uses reads it.
_UNITS = ("h", "m", "s", "ms")
_AMOUNT = r"\d+(\.\d+)?"
DURATION_PATTERN = (
    "^("
    + "|".join(
        "".join(
            f"{_AMOUNT}{unit}" if index == first else f"({_AMOUNT}{unit})?"
            for index, unit in enumerate(_UNITS)
            if index >= first
        )
        for first in range(len(_UNITS))
    )
    + ")$"
)
# Parameters that must be > 0 (a zero would divide or take a log); the rest are >= 0.
_POSITIVE = {("exponential", "mean"), ("lognormal", "median")}


# --- the model, read ------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One key of a TOML table, as the model declares it."""

    name: str
    base: Any  # the type without Annotated and without `| None` (such a key may be left out)
    metas: tuple[Meta, ...]
    secret: type | None  # Secret, SecretInUrl or None
    default: Any  # msgspec.NODEFAULT when the key is required

    @property
    def description(self) -> str:
        return " ".join(meta.description for meta in self.metas if meta.description)

    @property
    def unit(self) -> str:
        if self.base in (Duration, DurationDistribution):
            return "s"
        units = [meta.extra["unit"] for meta in self.metas if meta.extra and "unit" in meta.extra]
        return units[0] if units else ""


@dataclass(frozen=True)
class Table:
    """A TOML table of the profile: ``[session]``, or ``[[embedded.faults]]`` for an array."""

    path: tuple[str, ...]  # () for the top level
    struct: type[Struct]
    array: bool
    field: Field | None  # where the parent holds it; None for the top level

    @property
    def heading(self) -> str:
        if not self.path:
            return "Top level"
        dotted = ".".join(self.path)
        return f"[[{dotted}]]" if self.array else f"[{dotted}]"

    def key(self, name: str) -> str:
        return f"{self.heading} {name}" if self.path else name


def fields(struct: type[Struct]) -> list[Field]:
    """The fields of `struct` with their annotations taken apart."""
    found = []
    for field in msgspec.structs.fields(struct):
        base, metas, secret = _unwrap(field.type)
        if get_origin(base) in (Union, UnionType) and type(None) in get_args(base):
            (member,) = (member for member in get_args(base) if member is not type(None))
            base, more, more_secret = _unwrap(member)
            metas, secret = metas + more, secret or more_secret
        default = field.default
        if field.default_factory is not msgspec.NODEFAULT:
            default = field.default_factory()
        found.append(Field(field.encode_name, base, metas, secret, default))
    return found


def _unwrap(annotation: Any) -> tuple[Any, tuple[Meta, ...], type | None]:
    if get_origin(annotation) is not Annotated:
        return annotation, (), None
    base, *extras = get_args(annotation)
    metas = tuple(extra for extra in extras if isinstance(extra, Meta))
    secret = next((extra for extra in extras if extra in (Secret, SecretInUrl)), None)
    return base, metas, secret


def _struct_in(field: Field) -> tuple[type[Struct], bool] | None:
    """The Struct a field holds, and whether as an array of tables."""
    if _is_struct(field.base):
        return field.base, False
    if get_origin(field.base) in (tuple, list) and _is_struct(get_args(field.base)[0]):
        return get_args(field.base)[0], True
    return None


def _is_struct(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Struct)


def tables() -> Iterator[Table]:
    """Every table of a profile, the top level first, each followed by the tables in it."""

    def walk(table: Table) -> Iterator[Table]:
        yield table
        for field in fields(table.struct):
            held = _struct_in(field)
            if held is not None:
                struct, array = held
                yield from walk(Table((*table.path, field.name), struct, array, field))

    yield from walk(Table((), Profile, False, None))


def _docstring(struct: type[Struct]) -> list[str]:
    """A table's docstring as Markdown paragraphs, without its ``[name]``: lead."""
    text = inspect.cleandoc(struct.__doc__ or "").replace("``", "`")
    text = re.sub(r"^`\[[\w.]+\]`: ", "", text)
    paragraphs = [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
    return [paragraph[:1].upper() + paragraph[1:] for paragraph in paragraphs]


# --- values as a profile writes them --------------------------------------------------------


def format_duration(seconds: float) -> str | float:
    """`seconds` as a profile would write it: ``"1m30s"``, ``"250ms"``, ``"1.5s"``, or 0.

    Whole milliseconds become a duration string (which `parse_duration` reads back to the
    same value); anything finer stays a number of seconds.
    """
    millis = round(seconds * 1000)
    if seconds == 0 or not math.isclose(millis, seconds * 1000, abs_tol=1e-6):
        return 0 if seconds == 0 else seconds
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    if rest % 1000 == 0 and rest:
        text += f"{rest // 1000}s"
    elif rest < 1000 and rest:
        text += f"{rest}ms"
    elif rest:
        text += f"{rest / 1000:g}s"
    return text


def _as_written(value: Any, kind: Any) -> Any:
    """A default as TOML data (what a profile would say), None when it says nothing."""
    if value is None or value is msgspec.NODEFAULT:
        return None
    if kind is Duration:
        return format_duration(value)
    if kind in (DurationDistribution, NumberDistribution):
        return _distribution_as_written(value, in_seconds=kind is DurationDistribution)
    if _is_struct(kind):
        return _table_as_written(value)
    if get_origin(kind) is dict:
        return {key: _as_written(item, get_args(kind)[1]) for key, item in value.items()}
    if get_origin(kind) in (tuple, list):
        return [_as_written(item, get_args(kind)[0]) for item in value]
    return value


def _distribution_as_written(value: Distribution, *, in_seconds: bool) -> Any:
    def number(parameter: str, amount: float) -> Any:
        if in_seconds and (value.kind, parameter) not in _UNITLESS:
            return format_duration(amount)
        return amount

    names = _PARAMETERS[value.kind]
    if value.kind == "constant":
        return number(names[0], value.a)
    amounts = dict(zip(names, (value.a, value.b), strict=False))
    return {"distribution": value.kind} | {name: number(name, a) for name, a in amounts.items()}


def _table_as_written(value: Struct) -> dict[str, Any]:
    """The keys of a table's default that differ from its fields' own defaults."""
    written = {}
    for field in fields(type(value)):
        given = getattr(value, field.name)
        if given != field.default and given is not None:
            written[field.name] = _as_written(given, field.base)
    return written


def _toml(value: Any) -> str:
    """TOML data as inline TOML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(key)} = {_toml(item)}" for key, item in value.items())
        return f"{{ {items} }}" if items else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml(key)


# --- the reference --------------------------------------------------------------------------


def _anchor(heading: str) -> str:
    # GitHub's: lower case, punctuation but '-' and '_' dropped, spaces to '-'.
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def _link(table: str) -> str:
    return f"[`{table}`](#{_anchor(table)})"


def _bound(metas: tuple[Meta, ...], name: str) -> Any:
    values = [getattr(meta, name) for meta in metas if getattr(meta, name) is not None]
    return values[0] if values else None


def _range(metas: tuple[Meta, ...]) -> str:
    low, high, above = (_bound(metas, name) for name in ("ge", "le", "gt"))
    if low is not None and high is not None:
        return f" {low:,}..{high:,}" if isinstance(low, int) else f" {low:g}..{high:g}"
    if low is not None:
        return f" >= {low:g}"
    if above is not None:
        return f" > {above:g}"
    return ""


def _kind_words(kind: Any, metas: tuple[Meta, ...], held: dict[type, str]) -> str:
    """A type as a profile writes it; `held` links the tables to their sections."""
    kind, more, _ = _unwrap(kind)  # an item's or a value's own Annotated
    metas += more
    if kind is Duration:
        return "[duration](#durations)"
    if kind is DurationDistribution:
        return "duration or [distribution](#distributions)"
    if kind is NumberDistribution:
        return "number or [distribution](#distributions)"
    if kind is bool:
        return "`true` or `false`"
    if kind is int:
        return "integer" + _range(metas)
    if kind is float:
        if _bound(metas, "ge") == 0 and _bound(metas, "le") == 1:
            return "[share](#shares) 0..1"
        return "number" + _range(metas)
    if kind is str:
        shortest, longest = _bound(metas, "min_length"), _bound(metas, "max_length")
        if longest is not None:
            return f"string of {shortest or 0}..{longest} characters"
        return "string, not empty" if shortest else "string"
    if get_origin(kind) is Literal:
        choices = [f"`{_toml(choice)}`" for choice in get_args(kind)]
        return ("one of " if len(choices) > 2 else "") + " or ".join(
            [", ".join(choices[:-1]), choices[-1]]
        )
    if _is_struct(kind):
        return f"table {held[kind]}"
    if get_origin(kind) is dict and get_args(kind)[1] is Any:
        return "table (any keys and values)"  # a campaign's OCPP payload: checked by its own
    if get_origin(kind) is dict:
        return "table of " + _plural(_kind_words(get_args(kind)[1], (), held))
    if get_origin(kind) in (tuple, list):
        item = get_args(kind)[0]
        if _is_struct(item):
            return f"array of tables {held[item]}"
        return "array of " + _plural(_kind_words(item, (), held))
    raise TypeError(f"the reference cannot describe {kind!r}")


def _plural(words: str) -> str:
    for one, many in (("string", "strings"), ("number", "numbers"), ("duration]", "durations]")):
        if words.startswith(one) or words.startswith(f"[{one}"):
            return words.replace(one, many, 1)
    return words


def _default_words(field: Field) -> str:
    if field.default is msgspec.NODEFAULT:
        return "**required**"
    if field.default is None:
        return "not set"
    written = _as_written(field.default, field.base)
    if _is_struct(field.base) and not written:
        return "its keys' defaults"
    return f"`{_toml(written)}`"


def _secret_note(field: Field, redacted: str) -> str:
    """What the field's secret marker means, with `redacted` for how "***" is shown."""
    if field.secret is Secret:
        return f". Secret: {redacted} in reports, messages and logs"
    if field.secret is SecretInUrl:
        return f". A password in it is {redacted} in reports, messages and logs"
    return ""


def _meaning(field: Field) -> str:
    return _escape(field.description + _secret_note(field, f'`"{REDACTED}"`'))


def _escape(text: str) -> str:
    """Markdown for a table cell: pipes escaped, and angle brackets outside code spans."""
    parts = text.split("`")
    for index in range(0, len(parts), 2):
        parts[index] = parts[index].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts).replace("|", "\\|")


def _distribution_rows() -> list[str]:
    rows = ["| distribution | parameters | example |", "|---|---|---|"]
    examples = {
        "constant": Distribution.constant(90.0),
        "uniform": Distribution.uniform(60.0, 300.0),
        "exponential": Distribution.exponential(120.0),
        "normal": Distribution.normal(180.0, 30.0),
        "lognormal": Distribution.lognormal(120.0, 0.5),
    }
    for kind, names in _PARAMETERS.items():
        words = []
        for name in names:
            rule = "> 0" if (kind, name) in _POSITIVE else ">= 0"
            unitless = " (no unit)" if (kind, name) in _UNITLESS else ""
            words.append(f"`{name}` {rule}{unitless}")
        example = _distribution_as_written(examples[kind], in_seconds=True)
        # A constant is written plainly too; its table form is shown here.
        table = {"distribution": kind, names[0]: example} if kind == "constant" else example
        rows.append(f'| `"{kind}"` | {", ".join(words)} | `{_toml(table)}` |')
    return rows


def reference() -> str:
    """profiles/REFERENCE.md: every table and key of a profile, from the model."""
    all_tables = list(tables())
    held = {table.struct: _link(table.heading) for table in all_tables if table.path}
    duration_examples = ", ".join(f"`{_toml(format_duration(s))}`" for s in (0.25, 30, 90, 3600))
    lines = [
        f"<!-- Generated from fleet/profile/_model.py by `fleet profile docs`; do not edit. "
        f"Regenerate: {REGENERATE} -->",
        "",
        "# Profile reference",
        "",
        "A profile is a TOML file that says what a load test does (see the examples in this "
        "folder). `fleet run PROFILE` runs it; `fleet profile check PROFILE...` checks it "
        "without running anything; `fleet profile schema` prints a JSON Schema of it for "
        "editors (with Taplo or Even Better TOML, `fleet profile schema > profile.schema.json` "
        "and a first line `#:schema ./profile.schema.json` in the profile give completion and "
        "checks as you type). Unknown keys are errors. A key shown as *not set* by default is "
        "left out (TOML has no null).",
        "",
        "## Values",
        "",
        "### Durations",
        "",
        "Seconds, as a number (`90`, `1.5`) or a string with units, largest first and each at "
        f'most once: h, m, s, ms ({duration_examples}, `"1.5s"`).',
        "",
        "### Shares",
        "",
        "A fraction of the whole, from 0 to 1: `0.02` is 2 %.",
        "",
        "### Distributions",
        "",
        "A value drawn afresh for each station or session: a constant (a plain value, `90` "
        'or `"5m"`), or a table naming the '
        "distribution and its parameters. In a duration's distribution the parameters are "
        "durations (numbers of seconds, or strings with units), but a lognormal's `sigma`, "
        "which has no unit. Samples are never negative: a normal's below 0 become 0.",
        "",
        *_distribution_rows(),
    ]
    for table in all_tables:
        lines += ["", f"## {'Top level' if not table.path else f'`{table.heading}`'}", ""]
        for paragraph in _docstring(table.struct):
            lines += [paragraph, ""]
        if table.field is not None:
            if table.field.default is msgspec.NODEFAULT:
                lines += ["Required.", ""]
            elif not table.array and (written := _as_written(table.field.default, table.struct)):
                lines += [f"Without a `{table.heading}` table: `{_toml(written)[2:-2]}`.", ""]
        lines += ["| key | type | default | unit | meaning |", "|---|---|---|---|---|"]
        for field in fields(table.struct):
            cells = (
                f"`{table.key(field.name)}`",
                _kind_words(field.base, field.metas, held),
                _default_words(field),
                field.unit,
                _meaning(field),
            )
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --- the JSON Schema ------------------------------------------------------------------------


def _duration_schema() -> dict[str, Any]:
    return {
        "title": "Duration",
        "description": 'Seconds: a number (90, 1.5) or a string with units ("250ms", "30s", '
        '"5m", "1m30s", "1h").',
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": DURATION_PATTERN},
        ],
    }


def _distribution_schema(*, in_seconds: bool) -> dict[str, Any]:
    def parameter(kind: str, name: str) -> dict[str, Any]:
        if in_seconds and (kind, name) not in _UNITLESS:
            if (kind, name) in _POSITIVE:
                return {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, _duration_string()]}
            return {"$ref": "#/$defs/Duration"}
        if (kind, name) in _POSITIVE:
            return {"type": "number", "exclusiveMinimum": 0}
        return {"type": "number", "minimum": 0}

    constant = {"$ref": "#/$defs/Duration"} if in_seconds else {"type": "number", "minimum": 0}
    tables = [
        {
            "type": "object",
            "properties": {"distribution": {"const": kind}}
            | {name: parameter(kind, name) for name in names},
            "required": ["distribution", *names],
            "additionalProperties": False,
        }
        for kind, names in _PARAMETERS.items()
    ]
    what = "durations" if in_seconds else "numbers"
    return {
        "title": "DurationDistribution" if in_seconds else "NumberDistribution",
        "description": f"A distribution of {what}: a constant, or a table such as "
        '{ distribution = "uniform", min = ..., max = ... }.',
        "anyOf": [constant, {"oneOf": tables}],
    }


def _duration_string() -> dict[str, Any]:
    return {"type": "string", "pattern": DURATION_PATTERN}


_MARKERS = {
    Duration: _duration_schema,
    DurationDistribution: lambda: _distribution_schema(in_seconds=True),
    NumberDistribution: lambda: _distribution_schema(in_seconds=False),
}


def _schema_hook(kind: type) -> dict[str, Any]:
    if kind in _MARKERS:
        return {"$ref": f"#/$defs/{kind.__name__}"}
    raise NotImplementedError(f"no JSON Schema for {kind!r}")


def json_schema() -> dict[str, Any]:
    """A JSON Schema (2020-12) of a profile as TOML data, for editors and checkers.

    msgspec's schema of `Profile`, with durations and distributions in the forms a profile
    writes them, defaults as a profile would write them, no nulls (TOML has none; a key that
    can be unset is left out), and the secret markers in the descriptions. Rules that span
    keys (one of rate, duration or steps; min <= max) are `fleet profile check`'s.
    """
    schema = msgspec.json.schema(Profile, schema_hook=_schema_hook)
    definitions = schema["$defs"]
    for marker, build in _MARKERS.items():
        definitions[marker.__name__] = build()
    for table in tables():
        definition = definitions[table.struct.__name__]
        definition["description"] = "\n\n".join(_docstring(table.struct))
        for field in fields(table.struct):
            _settle_property(definition["properties"][field.name], field)
    return {"$schema": SCHEMA_DIALECT, "title": "ocpp-fleet profile"} | schema


def _settle_property(prop: dict[str, Any], field: Field) -> None:
    if "anyOf" in prop:  # X | None: the key is left out instead
        members = [member for member in prop.pop("anyOf") if member != {"type": "null"}]
        if len(members) == 1:
            prop.update(members[0])
        else:
            prop["anyOf"] = members
    prop.pop("default", None)
    written = _as_written(field.default, field.base)
    if written is not None and not (_is_struct(field.base) and not written):
        prop["default"] = written
    description = field.description
    if field.unit and field.base not in (Duration, DurationDistribution):
        description += f" ({field.unit})"  # the Duration schema says seconds
    prop["description"] = description + _secret_note(field, f'"{REDACTED}"')
