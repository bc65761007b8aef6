"""Smart charging from the independent `ocpp`-library CSMS (issue 15, "done when", first
bullet): fleet stations charging at 11-22 kW get a 7 kW TxDefaultProfile on connector / EVSE
0; their next meter values' power is at most 7 kW and the energy register's slope with it,
GetCompositeSchedule returns the limit, and clearing it gives the EV its power back. The
library validates every message against the official schemas (and reports what fails)."""

from __future__ import annotations

import datetime as dt

import pytest
import trio

from fleet.profile import parse_profile
from fleet.run import FleetRun
from tests.peers import LibraryCsms, library_csms, wait_for
from tests.test_fleet import profile_text

STATIONS = 4
LIMIT_W = 7000.0
VOLTS, PHASES = 230.0, 3  # a limit in A: per phase, on the EV's 3 phases at the station's 230 V
PROFILE_AT, COMPOSITE_AT, CLEAR_AT = 1.5, 3.0, 5.5  # seconds after a station's first start


def fleet_profile(url: str, version: str) -> str:
    text = profile_text(
        count=f"count = {STATIONS}",
        duration='duration = "60s"',  # stopped once everything was seen
        versions=f'versions = {{ "{version}" = 1.0 }}',
        first_start='first_start = { distribution = "uniform", min = "0s", max = "0.5s" }',
        length='length = { distribution = "uniform", min = "60s", max = "61s" }',
        meter_interval='meter_interval = "1s"',
    )
    text = text.replace('csms = "embedded"', f'csms = "{url}"')
    return text.replace(
        'meter_interval = "1s"',
        'meter_interval = "1s"\npower_kw = { distribution = "uniform", min = 11, max = 22 }',
    )


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def answer(lines: list[dict], station: str, action: str) -> dict | None:
    return next(
        (ln for ln in lines if ln.get("station") == station and ln.get("action") == action),
        None,
    )


def meters(lines: list[dict], station: str) -> list[dict]:
    """The station's periodic samples (a 2.0.1 Transaction.Begin reading is at 0 W: the EV
    has not started drawing yet)."""
    return [
        ln
        for ln in lines
        if ln.get("station") == station and ln.get("context") == "Sample.Periodic"
    ]


def done(csms: LibraryCsms, station: str) -> bool:
    """The sequence ran and two samples of every transaction came after the clear."""
    clear = answer(csms.lines, station, "ClearChargingProfile")
    if clear is None or "at" not in clear:
        return False
    samples = meters(csms.lines, station)
    transactions = {m["transaction"] for m in samples}
    cleared = when(clear["at"])
    return bool(transactions) and all(
        sum(1 for m in samples if m["transaction"] == t and when(m["timestamp"]) > cleared) >= 2
        for t in transactions
    )


@pytest.mark.deadline(90)
@pytest.mark.parametrize(
    ("version", "limit", "kind"),
    [
        ("1.6", "7000W", "absolute"),
        ("1.6", "10A", "relative"),  # 10 A x 3 phases x 230 V = 6.9 kW
        ("2.0.1", "7000W", "absolute"),
        ("2.0.1", "7000W", "relative"),
        ("2.0.1", "10A", "absolute"),
    ],
)
async def test_a_7_kw_tx_default_profile_from_the_library_csms_limits_the_sessions(
    version: str, limit: str, kind: str
) -> None:
    value, unit = float(limit[:-1]), limit[-1]
    cap_w = value if unit == "W" else value * VOLTS * PHASES
    flags = ["--tx-default-profile", limit, "--profile-kind", kind, "--profile-at", str(PROFILE_AT)]
    flags += ["--composite-at", str(COMPOSITE_AT), "--clear-at", str(CLEAR_AT)]
    async with library_csms(*flags) as csms:
        run = FleetRun(parse_profile(fleet_profile(csms.url, version)))
        stations: list[str] = []

        def all_done() -> bool:
            booted = {ln["station"] for ln in csms.lines if ln.get("action") == "BootNotification"}
            stations[:] = sorted(booted)
            return len(booted) == STATIONS and all(done(csms, s) for s in booted)

        async def stop_when_done() -> None:
            await wait_for(lambda: all_done() or bool(csms.errors()), timeout=60)
            run.stop("seen")

        with trio.fail_after(80):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(stop_when_done)
                await run.run()
        assert csms.errors() == []
        lines = list(csms.lines)
    for station in stations:
        set_profile = answer(lines, station, "SetChargingProfile")
        composite = answer(lines, station, "GetCompositeSchedule")
        clear = answer(lines, station, "ClearChargingProfile")
        assert set_profile is not None and set_profile["status"] == "Accepted"
        assert composite is not None and composite["status"] == "Accepted"
        assert clear is not None and clear["status"] == "Accepted"
        periods = composite["schedule"]["charging_schedule_period"]
        assert periods[0]["limit"] == value, composite  # in the unit asked for
        limited_from, limited_to = when(set_profile["at"]), when(clear["sent"])
        cleared = when(clear["at"])
        samples = meters(lines, station)
        for transaction in {m["transaction"] for m in samples}:
            mine = [m for m in samples if m["transaction"] == transaction]
            before = [m for m in mine if when(m["timestamp"]) < when(set_profile["sent"])]
            under = [m for m in mine if limited_from < when(m["timestamp"]) < limited_to]
            after = [m for m in mine if when(m["timestamp"]) > cleared]
            assert before and len(under) >= 2 and len(after) >= 2, (station, transaction, mine)
            assert all(m["power"] > LIMIT_W for m in before + after), [
                (m["timestamp"], m["power"]) for m in mine
            ]
            assert all(m["power"] <= cap_w for m in under), mine
            # The register's slope under the limit: at most the limit, give or take its
            # resolution (whole Wh in 1.6) over the span.
            first, last = under[0], under[-1]
            span = (when(last["timestamp"]) - when(first["timestamp"])).total_seconds()
            slope = (last["energy"] - first["energy"]) * 3600.0 / span
            assert 0 < slope <= cap_w + 3600.0 / span, (slope, under)
