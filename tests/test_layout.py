"""Guards on the package's shape: layering, public surface, lint."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import fleet.ocpp

ROOT = Path(__file__).resolve().parent.parent


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
