"""Running a fleet: the orchestrator, the live view and the `fleet run` command."""

from fleet.run._custom import CustomStation
from fleet.run._live import LiveView
from fleet.run._orchestrator import FleetRun, Shard, StationPlan, plan_stations, ramp_offsets

__all__ = [
    "CustomStation",
    "FleetRun",
    "LiveView",
    "Shard",
    "StationPlan",
    "plan_stations",
    "ramp_offsets",
]
