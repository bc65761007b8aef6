"""The profile schema: frozen msgspec Structs, the decode hook for durations and distributions,
and the translation of msgspec's validation errors into one-line, field-named messages.

One set of Structs is the whole schema. msgspec checks types and `Meta` bounds while it decodes;
each Struct's `__post_init__` checks what spans fields (msgspec runs it during decoding too, so
its errors carry the field path). Files, TOML syntax and paths relative to the profile's folder
are `_load.py`'s business.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, get_args, get_origin
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta, Struct

from fleet.profile import _secrets
from fleet.profile._secrets import (
    Secret,
    SecretInUrl,
    holds_secret,
    is_url_with_secret,
    redact_url,
)

__all__ = [
    "AuthSection",
    "CampaignSection",
    "Distribution",
    "Duration",
    "EmbeddedSection",
    "EndSection",
    "FaultSection",
    "Profile",
    "ProfileError",
    "RampSection",
    "RampStep",
    "ReconnectSection",
    "SessionSection",
    "StationsSection",
    "TimeoutsSection",
    "TlsSection",
    "TransactionMessagesSection",
    "campaign_payload",
    "decode_hook",
    "describe_validation_error",
    "parse_duration",
    "parse_fault_option",
    "redacted",
    "secret_values",
]

# A path into the document: table keys and field names (str) and array indices (int).
FieldPath: TypeAlias = tuple[str | int, ...]


class ProfileError(ValueError):
    """A profile that cannot be used; the message is one line: ``<source>: <field>: <reason>``.

    `location` is the dotted field path (``stations.count``, ``ramp.steps[1].at``) or a line
    (``line 3``); it is None when the problem is the file as a whole or its top-level table.
    """

    def __init__(self, source: str | None, location: str | None, reason: str) -> None:
        self.source = source
        self.location = location
        self.reason = reason
        super().__init__(": ".join(part for part in (source, location, reason) if part))


class _Invalid(ValueError):
    """A problem found by our own checks, `field` relative to where msgspec reports it.

    msgspec keeps an exception raised in `__post_init__` or the decode hook as the `__cause__`
    of its ValidationError and adds the path of the Struct or value at hand; `field` extends
    that path to the member that is wrong.
    """

    def __init__(self, field: FieldPath, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{render_path(field)}: {reason}" if field else reason)


# --- durations ------------------------------------------------------------------------------

_NUMBER = r"(\d+(?:\.\d+)?)"
# Units largest first, each at most once: "1h", "5m", "1m30s", "250ms", "1.5s".
_DURATION = re.compile(rf"(?:{_NUMBER}h)?(?:{_NUMBER}m(?!s))?(?:{_NUMBER}s)?(?:{_NUMBER}ms)?")
_UNIT_SECONDS = (3600.0, 60.0, 1.0, 0.001)
_DURATION_HINT = 'a duration (seconds, or a string like "250ms", "30s", "5m", "1m30s")'


def parse_duration(value: object) -> float:
    """Seconds from a TOML duration: a number of seconds (>= 0) or a string with units.

    Raises:
        ValueError: anything else, with a message saying what a duration looks like.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise _Invalid((), f"expected a finite duration, got {show_value(value)}")
        if value < 0:
            raise _Invalid((), f"expected a duration >= 0, got {show_value(value)}")
        return float(value)
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None or not any(match.groups()):
        raise _Invalid((), f"expected {_DURATION_HINT}, got {show_value(value)}")
    return sum(
        float(amount) * unit
        for amount, unit in zip(match.groups(), _UNIT_SECONDS, strict=True)
        if amount is not None
    )


def _parse_number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise _Invalid((), f"expected a number, got {show_value(value)}")


# --- distributions --------------------------------------------------------------------------

DistributionKind: TypeAlias = Literal["constant", "uniform", "exponential", "normal", "lognormal"]

# The TOML names of each kind's parameters, in the order they are stored (`a`, then `b`).
_PARAMETERS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "uniform": ("min", "max"),
    "exponential": ("mean",),
    "normal": ("mean", "stddev"),
    "lognormal": ("median", "sigma"),
}
# Parameters without a unit: written as plain numbers even where the values are durations.
_UNITLESS = {("lognormal", "sigma")}


class Distribution(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A value drawn afresh for each station or session; samples are never negative.

    In TOML: a constant (``30``, ``"5m"``) or a table such as
    ``{ distribution = "uniform", min = "1m", max = "5m" }``. The parameters by kind:

    ============  ========  =======
    kind          a         b
    ============  ========  =======
    constant      value     (0)
    uniform       min       max
    exponential   mean      (0)
    normal        mean      stddev   (samples below 0 become 0)
    lognormal     median    sigma    (of the log; unitless)
    ============  ========  =======
    """

    kind: DistributionKind  # which family; says what `a` and `b` mean (table above)
    a: float  # the first parameter of `kind`
    b: float = 0.0  # the second parameter of `kind`, 0 when it has one

    def __post_init__(self) -> None:
        if self.kind not in _PARAMETERS:  # decoding checks this; building by hand does not
            kinds = ", ".join(f'"{name}"' for name in _PARAMETERS)
            raise _Invalid(("kind",), f"expected one of {kinds}, got {show_value(self.kind)}")
        names = _PARAMETERS[self.kind]
        for name, number in zip(names, (self.a, self.b), strict=False):
            if not math.isfinite(number):
                raise _Invalid((name,), f"expected a finite number, got {show_value(number)}")
        # Positive where a zero would divide or take a log; otherwise >= 0 so no sample is < 0.
        strictly_positive = {"exponential": "mean", "lognormal": "median"}.get(self.kind)
        for name, number in zip(names, (self.a, self.b), strict=False):
            if name == strictly_positive and number <= 0:
                raise _Invalid((name,), f"expected a value > 0, got {show_value(number)}")
            if number < 0:
                raise _Invalid((name,), f"expected a value >= 0, got {show_value(number)}")
        if self.kind == "uniform" and self.a > self.b:
            raise _Invalid((), "uniform needs min <= max")

    @classmethod
    def constant(cls, value: float) -> Distribution:
        return cls(kind="constant", a=value)

    @classmethod
    def uniform(cls, low: float, high: float) -> Distribution:
        return cls(kind="uniform", a=low, b=high)

    @classmethod
    def exponential(cls, mean: float) -> Distribution:
        return cls(kind="exponential", a=mean)

    @classmethod
    def normal(cls, mean: float, stddev: float) -> Distribution:
        return cls(kind="normal", a=mean, b=stddev)

    @classmethod
    def lognormal(cls, median: float, sigma: float) -> Distribution:
        return cls(kind="lognormal", a=median, b=sigma)

    def sample(self, rng: random.Random) -> float:
        """One draw from `rng`; never negative."""
        if self.kind == "constant":
            return self.a
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b)
        if self.kind == "exponential":
            return rng.expovariate(1.0 / self.a)
        if self.kind == "normal":
            # normalvariate keeps no hidden state between calls, unlike gauss.
            return max(0.0, rng.normalvariate(self.a, self.b))
        return rng.lognormvariate(math.log(self.a), self.b)

    @property
    def mean(self) -> float:
        """The mean of `sample()`; for normal, of the samples after clipping at 0."""
        if self.kind == "constant":
            return self.a
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        if self.kind == "exponential":
            return self.a
        if self.kind == "normal":
            if self.b == 0:
                return self.a
            # E[max(0, X)] for X ~ N(mu, sigma): mu * Phi(mu/sigma) + sigma * phi(mu/sigma).
            z = self.a / self.b
            below = 0.5 * (1 + math.erf(z / math.sqrt(2)))
            density = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
            return self.a * below + self.b * density
        return self.a * math.exp(self.b * self.b / 2)


def _decode_distribution(value: object, *, in_seconds: bool) -> Distribution:
    if not isinstance(value, dict):
        if in_seconds and isinstance(value, str | int | float) and not isinstance(value, bool):
            return Distribution.constant(parse_duration(value))
        if not in_seconds and isinstance(value, int | float) and not isinstance(value, bool):
            return Distribution.constant(_parse_number(value))
        unit = "a duration" if in_seconds else "a number"
        raise _Invalid((), f"expected {unit} or a distribution table, got {show_value(value)}")
    kind = value.get("distribution")
    if kind is None:
        raise _Invalid((), "missing required field 'distribution'")
    if kind not in _PARAMETERS:
        kinds = ", ".join(f'"{name}"' for name in _PARAMETERS)
        raise _Invalid(("distribution",), f"expected one of {kinds}, got {show_value(kind)}")
    names = _PARAMETERS[kind]
    for key in value:
        if key != "distribution" and key not in names:
            takes = " and ".join(names)
            raise _Invalid((), f"unknown field '{key}' ({kind} takes {takes})")
    numbers: list[float] = []
    for name in names:
        if name not in value:
            raise _Invalid((), f"missing required field '{name}'")
        parse = parse_duration if in_seconds and (kind, name) not in _UNITLESS else _parse_number
        try:
            numbers.append(parse(value[name]))
        except _Invalid as problem:
            raise _Invalid((name, *problem.field), problem.reason) from None
    return Distribution(kind=kind, a=numbers[0], b=numbers[1] if len(numbers) > 1 else 0.0)


# --- decoding markers -----------------------------------------------------------------------
#
# msgspec hands a value to `dec_hook` only when its field has a type msgspec doesn't know, and
# then checks the hook's result with isinstance. So the schema's duration and distribution
# fields are annotated with marker classes whose isinstance accepts what they decode to: a
# decoded profile holds plain floats (encodable, picklable) and Distribution Structs. Type
# checkers are shown those value types directly.


class _Marker(type):
    """Metaclass of the markers: ``isinstance(value, marker)`` means "is a `decodes_to`"."""

    decodes_to: type

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, cls.decodes_to)


if TYPE_CHECKING:
    Duration: TypeAlias = float
    DurationDistribution: TypeAlias = Distribution
    NumberDistribution: TypeAlias = Distribution
else:

    class Duration(metaclass=_Marker):
        """Seconds: a number (``90``, ``1.5``) or a string with units (``"250ms"``, ``"1m30s"``).

        A schema marker; decoded values are plain floats.
        """

        decodes_to = float

    class DurationDistribution(metaclass=_Marker):
        """A `Distribution` of seconds: constants and parameters may be duration strings."""

        decodes_to = Distribution

    class NumberDistribution(metaclass=_Marker):
        """A `Distribution` of plain numbers (kilowatts, say)."""

        decodes_to = Distribution


def decode_hook(type_: type, value: Any) -> Any:
    """msgspec's `dec_hook` for profiles: decodes `Duration` and the distribution fields."""
    if type_ is Duration:
        return parse_duration(value)
    if type_ is DurationDistribution:
        return _decode_distribution(value, in_seconds=True)
    if type_ is NumberDistribution:
        return _decode_distribution(value, in_seconds=False)
    raise NotImplementedError(f"profiles have no field of type {type_!r}")


def _require_positive(name: str, seconds: float) -> None:
    if seconds <= 0:
        raise _Invalid((name,), f"expected a duration > 0, got {show_value(seconds)}")


# --- the schema -----------------------------------------------------------------------------

OCPP_VERSIONS = ("1.6", "2.0.1")
EMBEDDED = "embedded"
# A CiString20 in OCPP 1.6 (chargePointVendor, chargePointModel, idTag).
CiString20 = Annotated[str, Meta(min_length=1, max_length=20)]
_BEHAVIOUR = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def about(description: str, *, unit: str | None = None) -> Meta:
    """What a field means, for ``Annotated[type, about("...")]``: the one place it is written.

    `fleet profile docs` (profiles/REFERENCE.md) and `fleet profile schema` read it; it checks
    nothing. `unit` is for numbers that are not durations (a duration is in seconds).
    """
    return Meta(description=description, extra={"unit": unit} if unit else None)


class StationsSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[stations]``: how many stations, what they are called and which OCPP they speak."""

    count: Annotated[int, Meta(ge=1, le=1_000_000), about("how many stations the run brings up")]
    id_pattern: Annotated[
        str, about("str.format pattern of the station ids, given `index` (0-based)")
    ] = "SIM-{index:06d}"
    versions: Annotated[
        dict[str, float],
        about(
            'share of stations per OCPP version ("1.6", "2.0.1"); the loader scales '
            "them to sum to 1"
        ),
    ] = msgspec.field(default_factory=lambda: {"1.6": 1.0})
    connectors: Annotated[int, Meta(ge=1, le=16), about("connectors per station")] = 1
    vendor: Annotated[CiString20, about("chargePointVendor / vendorName in BootNotification")] = (
        "ocpp-fleet"
    )
    model: Annotated[CiString20, about("chargePointModel / model in BootNotification")] = (
        "SimCharger"
    )

    def __post_init__(self) -> None:
        self._check_id_pattern()
        for version, share in self.versions.items():
            if version not in OCPP_VERSIONS:
                raise _Invalid(
                    ("versions", version), 'unknown OCPP version, expected "1.6" or "2.0.1"'
                )
            if not (math.isfinite(share) and share >= 0):
                raise _Invalid(
                    ("versions", version), f"expected a share >= 0, got {show_value(share)}"
                )
        if sum(self.versions.values()) <= 0:
            raise _Invalid(("versions",), "shares must add up to more than 0")

    def _check_id_pattern(self) -> None:
        if "{index" not in self.id_pattern:
            raise _Invalid(("id_pattern",), "must contain {index}, or all stations share one id")
        try:
            first, second = (self.id_pattern.format(index=index) for index in (0, 1))
        except KeyError as error:
            raise _Invalid(
                ("id_pattern",), f"unknown placeholder {{{error.args[0]}}}; only {{index}} exists"
            ) from None
        except (IndexError, ValueError, AttributeError, TypeError) as error:
            why = str(error)[:1].lower() + str(error)[1:]
            raise _Invalid(("id_pattern",), f"not a valid str.format pattern: {why}") from None
        if first == second:
            raise _Invalid(
                ("id_pattern",), f"gives stations 0 and 1 the same id {show_value(first)}"
            )

    def station_id(self, index: int) -> str:
        """The id of station `index` (0-based)."""
        return self.id_pattern.format(index=index)


class RampStep(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One step of a stepped ramp: from `at` on, stations connect at `rate` per second."""

    at: Annotated[Duration, about("seconds after the ramp started")]
    rate: Annotated[float, Meta(gt=0), about("the rate from then on", unit="stations/s")]


class RampSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[ramp]``: how fast stations connect. Exactly one of rate, duration or steps."""

    rate: Annotated[
        Annotated[float, Meta(gt=0)] | None,
        about("the rate stations connect at", unit="stations/s"),
    ] = None
    duration: Annotated[
        Duration | None,
        about("connect all stations evenly over this many seconds; 0 = all at once"),
    ] = None
    steps: Annotated[
        tuple[RampStep, ...],
        about("a piecewise-constant rate: the first step at 0, then strictly later ones"),
    ] = ()

    def __post_init__(self) -> None:
        given = [
            name
            for name, present in (
                ("rate", self.rate is not None),
                ("duration", self.duration is not None),
                ("steps", bool(self.steps)),
            )
            if present
        ]
        if not given:
            raise _Invalid((), "give one of rate, duration or steps")
        if len(given) == 2:
            raise _Invalid((), f"give either {given[0]} or {given[1]}, not both")
        if len(given) == 3:
            raise _Invalid((), "give only one of rate, duration or steps")
        if self.steps and self.steps[0].at != 0:
            first = show_value(self.steps[0].at)
            raise _Invalid(("steps", 0, "at"), f"the first step must be at 0, got {first}")
        for index in range(1, len(self.steps)):
            before, at = self.steps[index - 1].at, self.steps[index].at
            if at <= before:
                raise _Invalid(
                    ("steps", index, "at"),
                    f"expected a time after steps[{index - 1}].at ({show_value(before)}), "
                    f"got {show_value(at)}",
                )


class SessionSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[session]``: when connectors charge, for how long and at what power."""

    first_start: Annotated[
        DurationDistribution, about("delay from the accepted boot to a connector's first session")
    ] = Distribution.uniform(0.0, 30.0)
    length: Annotated[DurationDistribution, about("charging time of a session")] = (
        Distribution.uniform(60.0, 300.0)
    )
    idle: Annotated[
        DurationDistribution,
        about("gap between the end of a session and the next one on the same connector"),
    ] = Distribution.exponential(120.0)
    meter_interval: Annotated[Duration, about("seconds between MeterValues while charging")] = 60.0
    power_kw: Annotated[NumberDistribution, about("charging power of a session", unit="kW")] = (
        Distribution.uniform(3.7, 22.0)
    )
    id_tags: Annotated[
        tuple[CiString20, ...],
        about("the idTags sessions draw from; empty: a generated pool (see id_tag_pool)"),
    ] = ()
    id_tag_pool: Annotated[
        int,
        Meta(ge=1),
        about("size of the generated pool TAG-0 .. TAG-<n-1> when id_tags is empty"),
    ] = 1000
    authorize: Annotated[bool, about("send Authorize before starting a transaction")] = True
    probability: Annotated[
        float,
        Meta(ge=0, le=1),
        about("chance that a due session starts; otherwise the connector idles again"),
    ] = 1.0

    def __post_init__(self) -> None:
        _require_positive("meter_interval", self.meter_interval)
        power = self.power_kw
        # Exponential and lognormal draws are > 0; for the others a 0 here means 0 kW sessions.
        lowest = {"constant": (), "uniform": ("min",), "normal": ("mean",)}.get(power.kind)
        if lowest is not None and power.a <= 0:
            raise _Invalid(
                ("power_kw", *lowest), f"expected kilowatts > 0, got {show_value(power.a)}"
            )

    def tag_pool(self) -> tuple[str, ...]:
        """The idTags sessions draw from: `id_tags`, or TAG-0 .. TAG-<id_tag_pool - 1>."""
        return self.id_tags or tuple(f"TAG-{n}" for n in range(self.id_tag_pool))


class AuthSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[auth]``: HTTP Basic authentication (OCPP security profile 1)."""

    password: Annotated[
        str | None,
        Secret,
        about('the password; "{station}" in it is replaced by the station id'),
    ] = None
    username: Annotated[
        str | None, about('the user name; default: the station id ("{station}" is replaced too)')
    ] = None

    def credentials(self, station_id: str) -> tuple[str, str] | None:
        """(username, password) for `station_id`, or None without a password."""
        if self.password is None:
            return None
        username = station_id if self.username is None else self.username
        return (
            username.replace("{station}", station_id),
            self.password.replace("{station}", station_id),
        )


class TlsSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[tls]``: certificates for wss:// (security profiles 2 and 3).

    Relative paths are relative to the profile's folder; the loader makes them absolute.
    """

    ca_file: Annotated[
        str | None, about("CA bundle that signs the CSMS certificate; default: the system's CAs")
    ] = None
    client_cert: Annotated[
        str | None, about("the stations' client certificate (security profile 3)")
    ] = None
    client_key: Annotated[
        str | None, about("the client certificate's private key, if not inside client_cert")
    ] = None

    def __post_init__(self) -> None:
        if self.client_key is not None and self.client_cert is None:
            raise _Invalid(("client_key",), "needs client_cert")


class TimeoutsSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[timeouts]``: how long to wait, in seconds."""

    call: Annotated[Duration, about("for the answer to a Call")] = 30.0
    connect: Annotated[Duration, about("for the websocket connection and its handshake")] = 10.0
    drain: Annotated[
        Duration,
        about(
            "at the end, for stations to finish their sessions and close before they are cut off"
        ),
    ] = 15.0

    def __post_init__(self) -> None:
        _require_positive("call", self.call)
        _require_positive("connect", self.connect)


Share = Annotated[float, Meta(ge=0, le=1)]
FAULT_KINDS = ("restart", "drop", "stall", "close", "reset")
# The close code of a scheduled close when the fault gives none: "going away".
DEFAULT_FAULT_CLOSE_CODE = 1001
_CLOSE_CODES = "1000-1003, 1007-1014 or 3000-4999"


def _check_close_code(name: str, code: int) -> None:
    # The rule of fleet.csms's `check_close_code` (tests/test_embedded_field_options.py keeps
    # them equal): what a CSMS may send in a close frame; 1004-1006 are reserved.
    if code in (1004, 1005, 1006) or not (1000 <= code <= 1014 or 3000 <= code <= 4999):
        raise _Invalid((name,), f"expected a close code {_CLOSE_CODES}, got {show_value(code)}")


class FaultSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One ``[[embedded.faults]]``: something the embedded CSMS does to its stations, when.
    Exactly one of restart, drop, stall, close or reset."""

    at: Annotated[
        Duration, about("seconds after the run's start; less than duration (else never sent)")
    ]
    every: Annotated[
        Duration | None, about("then again every so often until the run ends; not set: once")
    ] = None
    jitter: Annotated[
        Duration,
        about("each time a random moment up to this much later (seeded): faults at random times"),
    ] = 0.0
    restart: Annotated[
        Duration | None,
        about("close every connection and the port, stay down this long, then listen again"),
    ] = None
    drop: Annotated[
        Share | None,
        about("close this share (0 to 1) of the connections, as a flaky network would"),
    ] = None
    stall: Annotated[
        Duration | None, about("answer nothing for this long (connections stay open)")
    ] = None
    close: Annotated[
        Share | None,
        about(
            "close this share of the connections cleanly, with `code` (a redeploy, "
            "an internal error)"
        ),
    ] = None
    code: Annotated[
        int | None,
        about(
            "the close code of `close`: 1000 normal, 1001 going away (the default), "
            "1011 internal error, 1012 service restart, 4000-4999 an application's "
            "own"
        ),
    ] = None
    reset: Annotated[
        Share | None,
        about(
            "reset this share of the connections: TCP RST, no close frame (a crash, "
            "a load balancer)"
        ),
    ] = None

    def __post_init__(self) -> None:
        given = [k for k in FAULT_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise _Invalid((), "give exactly one of restart, drop, stall, close or reset")
        if self.every is not None:
            _require_positive("every", self.every)
        if self.code is not None:
            if self.close is None:
                raise _Invalid(("code",), f"only a close fault takes a code, not {given[0]}")
            _check_close_code("code", self.code)

    @property
    def kind(self) -> str:
        """ "restart", "drop", "stall", "close" or "reset"."""
        return next(k for k in FAULT_KINDS if getattr(self, k) is not None)

    @property
    def amount(self) -> float:
        """Seconds down (restart) or stalled, or the share dropped, closed or reset."""
        return float(getattr(self, self.kind))

    @property
    def close_code(self) -> int:
        """The close code of a close fault (`code`, else 1001 going away)."""
        return self.code if self.code is not None else DEFAULT_FAULT_CLOSE_CODE


# What a campaign's payload may say about the station it goes to: ``{station}`` in any string
# becomes the station's id (the only placeholder). Checked with this stand-in at load.
CAMPAIGN_PLACEHOLDER_EXAMPLE = "CP-000001"


class CampaignSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One ``[[embedded.campaigns]]``: a CSMS-initiated action the embedded CSMS sends to its
    stations, when, to how many and how fast. Written once in OCPP 2.0.1 terms; 1.6 stations
    get it through the generic API's mapping, so a payload 1.6 cannot carry is refused at load
    when the profile has 1.6 stations (`Profile` checks that, and `at` against its duration)."""

    at: Annotated[Duration, about("seconds after the run's start")]
    every: Annotated[
        Duration | None, about("then again every so often until the run ends; not set: once")
    ] = None
    action: Annotated[
        str,
        Meta(min_length=1),
        about(
            'the OCPP 2.0.1 action a CSMS sends ("SetChargingProfile", "TriggerMessage", '
            '"Reset"...); 1.6 stations get its 1.6 counterpart'
        ),
    ]
    payload: Annotated[
        dict[str, Any],
        about(
            "the request in OCPP 2.0.1 wire form (camelCase keys); checked against 2.0.1 and, "
            'if the profile has 1.6 stations, against what 1.6 can carry; "{station}" in a '
            "string becomes the station's id. Secrets in it (a password or key field, the "
            "attributeValue of a secret variable such as BasicAuthPassword) are *** in reports, "
            "messages and logs"
        ),
    ] = {}
    share: Annotated[
        Share | None,
        about(
            "send it to this share (0 to 1) of the connected stations, chosen at random "
            "(seeded); not set: to all"
        ),
    ] = None
    rate: Annotated[
        Annotated[float, Meta(gt=0)] | None,
        about("calls per second; not set: to every chosen station at once", unit="1/s"),
    ] = None

    def __post_init__(self) -> None:
        if self.every is not None:
            _require_positive("every", self.every)
        _check_campaign_payload(self.action, self.payload)


def campaign_payload(payload: Any, station: str) -> Any:
    """`payload` with ``{station}`` in its strings replaced by `station`."""
    if isinstance(payload, str):
        return payload.replace("{station}", station)
    if isinstance(payload, dict):
        return {key: campaign_payload(value, station) for key, value in payload.items()}
    if isinstance(payload, list):
        return [campaign_payload(value, station) for value in payload]
    return payload


def _check_campaign_payload(action: str, payload: dict[str, Any]) -> None:
    # Built as the CSMS will build it: what a run would refuse mid-way is refused at load,
    # with the field named. Whether 1.6 can carry it depends on the profile's versions:
    # `Profile` checks that (`check_campaign_for_16`).
    from fleet.ocpp import Direction, OcppVersion, actions_of, dec_hook

    spec = actions_of(OcppVersion.V201).get(action)
    if spec is None or not spec.direction & Direction.CSMS_TO_CHARGE_POINT:
        raise _Invalid(
            ("action",), f"expected an OCPP 2.0.1 action a CSMS sends, got {show_value(action)}"
        )
    wire = campaign_payload(payload, CAMPAIGN_PLACEHOLDER_EXAMPLE)
    try:
        msgspec.convert(wire, type=spec.request, dec_hook=dec_hook)
    except msgspec.ValidationError as error:
        where, _, reason = str(error).partition(" - at `$")
        path = reason.rstrip("`").lstrip(".")
        raise _Invalid(
            ("payload",),
            _secrets.redact_text(
                f"not a valid OCPP 2.0.1 {action} request: {where}"
                + (f" at {path}" if path else ""),
                _campaign_secrets(payload),
            ),
        ) from None


def _campaign_secrets(payload: dict[str, Any]) -> set[str]:
    """The secret values of a campaign's payload (and their ``{station}`` filled example),
    to keep them out of messages."""
    found = _secrets.secret_values(payload, dict[str, Any])
    return found | {campaign_payload(value, CAMPAIGN_PLACEHOLDER_EXAMPLE) for value in found}


def check_campaign_for_16(campaign: CampaignSection) -> None:
    """Check that 1.6 stations can get `campaign` through the generic API's mapping; only
    for a profile whose stations include 1.6 ones.

    Raises:
        _Invalid: naming ``action`` (1.6 has no counterpart) or ``payload`` (a field of it
            1.6 cannot carry), its secrets never quoted.
    """
    from fleet.generic import NotExpressible, Ocpp16Link, adapter
    from fleet.ocpp import OcppVersion, actions_of, dec_hook

    action = campaign.action
    spec = actions_of(OcppVersion.V201)[action]  # checked by the campaign itself
    wire = campaign_payload(campaign.payload, CAMPAIGN_PLACEHOLDER_EXAMPLE)
    request = msgspec.convert(wire, type=spec.request, dec_hook=dec_hook)
    link = Ocpp16Link()
    try:
        adapter(action).request_to_legacy(request, link.request_where(action))
    except NotExpressible as problem:
        secrets = _campaign_secrets(campaign.payload)
        if problem.field == action:  # the whole action
            raise _Invalid(
                ("action",),
                _secrets.redact_text(
                    f"OCPP 1.6 stations cannot get {action}: {problem.reason}", secrets
                ),
            ) from None
        raise _Invalid(
            ("payload",),
            _secrets.redact_text(
                f"OCPP 1.6 stations cannot get this {action}: {problem.field}: {problem.reason}",
                secrets,
            ),
        ) from None


class AnswerSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One ``[[answers]]``: a share of one CSMS action's calls that the stations answer with
    a status (a refusal, say) or a CALLERROR instead of doing what it asks, so that a CSMS's
    handling of refusals and failures can be tested. The status is checked against the
    action's response in every OCPP version the profile's stations use."""

    action: Annotated[
        str,
        Meta(min_length=1),
        about(
            'a CSMS action the stations answer ("ReserveNow", "SetChargingProfile", '
            '"RemoteStartTransaction"...), in its own version\'s name: stations of a version '
            "without it answer it as always"
        ),
    ]
    share: Annotated[
        Share,
        about(
            "share (0 to 1) of its calls answered so, drawn per call (seeded); an action's "
            "shares add up to at most 1"
        ),
    ]
    status: Annotated[
        str | None,
        about(
            'the answer\'s status ("Rejected", "Occupied", "NotSupported"...): a minimal valid '
            "response with it, nothing done; one of status or error"
        ),
    ] = None
    error: Annotated[
        str | None,
        about(
            'a CALLERROR with this code instead ("InternalError", "NotSupported", '
            '"GenericError"...); one of status or error'
        ),
    ] = None

    def __post_init__(self) -> None:
        from fleet.ocpp import Direction, OcppVersion, actions_of

        if (self.status is None) == (self.error is None):
            raise _Invalid(("status",), "expected one of status or error")
        if not any(
            self.action in actions
            and actions[self.action].direction & Direction.CSMS_TO_CHARGE_POINT
            for actions in (actions_of(version) for version in OcppVersion)
        ):
            raise _Invalid(
                ("action",),
                "expected an action a CSMS sends (OCPP 1.6 or 2.0.1), "
                f"got {show_value(self.action)}",
            )

    def check(self, versions: Iterable[str]) -> None:
        """Check the status or error code against the action's response (its ``status``
        enumeration) and CALLERROR codes in each of `versions` ("1.6", "2.0.1") that has the
        action; one of them must have it.

        Raises:
            _Invalid: naming the field (``status``, ``error``, ``action``) and why.
        """
        from fleet.ocpp import Direction, OcppVersion, actions_of, error_codes

        having = []
        for name in versions:
            version = OcppVersion(f"ocpp{name}")
            spec = actions_of(version).get(self.action)
            if spec is not None and spec.direction & Direction.CSMS_TO_CHARGE_POINT:
                having.append((name, version, spec))
        if not having:
            raise _Invalid(
                ("action",),
                f"{self.action} is not an action a CSMS sends in OCPP {' or '.join(versions)}, "
                "the versions of this profile's stations",
            )
        for name, version, spec in having:
            if self.status is not None:
                statuses = response_statuses(spec.response)
                if statuses is None:
                    raise _Invalid(
                        ("status",),
                        f"a {self.action} answer of OCPP {name} has no status; use error "
                        "(a CALLERROR code)",
                    )
                if self.status not in statuses:
                    raise _Invalid(
                        ("status",),
                        f"{show_value(self.status)} is not a {self.action} status of OCPP "
                        f"{name}; one of {', '.join(sorted(statuses))}",
                    )
            else:
                codes = {code.value for code in error_codes(version)}
                if self.error not in codes:
                    raise _Invalid(
                        ("error",),
                        f"{show_value(self.error)} is not a CALLERROR code of OCPP {name}; "
                        f"one of {', '.join(sorted(codes))}",
                    )


def response_statuses(response: type) -> frozenset[str] | None:
    """The values of a response type's ``status`` enumeration; None: it has no status."""
    info = msgspec.inspect.type_info(response)
    for field in getattr(info, "fields", ()):
        if field.name == "status":
            kind = field.type
            if isinstance(kind, msgspec.inspect.EnumType):
                return frozenset(str(member.value) for member in kind.cls)
            if isinstance(kind, msgspec.inspect.LiteralType):
                return frozenset(str(value) for value in kind.values)
            return None
    return None


class FirmwareSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[firmware]``: how the stations' firmware updates, diagnostics and log uploads go
    (1.6 UpdateFirmware, SignedUpdateFirmware, GetDiagnostics, GetLog; 2.0.1 UpdateFirmware,
    GetLog): how long each step takes, and the share of each failure. Nothing is
    transferred: the location is checked for form only."""

    download: Annotated[
        DurationDistribution, about("from Downloading to Downloaded (or DownloadFailed)")
    ] = Distribution.constant(30.0)
    install: Annotated[
        DurationDistribution,
        about("from Installing to the reboot (then Installed after the boot)"),
    ] = Distribution.constant(20.0)
    upload: Annotated[
        DurationDistribution,
        about("from Uploading to Uploaded (or the upload's failure), diagnostics and logs"),
    ] = Distribution.constant(10.0)
    # The update failure shares are absolute, each drawn from one number per update: a
    # share of 0.1 is a tenth of all updates, whatever the others; they add up to at most 1.
    download_failed: Annotated[
        Share, about("share of all updates whose download fails (DownloadFailed)")
    ] = 0.0
    invalid_signature: Annotated[
        Share,
        about("share of all signed updates whose signature does not verify (InvalidSignature)"),
    ] = 0.0
    install_failed: Annotated[
        Share,
        about(
            "share of all updates whose install fails (InstallationFailed; the old firmware "
            "runs): not of those downloaded; the update shares add up to at most 1"
        ),
    ] = 0.0
    install_verification_failed: Annotated[
        Share,
        about(
            "share of all updates whose new firmware fails verification after the reboot "
            "(InstallVerificationFailed; plain 1.6: InstallationFailed)"
        ),
    ] = 0.0
    upload_failed: Annotated[
        Share,
        about("share of diagnostics and log uploads that fail (UploadFailed / UploadFailure)"),
    ] = 0.0

    def __post_init__(self) -> None:
        total = (
            self.download_failed
            + self.invalid_signature
            + self.install_failed
            + self.install_verification_failed
        )
        if total > 1 + 1e-9:
            raise _Invalid(
                ("install_verification_failed",),
                "download_failed + invalid_signature + install_failed + "
                f"install_verification_failed must be <= 1 (shares of all updates), got "
                f"{show_value(round(total, 6))}",
            )


class EmbeddedSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[embedded]``: how the in-process CSMS answers, when ``csms = "embedded"``, what it
    does to connections as real CSMSs do, and the faults it injects."""

    heartbeat_interval: Annotated[
        Duration,
        about(
            "the heartbeat interval the CSMS gives in BootNotification answers: whole seconds "
            "(OCPP's interval is an integer), at least 1"
        ),
    ] = 60.0
    boot_status: Annotated[
        Literal["Accepted", "Pending", "Rejected"],
        about("status of every BootNotification answer (but the shares below)"),
    ] = "Accepted"
    boot_pending_share: Annotated[
        Share, about("share of boots answered Pending instead (the station boots again later)")
    ] = 0.0
    boot_rejected_share: Annotated[
        Share, about("share of boots answered Rejected instead (the station boots again later)")
    ] = 0.0
    response_delay: Annotated[
        Duration, about("delay before each answer, to simulate a slow CSMS")
    ] = 0.0
    action_delay: Annotated[
        dict[str, Duration],
        about(
            'per action, instead of response_delay: { Authorize = "50ms", '
            'StartTransaction = "200ms" }'
        ),
    ] = {}
    error_share: Annotated[
        Share, about("share of calls answered with a CALLERROR (InternalError)")
    ] = 0.0
    malformed_share: Annotated[Share, about("share of calls answered with a malformed frame")] = 0.0
    # Field behaviours, for every connection (see fleet.csms's FieldBehaviour).
    ping_interval: Annotated[
        Duration | None,
        about('a websocket ping this often (a `websockets`-based CSMS: "20s"); not set: no pings'),
    ] = None
    close_after: Annotated[
        Duration | None,
        about("the CSMS closes each connection itself this long after it opened, with close_code"),
    ] = None
    close_code: Annotated[
        int,
        about(
            "the close code of close_after: 1000 normal, 1001 going away, 1011 "
            "internal error, 1012 service restart, 4000-4999 an application's own "
            "(1000-1003, 1007-1014 or 3000-4999)"
        ),
    ] = 1000
    reset_after: Annotated[
        Duration | None,
        about(
            "the CSMS resets each connection (TCP RST, no close frame) this long after it opened"
        ),
    ] = None
    field_jitter: Annotated[
        Duration, about("each close_after / reset_after up to this much later, at random (seeded)")
    ] = 0.0
    ignore_close_share: Annotated[
        Share, about("share of connections that never answer a station's close frame")
    ] = 0.0
    slow_close: Annotated[
        Duration, about("the other connections answer a station's close frame only after this long")
    ] = 0.0
    faults: Annotated[
        tuple[FaultSection, ...], about("restarts, drops, stalls, closes and resets on a schedule")
    ] = ()
    campaigns: Annotated[
        tuple[CampaignSection, ...],
        about(
            "CSMS-initiated actions sent to the stations on a schedule (smart charging, "
            "triggers, resets...), counted by answer"
        ),
    ] = ()

    def __post_init__(self) -> None:
        interval = self.heartbeat_interval
        if interval < 1 or not float(interval).is_integer():
            raise _Invalid(
                ("heartbeat_interval",),
                f"expected whole seconds >= 1 (OCPP's interval is an integer), "
                f"got {show_value(interval)}",
            )
        if self.error_share + self.malformed_share > 1:
            raise _Invalid(("malformed_share",), "error_share + malformed_share must be <= 1")
        if self.boot_pending_share + self.boot_rejected_share > 1:
            raise _Invalid(
                ("boot_rejected_share",), "boot_pending_share + boot_rejected_share must be <= 1"
            )
        for name in ("ping_interval", "close_after", "reset_after"):
            seconds = getattr(self, name)
            if seconds is not None:
                _require_positive(name, seconds)
        _check_close_code("close_code", self.close_code)

    @classmethod
    def from_options(cls, options: dict[str, str]) -> EmbeddedSection:
        """An ``[embedded]`` table from command-line text (field name -> what was typed:
        "20s", "0.1", "1011"), checked as in a profile; the other fields keep their defaults.

        Raises:
            ProfileError: with no source; `location` is the field, `reason` why.
        """
        fields = {name: _option_value(text) for name, text in options.items()}
        try:
            return msgspec.convert(fields, type=cls, dec_hook=decode_hook)
        except msgspec.ValidationError as error:
            location, reason = describe_validation_error(
                error, {EMBEDDED: fields}, prefix=(EMBEDDED,)
            )
            field = (location or "").removeprefix(EMBEDDED).removeprefix(".")
            raise ProfileError(None, field or None, reason) from None


class ReconnectSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[reconnect]``: back-off after a lost connection (OCPP 2.0.1 RetryBackOff* defaults)."""

    wait_minimum: Annotated[
        Duration, about("RetryBackOffWaitMinimum: seconds before the first retry")
    ] = 3.0
    random_range: Annotated[
        Duration,
        about("RetryBackOffRandomRange: up to this many seconds added at random to each wait"),
    ] = 10.0
    repeat_times: Annotated[
        int, Meta(ge=0), about("RetryBackOffRepeatTimes: how often the wait doubles")
    ] = 5


class StationFaultsSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[station_faults]``: when faults of the fleet's own stations end a run.

    A station that faults (an exception escapes it: a bug, a library's fault, a custom
    behaviour's error) is counted and restarted by its watchdog; the run goes on. It stops
    early, and still writes its report, only when `stop_share` of the stations faulted
    within `window`: then the figures would describe the tool, not the CSMS."""

    stop_share: Annotated[
        Share,
        about(
            "share of the stations (0..1) that must fault within `window` to stop "
            "the run; 1 never stops for less than the whole fleet"
        ),
    ] = 0.5
    window: Annotated[
        Duration, about("the sliding window in which stop_share of the stations must fault")
    ] = 60.0


class TransactionMessagesSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[transaction_messages]``: how stations keep and retry StartTransaction,
    StopTransaction, MeterValues (1.6) and TransactionEvent (2.0.1) messages."""

    attempts: Annotated[
        int,
        Meta(ge=1),
        about(
            "TransactionMessageAttempts: sends of one message before it is given up (and counted)"
        ),
    ] = 3
    retry_interval: Annotated[
        Duration,
        about(
            "TransactionMessageRetryInterval: wait after a CALLERROR or timeout, times the attempts"
        ),
    ] = 10.0
    queue_limit: Annotated[
        int,
        Meta(ge=1),
        about(
            "messages a station holds (offline, or waiting for the CSMS) before `overflow` applies"
        ),
    ] = 1000
    overflow: Annotated[
        Literal["drop-meter-values", "drop-oldest", "drop-newest"],
        about(
            "which message a full queue drops: the oldest periodic meter values "
            "(else the oldest), the oldest, or the new one"
        ),
    ] = "drop-meter-values"


class EndSection(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[end]``: how stations wind down when `duration` is over (the run's drain phase,
    reported apart from the hold). An interrupted run (Ctrl-C, SIGTERM) ends at once."""

    mode: Annotated[
        Literal["stop-sessions", "disconnect"],
        about(
            '"stop-sessions": each station stops its running sessions '
            "(StopTransaction / TransactionEvent Ended), sends what it still holds "
            'and closes; "disconnect": stations drop their TCP connections at once, '
            "without a websocket close handshake, sessions left open, as a power cut "
            "would. A custom behaviour sees station.stopping either way and ends as it "
            "chooses"
        ),
    ] = "stop-sessions"
    window: Annotated[
        Duration | None,
        about(
            "stop-sessions: each session stops at a random moment within this "
            "window, so the fleet does not stop in one burst of the tool's making; "
            "default: 10 s, at most half of timeouts.drain. Must be shorter than "
            "timeouts.drain"
        ),
    ] = None

    def stop_window(self, drain: float) -> float:
        """Seconds over which sessions stop, given the drain timeout."""
        return self.window if self.window is not None else min(10.0, drain / 2)


class Profile(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A load test: the stations, how they ramp up and behave, and where they connect."""

    name: Annotated[str, Meta(min_length=1), about("short name, shown in reports")]
    description: Annotated[str, about("what the profile is for")] = ""
    csms: Annotated[
        str,
        SecretInUrl,
        about(
            '"embedded" (start the embedded CSMS in-process) or a ws:// or wss:// URL, '
            "which may hold a user and password (ws://user:password@host)"
        ),
    ] = EMBEDDED
    seed: Annotated[int, about("seed of every random draw, so that runs are reproducible")] = 1
    duration: Annotated[Duration, about("seconds stations are held after the ramp starts (> 0)")]
    behaviour: Annotated[
        str | None,
        about(
            '"module:function" of a custom async station driver; not set: the built-in behaviour'
        ),
    ] = None
    stations: Annotated[StationsSection, about("the stations")]
    ramp: Annotated[RampSection, about("how fast they connect; default: 50 per second")] = (
        RampSection(rate=50.0)
    )
    session: Annotated[SessionSection, about("their charging sessions")] = SessionSection()
    auth: Annotated[AuthSection, about("HTTP Basic authentication")] = AuthSection()
    tls: Annotated[TlsSection, about("TLS certificates")] = TlsSection()
    timeouts: Annotated[TimeoutsSection, about("how long to wait for things")] = TimeoutsSection()
    embedded: Annotated[EmbeddedSection, about("the embedded CSMS's answers")] = EmbeddedSection()
    reconnect: Annotated[ReconnectSection, about("reconnection back-off")] = ReconnectSection()
    transaction_messages: Annotated[
        TransactionMessagesSection, about("retries and the offline queue of transaction messages")
    ] = TransactionMessagesSection()
    station_faults: Annotated[
        StationFaultsSection, about("when the fleet's own faults stop the run")
    ] = StationFaultsSection()
    end: Annotated[EndSection, about("how stations wind down at the end")] = EndSection()
    answers: Annotated[
        tuple[AnswerSection, ...],
        about(
            "per-action answer overrides: shares of a CSMS action's calls the stations answer "
            "with a status (a refusal) or a CALLERROR instead of doing what it asks"
        ),
    ] = ()
    firmware: Annotated[
        FirmwareSection, about("firmware updates, diagnostics and log uploads: times, failures")
    ] = FirmwareSection()
    thresholds: Annotated[
        dict[str, str],
        about(
            'pass/fail checks at the end of the run, figure -> condition ("p99" = '
            '"< 2s", "BootNotification.p99" = "< 500ms", "Authorize.response.p99" = '
            '"< 200ms" (the response time), "errors" = "< 0.1%", "timeouts" = "== 0", '
            '"SetChargingProfile.reaction.p99" = "< 2s" (a CSMS-initiated action\'s reaction '
            "time; answer.p99: the stations' time to answer it)); "
            'figures are the hold\'s unless a PHASE: prefix names another ("ramp:", '
            '"drain:", "fault-1:", "run:" for the whole run); an ACTION must be one the '
            "stations' versions have, sent by the stations (or, for answer. and reaction., by "
            "the CSMS), else it is refused at load; a failed one makes `fleet run` exit 4"
        ),
    ] = {}

    def __post_init__(self) -> None:
        _require_positive("duration", self.duration)
        if self.end.window is not None and self.end.mode == "disconnect":
            raise _Invalid(
                ("end", "window"),
                'only for mode = "stop-sessions": a disconnect drops every connection at once',
            )
        if self.end.window is not None and self.end.window >= self.timeouts.drain:
            raise _Invalid(
                ("end", "window"),
                f"expected less than timeouts.drain ({show_value(self.timeouts.drain)}), "
                f"got {show_value(self.end.window)}",
            )
        url = urlsplit(self.csms)
        if self.csms != EMBEDDED and not (url.scheme in ("ws", "wss") and url.hostname):
            raise _Invalid(
                ("csms",),
                'expected "embedded" or a ws:// or wss:// URL, '
                f"got {show_value(redact_url(self.csms))}",
            )
        if self.csms != EMBEDDED:
            _check_host_and_port(url.hostname or "", url)
        if self.behaviour is not None and not _BEHAVIOUR.fullmatch(self.behaviour):
            raise _Invalid(
                ("behaviour",),
                f'expected "module:function", got {show_value(self.behaviour)}',
            )
        self._check_answers()
        self._check_campaigns()
        self._check_threshold_actions()

    def _check_threshold_actions(self) -> None:
        # The figure's grammar is fleet.report's (`parse_thresholds`, run by `fleet run` and
        # `profile check`); here, what only the profile knows: whether its stations can
        # produce the figure of the action named, else it would fail at the end as "none".
        from fleet.ocpp import Direction, OcppVersion, actions_of

        versions = [name for name, share in self.stations.versions.items() if share > 0]
        specs = [actions_of(OcppVersion(f"ocpp{name}")) for name in versions]
        in_versions = " or ".join(versions)
        for key in self.thresholds:
            found = _THRESHOLD_KEY.fullmatch(key)
            if found is None or found["action"] is None:
                continue  # the grammar's message comes from parse_thresholds
            action, kind = found["action"], (found["kind"] or "").rstrip(".")
            directions = [spec[action].direction for spec in specs if action in spec]
            by_csms = any(d & Direction.CSMS_TO_CHARGE_POINT for d in directions)
            by_station = any(d & Direction.CHARGE_POINT_TO_CSMS for d in directions)
            if not directions:
                reason = f"unknown action {show_value(action)}"
            elif kind in ("answer", "reaction") and not by_csms:
                reason = (
                    f"{kind}. is for actions a CSMS sends; the stations send {action}: use "
                    f"{action}.p99 (or .response.p99)"
                )
            elif kind not in ("answer", "reaction") and not by_station:
                reason = (
                    f"the stations do not send {action}, the CSMS does: use "
                    f"{action}.answer.p99 or {action}.reaction.p99"
                )
            else:
                continue
            raise _Invalid(
                ("thresholds", key), f"{reason} (this profile's stations: OCPP {in_versions})"
            )

    def _check_campaigns(self) -> None:
        # As [[answers]]: only against the versions the stations use (a 2.0.1-only fleet may
        # get GetBaseReport); and a campaign after the run's end would never be sent.
        uses_16 = self.stations.versions.get("1.6", 0) > 0
        for index, campaign in enumerate(self.embedded.campaigns):
            if campaign.at >= self.duration:
                raise _Invalid(
                    ("embedded", "campaigns", index, "at"),
                    f"expected less than duration ({show_value(self.duration)}), got "
                    f"{show_value(campaign.at)}: the campaign would never be sent",
                )
            if uses_16:
                try:
                    check_campaign_for_16(campaign)
                except _Invalid as problem:
                    raise _Invalid(
                        ("embedded", "campaigns", index, *problem.field), problem.reason
                    ) from None

    def _check_answers(self) -> None:
        versions = [name for name, share in self.stations.versions.items() if share > 0]
        shares: dict[str, float] = {}
        for index, answer in enumerate(self.answers):
            try:
                answer.check(versions)
            except _Invalid as problem:
                raise _Invalid(("answers", index, *problem.field), problem.reason) from None
            shares[answer.action] = shares.get(answer.action, 0.0) + answer.share
            if shares[answer.action] > 1 + 1e-9:
                raise _Invalid(
                    ("answers", index, "share"),
                    f"the shares of {answer.action}'s answers add up to more than 1",
                )

    def with_overrides(
        self,
        *,
        csms: str | None = None,
        stations: int | None = None,
        duration: float | str | None = None,
    ) -> Profile:
        """This profile with command-line overrides, checked as if they were in the file.

        Args:
            csms: "embedded" or a ws:// / wss:// URL (``--csms``).
            stations: the station count (``--stations``).
            duration: seconds, or a duration string such as "90s" (``--duration``).

        Raises:
            ProfileError: an override is invalid; the message names the field, no file.
        """
        changes: dict[str, Any] = {}
        if csms is not None:
            changes["csms"] = _convert_override(csms, ("csms",))
        if stations is not None:
            count = _convert_override(stations, ("stations", "count"))
            changes["stations"] = msgspec.structs.replace(self.stations, count=count)
        if duration is not None:
            changes["duration"] = _convert_override(duration, ("duration",))
        try:
            return msgspec.structs.replace(self, **changes)  # runs __post_init__
        except _Invalid as problem:
            raise ProfileError(None, render_path(problem.field), problem.reason) from None


# A threshold's key (fleet.report's grammar, `_thresholds._KEY`), for the action it names.
_THRESHOLD_KEY = re.compile(
    r"(?:[A-Za-z0-9-]+:)?"
    r"(?:(?!(?:response|answer|reaction)\.)(?P<action>[A-Za-z0-9]+)\.)?"
    r"(?P<kind>response\.|answer\.|reaction\.)?"
    r"(?:p50|p90|p99\.9|p99|max|mean|errors|timeouts)"
)


def _convert_override(value: object, path: FieldPath) -> Any:
    document: Any = value
    for key in reversed(path):
        document = {key: document}
    try:
        return msgspec.convert(value, type=_type_at(path), dec_hook=decode_hook)
    except msgspec.ValidationError as error:
        location, reason = describe_validation_error(error, document, prefix=path)
        raise ProfileError(None, location, reason) from None


def _check_host_and_port(host: str, url: Any) -> None:
    try:
        url.port  # noqa: B018 (urlsplit checks the port when asked for it)
    except ValueError:
        shown = redact_url(url.geturl())
        raise _Invalid(("csms",), f"the port of {shown} is not in 0-65535") from None
    try:
        host.encode("idna")
    except UnicodeError:
        shown = redact_url(url.geturl())
        raise _Invalid(("csms",), f"{host!r} in {shown} is not a host name") from None


def parse_fault_option(text: str) -> FaultSection:
    """A fault from the command line, as the keys of ``[[embedded.faults]]``:
    ``"restart=5s,at=30s,every=60s"``, ``"drop=0.2,at=1m"``, ``"stall=2s,at=45s"``,
    ``"close=0.2,code=1011,at=30s"``, ``"reset=0.1,at=45s"``.

    Raises:
        ProfileError: named ``--fault``, with the field and why.
    """
    fields: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ProfileError(
                "--fault", None, f'expected KEY=VALUE pairs like "restart=5s,at=30s", got {text!r}'
            )
        fields[key.strip()] = _option_value(value.strip())
    try:
        return msgspec.convert(fields, type=FaultSection, dec_hook=decode_hook)
    except msgspec.ValidationError as error:
        location, reason = describe_validation_error(error, fields)
        raise ProfileError("--fault", location, reason) from None


def _option_value(text: str) -> int | float | str:
    # As TOML would read it: 1011 an integer (a close code), 0.2 a number, "30s" a string.
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


# --- error messages -------------------------------------------------------------------------

_AT = re.compile(r"(?P<reason>.*?)(?: - at (?:`key` in )?`\$(?P<path>[^`]*)`)?", re.DOTALL)
_SEGMENT = re.compile(r"\.(?P<name>[A-Za-z_]\w*)|\[(?P<index>\d+)\]|(?P<any>\[\.\.\.\])")
_EXPECTED = re.compile(r"Expected `(?P<type>[^`]+)`(?P<constraint>.*?)(?:, got `(?P<got>[^`]+)`)?")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<name>.*)`")
_MISSING_FIELD = re.compile(r"Object missing required field `(?P<name>.*)`")
_BAD_ENUM = re.compile(r"Invalid enum value (?P<value>.*)")
_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "object": "a table",
    "array": "an array",
}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_MISSING = object()


def describe_validation_error(
    error: msgspec.ValidationError, document: Any, prefix: FieldPath = ()
) -> tuple[str | None, str]:
    """(field path, reason) for a msgspec ValidationError from decoding `document`.

    `document` is the raw decoded TOML, used to quote the offending value; `prefix` is where
    the decoded value sits in it when only part of a profile was decoded.
    """
    match = _AT.fullmatch(str(error))
    assert match is not None  # the pattern matches any text
    path: list[str | int] = list(prefix)
    for segment in _SEGMENT.finditer(match["path"] or ""):
        if segment["name"]:
            path.append(segment["name"])
        elif segment["index"]:
            path.append(int(segment["index"]))
        elif (key := _find_bad_key(document, tuple(path))) is not None:
            # msgspec writes "[...]" for a key of a mapping; the bad value says which one
            path.append(key)
    cause = error.__cause__
    if isinstance(cause, _Invalid):
        path += cause.field
        return render_path(tuple(path)) or None, cause.reason
    value = _fit_to_quote(_lookup(document, tuple(path)), tuple(path))
    reason = _explain(match["reason"], value, tuple(path))
    return render_path(tuple(path)) or None, reason


class _Hidden:
    """A secret in a message: said by its kind only ("got an integer")."""

    def __init__(self, value: object) -> None:
        self.kind = _KIND_WORDS.get(type(value), "a value")

    def __str__(self) -> str:
        return self.kind


_KIND_WORDS = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "a string",
    dict: "a table",
    list: "an array",
}


def _fit_to_quote(value: object, path: FieldPath) -> object:
    """`value` as a message may quote it: a secret (or what holds one) by its kind only, a
    URL without its password."""
    if value is _MISSING:
        return value
    annotation = _type_at(path)
    if holds_secret(annotation):
        return _Hidden(value)
    if is_url_with_secret(annotation) and isinstance(value, str):
        return redact_url(value)
    return value


def _explain(message: str, value: object, path: FieldPath) -> str:
    if found := _UNKNOWN_FIELD.fullmatch(message):
        return f"unknown field '{found['name']}'"
    if found := _MISSING_FIELD.fullmatch(message):
        return f"missing required field '{found['name']}'"
    if found := _EXPECTED.fullmatch(message):
        expected = " or ".join(
            _TYPE_WORDS.get(name, name) for name in found["type"].split(" | ") if name != "null"
        )
        got = show_value(value) if value is not _MISSING else _TYPE_WORDS.get(found["got"], "")
        return f"expected {expected}{_constraint_words(found['constraint'])}" + (
            f", got {got}" if got else ""
        )
    if found := _BAD_ENUM.fullmatch(message):
        allowed = get_args(_strip(_type_at(path)))
        choices = ", ".join(show_value(choice) for choice in allowed) or "a known value"
        got = show_value(value) if value is not _MISSING else found["value"]
        return f"expected one of {choices}, got {got}"
    return message[:1].lower() + message[1:]


def _constraint_words(constraint: str) -> str:
    # msgspec writes float bounds as "0.0"; and string lengths read better in words.
    constraint = re.sub(r"(\d)\.0\b", r"\1", constraint)
    if constraint == " of length >= 1":
        return " that is not empty"
    if found := re.fullmatch(r" of length <= (\d+)", constraint):
        return f" of at most {found[1]} characters"
    return constraint


def _find_bad_key(document: Any, mapping_path: FieldPath) -> str | None:
    mapping = _lookup(document, mapping_path)
    mapping_type = _strip(_type_at(mapping_path))
    if isinstance(mapping, dict) and get_origin(mapping_type) is dict:
        value_type = get_args(mapping_type)[1]
        for key, item in mapping.items():
            try:
                msgspec.convert(item, type=value_type, dec_hook=decode_hook)
            except msgspec.ValidationError:
                return key
    return None


def _type_at(path: FieldPath) -> Any:
    """The schema type at `path` (Annotated and Optional kept), or None off the schema."""
    current: Any = Profile
    for segment in path:
        container = _strip(current)
        if isinstance(container, type) and issubclass(container, Struct):
            fields = {field.name: field.type for field in msgspec.structs.fields(container)}
            current = fields.get(str(segment))
        elif get_origin(container) is dict:
            current = get_args(container)[1]
        elif get_origin(container) in (tuple, list):
            current = get_args(container)[0]
        else:
            return None
    return current


def _strip(annotation: Any) -> Any:
    """`annotation` without Annotated metadata and without `| None`."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    members = [member for member in get_args(annotation) if member is not type(None)]
    if type(None) in get_args(annotation) and len(members) == 1:
        return _strip(members[0])
    return annotation


def _lookup(document: Any, path: FieldPath) -> Any:
    for segment in path:
        in_table = isinstance(document, dict) and segment in document
        in_array = (
            isinstance(document, list) and isinstance(segment, int) and segment < len(document)
        )
        if not (in_table or in_array):
            return _MISSING
        document = document[segment]
    return document


def render_path(path: FieldPath) -> str:
    """``stations.count``, ``ramp.steps[1].at``, ``stations.versions."2.0"``: TOML's dotted
    keys, with ``[i]`` for array items."""
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            key = segment if _BARE_KEY.fullmatch(segment) else json.dumps(segment)
            text += f".{key}" if text else key
    return text


def show_value(value: object) -> str:
    """A value as TOML would write it, short enough for a one-line message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def redacted(value: Any, schema: Any = None) -> Any:
    """`value` (a Struct, or builtins: a `Profile`'s unless `schema` says otherwise) as
    builtins with every secret redacted: see `fleet.profile._secrets.redacted`. Here, not
    there, because the markers it reads are defined there and the model imports them."""
    if schema is None and not isinstance(value, Struct):
        schema = Profile
    return _secrets.redacted(value, schema)


def secret_values(value: Any, schema: Any = None) -> set[str]:
    """The secret strings in `value` (a Struct, or a `Profile`'s builtins by default): see
    `fleet.profile._secrets.secret_values`."""
    if schema is None and not isinstance(value, Struct):
        schema = Profile
    return _secrets.secret_values(value, schema)
