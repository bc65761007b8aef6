"""CSMS operations from the independent `ocpp`-library CSMS (issue 15, "done when"): a
reservation used by a session with its token and one left to expire; a firmware update's status
sequence and reboot; a local list sent, then an outage during which a listed token starts a
session offline, delivered after the reconnect. Fleet runs of both versions against
tests/peers/ocpp_lib_csms.py, which validates every message against the official schemas
(and prints what fails) and pings the stations all along, as real CSMSs do.

Each run stops as soon as the peer printed what its test needs (or an error): its bound is
a ceiling, not a wait."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import pytest
import trio

from fleet.profile import parse_profile
from fleet.run import FleetRun
from tests.peers import LibraryCsms, library_csms, wait_for
from tests.test_fleet import profile_text

PING = ["--ping-interval", "1"]  # every test's run lasts a few pings


def fleet_profile(url: str, version: str, *, stations: int, **overrides: str) -> str:
    """`stations` stations of `version` on the peer at `url`, 2 connectors each; `overrides`
    replace whole lines as in `profile_text`, and `session_extra` / `tail` add lines to
    [session] / at the end."""
    session_extra = overrides.pop("session_extra", "")
    tail = overrides.pop("tail", "")
    text = profile_text(
        count=f"count = {stations}",
        duration='duration = "60s"',  # stopped once everything was seen
        versions=f'versions = {{ "{version}" = 1.0 }}',
        **overrides,
    )
    text = text.replace('csms = "embedded"', f'csms = "{url}"')
    if session_extra:
        text = text.replace("[embedded]", f"{session_extra}\n[embedded]")
    return f"{text}\n{tail}" if tail else text


async def run_until(
    csms: LibraryCsms, profile: str, done: Callable[[], bool], bound: float
) -> None:
    """Run the fleet until `done()` holds or the peer printed an error, `bound` seconds at
    most: the test's assertions then say what is missing."""
    run = FleetRun(parse_profile(profile))

    async def stop_when_done() -> None:
        with trio.move_on_after(bound):
            await wait_for(lambda: done() or bool(csms.errors()), timeout=math.inf)
        run.stop("seen")

    with trio.fail_after(bound + 20):  # the drain after the stop
        async with trio.open_nursery() as nursery:
            nursery.start_soon(stop_when_done)
            await run.run()


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def answers(lines: list[dict], station: str, action: str) -> list[dict]:
    """The peer's calls of `action` to `station` and their answers, in order."""
    return [
        ln
        for ln in lines
        if ln.get("station") == station
        and ln.get("action") == action
        and ln.get("direction") != "received"
    ]


def received(lines: list[dict], station: str, action: str) -> list[dict]:
    """What `station` sent of `action`, in order."""
    return [
        ln
        for ln in lines
        if ln.get("station") == station
        and ln.get("action") == action
        and ln.get("direction") == "received"
    ]


def stations(csms: LibraryCsms) -> list[str]:
    return sorted({ln["station"] for ln in csms.lines if ln.get("action") == "BootNotification"})


def starts(lines: list[dict], station: str) -> list[dict]:
    """The station's transaction starts: 1.6 StartTransaction, 2.0.1 TransactionEvent
    Started."""
    return received(lines, station, "StartTransaction") + [
        ln for ln in received(lines, station, "TransactionEvent") if ln["event"] == "Started"
    ]


def statuses(lines: list[dict], station: str, connector: int) -> list[dict]:
    return [
        ln for ln in received(lines, station, "StatusNotification") if ln["connector"] == connector
    ]


# -- reservations -------------------------------------------------------------------------------

TOKEN = "RESERVED-1"
EXPIRY = 2.0  # the second reservation's lifetime, seconds


def reservation_done(csms: LibraryCsms, count: int, version: str) -> bool:
    found = stations(csms)
    if len(found) < count:
        return False
    for station in found:
        second = answers(csms.lines, station, "ReserveNow")[1:]
        if not second or not starts(csms.lines, station):
            return False
        freed = [
            ln
            for ln in statuses(csms.lines, station, 2)
            if ln["status"] == "Available" and when(ln["at"]) > when(second[0]["at"])
        ]
        if not freed:
            return False
        if version == "2.0.1" and not received(csms.lines, station, "ReservationStatusUpdate"):
            return False
    return True


@pytest.mark.deadline(60)
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_reserved_connector_serves_its_token_and_an_expired_reservation_frees_one(
    version: str,
) -> None:
    """ReserveNow 1 on connector / EVSE 1 for the token, ReserveNow 2 on 2 expiring in 2 s,
    then a remote start with the token on 1: the session starts there with reservationId 1,
    connector 2 shows Reserved then Available at the expiry (2.0.1: ReservationStatusUpdate
    Expired for reservation 2, nothing for the used one)."""
    count = 2
    flags = [*PING, "--reserve-at", "0.3", "--reserve-token", TOKEN]
    flags += ["--reserve-expiry", str(EXPIRY), "--reserve-start-at", "0.8"]
    async with library_csms(*flags) as csms:
        profile = fleet_profile(
            csms.url,
            version,
            stations=count,
            # No session of the stations' own: the connectors are the reservations'.
            first_start='first_start = { distribution = "uniform", min = "600s", max = "601s" }',
            length='length = { distribution = "uniform", min = "60s", max = "61s" }',
        )
        await run_until(csms, profile, lambda: reservation_done(csms, count, version), bound=30)
        assert csms.errors() == []
        lines = list(csms.lines)
    assert len(stations(csms)) == count
    for station in stations(csms):
        first, second = answers(lines, station, "ReserveNow")
        assert (first["reservation"], first["status"]) == (1, "Accepted"), first
        assert (second["reservation"], second["status"]) == (2, "Accepted"), second
        (start_call,) = answers(lines, station, answer_action(version))
        assert start_call["status"] == "Accepted", start_call
        # Connector 1: Reserved, then the reserved token's session there, with its reservation.
        one = [ln["status"] for ln in statuses(lines, station, 1)]
        assert one[:2] == ["Available", "Reserved"], one
        assert one[2] in ("Preparing", "Occupied"), one
        (start,) = starts(lines, station)
        assert start["connector"] == 1, start
        assert start["reservation_id"] == 1, start
        assert (start.get("id_tag") or start.get("id_token")) == TOKEN, start
        # Connector 2: Reserved until the expiry, then Available again.
        two = statuses(lines, station, 2)
        assert [ln["status"] for ln in two] == ["Available", "Reserved", "Available"], two
        expires = when(second["sent"]) + dt.timedelta(seconds=EXPIRY)
        freed = when(two[2]["at"])
        assert expires - dt.timedelta(seconds=0.05) <= freed <= expires + dt.timedelta(seconds=2)
        updates = [
            (u["reservation_id"], u["status"])
            for u in received(lines, station, "ReservationStatusUpdate")
        ]
        assert updates == ([(2, "Expired")] if version == "2.0.1" else []), updates


def answer_action(version: str) -> str:
    return "RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction"
