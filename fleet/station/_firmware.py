"""Firmware updates, diagnostics and logs (1.6 sections 4.4, 4.5, 5.8, 5.19 and the Security
Whitepaper's SignedUpdateFirmware / GetLog; 2.0.1 functional blocks L and N): the answers a
station gives and the status sequences it reports.

Mixins of the version machines (`StationMachine16`, `StationMachine201`): they use the
machine's queues, its `firmware` attribute and its one `firmware_at` timer (`firmware_due`).
No file is transferred: a location is checked for form only, and each step lasts what
`FirmwareSettings` draws.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

import msgspec

from fleet.ocpp import Payload, v16, v201
from fleet.station._machine import ConnectorState, SessionEvent

__all__ = [
    "Constant",
    "Firmware16",
    "Firmware201",
    "FirmwareSettings",
    "FirmwareState",
    "well_formed_location",
]


class Constant:
    """A sampler that always gives `seconds` (the defaults of `FirmwareSettings`)."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)

    def sample(self, rng: random.Random) -> float:
        return self.seconds

    def __repr__(self) -> str:
        return f"Constant({self.seconds:g})"


class FirmwareSettings:
    """How a station's firmware updates, diagnostics and log uploads go (a profile's
    `[firmware]` section). Durations are samplers (``.sample(rng) -> float`` seconds, a
    profile's distributions or `Constant`), drawn per job; shares are probabilities in [0, 1],
    drawn per job.

    Args:
        download: seconds from Downloading to Downloaded (or DownloadFailed). Default 30.
        install: seconds from Installing to the reboot (InstallRebooting in 2.0.1 and signed
            1.6 updates), the reboot's own wait being the reconnect's. Default 20.
        upload: seconds from Uploading to Uploaded (or UploadFailed / UploadFailure), for
            GetDiagnostics and GetLog. Default 10.
        download_failed: share of all updates whose download fails (DownloadFailed; the
            share that fails after its retries, which are not simulated). Default 0.
        invalid_signature: share of all signed updates (1.6 SignedUpdateFirmware, 2.0.1 with
            a signature) whose signature does not verify (InvalidSignature). Default 0.
        install_failed: share of all updates whose install fails (InstallationFailed, before
            the reboot: the station runs on its old firmware). Default 0.
        install_verification_failed: share of all updates whose new firmware fails
            verification after the reboot (InstallVerificationFailed; plain 1.6, which has no
            such status: InstallationFailed). Default 0.

    The four update shares are absolute, not conditional on the steps before: one number
    is drawn per update and each failure takes its own slice of [0, 1), so they add up to
    at most 1 (ValueError otherwise). An unsigned update has no signature slice.
        upload_failed: share of diagnostics and log uploads that fail (1.6 UploadFailed,
            GetLog UploadFailure). Default 0.
    """

    __slots__ = (
        "download",
        "download_failed",
        "install",
        "install_failed",
        "install_verification_failed",
        "invalid_signature",
        "upload",
        "upload_failed",
    )

    def __init__(
        self,
        *,
        download: Any = None,
        install: Any = None,
        upload: Any = None,
        download_failed: float = 0.0,
        invalid_signature: float = 0.0,
        install_failed: float = 0.0,
        install_verification_failed: float = 0.0,
        upload_failed: float = 0.0,
    ) -> None:
        self.download = download if download is not None else Constant(30.0)
        self.install = install if install is not None else Constant(20.0)
        self.upload = upload if upload is not None else Constant(10.0)
        self.download_failed = download_failed
        self.invalid_signature = invalid_signature
        self.install_failed = install_failed
        self.install_verification_failed = install_verification_failed
        self.upload_failed = upload_failed
        for name in (
            "download_failed",
            "invalid_signature",
            "install_failed",
            "install_verification_failed",
            "upload_failed",
        ):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name}: a share in [0, 1], got {share!r}")
        total = download_failed + invalid_signature + install_failed
        total += install_verification_failed
        if total > 1.0 + 1e-9:
            raise ValueError(
                "download_failed + invalid_signature + install_failed + "
                f"install_verification_failed: at most 1, got {total!r}"
            )


DEFAULT_SETTINGS = FirmwareSettings()


# Job stages of a firmware update, in order. Each names what the station is doing, not a
# status: a version reports it with the statuses it has (plain 1.6: `_PLAIN_16`).
_SCHEDULED = "scheduled"  # waiting for retrieveDate (DownloadScheduled)
_DOWNLOADING = "downloading"
_INSTALL_SCHEDULED = "install-scheduled"  # waiting for installDateTime (InstallScheduled)
_WAITING = "waiting"  # downloaded, waiting for running transactions to end (InstallScheduled)
_INSTALLING = "installing"
_REBOOTING = "rebooting"  # rebooting: Installed (or its failure) comes after the boot
# While waiting for transactions to end, how often the station looks again (seconds): a
# fallback, the end of a session starting the install at once (`sync_reservations`), and
# only a station waiting so pays for it.
_POLL = 1.0
# The 2.0.1 variable that lets sessions start while an install waits for them to end.
_ALLOW_NEW_SESSIONS = ("ChargingStation", "AllowNewSessionsPendingFirmwareUpdate")
# The version a boot reports after an install when the location names none (String50).
_DEFAULT_VERSION = "ocpp-fleet"
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
_PEM_END = "-----END CERTIFICATE-----"


def well_formed_location(location: str) -> bool:
    """Whether `location` has the form of an absolute URI with an authority, as a location
    to download from or upload to must (1.6 anyURI, 2.0.1 string[512] holding a URI, e.g.
    ``ftp://user:pass@host/dir/file.bin``). Nothing is fetched: the form only."""
    if not location or any(c.isspace() for c in location):
        return False
    try:
        parts = urllib.parse.urlsplit(location)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        return False
    return bool(_URI_SCHEME.fullmatch(parts.scheme or "") and parts.netloc)


def well_formed_certificate(pem: str) -> bool:
    """Whether `pem` has the form of a PEM encoded X.509 certificate (not checked further:
    this station has no trust store)."""
    begin = pem.find(_PEM_BEGIN)
    return begin >= 0 and pem.find(_PEM_END, begin + len(_PEM_BEGIN)) > begin


def version_from(location: str) -> str:
    """The firmware version a boot reports after installing from `location`: the file name
    it names without its last extension (String50: its first 50 characters), else
    "ocpp-fleet". E.g. ``https://host/images/fw-2.4.1.bin`` -> ``fw-2.4.1``."""
    name = urllib.parse.urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem[:50] or _DEFAULT_VERSION


class Update:
    """One firmware update under way.

    Args:
        action: the CSMS action that asked for it (UpdateFirmware, SignedUpdateFirmware).
        request_id: its requestId (None: 1.6 UpdateFirmware, which has none).
        received_at: when the request was answered (trio clock), for the reaction time.
        retrieve_at, install_at: when to download and install (trio clock; now or later).
        signed: a signature to verify (SignatureVerified / InvalidSignature).
        location_ok: the location has the form of a URI (else the download fails at once).
        version: what the boot reports once it is installed.
        failure: the step that fails, drawn when the job starts: "download", "signature",
            "install", "verification" or None.
    """

    __slots__ = (
        "action",
        "disabled",
        "failure",
        "install_at",
        "location_ok",
        "next_at",
        "received_at",
        "request_id",
        "retrieve_at",
        "signed",
        "stage",
        "status",
        "version",
    )

    def __init__(
        self,
        *,
        action: str,
        request_id: int | None,
        received_at: float,
        retrieve_at: float,
        install_at: float,
        signed: bool,
        location_ok: bool,
        version: str,
        failure: str | None,
    ) -> None:
        self.action = action
        self.request_id = request_id
        self.received_at = received_at
        self.retrieve_at = retrieve_at
        self.install_at = install_at
        self.signed = signed
        self.location_ok = location_ok
        self.version = version
        self.failure = failure
        self.stage = _SCHEDULED
        self.status = "Idle"  # the last status reported (for a triggered notification)
        self.next_at = retrieve_at
        self.disabled: list[int] = []  # connectors this job made Unavailable


class Upload:
    """One diagnostics or log upload under way.

    Args:
        action: GetDiagnostics or GetLog.
        request_id: GetLog's requestId (None for GetDiagnostics).
        received_at: when the request was answered (trio clock), for the reaction time.
        next_at: when the upload ends (trio clock).
        fails: it ends in UploadFailed / UploadFailure.
    """

    __slots__ = ("action", "fails", "next_at", "received_at", "request_id", "status")

    def __init__(
        self,
        *,
        action: str,
        request_id: int | None,
        received_at: float,
        next_at: float,
        fails: bool,
    ) -> None:
        self.action = action
        self.request_id = request_id
        self.received_at = received_at
        self.next_at = next_at
        self.fails = fails
        self.status = "Uploading"


class FirmwareState:
    """A station's firmware and log jobs (the machine's `firmware`, made on first use): one
    job at a time per kind, and the version a completed install left.

    Attributes:
        update: the firmware update under way, or None.
        diagnostics: the 1.6 GetDiagnostics upload under way, or None.
        log: the GetLog upload under way, or None.
        version: the installed firmware version (None: the one the station came with).
    """

    __slots__ = ("diagnostics", "log", "update", "version")

    def __init__(self) -> None:
        self.update: Update | None = None
        self.diagnostics: Upload | None = None
        self.log: Upload | None = None
        self.version: str | None = None

    def next_at(self) -> float:
        soonest = math.inf
        for job in (self.update, self.diagnostics, self.log):
            if job is not None and job.next_at < soonest:
                soonest = job.next_at
        return soonest


# The security events (Security events list of 2.0.1 and the 1.6 Whitepaper) a secure update's
# outcome is reported with.
_SECURITY_EVENTS = {
    "InvalidSignature": "InvalidFirmwareSignature",
    "Installed": "FirmwareUpdated",
}


class _FirmwareBlock:
    """What both versions share: the jobs' steps on the machine's `firmware_at` timer.

    Each version says how a status goes out (`send_firmware_status`, `send_upload_status`).
    Offline, the machine's timers wait for the next accepted boot (`next_timer`): steps due
    meanwhile run late, each with the time it was due, so their messages keep their order
    (a station reports its statuses once back).
    """

    # Provided by StationMachine (this is a mixin placed before it).
    reboot_requested: bool
    firmware: FirmwareState | None
    firmware_at: float
    settings: Any
    rng: random.Random
    connectors: list[Any]
    outbox: Any

    # -- state -------------------------------------------------------------------------------

    def firmware_state(self) -> FirmwareState:
        """The station's firmware state, made on first use."""
        state = self.firmware
        if state is None:
            state = self.firmware = FirmwareState()
        return state

    @property
    def firmware_settings(self) -> FirmwareSettings:
        settings = self.settings.firmware
        return settings if settings is not None else DEFAULT_SETTINGS

    @property
    def firmware_version(self) -> str:
        """The firmware version a BootNotification reports: the last one installed, else the
        station's own ("ocpp-fleet"). Once an install's reboot is done (the machine connected
        again), the new firmware runs: the boot after the reboot reports it, though Installed
        comes only after that boot's answer (`after_boot`); unless its verification fails,
        the old one running on. Before the reboot (a triggered boot), the old one still runs."""
        state = self.firmware
        if state is None:
            return _DEFAULT_VERSION
        job = state.update
        if (
            job is not None
            and job.stage == _REBOOTING
            and not self.reboot_requested
            and job.failure != "verification"
        ):
            return job.version
        return state.version if state.version is not None else _DEFAULT_VERSION

    def _rearm(self) -> None:
        state = self.firmware
        self.firmware_at = state.next_at() if state is not None else math.inf

    def _draw(self, share: float) -> bool:
        return share > 0.0 and self.rng.random() < share

    def at_wall(self, when: dt.datetime, now: float) -> float:
        """The trio-clock time of a wall-clock instant, not before `now`."""
        return max(now, when.timestamp() - self.settings.wall_offset)

    # -- the timer ---------------------------------------------------------------------------

    def firmware_due(self, now: float) -> None:
        """Run every step due by `now`, each at the time it was due."""
        state = self.firmware
        if state is None:
            self.firmware_at = math.inf
            return
        while True:
            job = min(
                (j for j in (state.update, state.diagnostics, state.log) if j is not None),
                key=lambda j: j.next_at,
                default=None,
            )
            if job is None or job.next_at > now:
                break
            at = job.next_at
            if isinstance(job, Update):
                self._update_step(job, at)
            else:
                self._upload_done(job, at)
        self._rearm()

    # -- firmware update ---------------------------------------------------------------------

    def start_update(self, job: Update, now: float) -> None:
        """Run `job` from now (the request was accepted): DownloadScheduled until its
        retrieveDate, else Downloading at once."""
        state = self.firmware_state()
        state.update = job
        if job.retrieve_at > now:
            self._firmware_status(job, "DownloadScheduled", now)
            job.next_at = job.retrieve_at
        else:
            self._update_step(job, now)
        self._rearm()

    def new_update(
        self,
        action: str,
        request_id: int | None,
        location: str,
        retrieve: dt.datetime,
        install: dt.datetime | None,
        *,
        signed: bool,
        now: float,
    ) -> Update:
        """An update job for a request answered at `now`, its failure drawn: one number for
        the update, each failure its own slice of [0, 1) in the order of the steps (download,
        signature if signed, install, verification), so each share is of all updates (a
        share drawn only for the updates that got that far would come out smaller)."""
        settings = self.firmware_settings
        failure = None
        shares = (
            ("download", settings.download_failed),
            ("signature", settings.invalid_signature if signed else 0.0),
            ("install", settings.install_failed),
            ("verification", settings.install_verification_failed),
        )
        if any(share > 0.0 for _, share in shares):
            draw = self.rng.random()
            edge = 0.0
            for name, share in shares:
                edge += share
                if draw < edge:
                    failure = name
                    break
        retrieve_at = self.at_wall(retrieve, now)
        return Update(
            action=action,
            request_id=request_id,
            received_at=now,
            retrieve_at=retrieve_at,
            install_at=self.at_wall(install, now) if install is not None else now,
            signed=signed,
            location_ok=well_formed_location(location),
            version=version_from(location),
            failure=failure,
        )

    def _update_step(self, job: Update, at: float) -> None:
        """`job`'s next step is due at `at`."""
        settings = self.firmware_settings
        if job.stage == _SCHEDULED:
            job.stage = _DOWNLOADING
            self._firmware_status(job, "Downloading", at)
            # A location of the wrong form cannot be reached: the download fails at once.
            job.next_at = at + settings.download.sample(self.rng) if job.location_ok else at
            return
        if job.stage == _DOWNLOADING:
            if not job.location_ok or job.failure == "download":
                self._update_over(job, "DownloadFailed", at)
                return
            self._firmware_status(job, "Downloaded", at)
            if job.signed:
                if job.failure == "signature":
                    self._update_over(job, "InvalidSignature", at)
                    return
                self._firmware_status(job, "SignatureVerified", at)
            if job.install_at > at:
                job.stage = _INSTALL_SCHEDULED
                self._firmware_status(job, "InstallScheduled", at)
                job.next_at = job.install_at
                return
            job.stage = _INSTALL_SCHEDULED
        if job.stage in (_INSTALL_SCHEDULED, _WAITING):
            if self._sessions_running(job, at):
                if job.stage != _WAITING:
                    job.stage = _WAITING
                    if job.status != "InstallScheduled":
                        self._firmware_status(job, "InstallScheduled", at)
                job.next_at = at + _POLL
                return
            job.stage = _INSTALLING
            self._firmware_status(job, "Installing", at)
            job.next_at = at + settings.install.sample(self.rng)
            return
        if job.stage == _INSTALLING:
            if job.failure == "install":
                self._update_over(job, "InstallationFailed", at)
                return
            job.stage = _REBOOTING
            job.next_at = math.inf  # the boot after the reboot goes on (`after_boot`)
            self._firmware_status(job, "InstallRebooting", at)
            self.request_reboot(at, "firmware")

    def _sessions_running(self, job: Update, at: float) -> bool:
        """Whether a transaction runs: then the install waits for it to end (2.0.1
        L01.FR.06; 1.6 leaves it to the station: it waits as well, so no session is cut by
        the reboot). The idle connectors are made Unavailable, so that no session starts
        while it waits or installs (2.0.1 L01.FR.07), and each connector freed meanwhile at
        once (`sync_reservations`); the reboot makes them Available. Unless the CSMS set
        ChargingStation.AllowNewSessionsPendingFirmwareUpdate (2.0.1): then sessions start
        as usual while it waits, and the install comes once none runs."""
        running = any(connector.in_session for connector in self.connectors)
        if running and self.new_sessions_pending_update():
            return True
        for connector in self.connectors:
            self._hold_connector(job, connector, at)
        return running

    def _hold_connector(self, job: Update, connector: Any, at: float) -> None:
        """Make `connector` Unavailable for `job` if it is Available (its status notification
        is sent), remembering it to make it Available again."""
        if connector.state is not ConnectorState.AVAILABLE:
            return
        self.set_available(connector, False, at)
        if connector.id not in job.disabled:
            job.disabled.append(connector.id)

    def _holding(self) -> Update | None:
        """The update that holds the connectors freed now (waiting for transactions to end
        or installing), if any."""
        state = self.firmware
        job = state.update if state is not None else None
        if job is None or job.stage not in (_WAITING, _INSTALLING):
            return None
        if job.stage == _WAITING and self.new_sessions_pending_update():
            return None
        return job

    def sync_reservations(self, now: float, own: Any = None) -> None:
        """The machine's hook for a connector that changed (`own`, which sends its status
        next): one freed (Available) while an update waits for the transactions to end or
        installs becomes Unavailable at once, before its status goes out, so no Available is
        reported and no session starts (2.0.1 L01.FR.07: "any connector that becomes
        available SHALL be set to UNAVAILABLE"; 1.6 does the same). The last session's end
        lets the install begin now rather than at the next look (`_POLL`)."""
        job = self._holding() if own is not None else None
        if job is not None and own.state is ConnectorState.AVAILABLE:
            own.move(SessionEvent.DISABLE)
            own.wake_at = math.inf
            own.held = False
            if own.id not in job.disabled:
                job.disabled.append(own.id)
            if job.stage == _WAITING and not any(c.in_session for c in self.connectors):
                job.next_at = now
                self._rearm()
        super().sync_reservations(now, own)  # type: ignore[misc]

    def _idle(self, connector: Any, now: float) -> None:
        """The machine's end of a session: a connector the update holds gets no driver."""
        super()._idle(connector, now)  # type: ignore[misc]
        if connector.state is ConnectorState.UNAVAILABLE:
            connector.wake_at = math.inf

    def new_sessions_pending_update(self) -> bool:
        """Whether sessions may start while an update waits for transactions to end (2.0.1
        ChargingStation.AllowNewSessionsPendingFirmwareUpdate; 1.6 has no such key: no)."""
        return False

    def _update_over(self, job: Update, status: str, at: float) -> None:
        """`job` ends with `status` (a failure, or Installed): the final status carries the
        reaction time; the connectors it made Unavailable are available again. A secure
        update (2.0.1, 1.6 SignedUpdateFirmware) reports a bad signature and a new firmware
        as security events too (2.0.1 L01.FR.03 and the Security events list: these two are
        critical, so they are sent; the 1.6 Whitepaper has the same list)."""
        self._firmware_status(job, status, at, final=True)
        if job.request_id is not None:  # not a plain 1.6 UpdateFirmware
            event = _SECURITY_EVENTS.get(status)
            if event is not None:
                self.send_security_event(event, at)
        state = self.firmware_state()
        if state.update is job:
            state.update = None
        for connector_id in job.disabled:
            connector = self.connector(connector_id)
            if connector is not None:
                self.set_available(connector, True, at)
        job.disabled.clear()
        job.next_at = math.inf

    def after_boot(self, now: float, first_boot: bool) -> None:
        """After an install's reboot, the boot was accepted: the connectors the update made
        Unavailable are Available again before the boot's status notifications report them;
        then the new firmware runs (Installed, its version reported by the boots from now
        on) or it failed its verification (InstallVerificationFailed; plain 1.6:
        InstallationFailed, the old firmware runs on)."""
        state = self.firmware
        job = state.update if state is not None else None
        if job is None or job.stage != _REBOOTING or self.reboot_requested:
            # (Still to reboot: a boot accepted before it, e.g. after an outage during
            # which the install's steps ran, is not the one after the reboot.)
            super().after_boot(now, first_boot)  # type: ignore[misc]
            return
        assert state is not None
        for connector_id in job.disabled:
            connector = self.connector(connector_id)
            if connector is not None and connector.state is ConnectorState.UNAVAILABLE:
                connector.move(SessionEvent.ENABLE)
        job.disabled.clear()
        super().after_boot(now, first_boot)  # type: ignore[misc]
        if job.failure == "verification":
            self._update_over(job, "InstallVerificationFailed", now)
        else:
            state.version = job.version
            self._update_over(job, "Installed", now)
        self._rearm()

    def cancel_update(self, now: float) -> bool | None:
        """A new update replaces the one under way (2.0.1 L01.FR.24, 1.6 Security
        Whitepaper: AcceptedCanceled): True if one was canceled, None if none runs, False if
        it cannot be, being installed already (then the new request is Rejected)."""
        state = self.firmware
        job = state.update if state is not None else None
        if job is None:
            return None
        if job.stage in (_INSTALLING, _REBOOTING):
            return False
        state.update = None  # type: ignore[union-attr]
        for connector_id in job.disabled:
            connector = self.connector(connector_id)
            if connector is not None:
                self.set_available(connector, True, now)
        job.disabled.clear()
        return True

    def _firmware_status(self, job: Update, status: str, at: float, *, final: bool = False) -> None:
        job.status = status
        self.send_firmware_status(job, status, at)
        if final:
            self.outbox[-1].reaction = (job.action, job.received_at)

    # -- uploads -----------------------------------------------------------------------------

    def start_upload(self, kind: str, job: Upload, now: float) -> None:
        """Run `job` (kind "diagnostics" or "log") from now: Uploading at once."""
        setattr(self.firmware_state(), kind, job)
        self.send_upload_status(job, "Uploading", now)
        self._rearm()

    def new_upload(self, action: str, request_id: int | None, now: float) -> Upload:
        settings = self.firmware_settings
        return Upload(
            action=action,
            request_id=request_id,
            received_at=now,
            next_at=now + settings.upload.sample(self.rng),
            fails=self._draw(settings.upload_failed),
        )

    def _upload_done(self, job: Upload, at: float) -> None:
        state = self.firmware_state()
        if state.diagnostics is job:
            state.diagnostics = None
        elif state.log is job:
            state.log = None
        job.next_at = math.inf
        self.send_upload_status(job, "UploadFailed" if job.fails else "Uploaded", at)
        self.outbox[-1].reaction = (job.action, job.received_at)

    def upload_file_name(self, kind: str, now: float) -> str:
        """The name of the file an upload makes (String255): station, kind and time."""
        stamp = self.wall(now).strftime("%Y%m%dT%H%M%SZ")
        return f"{self.station_id[-100:]}-{kind}-{stamp}.log"

    # -- what the machine and each version provide -------------------------------------------

    def send_firmware_status(self, job: Update, status: str, at: float) -> None:
        raise NotImplementedError

    def send_upload_status(self, job: Upload, status: str, at: float) -> None:
        raise NotImplementedError

    def send_security_event(self, event: str, at: float) -> None:
        """A SecurityEventNotification of `event` (a name of the Security events list)."""
        raise NotImplementedError

    if TYPE_CHECKING:
        station_id: str

        def request_reboot(self, now: float, reason: str) -> None: ...
        def set_available(self, connector: Any, available: bool, now: float) -> bool: ...
        def connector(self, connector_id: int) -> Any: ...
        def wall(self, now: float) -> dt.datetime: ...


def _given(value: Any) -> Any:
    """A field's value, None when it is absent (UNSET)."""
    return None if value is msgspec.UNSET else value


# Plain 1.6 FirmwareStatusNotification has fewer statuses than the Security Whitepaper's and
# 2.0.1's: a step it has no status for is not reported (None), or reported as its nearest.
_PLAIN_16: dict[str, v16.FirmwareStatus | None] = {
    "DownloadScheduled": None,
    "SignatureVerified": None,
    "InstallScheduled": None,  # Downloaded stands until Installing
    "InstallRebooting": None,
    "InstallVerificationFailed": v16.FirmwareStatus.INSTALLATION_FAILED,
    **{status.value: status for status in v16.FirmwareStatus},
}
# What a triggered plain 1.6 notification says of a step it has no status for (1.6 4.5:
# Idle only when no update runs; before its download there is nothing to report but Idle).
_TRIGGERED_16 = {
    "DownloadScheduled": v16.FirmwareStatus.IDLE,
    "SignatureVerified": v16.FirmwareStatus.DOWNLOADED,
    "InstallScheduled": v16.FirmwareStatus.DOWNLOADED,
    "InstallRebooting": v16.FirmwareStatus.INSTALLING,
}


class Firmware16(_FirmwareBlock):
    """OCPP 1.6: UpdateFirmware (5.19) and GetDiagnostics (5.8), with their status
    notifications (4.5, 4.4); the Security Whitepaper's SignedUpdateFirmware and GetLog, with
    SignedFirmwareStatusNotification and LogStatusNotification."""

    def answer_update_firmware(self, request: v16.UpdateFirmwareRequest, now: float) -> Payload:
        """UpdateFirmware (5.19): the answer has no status, so nothing is refused here. A
        location not of the form of a URI cannot be downloaded from: Downloading then
        DownloadFailed at retrieveDate. An update under way before its install is replaced by
        this one (1.6 says nothing; 2.0.1 and the Whitepaper do the same); one installing
        already goes on and this request is dropped, as a station mid-install would."""
        if self.cancel_update(now) is False:
            return v16.UpdateFirmwareResponse()
        job = self.new_update(
            "UpdateFirmware",
            None,
            request.location,
            request.retrieve_date,
            None,
            signed=False,
            now=now,
        )
        self.start_update(job, now)
        return v16.UpdateFirmwareResponse()

    def answer_signed_update_firmware(
        self, request: v16.SignedUpdateFirmwareRequest, now: float
    ) -> Payload:
        """SignedUpdateFirmware (Security Whitepaper, use case L01 of 2.0.1's shape):
        InvalidCertificate when the signing certificate is not a PEM certificate (no trust
        store here: its form only); Rejected when the location is not of the form of a URI
        (nothing could be downloaded); Rejected while an update installs (it cannot be
        canceled); AcceptedCanceled when it replaces one not installing yet."""
        status = v16.UpdateFirmwareStatusEnum
        firmware = request.firmware
        if not well_formed_certificate(firmware.signing_certificate):
            self.send_security_event("InvalidFirmwareSigningCertificate", now)
            return v16.SignedUpdateFirmwareResponse(status=status.INVALID_CERTIFICATE)
        if not well_formed_location(firmware.location):
            return v16.SignedUpdateFirmwareResponse(status=status.REJECTED)
        canceled = self.cancel_update(now)
        if canceled is False:
            return v16.SignedUpdateFirmwareResponse(status=status.REJECTED)
        job = self.new_update(
            "SignedUpdateFirmware",
            request.request_id,
            firmware.location,
            firmware.retrieve_date_time,
            _given(firmware.install_date_time),
            signed=True,
            now=now,
        )
        self.start_update(job, now)
        return v16.SignedUpdateFirmwareResponse(
            status=status.ACCEPTED_CANCELED if canceled else status.ACCEPTED
        )

    def answer_get_diagnostics(self, request: v16.GetDiagnosticsRequest, now: float) -> Payload:
        """GetDiagnostics (5.8): the file name, then Uploading and Uploaded (or UploadFailed).
        A location not of the form of a URI gets no file name: nothing will be uploaded (the
        answer's way to say so). A request while one uploads replaces it (1.6 says nothing)."""
        if not well_formed_location(request.location):
            return v16.GetDiagnosticsResponse()
        self.start_upload("diagnostics", self.new_upload("GetDiagnostics", None, now), now)
        return v16.GetDiagnosticsResponse(file_name=self.upload_file_name("diagnostics", now))

    def answer_get_log(self, request: v16.GetLogRequest, now: float) -> Payload:
        """GetLog (Security Whitepaper): Accepted with the file name, then Uploading and
        Uploaded (or UploadFailure); AcceptedCanceled when it replaces an upload under way
        (which then ends unreported: 1.6's UploadLogStatusEnum has no status for it);
        Rejected when the remote location is not of the form of a URI."""
        status = v16.LogStatusEnum
        if not well_formed_location(request.log.remote_location):
            return v16.GetLogResponse(status=status.REJECTED)
        state = self.firmware
        canceled = state is not None and state.log is not None
        self.start_upload("log", self.new_upload("GetLog", request.request_id, now), now)
        return v16.GetLogResponse(
            status=status.ACCEPTED_CANCELED if canceled else status.ACCEPTED,
            filename=self.upload_file_name(str(request.log_type), now),
        )

    def send_firmware_status(self, job: Update, status: str, at: float) -> None:
        if job.action == "SignedUpdateFirmware":
            payload: Payload = v16.SignedFirmwareStatusNotificationRequest(
                status=v16.FirmwareStatusEnum(status), request_id=job.request_id
            )
            self.send("SignedFirmwareStatusNotification", payload, at)
            return
        plain = _PLAIN_16[status]
        if plain is not None:
            payload = v16.FirmwareStatusNotificationRequest(status=plain)
            self.send("FirmwareStatusNotification", payload, at)

    def send_upload_status(self, job: Upload, status: str, at: float) -> None:
        if job.action == "GetDiagnostics":
            payload: Payload = v16.DiagnosticsStatusNotificationRequest(
                status=v16.DiagnosticsStatus(status)
            )
            self.send("DiagnosticsStatusNotification", payload, at)
            return
        log_status = "UploadFailure" if status == "UploadFailed" else status
        payload = v16.LogStatusNotificationRequest(
            status=v16.UploadLogStatusEnum(log_status), request_id=job.request_id
        )
        self.send("LogStatusNotification", payload, at)

    def send_security_event(self, event: str, at: float) -> None:
        payload = v16.SecurityEventNotificationRequest(type=event, timestamp=self.wall(at))
        self.send("SecurityEventNotification", payload, at)

    # -- triggered (TriggerMessage, ExtendedTriggerMessage) ----------------------------------

    def triggered_firmware_status(self, now: float) -> Payload:
        """The FirmwareStatusNotification a TriggerMessage asks for (4.5, 5.17): the status
        of the update under way, Idle when none runs."""
        state = self.firmware
        job = state.update if state is not None else None
        if job is None:
            return v16.FirmwareStatusNotificationRequest(status=v16.FirmwareStatus.IDLE)
        status = _TRIGGERED_16.get(job.status) or _PLAIN_16[job.status]
        return v16.FirmwareStatusNotificationRequest(status=status or v16.FirmwareStatus.IDLE)

    def triggered_signed_firmware_status(self, now: float) -> Payload:
        """The SignedFirmwareStatusNotification an ExtendedTriggerMessage asks for
        (FirmwareStatusNotification there, Security Whitepaper): the status of the update
        under way with its requestId (none for a plain UpdateFirmware), Idle when none runs."""
        state = self.firmware
        job = state.update if state is not None else None
        if job is None:
            return v16.SignedFirmwareStatusNotificationRequest(status=v16.FirmwareStatusEnum.IDLE)
        request_id = job.request_id if job.request_id is not None else msgspec.UNSET
        return v16.SignedFirmwareStatusNotificationRequest(
            status=v16.FirmwareStatusEnum(job.status), request_id=request_id
        )

    def triggered_diagnostics_status(self, now: float) -> Payload:
        """The DiagnosticsStatusNotification a TriggerMessage asks for (4.4): Uploading while
        an upload runs, Idle otherwise."""
        state = self.firmware
        running = state is not None and state.diagnostics is not None
        status = v16.DiagnosticsStatus.UPLOADING if running else v16.DiagnosticsStatus.IDLE
        return v16.DiagnosticsStatusNotificationRequest(status=status)

    def triggered_log_status(self, now: float) -> Payload:
        """The LogStatusNotification an ExtendedTriggerMessage asks for (Security
        Whitepaper): Uploading with its requestId while a GetLog upload runs, Idle otherwise."""
        state = self.firmware
        job = state.log if state is not None else None
        if job is None:
            return v16.LogStatusNotificationRequest(status=v16.UploadLogStatusEnum.IDLE)
        return v16.LogStatusNotificationRequest(
            status=v16.UploadLogStatusEnum.UPLOADING, request_id=job.request_id
        )

    if TYPE_CHECKING:

        def send(self, action: str, payload: Payload, intended_at: float) -> None: ...


class Firmware201(_FirmwareBlock):
    """OCPP 2.0.1: UpdateFirmware (L01, L02) with FirmwareStatusNotification, GetLog (N01)
    with LogStatusNotification; PublishFirmware / UnpublishFirmware (L03, L04), which are for
    Local Controllers: this station is none."""

    def answer_update_firmware(self, request: v201.UpdateFirmwareRequest, now: float) -> Payload:
        """UpdateFirmware (L01 secure with a signing certificate and signature, L02 without):
        InvalidCertificate when the signing certificate is not a PEM certificate (L01.FR.02;
        no trust store here: its form only); Rejected when the location is not of the form of
        a URI (nothing could be downloaded), or while an update installs (it cannot be
        canceled any more); AcceptedCanceled when it replaces one not installing yet
        (L01.FR.24). Then DownloadScheduled until retrieveDateTime, Downloading, Downloaded,
        SignatureVerified (signed), InstallScheduled until installDateTime or while
        transactions run (L01.FR.06/07), Installing, InstallRebooting, the reboot (boot reason
        FirmwareUpdate) and Installed; or a failure status."""
        status = v201.UpdateFirmwareStatusEnum
        firmware = request.firmware
        certificate = _given(firmware.signing_certificate)
        if certificate is not None and not well_formed_certificate(certificate):
            self.send_security_event("InvalidFirmwareSigningCertificate", now)  # L01.FR.02
            return v201.UpdateFirmwareResponse(status=status.INVALID_CERTIFICATE)
        if not well_formed_location(firmware.location):
            return v201.UpdateFirmwareResponse(status=status.REJECTED)
        canceled = self.cancel_update(now)
        if canceled is False:
            return v201.UpdateFirmwareResponse(status=status.REJECTED)
        job = self.new_update(
            "UpdateFirmware",
            request.request_id,
            firmware.location,
            firmware.retrieve_date_time,
            _given(firmware.install_date_time),
            signed=_given(firmware.signature) is not None,
            now=now,
        )
        self.start_update(job, now)
        return v201.UpdateFirmwareResponse(
            status=status.ACCEPTED_CANCELED if canceled else status.ACCEPTED
        )

    def answer_get_log(self, request: v201.GetLogRequest, now: float) -> Payload:
        """GetLog (N01): Accepted with the file name, then Uploading and Uploaded (or
        UploadFailure); AcceptedCanceled when it replaces an upload under way, which reports
        AcceptedCanceled with its own requestId; Rejected when the remote location is not of
        the form of a URI."""
        status = v201.LogStatusEnum
        if not well_formed_location(request.log.remote_location):
            return v201.GetLogResponse(status=status.REJECTED)
        state = self.firmware
        old = state.log if state is not None else None
        if old is not None:
            self.send_upload_status(old, "AcceptedCanceled", now)
        self.start_upload("log", self.new_upload("GetLog", request.request_id, now), now)
        return v201.GetLogResponse(
            status=status.ACCEPTED_CANCELED if old is not None else status.ACCEPTED,
            filename=self.upload_file_name(str(request.log_type), now),
        )

    def answer_publish_firmware(self, request: v201.PublishFirmwareRequest, now: float) -> Payload:
        """PublishFirmware (L03) is for a Local Controller; this station is a charging
        station, so it refuses as one would: Rejected."""
        return v201.PublishFirmwareResponse(status=v201.GenericStatusEnum.REJECTED)

    def answer_unpublish_firmware(
        self, request: v201.UnpublishFirmwareRequest, now: float
    ) -> Payload:
        """UnpublishFirmware (L04): nothing was published here (no Local Controller)."""
        return v201.UnpublishFirmwareResponse(status=v201.UnpublishFirmwareStatusEnum.NO_FIRMWARE)

    def new_sessions_pending_update(self) -> bool:
        """ChargingStation.AllowNewSessionsPendingFirmwareUpdate (2.0.1 appendix: "whether
        new sessions can be started on EVSEs while the Charging Station is waiting for all
        EVSEs to become Available in order to start a pending firmware update"; false by
        default, L01.FR.07 then holding every EVSE freed)."""
        entry = self.variables.get(_ALLOW_NEW_SESSIONS)
        return entry is not None and entry[0].strip().lower() == "true"

    def send_firmware_status(self, job: Update, status: str, at: float) -> None:
        payload = v201.FirmwareStatusNotificationRequest(
            status=v201.FirmwareStatusEnum(status), request_id=job.request_id
        )
        self.send("FirmwareStatusNotification", payload, at)

    def send_upload_status(self, job: Upload, status: str, at: float) -> None:
        log_status = "UploadFailure" if status == "UploadFailed" else status
        payload = v201.LogStatusNotificationRequest(
            status=v201.UploadLogStatusEnum(log_status), request_id=job.request_id
        )
        self.send("LogStatusNotification", payload, at)

    def send_security_event(self, event: str, at: float) -> None:
        payload = v201.SecurityEventNotificationRequest(type=event, timestamp=self.wall(at))
        self.send("SecurityEventNotification", payload, at)

    # -- triggered (TriggerMessage, F06) -----------------------------------------------------

    def triggered_firmware_status(self, now: float) -> Payload:
        """The FirmwareStatusNotification a TriggerMessage asks for: the status of the update
        under way with its requestId; Idle, without one, only when none runs (L01.FR.25?
        the field's definition: mandatory unless triggered with no update ongoing)."""
        state = self.firmware
        job = state.update if state is not None else None
        if job is None:
            return v201.FirmwareStatusNotificationRequest(status=v201.FirmwareStatusEnum.IDLE)
        return v201.FirmwareStatusNotificationRequest(
            status=v201.FirmwareStatusEnum(job.status), request_id=job.request_id
        )

    def triggered_log_status(self, now: float) -> Payload:
        """The LogStatusNotification a TriggerMessage asks for: Uploading with its requestId
        while an upload runs; Idle, without one, otherwise."""
        state = self.firmware
        job = state.log if state is not None else None
        if job is None:
            return v201.LogStatusNotificationRequest(status=v201.UploadLogStatusEnum.IDLE)
        return v201.LogStatusNotificationRequest(
            status=v201.UploadLogStatusEnum.UPLOADING, request_id=job.request_id
        )

    if TYPE_CHECKING:
        variables: Any

        def send(self, action: str, payload: Payload, intended_at: float) -> None: ...
