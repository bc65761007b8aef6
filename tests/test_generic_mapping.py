"""fleet/generic/MAPPING.md is what the tables say, every loss it lists is an error that names
its field, and (Hypothesis) nothing either version says is lost on a round trip through the
other.

The losses come from `fleet.generic._docs.errors`, the function the docs are written from.
Messages are built and generated from the Structs' msgspec type information: lengths, enums,
numeric bounds, required and optional fields, nested lists.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import string
from collections.abc import Mapping
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fleet.generic import LEGACY_VENDOR, NotExpressible, Ocpp16Link, adapter
from fleet.generic._docs import (
    ANY,
    MAPPING,
    REGENERATE,
    Error,
    errors,
    mapping_markdown,
    table_maps,
    type_at,
    unique_adapters,
)
from fleet.generic._engine import ActionMap
from fleet.generic._variables import CONFIGURATION_KEYS, LEGACY_ONLY_KEYS
from fleet.ocpp import OcppVersion, actions_of, dec_hook

ADAPTERS = unique_adapters()
V16 = actions_of(OcppVersion.V16)
V201 = actions_of(OcppVersion.V201)
STAMP = "2026-01-01T00:00:00Z"
NO_FIELD = "OCPP 1.6 has no such field here"


# -- the docs --------------------------------------------------------------------------------


def test_mapping_md_is_what_the_generator_writes() -> None:
    assert MAPPING.read_text(encoding="utf-8") == mapping_markdown(), (
        f"fleet/generic/MAPPING.md is stale: the tables changed. Regenerate it: {REGENERATE}"
    )


def test_the_docs_have_a_section_for_every_adapter_and_every_missing_action() -> None:
    text = mapping_markdown()
    for each in ADAPTERS:
        assert f"\n## {each.generic}\n" in text
    missing = text.split("## 2.0.1 actions with no 1.6 counterpart")[1]
    for name in set(V201) - {a.generic for a in ADAPTERS}:
        assert f"`{name}`" in missing
        with pytest.raises(NotExpressible) as caught:
            adapter(name)
        assert caught.value.field == name and caught.value.version == "1.6"


# -- every documented error raises -----------------------------------------------------------


def _example(info: mi.Type, path: str, avoid: Mapping[str, list[Error]]) -> Any:
    """A minimal valid wire-form value at `path`, steering clear of the documented errors (the
    base a test puts one offending value in)."""
    if isinstance(info, mi.UnionType):
        options = [t for t in info.types if not isinstance(t, mi.UnsetType | mi.NoneType)]
        return _example(options[0], path, avoid)
    if isinstance(info, mi.StructType):
        needed = {e.absent for found in avoid.values() for e in found}
        return {
            f.encode_name: _example(f.type, _join(path, f.encode_name), avoid)
            for f in info.fields
            if f.required or _join(path, f.encode_name) in needed
        }
    if isinstance(info, mi.ListType):
        return [_example(info.item_type, path + "[0]", avoid)]
    found = avoid.get(path, [])
    allowed = [v for e in found for v in sorted(e.but)]
    if isinstance(info, mi.EnumType):
        bad = {e.value for e in found}
        return allowed[0] if allowed else next(m.value for m in info.cls if m.value not in bad)
    if isinstance(info, mi.IntType):
        return allowed[0] if allowed else info.ge if info.ge is not None else 1
    if isinstance(info, mi.StrType):
        return "1"  # a 1.6 transaction id, too
    if isinstance(info, mi.FloatType):
        return 1.0
    if isinstance(info, mi.BoolType):
        return False
    if isinstance(info, mi.DateTimeType):
        return STAMP
    if isinstance(info, mi.AnyType):
        return "1"
    raise TypeError(info)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _offending(kind: type, error: Error) -> Any:
    if error.value is not ANY:
        return error.value
    info = type_at(kind, error.field)
    if error.but:
        if isinstance(info, mi.EnumType):
            return next(m.value for m in info.cls if m.value not in error.but)
        return max(error.but) + 1
    return _example(info, error.field, {})


def _put(
    data: dict[str, Any], kind: type, path: str, value: Any, avoid: Mapping[str, list[Error]]
) -> None:
    """Set the value at a generic wire path, making the objects and lists on the way."""
    parts = path.replace("[0]", ".[0]").split(".")
    here: Any = data
    walked = ""
    for part in parts[:-1]:
        walked = walked + part if part == "[0]" else _join(walked, part)
        key: Any = 0 if part == "[0]" else part
        if part == "[0]" and not here:
            here.append(None)
        if (here[key] if part == "[0]" else here.get(key)) is None:
            here[key] = _example(type_at(kind, walked), walked, avoid)
        here = here[key]
    last = parts[-1]
    if last == "[0]":
        here[:] = [value]
    else:
        here[last] = value


@functools.cache
def _avoid(each: ActionMap, part: str) -> dict[str, list[Error]]:
    """The documented errors of one table, by field (and by the field a missing one names)."""
    found: dict[str, list[Error]] = {}
    for e in errors(adapter(each.generic)):
        if e.legacy == each.legacy_action and e.part == part:
            found.setdefault(e.absent or e.field, []).append(e)
    return found


def _base(each: ActionMap, part: str) -> dict[str, Any]:
    """A message of the table that goes to 1.6 (minimal, clear of every documented error)."""
    table = each.request if part == "request" else each.response
    return _example(mi.type_info(table.generic), "", _avoid(each, part))  # type: ignore[no-any-return]


def _table_message(each: ActionMap, error: Error) -> tuple[type, dict[str, Any]]:
    table = each.request if error.part == "request" else each.response
    avoid = _avoid(each, error.part)
    data = _base(each, error.part)
    for path, value in error.also.items():
        _put(data, table.generic, path, copy.deepcopy(value), avoid)
    if error.absent:
        parent, _, last = error.absent.rpartition(".")
        del (_get(data, parent) if parent else data)[last]
    else:
        _put(data, table.generic, error.field, _offending(table.generic, error), avoid)
    return table.generic, data


def _error_cases() -> list[Any]:
    cases = []
    for each in ADAPTERS:
        for error in errors(each):
            name = f"{each.generic}-{error.legacy or 'code'}-{error.part}-{error.field}"
            if error.value is not ANY and error.example is None:
                name += f"={error.shown_value()[:30]}"
            cases.append(pytest.param(each, error, id=name))
    return cases


def _get(data: Any, path: str) -> Any:
    for part in path.replace("[0]", ".[0]").split("."):
        data = data[0] if part == "[0]" else data[part]
    return data


def _first_leaf(value: Any) -> str:
    key, inner = next(iter(value.items()))
    return f".{key}" + (_first_leaf(inner) if isinstance(inner, dict) and inner else "")


@pytest.mark.parametrize(("each", "error"), _error_cases())
def test_every_documented_error_raises_naming_its_field(each: Any, error: Error) -> None:
    link = Ocpp16Link()
    legacy = error.legacy or each.legacy[0]
    expected = error.field
    if error.example is not None:
        message: Any = error.example
    else:
        (chosen,) = [m for m in table_maps(each) if m.legacy_action == error.legacy]
        _, message = _table_message(chosen, error)
        if error.part == "request" and len(table_maps(each)) > 1:
            # say which 1.6 message, as a user may (the choice would pick another one)
            message["customData"] = {"vendorId": LEGACY_VENDOR, "action": error.legacy}
        if error.why == NO_FIELD and isinstance(_get(message, error.field), dict):
            # an object no row reads: the error names its first value (the engine's rule)
            expected += _first_leaf(_get(message, error.field))
    with pytest.raises(NotExpressible) as caught:
        if error.part == "request":
            each.request_to_legacy(message, link.request_where(each.generic))
        else:
            each.response_to_legacy(message, legacy, None, link.response_where(each.generic))
    assert (caught.value.field, caught.value.version) == (expected, "1.6"), caught.value
    assert (caught.value.action, caught.value.part) == (each.generic, error.part)
    assert caught.value.reason.startswith(error.why), caught.value.reason


@pytest.mark.parametrize("each", [a for a in ADAPTERS if table_maps(a)], ids=lambda a: a.generic)
def test_the_base_messages_of_the_error_tests_go_to_1_6(each: Any) -> None:
    """Each error test changes one value of a message that is fine on its own."""
    for chosen in table_maps(each):
        for part in ("request", "response"):
            data = _base(chosen, part)
            table = chosen.request if part == "request" else chosen.response
            table.to_legacy(data, Ocpp16Link().request_where(each.generic))


@pytest.mark.parametrize("each", [a for a in ADAPTERS if table_maps(a)], ids=lambda a: a.generic)
def test_customdata_of_another_vendor_is_an_error_in_every_table(each: Any) -> None:
    for chosen in table_maps(each):
        for part in ("request", "response"):
            data = _base(chosen, part)
            data["customData"] = {"vendorId": "com.example", "x": 1}
            table = chosen.request if part == "request" else chosen.response
            with pytest.raises(NotExpressible) as caught:
                table.to_legacy(data, Ocpp16Link().request_where(each.generic))
            assert caught.value.field == "customData"


# -- Hypothesis: round trips -----------------------------------------------------------------
#
# Strategies are read off the Structs' msgspec type information, small: strings of at most 6
# characters (or the field's maximum), lists of at most 2 items, integers from -3 (or the
# field's minimum) to 2**31 - 1, floats in tenths (1.6 limits are multiples of 0.1),
# datetimes with a time zone. For generic messages, the fields and values the docs list as
# errors are left out (they are the loss tests' business), so that most examples go to 1.6.

TIMES = st.datetimes(
    min_value=dt.datetime(2020, 1, 1),
    max_value=dt.datetime(2035, 1, 1),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=2))]),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)
TEXT = string.ascii_letters + string.digits + " .,:-_/é"


def _values(
    info: mi.Type,
    path: str = "",
    avoid: Mapping[str, list[Error]] | None = None,
    special: Mapping[str, st.SearchStrategy[Any]] | None = None,
    least: int = 0,
) -> st.SearchStrategy[Any]:
    """Wire-form values of a type; `avoid`: the documented errors, by generic path (left out);
    `special`: strategies for some paths; `least`: the fewest items of a list."""
    avoid = avoid or {}
    special = special or {}
    if path in special:
        return special[path]
    found = avoid.get(path, [])
    if isinstance(info, mi.UnionType):
        options = [t for t in info.types if not isinstance(t, mi.UnsetType | mi.NoneType)]
        return st.one_of([_values(t, path, avoid, special, least) for t in options])
    if isinstance(info, mi.StructType):
        required, optional = {}, {}
        for f in info.fields:
            sub = _join(path, f.encode_name)
            errs = avoid.get(sub, [])
            if sub in special:
                (required if f.required else optional)[f.encode_name] = special[sub]
                continue
            if f.encode_name == "customData" or any(e.value is ANY and not e.but for e in errs):
                continue
            (required if f.required else optional)[f.encode_name] = _values(
                f.type, sub, avoid, special, least
            )
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(info, mi.ListType):
        item = _values(info.item_type, path + "[0]", avoid, special, least)
        low = max(info.min_length or 0, least)
        return st.lists(item, min_size=low, max_size=max(low, min(info.max_length or 2, 2)))
    allowed = [v for e in found for v in sorted(e.but)]
    if allowed:
        return st.sampled_from(allowed)
    if isinstance(info, mi.EnumType):
        bad = {e.value for e in found}
        return st.sampled_from([m.value for m in info.cls if m.value not in bad])
    if isinstance(info, mi.StrType):
        high = min(info.max_length or 6, 6)
        return st.text(TEXT, min_size=min(info.min_length or 0, high), max_size=high)
    if isinstance(info, mi.IntType):
        low = info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else -3)
        return st.integers(low, info.le if info.le is not None else 2**31 - 1)
    if isinstance(info, mi.FloatType):
        return st.integers(-100_000, 100_000).map(lambda tenths: tenths / 10)
    if isinstance(info, mi.BoolType):
        return st.booleans()
    if isinstance(info, mi.DateTimeType):
        return TIMES
    if isinstance(info, mi.AnyType):
        return JSON
    raise TypeError(info)


def _valid(kind: type, data: Any) -> Any:
    try:
        return msgspec.convert(data, kind, dec_hook=dec_hook)
    except msgspec.ValidationError:
        return None


def messages(
    kind: type,
    avoid: Mapping[str, list[Error]] | None = None,
    special: Mapping[str, st.SearchStrategy[Any]] | None = None,
    least: int = 0,
) -> st.SearchStrategy[Any]:
    """Valid messages (Structs) of a type (the checks type info does not hold, such as 1.6's
    limits in multiples of 0.1, filter)."""
    values = _values(mi.type_info(kind), "", avoid, special, least)
    return values.map(lambda data: _valid(kind, data)).filter(lambda m: m is not None)


ROUND_TRIP = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

RATE_UNIT = "ChargingScheduleAllowedChargingRateUnit"

#: Strategies for paths where random text is almost never meaningful.
KEYS = st.sampled_from([k.key for k in CONFIGURATION_KEYS] + [k for k, _ in LEGACY_ONLY_KEYS])
LEGACY_SPECIAL: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    # (a list value with a member 1.6 and 2.0.1 do not share: `EDGES`)
    "ChangeConfiguration": {
        "key": KEYS.filter(lambda k: k != RATE_UNIT) | st.text(TEXT, max_size=6)
    },
    "GetConfiguration": {"key[0]": KEYS | st.text(TEXT, max_size=6)},
}


@functools.cache
def legacy_messages(kind: type, action: str) -> st.SearchStrategy[Any]:
    """1.6 messages, lists not empty: the empty ones 2.0.1 has no place for are the
    `EMPTY_LISTS` tests' business."""
    return messages(kind, special=LEGACY_SPECIAL.get(action), least=1)


def _legacy_cases() -> list[Any]:
    cases = []
    for each in ADAPTERS:
        for action in each.legacy:
            cases.append(pytest.param(each, action, id=f"{each.generic}-{action}"))
    return cases


def _primed(action: str, request: Any) -> Ocpp16Link:
    """A link that knows the transaction a StopTransaction ends (as the station's link that
    started it does); a fresh one else."""
    link = Ocpp16Link()
    if action == "StopTransaction":
        link.state.add("tx-A", request.transaction_id)
        link.state.transaction_of[1] = "tx-A"
        link.state.connector_of["tx-A"] = 1
    return link


def _first_call(steps: list[Any]) -> Any:
    return steps[0]


#: The one 1.6 message the generic model documents it cannot read (fleet/generic/_meter.py).
ONLY_LEGACY_MEASURANDS = "a 2.0.1 MeterValue needs a sampled value with a 2.0.1 measurand"


def _read(each: Any, action: str, request: Any, link: Ocpp16Link) -> Any:
    """The generic request for a 1.6 one (a MeterValue of Temperature and RPM samples alone:
    not this test's business)."""
    try:
        return each.request_to_generic(action, request, link.request_where(each.generic))
    except NotExpressible as exc:
        assume(not exc.reason.startswith(ONLY_LEGACY_MEASURANDS))
        raise


@pytest.mark.parametrize(("each", "action"), _legacy_cases())
@ROUND_TRIP
@given(data=st.data())
def test_a_16_request_read_as_generic_goes_back_unchanged(
    each: Any, action: str, data: st.DataObject
) -> None:
    """1.6 -> generic -> 1.6 is exact: nothing the peer said is lost. (TransactionEvent: the
    first CALL, StartTransaction or StopTransaction; the MeterValues and StatusNotification
    that follow it depend on the link's state and are the transaction tests' business.)"""
    request = data.draw(legacy_messages(V16[action].request, action))
    # (the cases `EDGES` shows)
    assume(action != "StatusNotification" or request.timestamp is not msgspec.UNSET)
    assume(action != "StopTransaction" or request.transaction_data is msgspec.UNSET)
    link = _primed(action, request)
    generic = _read(each, action, request, link)
    steps = each.request_to_legacy(generic, link.request_where(each.generic))
    assert _first_call(steps) == (action, request)


@pytest.mark.parametrize(("each", "action"), _legacy_cases())
@ROUND_TRIP
@given(data=st.data())
def test_a_16_response_read_as_generic_goes_back_unchanged(
    each: Any, action: str, data: st.DataObject
) -> None:
    """1.6 -> generic -> 1.6 is exact for the answer to a 1.6 request read the same way."""
    request = data.draw(legacy_messages(V16[action].request, action))
    response = data.draw(legacy_messages(V16[action].response, action))
    if action == "GetConfiguration":  # (the cases `EDGES` shows)
        keys = [kv.key for kv in response.configuration_key or []]
        assume(not set(keys) & set(response.unknown_key or []))  # known and unknown at once
        for answered in (keys, response.unknown_key or []):
            assume(len(answered) == len(set(answered)))
            asked = [k for k in request.key or [] if k in answered]
            assume(answered[: len(asked)] == asked)  # the keys asked first, in that order
    link = _primed(action, request)
    generic_request = _read(each, action, request, link)
    generic = each.response_to_generic(
        [response], generic_request, link.response_where(each.generic)
    )
    back = each.response_to_legacy(generic, action, request, link.response_where(each.generic))
    assert back == response


# -- generic messages: generic -> 1.6 -> generic -> 1.6 gives the same 1.6 message ----------


@functools.cache
def _shared_errors(each: Any, part: str) -> dict[str, list[Error]]:
    """The documented errors of every 1.6 message an adapter may choose (the values it
    refuses whichever it picks), by field."""
    maps = table_maps(each)
    found: dict[str, list[Error]] = {}
    for error in errors(each):
        if error.example is not None or error.part != part or error.absent:
            continue
        same = [
            e
            for e in errors(each)
            if (e.part, e.field, e.value, e.but) == (part, error.field, error.value, error.but)
        ]
        if len({e.legacy for e in same}) == len(maps):
            found.setdefault(error.field, []).append(error)
    return found


_VARIABLE_ITEM = {
    "component": st.just({"name": "ocpp1.6"}),
    "variable": st.fixed_dictionaries({"name": KEYS | st.text(TEXT, min_size=1, max_size=6)}),
}
GENERIC_SPECIAL: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "SetVariables": {f"setVariableData[0].{k}": v for k, v in _VARIABLE_ITEM.items()},
    "GetVariables": {f"getVariableData[0].{k}": v for k, v in _VARIABLE_ITEM.items()},
    "TransactionEvent/StartTransaction": {
        "customData": st.fixed_dictionaries(
            {"vendorId": st.just(LEGACY_VENDOR), "transactionId": st.integers(-3, 2**31 - 1)}
        ),
        # 1.6 transaction answers have none of these (an error, tested with the losses).
        **dict.fromkeys(("totalCost", "chargingPriority", "updatedPersonalMessage"), st.nothing()),
    },
    "TransactionEvent/StopTransaction": dict.fromkeys(
        ("totalCost", "chargingPriority", "updatedPersonalMessage", "customData"), st.nothing()
    ),
}


@functools.cache
def generic_requests(each: Any) -> st.SearchStrategy[Any]:
    kind = V201[each.generic].request
    return messages(kind, _shared_errors(each, "request"), GENERIC_SPECIAL.get(each.generic))


@functools.cache
def generic_responses(each: Any, action: str) -> st.SearchStrategy[Any]:
    chosen = [m for m in table_maps(each) if m.legacy_action == action]
    avoid = _avoid(chosen[0], "response") if chosen else {}
    special = GENERIC_SPECIAL.get(f"{each.generic}/{action}")
    found = messages(V201[each.generic].response, avoid, special)
    if (each.generic, action) == ("TransactionEvent", "StartTransaction"):
        # A 1.6 StartTransaction answer needs its idTagInfo.
        found = found.filter(lambda message: message.id_token_info is not msgspec.UNSET)
    return found


@pytest.mark.parametrize(
    "each", [a for a in ADAPTERS if a.generic != "TransactionEvent"], ids=lambda a: a.generic
)
@ROUND_TRIP
@given(data=st.data())
def test_a_generic_request_keeps_every_value_1_6_carries(each: Any, data: st.DataObject) -> None:
    """generic -> 1.6 (NotExpressible: not this test's business) -> generic -> 1.6 gives the
    same 1.6 CALLs. TransactionEvent is left out: its CALLs depend on the link's state and
    the answers (the transaction tests cover its sequences; the 1.6 properties its CALLs)."""
    request = data.draw(generic_requests(each))
    where = Ocpp16Link().request_where(each.generic)
    try:
        steps = each.request_to_legacy(request, where)
    except NotExpressible:
        assume(False)
    for action, legacy in [step for step in steps if isinstance(step, tuple)]:
        again = each.request_to_legacy(each.request_to_generic(action, legacy, where), where)
        assert again[0] == (action, legacy)


@pytest.mark.parametrize(("each", "action"), _legacy_cases())
@ROUND_TRIP
@given(data=st.data())
def test_a_generic_response_keeps_every_value_1_6_carries(
    each: Any, action: str, data: st.DataObject
) -> None:
    """The generic answer to a 1.6 request read: generic -> 1.6 -> generic -> 1.6 gives the
    same 1.6 answer."""
    request = data.draw(legacy_messages(V16[action].request, action))
    if action == "GetConfiguration":  # a key asked twice is answered twice
        assume(len(set(request.key or [])) == len(request.key or []))
    link = _primed(action, request)
    where = link.response_where(each.generic)
    generic_request = _read(each, action, request, link)
    response = data.draw(generic_responses(each, action))
    try:
        legacy = each.response_to_legacy(response, action, request, where)
    except NotExpressible:
        assume(False)
    generic = each.response_to_generic([legacy], generic_request, where)
    assert each.response_to_legacy(generic, action, request, where) == legacy


# -- 1.6 messages the properties leave out, one by one ------------------------------------

_NOT_A_REGISTER = [
    {"timestamp": STAMP, "sampledValue": [{"value": "230", "measurand": "Voltage", "unit": "V"}]}
]
_STOP = {"meterStop": 1200, "timestamp": STAMP, "transactionId": 7}
_PROFILE = {
    "chargingProfileId": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": []},
}
_KNOWN = "kept by a fix: an empty 1.6 list reads as none, kept in customData"
_EMPTY_NO_PLACE = (
    "not fixed: 2.0.1 requires at least one {}; reading the 1.6 message raises a "
    "msgspec.ValidationError (not even NotExpressible)"
)

#: (adapter, 1.6 action, "request" or "response", the 1.6 message, why it is here).
EDGES = [
    pytest.param(
        "SendLocalList",
        "SendLocalList",
        "request",
        {"listVersion": 2, "updateType": "Full", "localAuthorizationList": []},
        id="SendLocalList-empty-list-clears",
    ),
    pytest.param(
        "GetVariables",
        "GetConfiguration",
        "request",
        {"key": []},
        id="GetConfiguration-empty-key-list",
        marks=pytest.mark.xfail(
            strict=True,
            reason="not fixed: an empty key list reads as a get-all and goes back without "
            "key (the same request to a 1.6 station)",
        ),
    ),
    pytest.param(
        "GetVariables",
        "GetConfiguration",
        "response",
        {"configurationKey": [{"key": "K", "readonly": False}] * 2},
        id="GetConfiguration-answer-with-a-key-twice",
        marks=pytest.mark.xfail(
            strict=True, reason="not fixed: a key the answer repeats goes back once"
        ),
    ),
    pytest.param(
        "GetVariables",
        "GetConfiguration",
        "response",
        {"configurationKey": [{"key": "L", "readonly": False}, {"key": "K", "readonly": True}]},
        id="GetConfiguration-answer-in-another-order-than-asked",
        marks=pytest.mark.xfail(
            strict=True,
            reason="not fixed: the answer goes back in the order of the request's keys",
        ),
    ),
    pytest.param(
        "SetVariables",
        "ChangeConfiguration",
        "request",
        {"key": RATE_UNIT, "value": "Current,Energy"},
        id="ChangeConfiguration-a-rate-unit-2.0.1-lacks",
        marks=pytest.mark.xfail(
            strict=True,
            reason="not fixed: a member with no 2.0.1 spelling reads as written, and a "
            "generic value with it raises NotExpressible going back",
        ),
    ),
    pytest.param(
        "SetVariables",
        "ChangeConfiguration",
        "request",
        {"key": RATE_UNIT, "value": "Current, Power"},
        id="ChangeConfiguration-a-list-with-spaces",
        marks=pytest.mark.xfail(
            strict=True, reason="not fixed: the spaces after the commas go (Current,Power)"
        ),
    ),
    pytest.param(
        "SetChargingProfile",
        "SetChargingProfile",
        "request",
        {"connectorId": 1, "csChargingProfiles": _PROFILE},
        id="SetChargingProfile-no-periods",
        marks=pytest.mark.xfail(strict=True, reason=_EMPTY_NO_PLACE.format("schedule period")),
    ),
    pytest.param(
        "TransactionEvent",
        "StopTransaction",
        "request",
        {**_STOP, "transactionData": []},
        id="StopTransaction-empty-transactionData",
    ),
    pytest.param(
        "TransactionEvent",
        "StopTransaction",
        "request",
        {**_STOP, "transactionData": _NOT_A_REGISTER},
        id="StopTransaction-transactionData-without-the-meterStop-reading",
    ),
    pytest.param(
        "StatusNotification",
        "StatusNotification",
        "request",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
        id="StatusNotification-without-timestamp",
        marks=pytest.mark.xfail(
            strict=True,
            reason="not fixed: 2.0.1 requires a timestamp; it reads as now and goes back",
        ),
    ),
]


@pytest.mark.parametrize(("name", "action", "part", "message"), EDGES)
def test_a_16_edge_case_goes_back_unchanged(
    name: str, action: str, part: str, message: dict[str, Any]
) -> None:
    each = adapter(name)
    spec = V16[action]
    request = msgspec.convert(
        message if part == "request" else {"key": ["K", "L"]}, spec.request, dec_hook=dec_hook
    )
    link = _primed(action, request)
    where = link.request_where(name)
    generic_request = each.request_to_generic(action, request, where)
    if part == "request":
        assert each.request_to_legacy(generic_request, where)[0] == (action, request)
    else:
        response = msgspec.convert(message, spec.response, dec_hook=dec_hook)
        generic = each.response_to_generic([response], generic_request, where)
        assert each.response_to_legacy(generic, action, request, where) == response
