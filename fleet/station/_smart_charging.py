"""Smart charging, without I/O: the charging profiles a station holds and the limit they give.

One version-neutral model (`Profile`, `Schedule`, `Period`), built from the 1.6 and 2.0.1
message types by `profile_from_v16` / `profile_from_v201`, and one per-station store,
`ChargingProfiles`, that installs, replaces, clears and reports profiles and computes the
composite schedule. Time is always given as an argument (an aware `datetime` on the station's
clock); nothing here reads a clock or sleeps.

The rules (1.6: section 3.13 "Smart Charging" and 5.5 / 5.7 / 5.16; 2.0.1: functional block K,
use cases K01, K08, K09, K10 and Part 2 section 3 "Smart Charging" / "Composite Schedule"):

- Within one purpose the *leading* profile at an instant is the one with the highest stack
  level that is valid then (validFrom <= t < validTo) **and** has a schedule period defined
  then (after the schedule's start and its first startPeriod, before start + duration). A
  higher profile that has run out does not shadow a lower one.
- TxProfile (of the EVSE's running transaction) overrides TxDefaultProfile. A TxDefaultProfile
  on EVSE 0 applies to every EVSE; one on the EVSE itself wins over it at an equal stack level.
- The EVSE's limit is the minimum of that and the leading ChargingStationMaxProfile (1.6
  ChargePointMaxProfile), compared in watts: amperes are per phase, W = A * V * phases,
  numberPhases 3 when absent.
- Relative profiles start when the transaction started (with no transaction: at the start of
  the requested composite schedule, or at the instant asked). Recurring ones restart every
  24 h / 7 days at startSchedule's time of day / weekday (before and after startSchedule).
- The composite for EVSE 0 is the grid connection: the sum of the EVSEs' limits, capped by the
  ChargingStationMaxProfile (unlimited when any EVSE is unlimited).

`limit_at` and `next_change_after` and `composite` all evaluate the same function at the same
break points, so they agree by construction.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Final, Literal, TypeVar

import msgspec
from msgspec import UNSET

from fleet.ocpp import v16, v201

__all__ = [
    "DEFAULT_VOLTAGE",
    "ChargingProfiles",
    "Kind",
    "Limit",
    "Outcome",
    "Period",
    "Profile",
    "Purpose",
    "Recurrency",
    "Schedule",
    "Unit",
    "clear_v16",
    "clear_v201",
    "composite_v16",
    "composite_v201",
    "get_profiles_v201",
    "profile_from_v16",
    "profile_from_v201",
    "profile_to_v201",
    "set_profile_v16",
    "set_profile_v201",
]

T = TypeVar("T")

DEFAULT_VOLTAGE: Final = 230.0
_DAY: Final = dt.timedelta(days=1)
_WEEK: Final = dt.timedelta(days=7)
# How far `next_change_after` looks for recurring break points before jumping to the next
# fixed one: two weeks holds two whole periods of any recurrence.
_HORIZON: Final = 2 * _WEEK


class Purpose(enum.StrEnum):
    STATION_MAX = "ChargingStationMaxProfile"  # 1.6: ChargePointMaxProfile
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class Kind(enum.StrEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class Recurrency(enum.StrEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"


class Unit(enum.StrEnum):
    A = "A"
    W = "W"


class Period(msgspec.Struct, frozen=True, kw_only=True):
    start: int  # seconds from the schedule's start
    limit: float  # in the schedule's unit; amperes are per phase
    number_phases: int | None = None  # None: 3 (both specs)
    phase_to_use: int | None = None


class Schedule(msgspec.Struct, frozen=True, kw_only=True):
    unit: Unit
    periods: tuple[Period, ...]
    start: dt.datetime | None = None
    duration: int | None = None  # seconds; None: the last period goes on
    min_rate: float | None = None
    id: int = 0  # 2.0.1 ChargingSchedule.id; 1.6 has none


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    schedules: tuple[Schedule, ...]  # 1.6: one; 2.0.1: 1..3, the first one is used
    evse: int = 0  # 1.6 connectorId; 0 = the station
    recurrency: Recurrency | None = None
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    transaction_id: str | None = None  # 1.6 integer ids as their decimal text
    installed_at: dt.datetime | None = None  # set by the store

    @property
    def schedule(self) -> Schedule:
        return self.schedules[0]


class Limit(msgspec.Struct, frozen=True, kw_only=True):
    """An effective limit: the same limit in both units, and the phases it is for."""

    watts: float
    amps: float  # per phase
    phases: int
    unit: Unit  # the unit of the schedule that set it

    def value(self, unit: Unit) -> float:
        return self.watts if unit is Unit.W else self.amps

    def cap_watts(self, ev_phases: int, voltage: float = DEFAULT_VOLTAGE) -> float:
        """The power an EV drawing on `ev_phases` phases may take: a limit in amperes is per
        phase (an EV on fewer phases gets less), one in watts is the power itself."""
        if self.unit is Unit.W:
            return self.watts
        return self.amps * voltage * min(ev_phases, self.phases)


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to SetChargingProfile / ClearChargingProfile before it is put in a message."""

    status: str  # Accepted, Rejected, NotSupported (1.6), Unknown (clear)
    reason: str | None = None  # a 2.0.1 reasonCode (Appendix "Reason codes")
    info: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"


_ACCEPTED: Final = Outcome(status="Accepted")


def _reject(reason: str, info: str) -> Outcome:
    return Outcome(status="Rejected", reason=reason, info=info)


# --- building the model from the messages --------------------------------------------------


def _opt(value: T | msgspec.UnsetType) -> T | None:
    return None if isinstance(value, msgspec.UnsetType) else value


def profile_from_v16(connector_id: int, p: v16.ChargingProfile) -> Profile:
    """A 1.6 SetChargingProfile's csChargingProfiles, on `connector_id`."""
    s = p.charging_schedule
    purpose = {
        v16.ChargingProfilePurposeType.CHARGE_POINT_MAX_PROFILE: Purpose.STATION_MAX,
        v16.ChargingProfilePurposeType.TX_DEFAULT_PROFILE: Purpose.TX_DEFAULT,
        v16.ChargingProfilePurposeType.TX_PROFILE: Purpose.TX,
    }[p.charging_profile_purpose]
    tx = _opt(p.transaction_id)
    recurrency = _opt(p.recurrency_kind)
    return Profile(
        id=p.charging_profile_id,
        stack_level=p.stack_level,
        purpose=purpose,
        kind=Kind(p.charging_profile_kind.value),
        schedules=(
            Schedule(
                unit=Unit(s.charging_rate_unit.value),
                periods=tuple(
                    Period(start=q.start_period, limit=q.limit, number_phases=_opt(q.number_phases))
                    for q in s.charging_schedule_period
                ),
                start=_opt(s.start_schedule),
                duration=_opt(s.duration),
                min_rate=_opt(s.min_charging_rate),
            ),
        ),
        evse=connector_id,
        recurrency=None if recurrency is None else Recurrency(recurrency.value),
        valid_from=_opt(p.valid_from),
        valid_to=_opt(p.valid_to),
        transaction_id=None if tx is None else str(tx),
    )


def _schedule_from_v201(s: v201.ChargingSchedule) -> Schedule:
    return Schedule(
        id=s.id,
        unit=Unit(s.charging_rate_unit.value),
        periods=tuple(
            Period(
                start=q.start_period,
                limit=q.limit,
                number_phases=_opt(q.number_phases),
                phase_to_use=_opt(q.phase_to_use),
            )
            for q in s.charging_schedule_period
        ),
        start=_opt(s.start_schedule),
        duration=_opt(s.duration),
        min_rate=_opt(s.min_charging_rate),
    )


class UnsupportedPurpose(ValueError):
    """A 2.0.1 purpose this model does not hold (ChargingStationExternalConstraints)."""


def profile_from_v201(evse_id: int, p: v201.ChargingProfile) -> Profile:
    """A 2.0.1 SetChargingProfile's chargingProfile, on `evse_id`.

    Raises `UnsupportedPurpose` for ChargingStationExternalConstraints, which a CSMS may not set
    (it is the station's own, K11-K14); `set_profile_v201` turns it into a Rejected.
    """
    if (
        p.charging_profile_purpose
        is v201.ChargingProfilePurposeEnum.CHARGING_STATION_EXTERNAL_CONSTRAINTS
    ):
        raise UnsupportedPurpose(p.charging_profile_purpose.value)
    recurrency = _opt(p.recurrency_kind)
    return Profile(
        id=p.id,
        stack_level=p.stack_level,
        purpose=Purpose(p.charging_profile_purpose.value),
        kind=Kind(p.charging_profile_kind.value),
        schedules=tuple(_schedule_from_v201(s) for s in p.charging_schedule),
        evse=evse_id,
        recurrency=None if recurrency is None else Recurrency(recurrency.value),
        valid_from=_opt(p.valid_from),
        valid_to=_opt(p.valid_to),
        transaction_id=_opt(p.transaction_id),
    )


def _u(value: T | None) -> T | msgspec.UnsetType:
    return UNSET if value is None else value


def profile_to_v201(p: Profile) -> v201.ChargingProfile:
    """A profile as 2.0.1 reports it (ReportChargingProfiles)."""
    return v201.ChargingProfile(
        id=p.id,
        stack_level=p.stack_level,
        charging_profile_purpose=v201.ChargingProfilePurposeEnum(p.purpose.value),
        charging_profile_kind=v201.ChargingProfileKindEnum(p.kind.value),
        charging_schedule=[
            v201.ChargingSchedule(
                id=s.id,
                charging_rate_unit=v201.ChargingRateUnitEnum(s.unit.value),
                charging_schedule_period=[
                    v201.ChargingSchedulePeriod(
                        start_period=q.start,
                        limit=q.limit,
                        number_phases=_u(q.number_phases),
                        phase_to_use=_u(q.phase_to_use),
                    )
                    for q in s.periods
                ],
                start_schedule=_u(s.start),
                duration=_u(s.duration),
                min_charging_rate=_u(s.min_rate),
            )
            for s in p.schedules
        ],
        recurrency_kind=(
            UNSET if p.recurrency is None else v201.RecurrencyKindEnum(p.recurrency.value)
        ),
        valid_from=_u(p.valid_from),
        valid_to=_u(p.valid_to),
        transaction_id=_u(p.transaction_id),
    )


# --- evaluating one profile ------------------------------------------------------------------


def _floor_tenth(x: float) -> float:
    """Round down to the 0.1 the wire allows, so a converted limit never exceeds its source."""
    return math.floor(x * 10 + 1e-6) / 10


class _Tx(msgspec.Struct, frozen=True):
    id: str
    started: dt.datetime


class ChargingProfiles:
    """The charging profiles of one station and the limits they give (sans-IO).

    `version` is "1.6" or "2.0.1" (their validation and replacement rules differ);
    `evse_count` EVSEs (1.6 connectors) numbered from 1; `voltage` the line-to-neutral voltage
    used to convert A <-> W; `allowed_units` 1.6 ChargingScheduleAllowedChargingRateUnit /
    2.0.1 SmartChargingCtrlr.RateUnit; `max_stack_level` 1.6 ChargeProfileMaxStackLevel /
    2.0.1 SmartChargingCtrlr.ProfileStackLevel; `max_profiles` 1.6
    MaxChargingProfilesInstalled / 2.0.1 SmartChargingCtrlr.Entries(ChargingProfiles);
    `periods_max` 1.6 ChargingScheduleMaxPeriods / 2.0.1 PeriodsPerSchedule;
    `enabled` False makes 1.6 answer NotSupported and 2.0.1 Rejected (SmartChargingCtrlr
    .Enabled); `persistent` whether profiles survive a reboot (TxProfiles never do: a reboot
    ends the transactions).
    """

    def __init__(
        self,
        *,
        version: Literal["1.6", "2.0.1"],
        evse_count: int,
        voltage: float = DEFAULT_VOLTAGE,
        allowed_units: Iterable[Unit] = (Unit.A, Unit.W),
        max_stack_level: int = 8,
        max_profiles: int = 16,
        periods_max: int = 24,
        phase_switching: bool = False,
        iso15118: bool = False,
        enabled: bool = True,
        persistent: bool = True,
        default_unit: Unit = Unit.A,
    ) -> None:
        self.version = version
        self.evse_count = evse_count
        self.voltage = voltage
        self.allowed_units = frozenset(allowed_units)
        self.max_stack_level = max_stack_level
        self.max_profiles = max_profiles
        self.periods_max = periods_max
        self.phase_switching = phase_switching
        self.iso15118 = iso15118
        self.enabled = enabled
        self.persistent = persistent
        self.default_unit = default_unit
        self._profiles: dict[int, Profile] = {}
        self._tx: dict[int, _Tx] = {}

    # --- the store ---------------------------------------------------------------------------

    @property
    def profiles(self) -> tuple[Profile, ...]:
        return tuple(self._profiles.values())

    def transaction(self, evse: int) -> tuple[str, dt.datetime] | None:
        tx = self._tx.get(evse)
        return None if tx is None else (tx.id, tx.started)

    def start_transaction(self, evse: int, transaction_id: str, at: dt.datetime) -> None:
        """A transaction started on `evse` at `at`: relative profiles start then; TxProfiles
        for it may now be set. (1.6: the id is the CSMS's transactionId as text.)"""
        self._tx[evse] = _Tx(str(transaction_id), at)

    def set_transaction_id(self, evse: int, transaction_id: str) -> None:
        """The running transaction on `evse` got its id (1.6: from StartTransaction.conf);
        its TxProfiles follow it."""
        tx = self._tx.get(evse)
        if tx is None:
            return
        new = str(transaction_id)
        for p in list(self._profiles.values()):
            if p.purpose is Purpose.TX and p.evse == evse and p.transaction_id == tx.id:
                self._profiles[p.id] = msgspec.structs.replace(p, transaction_id=new)
        self._tx[evse] = _Tx(new, tx.started)

    def install_for_transaction(self, evse: int, p: Profile, now: dt.datetime) -> Outcome:
        """The TxProfile of a 1.6 RemoteStartTransaction / 2.0.1 RequestStartTransaction
        (which carries no transactionId, F01.FR.11), once the transaction runs on `evse`."""
        tx = self._tx.get(evse)
        tid = None if tx is None else tx.id
        return self.install(msgspec.structs.replace(p, evse=evse, transaction_id=tid), now)

    def end_transaction(self, evse: int) -> list[Profile]:
        """The transaction on `evse` ended: its TxProfiles go (a TxProfile lives as long as its
        transaction: 1.6 3.13.1, 2.0.1 K01 / Part 2 "Charging profile purposes"). Returns them."""
        self._tx.pop(evse, None)
        gone = [p for p in self._profiles.values() if p.purpose is Purpose.TX and p.evse == evse]
        for p in gone:
            del self._profiles[p.id]
        return gone

    def reboot(self) -> None:
        """A reboot: transactions end, TxProfiles go, the rest stay when `persistent` (1.6
        errata 3.37 on 5.16 and 2.0.1 K01.FR.27: profiles SHALL persist across reboots; a
        TxProfile outlives nothing its transaction does not). A lost connection changes
        nothing here: offline, the profiles in force go on (1.6 3.13.4, 2.0.1 K06/K07)."""
        self._tx.clear()
        if not self.persistent:
            self._profiles.clear()
        else:
            for pid in [p.id for p in self._profiles.values() if p.purpose is Purpose.TX]:
                del self._profiles[pid]

    def validate(self, p: Profile) -> Outcome:
        """The refusals of 1.6 5.16 / 3.13 and 2.0.1 K01, without installing."""
        v201_ = self.version == "2.0.1"
        if not self.enabled:
            return (
                _reject("NotEnabled", "smart charging is disabled")
                if v201_
                else Outcome(status="NotSupported")
            )
        if not 0 <= p.evse <= self.evse_count:  # K01.FR.28
            return _reject("UnknownEvse", f"no EVSE {p.evse}")
        if p.purpose is Purpose.STATION_MAX and p.evse != 0:
            # 1.6 3.13.1 "can only be set at connectorId 0"; 2.0.1 SetChargingProfile evseId
            return _reject("InvalidProfile", "ChargingStationMaxProfile is for EVSE 0 only")
        if v201_ and p.purpose is Purpose.STATION_MAX and p.kind is Kind.RELATIVE:  # K01.FR.38
            return _reject("InvalidProfile", "ChargingStationMaxProfile cannot be Relative")
        if p.purpose is Purpose.TX:
            if p.evse == 0:  # 1.6 3.13.2 / 2.0.1 K01.FR.16
                return _reject("InvalidProfile", "TxProfile needs an EVSE > 0")
            if v201_ and p.transaction_id is None:  # K01.FR.03
                return _reject("InvalidProfile", "TxProfile without transactionId")
            tx = self._tx.get(p.evse)
            if tx is None:  # 1.6 5.16 (no transaction on the connector) / K01.FR.09
                return _reject("TxNotFound", f"no transaction on EVSE {p.evse}")
            if p.transaction_id is not None and p.transaction_id != tx.id:  # K01.FR.33
                return _reject("TxNotFound", f"transaction {p.transaction_id} is not running")
        elif p.transaction_id is not None and v201_:  # transactionId: TxProfile only
            return _reject("InvalidProfile", "transactionId on a profile other than TxProfile")
        if not 0 <= p.stack_level <= self.max_stack_level:
            return _reject("InvalidStackLevel", f"stackLevel above {self.max_stack_level}")
        if len(p.schedules) > 1 and not self.iso15118:
            return _reject("TooManyElements", "more than one chargingSchedule without ISO 15118")
        if p.valid_from and p.valid_to and p.valid_to <= p.valid_from:
            return _reject("InvalidValue", "validTo not after validFrom")
        if p.kind is Kind.RECURRING and p.recurrency is None:
            return _reject("InvalidProfile", "Recurring without recurrencyKind")
        for s in p.schedules:
            bad = self._check_schedule(p, s)
            if bad is not None:
                return bad
        if v201_:  # K01.FR.06 / .39: one profile per (EVSE, purpose, stackLevel) at a time
            for q in self._profiles.values():
                if (
                    q.id != p.id
                    and q.evse == p.evse
                    and q.purpose is p.purpose
                    and q.stack_level == p.stack_level
                    and _overlap(p, q)
                ):
                    return _reject("DuplicateProfile", f"profile {q.id} has this stackLevel")
        replaced = self._replaced(p)
        if len(self._profiles) - len(replaced) >= self.max_profiles:
            return _reject("OutOfStorage", f"{self.max_profiles} profiles installed")
        return _ACCEPTED

    def _check_schedule(self, p: Profile, s: Schedule) -> Outcome | None:
        v201_ = self.version == "2.0.1"
        if s.unit not in self.allowed_units:  # K01.FR.26; 1.6: the configuration key
            return _reject("UnsupportedRateUnit", f"unit {s.unit} is not allowed")
        if p.kind is Kind.RECURRING and s.start is None:
            return _reject("InvalidSchedule", "Recurring without startSchedule")
        if v201_ and p.kind is Kind.ABSOLUTE and s.start is None:  # K01.FR.40
            return _reject("InvalidSchedule", "Absolute without startSchedule")
        if v201_ and p.kind is Kind.RELATIVE and s.start is not None:  # K01.FR.41
            return _reject("InvalidSchedule", "Relative with startSchedule")
        if s.duration is not None and s.duration <= 0:
            return _reject("InvalidSchedule", "duration not positive")
        if not s.periods or len(s.periods) > self.periods_max:
            return _reject("InvalidSchedule", f"1..{self.periods_max} periods allowed")
        if v201_ and s.periods[0].start != 0:  # K01.FR.31
            return _reject("InvalidSchedule", "first startPeriod is not 0")
        starts = [q.start for q in s.periods]
        if starts[0] < 0 or any(b <= a for a, b in itertools.pairwise(starts)):
            return _reject("InvalidSchedule", "startPeriods not increasing")  # K01.FR.35
        for q in s.periods:
            if q.limit < 0:
                return _reject("InvalidSchedule", "negative limit")
            if q.number_phases is not None and not 1 <= q.number_phases <= 3:
                return _reject("InvalidSchedule", "numberPhases not 1..3")
            if q.phase_to_use is not None and (  # K01.FR.19 / .20 / .48
                q.number_phases != 1 or not self.phase_switching or not 1 <= q.phase_to_use <= 3
            ):
                return _reject("InvalidSchedule", "phaseToUse not allowed")
        return None

    def _replaced(self, p: Profile) -> list[int]:
        """Ids `p` replaces: its own id (both versions) and, in 1.6, the profile with its
        stackLevel and purpose on its connector (1.6 5.16)."""
        out = [p.id] if p.id in self._profiles else []
        if self.version == "1.6":
            out += [
                q.id
                for q in self._profiles.values()
                if q.id != p.id
                and q.evse == p.evse
                and q.purpose is p.purpose
                and q.stack_level == p.stack_level
            ]
        return out

    def install(self, p: Profile, now: dt.datetime) -> Outcome:
        """SetChargingProfile: validate, then add `p`, replacing what it replaces."""
        outcome = self.validate(p)
        if outcome.accepted:
            for pid in self._replaced(p):
                del self._profiles[pid]
            if p.purpose is Purpose.TX and p.transaction_id is None:
                p = msgspec.structs.replace(p, transaction_id=self._tx[p.evse].id)
            self._profiles[p.id] = msgspec.structs.replace(p, installed_at=now)
        return outcome

    def find(
        self,
        *,
        id: int | None = None,
        ids: Iterable[int] | None = None,
        evse: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> list[Profile]:
        """Profiles matching every criterion given (None: any)."""
        wanted = None if ids is None else set(ids)
        if id is not None:
            wanted = {id} if wanted is None else wanted & {id}
        return [
            p
            for p in self._profiles.values()
            if (wanted is None or p.id in wanted)
            and (evse is None or p.evse == evse)
            and (purpose is None or p.purpose is purpose)
            and (stack_level is None or p.stack_level == stack_level)
        ]

    def clear(
        self,
        *,
        id: int | None = None,
        evse: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> Outcome:
        """ClearChargingProfile: by id (the criteria are then ignored), else every profile
        matching all criteria given (none given: all). Accepted when something was cleared,
        else Unknown (1.6 5.5 / 6.14, 2.0.1 K10)."""
        gone = (
            self.find(id=id)
            if id is not None
            else self.find(evse=evse, purpose=purpose, stack_level=stack_level)
        )
        for p in gone:
            del self._profiles[p.id]
        return _ACCEPTED if gone else Outcome(status="Unknown")

    # --- limits ------------------------------------------------------------------------------

    def _anchor(
        self, p: Profile, evse: int, t: dt.datetime, free: dt.datetime
    ) -> dt.datetime | None:
        """Where the schedule's time 0 is for the occurrence in force at `t`, for `evse`."""
        s = p.schedule
        if p.kind is Kind.RELATIVE:
            return self._relative_start(evse, free)
        if p.kind is Kind.RECURRING:
            assert s.start is not None and p.recurrency is not None
            step = _DAY if p.recurrency is Recurrency.DAILY else _WEEK
            return s.start + step * math.floor((t - s.start) / step)
        return s.start if s.start is not None else p.installed_at

    def _relative_start(self, evse: int, free: dt.datetime) -> dt.datetime:
        tx = self._tx.get(evse) if evse else None
        return tx.started if tx is not None else free

    def _period(
        self, p: Profile, evse: int, t: dt.datetime, free: dt.datetime
    ) -> tuple[float, int] | None:
        """(limit in W, phases) of `p` at `t`, or None when it has nothing to say then."""
        if p.valid_from is not None and t < p.valid_from:
            return None
        if p.valid_to is not None and t >= p.valid_to:
            return None
        s = p.schedule
        anchor = self._anchor(p, evse, t, free)
        if anchor is None:
            return None
        offset = (t - anchor).total_seconds()
        if offset < 0:
            return None
        if p.kind is Kind.RECURRING:
            step = (_DAY if p.recurrency is Recurrency.DAILY else _WEEK).total_seconds()
            end = step if s.duration is None else min(step, s.duration)
        else:
            end = math.inf if s.duration is None else s.duration
        if offset >= end:
            return None
        current = None
        for q in s.periods:
            if q.start <= offset:
                current = q
            else:
                break
        if current is None:
            return None
        phases = current.number_phases or 3
        watts = current.limit if s.unit is Unit.W else current.limit * self.voltage * phases
        return watts, phases

    def _leading(
        self, candidates: Sequence[Profile], evse: int, t: dt.datetime, free: dt.datetime
    ) -> tuple[Profile, tuple[float, int]] | None:
        best: tuple[Profile, tuple[float, int]] | None = None
        for p in candidates:
            got = self._period(p, evse, t, free)
            if got is None:
                continue
            if best is None or (p.stack_level, p.evse != 0) > (
                best[0].stack_level,
                best[0].evse != 0,
            ):
                best = (p, got)
        return best

    def _relevant(self, evse: int) -> tuple[list[Profile], list[Profile], list[Profile]]:
        tx = self._tx.get(evse)
        txs = [
            p
            for p in self._profiles.values()
            if p.purpose is Purpose.TX
            and p.evse == evse
            and tx is not None
            and p.transaction_id in (None, tx.id)
        ]
        defaults = [
            p
            for p in self._profiles.values()
            if p.purpose is Purpose.TX_DEFAULT and p.evse in (0, evse)
        ]
        maxes = [p for p in self._profiles.values() if p.purpose is Purpose.STATION_MAX]
        return txs, defaults, maxes

    def _evse_watts(
        self, evse: int, t: dt.datetime, free: dt.datetime, cap: bool
    ) -> tuple[float, int, Unit] | None:
        txs, defaults, maxes = self._relevant(evse)
        base = self._leading(txs, evse, t, free) or self._leading(defaults, evse, t, free)
        top = self._leading(maxes, evse, t, free) if cap else None
        pick = min((x for x in (base, top) if x is not None), key=lambda x: x[1][0], default=None)
        if pick is None:
            return None
        return pick[1][0], pick[1][1], pick[0].schedule.unit

    def _watts(
        self, evse: int, t: dt.datetime, free: dt.datetime
    ) -> tuple[float, int, Unit] | None:
        if evse != 0:
            return self._evse_watts(evse, t, free, cap=True)
        total, phases, unit = 0.0, 1, Unit.W
        for e in range(1, self.evse_count + 1):
            got = self._evse_watts(e, t, free, cap=False)
            if got is None:
                total = math.inf
                break
            total += got[0]
            phases, unit = max(phases, got[1]), got[2]
        top = self._leading(
            [p for p in self._profiles.values() if p.purpose is Purpose.STATION_MAX], 0, t, free
        )
        if top is not None and top[1][0] <= total:
            return top[1][0], top[1][1], top[0].schedule.unit
        if math.isinf(total) or self.evse_count == 0:
            return None
        return total, phases, unit

    def _limit(self, evse: int, t: dt.datetime, free: dt.datetime) -> Limit | None:
        got = self._watts(evse, t, free)
        if got is None:
            return None
        watts, phases, unit = got
        return Limit(watts=watts, amps=watts / (self.voltage * phases), phases=phases, unit=unit)

    def limit_at(self, evse: int, t: dt.datetime) -> Limit | None:
        """The limit on `evse` (0: the grid connection) at `t`; None when no profile limits it.

        A relative profile with no transaction on its EVSE counts from `t`."""
        return self._limit(evse, t, t)

    def _points(
        self, evse: int, lo: dt.datetime, hi: dt.datetime, free: dt.datetime, recurring: bool
    ) -> set[dt.datetime]:
        """Instants in (lo, hi] where a profile that can matter to `evse` may change."""
        evses = {0, evse} if evse else set(range(self.evse_count + 1))
        out: set[dt.datetime] = set()
        for p in self._profiles.values():
            if p.evse not in evses:
                continue
            s = p.schedule
            out.update(x for x in (p.valid_from, p.valid_to) if x is not None)
            if p.kind is Kind.RECURRING:
                if not recurring:
                    continue
                assert s.start is not None and p.recurrency is not None
                step = _DAY if p.recurrency is Recurrency.DAILY else _WEEK
                k = math.floor((lo - s.start) / step)
                while (occ := s.start + step * k) <= hi:
                    out.add(occ)
                    out.update(occ + dt.timedelta(seconds=q.start) for q in s.periods)
                    if s.duration is not None and s.duration < step.total_seconds():
                        out.add(occ + dt.timedelta(seconds=s.duration))
                    k += 1
                continue
            if p.kind is Kind.RELATIVE:
                anchors = [free, *(self._relative_start(e, free) for e in evses)]
            else:
                anchor = s.start if s.start is not None else p.installed_at
                anchors = [anchor] if anchor is not None else []
            for a in anchors:
                out.add(a)
                out.update(a + dt.timedelta(seconds=q.start) for q in s.periods)
                if s.duration is not None:
                    out.add(a + dt.timedelta(seconds=s.duration))
        for e, tx in self._tx.items():
            if e in evses:
                out.add(tx.started)
        return {x for x in out if lo < x <= hi}

    def next_change_after(self, evse: int, t: dt.datetime) -> dt.datetime | None:
        """The first instant after `t` at which `limit_at(evse, ...)` differs from its value at
        `t`, for the profiles and transactions as they are now; None if it never changes.

        The actor sleeps until then (or until a profile or transaction changes) and sets the
        session's power to the new `limit_at`. Relative profiles with no transaction are
        anchored at `t`, as in `limit_at(evse, t)`."""
        now = self._limit(evse, t, t)
        lo = t
        while True:
            hi = lo + _HORIZON
            for x in sorted(self._points(evse, lo, hi, t, recurring=True)):
                if not _same(self._limit(evse, x, t), now):
                    return x
            later = sorted(
                self._points(evse, hi, dt.datetime.max.replace(tzinfo=dt.UTC), t, recurring=False)
            )
            if not later:
                return None
            lo = later[0]
            if not _same(self._limit(evse, lo, t), now):
                return lo

    def composite(
        self, evse: int, start: dt.datetime, duration: int, unit: Unit | None = None
    ) -> tuple[Unit, list[Period]] | None:
        """The composite schedule of `evse` from `start` for `duration` s in `unit` (None: the
        station's default): periods (startPeriod, limit, numberPhases), equal neighbours
        merged, limits rounded down to 0.1. A stretch no profile limits has limit `inf` and
        numberPhases None (`composite_v16` / `composite_v201` put the hardware limit there);
        None when no profile limits the window at all. Relative profiles with no transaction
        count from `start`."""
        unit = unit or self.default_unit
        end = start + dt.timedelta(seconds=duration)
        points = [start, *sorted(x for x in self._points(evse, start, end, start, True) if x < end)]
        periods: list[Period] = []
        any_limit = False
        for x in points:
            lim = self._limit(evse, x, start)
            any_limit |= lim is not None
            value = math.inf if lim is None else _floor_tenth(lim.value(unit))
            phases = None if lim is None else lim.phases
            if periods and periods[-1].limit == value and periods[-1].number_phases == phases:
                continue
            periods.append(
                Period(start=int((x - start).total_seconds()), limit=value, number_phases=phases)
            )
        return (unit, periods) if any_limit else None


def _same(a: Limit | None, b: Limit | None) -> bool:
    """Equal as a session sees it: the same watts on the same phases."""
    if a is None or b is None:
        return a is b
    return math.isclose(a.watts, b.watts, rel_tol=1e-9) and a.phases == b.phases


def _overlap(p: Profile, q: Profile) -> bool:
    lo = max(
        p.valid_from or dt.datetime.min.replace(tzinfo=dt.UTC),
        q.valid_from or dt.datetime.min.replace(tzinfo=dt.UTC),
    )
    hi = min(
        p.valid_to or dt.datetime.max.replace(tzinfo=dt.UTC),
        q.valid_to or dt.datetime.max.replace(tzinfo=dt.UTC),
    )
    return lo < hi


# --- the messages ------------------------------------------------------------------------------


def set_profile_v16(
    store: ChargingProfiles, req: v16.SetChargingProfileRequest, now: dt.datetime
) -> v16.SetChargingProfileResponse:
    outcome = store.install(profile_from_v16(req.connector_id, req.cs_charging_profiles), now)
    return v16.SetChargingProfileResponse(status=v16.ChargingProfileStatus(outcome.status))


def _status_info(outcome: Outcome) -> v201.StatusInfo | msgspec.UnsetType:
    if outcome.reason is None:
        return UNSET
    return v201.StatusInfo(reason_code=outcome.reason, additional_info=_u(outcome.info))


def set_profile_v201(
    store: ChargingProfiles, req: v201.SetChargingProfileRequest, now: dt.datetime
) -> v201.SetChargingProfileResponse:
    try:
        p = profile_from_v201(req.evse_id, req.charging_profile)
    except UnsupportedPurpose:
        outcome = _reject(
            "InvalidProfile", "ChargingStationExternalConstraints is not for the CSMS"
        )
    else:
        outcome = store.install(p, now)
    return v201.SetChargingProfileResponse(
        status=v201.ChargingProfileStatusEnum(outcome.status), status_info=_status_info(outcome)
    )


def clear_v16(
    store: ChargingProfiles, req: v16.ClearChargingProfileRequest
) -> v16.ClearChargingProfileResponse:
    purpose = _opt(req.charging_profile_purpose)
    outcome = store.clear(
        id=_opt(req.id),
        evse=_opt(req.connector_id),
        purpose=None if purpose is None else profile_from_v16_purpose(purpose),
        stack_level=_opt(req.stack_level),
    )
    return v16.ClearChargingProfileResponse(status=v16.ClearChargingProfileStatus(outcome.status))


def profile_from_v16_purpose(p: v16.ChargingProfilePurposeType) -> Purpose:
    if p is v16.ChargingProfilePurposeType.CHARGE_POINT_MAX_PROFILE:
        return Purpose.STATION_MAX
    return Purpose(p.value)


def clear_v201(
    store: ChargingProfiles, req: v201.ClearChargingProfileRequest
) -> v201.ClearChargingProfileResponse:
    c = _opt(req.charging_profile_criteria)
    purpose = None if c is None else _opt(c.charging_profile_purpose)
    if purpose is v201.ChargingProfilePurposeEnum.CHARGING_STATION_EXTERNAL_CONSTRAINTS:
        outcome = Outcome(status="Unknown")  # not the CSMS's to clear, and none are held
    else:
        outcome = store.clear(
            id=_opt(req.charging_profile_id),
            evse=None if c is None else _opt(c.evse_id),
            purpose=None if purpose is None else Purpose(purpose.value),
            stack_level=None if c is None else _opt(c.stack_level),
        )
    return v201.ClearChargingProfileResponse(
        status=v201.ClearChargingProfileStatusEnum(outcome.status)
    )


def get_profiles_v201(
    store: ChargingProfiles, req: v201.GetChargingProfilesRequest
) -> tuple[v201.GetChargingProfilesResponse, list[v201.ReportChargingProfilesRequest]]:
    """GetChargingProfiles (K09): the answer and the ReportChargingProfiles to send after it,
    one per EVSE, `tbc` on all but the last. Every profile here was set by the CSMS (source
    CSO), so a chargingLimitSource criterion without CSO matches none."""
    c = req.charging_profile
    sources = _opt(c.charging_limit_source)
    purpose = _opt(c.charging_profile_purpose)
    found: list[Profile] = []
    external = v201.ChargingProfilePurposeEnum.CHARGING_STATION_EXTERNAL_CONSTRAINTS
    if (sources is None or v201.ChargingLimitSourceEnum.CSO in sources) and purpose is not external:
        found = store.find(
            ids=_opt(c.charging_profile_id),
            evse=_opt(req.evse_id),
            purpose=None if purpose is None else Purpose(purpose.value),
            stack_level=_opt(c.stack_level),
        )
    if not found:
        return v201.GetChargingProfilesResponse(
            status=v201.GetChargingProfileStatusEnum.NO_PROFILES
        ), []
    by_evse: dict[int, list[Profile]] = {}
    for p in sorted(found, key=lambda p: (p.evse, p.id)):
        by_evse.setdefault(p.evse, []).append(p)
    reports = [
        v201.ReportChargingProfilesRequest(
            request_id=req.request_id,
            charging_limit_source=v201.ChargingLimitSourceEnum.CSO,
            charging_profile=[profile_to_v201(p) for p in ps],
            evse_id=evse,
            tbc=True if i < len(by_evse) - 1 else UNSET,
        )
        for i, (evse, ps) in enumerate(by_evse.items())
    ]
    return v201.GetChargingProfilesResponse(
        status=v201.GetChargingProfileStatusEnum.ACCEPTED
    ), reports


def _wire_periods(
    store: ChargingProfiles, unit: Unit, periods: list[Period], fallback: Limit
) -> list[tuple[int, float, int]]:
    out: list[tuple[int, float, int]] = []
    for q in periods:
        if math.isinf(q.limit):
            limit, phases = _floor_tenth(fallback.value(unit)), fallback.phases
        else:
            limit, phases = q.limit, q.number_phases or 3
        if out and out[-1][1:] == (limit, phases):
            continue
        out.append((q.start, limit, phases))
    return out


def _fallback(store: ChargingProfiles, max_watts: float, phases: int) -> Limit:
    return Limit(
        watts=max_watts, amps=max_watts / (store.voltage * phases), phases=phases, unit=Unit.W
    )


# The longest window a composite schedule covers (a choice: the schema allows any integer, and
# 31 days of a daily recurring profile is 31 changes; the answer's duration says what it is).
COMPOSITE_HORIZON = 31 * 86_400


def composite_v16(
    store: ChargingProfiles,
    req: v16.GetCompositeScheduleRequest,
    now: dt.datetime,
    *,
    max_watts: float,
    phases: int = 3,
) -> v16.GetCompositeScheduleResponse:
    """GetCompositeSchedule (1.6 5.7). `max_watts` / `phases`: what the EVSE (or the station,
    connector 0) can give where no profile limits it."""
    unit = _opt(req.charging_rate_unit)
    u = None if unit is None else Unit(unit.value)
    if (
        not 0 <= req.connector_id <= store.evse_count
        or (u and u not in store.allowed_units)
        or req.duration < 0  # no window to report (a choice: 1.6 says nothing)
    ):
        return v16.GetCompositeScheduleResponse(status=v16.GetCompositeScheduleStatus.REJECTED)
    duration = min(req.duration, COMPOSITE_HORIZON)
    got = store.composite(req.connector_id, now, duration, u)
    if got is None:  # 1.6: nothing to report is not an error; give the hardware limit
        got = (u or store.default_unit, [Period(start=0, limit=math.inf)])
    unit_, periods = got
    wire = _wire_periods(store, unit_, periods, _fallback(store, max_watts, phases))
    return v16.GetCompositeScheduleResponse(
        status=v16.GetCompositeScheduleStatus.ACCEPTED,
        connector_id=req.connector_id,
        schedule_start=now,
        charging_schedule=v16.ChargingSchedule(
            charging_rate_unit=v16.ChargingRateUnitType(unit_.value),
            charging_schedule_period=[
                v16.ChargingSchedulePeriod(start_period=s, limit=lim, number_phases=ph)
                for s, lim, ph in wire
            ],
            duration=duration,
            start_schedule=now,
        ),
    )


def composite_v201(
    store: ChargingProfiles,
    req: v201.GetCompositeScheduleRequest,
    now: dt.datetime,
    *,
    max_watts: float,
    phases: int = 3,
) -> v201.GetCompositeScheduleResponse:
    """GetCompositeSchedule (K08). Rejected for an unknown EVSE (reasonCode UnknownEvse) or a
    unit the station does not allow (UnsupportedRateUnit)."""
    unit = _opt(req.charging_rate_unit)
    u = None if unit is None else Unit(unit.value)
    if not 0 <= req.evse_id <= store.evse_count:
        return v201.GetCompositeScheduleResponse(
            status=v201.GenericStatusEnum.REJECTED,
            status_info=v201.StatusInfo(reason_code="UnknownEvse"),
        )
    if u is not None and u not in store.allowed_units:
        return v201.GetCompositeScheduleResponse(
            status=v201.GenericStatusEnum.REJECTED,
            status_info=v201.StatusInfo(reason_code="UnsupportedRateUnit"),
        )
    if req.duration < 0:  # no window to report (a choice: K08 says nothing)
        return v201.GetCompositeScheduleResponse(
            status=v201.GenericStatusEnum.REJECTED,
            status_info=v201.StatusInfo(reason_code="InvalidValue"),
        )
    duration = min(req.duration, COMPOSITE_HORIZON)
    got = store.composite(req.evse_id, now, duration, u)
    if got is None:
        got = (u or store.default_unit, [Period(start=0, limit=math.inf)])
    unit_, periods = got
    wire = _wire_periods(store, unit_, periods, _fallback(store, max_watts, phases))
    return v201.GetCompositeScheduleResponse(
        status=v201.GenericStatusEnum.ACCEPTED,
        schedule=v201.CompositeSchedule(
            charging_schedule_period=[
                v201.ChargingSchedulePeriod(start_period=s, limit=lim, number_phases=ph)
                for s, lim, ph in wire
            ],
            evse_id=req.evse_id,
            duration=duration,
            schedule_start=now,
            charging_rate_unit=v201.ChargingRateUnitEnum(unit_.value),
        ),
    )
