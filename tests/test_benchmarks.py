"""The benchmark scripts run (quick mode); their figures are not asserted here (timing
belongs in benchmarks/, not in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_codec_benchmark_runs_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "codec.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/codec.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    assert [row["message"] for row in figures["rows"]] == [
        "1.6 BootNotification",
        "1.6 MeterValues (10 sampled values)",
        "2.0.1 TransactionEvent Updated",
    ]
    assert all(row["ours_us"] > 0 and row["baseline_us"] > 0 for row in figures["rows"])
    assert "ratio" in result.stdout


def test_benchmark_suite_quick_mode_runs_and_writes_every_result(tmp_path: Path) -> None:
    """`python -m benchmarks --quick`: every benchmark runs to its end and writes its JSON
    (about two minutes on two cores; the figures are not checked)."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    expected = {
        "codec": {"rows"},
        "transport": {"machine", "rows", "paced", "closed_loop", "targets"},
        "fleet_cost": {
            "machine",
            "fleet_cpu_us_per_message",
            "transport_cpu_us_per_round_trip",
            "ratio",
            "rounds",
            "targets",
        },
        "capacity": {"machine", "levels", "targets"},
        "accuracy": {"machine", "rows", "stall", "level50", "level90", "floor", "targets"},
        "workers": {"machine", "rows", "ratio", "held_ratio", "targets"},
    }
    for name, keys in expected.items():
        figures = json.loads((tmp_path / f"{name}.json").read_text())
        assert figures["benchmark"] == name and figures["quick"] is True
        assert keys <= figures.keys(), f"{name}: missing {keys - figures.keys()}"
