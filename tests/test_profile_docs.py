"""`fleet profile check | docs | schema`: profiles checked without a run, a reference generated
from the model (and committed), and a JSON Schema that the shipped profiles satisfy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_profile import MINIMAL

ROOT = Path(__file__).resolve().parent.parent
PROFILES = sorted((ROOT / "profiles").glob("*.toml"))
FLEET = [sys.executable, "-m", "fleet"]


def fleet(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FLEET, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


# --- fleet profile check --------------------------------------------------------------------


def test_check_accepts_every_shipped_profile_one_line_each_and_runs_nothing(
    tmp_path: Path,
) -> None:
    result = fleet("profile", "check", *map(str, PROFILES), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.split(": ok: ")[0] for line in lines] == [str(path) for path in PROFILES]
    smoke = lines[[path.name for path in PROFILES].index("smoke.toml")]
    assert smoke.endswith(': ok: "smoke", 100 stations for 30 s')
    assert list(tmp_path.iterdir()) == []  # no report, no log: nothing ran


def test_check_names_the_bad_file_and_field_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace("count = 10", "count = 0"))
    threshold = tmp_path / "threshold.toml"
    threshold.write_text(MINIMAL + '[thresholds]\np99 = "< 5"\n')
    smoke = ROOT / "profiles/smoke.toml"
    missing = tmp_path / "missing.toml"
    result = fleet("profile", "check", str(bad), str(smoke), str(threshold), str(missing))
    assert result.returncode == 2
    assert result.stdout.splitlines() == [f'{smoke}: ok: "smoke", 100 stations for 30 s']
    assert result.stderr.splitlines() == [
        f"fleet profile check: {bad}: stations.count: expected an integer >= 1, got 0",
        f"fleet profile check: {threshold}: thresholds.p99: a latency needs a unit, ms or s",
        f"fleet profile check: {missing}: no such file",
    ]
