"""The generic API's sans-IO core: one model (OCPP 2.0.1's) for every version, and adapters."""
