"""The README's Python examples run as written, and its set-up commands match CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_first_lines_are_the_two_setup_commands_and_ci_runs_the_second() -> None:
    first_block = re.match(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    assert first_block, "the README must open with the set-up commands"
    commands = first_block.group(1).strip().splitlines()
    assert len(commands) == 2
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_python_examples_run(source: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(source, "README.md", "exec"), {"__name__": "readme_example"})
    out = capsys.readouterr().out
    for expected in re.findall(r"print\(.*\)\s+# (.+)", source):
        assert expected.strip() in out


def test_the_report_and_profile_commands_run_verbatim(tmp_path: Path) -> None:
    """Every `fleet report` and `fleet profile` line of the README's shell blocks runs as
    written (bash: its globs too) and succeeds, with the files it names made first, and
    however many reports match `reports/smoke-*.json`."""
    import datetime as dt
    import shutil
    import subprocess
    import sys

    from fleet.metrics import Metrics, build_report, write_report

    def report(name: str, notes: tuple[str, ...] = ()) -> None:
        metrics = Metrics(0.0)
        metrics.ramp_done(0.0)
        for i in range(20):
            metrics.call_sent("Heartbeat", i / 10, i / 10)
            metrics.call_answered("Heartbeat", i / 10, i / 10, i / 10 + 0.01)
        metrics.drain_started(2.0)
        metrics.tick(3.0)
        wall = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        built = build_report(
            metrics, name="smoke", profile={"name": "smoke"}, started_at=wall, ended_at=wall,
            ended_monotonic=3.0, notes=list(notes),
        )  # fmt: skip
        write_report(built, tmp_path / name)

    shutil.copytree(ROOT / "profiles", tmp_path / "profiles")
    fleet = tmp_path / ".venv/bin/fleet"
    fleet.parent.mkdir(parents=True)
    fleet.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m fleet "$@"\n')
    fleet.chmod(0o755)
    for name in ("reports/smoke-1.json", "reports/smoke-2.json", "REPORT", "build-a.json",
                 "build-b.json"):  # fmt: skip
        report(name)
    for index in (0, 1):  # as `fleet run --shard I/2` writes them
        report(f"shard-{index}.json", (f"shard {index}/2 of the stations",))
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    lines = [
        line.split("  #")[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.startswith((".venv/bin/fleet report ", ".venv/bin/fleet profile "))
    ]
    assert len(lines) >= 10
    for line in lines:
        result = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, (line, result.stdout, result.stderr)
