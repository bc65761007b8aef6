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
