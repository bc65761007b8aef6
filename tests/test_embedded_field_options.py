"""The embedded CSMS's field behaviours as users reach them: a profile's ``[embedded]`` fields
and ``close`` / ``reset`` faults, `fleet run` of such a profile (read through its report), and
the ``fleet csms`` flags (issue 12, item 5)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import trio

import fleet.toolkit as tk
from fleet.csms._field import check_close_code
from fleet.metrics import describe_fault, read_report
from fleet.ocpp import v16
from fleet.profile import ProfileError, parse_fault_option, parse_profile
from fleet.station import TRANSACTION_ACTIONS
from tests.test_cli import FLEET, fleet_csms
from tests.test_fleet import profile_text
from tests.test_profile import MINIMAL, problem

# --- the profile ----------------------------------------------------------------------------


def test_embedded_field_behaviours_decode_and_default_to_off() -> None:
    embedded = parse_profile(MINIMAL, "x.toml").embedded
    assert (embedded.ping_interval, embedded.close_after, embedded.reset_after) == (None,) * 3
    assert (embedded.close_code, embedded.field_jitter) == (1000, 0.0)
    assert (embedded.ignore_close_share, embedded.slow_close) == (0.0, 0.0)
    embedded = parse_profile(
        MINIMAL
        + "[embedded]\n"
        + 'ping_interval = "20s"\nclose_after = "1m"\nclose_code = 4001\nreset_after = 90\n'
        + 'field_jitter = "250ms"\nignore_close_share = 0.1\nslow_close = "2s"\n',
        "x.toml",
    ).embedded
    assert (embedded.ping_interval, embedded.close_after, embedded.close_code) == (20, 60, 4001)
    assert (embedded.reset_after, embedded.field_jitter) == (90, 0.25)
    assert (embedded.ignore_close_share, embedded.slow_close) == (0.1, 2)


def test_close_and_reset_faults_decode() -> None:
    faults = parse_profile(
        MINIMAL
        + '[[embedded.faults]]\nat = "30s"\nclose = 0.2\ncode = 1011\n'
        + '[[embedded.faults]]\nat = "45s"\nevery = "1m"\nclose = 0.5\n'
        + '[[embedded.faults]]\nat = "50s"\nreset = 0.1\n',
        "x.toml",
    ).embedded.faults
    assert [(f.kind, f.amount, f.at) for f in faults] == [
        ("close", 0.2, 30),
        ("close", 0.5, 45),
        ("reset", 0.1, 50),
    ]
    assert [f.close_code for f in faults[:2]] == [1011, 1001]  # 1001 "going away" by default
    assert parse_fault_option("close=0.2,code=1011,at=30s") == faults[0]
    assert parse_fault_option("reset=0.1,at=50s") == faults[2]


DURATION = 'a duration (seconds, or a string like "250ms", "30s", "5m", "1m30s")'
ERRORS = [
    ("[embedded]\nping_interval = 0\n", "embedded.ping_interval: expected a duration > 0, got 0"),
    ("[embedded]\nclose_after = -1\n", "embedded.close_after: expected a duration >= 0, got -1"),
    (
        '[embedded]\nreset_after = "soon"\n',
        f'embedded.reset_after: expected {DURATION}, got "soon"',
    ),
    (
        "[embedded]\nclose_code = 1006\n",
        "embedded.close_code: expected a close code 1000-1003, 1007-1014 or 3000-4999, got 1006",
    ),
    ('[embedded]\nclose_code = "1011"\n', 'embedded.close_code: expected an integer, got "1011"'),
    (
        "[embedded]\nignore_close_share = 1.5\n",
        "embedded.ignore_close_share: expected a number <= 1, got 1.5",
    ),
    (
        '[embedded]\nslow_close = "-2s"\n',
        f'embedded.slow_close: expected {DURATION}, got "-2s"',
    ),
    (
        "[embedded]\nfield_jitter = true\n",
        f"embedded.field_jitter: expected {DURATION}, got true",
    ),
    (
        '[[embedded.faults]]\nat = "1s"\nclose = 0.2\nreset = 0.2\n',
        "embedded.faults[0]: give exactly one of restart, drop, stall, close or reset",
    ),
    (
        '[[embedded.faults]]\nat = "1s"\nclose = 2\n',
        "embedded.faults[0].close: expected a number <= 1, got 2",
    ),
    (
        '[[embedded.faults]]\nat = "1s"\nreset = -0.1\n',
        "embedded.faults[0].reset: expected a number >= 0, got -0.1",
    ),
    (
        '[[embedded.faults]]\nat = "1s"\nclose = 0.2\ncode = 5000\n',
        "embedded.faults[0].code: expected a close code 1000-1003, 1007-1014 or 3000-4999, got 5000",
    ),
    (
        '[[embedded.faults]]\nat = "1s"\nreset = 0.2\ncode = 1011\n',
        "embedded.faults[0].code: only a close fault takes a code, not reset",
    ),
    (
        '[[embedded.faults]]\nat = "1s"\ncode = 1011\n',
        "embedded.faults[0]: give exactly one of restart, drop, stall, close or reset",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS, ids=[m for _, m in ERRORS])
def test_field_option_errors_name_the_field(text: str, message: str) -> None:
    assert problem(MINIMAL + text) == f"x.toml: {message}"


def test_the_profile_allows_the_close_codes_the_csms_may_send() -> None:
    """The profile checks close codes itself (it does not import the CSMS); the rule must be
    fleet.csms's own."""

    def csms_allows(code: int) -> bool:
        try:
            check_close_code(code)
        except ValueError:
            return False
        return True

    def profile_allows(code: int) -> bool:
        try:
            parse_profile(MINIMAL + f"[embedded]\nclose_code = {code}\n", "x.toml")
        except ProfileError:
            return False
        return True

    for code in [0, 999, *range(1000, 1020), 2999, 3000, 3999, 4000, 4999, 5000, 65535]:
        assert profile_allows(code) == csms_allows(code), code


def test_fault_lines_for_closes_and_resets() -> None:
    from fleet.metrics import FaultRecord

    def line(kind: str, amount: float) -> str:
        return describe_fault(
            FaultRecord(
                kind=kind,
                amount=amount,
                at_s=30.0,
                connected_before=200,
                recovery_s=2.5,
                peak_connects_per_s=40,
            )
        ).strip()

    assert line("close 1011", 0.2) == (
        "30.0 s  close 20% of connections (code 1011): 200 connected before; "
        "all back after 2.5 s; reconnect peak 40/s"
    )
    assert line("reset", 0.1).startswith("30.0 s  reset 10% of connections: 200 connected")


# --- fleet run ------------------------------------------------------------------------------

STATIONS = 16


def test_a_fleet_run_through_pings_closes_and_resets_of_the_embedded_csms(
    tmp_path: Path,
) -> None:
    """`fleet run` of an embedded profile whose CSMS pings every 50 ms, closes half the
    connections with 1011 at 1.5 s and resets half at 3 s: every station comes back and
    boots again, nothing escapes, every transaction message is accounted for, and the report
    lists both faults with their recovery."""
    profile = tmp_path / "field.toml"
    profile.write_text(
        profile_text(
            count=f"count = {STATIONS}",
            duration='duration = "5s"',
            rate="rate = 200",
            response_delay='response_delay = "0s"\nping_interval = "0.05s"',
        )
        + '\n[reconnect]\nwait_minimum = "0.1s"\nrandom_range = "0.2s"\n'
        + '[[embedded.faults]]\nat = "1.5s"\nclose = 0.5\ncode = 1011\n'
        + '[[embedded.faults]]\nat = "3s"\nreset = 0.5\n'
    )
    out = tmp_path / "report.json"
    result = subprocess.run(
        [*FLEET, "run", str(profile), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=75,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    report = read_report(out)
    counters = report.counters
    assert counters.station_faults == {}
    assert not report.interrupted
    # The faults, listed, each with the fleet connected before and all back after.
    assert [(f.kind, f.amount) for f in report.faults] == [("close 1011", 0.5), ("reset", 0.5)]
    assert 1.5 <= report.faults[0].at_s < 2.0 and 3.0 <= report.faults[1].at_s < 3.5
    assert all(f.connected_before > 0 and f.recovery_s is not None for f in report.faults)
    assert "close 50% of connections (code 1011): " in result.stdout
    assert "reset 50% of connections: " in result.stdout
    # Closed and reset stations reconnected and booted again.
    closed = sum(round(f.connected_before * f.amount) for f in report.faults)
    assert closed >= STATIONS // 2
    assert counters.reconnects >= closed
    assert report.actions["BootNotification"].answered >= STATIONS + closed
    # Every transaction message: acknowledged, dropped or still undelivered.
    acknowledged = sum(
        report.actions[action].answered
        for action in TRANSACTION_ACTIONS
        if action in report.actions
    )
    assert counters.transaction_messages > 0
    assert counters.transaction_messages == (
        acknowledged
        + counters.transaction_messages_dropped
        + counters.transaction_messages_undelivered
    )


# --- fleet csms -----------------------------------------------------------------------------


async def test_fleet_csms_flags_ping_close_with_a_code_and_schedule_closes() -> None:
    """--ping-interval, --close-after and --close-code reach every connection; a scheduled
    close (every 0.2 s, so whenever the station is there) closes it with the fault's code."""
    async with fleet_csms(
        "--ping-interval", "0.05", "--close-after", "0.3s", "--close-code", "4001"
    ) as csms:
        async with tk.connect(csms.url, "flags") as cp:
            await cp.boot_notification(
                v16.BootNotificationRequest(charge_point_vendor="v", charge_point_model="m")
            )
            with trio.fail_after(10):
                await cp.wait_closed()
            with pytest.raises(tk.ConnectionLost) as lost:
                await cp.heartbeat(v16.HeartbeatRequest())
            assert lost.value.code == 4001
        code, text = await csms.stop()
    assert code == 0
    assert "field behaviours: ping every 0.05 s, close after 0.3 s (code 4001)" in text
    assert "closed 4001 1" in text and "pings sent " in text

    async with fleet_csms("--fault", "close=1,code=1011,at=0.2s,every=0.2s") as csms:
        async with tk.connect(csms.url, "scheduled") as cp:
            with trio.fail_after(10):
                await cp.wait_closed()
            with pytest.raises(tk.ConnectionLost) as lost:
                await cp.heartbeat(v16.HeartbeatRequest())
            assert lost.value.code == 1011
        code, text = await csms.stop()
    assert code == 0
    assert "s: close 1 (code 1011)" in text
    assert re.search(r"closed 1011 [1-9]", text)  # once, or again while it was closing


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--ping-interval", "0"], "--ping-interval: expected a duration > 0, got 0"),
        (
            ["--close-code", "1006"],
            "--close-code: expected a close code 1000-1003, 1007-1014 or 3000-4999, got 1006",
        ),
        (["--ignore-close", "1.5"], "--ignore-close: expected a number <= 1, got 1.5"),
        (
            ["--fault", "reset=0.1,code=1011,at=1s"],
            "--fault: code: only a close fault takes a code, not reset",
        ),
    ],
    ids=["ping-interval", "close-code", "ignore-close", "fault-code"],
)
def test_fleet_csms_rejects_bad_field_flags_with_one_line(flags: list[str], message: str) -> None:
    result = subprocess.run([*FLEET, "csms", *flags], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == f"fleet csms: {message}"


@pytest.mark.parametrize("name", ["error_share", "malformed_share", "boot_pending_share"])
def test_a_share_out_of_range_names_its_argument(name: str) -> None:
    from fleet.csms import EmbeddedCsms

    with pytest.raises(ValueError, match=rf"^{name}: a share is between 0 and 1, got 1.5$"):
        EmbeddedCsms(**{name: 1.5})
