"""Every way a run can end writes a report whose counters are true, and a distinct exit code.

Endings: the planned end, SIGINT (130), SIGTERM (143), a second Ctrl-C (at once, with what was
measured until then), a dead worker (5, "incomplete"), an internal error (70, "incomplete"), too
many station faults (7), credentials refused (6, before the run), an output path that cannot
be written (2, before the run). Signals are sent once the CSMS has seen the stations boot:
the tests wait on that, not on the clock.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import msgspec
import pytest
import trio

from fleet.metrics import Report, read_report
from fleet.profile import parse_profile
from fleet.report import merge
from fleet.run import FleetRun
from fleet.run._outputs import RunOutputs
from fleet.station import StationMachine16
from tests.peers import library_csms, wait_for
from tests.test_cli import fleet_csms
from tests.test_fleet import profile_text
from tests.test_report import report_from

ROOT = Path(__file__).resolve().parent.parent
FLEET = [sys.executable, "-m", "fleet"]
TRANSACTION_ACTIONS = ("StartTransaction", "StopTransaction", "MeterValues", "TransactionEvent")


def transaction_messages_add_up(report: Report) -> None:
    """Each transaction message produced was acknowledged, dropped or still undelivered."""
    counters = report.counters
    acknowledged = sum(
        stats.answered for action, stats in report.actions.items() if action in TRANSACTION_ACTIONS
    )
    assert counters.transaction_messages > 0
    assert counters.transaction_messages == (
        acknowledged
        + counters.transaction_messages_dropped
        + counters.transaction_messages_undelivered
    )


def received(csms, action: str) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for line in csms.lines if line.get("action") == action and line.get("direction"))


async def run_fleet(*args: str) -> trio.Process:
    return await trio.lowlevel.open_process(
        [*FLEET, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


async def finish(process: trio.Process, timeout: float = 60) -> tuple[int, str, str]:
    """Wait for `process`, reading its output all along; (exit code, stdout, stderr)."""
    out, err = bytearray(), bytearray()

    async def read(stream, into: bytearray) -> None:  # type: ignore[no-untyped-def]
        async for chunk in stream:
            into += chunk

    with trio.fail_after(timeout):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(read, process.stdout, out)
            nursery.start_soon(read, process.stderr, err)
            await process.wait()
    return process.returncode, out.decode(), err.decode()


def booted(csms, count: int):  # type: ignore[no-untyped-def]
    return lambda: received(csms, "BootNotification") >= count


@pytest.mark.parametrize(
    ("signals", "code"),
    [([signal.SIGINT], 130), ([signal.SIGTERM], 143), ([signal.SIGINT, signal.SIGINT], 130)],
    ids=["sigint", "sigterm", "twice"],
)
async def test_a_signal_ends_the_run_with_its_code_and_a_true_report(
    tmp_path: Path, signals: list[signal.Signals], code: int
) -> None:
    out = tmp_path / "report.json"
    # Answers 0.3 s late: the drain after the first signal takes seconds, so a second one
    # lands in it.
    async with library_csms("--answer-delay", "0.3") as csms:
        process = await run_fleet(
            str(ROOT / "profiles/smoke.toml"), "--csms", csms.url, "--stations", "20",
            "--duration", "120", "--out", str(out), "--quiet",
        )  # fmt: skip
        try:
            await wait_for(booted(csms, 20), timeout=60)
            # Sessions under way: there are transaction messages to account for.
            await wait_for(lambda: received(csms, "StartTransaction") >= 3, timeout=60)
            started = trio.current_time()
            for signum in signals:
                process.send_signal(signum)
                if len(signals) > 1:  # the second once the first is being handled
                    await trio.sleep(0.2)
            last_signal = dt.datetime.now(dt.UTC)
            returncode, stdout, stderr = await finish(process)
            took = trio.current_time() - started
        finally:
            if process.returncode is None:
                process.kill()
        assert returncode == code, stderr
        report = read_report(out)
        assert report.interrupted
        assert f"interrupted by {signals[0].name}" in " ".join(report.notes)
        assert report.duration_s >= 1.0  # the real time it ran, not 0
        assert report.actions["BootNotification"].answered == 20
        for action, stats in report.actions.items():
            # Every call sent has its fate: answered, refused, timed out, or cut short.
            outcomes = stats.answered + sum(stats.errors.values()) + stats.invalid
            assert stats.sent == outcomes + stats.timeouts + stats.lost, (action, stats)
            # What the CSMS saw: nothing sent is missing, nothing extra (after a second
            # signal a send may be cut before its bytes left).
            if len(signals) == 1:
                assert stats.sent == received(csms, action), action
            else:
                assert stats.sent >= received(csms, action) >= stats.answered, action
        transaction_messages_add_up(report)
        assert "Traceback" not in stderr + stdout
        if len(signals) == 2:
            # At once, not after a drain (which spreads its stops over 5 s here): the run's
            # own clock says when it ended; the process's teardown is bounded too.
            assert report.phases["drain"].seconds < 2, report.phases["drain"]
            assert took < 15
            # The report ends when the quit was asked, not after the teardown.
            assert report.ended_at <= last_signal + dt.timedelta(seconds=0.5)
            assert any(note.startswith("quit at once") for note in report.notes)
        else:  # drained: every session that started was stopped
            assert report.counters.sessions_started == report.counters.sessions_stopped


async def test_a_dead_worker_leaves_an_incomplete_report_and_exit_5(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    async with library_csms() as csms:
        process = await run_fleet(
            str(ROOT / "profiles/smoke.toml"), "--csms", csms.url, "--stations", "20",
            "--duration", "8", "--workers", "2", "--out", str(out), "--quiet",
        )  # fmt: skip
        try:
            await wait_for(booted(csms, 20), timeout=60)
            workers = [  # children of any of its threads
                int(pid)
                for task in Path(f"/proc/{process.pid}/task").iterdir()
                for pid in (task / "children").read_text().split()
            ]
            assert len(workers) == 2
            os.kill(workers[0], signal.SIGKILL)
            returncode, _, stderr = await finish(process)
        finally:
            if process.returncode is None:
                process.kill()
    assert returncode == 5, stderr
    report = read_report(out)
    assert any(
        note.startswith("incomplete: worker") and "SIGKILL" in note for note in report.notes
    ), report.notes
    assert report.actions["BootNotification"].answered == 10  # the living worker's half
    assert "killed by SIGKILL" in stderr


def test_an_internal_error_still_writes_the_report_with_exit_70(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug of ours (here: in the live view, called every second) ends the run; what was
    measured until then is written, marked incomplete, and the traceback is in the log."""
    from fleet import _cli
    from fleet.run import _live

    ticks = 0

    def failing_view(self, interval, run) -> None:  # type: ignore[no-untyped-def]
        nonlocal ticks
        ticks += 1
        if ticks == 3:
            raise RuntimeError("a bug in the live view")

    monkeypatch.setattr(_live.LiveView, "__call__", failing_view)
    profile = tmp_path / "p.toml"
    profile.write_text(profile_text(duration='duration = "60s"', count="count = 10"))
    out = tmp_path / "report.json"
    code = _cli.main(["run", str(profile), "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 70
    report = read_report(out)
    assert report.notes[0] == "incomplete: internal error: RuntimeError: a bug in the live view"
    assert 2.0 <= report.duration_s < 30
    assert report.actions["BootNotification"].answered == 10
    transaction_messages_add_up(report)
    log = out.with_suffix(".log").read_text()
    assert "a bug in the live view" in log and "Traceback" in log
    assert "Traceback" not in printed.out + printed.err


def write_behaviour(folder: Path, body: str) -> None:
    # A module name of its own per test: an imported module stays in sys.modules.
    (folder / f"faulty_{folder.name}.py").write_text(textwrap.dedent(body))


def custom_profile(folder: Path, count: int, extra: str = "") -> Path:
    path = folder / "faulty.toml"
    path.write_text(
        textwrap.dedent(f"""\
            name = "faulty"
            csms = "embedded"
            duration = "30s"
            behaviour = "faulty_{folder.name}:drive"
            [stations]
            count = {count}
            versions = {{ "1.6" = 1.0 }}
            [ramp]
            rate = 100
            [reconnect]
            wait_minimum = "0.1s"
            random_range = "0.1s"
            """)
        + extra
    )
    return path


async def test_a_faulting_station_is_counted_and_restarted_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    """One station's custom behaviour raises twice: counted by kind, restarted after its
    backoff each time; the others never notice."""
    write_behaviour(
        tmp_path,
        """
        from fleet.ocpp import v16

        attempts = {}

        async def drive(station):
            attempts[station.index] = attempts.get(station.index, 0) + 1
            async with station.connect() as cp:
                await cp.boot_notification(
                    v16.BootNotificationRequest(charge_point_vendor="v", charge_point_model="m")
                )
                if station.index == 0 and attempts[0] <= 2:
                    raise KeyError("a bug in a behaviour")
                while await station.sleep(0.2):
                    await cp.heartbeat(v16.HeartbeatRequest())
        """,
    )
    path = custom_profile(tmp_path, 5)
    run = FleetRun(parse_profile(path.read_text(), str(path)), behaviour_path=str(tmp_path))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run.run)
        await wait_for(lambda: run.metrics.connects >= 7, timeout=30)
        run.stop("test over")
    assert run.metrics.station_faults == {"KeyError": 2}
    assert "a bug in a behaviour" in run.metrics.fault_tracebacks["KeyError"]
    assert run.metrics.actions["BootNotification"].answered == 7  # 5 + 2 restarts
    assert run.stopped_early is None


async def test_a_fault_in_a_built_in_station_restarts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception out of a station machine (a bug of ours): the station's watchdog closes
    the connection, backs off, connects and boots again; one station, not the run."""
    original = StationMachine16.on_timer
    failed: list[str] = []

    def on_timer(self, now):  # type: ignore[no-untyped-def]
        if not failed and self.station_id.endswith("000") and self.booted:
            failed.append(self.station_id)
            raise ZeroDivisionError("a bug in a machine")
        return original(self, now)

    monkeypatch.setattr(StationMachine16, "on_timer", on_timer)
    text = profile_text(
        count="count = 4", versions='versions = { "1.6" = 1.0 }', duration='duration = "60s"'
    )
    text += '\n[reconnect]\nwait_minimum = "0.1s"\nrandom_range = "0.1s"\n'
    run = FleetRun(parse_profile(text))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run.run)
        await wait_for(lambda: run.metrics.answered("BootNotification") >= 5, 30)
        run.stop("test over")
    assert run.metrics.station_faults == {"ZeroDivisionError": 1}
    assert run.metrics.connects == 5 and run.metrics.disconnects == 0
    assert run.stopped_early is None


async def test_too_many_faulting_stations_stop_the_run_early(tmp_path: Path) -> None:
    write_behaviour(
        tmp_path,
        """
        async def drive(station):
            async with station.connect():
                raise ValueError("always")
        """,
    )
    path = custom_profile(tmp_path, 10, "[station_faults]\nstop_share = 0.5\n")
    run = FleetRun(parse_profile(path.read_text(), str(path)), behaviour_path=str(tmp_path))
    with trio.fail_after(30):
        await run.run()
    assert run.stopped_early is not None and "stations faulted within 60 s" in run.stopped_early
    assert not run.interrupted
    assert run.metrics.station_faults["ValueError"] >= 5
    assert run.ended_at is not None and run.ended_at - run.metrics.started_at < 20


def test_stopped_early_exits_7_with_the_note_and_the_log(tmp_path: Path) -> None:
    write_behaviour(
        tmp_path,
        """
        async def drive(station):
            raise ValueError("always")
        """,
    )
    path = custom_profile(tmp_path, 10)
    out = tmp_path / "report.json"
    result = subprocess.run(
        [*FLEET, "run", str(path), "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 7, result.stderr
    report = read_report(out)
    assert any(note.startswith("stopped early: ") for note in report.notes)
    assert report.counters.station_faults["ValueError"] >= 5
    assert "station faults" in result.stdout
    log = out.with_suffix(".log").read_text()
    assert "ValueError: always" in log
    assert "Traceback" not in result.stdout + result.stderr  # the log has it, not the terminal


async def test_refused_credentials_have_their_own_code_and_message(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        profile_text(count="count = 2") + '\n[auth]\npassword = "not-the-right-one"\n'
    )
    async with fleet_csms("--basic-auth", "SIM-000000:the-right-one") as csms:
        process = await run_fleet(str(profile), "--csms", csms.url, "--quiet")
        returncode, _, stderr = await finish(process, 30)
    assert returncode == 6, stderr
    assert stderr.strip() == (
        "fleet run: the CSMS refused the credentials (HTTP 401): check [auth] in the profile"
    )


@pytest.mark.parametrize("flag", ["--out", "--html"])
def test_an_output_path_that_cannot_be_written_is_refused_before_the_run(
    tmp_path: Path, flag: str
) -> None:
    (tmp_path / "a-file").write_text("")
    target = tmp_path / "a-file" / "report.x"
    result = subprocess.run(
        [*FLEET, "run", str(ROOT / "profiles/smoke.toml"), flag, str(target)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"fleet run: {flag} {target}: cannot be written (a part of the path is a file, "
        "not a folder)"
    )
    assert result.stdout == ""  # nothing ran


def test_a_report_that_cannot_be_written_at_the_end_goes_to_a_temporary_file(
    tmp_path: Path,
) -> None:
    out = tmp_path / "gone" / "report.json"
    said: list[str] = []
    outputs = RunOutputs(out, None, say=said.append)
    assert outputs.check() is None
    (tmp_path / "gone").rmdir()
    (tmp_path / "gone").write_text("now a file")  # the folder went away after the check
    report = report_from({"Heartbeat": [0.01, 0.02]})
    written = outputs.write_report(report)
    assert written != out and written.exists()
    assert read_report(written) == report
    assert said == [
        f"fleet run: cannot write the report to {out} (a part of the path is a file, not a "
        f"folder); it is in {written}"
    ]
    written.unlink()


def test_a_page_that_cannot_be_written_leaves_no_part_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "page.html"
    page.write_text("the page of an earlier run")
    said: list[str] = []
    outputs = RunOutputs(tmp_path / "r.json", page, say=said.append)
    real_replace = os.replace

    def disk_full(src, dst):  # type: ignore[no-untyped-def]
        if Path(dst) == page:  # the page's folder is full; the temporary folder is not
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", disk_full)
    written = outputs.write_html("<html>new</html>")
    monkeypatch.undo()
    assert written is not None and written != page and written.read_text() == "<html>new</html>"
    assert page.read_text() == "the page of an earlier run"  # not truncated, not half-new
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]  # no temporary left
    assert said == [
        f"fleet run: cannot write the HTML report to {page} (No space left on device); "
        f"it is in {written}"
    ]
    written.unlink()


def test_the_counts_of_station_faults_merge_by_kind() -> None:
    one = report_from({"Heartbeat": [0.01]})
    reports = [
        msgspec.structs.replace(
            one, counters=msgspec.structs.replace(one.counters, station_faults=faults)
        )
        for faults in ({"KeyError": 2}, {"KeyError": 1, "transport: LocalProtocolError": 1})
    ]
    merged = merge(reports, force=True)  # one run made twice, on purpose
    assert merged.counters.station_faults == {"KeyError": 3, "transport: LocalProtocolError": 1}
    assert merged.name == one.name  # not the name of the last counter merged (a bug once)
