"""The `fleet` command line, run as a user would: a subprocess on loopback."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trio

import fleet.toolkit as tk
from fleet.metrics import read_report
from fleet.ocpp import InternalCallError, v16

FLEET = [sys.executable, "-m", "fleet"]
ROOT = Path(__file__).resolve().parent.parent
SMOKE = str(ROOT / "profiles/smoke.toml")


def fleet(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FLEET, *args], capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nothing else takes it meanwhile),
    never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_help_lists_the_commands() -> None:
    result = subprocess.run([*FLEET, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "csms" in result.stdout


def test_no_command_is_a_usage_error() -> None:
    result = fleet()
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: fleet ")
    assert result.stderr.splitlines()[-1].startswith("fleet: error: ")


@pytest.mark.parametrize(
    "args", [["nonsense"], ["run"], ["run", SMOKE, "--no-such-flag"], ["report"], ["csms", "x"]]
)
def test_every_usage_error_exits_2(args: list[str]) -> None:
    result = fleet(*args)
    assert result.returncode == 2, result.stderr
    assert "usage: fleet" in result.stderr


def test_csms_rejects_bad_options_with_one_clear_line() -> None:
    result = subprocess.run(
        [*FLEET, "csms", "--basic-auth", "no-colon"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "fleet csms: --basic-auth takes STATION:PASSWORD"


class CsmsProcess:
    """`fleet csms` as a subprocess: `url` once it listens; `stop()` sends SIGINT and returns
    the exit code and everything it printed."""

    def __init__(self, process: trio.Process, output: bytes) -> None:
        self.process = process
        self.output = output
        self.url = output.decode().splitlines()[0].split(" listening on ")[1].split(" ")[0]

    async def stop(self) -> tuple[int, str]:
        assert self.process.stdout is not None
        self.process.send_signal(signal.SIGINT)
        with trio.fail_after(15):
            while chunk := await self.process.stdout.receive_some():
                self.output += chunk
            code = await self.process.wait()
        return code, self.output.decode()


@contextlib.asynccontextmanager
async def fleet_csms(*options: str) -> AsyncIterator[CsmsProcess]:
    process = await trio.lowlevel.open_process(
        [*FLEET, "csms", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        output = b""
        with trio.fail_after(15):
            while b"\n" not in output:
                output += await process.stdout.receive_some()
        yield CsmsProcess(process, output)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_csms_serves_stations_and_stops_cleanly_on_sigint() -> None:
    async with fleet_csms("--heartbeat-interval", "42") as csms:
        assert csms.url.startswith("ws://127.0.0.1:")
        async with tk.connect(csms.url, "cli-station") as cp:
            boot = await cp.boot_notification(
                v16.BootNotificationRequest(charge_point_vendor="v", charge_point_model="m")
            )
            assert boot.interval == 42
        code, text = await csms.stop()
    assert code == 0
    assert "stopped: 1 connections, 1 calls received" in text
    assert "BootNotification" in text


def test_csms_rejects_a_bad_fault_with_one_clear_line() -> None:
    result = subprocess.run(
        [*FLEET, "csms", "--fault", "drop=1.5,at=10s"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "fleet csms: --fault: drop: expected a number <= 1, got 1.5"


async def test_csms_injects_scheduled_faults_and_says_so() -> None:
    async with fleet_csms("--fault", "drop=1,at=0.5s", "--error-share", "1") as csms:
        async with tk.connect(csms.url, "cli-station") as cp:
            with pytest.raises(InternalCallError):
                await cp.heartbeat(v16.HeartbeatRequest())
            with trio.fail_after(10):
                await cp.wait_closed()  # dropped at 0.5 s
        code, text = await csms.stop()
    assert code == 0
    assert "fault at 0.5 s: drop 1" in text
    assert "faults injected: connections dropped 1, error 1" in text


def test_an_unreachable_csms_is_said_once() -> None:
    with refusing_port() as port:
        result = fleet("run", SMOKE, "--csms", f"ws://127.0.0.1:{port}/ocpp", "--quiet")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "fleet run: csms: cannot connect to "
        f"ws://127.0.0.1:{port}/ocpp/SIM-000000: Connection refused"
    ]


def test_a_csms_that_never_answers_is_said_once(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        'name = "p"\nduration = "5s"\n[stations]\ncount = 1\n[timeouts]\nconnect = "200ms"\n'
    )
    with socket.socket() as listener:  # the kernel completes the TCP handshake; nobody reads
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}/ocpp"
        result = fleet("run", str(profile), "--csms", url, "--quiet")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"fleet run: csms: connecting to {url}/SIM-000000 took over 0.2 s"
    ]


# -- durations: the command line reads them as profiles do -----------------------------------

TINY = 'name = "tiny"\ncsms = "embedded"\nduration = "1h"\n[stations]\ncount = 1\n'


@pytest.mark.parametrize(("typed", "seconds"), [("1500ms", 1.5), ("1.5", 1.5), ("0m2s", 2.0)])
def test_run_duration_takes_the_forms_of_a_profile(
    tmp_path: Path, typed: str, seconds: float
) -> None:
    profile, out = tmp_path / "tiny.toml", tmp_path / "report.json"
    profile.write_text(TINY)
    result = fleet("run", str(profile), "--duration", typed, "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert read_report(out).profile["duration"] == seconds


@pytest.mark.parametrize("typed", ["20x", "-5", "nan", "5 m", ""])
def test_a_bad_run_duration_is_one_line_naming_the_flag(tmp_path: Path, typed: str) -> None:
    profile = tmp_path / "tiny.toml"
    profile.write_text(TINY)
    result = fleet("run", str(profile), "--duration", typed)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("fleet run: --duration: expected a "), line


def test_run_help_says_what_a_duration_is() -> None:
    help_text = " ".join(fleet("run", "--help").stdout.split())
    assert "--duration DURATION run duration: 250ms, 30s, 5m, 1m30s or seconds" in help_text


def test_a_behaviour_that_cannot_load_names_the_profile_and_the_field(tmp_path: Path) -> None:
    profile = tmp_path / "tiny.toml"
    profile.write_text('behaviour = "no_such_module:drive"\n' + TINY)
    result = fleet("run", str(profile), "--quiet")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"fleet run: {profile}: behaviour 'no_such_module:drive': cannot import "
        "'no_such_module': No module named 'no_such_module'"
    ]


def test_csms_help_says_what_a_duration_is() -> None:
    help_text = " ".join(fleet("csms", "--help").stdout.split())
    assert help_text.count("250ms, 30s, 5m, 1m30s or seconds") == 1  # the group's and...
    for flag in ("--heartbeat-interval DURATION", "--delay DURATION", "--ping-interval DURATION"):
        assert flag in help_text  # ...each flag that takes seconds
    assert "--action-delay ACTION=DURATION" in help_text


async def test_csms_durations_take_the_forms_of_a_profile() -> None:
    async with fleet_csms(
        "--heartbeat-interval", "1m", "--delay", "1ms", "--action-delay", "Heartbeat=0m0.3s"
    ) as csms:
        async with tk.connect(csms.url, "cli-station") as cp:
            boot = await cp.boot_notification(
                v16.BootNotificationRequest(charge_point_vendor="v", charge_point_model="m")
            )
            assert boot.interval == 60
            asked = trio.current_time()
            await cp.heartbeat(v16.HeartbeatRequest())
            assert trio.current_time() - asked >= 0.3  # never sooner than the delay asked
        code, _ = await csms.stop()
    assert code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--error-share", "2"], "--error-share: expected a number <= 1, got 2"),
        (["--malformed-share", "-0.1"], "--malformed-share: expected a number >= 0, got -0.1"),
        (
            ["--boot-pending-share", "0.7", "--boot-rejected-share", "0.7"],
            "--boot-rejected-share: --boot-pending-share + --boot-rejected-share must be <= 1",
        ),
        (["--heartbeat-interval", "0"], "--heartbeat-interval: expected whole seconds >= 1 (OCPP's interval is an integer), got 0"),
        (["--heartbeat-interval", "1.5s"], "--heartbeat-interval: expected whole seconds >= 1 (OCPP's interval is an integer), got 1.5"),
        (["--heartbeat-interval", "x"], "--heartbeat-interval: expected a duration"),
        (["--delay", "20x"], "--delay: expected a duration"),
        (["--action-delay", "Heartbeat=20x"], "--action-delay: Heartbeat: expected a duration"),
        (["--ping-interval", "0"], "--ping-interval: expected a duration > 0, got 0"),
        (["--version", "3"], "--version: unknown OCPP version '3'; use '1.6' or '2.0.1'"),
        (["--tls-cert", "/nonexistent.pem"], "--tls-cert: cannot read /nonexistent.pem: No such file or directory"),
        (["--tls-key", "k.pem"], "--tls-key needs --tls-cert"),
        (["--port", "70000"], "--port: expected 0-65535, got 70000"),
    ],
)  # fmt: skip
def test_csms_errors_name_their_flag(args: list[str], message: str) -> None:
    result = fleet("csms", *args, timeout=30)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"fleet csms: {message}"), line


def test_csms_a_certificate_that_does_not_load_names_the_flags(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    result = fleet("csms", "--tls-cert", str(tmp_path / "cert.pem"), timeout=30)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"fleet csms: --tls-cert {tmp_path / 'cert.pem'}: cannot load the certificate and its key "
        "(PEM lib)"
    ]


def test_csms_a_port_in_use_names_the_flags() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = fleet("csms", "--port", str(port), timeout=30)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"fleet csms: --host 127.0.0.1 --port {port}: cannot listen (Address already in use)"
    ]
