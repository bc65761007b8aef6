"""Generate `fleet/ocpp/v16.py` and `fleet/ocpp/v201.py` from the official OCPP JSON schemas.

The schemas come from the PyPI package `ocpp` (``ocpp/v16/schemas``, ``ocpp/v201/schemas``), a
build/test-time dependency only. Run::

    python -m fleet.ocpp.codegen           # rewrite the modules
    python -m fleet.ocpp.codegen --check   # exit 1 if they differ from what would be written

Every object in a schema becomes a msgspec Struct, every string enum a `StrEnum`. Nested types
that are structurally identical are emitted once. 2.0.1 (and the 1.6 Security Whitepaper) name
their nested types in ``definitions``; the core 1.6 schemas inline them, so `_V16_NAMES` gives
them the names the 1.6 specification uses.

Two things follow the schemas' own rules rather than a Struct's: 2.0.1 ``CustomDataType``, open
to vendor properties, is `fleet.ocpp._base.CustomData` (a mapping that keeps them), and the
schemas' JSON Schema draft decides whether an integer may be written ``1.0`` (draft 06, 2.0.1:
yes; draft 04, 1.6: no), passed on to each `ActionSpec` as ``whole_numbers``.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.resources
import json
import keyword
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Who sends each action's request. Everything not listed as CSMS-initiated is sent by the
# charge point; DataTransfer goes both ways.
_V16_CSMS_ACTIONS = frozenset(
    [
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    ]
)
_V201_CSMS_ACTIONS = frozenset(
    [
        "CancelReservation",
        "CertificateSigned",
        "ChangeAvailability",
        "ClearCache",
        "ClearChargingProfile",
        "ClearDisplayMessage",
        "ClearVariableMonitoring",
        "CostUpdated",
        "CustomerInformation",
        "DataTransfer",
        "DeleteCertificate",
        "GetBaseReport",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "GetDisplayMessages",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "GetMonitoringReport",
        "GetReport",
        "GetTransactionStatus",
        "GetVariables",
        "InstallCertificate",
        "PublishFirmware",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SetDisplayMessage",
        "SetMonitoringBase",
        "SetMonitoringLevel",
        "SetNetworkProfile",
        "SetVariableMonitoring",
        "SetVariables",
        "TriggerMessage",
        "UnlockConnector",
        "UnpublishFirmware",
        "UpdateFirmware",
    ]
)
_BOTH_WAYS = frozenset({"DataTransfer"})

# Names for the types the core 1.6 schemas inline. Keys are "Schema:path" or a path suffix;
# a path is field names joined by "." with "[]" after an array field.
_V16_NAMES = {
    "idTagInfo": "IdTagInfo",
    "idTagInfo.status": "AuthorizationStatus",
    "BootNotificationResponse:status": "RegistrationStatus",
    "CancelReservationResponse:status": "CancelReservationStatus",
    "ChangeAvailability:type": "AvailabilityType",
    "ChangeAvailabilityResponse:status": "AvailabilityStatus",
    "ChangeConfigurationResponse:status": "ConfigurationStatus",
    "ClearCacheResponse:status": "ClearCacheStatus",
    "ClearChargingProfileResponse:status": "ClearChargingProfileStatus",
    "DataTransferResponse:status": "DataTransferStatus",
    "DiagnosticsStatusNotification:status": "DiagnosticsStatus",
    "FirmwareStatusNotification:status": "FirmwareStatus",
    "GetCompositeScheduleResponse:status": "GetCompositeScheduleStatus",
    "RemoteStartTransactionResponse:status": "RemoteStartStopStatus",
    "RemoteStopTransactionResponse:status": "RemoteStartStopStatus",
    "ReserveNowResponse:status": "ReservationStatus",
    "Reset:type": "ResetType",
    "ResetResponse:status": "ResetStatus",
    "SendLocalListResponse:status": "UpdateStatus",
    "SetChargingProfileResponse:status": "ChargingProfileStatus",
    "StatusNotification:errorCode": "ChargePointErrorCode",
    "StatusNotification:status": "ChargePointStatus",
    "StopTransaction:reason": "Reason",
    "TriggerMessage:requestedMessage": "MessageTrigger",
    "TriggerMessageResponse:status": "TriggerMessageStatus",
    "UnlockConnectorResponse:status": "UnlockStatus",
    "chargingProfile": "ChargingProfile",
    "csChargingProfiles": "ChargingProfile",
    "chargingProfilePurpose": "ChargingProfilePurposeType",
    "chargingProfileKind": "ChargingProfileKindType",
    "recurrencyKind": "RecurrencyKindType",
    "chargingRateUnit": "ChargingRateUnitType",
    "chargingSchedule": "ChargingSchedule",
    "chargingSchedulePeriod[]": "ChargingSchedulePeriod",
    "configurationKey[]": "KeyValue",
    "localAuthorizationList[]": "AuthorizationData",
    "updateType": "UpdateType",
    "meterValue[]": "MeterValue",
    "sampledValue[]": "SampledValue",
    "context": "ReadingContext",
    "format": "ValueFormat",
    "measurand": "Measurand",
    "phase": "Phase",
    "location": "Location",
    "unit": "UnitOfMeasure",
    # StopTransaction's meter values list one unit fewer than MeterValues' ("Celsius"), so
    # they are types of their own.
    "StopTransaction:transactionData[]": "TransactionData",
    "StopTransaction:transactionData[].sampledValue[]": "TransactionDataSampledValue",
    "StopTransaction:transactionData[].sampledValue[].unit": "TransactionDataUnitOfMeasure",
}

# Python names where splitting camelCase would read badly.
_SNAKE_OVERRIDES = {"fullSoC": "full_soc", "bulkSoC": "bulk_soc"}

# 2.0.1's open object for vendor data: `CustomData` in `_base`, not a generated Struct.
_CUSTOM_DATA = "CustomDataType"
# JSON Schema drafts whose "integer" is any number with a zero fractional part (draft 06 on).
_WHOLE_NUMBER_DRAFTS = ("http://json-schema.org/draft-06/schema#",)

# Lines of 2.0.1 descriptions that are data-dictionary references, not prose.
_DICTIONARY_LINE = re.compile(r"^urn:x-|_ ")
_DOC_WIDTH = 92
_DOC_MAX_CHARS = 400


@dataclass(frozen=True)
class VersionLayout:
    module: str  # e.g. "v16"
    title: str  # e.g. "OCPP 1.6J"
    schema_dir: str  # inside the `ocpp` package
    request_suffix: str  # file name suffix of request schemas
    csms_actions: frozenset[str]
    inline_names: dict[str, str]


VERSIONS = (
    VersionLayout("v16", "OCPP 1.6J", "v16/schemas", "", _V16_CSMS_ACTIONS, _V16_NAMES),
    VersionLayout("v201", "OCPP 2.0.1", "v201/schemas", "Request", _V201_CSMS_ACTIONS, {}),
)


@dataclass
class FieldDef:
    wire_name: str
    py_name: str
    type_expr: str
    required: bool
    doc: str
    multiple_of: float | None = None


@dataclass
class StructDef:
    name: str
    doc: str
    fields: list[FieldDef]
    closed: bool = True


@dataclass
class EnumDef:
    name: str
    doc: str
    values: list[str]


@dataclass
class Model:
    """All types of one version, in the order they must be emitted."""

    enums: dict[str, EnumDef] = field(default_factory=dict)
    structs: dict[str, StructDef] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)  # structural key -> type name
    name_keys: dict[str, str] = field(default_factory=dict)  # type name -> structural key
    string_lengths: set[int] = field(default_factory=set)
    actions: list[tuple[str, str, str, str]] = field(default_factory=list)
    uses_any: bool = False
    uses_custom_data: bool = False
    whole_numbers: set[str] = field(default_factory=set)  # actions whose schemas are draft 06


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def snake_case(name: str) -> str:
    if name in _SNAKE_OVERRIDES:
        return _SNAKE_OVERRIDES[name]
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", s).lower()
    return s + "_" if keyword.iskeyword(s) else s


def camel_case(snake: str) -> str:
    """What msgspec's rename="camel" makes of a Python field name."""
    head, *rest = snake.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def pascal_case(name: str) -> str:
    return name[:1].upper() + name[1:]


def enum_member_name(value: str) -> str:
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", value)
    s = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", s)
    s = re.sub(r"[^0-9A-Za-z]+", "_", s).strip("_").upper()
    return "_" + s if s[:1].isdigit() else s


def trim_doc(description: str | None) -> str:
    """The prose of a schema description: data-dictionary lines dropped, capped in length."""
    if not description:
        return ""
    lines = [line.strip() for line in description.replace("\r", "").split("\n")]
    text = " ".join(line for line in lines if line and not _DICTIONARY_LINE.search(line))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > _DOC_MAX_CHARS:
        cut = text.rfind(". ", 0, _DOC_MAX_CHARS)
        text = text[: cut + 1] if cut > 0 else text[:_DOC_MAX_CHARS].rstrip() + " ..."
    return text


def _structural_key(node: Any, definitions: dict[str, Any]) -> str:
    """Canonical JSON of a schema node with references inlined and prose removed."""

    def strip(n: Any) -> Any:
        if isinstance(n, dict):
            if "$ref" in n:
                return strip(definitions[n["$ref"].rsplit("/", 1)[1]])
            return {
                k: strip(v)
                for k, v in n.items()
                if k not in ("description", "javaType", "comment", "$comment", "title")
            }
        if isinstance(n, list):
            return [strip(v) for v in n]
        return n

    return json.dumps(strip(node), sort_keys=True)


class Builder:
    def __init__(self, layout: VersionLayout) -> None:
        self.layout = layout
        self.model = Model()

    # -- naming --------------------------------------------------------------------------
    def _table_name(self, schema_name: str, path: str) -> str | None:
        """The name the naming table gives this place, if any."""
        names = self.layout.inline_names
        specific = f"{schema_name}:{path}"
        if specific in names:
            return names[specific]
        parts = path.split(".")
        for i in range(len(parts)):
            suffix = ".".join(parts[i:])
            if suffix in names:
                return names[suffix]
        return None

    def _inline_name(self, schema_name: str, path: str, kind: str, key: str) -> str:
        """A name for an inline type: the table's, else an equal type's, else the field's."""
        name = self._table_name(schema_name, path)
        if name is not None:
            return name
        if key in self.model.by_key:
            return self.model.by_key[key]
        base = pascal_case(path.split(".")[-1].removesuffix("[]"))
        return base + ("Enum" if kind == "enum" else "")

    def _claim(self, name: str, key: str, where: str) -> bool:
        """Reserve `name` for the type with `key`; False if it is already emitted."""
        known = self.model.name_keys.get(name)
        if known is None:
            self.model.name_keys[name] = key
            self.model.by_key.setdefault(key, name)
            return True
        if known != key:
            raise SystemExit(f"codegen: two different types want the name {name!r} ({where})")
        return False

    # -- types ---------------------------------------------------------------------------
    def type_of(self, node: dict[str, Any], ctx: Context, path: str) -> tuple[str, float | None]:
        """The Python type expression for a schema node, and its multipleOf if any."""
        doc_node = node
        if "$ref" in node:
            def_name = node["$ref"].rsplit("/", 1)[1]
            node = ctx.definitions[def_name]
            if def_name == _CUSTOM_DATA:
                return self.custom_data_type(node, ctx), None
            name = def_name.removesuffix("Type")
            if "enum" in node:
                return self.enum_type(node, name, ctx, path), None
            if node.get("type") == "object":
                return self.struct_type(node, name, ctx, path), None
            doc_node = node
        kind = node.get("type")
        if "enum" in node:
            return self.enum_type(node, None, ctx, path), None
        if kind == "string":
            if node.get("format") == "date-time":
                return "DateTime", None
            if "maxLength" in node:
                self.model.string_lengths.add(node["maxLength"])
                return f"String{node['maxLength']}", None
            return "str", None
        if kind == "integer":
            bounds = [
                f"{meta}={_number(node[kw])}"
                for kw, meta in (("minimum", "ge"), ("maximum", "le"))
                if kw in node
            ]
            return (f"Annotated[int, Meta({', '.join(bounds)})]" if bounds else "int"), None
        if kind == "number":
            return "float", node.get("multipleOf")
        if kind == "boolean":
            return "bool", None
        if kind == "array":
            item, _ = self.type_of(node["items"], ctx, path + "[]")
            bounds = [
                f"{meta}={node[kw]}"
                for kw, meta in (("minItems", "min_length"), ("maxItems", "max_length"))
                if kw in node
            ]
            return (
                f"Annotated[list[{item}], Meta({', '.join(bounds)})]" if bounds else f"list[{item}]"
            ), None
        if kind == "object":
            return self.struct_type(node, None, ctx, path), None
        if kind is None:
            del doc_node
            self.model.uses_any = True
            return "Any", None
        raise SystemExit(f"codegen: unsupported schema type {kind!r} at {ctx.schema_name}:{path}")

    def custom_data_type(self, node: dict[str, Any], ctx: Context) -> str:
        """2.0.1 CustomDataType: `CustomData`, if the schema still says what that type keeps."""
        expected = {"vendorId": {"type": "string", "maxLength": 255}}
        properties = {
            name: {k: v for k, v in prop.items() if k != "description"}
            for name, prop in node.get("properties", {}).items()
        }
        if (
            properties != expected
            or node.get("required") != ["vendorId"]
            or node.get("additionalProperties", True) is False
        ):
            raise SystemExit(f"codegen: {ctx.schema_name}: {_CUSTOM_DATA} changed; see CustomData")
        self.model.uses_custom_data = True
        return "CustomData"

    def enum_type(self, node: dict[str, Any], name: str | None, ctx: Context, path: str) -> str:
        key = "enum:" + json.dumps(node["enum"])
        if name is None:
            name = self._inline_name(ctx.schema_name, path, "enum", key)
        if self._claim(name, key, f"{ctx.schema_name}:{path}"):
            self.model.enums[name] = EnumDef(name, trim_doc(node.get("description")), node["enum"])
        return name

    def struct_type(self, node: dict[str, Any], name: str | None, ctx: Context, path: str) -> str:
        key = _structural_key(node, ctx.definitions)
        if name is None:
            name = self._inline_name(ctx.schema_name, path, "struct", key)
        if name in self.model.name_keys:
            self._claim(name, key, f"{ctx.schema_name}:{path}")
            return name
        # Nested types first, so that each class is defined before it is used.
        fields = self.fields_of(node, ctx, path)
        self._claim(name, key, f"{ctx.schema_name}:{path}")
        closed = node.get("additionalProperties") is False
        self.model.structs[name] = StructDef(
            name, trim_doc(node.get("description")), fields, closed
        )
        return name

    def fields_of(self, node: dict[str, Any], ctx: Context, path: str) -> list[FieldDef]:
        required = set(node.get("required", ()))
        fields = []
        for wire_name, prop in node.get("properties", {}).items():
            sub = f"{path}.{wire_name}" if path else wire_name
            type_expr, multiple_of = self.type_of(prop, ctx, sub)
            doc = trim_doc(prop.get("description"))
            if "default" in prop:
                doc = (doc + " " if doc else "") + f"Absent means {json.dumps(prop['default'])}."
            fields.append(
                FieldDef(
                    wire_name,
                    snake_case(wire_name),
                    type_expr,
                    wire_name in required,
                    doc,
                    multiple_of,
                )
            )
        # Required fields first: easier to read, and the order msgspec encodes in.
        fields.sort(key=lambda f: not f.required)
        return fields

    # -- actions -------------------------------------------------------------------------
    def add_action(self, action: str, request: dict[str, Any], response: dict[str, Any]) -> None:
        names = []
        for schema, suffix in ((request, "Request"), (response, "Response")):
            ctx = Context(
                action + suffix if suffix == "Response" else action + self.layout.request_suffix,
                schema.get("definitions", {}),
            )
            name = action + suffix
            fields = self.fields_of(schema, ctx, "")
            if name in self.model.structs:
                raise SystemExit(f"codegen: {name} defined twice")
            self.model.structs[name] = StructDef(
                name, "", fields, schema.get("additionalProperties") is False
            )
            names.append(name)
        drafts = {request.get("$schema"), response.get("$schema")}
        if len(drafts) != 1:
            raise SystemExit(f"codegen: {action}: request and response differ in draft")
        if drafts <= set(_WHOLE_NUMBER_DRAFTS):
            self.model.whole_numbers.add(action)
        layout = self.layout
        if action in _BOTH_WAYS:
            direction = "Direction.BOTH"
        elif action in layout.csms_actions:
            direction = "Direction.CSMS_TO_CHARGE_POINT"
        else:
            direction = "Direction.CHARGE_POINT_TO_CSMS"
        self.model.actions.append((action, names[0], names[1], direction))


@dataclass(frozen=True)
class Context:
    schema_name: str
    definitions: dict[str, Any]


def load_schemas(layout: VersionLayout) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Action name -> (request schema, response schema)."""
    folder = importlib.resources.files("ocpp").joinpath(layout.schema_dir)
    files = {p.name.removesuffix(".json"): p for p in folder.iterdir() if p.name.endswith(".json")}
    actions = {}
    for stem in sorted(files):
        if stem.endswith("Response"):
            continue
        action = stem.removesuffix(layout.request_suffix) if layout.request_suffix else stem
        response_stem = action + "Response"
        if response_stem not in files:
            raise SystemExit(f"codegen: {stem} has no response schema")
        actions[action] = tuple(
            json.loads(files[s].read_text(encoding="utf-8-sig")) for s in (stem, response_stem)
        )
    return actions  # type: ignore[return-value]


def build(layout: VersionLayout) -> Model:
    builder = Builder(layout)
    for action, (request, response) in load_schemas(layout).items():
        builder.add_action(action, request, response)
    return builder.model


# -- emission ------------------------------------------------------------------------------


def _isort_key(name: str) -> tuple[int, list[int | str]]:
    # ruff's RUF022 order: SCREAMING_CASE, then CamelCase, then the rest; numbers naturally.
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _comment(text: str, indent: str) -> list[str]:
    return [indent + "#: " + line for line in textwrap.wrap(text, _DOC_WIDTH - len(indent))]


def _docstring(text: str, indent: str) -> list[str]:
    lines = textwrap.wrap(text.replace('"""', "'''"), _DOC_WIDTH - len(indent))
    if len(lines) == 1 and len(lines[0]) + len(indent) + 7 <= 100:
        # A closing quote in the text would merge with the docstring's own.
        space = " " if lines[0].endswith('"') else ""
        return [f'{indent}"""{lines[0]}{space}"""']
    return [f'{indent}"""{lines[0]}', *(indent + line for line in lines[1:]), f'{indent}"""']


def emit(layout: VersionLayout, model: Model) -> str:
    out = [
        f"# AUTOGENERATED by `python -m fleet.ocpp.codegen` from the {layout.title} JSON schemas",
        f"# shipped in the `ocpp` package ({layout.schema_dir}).",
        "# ALL EDITS WILL BE LOST: change the generator (fleet/ocpp/codegen.py) and run it again.",
        f'"""{layout.title} message types: one Struct per request and response, and `ACTIONS`.',
        "",
        "Optional fields default to `UNSET` and are left out of the JSON. Field names are",
        "snake_case; on the wire they are the schema's camelCase.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import enum",
        "from collections.abc import Mapping",
        "from types import MappingProxyType",
        "@TYPING_IMPORT@",
        "",
        "@MSGSPEC_IMPORT@",
        "",
        "from fleet.ocpp._actions import ActionSpec, Direction",
        "@BASE_IMPORT@",
        "",
    ]
    for length in sorted(model.string_lengths):
        out.append(f"String{length} = Annotated[str, Meta(max_length={length})]")
    out += ["", ""]
    for enum_def in sorted(model.enums.values(), key=lambda e: e.name):
        out.append(f"class {enum_def.name}(enum.StrEnum):")
        if enum_def.doc:
            out += _docstring(enum_def.doc, "    ")
            out.append("")
        members: dict[str, str] = {}
        for value in enum_def.values:
            member = enum_member_name(value)
            if member in members:
                raise SystemExit(
                    f"codegen: {enum_def.name}: {value!r} and {members[member]!r} clash"
                )
            members[member] = value
            out.append(f"    {member} = {json.dumps(value)}")
        out += ["", ""]
    action_types = {name for _, req, resp, _ in model.actions for name in (req, resp)}
    shared = [s for s in model.structs.values() if s.name not in action_types]
    for struct in shared:
        out += _emit_struct(struct)
    for action, request, response, direction in model.actions:
        sender = {
            "Direction.BOTH": "either side",
            "Direction.CSMS_TO_CHARGE_POINT": "the CSMS",
            "Direction.CHARGE_POINT_TO_CSMS": "the charge point",
        }[direction]
        model.structs[request].doc = f"{action} request (CALL payload), sent by {sender}."
        model.structs[response].doc = f"{action} response (CALLRESULT payload)."
        out += _emit_struct(model.structs[request])
        out += _emit_struct(model.structs[response])
    out += [
        "_CP = Direction.CHARGE_POINT_TO_CSMS",
        "_CSMS = Direction.CSMS_TO_CHARGE_POINT",
        "_BOTH = Direction.BOTH",
        "",
        "# whole_numbers: the action's schemas are JSON Schema draft 06, whose integer is any",
        "# number with a zero fractional part (1.0); draft 04's is written without a fraction.",
        "ACTIONS: Final[Mapping[str, ActionSpec]] = MappingProxyType(",
    ]
    out.append("    {")
    for action, request, response, direction in model.actions:
        short = {"Direction.BOTH": "_BOTH", "Direction.CSMS_TO_CHARGE_POINT": "_CSMS"}
        flag = short.get(direction, "_CP")
        whole_numbers = action in model.whole_numbers
        spec_options = ", whole_numbers=True" if whole_numbers else ""
        entry = (
            f'        "{action}": ActionSpec("{action}", {request}, {response}, {flag}'
            f"{spec_options}),"
        )
        if len(entry) > 100:
            lines = [
                f'        "{action}": ActionSpec(',
                f'            "{action}",',
                f"            {request},",
                f"            {response},",
                f"            {flag},",
            ]
            if whole_numbers:
                lines.append("            whole_numbers=True,")
            entry = "\n".join([*lines, "        ),"])
        out.append(entry)
    out += ["    }", ")", '"""Every action of this version by name."""', ""]
    public = [*model.enums, *model.structs, "ACTIONS", "DateTime"]
    if model.uses_custom_data:
        public.append("CustomData")
    public += [f"String{n}" for n in sorted(model.string_lengths)]
    out.append("__all__ = [")
    out += [f'    "{name}",' for name in sorted(public, key=_isort_key)]
    out.append("]")
    text = "\n".join(out) + "\n"
    body = text.split("@BASE_IMPORT@", 1)[1]
    typing_names = ["Annotated", "Any", "Final"] if model.uses_any else ["Annotated", "Final"]
    msgspec_names = ["UNSET", "Meta", "UnsetType"] + (["field"] if "field(" in body else [])
    base_names = ["DateTime", "Payload"]
    if model.uses_custom_data:
        base_names.insert(0, "CustomData")
    if "check_multiple_of(" in body:
        base_names.append("check_multiple_of")
    return (
        text.replace("@TYPING_IMPORT@", f"from typing import {', '.join(typing_names)}")
        .replace("@MSGSPEC_IMPORT@", f"from msgspec import {', '.join(msgspec_names)}")
        .replace("@BASE_IMPORT@", f"from fleet.ocpp._base import {', '.join(base_names)}")
    )


def _emit_struct(struct: StructDef) -> list[str]:
    options = "" if struct.closed else ", forbid_unknown_fields=False"
    out = [f"class {struct.name}(Payload{options}):"]
    if struct.doc:
        out += _docstring(struct.doc, "    ")
    if not struct.closed:
        if struct.doc:
            out.append("")
        out += _open_struct_note()
    if struct.fields and (struct.doc or not struct.closed):
        out.append("")
    checks = []
    for f in struct.fields:
        if f.doc:
            out += _comment(f.doc, "    ")
        annotation = f.type_expr if f.required else f"{f.type_expr} | UnsetType"
        rename = camel_case(f.py_name) != f.wire_name
        if f.required:
            default = f" = field(name={json.dumps(f.wire_name)})" if rename else ""
        else:
            default = (
                f" = field(default=UNSET, name={json.dumps(f.wire_name)})" if rename else " = UNSET"
            )
        line = f"    {f.py_name}: {annotation}{default}"
        if len(line) > 100:
            line = f"    {f.py_name}: (\n        {annotation}\n    ){default}"
        out.append(line)
        if f.multiple_of is not None:
            checks.append(f)
    if checks:
        out += ["", "    def __post_init__(self) -> None:"]
        for f in checks:
            call = (
                f"check_multiple_of(self.{f.py_name}, {f.multiple_of}, {json.dumps(f.wire_name)})"
            )
            if f.required:
                out.append(f"        {call}")
            else:
                out += [f"        if self.{f.py_name} is not UNSET:", f"            {call}"]
    if not struct.doc and not struct.fields and struct.closed:
        out.append("    pass")
    out += ["", ""]
    return out


def _open_struct_note() -> list[str]:
    return [
        "    # Open by the schema: vendor properties beyond these are accepted, and not kept.",
    ]


# -- the toolkit's typed methods and handler bases -----------------------------------------

_ROLES = (
    # class name prefix, what it is, direction flag of the actions it sends, the peer's name
    ("ChargePoint", "a charge point", "Direction.CHARGE_POINT_TO_CSMS", "the CSMS"),
    ("Csms", "a CSMS", "Direction.CSMS_TO_CHARGE_POINT", "the charge point"),
)


def emit_toolkit(models: dict[str, Model]) -> str:
    """Typed call methods and handler bases for both roles of both versions."""
    out = [
        "# AUTOGENERATED by `python -m fleet.ocpp.codegen` from the OCPP JSON schemas.",
        "# ALL EDITS WILL BE LOST: change the generator (fleet/ocpp/codegen.py) and run it again.",
        '"""Typed call methods and handler bases, one per action, for each role and version.',
        "",
        "`*Calls*` classes give a connection one ``async`` method per action its role sends; each",
        "calls ``self._call_typed(action, request, timeout)``. `*Handlers*` classes have one",
        "``on_<action>`` method per action the peer sends; the default answers NotImplemented.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Awaitable, Mapping",
        "from typing import Any, Final",
        "",
        "from fleet.ocpp import v16, v201",
        "from fleet.ocpp._errors import CallError, ErrorCode",
        "",
        "",
        "def _not_implemented(action: str) -> CallError:",
        '    return CallError(ErrorCode.NOT_IMPLEMENTED, f"{action} is not implemented")',
        "",
        "",
        "class TypedCaller:",
        '    """What the generated call methods need from the class they are mixed into."""',
        "",
        "    async def _call_typed(self, action: str, request: Any, timeout: float | None) -> Any:",
        "        raise NotImplementedError",
        "",
        "",
    ]
    public = ["TypedCaller", "HANDLER_NAMES"]
    handler_names: dict[str, dict[str, str]] = {}
    for module, model in models.items():
        suffix = module[1:]  # "16", "201"
        for prefix, what, direction, peer in _ROLES:
            sent = [a for a in model.actions if a[3] in (direction, "Direction.BOTH")]
            calls, handlers = f"{prefix}Calls{suffix}", f"{prefix}Handlers{suffix}"
            public += [calls, handlers]
            title = "OCPP 1.6J" if module == "v16" else "OCPP 2.0.1"
            out += [
                f"class {calls}(TypedCaller):",
                f'    """The {title} actions {what} sends, one typed method each."""',
            ]
            for action, request, response, _ in sent:
                method = snake_case(action)
                params = [
                    f"        self, request: {module}.{request}, *, timeout: float | None = None"
                ]
                if len(params[0]) > 100:
                    params = [
                        "        self,",
                        f"        request: {module}.{request},",
                        "        *,",
                        "        timeout: float | None = None,",
                    ]
                out += [
                    "",
                    f"    async def {method}(",
                    *params,
                    f"    ) -> {module}.{response}:",
                    f'        """Send {action} to {peer} and return its answer."""',
                    f'        return await self._call_typed("{action}", request, timeout)',
                ]
            out += ["", ""]
            out += [
                f"class {handlers}:",
                f'    """How {what} answers the {title} actions {peer} sends.',
                "",
                "    Override ``on_<action>`` (plain or ``async``) to return the response; raise",
                "    `CallError` to answer with a CALLERROR. Not overridden: NotImplemented.",
                '    """',
            ]
            names = {}
            received = [a for a in model.actions if a[3] == "Direction.BOTH" or a[3] != direction]
            for action, request, response, _ in received:
                method = "on_" + snake_case(action)
                names[action] = method
                result = f"{module}.{response} | Awaitable[{module}.{response}]"
                returns = [f"    ) -> {result}:"]
                if len(returns[0]) > 100:
                    returns = ["    ) -> (", f"        {result}", "    ):"]
                    if len(returns[1]) > 100:
                        returns[1:2] = [
                            f"        {module}.{response}",
                            f"        | Awaitable[{module}.{response}]",
                        ]
                out += [
                    "",
                    f"    def {method}(",
                    f"        self, request: {module}.{request}",
                    *returns,
                    f'        """Answer {action}."""',
                    f'        raise _not_implemented("{action}")',
                ]
            handler_names[handlers] = names
            out += ["", ""]
    out += [
        "HANDLER_NAMES: Final[Mapping[str, Mapping[str, str]]] = {",
    ]
    for cls, names in handler_names.items():
        out.append(f'    "{cls}": {{')
        out += [f'        "{action}": "{method}",' for action, method in names.items()]
        out.append("    },")
    out += ["}", '"""Handler class name -> action -> method name."""', ""]
    out.append("__all__ = [")
    out += [f'    "{name}",' for name in sorted(public, key=_isort_key)]
    out.append("]")
    return "\n".join(out) + "\n"


def render_all() -> dict[Path, str]:
    package_dir = Path(__file__).resolve().parent
    models = {layout.module: build(layout) for layout in VERSIONS}
    files = {
        package_dir / f"{layout.module}.py": emit(layout, models[layout.module])
        for layout in VERSIONS
    }
    files[package_dir.parent / "toolkit" / "_generated.py"] = emit_toolkit(models)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fleet.ocpp.codegen", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the modules are stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in render_all().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            continue
        if args.check:
            stale.append(path)
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), str(path), "regenerated", lineterm="", n=1
            )
            sys.stdout.write("\n".join(list(diff)[:40]) + "\n")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"stale: {', '.join(p.name for p in stale)}; run `python -m fleet.ocpp.codegen`")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
