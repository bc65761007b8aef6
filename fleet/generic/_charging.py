"""Charging profiles and schedules: the nested tables SetChargingProfile, RequestStartTransaction
and GetCompositeSchedule share.

2.0.1 ChargingProfile <-> 1.6 ChargingProfile (csChargingProfiles in SetChargingProfile):

- id <-> chargingProfileId; stackLevel, chargingProfileKind, recurrencyKind, validFrom, validTo
  alike; transactionId is a string in 2.0.1 and the CSMS's integer in 1.6 (`TRANSACTION_ID`).
- chargingProfilePurpose: ChargingStationMaxProfile <-> ChargePointMaxProfile; TxDefaultProfile
  and TxProfile alike; ChargingStationExternalConstraints has no 1.6 purpose (an error).
- chargingSchedule is a list of 1..3 schedules in 2.0.1 (ISO 15118 offers the EV a choice) and
  one schedule in 1.6: a list of one is carried, more is an error.
- A ChargingSchedule's id has no 1.6 place (1.6 schedules are not numbered; only ISO 15118
  refers to them) and reads back as 0; salesTariff (ISO 15118 prices) is an error.
- A period's phaseToUse (which phase a 1-phase EV charges on) has no 1.6 place: an error.
"""

from __future__ import annotations

from typing import Any

from fleet.generic._common import TRANSACTION_ID
from fleet.generic._engine import (
    Each,
    Field,
    Func,
    Guarded,
    Keep,
    Nested,
    NotCarried,
    Values,
    Where,
)
from fleet.ocpp import v16, v201

__all__ = [
    "CHARGING_PROFILE",
    "CHARGING_PROFILE_FIELD",
    "CHARGING_PROFILE_PURPOSE",
    "CHARGING_RATE_UNIT",
    "CHARGING_SCHEDULE",
    "CHARGING_SCHEDULE_PERIOD",
]

#: 2.0.1 ChargingRateUnitEnum <-> 1.6 ChargingRateUnitType.
CHARGING_RATE_UNIT = Values.same("W", "A")

#: 2.0.1 ChargingProfilePurposeEnum <-> 1.6 ChargingProfilePurposeType.
CHARGING_PROFILE_PURPOSE = Values(
    {
        "ChargingStationMaxProfile": "ChargePointMaxProfile",
        "TxDefaultProfile": "TxDefaultProfile",
        "TxProfile": "TxProfile",
    },
    generic_only={
        "ChargingStationExternalConstraints": "1.6 ChargingProfilePurposeType has "
        "ChargePointMaxProfile, TxDefaultProfile and TxProfile only",
    },
)

CHARGING_SCHEDULE_PERIOD = Guarded(
    v201.ChargingSchedulePeriod,
    v16.ChargingSchedulePeriod,
    Field("startPeriod", "startPeriod"),
    Field("limit", "limit", note="1.6 limits are multiples of 0.1"),
    Field("numberPhases", "numberPhases"),
    refuse={
        "phaseToUse": "1.6 ChargingSchedulePeriod has no phaseToUse: a 1.6 Charge Point "
        "chooses the phase a 1-phase EV charges on",
    },
)

CHARGING_SCHEDULE = Guarded(
    v201.ChargingSchedule,
    v16.ChargingSchedule,
    NotCarried(
        "id",
        "1.6 charging schedules have no id (2.0.1 numbers them for ISO 15118); read as 0",
        fill=0,
    ),
    Field("chargingRateUnit", "chargingRateUnit", CHARGING_RATE_UNIT),
    Field(
        "chargingSchedulePeriod",
        "chargingSchedulePeriod",
        Each(Nested(CHARGING_SCHEDULE_PERIOD)),
    ),
    Field("startSchedule", "startSchedule"),
    Field("duration", "duration"),
    Field("minChargingRate", "minChargingRate"),
    refuse={
        "salesTariff": "1.6 has no sales tariffs (ISO 15118 prices a 1.6 Charge Point "
        "would not pass to the EV)",
    },
)


def _schedules_to_legacy(value: list[Any], where: Where, field: str) -> dict[str, Any]:
    if len(value) != 1:
        raise where.fail(
            field,
            value,
            f"a 1.6 ChargingProfile has one chargingSchedule, not {len(value)} "
            "(2.0.1 offers several to an ISO 15118 EV to choose from)",
        )
    return CHARGING_SCHEDULE.to_legacy_dict(value[0], where.deeper(f"{field}[0]"))


def _schedule_to_generic(value: Any, where: Where, field: str, keep: Keep) -> list[Any]:
    return [CHARGING_SCHEDULE.to_generic_dict(value, where.deeper(field))]


#: A 2.0.1 list of ChargingSchedules <-> the one 1.6 ChargingSchedule.
CHARGING_SCHEDULES = Func(
    _schedules_to_legacy,
    _schedule_to_generic,
    "a list of one schedule; more than one is an error; see ChargingSchedule",
)

CHARGING_PROFILE = Guarded(
    v201.ChargingProfile,
    v16.ChargingProfile,
    Field("id", "chargingProfileId"),
    Field("stackLevel", "stackLevel"),
    Field("chargingProfilePurpose", "chargingProfilePurpose", CHARGING_PROFILE_PURPOSE),
    Field(
        "chargingProfileKind",
        "chargingProfileKind",
        Values.same("Absolute", "Recurring", "Relative"),
    ),
    Field("chargingSchedule", "chargingSchedule", CHARGING_SCHEDULES),
    Field("recurrencyKind", "recurrencyKind", Values.same("Daily", "Weekly")),
    Field("validFrom", "validFrom"),
    Field("validTo", "validTo"),
    Field("transactionId", "transactionId", TRANSACTION_ID),
)

CHARGING_PROFILE_FIELD = Nested(CHARGING_PROFILE)
