"""ocpp-fleet: an OCPP 1.6J / 2.0.1 toolkit and fleet load tester for CSMS servers.

Layers, each in its own package: `fleet.ocpp` (generated message types and the sans-IO OCPP-J
RPC layer; no I/O).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
