"""The benchmark scripts run (quick mode); their figures are not asserted here (timing
belongs in benchmarks/, not in tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.__main__ import BENCHMARKS_IN_ORDER

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "benchmarks/results"


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
    (about two minutes on two cores; the figures are not checked). csms_ops, a minute of its
    own even when quick, has its own smaller test below."""
    names = [name for name in BENCHMARKS_IN_ORDER if name != "csms_ops"]
    only = [arg for name in names for arg in ("--only", name)]
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", *only, "--out-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=330,
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
    assert set(expected) == set(names)
    for name, keys in expected.items():
        figures = json.loads((tmp_path / f"{name}.json").read_text())
        assert figures["benchmark"] == name and figures["quick"] is True
        assert keys <= figures.keys(), f"{name}: missing {keys - figures.keys()}"


def test_csms_ops_runs_a_campaign_of_each_action_and_times_every_reaction(
    tmp_path: Path,
) -> None:
    """The CSMS-operations benchmark at a tiny size (20 stations, one round, 2 s campaign
    windows; about a minute): every station gets the 7 kW TxDefaultProfile and then its clearing,
    answers Accepted, and reacts to each with a meter value at the new power, as the run's
    report counts them; the CPU per operation is figured for both campaigns (its value is not
    checked: timing belongs in benchmarks/)."""
    out = tmp_path / "csms_ops.json"
    command = [sys.executable, "-m", "benchmarks.csms_ops", "--stations", "20"]
    result = subprocess.run(
        [*command, "--rounds", "1", "--window", "2", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    figures = json.loads(out.read_text())
    assert figures["stations_booted"] == 20
    actions = figures["actions"]
    assert list(actions) == ["SetChargingProfile", "ClearChargingProfile"]
    for action, figure in actions.items():
        # What the CSMS sent and heard back, and what the stations' report section says.
        assert figure["sent"] == 20 and figure["sent_by_version"] == {"1.6": 10, "2.0.1": 10}
        assert figure["statuses"] == {"Accepted": 20}, action
        assert figure["errors"] == {} and figure["timeouts"] == figure["lost"] == 0
        assert figure["station_received"] == 20
        assert figure["station_answers"] == {"Accepted": 20}
        assert figure["station_answer_ms"]["count"] == 20
        # Each call moved a session's power; its reaction is the next sample, within the
        # 10 s meter interval (later only on a machine far too busy).
        reaction = figure["reaction_ms"]
        assert reaction["count"] == 20, action
        assert 0 < reaction["p50_ms"] <= reaction["p99_ms"] < 20_000
        assert 0 <= figure["reactions_late"] <= 20
        assert figure["fleet_cpu_us_per_operation"] is not None
    windows = [cost["window"] for cost in figures["costs"]]
    assert windows == ["SetChargingProfile-1", "ClearChargingProfile-1"]
    assert [cost["received"] for cost in figures["costs"]] == [20, 20]
    assert all(target["passed"] for target in figures["targets"])
    assert "reaction p50/p99" in result.stdout


def test_a_default_run_leaves_the_committed_figures_alone(tmp_path: Path) -> None:
    """Without --out-dir the suite writes to a folder of its own in the user's cache and says
    where; benchmarks/results/ (the figures benchmarks/README.md quotes) only changes with
    --update-results."""
    committed = (COMMITTED / "codec.json").read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "codec"],
        cwd=ROOT,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    [written] = (tmp_path / "ocpp-fleet/benchmarks").glob("*/codec.json")
    assert json.loads(written.read_text())["quick"] is True
    assert result.stdout.splitlines()[-1] == f"results: {written.parent}"
    wrote = [line for line in result.stdout.splitlines() if line.startswith("wrote ")]
    assert wrote == [f"wrote {written}"]
    assert (COMMITTED / "codec.json").read_bytes() == committed


def test_update_results_is_for_the_full_suite() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--update-results"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "python -m benchmarks: error: --update-results takes full figures, not --quick"
    )
