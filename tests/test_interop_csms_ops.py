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
        if not second or len(starts(csms.lines, station)) < 2:
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
    Expired for reservation 2, nothing for the used one). Another token's remote start on 2
    is Rejected while it is reserved and starts a session once it expired."""
    count = 2
    flags = [*PING, "--reserve-at", "0.3", "--reserve-token", TOKEN]
    flags += ["--reserve-expiry", str(EXPIRY), "--reserve-start-at", "0.8"]
    # Another driver on connector / EVSE 2: while it is reserved, then after the expiry.
    flags += ["--other-start-at", f"1.0,{0.3 + EXPIRY + 0.5}"]
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
        start_call, refused, accepted = answers(lines, station, answer_action(version))
        assert "token" not in start_call and start_call["status"] == "Accepted", start_call
        # Connector 1: Reserved, then the reserved token's session there, with its reservation.
        one = [ln["status"] for ln in statuses(lines, station, 1)]
        assert one[:2] == ["Available", "Reserved"], one
        assert one[2] in ("Preparing", "Occupied"), one
        start, other = starts(lines, station)
        assert start["connector"] == 1, start
        assert start["reservation_id"] == 1, start
        assert (start.get("id_tag") or start.get("id_token")) == TOKEN, start
        # Connector 2: Reserved until the expiry (another driver refused), then Available and
        # free for anyone: the other driver's session starts there, with no reservation.
        two = statuses(lines, station, 2)
        assert [ln["status"] for ln in two[:3]] == ["Available", "Reserved", "Available"], two
        expires = when(second["sent"]) + dt.timedelta(seconds=EXPIRY)
        freed = when(two[2]["at"])
        assert expires - dt.timedelta(seconds=0.05) <= freed <= expires + dt.timedelta(seconds=2)
        assert refused["token"] == "OTHER-1" and refused["status"] == "Rejected", refused
        assert when(refused["at"]) < freed
        assert accepted["token"] == "OTHER-1" and accepted["status"] == "Accepted", accepted
        assert other["connector"] == 2 and other["reservation_id"] is None, other
        assert (other.get("id_tag") or other.get("id_token")) == "OTHER-1", other
        assert when(other["timestamp"]) > freed
        updates = [
            (u["reservation_id"], u["status"])
            for u in received(lines, station, "ReservationStatusUpdate")
        ]
        assert updates == ([(2, "Expired")] if version == "2.0.1" else []), updates


def answer_action(version: str) -> str:
    return "RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction"


# -- local list and an outage -------------------------------------------------------------------

LISTED = "LISTED-1"
OUTAGE_AT, OUTAGE_FOR = 1.0, 3.0  # seconds after the first boot the peer receives
RECONNECT = '[reconnect]\nwait_minimum = "0.3s"\nrandom_range = "0.3s"\nrepeat_times = 0'


def outage(lines: list[dict]) -> tuple[dt.datetime, dt.datetime] | None:
    """When the peer's outage started and ended (None before it ended)."""
    started = [when(ln["at"]) for ln in lines if ln.get("outage") == "started"]
    ended = [when(ln["at"]) for ln in lines if ln.get("outage") == "ended"]
    return (started[0], ended[0]) if started and ended else None


def outage_done(csms: LibraryCsms, count: int, connectors: int) -> bool:
    """Every connector of every station has a start that reached the peer after the outage."""
    window = outage(csms.lines)
    found = stations(csms)
    if window is None or len(found) < count:
        return False
    return all(
        len({s["connector"] for s in starts(csms.lines, st) if when(s["at"]) > window[1]})
        == connectors
        for st in found
    )


@pytest.mark.deadline(60)
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("listed", [True, False], ids=["listed", "unlisted"])
async def test_a_listed_token_starts_a_session_in_an_outage_delivered_after_the_reconnect(
    version: str, listed: bool
) -> None:
    """SendLocalList Full (version 1) with the drivers' token after the boot, then a 3 s
    outage (connections closed, handshakes refused) during which the stations' sessions come
    due: with the token listed each starts at once, offline (1.6 StartTransaction timestamped
    inside the outage, 2.0.1 TransactionEvent Started offline=true), delivered after the
    reconnect; with another token listed (the control) none starts before the CSMS is back
    (unknown tokens are not allowed offline by default)."""
    count, connectors = 2, 2
    token_list = LISTED if listed else "SOMEONE-ELSE"
    flags = [*PING, "--local-list", token_list, "--local-list-at", "0.1"]
    flags += ["--outage-at", str(OUTAGE_AT), "--outage-for", str(OUTAGE_FOR)]
    async with library_csms(*flags) as csms:
        profile = fleet_profile(
            csms.url,
            version,
            stations=count,
            # Sessions come due 1 s into the outage and last beyond it.
            first_start='first_start = { distribution = "uniform", min = "2s", max = "2.3s" }',
            length='length = { distribution = "uniform", min = "30s", max = "31s" }',
            meter_interval='meter_interval = "1s"',
            session_extra=f'id_tags = ["{LISTED}"]',
            tail=RECONNECT,
        )
        await run_until(csms, profile, lambda: outage_done(csms, count, connectors), bound=25)
        assert csms.errors() == []
        lines = list(csms.lines)
    window = outage(lines)
    assert window is not None, "the outage did not run"
    began, ended = window
    assert len(stations(csms)) == count
    for station in stations(csms):
        # The list and the settings it needs, all in place before the outage.
        setup = (
            answers(lines, station, "ChangeConfiguration")
            if version == "1.6"
            else answers(lines, station, "SetVariables")
        )
        if version == "1.6":
            assert [a["status"] for a in setup] == ["Accepted", "Accepted"], setup
        else:
            results = setup[0]["answer"]["set_variable_result"]
            assert [r["attribute_status"] for r in results] == ["Accepted", "Accepted"], setup
        (sent_list,) = answers(lines, station, "SendLocalList")
        assert sent_list["status"] == "Accepted", sent_list
        (version_answer,) = answers(lines, station, "GetLocalListVersion")
        listed_version = version_answer["answer"].get("list_version")
        if listed_version is None:
            listed_version = version_answer["answer"].get("version_number")
        assert listed_version == 1, version_answer
        assert all(when(a["at"]) < began for a in [*setup, sent_list, version_answer])
        # The station tried the CSMS during the outage, and was refused.
        assert any(ln.get("field") == "refused" and ln["station"] == station for ln in lines)
        mine = starts(lines, station)
        assert {s["connector"] for s in mine} == set(range(1, connectors + 1)), mine
        for start in mine:
            assert (start.get("id_tag") or start.get("id_token")) == LISTED, start
            stamped, arrived = when(start["timestamp"]), when(start["at"])
            assert arrived > ended, start  # nothing reaches a CSMS that is down
            if listed:
                assert began < stamped < ended, (began, start, ended)  # started offline
                if version == "2.0.1":
                    assert start["offline"] is True, start
            else:
                assert stamped > ended, (start, ended)  # waited for the CSMS
                if version == "2.0.1":
                    assert start["offline"] is False, start


def deauthorized(lines: list[dict], station: str) -> list[dict]:
    """The station's transaction ends with reason DeAuthorized (1.6 StopTransaction, 2.0.1
    TransactionEvent Ended stoppedReason)."""
    return [
        ln
        for ln in received(lines, station, "StopTransaction")
        + [e for e in received(lines, station, "TransactionEvent") if e["event"] == "Ended"]
        if (ln.get("reason") or ln.get("stopped_reason")) == "DeAuthorized"
    ]


@pytest.mark.deadline(60)
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_session_started_offline_that_the_csms_then_finds_invalid_is_stopped(
    version: str,
) -> None:
    """The listed token starts offline as above (the outage a TCP reset this time), but the
    CSMS answers it Invalid when the start is delivered: with StopTransactionOnInvalidId / TxCtrlr.StopTxOnInvalidId true
    (the default) the session stops at once, reason DeAuthorized."""
    count, connectors = 1, 2
    flags = [*PING, "--local-list", LISTED, "--local-list-at", "0.1", "--invalid-tokens", LISTED]
    flags += ["--outage-at", str(OUTAGE_AT), "--outage-for", str(OUTAGE_FOR)]
    flags += ["--outage-kind", "reset"]  # this time the outage cuts TCP: no close frame
    async with library_csms(*flags) as csms:
        profile = fleet_profile(
            csms.url,
            version,
            stations=count,
            first_start='first_start = { distribution = "uniform", min = "2s", max = "2.3s" }',
            length='length = { distribution = "uniform", min = "30s", max = "31s" }',
            meter_interval='meter_interval = "1s"',
            session_extra=f'id_tags = ["{LISTED}"]',
            tail=RECONNECT,
        )

        def done() -> bool:
            found = stations(csms)
            return len(found) == count and all(
                len(deauthorized(csms.lines, st)) == connectors for st in found
            )

        await run_until(csms, profile, done, bound=25)
        assert csms.errors() == []
        lines = list(csms.lines)
    window = outage(lines)
    assert window is not None, "the outage did not run"
    began, ended = window
    (station,) = stations(csms)
    mine = starts(lines, station)
    assert len(mine) == connectors and all(began < when(s["timestamp"]) < ended for s in mine)
    stops = deauthorized(lines, station)
    assert len(stops) == connectors, received(lines, station, "StopTransaction") or received(
        lines, station, "TransactionEvent"
    )
    # Stopped on the CSMS's answer: after the reconnect, not at the sessions' planned end.
    assert all(ended < when(s["timestamp"]) < ended + dt.timedelta(seconds=5) for s in stops)


# -- firmware, diagnostics and logs -------------------------------------------------------------

FIRMWARE = '[firmware]\ndownload = "1s"\ninstall = "1s"\nupload = "1s"'
NO_SESSIONS = 'first_start = { distribution = "uniform", min = "600s", max = "601s" }'


def seen(lines: list[dict], station: str, action: str) -> list[tuple[str, int | None]]:
    """(status, requestId) of each status notification `action` the station sent."""
    return [(ln["status"], ln.get("request_id")) for ln in received(lines, station, action)]


@pytest.mark.deadline(60)
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_firmware_update_runs_its_status_sequence_reboots_and_diagnostics_upload(
    version: str,
) -> None:
    """GetDiagnostics (2.0.1 GetLog of the DiagnosticsLog), then UpdateFirmware: the upload
    reports Uploading, Uploaded; the update Downloading, Downloaded, Installing (2.0.1
    InstallRebooting), a reboot (2.0.1 boot reason FirmwareUpdate) with the new firmware's
    version, then Installed; each step as long as the profile's [firmware] says (1 s)."""
    update = "UpdateFirmware"
    upload = "GetDiagnostics" if version == "1.6" else "GetLog"
    upload_status = "DiagnosticsStatusNotification" if version == "1.6" else "LogStatusNotification"
    flags = [*PING, "--get-diagnostics-at", "0.2", "--update-firmware-at", "0.3"]
    async with library_csms(*flags) as csms:
        profile = fleet_profile(
            csms.url, version, stations=1, first_start=NO_SESSIONS, tail=FIRMWARE
        )

        def done() -> bool:
            found = stations(csms)
            return len(found) == 1 and all(
                ("Installed" in [s for s, _ in seen(csms.lines, st, "FirmwareStatusNotification")])
                and ("Uploaded" in [s for s, _ in seen(csms.lines, st, upload_status)])
                for st in found
            )

        await run_until(csms, profile, done, bound=20)
        assert csms.errors() == []
        lines = list(csms.lines)
    (station,) = stations(csms)
    (update_call,) = answers(lines, station, update)
    (upload_call,) = answers(lines, station, upload)
    firmware = received(lines, station, "FirmwareStatusNotification")
    boots = received(lines, station, "BootNotification")
    if version == "1.6":
        assert update_call["answer"] == {}, update_call  # UpdateFirmware.conf has no fields
        assert upload_call["answer"]["file_name"], upload_call
        assert seen(lines, station, upload_status) == [("Uploading", None), ("Uploaded", None)]
        expected = ["Downloading", "Downloaded", "Installing", "Installed"]
        assert [ln["status"] for ln in firmware] == expected, firmware
        rebooting = firmware[2]  # Installing: the reboot follows
    else:
        assert update_call["status"] == "Accepted", update_call
        assert upload_call["status"] == "Accepted" and upload_call["answer"]["filename"]
        (upload_id,) = {r for _, r in seen(lines, station, upload_status)}
        assert seen(lines, station, upload_status) == [
            ("Uploading", upload_id),
            ("Uploaded", upload_id),
        ]
        expected = ["Downloading", "Downloaded", "Installing", "InstallRebooting", "Installed"]
        assert [ln["status"] for ln in firmware] == expected, firmware
        assert len({ln["request_id"] for ln in firmware}) == 1, firmware  # the update's
        assert firmware[0]["request_id"] != upload_id
        rebooting = firmware[3]
    # The reboot: one boot between the install and Installed, with the new firmware.
    assert len(boots) == 2, boots
    assert when(rebooting["at"]) < when(boots[1]["at"]) < when(firmware[-1]["at"])
    # The boots report the firmware running: the station's own, then the file installed.
    assert [b["firmware"] for b in boots] == ["ocpp-fleet", "ocpp-fleet-2.0.0"], boots
    if version == "2.0.1":
        assert [b["reason"] for b in boots] == ["PowerUp", "FirmwareUpdate"], boots
    # The profile's durations: 1 s to download, 1 s from Installing to the reboot.
    downloading, downloaded, installing = (when(ln["at"]) for ln in firmware[:3])
    assert 0.9 <= (downloaded - downloading).total_seconds() <= 3, firmware
    assert 0.9 <= (when(boots[1]["at"]) - installing).total_seconds() <= 5, (firmware, boots)
    assert when(update_call["sent"]) < downloading


@pytest.mark.deadline(60)
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_security_log_is_uploaded_on_get_log(version: str) -> None:
    """GetLog of the SecurityLog (1.6: the Security Whitepaper's): Accepted with a file name,
    then LogStatusNotification Uploading, Uploaded with its requestId."""
    async with library_csms(*PING, "--get-log-at", "0.2") as csms:
        profile = fleet_profile(
            csms.url, version, stations=1, first_start=NO_SESSIONS, tail=FIRMWARE
        )

        def done() -> bool:
            found = stations(csms)
            return len(found) == 1 and ("Uploaded", 1) in seen(
                csms.lines, found[0], "LogStatusNotification"
            )

        await run_until(csms, profile, done, bound=15)
        assert csms.errors() == []
        lines = list(csms.lines)
    (station,) = stations(csms)
    (call,) = answers(lines, station, "GetLog")
    assert call["status"] == "Accepted" and call["answer"]["filename"], call
    assert seen(lines, station, "LogStatusNotification") == [("Uploading", 1), ("Uploaded", 1)]
