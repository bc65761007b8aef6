"""A station lives on while its CSMS is unreachable (issue 15 item 3): between connection
attempts the actor fires its machine's timers, so drivers keep arriving and starting
sessions on local authorization, sessions sample and end, and all of it reaches the CSMS
after the reconnect, in order; an outage that outlasts the run is counted, not lost.

Against the ocpp-library CSMS (it validates every message), which closes every connection
and refuses new ones for a while (`--outage-at`, `--outage-for`), pinging every second.
"""

from __future__ import annotations

import pytest
import trio

from fleet.profile import parse_profile
from fleet.run import FleetRun
from tests.peers import library_csms, wait_for
from tests.test_interop_csms_ops import (
    LISTED,
    PING,
    RECONNECT,
    fleet_profile,
    outage,
    run_until,
    starts,
    stations,
    when,
)

OUTAGE_AT, OUTAGE_FOR = 1.0, 5.0


@pytest.mark.deadline(60)
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_drivers_keep_starting_sessions_through_an_outage(version: str) -> None:
    """Short sessions (1 s, 0.5 s apart) on a listed token: a connector runs several
    through a 5 s outage, each started and ended offline and delivered after it (before,
    the machine stood still while disconnected: one session per connector at most, worked
    out at the reconnect)."""
    flags = [*PING, "--local-list", LISTED, "--local-list-at", "0.1"]
    flags += ["--outage-at", str(OUTAGE_AT), "--outage-for", str(OUTAGE_FOR)]
    async with library_csms(*flags) as csms:
        profile = fleet_profile(
            csms.url,
            version,
            stations=1,
            connectors="connectors = 1",
            first_start='first_start = "2s"',
            length='length = "1s"',
            idle='idle = "0.5s"',
            meter_interval='meter_interval = "0.5s"',
            session_extra=f'id_tags = ["{LISTED}"]',
            tail=RECONNECT,
        )

        def done() -> bool:
            window = outage(csms.lines)
            if window is None:
                return False
            late = [s for st in stations(csms) for s in starts(csms.lines, st)]
            return len([s for s in late if when(s["at"]) > window[1]]) >= 3

        await run_until(csms, profile, done, bound=25)
        assert csms.errors() == []
        lines = list(csms.lines)
    began, ended = outage(lines) or (None, None)
    assert began is not None and ended is not None
    [station] = stations(csms)
    offline = [s for s in starts(lines, station) if began < when(s["timestamp"]) < ended]
    # 5 s of outage, a session every 1.5 s from 1 s into it: at least 2 (3 when on time).
    assert len(offline) >= 2, offline
    assert all(when(s["at"]) > ended for s in offline)  # delivered after the reconnect
    if version == "2.0.1":
        assert all(s["offline"] is True for s in offline)
    else:
        # Each offline session's stop carries the transaction id its start got.
        ids = [s["answer"]["transaction_id"] for s in offline if "answer" in s]
        assert len(set(ids)) == len(ids)


@pytest.mark.deadline(60)
async def test_an_outage_that_outlasts_the_run_is_counted() -> None:
    """The CSMS goes away for good while sessions run: the stations go on charging offline
    and stop when the run ends; their samples and stops are held, and counted as
    undelivered at the end (they were produced with nowhere to go), never silently lost."""
    flags = [*PING, "--local-list", LISTED, "--local-list-at", "0.1"]
    flags += ["--outage-at", "1.5", "--outage-for", "600"]
    async with library_csms(*flags) as csms:
        profile = fleet_profile(
            csms.url,
            "1.6",
            stations=2,
            connectors="connectors = 1",
            first_start='first_start = "0.5s"',
            length='length = "60s"',
            meter_interval='meter_interval = "0.5s"',
            session_extra=f'id_tags = ["{LISTED}"]',
            drain='drain = "1s"',
            tail=RECONNECT,
        )
        run = FleetRun(parse_profile(profile))

        async def stop_later() -> None:
            await wait_for(lambda: _began(csms.lines), 20)
            await trio.sleep(3.0)  # 3 s of charging offline: ~6 samples per station
            run.stop("enough")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(stop_later)
            await run.run()
    queued = run.metrics.count("transaction_messages_queued")
    undelivered = run.metrics.count("transaction_messages_undelivered")
    # ~6 samples and a stop per station were made offline, held, and never delivered.
    assert queued >= 8, queued
    assert undelivered >= 8, undelivered


def _began(lines: list[dict]) -> bool:
    return any(ln.get("outage") == "started" for ln in lines)
