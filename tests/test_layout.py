"""Guards on the package's shape: layering, public surface, lint."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fleet
import fleet.ocpp

ROOT = Path(__file__).resolve().parent.parent


def fleet_modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    modules = {}
    for path in sorted((ROOT / "fleet").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = fleet_modules()


def imports_of(name: str) -> set[str]:
    """The modules of fleet that importing `name` may run: every import in it, at the top,
    under TYPE_CHECKING or inside a function. ``from a.b import c`` is `a.b.c` when that is a
    module, else `a.b`; and importing `a.b.c` first runs the packages `a` and `a.b`, unless
    `name` is inside them (they are already running; importing one by name still counts)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                targets.append(
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                )
    found = set()
    for target in targets:
        parts = target.split(".")
        for end in range(1, len(parts) + 1):
            step = ".".join(parts[:end])
            inside = f"{name}.".startswith(f"{step}.") and end < len(parts)
            if step in MODULES and step != name and not inside:
                found.add(step)
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each group of modules that import each other (Tarjan's strongly
    connected components), as ``[a, b, ..., a]``; [] when the graph only looks down."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in sorted(graph.get(module, ())):
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            group = set()
            member = ""
            while member != module:
                member = stack.pop()
                group.add(member)
            if len(group) > 1:
                groups.append(group)

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return [_cycle_in(graph, group) for group in groups]


def _cycle_in(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    # The shortest way back to the group's first module, breadth first within the group.
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for other in sorted(graph[module] & group):
                if other == start:
                    return [*paths[module], start]
                if other not in paths:
                    paths[other] = [*paths[module], other]
                    following.append(other)
        frontier = following
    raise AssertionError(f"no cycle in {sorted(group)}")


# Cycles known and owned by others, to untie; listed so that a new one fails at once. An entry
# that no longer is a cycle fails too: take it out.
KNOWN_CYCLES: list[set[str]] = []


def test_the_message_layer_does_no_io() -> None:
    # Sans-IO: fleet.ocpp imports neither trio, websockets nor sockets, directly or indirectly.
    code = (
        "import sys, fleet.ocpp, fleet.ocpp.codegen\n"
        "bad = {m for m in sys.modules if m.split('.')[0] in "
        "{'trio', 'trio_websocket', 'wsproto', 'asyncio', 'ssl'}}\n"
        "print(sorted(bad))\n"
        "raise SystemExit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_modules_import_each_other() -> None:
    # Modules only look down. A cycle through a TYPE_CHECKING or function-local import counts:
    # it works today, but the two modules are one unit and neither can be read alone.
    cycles = import_cycles({name: imports_of(name) for name in MODULES})
    known = [cycle for cycle in cycles if set(cycle) in KNOWN_CYCLES]
    assert [" -> ".join(cycle) for cycle in cycles if cycle not in known] == []
    untied = [sorted(group) for group in KNOWN_CYCLES if not any(set(c) == group for c in known)]
    assert untied == [], "no longer a cycle: take it out of KNOWN_CYCLES"


@pytest.mark.parametrize(
    ("graph", "cycles"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),
        (
            {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"d2"}, "d2": {"d"}},
            [["d", "d2", "d"], ["a", "b", "c", "a"]],
        ),
    ],
)
def test_the_cycle_finder_names_each_cycle(
    graph: dict[str, set[str]], cycles: list[list[str]]
) -> None:
    assert import_cycles(graph) == cycles


def test_imports_count_wherever_they_are_written() -> None:
    # The cycles untied in issue 13 ran through a TYPE_CHECKING import and a function-local
    # one; the finder sees both kinds.
    assert "fleet.run._custom" in imports_of("fleet.run._orchestrator")
    # `import fleet.toolkit as tk` runs fleet.toolkit; `from fleet.ocpp import v16` runs both.
    assert {"fleet.toolkit", "fleet.ocpp"} <= imports_of("fleet.run._custom")
    assert {"fleet.ocpp", "fleet.ocpp.v16"} <= imports_of("fleet.csms._handlers")
    # A module's own packages are running already: no edge to them, unless imported by name.
    assert "fleet.csms" not in imports_of("fleet.csms._server")
    assert "fleet" in imports_of("fleet.metrics._report")  # import fleet (for the version)


# A line of the map in fleet/__init__.py: "- `fleet.run`: what it holds. Imports: a, b."
MAP_LINE = re.compile(r"^- `(?P<layer>fleet\.\w+)`: (?P<holds>.+)\. Imports: (?P<imports>.+)\.$")


def layer_map() -> dict[str, set[str]]:
    """fleet's docstring's map: each layer and the layers it may import, bottom up."""
    layers: dict[str, set[str]] = {}
    for line in (fleet.__doc__ or "").splitlines():
        if not line.startswith("- `"):
            continue
        match = MAP_LINE.match(line)
        assert match, f"not a line of the map: {line!r}"
        named = match["imports"]
        if named == "all":
            allowed = set(layers)
        elif named == "none":
            allowed = set()
        else:
            allowed = {f"fleet.{short.strip()}" for short in named.split(",")}
        assert allowed <= set(layers), f"{match['layer']} imports a layer not before it"
        layers[match["layer"]] = allowed
    return layers


def layer_of(module: str) -> str:
    """The layer a module is in: its subpackage, or the CLI for fleet's own modules (`_cli`,
    `__main__`, `_options`) and each subpackage's `_command` (its ``fleet`` subcommand)."""
    parts = module.split(".")
    if module == "fleet":
        return module
    if (len(parts) == 2 and MODULES[module].name != "__init__.py") or parts[-1] == "_command":
        return "fleet._cli"
    return ".".join(parts[:2])


def test_the_package_docstring_maps_every_layer() -> None:
    layers = layer_map()
    subpackages = {f"fleet.{path.parent.name}" for path in (ROOT / "fleet").glob("*/__init__.py")}
    assert set(layers) == subpackages | {"fleet._cli"}
    cli_line = next(line for line in fleet.__doc__.splitlines() if "`fleet._cli`" in line)
    for path in (ROOT / "fleet").glob("*.py"):
        if path.stem not in ("__init__", "_cli"):
            assert f"`{path.stem}`" in cli_line, f"fleet/{path.name} is not in the map"


def map_breaches(graph: dict[str, set[str]]) -> list[str]:
    """Each import in `graph` (module -> the modules it imports) that the map does not allow."""
    layers = layer_map()
    breaches = []
    for name, imported in sorted(graph.items()):
        layer = layer_of(name)
        if layer == "fleet":
            continue
        allowed = layers[layer] | {layer, "fleet"}
        breaches += [
            f"{name} imports {other} ({layer} may import: {', '.join(sorted(layers[layer]))})"
            for other in sorted(imported)
            if layer_of(other) not in allowed
        ]
    return breaches


def test_each_layer_imports_only_what_the_map_says() -> None:
    assert map_breaches({name: imports_of(name) for name in MODULES}) == []


def test_an_import_the_map_does_not_allow_is_named() -> None:
    graph = {
        "fleet.csms._server": {"fleet", "fleet.csms._field", "fleet.ocpp", "fleet.run._live"},
        "fleet.csms._command": {"fleet.profile", "fleet.run"},  # the CLI: may import all
        "fleet._options": {"fleet.profile"},
    }
    assert map_breaches(graph) == [
        "fleet.csms._server imports fleet.run._live (fleet.csms may import: fleet.generic, fleet.ocpp, fleet.toolkit)"
    ]


def test_public_surface_is_explicit() -> None:
    for name in fleet.ocpp.__all__:
        assert hasattr(fleet.ocpp, name), name
    tree = ast.parse((ROOT / "fleet/ocpp/__init__.py").read_text())
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == set(fleet.ocpp.__all__)


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the test extra"
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run([ruff, *args, "."], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
