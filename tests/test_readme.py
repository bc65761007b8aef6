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
