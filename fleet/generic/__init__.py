"""The generic API's sans-IO core: one model, OCPP 2.0.1's, for every version.

A generic message is a 2.0.1 message (the `fleet.ocpp.v201` Structs). Over a 2.0.1 link it goes
as it is; over a 1.6 link an adapter per action maps it, table by table (`_engine`), and keeps
the connection's state (`LinkState`: transaction ids, connector states). A value 1.6 cannot carry
raises `NotExpressible`; a 1.6 value with no 2.0.1 place is kept in ``customData`` under the
vendor id `LEGACY_VENDOR`. fleet/generic/MAPPING.md lists every mapping and every loss.
The toolkit (`cp.generic`, `GenericChargePointHandlers`) and the embedded CSMS
(`session.generic`) drive it.
"""

from fleet.generic._common import LinkState
from fleet.generic._engine import LEGACY_VENDOR, ActionAdapter, Where
from fleet.generic._errors import NotExpressible
from fleet.generic._link import Ocpp16Link, adapter, adapter_for_legacy, adapters, generic_actions
from fleet.generic._variables import (
    ConfigurationVariable,
    configuration_to_variables,
    get_all_request,
)

__all__ = [
    "LEGACY_VENDOR",
    "ActionAdapter",
    "ConfigurationVariable",
    "LinkState",
    "NotExpressible",
    "Ocpp16Link",
    "Where",
    "adapter",
    "adapter_for_legacy",
    "adapters",
    "configuration_to_variables",
    "generic_actions",
    "get_all_request",
]
