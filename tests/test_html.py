"""The HTML report in a real headless browser (Debian's chromium; .ci/run installs it).

The page must load offline with no console errors and draw its charts; a screenshot is kept
in tests/artifacts/ for people to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fleet.metrics import write_report
from tests.test_report import report_from

FLEET = [sys.executable, "-m", "fleet"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def make_page(tmp_path: Path) -> Path:
    reports = []
    for name, latency in (("before", 0.010), ("after", 0.014)):
        path = tmp_path / f"{name}.json"
        write_report(
            report_from({"Heartbeat": [latency] * 200 + [0.5], "Authorize": [0.003] * 50}), path
        )
        reports.append(str(path))
    page = tmp_path / "page.html"
    result = subprocess.run(
        [*FLEET, "report", "html", *reports, "-o", str(page)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return page


def test_the_page_is_self_contained(tmp_path: Path) -> None:
    text = make_page(tmp_path).read_text()
    # nothing to fetch: no scripts, stylesheets, images or fonts from elsewhere
    assert not re.search(r"<script|<link|<img|@import|url\(", text)
    assert set(re.findall(r"https?://[^\s\"']+", text)) <= {"http://www.w3.org/2000/svg"}
    assert text.count('<svg class="chart"') == 2 + 7  # a spectrum per action, seven over time
    assert "before" in text and "after" in text


def test_the_page_lists_the_faults_of_a_run() -> None:
    import msgspec

    from fleet.metrics import FaultRecord
    from fleet.report import render_html

    fault = FaultRecord(
        kind="restart", amount=5.0, at_s=40.0, connected_before=1000, recovery_s=9.8,
        peak_connects_per_s=412,
    )  # fmt: skip
    report = msgspec.structs.replace(report_from({"Heartbeat": [0.01]}), faults=[fault])
    text = render_html([report])
    assert (
        "<li>40.0 s  restart (down 5 s): 1,000 connected before; all back after 9.8 s; "
        "reconnect peak 412/s</li>" in text
    )
    assert "Faults injected" not in render_html([report_from({"Heartbeat": [0.01]})])


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium here (.ci/run installs Debian's); the page's structure is checked above",
)
def test_the_page_renders_in_a_browser_without_errors(tmp_path: Path) -> None:
    page = make_page(tmp_path)
    profile = tmp_path / "chromium-profile"
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    assert "net::ERR" not in dom.stderr
    # The browser parsed every chart and every curve (two reports overlaid in each).
    assert dom.stdout.count('<svg class="chart"') == 9
    assert dom.stdout.count('class="series"') == 9 * 2
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1400,1800", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
