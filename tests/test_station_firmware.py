"""Firmware updates, diagnostics and log uploads on the simulated stations (issue 15 item 4),
on virtual time.

The machines are driven by `tests.test_station.Harness` (a fake clock, the embedded CSMS's
answers); the CSMS's requests go straight to `on_call`, as the actor does, and a reboot is
done here as the actor does it: once the machine is ready, disconnect and connect again.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest

from fleet.ocpp import v16
from fleet.profile import Distribution
from fleet.station import ConnectorState, Outgoing
from fleet.station._firmware import Constant, FirmwareSettings, well_formed_location
from tests.test_station import Harness

VERSIONS = ("1.6", "2.0.1")
LOCATION = "https://firmware.example.com/images/fw-2.4.1.bin"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
FIRMWARE_ACTIONS = {
    "FirmwareStatusNotification",
    "SignedFirmwareStatusNotification",
    "DiagnosticsStatusNotification",
    "LogStatusNotification",
}


def harness(version: str, firmware: FirmwareSettings | None = None, **overrides: Any) -> Harness:
    """One idle connector (no session of its own for a long while), booted at t=0."""
    values: dict[str, Any] = {
        "connectors": 1,
        "first_start": Distribution.constant(10_000),
        "idle": Distribution.constant(10_000),
        "length": Distribution.constant(100),
        "id_tags": ["OTHER"],
        "firmware": firmware,
    }
    values.update(overrides)
    h = Harness(version, **values)
    h.machine.connected(0.0)
    h.run_until(2.0)
    assert h.machine.booted
    return h


def run(h: Harness, until: float) -> None:
    """Run to `until`, rebooting as the actor does (a reboot takes 2 s)."""
    machine = h.machine
    while h.now < until:
        h.run_until(min(until, h.now + 1.0))
        if machine.reboot_requested and machine.ready_to_reboot:
            machine.disconnected(h.now)
            h.now += 2.0
            machine.connected(h.now)


def call(h: Harness, action: str, payload: dict[str, Any]) -> Any:
    """Send the station a CALL as it comes off the wire (decoded and validated), and check
    its answer against the schema too."""
    spec = h.module.ACTIONS[action]
    request = spec.request_decoder.decode(msgspec.json.encode(payload))
    response = h.machine.on_call(action, request, h.now)
    spec.response_decoder.decode(msgspec.json.encode(response))
    return response


def update(
    h: Harness,
    request_id: int = 1,
    *,
    location: str = LOCATION,
    retrieve_in: float = 0.0,
    install_in: float | None = None,
    signed: bool = False,
    certificate: str = PEM,
) -> Any:
    """UpdateFirmware (1.6: SignedUpdateFirmware when `signed`); the answer."""
    retrieve = h.machine.wall(h.now + retrieve_in).isoformat()
    firmware: dict[str, Any] = {"location": location, "retrieveDateTime": retrieve}
    if install_in is not None:
        firmware["installDateTime"] = h.machine.wall(h.now + install_in).isoformat()
    if signed:
        firmware["signingCertificate"] = certificate
        firmware["signature"] = "c2lnbmF0dXJl"
    if h.module is v16 and not signed:
        return call(h, "UpdateFirmware", {"location": location, "retrieveDate": retrieve})
    action = "SignedUpdateFirmware" if h.module is v16 else "UpdateFirmware"
    return call(h, action, {"requestId": request_id, "firmware": firmware})


def get_log(h: Harness, request_id: int, location: str = "ftp://logs.example.com/up") -> Any:
    payload = {"logType": "DiagnosticsLog", "requestId": request_id}
    payload["log"] = {"remoteLocation": location}  # type: ignore[assignment]
    return call(h, "GetLog", payload)


def notes(h: Harness, action: str, since: float = 0.0) -> list[tuple[float, str, Any]]:
    """(sent at, status, requestId or None) of each `action` sent since `since`."""
    out = []
    for at, item in h.sent:
        if item.action == action and at >= since:
            request_id = getattr(item.payload, "request_id", msgspec.UNSET)
            out.append(
                (at, str(item.payload.status), None if request_id is msgspec.UNSET else request_id)
            )
    return out


def statuses(h: Harness, action: str, since: float = 0.0) -> list[str]:
    return [status for _, status, _ in notes(h, action, since)]


def item(h: Harness, action: str, status: str) -> Outgoing:
    (found,) = [i for _, i in h.sent if i.action == action and str(i.payload.status) == status]
    return found


def boots(h: Harness) -> list[Any]:
    return [i.payload for _, i in h.sent if i.action == "BootNotification"]


def security_events(h: Harness) -> list[str]:
    return [i.payload.type for _, i in h.sent if i.action == "SecurityEventNotification"]


def status_action(h: Harness, signed: bool = False) -> str:
    if h.module is v16 and signed:
        return "SignedFirmwareStatusNotification"
    return "FirmwareStatusNotification"


# -- firmware updates ------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_an_update_downloads_installs_reboots_and_reports_installed(version: str) -> None:
    h = harness(version)
    t0 = h.now
    answer = update(h, 7)
    if version == "2.0.1":
        assert answer.status == "Accepted"
    run(h, t0 + 200)
    sequence = notes(h, "FirmwareStatusNotification")
    if version == "1.6":
        expected = ["Downloading", "Downloaded", "Installing", "Installed"]
    else:
        expected = ["Downloading", "Downloaded", "Installing", "InstallRebooting", "Installed"]
        assert {rid for _, _, rid in sequence} == {7}  # every one carries its requestId
    assert [status for _, status, _ in sequence] == expected
    # Download 30 s, install 20 s (the defaults), then the reboot and Installed after it.
    times = {status: at for at, status, _ in sequence}
    assert times["Downloaded"] == pytest.approx(t0 + 30, abs=0.1)
    assert times["Installing"] == pytest.approx(t0 + 30, abs=0.1)
    installed_boot = boots(h)[-1]
    assert len(boots(h)) == 2
    if version == "2.0.1":
        assert times["InstallRebooting"] == pytest.approx(t0 + 50, abs=0.1)
        assert installed_boot.reason == "FirmwareUpdate"
    boot_at = max(at for at, i in h.sent if i.action == "BootNotification")
    assert times["Installed"] > boot_at > t0 + 50
    # The outcome carries the request's arrival for its reaction time; nothing else does.
    assert item(h, "FirmwareStatusNotification", "Installed").reaction == ("UpdateFirmware", t0)
    assert item(h, "FirmwareStatusNotification", "Downloading").reaction is None
    # A secure update (2.0.1) reports the new firmware as a security event; plain 1.6 not.
    assert security_events(h) == (["FirmwareUpdated"] if version == "2.0.1" else [])
    # The new version is the station's from now on; the job is over.
    assert h.machine.firmware_version == "fw-2.4.1"
    assert h.machine.firmware.update is None
    assert h.machine.firmware_at == math.inf
    # After Installed a triggered notification says Idle.
    assert h.machine.triggered_firmware_status(h.now).status == "Idle"


def firmware_version_of(boot: Any) -> str:
    """The firmwareVersion a BootNotification reports (1.6 flat, 2.0.1 in chargingStation)."""
    return getattr(boot, "charging_station", boot).firmware_version


def firmware_versions(h: Harness) -> list[str]:
    """The firmwareVersion each BootNotification sent reported, in order."""
    return [firmware_version_of(payload) for payload in boots(h)]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("verification_fails", [False, True])
def test_the_boot_after_the_install_reboot_reports_the_new_firmware(
    version: str, verification_fails: bool
) -> None:
    """The boot after an install's reboot runs the new firmware, so it reports its version
    (Installed comes after that boot's answer); a failed verification leaves the old one."""
    settings = FirmwareSettings(install_verification_failed=1.0 if verification_fails else 0.0)
    h = harness(version, settings)
    t0 = h.now
    update(h, 9)
    run(h, t0 + 49)  # installing: a boot asked for now still runs the old firmware
    assert firmware_version_of(h.machine.triggered_boot_request()) == "ocpp-fleet"
    run(h, t0 + 200)
    new = "ocpp-fleet" if verification_fails else "fw-2.4.1"
    assert firmware_versions(h) == ["ocpp-fleet", new]
    installed_at = notes(h, "FirmwareStatusNotification")[-1][0]
    boot_at = max(at for at, i in h.sent if i.action == "BootNotification")
    assert boot_at < installed_at
    assert h.machine.firmware_version == new


@pytest.mark.parametrize("version", VERSIONS)
def test_downloading_starts_at_the_retrieve_date_not_before(version: str) -> None:
    h = harness(version)
    t0 = h.now
    update(h, 3, retrieve_in=100)
    run(h, t0 + 99)
    if version == "2.0.1":
        assert statuses(h, "FirmwareStatusNotification") == ["DownloadScheduled"]
    else:  # plain 1.6 has no status for it
        assert statuses(h, "FirmwareStatusNotification") == []
    run(h, t0 + 101)
    at, status, _ = notes(h, "FirmwareStatusNotification")[-1]
    assert status == "Downloading"
    assert at == pytest.approx(t0 + 100, abs=0.1)


def test_install_scheduled_until_the_install_date_201() -> None:
    h = harness("2.0.1")
    t0 = h.now
    update(h, 4, install_in=300)
    run(h, t0 + 299)
    assert statuses(h, "FirmwareStatusNotification") == [
        "Downloading",
        "Downloaded",
        "InstallScheduled",
    ]
    run(h, t0 + 400)
    at, status, _ = notes(h, "FirmwareStatusNotification", t0 + 299)[0]
    assert (status, at) == ("Installing", pytest.approx(t0 + 300, abs=0.1))
    assert statuses(h, "FirmwareStatusNotification")[-1] == "Installed"


FAILURES = [
    # (share, 1.6 plain sequence, 2.0.1 sequence, rebooted)
    (
        "download_failed",
        ["Downloading", "DownloadFailed"],
        ["Downloading", "DownloadFailed"],
        False,
    ),
    (
        "install_failed",
        ["Downloading", "Downloaded", "Installing", "InstallationFailed"],
        ["Downloading", "Downloaded", "Installing", "InstallationFailed"],
        False,
    ),
    (
        "install_verification_failed",
        ["Downloading", "Downloaded", "Installing", "InstallationFailed"],
        [
            "Downloading",
            "Downloaded",
            "Installing",
            "InstallRebooting",
            "InstallVerificationFailed",
        ],
        True,
    ),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("share", "seq16", "seq201", "rebooted"), FAILURES)
def test_failures_end_the_update_with_their_status(
    version: str, share: str, seq16: list[str], seq201: list[str], rebooted: bool
) -> None:
    h = harness(version, FirmwareSettings(**{share: 1.0}))
    t0 = h.now
    update(h, 5)
    run(h, t0 + 200)
    expected = seq16 if version == "1.6" else seq201
    assert statuses(h, "FirmwareStatusNotification") == expected
    assert len(boots(h)) == (2 if rebooted else 1)
    final = item(
        h,
        "FirmwareStatusNotification",
        "InstallationFailed" if version == "1.6" and rebooted else expected[-1],
    )
    assert final.reaction == ("UpdateFirmware", t0)
    assert h.machine.firmware_version == "ocpp-fleet"  # the old firmware runs on
    assert h.machine.firmware.update is None
    # Connectors made Unavailable for the install are back.
    assert h.machine.connectors[0].state is ConnectorState.AVAILABLE


@pytest.mark.parametrize("signed", [False, True])
def test_failure_shares_are_of_all_updates_not_of_those_that_got_that_far(signed: bool) -> None:
    """[firmware]'s shares are absolute: install_failed = 0.3 with download_failed = 0.5 is
    0.3 of all updates (drawn one after the other, it came out 0.5 x 0.3 = 0.15)."""
    settings = FirmwareSettings(
        download_failed=0.5,
        invalid_signature=0.1,
        install_failed=0.3,
        install_verification_failed=0.05,
    )
    h = harness("2.0.1", settings)
    wall = h.machine.wall(h.now)
    count = 4000
    drawn: dict[str | None, int] = {}
    for n in range(count):
        job = h.machine.new_update(
            "UpdateFirmware", n, LOCATION, wall, None, signed=signed, now=h.now
        )
        drawn[job.failure] = drawn.get(job.failure, 0) + 1
    expected = {"download": 0.5, "install": 0.3, "verification": 0.05}
    expected["signature"] = 0.1 if signed else 0.0
    expected[None] = 1.0 - sum(expected.values())
    for failure, share in expected.items():
        assert abs(drawn.get(failure, 0) / count - share) < 0.03, (failure, drawn)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_signed_update_verifies_its_signature(version: str) -> None:
    h = harness(version)
    t0 = h.now
    assert update(h, 11, signed=True).status == "Accepted"
    run(h, t0 + 200)
    action = status_action(h, signed=True)
    assert statuses(h, action) == [
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    assert {rid for _, _, rid in notes(h, action)} == {11}
    assert security_events(h) == ["FirmwareUpdated"]
    expected_action = "SignedUpdateFirmware" if version == "1.6" else "UpdateFirmware"
    assert item(h, action, "Installed").reaction == (expected_action, t0)


@pytest.mark.parametrize("version", VERSIONS)
def test_an_invalid_signature_ends_the_update(version: str) -> None:
    h = harness(version, FirmwareSettings(invalid_signature=1.0))
    t0 = h.now
    update(h, 12, signed=True)
    run(h, t0 + 200)
    action = status_action(h, signed=True)
    assert statuses(h, action) == ["Downloading", "Downloaded", "InvalidSignature"]
    assert len(boots(h)) == 1
    assert item(h, action, "InvalidSignature").reaction is not None
    assert security_events(h) == ["InvalidFirmwareSignature"]  # L01.FR.03


@pytest.mark.parametrize("version", VERSIONS)
def test_refusals(version: str) -> None:
    h = harness(version)
    # A signing certificate that is no PEM certificate: InvalidCertificate.
    assert update(h, 1, signed=True, certificate="not a certificate").status == (
        "InvalidCertificate"
    )
    # A location that is no URI: Rejected (nothing could be downloaded).
    assert update(h, 2, signed=True, location="firmware.bin").status == "Rejected"
    assert update(h, 3, signed=True, location="http://exa mple.com/x").status == "Rejected"
    run(h, h.now + 100)
    assert statuses(h, status_action(h, signed=True)) == []
    assert h.machine.firmware is None  # nothing was started
    assert security_events(h) == ["InvalidFirmwareSigningCertificate"]  # L01.FR.02


def test_a_plain_16_update_from_a_malformed_location_fails_its_download() -> None:
    h = harness("1.6")
    t0 = h.now
    update(h, location="not a uri")  # 1.6's answer has no status: it cannot refuse
    run(h, t0 + 100)
    assert notes(h, "FirmwareStatusNotification") == [
        (pytest.approx(t0, abs=0.1), "Downloading", None),
        (pytest.approx(t0, abs=0.1), "DownloadFailed", None),
    ]


def test_location_form() -> None:
    assert well_formed_location("ftp://user:pw@host.example.com/dir/file.bin")
    assert well_formed_location("https://example.com:8443/fw")
    for bad in ("", "file.bin", "/abs/path", "http://", "http://host:port/x", "ht tp://x/y"):
        assert not well_formed_location(bad), bad


@pytest.mark.parametrize("version", VERSIONS)
def test_the_install_waits_for_the_running_transaction(version: str) -> None:
    h = harness(version, connectors=2, id_tags=["TAG-1"])
    if version == "1.6":
        start = {"idTag": "TAG-1", "connectorId": 1}
        assert call(h, "RemoteStartTransaction", start).status == "Accepted"
    else:
        start = {"idToken": {"idToken": "TAG-1", "type": "ISO14443"}, "remoteStartId": 1}
        start["evseId"] = 1
        assert call(h, "RequestStartTransaction", start).status == "Accepted"
    run(h, h.now + 5)
    machine = h.machine
    assert machine.connectors[0].state is ConnectorState.CHARGING  # stops at +100 s
    t0 = h.now
    update(h, 21)
    run(h, t0 + 40)
    # Downloaded at +30; the install waits, and the idle connector is Unavailable meanwhile.
    action = "FirmwareStatusNotification"
    if version == "2.0.1":
        assert statuses(h, action) == ["Downloading", "Downloaded", "InstallScheduled"]
    else:
        assert statuses(h, action) == ["Downloading", "Downloaded"]
    assert machine.connectors[1].state is ConnectorState.UNAVAILABLE
    assert machine.connectors[0].state is ConnectorState.CHARGING
    run(h, t0 + 300)
    stop_at = max(at for at, i in h.sent if i.action in ("StopTransaction", "TransactionEvent"))
    installing_at = next(at for at, s, _ in notes(h, action) if s == "Installing")
    assert stop_at < installing_at < stop_at + 2
    assert statuses(h, action)[-1] == "Installed"
    # The session ended on its own (not cut by the reboot), and both connectors are back.
    assert h.observer.events["stopped"] == 1
    assert [c.state for c in machine.connectors] == [ConnectorState.AVAILABLE] * 2


def connector_statuses(
    h: Harness, connector_id: int, since: float, until: float = math.inf
) -> list[str]:
    """The statuses `connector_id` reported from `since` to before `until`, in order."""
    out = []
    for at, i in h.sent:
        if i.action == "StatusNotification" and since <= at < until:
            payload = i.payload
            number = payload.connector_id if h.module is v16 else payload.evse_id
            if number == connector_id:
                out.append(str(payload.status if h.module is v16 else payload.connector_status))
    return out


def starts(h: Harness, since: float) -> list[float]:
    """When each transaction started since `since`."""
    out = []
    for at, i in h.sent:
        if at < since:
            continue
        if i.action == "StartTransaction" or (
            i.action == "TransactionEvent" and str(i.payload.event_type) == "Started"
        ):
            out.append(at)
    return out


def busy_harness(version: str) -> Harness:
    """Two connectors, each charging from t=1 for 30-90 s, then a new driver 0.2 s after
    each session ends: a station never idle on its own."""
    return harness(
        version,
        FirmwareSettings(download=Constant(10.0), install=Constant(5.0)),
        connectors=2,
        first_start=Distribution.constant(1),
        idle=Distribution.constant(0.2),
        length=Distribution.uniform(30, 90),
        id_tags=["TAG-1"],
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_a_connector_freed_while_the_install_waits_is_unavailable_at_once(version: str) -> None:
    """2.0.1 L01.FR.07 (1.6 alike): a connector whose session ends while the install waits
    for the other one reports Unavailable, never Available, and no new session starts on
    it; the install begins as the last session ends, not at the next poll (it used to wait
    for ever behind new sessions)."""
    h = busy_harness(version)
    run(h, 5.0)
    machine = h.machine
    assert [c.state for c in machine.connectors] == [ConnectorState.CHARGING] * 2
    t0 = h.now
    update(h, 31)
    run(h, t0 + 200)
    action = "FirmwareStatusNotification"
    assert statuses(h, action)[-1] == "Installed"
    downloaded_at = next(at for at, s, _ in notes(h, action) if s == "Downloaded")
    installing_at = next(at for at, s, _ in notes(h, action) if s == "Installing")
    stops = sorted(
        at
        for at, i in h.sent
        if i.action == "StopTransaction"
        or (i.action == "TransactionEvent" and str(i.payload.event_type) == "Ended")
    )
    # Both sessions ran past the download and ended on their own; the install began at the
    # second's end (its answer), with no session started in between.
    assert downloaded_at < stops[0] < stops[1] < installing_at < stops[1] + 0.1
    installed_at = next(at for at, s, _ in notes(h, action) if s == "Installed")
    assert [at for at in starts(h, t0) if at < installed_at] == []
    rebooted_at = next(
        at for at, i in h.sent if i.action == "BootNotification" and at > installing_at
    )
    for connector_id in (1, 2):
        statuses_then = connector_statuses(h, connector_id, downloaded_at, rebooted_at)
        # Its stop's Finishing (1.6; 2.0.1 Occupied), then Unavailable until the reboot.
        assert "Unavailable" in statuses_then, statuses_then
        assert "Available" not in statuses_then, (connector_id, statuses_then)
    # After the reboot, both are Available again and drivers come back.
    assert starts(h, installed_at) != []


def test_allow_new_sessions_pending_firmware_update_lets_drivers_in_201() -> None:
    """ChargingStation.AllowNewSessionsPendingFirmwareUpdate (2.0.1, false by default): set
    true, a connector freed while the install waits stays Available and a new session
    starts on it; the install waits on."""
    h = busy_harness("2.0.1")
    variable = {"component": {"name": "ChargingStation"}}
    variable["variable"] = {"name": "AllowNewSessionsPendingFirmwareUpdate"}
    (result,) = call(h, "GetVariables", {"getVariableData": [variable]}).get_variable_result
    assert (str(result.attribute_status), result.attribute_value) == ("Accepted", "false")
    answer = call(h, "SetVariables", {"setVariableData": [{**variable, "attributeValue": "true"}]})
    assert str(answer.set_variable_result[0].attribute_status) == "Accepted"
    run(h, 5.0)
    t0 = h.now
    update(h, 32)
    run(h, t0 + 120)
    action = "FirmwareStatusNotification"
    assert statuses(h, action) == ["Downloading", "Downloaded", "InstallScheduled"]
    assert len(starts(h, t0)) >= 1  # drivers came in after the first session's end
    assert "Unavailable" not in connector_statuses(h, 1, t0) + connector_statuses(h, 2, t0)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_new_update_replaces_one_not_installing_yet(version: str) -> None:
    h = harness(version)
    t0 = h.now
    update(h, 1, signed=True)
    run(h, t0 + 10)  # downloading
    second = update(h, 2, signed=True)
    assert second.status == "AcceptedCanceled"
    run(h, t0 + 45)  # the second downloaded at +40, installing until +60
    assert update(h, 3, signed=True).status == "Rejected"  # installing: cannot cancel
    run(h, t0 + 300)
    action = status_action(h, signed=True)
    assert [(s, rid) for _, s, rid in notes(h, action)] == [
        ("Downloading", 1),
        ("Downloading", 2),
        ("Downloaded", 2),
        ("SignatureVerified", 2),
        ("Installing", 2),
        ("InstallRebooting", 2),
        ("Installed", 2),
    ]
    assert item(h, action, "Installed").reaction == (
        "SignedUpdateFirmware" if version == "1.6" else "UpdateFirmware",
        pytest.approx(t0 + 10, abs=0.1),
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_triggered_firmware_status_reports_the_update_under_way(version: str) -> None:
    h = harness(version, FirmwareSettings(download=Constant(50)))
    machine = h.machine
    assert machine.triggered_firmware_status(h.now).status == "Idle"
    update(h, 9, retrieve_in=20)
    scheduled = machine.triggered_firmware_status(h.now)
    run(h, h.now + 30)
    downloading = machine.triggered_firmware_status(h.now)
    assert downloading.status == "Downloading"
    if version == "2.0.1":
        assert (scheduled.status, scheduled.request_id) == ("DownloadScheduled", 9)
        assert downloading.request_id == 9
        assert machine.triggered_firmware_status(0).request_id == 9
    else:
        assert scheduled.status == "Idle"  # plain 1.6 has no DownloadScheduled
    # Each is a schema-valid FirmwareStatusNotification.
    spec = h.module.ACTIONS["FirmwareStatusNotification"]
    spec.request_decoder.decode(msgspec.json.encode(downloading))


def test_triggered_signed_firmware_status_16() -> None:
    h = harness("1.6")
    assert h.machine.triggered_signed_firmware_status(h.now).status == "Idle"  # type: ignore[attr-defined]
    update(h, 13, signed=True)
    payload = h.machine.triggered_signed_firmware_status(h.now)  # type: ignore[attr-defined]
    assert (payload.status, payload.request_id) == ("Downloading", 13)


# -- diagnostics and logs --------------------------------------------------------------------


def test_get_diagnostics_uploads_16() -> None:
    h = harness("1.6", FirmwareSettings(upload=Constant(15)))
    t0 = h.now
    answer = call(h, "GetDiagnostics", {"location": "ftp://diag.example.com/in"})
    assert answer.file_name.startswith("ST-1-diagnostics-")
    assert h.machine.triggered_diagnostics_status(h.now).status == "Uploading"  # type: ignore[attr-defined]
    run(h, t0 + 50)
    assert notes(h, "DiagnosticsStatusNotification") == [
        (pytest.approx(t0, abs=0.1), "Uploading", None),
        (pytest.approx(t0 + 15, abs=0.1), "Uploaded", None),
    ]
    assert item(h, "DiagnosticsStatusNotification", "Uploaded").reaction == ("GetDiagnostics", t0)
    assert h.machine.triggered_diagnostics_status(h.now).status == "Idle"  # type: ignore[attr-defined]


def test_get_diagnostics_failure_and_refusal_16() -> None:
    h = harness("1.6", FirmwareSettings(upload_failed=1.0))
    # A location that is no URI: no file name, nothing is uploaded.
    assert call(h, "GetDiagnostics", {"location": "diag"}).file_name is msgspec.UNSET
    t0 = h.now
    call(h, "GetDiagnostics", {"location": "ftp://diag.example.com/in"})
    run(h, t0 + 50)
    assert statuses(h, "DiagnosticsStatusNotification") == ["Uploading", "UploadFailed"]
    assert item(h, "DiagnosticsStatusNotification", "UploadFailed").reaction is not None


@pytest.mark.parametrize("version", VERSIONS)
def test_get_log_uploads_and_a_second_request_cancels_the_first(version: str) -> None:
    h = harness(version)
    t0 = h.now
    first = get_log(h, 31)
    assert first.status == "Accepted"
    assert first.filename.startswith("ST-1-DiagnosticsLog-")
    triggered = h.machine.triggered_log_status(h.now)
    assert (triggered.status, triggered.request_id) == ("Uploading", 31)
    run(h, t0 + 5)
    assert get_log(h, 32).status == "AcceptedCanceled"
    run(h, t0 + 50)
    expected = [("Uploading", 31)]
    if version == "2.0.1":  # 1.6's UploadLogStatusEnum has no status for a canceled upload
        expected.append(("AcceptedCanceled", 31))
    expected += [("Uploading", 32), ("Uploaded", 32)]
    assert [(s, rid) for _, s, rid in notes(h, "LogStatusNotification")] == expected
    uploaded_at = notes(h, "LogStatusNotification")[-1][0]
    assert uploaded_at == pytest.approx(t0 + 15, abs=0.1)  # 10 s from the second request
    assert item(h, "LogStatusNotification", "Uploaded").reaction == (
        "GetLog",
        pytest.approx(t0 + 5, abs=0.1),
    )
    assert h.machine.triggered_log_status(h.now).status == "Idle"


@pytest.mark.parametrize("version", VERSIONS)
def test_get_log_failure_and_refusal(version: str) -> None:
    h = harness(version, FirmwareSettings(upload_failed=1.0))
    assert get_log(h, 1, location="not a uri").status == "Rejected"
    t0 = h.now
    get_log(h, 2)
    run(h, t0 + 50)
    assert statuses(h, "LogStatusNotification") == ["Uploading", "UploadFailure"]
    assert item(h, "LogStatusNotification", "UploadFailure").reaction == ("GetLog", t0)


def test_publish_firmware_is_for_local_controllers_201() -> None:
    h = harness("2.0.1")
    publish = {"location": LOCATION, "checksum": "0" * 32, "requestId": 1}
    assert call(h, "PublishFirmware", publish).status == "Rejected"
    assert call(h, "UnpublishFirmware", {"checksum": "0" * 32}).status == "NoFirmware"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_station_never_asked_has_no_firmware_state(version: str) -> None:
    h = harness(version)
    run(h, 500)
    assert h.machine.firmware is None
    assert h.machine.firmware_at == math.inf
    assert not {i.action for _, i in h.sent} & FIRMWARE_ACTIONS


def test_settings_check_their_shares() -> None:
    with pytest.raises(ValueError, match="upload_failed"):
        FirmwareSettings(upload_failed=1.5)
    with pytest.raises(ValueError, match="at most 1"):
        FirmwareSettings(download_failed=0.6, install_failed=0.5)
    assert FirmwareSettings().download.sample(None) == 30.0  # type: ignore[arg-type]


@pytest.mark.parametrize("version", VERSIONS)
def test_steps_due_offline_are_reported_once_back_in_order(version: str) -> None:
    h = harness(version)
    machine = h.machine
    t0 = h.now
    update(h, 41)
    run(h, t0 + 10)
    machine.disconnected(h.now)  # the download ends at +30 while offline
    h.now = t0 + 100
    machine.connected(h.now)
    run(h, t0 + 300)
    sequence = notes(h, "FirmwareStatusNotification")
    first_boot_after = min(at for at, i in h.sent if i.action == "BootNotification" and at > t0)
    assert next(s for at, s, _ in sequence if at > first_boot_after) == "Downloaded"
    expected = ["Downloading", "Downloaded", "Installing", "Installed"]
    if version == "2.0.1":
        expected.insert(3, "InstallRebooting")
    assert [s for _, s, _ in sequence] == expected
    assert len(boots(h)) == 3  # the first, the one after the outage, the one after install
    last_boot = max(at for at, i in h.sent if i.action == "BootNotification")
    assert sequence[-1][0] > last_boot  # Installed comes after the reboot's boot
