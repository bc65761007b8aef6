"""An example custom station behaviour for `fleet run` (see profiles/custom.toml).

The profile names it as ``behaviour = "custom_behaviour:drive"``; the fleet imports it from
the profile's folder and calls ``await drive(station)`` once per station. Everything sent
through ``station.connect()`` is measured like the built-in behaviour: latency from each
call's intended time, errors and timeouts in the report.
"""

from __future__ import annotations

import datetime as dt

from fleet.ocpp import v16, v201
from fleet.run import CustomStation


async def drive(station: CustomStation) -> None:
    """Boot, then heartbeat every 1-2 s until the run ends: a minimal, idle charger."""
    async with station.connect() as cp:
        if station.version == "ocpp1.6":
            await cp.boot_notification(
                v16.BootNotificationRequest(
                    charge_point_vendor="custom", charge_point_model=station.station_id[-20:]
                )
            )
            heartbeat = v16.HeartbeatRequest()
        else:
            await cp.boot_notification(
                v201.BootNotificationRequest(
                    reason=v201.BootReasonEnum.POWER_UP,
                    charging_station=v201.ChargingStation(model="custom", vendor_name="fleet"),
                )
            )
            heartbeat = v201.HeartbeatRequest()
        while await station.sleep(station.rng.uniform(1.0, 2.0)):
            answer = await cp.heartbeat(heartbeat)
            assert answer.current_time <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
