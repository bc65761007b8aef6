"""The `fleet` command line, run as a user would: a subprocess on loopback."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import trio

import fleet.toolkit as tk
from fleet.ocpp import InternalCallError, v16

FLEET = [sys.executable, "-m", "fleet"]


def test_help_lists_the_commands() -> None:
    result = subprocess.run([*FLEET, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "csms" in result.stdout


def test_csms_rejects_bad_options_with_one_clear_line() -> None:
    result = subprocess.run(
        [*FLEET, "csms", "--basic-auth", "no-colon"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "fleet csms: --basic-auth takes STATION:PASSWORD"


async def test_csms_serves_stations_and_stops_cleanly_on_sigint() -> None:
    process = await trio.lowlevel.open_process(
        [*FLEET, "csms", "--port", "0", "--heartbeat-interval", "42"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        output = b""
        with trio.fail_after(15):
            while b"\n" not in output:
                output += await process.stdout.receive_some()
        first = output.decode().splitlines()[0]
        url = first.split(" listening on ")[1].split(" ")[0]
        assert url.startswith("ws://127.0.0.1:")
        async with tk.connect(url, "cli-station") as cp:
            boot = await cp.boot_notification(
                v16.BootNotificationRequest(charge_point_vendor="v", charge_point_model="m")
            )
            assert boot.interval == 42
        process.send_signal(signal.SIGINT)
        with trio.fail_after(15):
            while chunk := await process.stdout.receive_some():
                output += chunk
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = output.decode()
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
    process = await trio.lowlevel.open_process(
        [*FLEET, "csms", "--port", "0", "--fault", "drop=1,at=0.5s", "--error-share", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        output = b""
        with trio.fail_after(15):
            while b"\n" not in output:
                output += await process.stdout.receive_some()
        url = output.decode().splitlines()[0].split(" listening on ")[1].split(" ")[0]
        async with tk.connect(url, "cli-station") as cp:
            with pytest.raises(InternalCallError):
                await cp.heartbeat(v16.HeartbeatRequest())
            with trio.fail_after(10):
                await cp.wait_closed()  # dropped at 0.5 s
        process.send_signal(signal.SIGINT)
        with trio.fail_after(15):
            while chunk := await process.stdout.receive_some():
                output += chunk
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = output.decode()
    assert code == 0
    assert "fault at 0.5 s: drop 1" in text
    assert "faults injected: connections dropped 1, error 1" in text
