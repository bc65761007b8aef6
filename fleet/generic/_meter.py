"""Meter values: 2.0.1 MeterValue / SampledValue <-> 1.6 MeterValue / SampledValue.

Both versions send a list of MeterValue{timestamp, sampledValue[]}; a sampled value differs:

- **value**: 2.0.1 a JSON number, 1.6 a string ("Raw" decimal, or "SignedData"). A number goes
  as its shortest decimal text without exponent (1234.5 -> "1234.5", 12000.0 -> "12000"). A
  1.6 text that is not that spelling of its number ("12000.0", "1e3") reads as the number and
  the text is kept in the sample's customData, so that it goes back unchanged (as long as the
  generic value still reads the same). A 1.6 Raw text that is no decimal number at all (the
  peer breaks 1.6; "N/A") reads as value 0 with the text kept: it is not lost, and
  `energy_register_wh` does not take it for a reading.
- **SignedData**: a 1.6 sample with format SignedData holds signed data *instead of* a reading
  (1.6: "signed binary data block"). It reads as value 0 and signedMeterValue
  {signedMeterData: the 1.6 value as sent, signingMethod: "", encodingMethod: "",
  publicKey: ""}: 1.6 names none of them. Only that form goes back as SignedData; a 2.0.1
  signed sample that also holds a reading, a signing or encoding method or a public key has
  no 1.6 form, and raises (send the reading and the signed data as two samples).
- **unit**: 1.6 unit <-> 2.0.1 unitOfMeasure.unit of the same name (2.0.1's standardized
  units include kWh, kW, kVA, kvar and kvarh, so a 1.6 kWh reading stays "kWh" with its number
  unchanged); 1.6 Hertz <-> Hz; 1.6 Celcius (the 1.6 schema's misspelling) reads as Celsius,
  kept. A 2.0.1 multiplier has no 1.6 field: the value is scaled by it exactly (decimal) and
  the unit kept (Wh x10^3, 12.5 -> "12500" Wh), which keeps the quantity. A 2.0.1 unit with
  no 1.6 name (VAh, kVAh, Ohm, s, custom units) raises.
- **measurand**: the 20 common names are the same. 2.0.1-only (Energy.*.Net,
  Energy.Apparent.*) raise. 1.6-only (Temperature, RPM) have no 2.0.1 measurand, and an
  absent 2.0.1 measurand means Energy.Active.Import.Register: such a sample must not be read
  as one. It is left out of sampledValue and kept whole in the MeterValue's customData as
  ``sampledValue``: the 1.6 list with null where a sample is carried in sampledValue. Going
  back, the kept samples take their places again. (A MeterValue with nothing but such samples
  cannot be a 2.0.1 MeterValue, which needs one sampled value: that raises.)
- **context, phase, location**: the same values in both.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from fleet.generic._engine import (
    LEGACY_VENDOR,
    Each,
    Field,
    Keep,
    StructMap,
    Values,
    Where,
)
from fleet.ocpp import dec_hook, v16, v201

__all__ = [
    "LEGACY_ONLY_MEASURANDS",
    "METER_VALUE",
    "METER_VALUES",
    "SAMPLED_VALUE",
    "UNITS",
    "decimal_text",
    "energy_register_wh",
    "is_signed_data_only",
]

_MISSING: Any = object()

ENERGY_REGISTER = "Energy.Active.Import.Register"

_COMMON_MEASURANDS = [m.value for m in v201.MeasurandEnum if m.value in set(v16.Measurand)]

#: 1.6 measurands with no 2.0.1 counterpart: their samples are kept in the MeterValue's
#: customData, not read as (default) energy readings.
LEGACY_ONLY_MEASURANDS = frozenset(m.value for m in v16.Measurand) - set(v201.MeasurandEnum)

MEASURAND = Values.same(
    *_COMMON_MEASURANDS,
    generic_only={
        value: "1.6 has no such measurand (2.0.1 added the net and apparent energy ones)"
        for value in [m.value for m in v201.MeasurandEnum if m.value not in set(v16.Measurand)]
    },
)
CONTEXT = Values.same(*[m.value for m in v201.ReadingContextEnum])
PHASE = Values.same(*[m.value for m in v201.PhaseEnum])
LOCATION = Values.same(*[m.value for m in v201.LocationEnum])

#: 2.0.1 unitOfMeasure.unit -> 1.6 unit. Read back the same way; 1.6 "Celcius" (a spelling
#: the 1.6 schema also allows) reads as Celsius and is kept.
UNITS: Mapping[str, str] = {
    "Wh": "Wh",
    "kWh": "kWh",
    "varh": "varh",
    "kvarh": "kvarh",
    "W": "W",
    "kW": "kW",
    "VA": "VA",
    "kVA": "kVA",
    "var": "var",
    "kvar": "kvar",
    "A": "A",
    "V": "V",
    "K": "K",
    "Celsius": "Celsius",
    "Fahrenheit": "Fahrenheit",
    "Percent": "Percent",
    "Hz": "Hertz",
}
_UNITS_BACK = {legacy: generic for generic, legacy in UNITS.items()} | {"Celcius": "Celsius"}

_UNIT_WHY = "1.6 UnitOfMeasure has " + ", ".join(UNITS.values()) + " only"

# 1.6 SignedData has no length limit; 2.0.1 signedMeterData is at most 2500 characters.
_SIGNED_DATA_MAX = 2500

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WIDE = decimal.Context(prec=400)


# -- numbers -------------------------------------------------------------------------------


def decimal_text(value: float | decimal.Decimal, multiplier: int = 0) -> str:
    """The 1.6 text of a reading: value x 10^multiplier as a plain decimal (no exponent, no
    trailing zeros), computed exactly from the float's shortest repr."""
    number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(repr(float(value)))
    number = number.scaleb(multiplier, _WIDE)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(_WIDE), "f")


def _reading(text: str) -> decimal.Decimal | None:
    """A 1.6 value's number, or None when it is no finite decimal number."""
    if not isinstance(text, str) or _DECIMAL.fullmatch(text) is None:
        return None
    number = decimal.Decimal(text)
    return number if math.isfinite(float(number)) else None


# -- one sampled value ---------------------------------------------------------------------

# The fields that need no more than a table; value, format, unit and signedMeterValue are
# read together (the format says what the value is, the unit's multiplier scales it).
_PLAIN = StructMap(
    v201.SampledValue,
    v16.SampledValue,
    Field("context", "context", CONTEXT),
    Field("measurand", "measurand", MEASURAND),
    Field("phase", "phase", PHASE),
    Field("location", "location", LOCATION),
)

_SIGNED_FIELDS = ("signedMeterData", "signingMethod", "encodingMethod", "publicKey")


def is_signed_data_only(sample: Mapping[str, Any]) -> bool:
    """Whether a generic sample is a 1.6 SignedData one: signed data, no reading."""
    signed = sample.get("signedMeterValue")
    return signed is not None and not any(signed.get(f) for f in _SIGNED_FIELDS[1:])


class _SampledValue:
    """2.0.1 SampledValue <-> 1.6 SampledValue (a Conv; see the module's docstring)."""

    def to_legacy(self, value: Mapping[str, Any], where: Where, field: str) -> dict[str, Any]:
        here = where.deeper(field)
        data = dict(value)
        reading = data.pop("value")
        signed = data.pop("signedMeterValue", _MISSING)
        unit_of_measure = data.pop("unitOfMeasure", _MISSING)
        kept: dict[str, Any] = {}
        custom = data.pop("customData", None)
        if custom is not None:
            if custom.get("vendorId") != LEGACY_VENDOR:
                raise here.fail("customData", dict(custom), "OCPP 1.6 messages have no customData")
            rest = {k: v for k, v in custom.items() if k not in ("value", "format", "unit")}
            kept = {k: v for k, v in custom.items() if k in ("value", "format", "unit")}
            if len(rest) > 1:
                data["customData"] = rest  # other 1.6 fields: the table puts them back
        out = _PLAIN.to_legacy_dict(data, here)

        multiplier = 0
        if unit_of_measure is not _MISSING:
            unit_of_measure = dict(unit_of_measure)
            if "customData" in unit_of_measure:
                raise here.fail(
                    "unitOfMeasure.customData",
                    dict(unit_of_measure["customData"]),
                    "OCPP 1.6 messages have no customData",
                )
            multiplier = unit_of_measure.get("multiplier", 0)
            unit = unit_of_measure.get("unit", _MISSING)
            # An absent unit means Wh in both versions: it stays absent.
            if unit is not _MISSING:
                if unit not in UNITS:
                    raise here.fail("unitOfMeasure.unit", unit, _UNIT_WHY)
                legacy_unit = UNITS[unit]
                if _UNITS_BACK.get(kept.get("unit", "")) == unit:
                    legacy_unit = kept["unit"]
                out["unit"] = legacy_unit

        if signed is not _MISSING:
            signed = dict(signed)
            if "customData" in signed:
                raise here.fail(
                    "signedMeterValue.customData",
                    dict(signed["customData"]),
                    "OCPP 1.6 messages have no customData",
                )
            extra = {f: signed[f] for f in _SIGNED_FIELDS[1:] if signed.get(f)}
            if extra:
                name = next(iter(extra))
                raise here.fail(
                    f"signedMeterValue.{name}",
                    extra[name],
                    "a 1.6 SignedData sample holds the signed data alone: 1.6 has no signing "
                    "method, encoding method or public key",
                )
            if reading != 0:
                raise here.fail(
                    "value",
                    reading,
                    "a 1.6 SignedData sample holds signed data instead of a reading: send the "
                    "reading as a sample of its own, and the signed one with value 0",
                )
            out["value"] = signed["signedMeterData"]
            out["format"] = "SignedData"
            return out

        try:
            text = decimal_text(reading, multiplier)
        except (ValueError, ArithmeticError):  # thousands of digits, or past Decimal's range
            raise here.fail(
                "unitOfMeasure.multiplier",
                multiplier,
                "1.6 has no multiplier: the value scaled by it is too long a 1.6 decimal",
            ) from None
        old = kept.get("value")
        if isinstance(old, str) and _reads_as(old, text):
            text = old
            if "format" in kept:
                out["format"] = kept["format"]
        elif kept.get("format") == "Raw":
            out["format"] = "Raw"
        out["value"] = text
        return out

    def to_generic(
        self, value: Mapping[str, Any], where: Where, field: str, keep: Keep
    ) -> dict[str, Any]:
        here = where.deeper(field)
        data = dict(value)
        text = data.pop("value")
        fmt = data.pop("format", _MISSING)
        unit = data.pop("unit", _MISSING)
        out = _PLAIN.to_generic_dict(data, here)
        kept: dict[str, Any] = {}

        if fmt == "SignedData" and len(text) <= _SIGNED_DATA_MAX:
            out["value"] = 0
            out["signedMeterValue"] = {
                "signedMeterData": text,
                "signingMethod": "",
                "encodingMethod": "",
                "publicKey": "",
            }
        else:
            if fmt is not _MISSING:
                kept["format"] = fmt
            number = _reading(text)
            if number is None:
                out["value"] = 0
                kept["value"] = text
            else:
                out["value"] = float(number)
                if decimal_text(float(number)) != text:
                    kept["value"] = text
        if unit is not _MISSING:
            out["unitOfMeasure"] = {"unit": _UNITS_BACK[unit]}
            if UNITS.get(_UNITS_BACK[unit]) != unit:
                kept["unit"] = unit
        if kept:
            out["customData"] = {"vendorId": LEGACY_VENDOR, **out.get("customData", {}), **kept}
        return out

    def describe(self) -> str:
        return (
            "value: number <-> 1.6 decimal text (other spellings kept); 1.6 SignedData <-> "
            "signedMeterValue.signedMeterData with value 0 and no methods or key; unit <-> "
            "unitOfMeasure.unit (Hertz <-> Hz), a multiplier scales the 1.6 value; 1.6 "
            "Temperature and RPM samples kept in the MeterValue's customData"
        )


def _reads_as(old: str, text: str) -> bool:
    """Whether a kept 1.6 text still says the value the generic sample holds (as `text`)."""
    number = _reading(old)
    if number is None:
        return text == "0"  # a non-number read as 0: still 0
    return float(number) == float(text)


SAMPLED_VALUE = _SampledValue()


# -- one meter value -----------------------------------------------------------------------

_METER_VALUE = StructMap(
    v201.MeterValue,
    v16.MeterValue,
    Field("timestamp", "timestamp"),
    Field("sampledValue", "sampledValue", Each(SAMPLED_VALUE)),
)


class _MeterValue:
    """2.0.1 MeterValue <-> 1.6 MeterValue; 1.6-only measurands kept (see the docstring)."""

    def to_legacy(self, value: Mapping[str, Any], where: Where, field: str) -> dict[str, Any]:
        here = where.deeper(field)
        data = dict(value)
        kept_samples = None
        custom = data.get("customData")
        if custom is not None and custom.get("vendorId") == LEGACY_VENDOR:
            kept_samples = custom.get("sampledValue")
            rest = {k: v for k, v in custom.items() if k != "sampledValue"}
            if len(rest) > 1:
                data["customData"] = rest
            else:
                del data["customData"]
        out = _METER_VALUE.to_legacy_dict(data, here)
        if isinstance(kept_samples, list):
            out["sampledValue"] = _merge(kept_samples, out["sampledValue"])
        return out

    def to_generic(
        self, value: Mapping[str, Any], where: Where, field: str, keep: Keep
    ) -> dict[str, Any]:
        here = where.deeper(field)
        samples = value["sampledValue"]
        legacy_only = [s.get("measurand") in LEGACY_ONLY_MEASURANDS for s in samples]
        if all(legacy_only):
            raise here.fail(
                "sampledValue",
                samples,
                "a 2.0.1 MeterValue needs a sampled value with a 2.0.1 measurand; "
                "1.6 Temperature and RPM have none",
            )
        carried = [s for s, only in zip(samples, legacy_only, strict=True) if not only]
        out = _METER_VALUE.to_generic_dict({**value, "sampledValue": carried}, here)
        if any(legacy_only):
            places = [s if only else None for s, only in zip(samples, legacy_only, strict=True)]
            custom = out.get("customData", {"vendorId": LEGACY_VENDOR})
            out["customData"] = {**custom, "sampledValue": places}
        return out

    def describe(self) -> str:
        return "timestamp; sampledValue: " + SAMPLED_VALUE.describe()


def _merge(kept: list[Any], carried: list[Any]) -> list[Any]:
    """The 1.6 list: kept samples at their places, the carried ones in the nulls (in order);
    carried samples left over go last, nulls left over go."""
    out = []
    rest = iter(carried)
    for sample in kept:
        if sample is not None:
            out.append(sample)
            continue
        following = next(rest, None)
        if following is not None:
            out.append(following)
    out.extend(rest)
    return out


METER_VALUE = _MeterValue()
METER_VALUES = Each(METER_VALUE)


# -- readings ------------------------------------------------------------------------------

_TO_WH = {"Wh": 0, "kWh": 3}


def energy_register_wh(meter_values: Iterable[Any]) -> int | None:
    """The Energy.Active.Import.Register reading, in Wh, of generic (2.0.1) meter values.

    `meter_values` are MeterValue Structs or their wire-form mappings. A sample counts when its
    measurand is Energy.Active.Import.Register (or absent: 2.0.1's default), it has no phase
    (the whole register) and its location is Outlet (or absent: the default); its unit must be
    Wh or kWh (absent: Wh), times its multiplier. Signed data without a reading and 1.6 values
    that were no number do not count. Of several, the latest timestamp's first one wins (a
    register only counts up: the latest is the current reading). Rounded to whole Wh.

    Returns:
        The reading, or None when there is none.
    """
    best: tuple[Any, int] | None = None
    for meter_value in meter_values:
        data = _builtins(meter_value, v201.MeterValue)
        for sample in data["sampledValue"]:
            wh = _sample_wh(sample)
            if wh is not None and (best is None or data["timestamp"] > best[0]):
                best = (data["timestamp"], wh)
    return None if best is None else best[1]


def _sample_wh(sample: Mapping[str, Any]) -> int | None:
    if sample.get("measurand", ENERGY_REGISTER) != ENERGY_REGISTER:
        return None
    if "phase" in sample or sample.get("location", "Outlet") != "Outlet":
        return None
    if is_signed_data_only(sample):
        return None
    unit_of_measure = sample.get("unitOfMeasure", {})
    exponent = _TO_WH.get(unit_of_measure.get("unit", "Wh"))
    if exponent is None:
        return None
    number = decimal.Decimal(repr(float(sample["value"])))
    kept = (sample.get("customData") or {}).get("value")
    if isinstance(kept, str):
        exact = _reading(kept)
        if exact is None:
            return None  # a 1.6 value that was no number (read as 0)
        if float(exact) == float(number):
            number = exact
    number = number.scaleb(exponent + unit_of_measure.get("multiplier", 0), _WIDE)
    return int(number.to_integral_value(decimal.ROUND_HALF_EVEN, _WIDE))


def _builtins(message: Any, kind: type) -> dict[str, Any]:
    # Validated like any generic message; timestamps stay datetimes, to compare as instants.
    if isinstance(message, Mapping):
        message = msgspec.convert(message, kind, dec_hook=dec_hook)
    return msgspec.to_builtins(message, builtin_types=(datetime.datetime,))  # type: ignore[no-any-return]
