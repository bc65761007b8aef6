"""The embedded CSMS: an OCPP 1.6J / 2.0.1 server that answers every charge-point action."""

from fleet.csms._campaigns import CampaignRecord, ScheduledCampaign, run_campaigns
from fleet.csms._faults import ScheduledFault, run_fault_schedule
from fleet.csms._field import FieldBehaviour
from fleet.csms._handlers import DefaultCsmsHandlers16, DefaultCsmsHandlers201
from fleet.csms._server import EmbeddedCsms, StationSession16, StationSession201, open_csms

__all__ = [
    "CampaignRecord",
    "DefaultCsmsHandlers16",
    "DefaultCsmsHandlers201",
    "EmbeddedCsms",
    "FieldBehaviour",
    "ScheduledCampaign",
    "ScheduledFault",
    "StationSession16",
    "StationSession201",
    "open_csms",
    "run_campaigns",
    "run_fault_schedule",
]
