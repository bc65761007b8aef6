"""ocpp-fleet: an OCPP 1.6J / 2.0.1 toolkit and fleet load tester for CSMS servers.

The map of its layers, bottom up: each line names a layer, what it holds, and the layers it may
import, all listed before it (any module may import `fleet` itself, for the version). Modules
only look down: none imports a layer above its own, nor a module that imports it back, even
under TYPE_CHECKING or inside a function. tests/test_layout.py holds the code to this map.

- `fleet.ocpp`: generated message types and the sans-IO OCPP-J RPC layer, no I/O. Imports: none.
- `fleet.generic`: one model (2.0.1's) for every version: tables to and from 1.6. Imports: ocpp.
- `fleet.profile`: load-test profiles: model, TOML, checks, secrets. Imports: ocpp, generic.
- `fleet.toolkit`: one charge point on a websocket: calls, handlers, auth. Imports: ocpp, generic.
- `fleet.station`: simulated stations: state machines, the trio actor. Imports: ocpp, toolkit.
- `fleet.csms`: the embedded CSMS: answers, field faults. Imports: ocpp, generic, toolkit.
- `fleet.metrics`: what a run records (histograms, timeline), the JSON report. Imports: profile.
- `fleet.report`: reading reports: show, merge, compare, thresholds, HTML. Imports: metrics.
- `fleet.run`: a fleet run: orchestrator, workers, custom behaviours, live view. Imports: all.
- `fleet._cli`: the `fleet` command, with `__main__`, `_options` and each `_command`. Imports: all.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
