"""Interop with the PyPI `ocpp` library, which validates every message against the official
schemas: our toolkit against its CSMS, its charge point against our CSMS.

The library is asyncio, so its peers run as subprocesses (tests/peers/) on 127.0.0.1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from fleet.csms import open_csms
from tests import peers, scenarios
from tests.peers import LibraryCsms

PEERS = Path(__file__).resolve().parent / "peers"


@pytest.fixture
async def library_csms() -> AsyncIterator[LibraryCsms]:
    async with peers.library_csms() as csms:
        yield csms


async def test_charge_16_against_the_library_csms(library_csms: LibraryCsms) -> None:
    with trio.fail_after(20):
        assert await scenarios.charge_16(library_csms.url, "cp-16") >= 1
    expected = {"Authorize": 1, "StatusNotification": 2, "StartTransaction": 1}
    await library_csms.read_until(lambda: library_csms.received("cp-16") == expected)
    assert library_csms.received("cp-16") == expected
    assert library_csms.errors() == []


async def test_remote_charge_16_against_the_library_csms(library_csms: LibraryCsms) -> None:
    with trio.fail_after(20):
        id_tag, transaction_id = await scenarios.remote_charge_16(library_csms.url, "remote-16")
    assert id_tag == "Tag2" and transaction_id >= 1
    await library_csms.read_until(
        lambda: any(line.get("action") == "RemoteStartTransaction" for line in library_csms.lines)
    )
    answer = [line for line in library_csms.lines if line.get("action") == "RemoteStartTransaction"]
    assert answer == [
        {"station": "remote-16", "action": "RemoteStartTransaction", "status": "Accepted"}
    ]
    await library_csms.read_until(
        lambda: library_csms.received("remote-16")["StatusNotification"] == 2
    )
    assert library_csms.received("remote-16") == {"StatusNotification": 2, "StartTransaction": 1}
    assert library_csms.errors() == []


async def test_charge_201_against_the_library_csms(library_csms: LibraryCsms) -> None:
    with trio.fail_after(20):
        assert await scenarios.charge_201(library_csms.url, "cp-201") == "Accepted"
    expected = {"Authorize": 1, "StatusNotification": 1, "TransactionEvent": 1}
    await library_csms.read_until(lambda: library_csms.received("cp-201") == expected)
    assert library_csms.received("cp-201") == expected
    assert library_csms.errors() == []


async def test_remote_charge_201_against_the_library_csms(library_csms: LibraryCsms) -> None:
    with trio.fail_after(20):
        assert await scenarios.remote_charge_201(library_csms.url, "remote-201") == "Tag2"
    await library_csms.read_until(
        lambda: any(line.get("action") == "RequestStartTransaction" for line in library_csms.lines)
    )
    answer = [
        line for line in library_csms.lines if line.get("action") == "RequestStartTransaction"
    ]
    assert answer == [
        {"station": "remote-201", "action": "RequestStartTransaction", "status": "Accepted"}
    ]
    expected = {"StatusNotification": 1, "TransactionEvent": 1}
    await library_csms.read_until(lambda: library_csms.received("remote-201") == expected)
    assert library_csms.received("remote-201") == expected
    assert library_csms.errors() == []


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.6", {"BootNotification": 1, "Heartbeat": 1, "Authorize": 1, "StatusNotification": 2, "StartTransaction": 1, "MeterValues": 1, "StopTransaction": 1}),
        ("2.0.1", {"BootNotification": 1, "Heartbeat": 1, "Authorize": 1, "StatusNotification": 1, "TransactionEvent": 3}),
    ],
)  # fmt: skip
async def test_a_library_charge_point_against_our_csms(version: str, expected: dict) -> None:
    async with open_csms() as csms:
        with trio.fail_after(30):
            result = await trio.run_process(
                [sys.executable, str(PEERS / "ocpp_lib_charge_point.py"), csms.url, "lib-cp", version],
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )  # fmt: skip
        steps = [json.loads(line) for line in result.stdout.decode().splitlines()]
        output = result.stdout.decode() + result.stderr.decode()[-2000:]
        assert result.returncode == 0, output
        assert all(step["ok"] for step in steps)
        assert csms.received_by_station["lib-cp"] == expected
