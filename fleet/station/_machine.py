"""What a simulated station does, without I/O: the part both OCPP versions share.

A `StationMachine` is fed time and answers and hands out the messages it wants to send; it
never sends, reads or sleeps (the actor in `_actor.py` does). Its life:

- `connected(now)`: a BootNotification is due. Until a boot is Accepted only boots go out, and
  what the CSMS asks for (1.6 section 4.2.1, 2.0.1 B02): a triggered message, GetBaseReport's
  NotifyReport; a Pending or Rejected answer schedules the next boot after the interval the
  CSMS gave, and a triggered boot replaces it at once. While Rejected nothing but a triggered
  boot goes out (1.6 4.2.1, 2.0.1 B03).
- Accepted: a StatusNotification per connector, a Heartbeat every interval, and on each
  connector a loop of charging sessions (see `TRANSITIONS`), with meter values while charging.
- `stop(now)`: no new sessions; running ones stop; `finished` once everything is answered.

Smart charging (`_smart_charging.py`): the CSMS's charging profiles go into a per-station
`ChargingProfiles` store, made on first use. A session charges at min(the EV's power, the
limit at that moment); `apply_limits` sets that on install, clear, transaction start and end,
and at the store's `next_change_after` (the one `limit_change_at` timer), so the samples and
the energy register follow. A station never given a profile has no store and that timer at inf.

Reservations (`_reservations.py`) go the same way: a per-station `ReservationBook`, made on the
first ReserveNow or CancelReservation, told the connectors' conditions whenever a connector
changes (`sync_reservations`), its effects turned into status notifications (an Available
connector it holds shows Reserved) and 2.0.1 ReservationStatusUpdates; its next expiry is the
one `reservation_expiry_at` timer. A session may start on a reserved connector only with the
reserved token (`may_start`); it carries the reservationId and uses the reservation when its
start message is produced (`use_reservation`). A station never given a reservation has no book.

Local authorization (`_authorization.py`): a per-station `Authorizer` (the local list, the
cache, the decision), made on first use: a SendLocalList, the cache's first entry (every
idTagInfo / idTokenInfo the CSMS answers goes in, unless the cache is off) or an authorization
key set; each version configures it from its store (`configure_authorizer`) whenever one of
those keys changes. Online with LocalPreAuthorize a token it knows Accepted starts without
Authorize. Offline (not booted: the actor drives the machine again at the reconnect, before
the boot, so a driver due during an outage is decided then, at the time it came), a driver it
authorizes starts a session at once (`start_offline`): its start, samples and stop go into the
transaction queue and out after the boot, the start's answer applied when it comes (1.6: its
transactionId replaces a placeholder in the session's queued messages). A driver it cannot
authorize offline waits for the boot (`Connector.held`), as every driver of a station without
an authorizer does; one whose token the list or cache knows invalid leaves. A start the CSMS
answers not Accepted stops the session (DeAuthorized) or only its energy
(StopTransactionOnInvalidId / StopTxOnInvalidId, `token_answered`).

Transaction messages (1.6 StartTransaction, StopTransaction, MeterValues; 2.0.1
TransactionEvent) have their own queue, as OCPP asks (1.6 section 4.9, 2.0.1 E13): they go in
order, are kept while the station is offline (sessions go on metering and may end meanwhile),
are sent again after a CALLERROR or a timeout (TransactionMessageAttempts, waiting
TransactionMessageRetryInterval times the attempts so far) or a lost connection, and the
queue is bounded by an overflow policy. Every one of them is answered, or counted as dropped.

Every message carries its *intended* send time: the instant its timer was due, or the answer
that caused it arrived. The actor measures latency from there, so a CSMS that stalls (or a
fleet that falls behind) shows up in the latencies instead of hiding in a queue.
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import math
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar, Final, Protocol

from fleet.ocpp import CallError, ErrorCode, OcppVersion, Payload
from fleet.station._authorization import (
    Authorizer,
    AuthSettings,
    Decision,
    Entry,
    InvalidAction,
    after_answer,
)
from fleet.station._reservations import (
    Check,
    Condition,
    Effect,
    ReservationBook,
    ReservationUpdate,
    StatusChange,
)
from fleet.station._smart_charging import ChargingProfiles, Limit, Profile

__all__ = [
    "TRANSACTION_ACTIONS",
    "TRANSITIONS",
    "Connector",
    "ConnectorState",
    "Observer",
    "Outgoing",
    "SessionEvent",
    "StationMachine",
    "StationSettings",
    "answer_methods",
]

# Boot retry when the CSMS gives no usable interval, and after a failed boot call.
DEFAULT_BOOT_RETRY = 30.0
# What an EVSE's hardware gives where no charging profile limits it (GetCompositeSchedule):
# 32 A on three phases of 230 V. The EV's own maximum is the session's sampled power.
EVSE_MAX_WATTS = 3 * 32 * 230.0
# What a CSMS waits for after some of its requests, for the report's reaction times: CSMS
# action -> the station messages that show it done ("*": whatever the request made the station
# send, a TriggerMessage's message). Each version's machine has its own table (`reactions`).
# Most come at once, while the request is answered; a Reset's is the BootNotification after
# the reboot, and a charging profile's the first meter value of a session whose power it
# changed (sampled meter values: the CSMS sees the new limit applied there). The firmware and
# log blocks tag their own (UpdateFirmware -> Installed, GetLog -> Uploaded).
REACTION_ANY: Final = "*"

# The phases an EV draws on, for a limit in amperes (per phase).
EV_PHASES = 3
# How far below a limit an EV under it draws: its readings wander +-3 % around its level
# (`_advance_meter`, `send_meter_values`), so at limit / 1.03 none goes above the limit.
_UNDER_LIMIT = 1.03


class Sampler(Protocol):
    def sample(self, rng: random.Random) -> float: ...


class Observer(Protocol):
    """Who hears about sessions and boots (the run's metrics)."""

    def session_started(self, now: float) -> None: ...
    def session_stopped(self, now: float) -> None: ...
    def boot_accepted(self, seconds: float, now: float, first: bool = False) -> None: ...
    def first_boot_answered(self, now: float) -> None: ...
    def transaction_message_produced(self, now: float) -> None: ...
    def transaction_message_queued(self, now: float) -> None: ...
    def transaction_message_requeued(self, now: float) -> None: ...
    def transaction_message_delivered_late(self, now: float) -> None: ...
    def transaction_message_dropped(self, now: float) -> None: ...


class _NoObserver:
    def session_started(self, now: float) -> None:
        pass

    def session_stopped(self, now: float) -> None:
        pass

    def boot_accepted(self, seconds: float, now: float, first: bool = False) -> None:
        pass

    def first_boot_answered(self, now: float) -> None:
        pass

    def transaction_message_produced(self, now: float) -> None:
        pass

    def transaction_message_queued(self, now: float) -> None:
        pass

    def transaction_message_requeued(self, now: float) -> None:
        pass

    def transaction_message_delivered_late(self, now: float) -> None:
        pass

    def transaction_message_dropped(self, now: float) -> None:
        pass


class StationSettings:
    """One station's fixed behaviour, drawn from the profile.

    Args:
        connectors: how many connectors (1.6) or EVSEs with one connector (2.0.1).
        vendor, model: what the boot reports.
        first_start: seconds from the first accepted boot to a connector's first session.
        length: seconds a session charges.
        idle: seconds between sessions on a connector.
        power_kw: charging power of a session.
        meter_interval: seconds between meter values while charging.
        id_tags: the idTag / idToken pool sessions draw from.
        authorize: send Authorize before starting a session.
        probability: chance that a due session starts (else the connector idles again).
        heartbeat_interval: used until a boot answer gives one.
        wall_offset: wall-clock seconds (epoch) = trio clock + this; for timestamps.
        transaction_attempts: TransactionMessageAttempts: sends of one transaction message
            before it is given up.
        transaction_retry_interval: TransactionMessageRetryInterval: seconds before sending a
            transaction message again after a CALLERROR or a timeout, times the attempts.
        queue_limit: transaction messages held at most; beyond it `queue_overflow` applies.
        queue_overflow: which message a full queue drops: "drop-meter-values" (the oldest
            periodic meter values, else the oldest), "drop-oldest" or "drop-newest".
        answer_overrides: CSMS action -> ((cumulative share, answer), ...): a CALL of that
            action draws r in [0, 1); the first rule with r < share answers instead of the
            station's behaviour: `answer(request)` returns the payload or raises `CallError`
            (a profile's shares of refusals and failures, to test a CSMS's error handling).
        firmware: how firmware updates, diagnostics and log uploads go (`_firmware.py`'s
            `FirmwareSettings`; None: its defaults).
    """

    __slots__ = (
        "answer_overrides",
        "authorize",
        "connectors",
        "firmware",
        "first_start",
        "heartbeat_interval",
        "id_tags",
        "idle",
        "length",
        "meter_interval",
        "model",
        "power_kw",
        "probability",
        "queue_limit",
        "queue_overflow",
        "shared",
        "transaction_attempts",
        "transaction_retry_interval",
        "vendor",
        "wall_offset",
    )

    def __init__(
        self,
        *,
        connectors: int,
        first_start: Sampler,
        length: Sampler,
        idle: Sampler,
        power_kw: Sampler,
        meter_interval: float,
        id_tags: Sequence[str],
        vendor: str = "ocpp-fleet",
        model: str = "SimCharger",
        authorize: bool = True,
        probability: float = 1.0,
        heartbeat_interval: float = 60.0,
        wall_offset: float = 0.0,
        transaction_attempts: int = 3,
        transaction_retry_interval: float = 10.0,
        queue_limit: int = 1000,
        queue_overflow: str = "drop-meter-values",
        answer_overrides: Mapping[str, Sequence[tuple[float, Callable[[Any], Payload]]]]
        | None = None,
        firmware: Any = None,
    ) -> None:
        if queue_overflow not in QUEUE_OVERFLOW_POLICIES:
            raise ValueError(f"queue_overflow must be one of {', '.join(QUEUE_OVERFLOW_POLICIES)}")
        self.connectors = connectors
        self.first_start = first_start
        self.length = length
        self.idle = idle
        self.power_kw = power_kw
        self.meter_interval = meter_interval
        self.id_tags = tuple(id_tags) or ("TAG-1",)
        self.vendor = vendor
        self.model = model
        self.authorize = authorize
        self.probability = probability
        self.heartbeat_interval = heartbeat_interval
        self.wall_offset = wall_offset
        self.transaction_attempts = transaction_attempts
        self.transaction_retry_interval = transaction_retry_interval
        self.queue_limit = queue_limit
        self.queue_overflow = queue_overflow
        self.answer_overrides = dict(answer_overrides or {})
        self.firmware = firmware
        # What every station of these settings derives alike (their configuration stores'
        # defaults), built by the first and shared: one copy per run, not per station.
        self.shared: dict[str, Any] = {}


# Transaction-related messages (1.6 section 4.9, 2.0.1 E13): queued in order, kept offline,
# sent again until TransactionMessageAttempts run out.
TRANSACTION_ACTIONS = frozenset(
    {"StartTransaction", "StopTransaction", "MeterValues", "TransactionEvent"}
)
QUEUE_OVERFLOW_POLICIES = ("drop-meter-values", "drop-oldest", "drop-newest")
# What a station does with a message lost with its connection, or pushed out of a full queue.
LOST, DROPPED = "lost", "dropped"


class Outgoing:
    """A CALL the station wants to send, and when it meant to."""

    __slots__ = (
        "action",
        "attempts",
        "connector",
        "intended_at",
        "payload",
        "periodic",
        "queued",
        "reaction",
        "seq",
        "session",
        "transaction",
    )

    def __init__(self, action: str, payload: Payload, intended_at: float, connector: int) -> None:
        self.action = action
        self.payload = payload
        self.intended_at = intended_at
        self.connector = connector  # 0: the station itself
        self.attempts = 0  # sends so far
        self.transaction = False  # a transaction message (its own queue, retries)
        self.periodic = False  # periodic meter values: what a full queue drops first
        self.queued = False  # held for a later connection (produced offline, or lost)
        # (CSMS action, when it was received): this message is what that request's sender
        # waits for (`StationMachine.reactions`); the actor records its reaction time.
        self.reaction: tuple[str, float] | None = None
        self.seq = 0  # the order its machine made it in (`due`'s tie-break)
        # The start message of a session started on local authorization (offline): the
        # session's local transaction id (1.6: a placeholder until this message's answer gives
        # the CSMS's, which then replaces it in the session's queued messages).
        self.session: Any = None

    def __repr__(self) -> str:
        return f"Outgoing({self.action}, connector={self.connector}, at={self.intended_at:g})"


class ConnectorState(enum.Enum):
    AVAILABLE = "available"  # idle, waiting for the next session
    AUTHORIZING = "authorizing"  # Authorize sent
    STARTING = "starting"  # StartTransaction / TransactionEvent Started sent
    CHARGING = "charging"
    STOPPING = "stopping"  # StopTransaction / TransactionEvent Ended sent
    UNAVAILABLE = "unavailable"  # ChangeAvailability Inoperative


class SessionEvent(enum.Enum):
    START_DUE = "start due"
    REMOTE_START = "remote start"
    AUTHORIZED = "authorized"
    REFUSED = "refused"
    STARTED = "started"
    START_FAILED = "start failed"
    STOP_DUE = "stop due"
    STOPPED = "stopped"
    DISABLE = "disable"
    ENABLE = "enable"


S, E = ConnectorState, SessionEvent
TRANSITIONS: Final[dict[tuple[ConnectorState, SessionEvent], ConnectorState]] = {
    (S.AVAILABLE, E.START_DUE): S.AUTHORIZING,
    (S.AVAILABLE, E.REMOTE_START): S.STARTING,  # a remote start is authorized by the CSMS
    (S.AUTHORIZING, E.AUTHORIZED): S.STARTING,
    (S.AUTHORIZING, E.REFUSED): S.AVAILABLE,
    (S.AUTHORIZING, E.STOP_DUE): S.AVAILABLE,  # stopping before the start: no transaction
    (S.STARTING, E.STARTED): S.CHARGING,
    (S.STARTING, E.START_FAILED): S.AVAILABLE,
    (S.CHARGING, E.STOP_DUE): S.STOPPING,
    (S.STOPPING, E.STOPPED): S.AVAILABLE,
    (S.AVAILABLE, E.DISABLE): S.UNAVAILABLE,
    (S.UNAVAILABLE, E.ENABLE): S.AVAILABLE,
}
"""Connector session states: (state, event) -> next state. Anything else is a bug."""
del S, E

# The reason a reboot gives the sessions it stops (each version maps it to its own enum):
# a Reset's type, else (a firmware install) Reboot.
_STOP_REASONS = {"soft": "SoftReset", "hard": "HardReset", "firmware": "Reboot"}

# Not kept across a lost connection: after the next boot the station reports afresh.
_STALE_OFFLINE = frozenset({"Heartbeat", "StatusNotification"})
# Of what the CSMS asked for, these were readings of that moment (a report is not).
_STALE_REQUESTED = _STALE_OFFLINE | {"MeterValues"}


class Connector:
    """One connector's session state, timers and energy meter."""

    __slots__ = (
        "energy_wh",
        "ev_power_w",
        "held",
        "id",
        "id_tag",
        "local_id",
        "meter_at",
        "metered_at",
        "pending_available",
        "pending_reaction",
        "phases",
        "power_w",
        "remote_start_id",
        "reservation_id",
        "seq_no",
        "started_at",
        "state",
        "stop_at",
        "suspended",
        "transaction_id",
        "wake_at",
    )

    def __init__(self, connector_id: int, energy_wh: float) -> None:
        self.id = connector_id
        self.state = ConnectorState.AVAILABLE
        self.wake_at = math.inf  # next session start (available)
        self.stop_at = math.inf  # session end (charging)
        self.meter_at = math.inf  # next meter value (charging)
        self.metered_at = 0.0
        self.energy_wh = energy_wh  # the register only ever grows
        self.power_w = 0.0  # the session's level: the EV's, or less under a charging profile
        self.ev_power_w = 0.0  # what the EV would take unlimited
        self.phases = EV_PHASES  # the phases it draws on (fewer when a limit says so)
        self.started_at = 0.0  # its transaction's start
        self.id_tag = ""
        self.transaction_id: Any = None
        self.seq_no = 0
        self.remote_start_id: int | None = None
        self.reservation_id: int | None = None  # the reservation its session uses
        # Offline, a driver the station could not authorize locally waits (with the token
        # drawn) for the next boot: its wake is held, out of the timers until then.
        self.held = False
        # The session started on local authorization, its start not yet answered: its local
        # transaction id (1.6: a placeholder), else None.
        self.local_id: Any = None
        # Energy delivery stopped by the station (an invalid token, StopTransactionOnInvalidId
        # false): the session goes on at 0 W (1.6 SuspendedEVSE).
        self.suspended = False
        # A ChangeAvailability answered Scheduled (1.6 5.2, 2.0.1 G03.FR.05): the
        # availability to take when the session ends (True: Operative), else None; and the
        # request's (action, received at), tagged on the status that shows it done.
        self.pending_available: bool | None = None
        self.pending_reaction: tuple[str, float] | None = None

    def move(self, event: SessionEvent) -> None:
        try:
            self.state = TRANSITIONS[self.state, event]
        except KeyError:
            raise RuntimeError(
                f"connector {self.id}: no transition from {self.state.value} on {event.value}"
            ) from None

    @property
    def in_session(self) -> bool:
        return self.state in _IN_SESSION


_IN_SESSION = frozenset(
    {
        ConnectorState.AUTHORIZING,
        ConnectorState.STARTING,
        ConnectorState.CHARGING,
        ConnectorState.STOPPING,
    }
)


class StationMachine:
    """A station's behaviour; `StationMachine16` and `StationMachine201` speak the versions.

    Args:
        station_id: its identity.
        settings: its behaviour.
        rng: its own random source (seeded per station, so runs repeat).
        observer: told about sessions and boots; usually the run's metrics.
    """

    version: OcppVersion

    def __init__(
        self,
        station_id: str,
        settings: StationSettings,
        rng: random.Random,
        observer: Observer | None = None,
    ) -> None:
        self.station_id = station_id
        self.settings = settings
        self.rng = rng
        self.observer: Observer = observer if observer is not None else _NoObserver()
        self.outbox: collections.deque[Outgoing] = collections.deque()
        self.transaction_queue: collections.deque[Outgoing] = collections.deque()
        self.transaction_messages = 0  # produced, for the run's accounting
        self.made = 0  # messages made for the two queues: their `seq`
        self.connectors = [
            Connector(i, energy_wh=rng.uniform(0, 5_000_000))
            for i in range(1, settings.connectors + 1)
        ]
        self.booted = False
        self.boot_reason = "PowerUp"
        self.boot_at = math.inf  # next BootNotification (not booted)
        self.boot_pending: Outgoing | None = None
        # The last boot answer's status ("Accepted", "Pending", "Rejected"), None before one.
        self.registration: str | None = None
        # What the CSMS asked for (TriggerMessage, GetBaseReport): goes out before a boot is
        # Accepted too, and ahead of the station's own messages.
        self.requested: collections.deque[Outgoing] = collections.deque()
        self.first_boot_intended: float | None = None
        self.boot_answered_once = False  # its first BootNotification had an outcome
        self.heartbeat_interval = settings.heartbeat_interval
        self.heartbeat_at = math.inf
        # The transaction queue's retries as configured now (1.6 TransactionMessageAttempts /
        # TransactionMessageRetryInterval, 2.0.1 OCPPCommCtrlr.MessageAttempts /
        # MessageAttemptInterval): the profile's, until a CSMS sets them.
        self.transaction_attempts = settings.transaction_attempts
        self.transaction_retry_interval = settings.transaction_retry_interval
        self.heartbeat_queued = False
        self.ever_booted = False
        self.stopping = False
        self.reboot_requested = False
        # A Reset waiting for the transactions to end (2.0.1 OnIdle, B12): (reason, the
        # Reset's (action, received at) for its reaction time), else None.
        self.reset_scheduled: tuple[str, tuple[str, float] | None] | None = None
        self.transactions = 0
        # Smart charging: the charging profiles, made on first use (a station no CSMS gives
        # a profile pays nothing for them), and when the limit of a session changes next.
        self.smart_charging: ChargingProfiles | None = None
        self.limit_change_at = math.inf
        # Connector id -> the TxProfile a start request carried, until its transaction runs.
        self.start_profiles: dict[int, Profile] | None = None
        # Reservations: the book, made on first use, and when the next one expires.
        self.reservations: ReservationBook | None = None
        self.reservation_expiry_at = math.inf
        # Local authorization (`_authorization.py`): the list, the cache and the decision,
        # made on first use (a SendLocalList, the cache's first entry, an authorization key
        # set); 1.6 placeholder transaction ids of offline starts count down from -1.
        self.authorizer: Authorizer | None = None
        self.local_transactions = 0
        # Firmware and log jobs (`_firmware.py`): their state, and their one timer.
        self.firmware: Any = None
        self.firmware_at = math.inf
        # Reaction times (`reactions`): the CSMS call being answered, a Reset's (tagged on the
        # boot after the reboot), and connector id -> a charging profile's (tagged on its
        # next sampled meter value).
        self.calling: tuple[str, float] | None = None
        self.reset_reaction: tuple[str, float] | None = None
        self.limit_reactions: dict[int, tuple[str, float]] | None = None
        # The handler of the call being answered deferred its reaction (a ChangeAvailability
        # Scheduled): `on_call` tags nothing now; the status made later carries it.
        self.reaction_deferred = False
        # The station as a whole is Inoperative (1.6 connector 0 Unavailable; 2.0.1 the
        # ChargingStation), and a station-wide ChangeAvailability waiting for sessions to end:
        # (Operative?, its reaction), done when no connector has a change pending.
        self.inoperative = False
        self.station_pending: tuple[bool, tuple[str, float] | None] | None = None

    # -- driven by the actor ----------------------------------------------------------------

    def connected(self, now: float) -> None:
        """A connection is open: boot (again). A reboot, if one was asked for, is done."""
        if self.reboot_requested and self.smart_charging is not None:
            self.smart_charging.reboot()  # TxProfiles go; the rest persist (K01.FR.27)
        if self.reboot_requested and self.reservations is not None:
            # Reservations are not kept across a reboot (a choice; the boot reports afresh).
            self.reservations.clear(self.reservation_conditions())
            self.reservation_expiry_at = math.inf
        self.reboot_requested = False
        self.booted = False
        self.registration = None
        self.heartbeat_at = math.inf
        self.boot_at = now
        if self.first_boot_intended is None:
            self.first_boot_intended = now

    def disconnected(self, now: float) -> None:
        """The connection is gone. Transaction messages wait for the next connection; queued
        heartbeats and status reports are stale (the next boot reports every connector)."""
        self.booted = False
        self.boot_at = math.inf
        self.boot_pending = None
        self.heartbeat_at = math.inf
        self.heartbeat_queued = False
        if self.outbox:
            self.outbox = collections.deque(
                item for item in self.outbox if item.action not in _STALE_OFFLINE
            )
        if self.requested:  # a reading asked for then is stale too; a report is not
            self.requested = collections.deque(
                item for item in self.requested if item.action not in _STALE_REQUESTED
            )

    def next_timer(self) -> float:
        """The earliest timer (inf: none). While a CALL is in flight this is all that can
        wake the station: queued messages must wait for the answer."""
        if not self.booted:
            # Offline, sessions go on (samples, ends) and, with an authorizer, a driver may
            # start one on local authorization; one it could not authorize waits (`held`).
            soonest = self.boot_at
            local = self.authorizer is not None and not self.stopping
            for connector in self.connectors:
                soonest = min(soonest, connector.stop_at, connector.meter_at)
                if local and not connector.held and connector.wake_at < soonest:
                    soonest = connector.wake_at
            return soonest
        soonest = self.heartbeat_at
        if self.limit_change_at < soonest:
            soonest = self.limit_change_at
        if self.reservation_expiry_at < soonest:
            soonest = self.reservation_expiry_at
        if self.firmware_at < soonest:
            soonest = self.firmware_at
        for connector in self.connectors:
            soonest = min(soonest, connector.wake_at, connector.stop_at, connector.meter_at)
        return soonest

    def next_wakeup(self) -> float:
        """The earliest time something is due, timers or a queued message (inf: nothing)."""
        soonest = self.next_timer()
        if self.boot_pending is not None:
            soonest = min(soonest, self.boot_pending.intended_at)
        if self.requested and self.registration != "Rejected":
            soonest = min(soonest, self.requested[0].intended_at)
        if not self.booted:
            return soonest
        if self.outbox:
            soonest = min(soonest, self.outbox[0].intended_at)
        if self.transaction_queue:
            soonest = min(soonest, self.transaction_queue[0].intended_at)
        return soonest

    def due(self, now: float) -> Outgoing | None:
        """The next message to send now, if any (taken off the queue)."""
        boot = self.boot_pending
        if boot is not None and boot.intended_at <= now:
            self.boot_pending = None
            return boot
        # What the CSMS asked for goes first, Pending included; while Rejected it waits.
        requested = self.requested
        if requested and requested[0].intended_at <= now and self.registration != "Rejected":
            return requested.popleft()
        if not self.booted:  # OCPP: nothing else until a boot is accepted
            return None
        # The earlier-meant of the two queues' heads; on a tie, the one made first: a session's
        # Preparing / Occupied status goes before its start message, as a charger sends them,
        # and after a boot the messages held offline go before the boot's status reports.
        # A transaction message waiting out its retry interval holds up only its own queue.
        transactions, outbox = self.transaction_queue, self.outbox
        if transactions:
            head = transactions[0]
            if head.intended_at <= now and (
                not outbox
                or head.intended_at < outbox[0].intended_at
                or (head.intended_at == outbox[0].intended_at and head.seq < outbox[0].seq)
            ):
                return transactions.popleft()
        if outbox and outbox[0].intended_at <= now:
            item = outbox.popleft()
            if item.action == "Heartbeat":
                self.heartbeat_queued = False
            return item
        return None

    def on_timer(self, now: float) -> None:
        """Fire every timer that is due. Offline (not booted), running sessions go on: their
        meter values and ends are produced with the times they were due, into the queue."""
        booted = self.booted
        if not booted:
            if self.boot_at <= now and self.boot_pending is None:
                self.boot_pending = Outgoing(
                    "BootNotification", self.boot_request(), self.boot_at, 0
                )
                self.boot_pending.reaction, self.reset_reaction = self.reset_reaction, None
                self.boot_at = math.inf
        elif self.heartbeat_at <= now:
            # One heartbeat waits at a time, keeping the intended time of the first tick
            # it stands for: a real charger does not pile them up, and the delay still shows.
            if not self.heartbeat_queued and not self.stopping:
                self.send("Heartbeat", self.heartbeat_request(), self.heartbeat_at)
                self.heartbeat_queued = True
            while self.heartbeat_at <= now:
                self.heartbeat_at += self.heartbeat_interval
        if self.limit_change_at <= now:
            self._limits_due(now)
        if self.reservation_expiry_at <= now and self.reservations is not None:
            effects = self.reservations.expire(now, self.reservation_conditions())
            self.reservation_effects(effects, now)
        if self.firmware_at <= now:
            self.firmware_due(now)
        local = self.authorizer is not None
        for connector in self.connectors:
            if connector.wake_at <= now and (booted or (local and not connector.held)):
                # Offline only with an authorizer: a session may start on local
                # authorization (else the driver waits for the boot, as without one).
                intended, connector.wake_at = connector.wake_at, math.inf
                self._session_due(connector, intended)
            # Every sample due before the session's end, in order (several after an outage).
            while connector.meter_at <= now and connector.meter_at <= connector.stop_at:
                intended = connector.meter_at
                connector.meter_at = intended + self.settings.meter_interval
                self._advance_meter(connector, intended)
                self.send_meter_values(connector, intended)
            if connector.stop_at <= now:
                intended, connector.stop_at = connector.stop_at, math.inf
                self.stop_session(connector, intended, "Local")

    def on_answer(
        self, item: Outgoing, response: Payload | None, error: str | None, now: float
    ) -> None:
        """The outcome of a CALL we sent: its response, or an error code (CALLERROR, "timeout",
        "invalid", "lost")."""
        if item.action == "BootNotification":
            if not self.boot_answered_once and error != LOST:
                # Answered at all (Accepted, Pending, Rejected, an error, or no answer in
                # time): the station's part of the ramp's boot storm is over.
                self.boot_answered_once = True
                self.observer.first_boot_answered(now)
            self._boot_answered(item, response, now)
            return
        if item.transaction:
            if error is None or error == "invalid":  # the CSMS has it
                if item.queued:
                    self.observer.transaction_message_delivered_late(now)
            elif self._retry(item, error, now):
                return  # the answer is still to come
            else:
                self.observer.transaction_message_dropped(now)
        self.answered(item, response, error, now)

    def _retry(self, item: Outgoing, error: str, now: float) -> bool:
        """Put a failed transaction message back at the head of its queue, unless its attempts
        are used up. Lost with the connection: it goes first after the next boot. CALLERROR or
        timeout: after TransactionMessageRetryInterval times the attempts so far. (An answer
        that breaks the schema is an answer: the CSMS has the message.)"""
        if error == DROPPED or item.attempts >= self.transaction_attempts:
            return False
        if error == LOST:
            if not item.queued:
                item.queued = True
                self.observer.transaction_message_queued(now)
        else:
            item.intended_at = now + self.transaction_retry_interval * item.attempts
        self.transaction_queue.appendleft(item)
        self.observer.transaction_message_requeued(now)
        return True

    def stop(self, now: float, spread: float = 0.0) -> None:
        """End the run for this station: no new sessions; running ones stop within `spread`
        seconds (at a random moment each, so a fleet does not stop in one synthetic burst)."""
        self.stopping = True
        self.heartbeat_at = math.inf
        for connector in self.connectors:
            connector.wake_at = math.inf
            connector.held = False
            if connector.state is ConnectorState.CHARGING:
                connector.stop_at = now + (self.rng.uniform(0, spread) if spread > 0 else 0.0)
            # AUTHORIZING / STARTING ones stop as soon as their answer arrives.

    @property
    def ready_to_reboot(self) -> bool:
        """A Reset was accepted and its consequences (stopped sessions) are all sent."""
        return (
            not self.outbox
            and not self.requested
            and not self.transaction_queue
            and not any(c.in_session for c in self.connectors)
        )

    @property
    def pending_transactions(self) -> bool:
        """A session is under way, or a transaction message waits to be sent: something the
        CSMS must still hear about, even across a reconnect."""
        return bool(self.transaction_queue) or any(c.in_session for c in self.connectors)

    @property
    def finished(self) -> bool:
        """Stopping, and nothing left to send or wait for (but the call in flight). A station
        not booted has nothing to say unless a transaction is pending: then it stays, to
        boot and deliver it."""
        if not self.stopping:
            return False
        if self.pending_transactions:
            return False
        return not self.booted or not (self.outbox or self.requested)

    # -- shared behaviour --------------------------------------------------------------------

    def send(self, action: str, payload: Payload, intended_at: float, connector: int = 0) -> None:
        item = Outgoing(action, payload, intended_at, connector)
        self.made += 1
        item.seq = self.made
        self.outbox.append(item)

    def send_requested(
        self, action: str, payload: Payload, intended_at: float, connector: int = 0
    ) -> None:
        """Queue a message the CSMS asked for (a triggered one, a report): it may go before a
        boot is Accepted (1.6 section 4.2.1, 2.0.1 B02.FR.09's exceptions)."""
        self.requested.append(Outgoing(action, payload, intended_at, connector))

    @property
    def may_send_requested(self) -> bool:
        """Whether what the CSMS asks for can go out now: not while Rejected (1.6 4.2.1: no
        message until the retry interval has passed; 2.0.1 B03)."""
        return self.registration != "Rejected"

    def trigger_boot(self, now: float) -> None:
        """A triggered BootNotification: out at once, replacing the scheduled one (1.6 4.2.1:
        not earlier "unless requested to do so with a TriggerMessage"; 2.0.1 B02, F06)."""
        self.boot_at = math.inf
        self.boot_pending = Outgoing("BootNotification", self.triggered_boot_request(), now, 0)

    def send_transaction(
        self,
        action: str,
        payload: Payload,
        intended_at: float,
        connector: int,
        *,
        periodic: bool = False,
        session: Any = None,
    ) -> None:
        """Queue a transaction message (`periodic`: sampled meter values, dropped first when
        the queue is full; `session`: see `Outgoing.session`). Produced offline, it is
        counted as queued."""
        item = Outgoing(action, payload, intended_at, connector)
        self.made += 1
        item.seq = self.made
        item.transaction = True
        item.periodic = periodic
        item.session = session
        if self.limit_reactions and connector in self.limit_reactions:
            # The session's first reading at its new level: 2.0.1's ChargingRateChanged
            # TransactionEvent at once; 1.6's next sample (it has no message for a change).
            item.reaction = self.limit_reactions.pop(connector)
        self.transaction_messages += 1
        self.observer.transaction_message_produced(intended_at)
        if not self.booted:
            item.queued = True
            self.observer.transaction_message_queued(intended_at)
        queue = self.transaction_queue
        if len(queue) < self.settings.queue_limit:
            queue.append(item)
            return
        policy = self.settings.queue_overflow
        if policy == "drop-newest":
            victim = item
        elif policy == "drop-oldest":
            victim = queue[0]
        else:
            victim = next((q for q in queue if q.periodic), item if item.periodic else queue[0])
        if victim is not item:
            queue.remove(victim)
            queue.append(item)
        # Given up: the session goes on without it (a dropped start fails, a dropped stop
        # ends the session here unacknowledged), and the report counts it.
        self.observer.transaction_message_dropped(intended_at)
        self.answered(victim, None, DROPPED, intended_at)

    def wall(self, now: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(now + self.settings.wall_offset, dt.UTC)

    def _boot_answered(self, item: Outgoing, response: Any, now: float) -> None:
        status = getattr(response, "status", None)
        if status is None and self.booted:
            return  # a triggered boot failed: the registration stands
        if status in ("Accepted", "Pending", "Rejected"):
            self.registration = status
        if status == "Accepted":
            first_boot = not self.ever_booted
            self.booted = True
            self.ever_booted = True
            if self.first_boot_intended is not None:
                self.observer.boot_accepted(now - self.first_boot_intended, now, first_boot)
                self.first_boot_intended = None
            if response.interval > 0:
                self.heartbeat_interval = float(response.interval)
            self.heartbeat_at = now + self.heartbeat_interval
            # Held messages go first, their latency counted from now: the wait offline is
            # the outage's (reported as reconnects and late deliveries), not the CSMS's answer.
            for queue in (self.transaction_queue, self.outbox, self.requested):
                for held in queue:
                    if held.intended_at < now:
                        held.intended_at = now
            self.after_boot(now, first_boot)
            return
        # Pending, Rejected, or no valid answer: boot again later, as the CSMS asked. A station
        # booted before (a triggered boot answered so) is no longer registered: it waits too.
        self.booted = False
        self.heartbeat_at = math.inf
        self.heartbeat_queued = False
        interval = getattr(response, "interval", 0) or DEFAULT_BOOT_RETRY
        if self.boot_pending is None:  # else a triggered boot goes at once
            self.boot_at = now + interval

    def after_boot(self, now: float, first_boot: bool) -> None:
        """Report every connector's status, and schedule sessions: after the very first boot
        with `first_start`, after a reboot as after any session, with `idle`."""
        for connector in self.connectors:
            self.send_status(connector, now)
            idle = connector.state is ConnectorState.AVAILABLE and connector.wake_at == math.inf
            if idle and not self.stopping:
                wait = self.settings.first_start if first_boot else self.settings.idle
                connector.wake_at = now + wait.sample(self.rng)

    def _session_due(self, connector: Connector, intended: float) -> None:
        """A driver arrives (`wake_at`). Online: Authorize, unless LocalPreAuthorize lets a
        token known Accepted start at once (or the profile sends none). Offline (with an
        authorizer): the local decision; a token refused offline for what the list or cache
        says of it leaves, any other waits for the boot with its token (`held`)."""
        if (
            connector.state is not ConnectorState.AVAILABLE
            or self.stopping
            or self.reset_scheduled is not None
        ):
            connector.held = False
            return
        if connector.held:  # a driver waiting since offline: the token was drawn then
            connector.held = False
        else:
            if self.rng.random() >= self.settings.probability:
                connector.wake_at = intended + self.settings.idle.sample(self.rng)
                return
            connector.id_tag = self.rng.choice(self.settings.id_tags)
        if not self.may_start(connector, connector.id_tag):
            # Reserved for another token: this driver is refused (1.6 5.13, 2.0.1 H03.FR.05).
            connector.wake_at = intended + self.settings.idle.sample(self.rng)
            return
        authorizer = self.authorizer
        if not self.booted:
            assert authorizer is not None  # `on_timer` fires offline wakes only with one
            verdict = authorizer.decide(connector.id_tag, False, intended)
            if verdict.decision is Decision.START:
                self.start_offline(connector, intended)
            elif verdict.entry is not None and not verdict.entry.valid(intended):
                connector.wake_at = intended + self.settings.idle.sample(self.rng)
            else:
                connector.held = True
                connector.wake_at = intended
            return
        pre_authorized = (
            authorizer is not None
            and authorizer.settings.local_pre_authorize
            and authorizer.decide(connector.id_tag, True, intended).decision is Decision.START
        )
        if self.settings.authorize and self.authorization_enabled() and not pre_authorized:
            connector.move(SessionEvent.START_DUE)
            self.sync_reservations(intended, connector)
            self.send_status(connector, intended, preparing=True)
            self.send_authorize(connector, intended)
        else:
            connector.move(SessionEvent.START_DUE)
            connector.move(SessionEvent.AUTHORIZED)
            self.sync_reservations(intended, connector)
            self.send_status(connector, intended, preparing=True)
            self.send_start(connector, intended)

    def start_offline(self, connector: Connector, now: float) -> None:
        """Start a session on local authorization while offline (1.6 3.5.4, 9.1
        LocalAuthorizeOffline; 2.0.1 C13, C15): it charges at once, without an answer; its
        start, samples and stop wait in the transaction queue for the next boot. Its start
        message carries the session (`Outgoing.session`) so its answer can be applied
        whenever it comes (each version's `answered`)."""
        connector.move(SessionEvent.START_DUE)
        connector.move(SessionEvent.AUTHORIZED)
        self.sync_reservations(now, connector)
        self.send_status(connector, now, preparing=True)
        connector.local_id = True  # send_start gives it the session's local transaction id
        self.send_start(connector, now)
        self.start_answered(connector, True, now)

    def token_answered(self, connector: Connector, status: str | None, now: float) -> None:
        """The CSMS's answer on the token of the session charging on `connector` (its start
        message's idTagInfo / idTokenInfo). Not Accepted: StopTransactionOnInvalidId /
        TxCtrlr.StopTxOnInvalidId true stops it, reason DeAuthorized; false stops only the
        energy (1.6 StartTransaction.conf and 9.1; 2.0.1 C15, E05)."""
        if status is None or status == "Accepted":
            return
        if connector.state is not ConnectorState.CHARGING or connector.suspended:
            return
        action, _ = after_answer(status, self.auth_settings())
        if action is InvalidAction.STOP:
            self.stop_session(connector, now, "DeAuthorized")
        elif action is InvalidAction.STOP_ENERGY:
            # 2.0.1 MaxEnergyOnInvalidId (Wh still allowed) is not modelled: stopped at once.
            self._advance_meter(connector, now)
            connector.power_w = connector.ev_power_w = 0.0
            connector.suspended = True
            self.energy_stopped(connector, now)

    def energy_stopped(self, connector: Connector, now: float) -> None:
        """The station stopped the energy of `connector`'s session: tell the CSMS (1.6 its
        status SuspendedEVSE; 2.0.1 a TransactionEvent)."""
        self.send_status(connector, now)

    # -- local authorization -------------------------------------------------------------

    def authorization(self) -> Authorizer:
        """The station's local list, cache and decision, made on first use."""
        authorizer = self.authorizer
        if authorizer is None:
            authorizer = self.authorizer = self.configure_authorizer(Authorizer())
        return authorizer

    def configure_authorizer(self, authorizer: Authorizer) -> Authorizer:
        """Set `authorizer` from this station's configuration as it is now (each version
        says how); called on creation and whenever an authorization key changes."""
        raise NotImplementedError

    def auth_cache_wanted(self) -> bool:
        """The configuration has the authorization cache on (its first entry makes the
        authorizer)."""
        raise NotImplementedError

    def auth_settings(self) -> AuthSettings:
        """The decision's switches as configured now."""
        raise NotImplementedError

    def authorization_enabled(self) -> bool:
        """Whether tokens are authorized at all before a session (2.0.1 AuthCtrlr.Enabled)."""
        return True

    def authorize_remote_start(self) -> bool:
        """Whether a remote start's token is authorized first (1.6
        AuthorizeRemoteTxRequests, 2.0.1 AuthCtrlr.AuthorizeRemoteStart)."""
        return False

    def auth_answered(self, token: str, entry: Entry, now: float) -> None:
        """The CSMS answered for `token` (Authorize, a transaction message): into the cache
        (1.6 3.5.1, 2.0.1 C10), unless the configuration has none."""
        authorizer = self.authorizer
        if authorizer is None:
            if not self.auth_cache_wanted():
                return
            authorizer = self.authorization()
        authorizer.answered(token, entry, now)

    def authorize_answered(self, connector: Connector, accepted: bool, now: float) -> None:
        if connector.state is not ConnectorState.AUTHORIZING:
            return
        if self.stopping or not accepted or self.reset_scheduled is not None:
            # (A reset waiting for idle lets no transaction start: this driver leaves.)
            connector.move(SessionEvent.REFUSED if not accepted else SessionEvent.STOP_DUE)
            connector.reservation_id = None
            self._scheduled_availability(connector)
            self.sync_reservations(now, connector)
            self.send_status(connector, now)
            self._scheduled_done(connector, now)
            self._idle(connector, now)
            return
        connector.move(SessionEvent.AUTHORIZED)
        self.send_start(connector, now)

    def start_answered(self, connector: Connector, accepted: bool, now: float) -> None:
        if not accepted:
            connector.move(SessionEvent.START_FAILED)
            self._scheduled_availability(connector)
            self.sync_reservations(now, connector)
            self.send_status(connector, now)
            self._scheduled_done(connector, now)
            self._idle(connector, now)
            return
        connector.move(SessionEvent.STARTED)
        connector.suspended = False
        self.transactions += 1
        self.observer.session_started(now)
        connector.power_w = connector.ev_power_w = self.settings.power_kw.sample(self.rng) * 1000.0
        connector.metered_at = connector.started_at = now
        if self.smart_charging is not None:
            self.smart_charging.start_transaction(
                connector.id, str(connector.transaction_id), self.wall(now)
            )
            if self.start_profiles:
                profile = self.start_profiles.pop(connector.id, None)
                if profile is not None:
                    self.smart_charging.install_for_transaction(
                        connector.id, profile, self.wall(now)
                    )
            self.apply_limits(now)
        self.send_status(connector, now)
        if self.stopping:
            self.stop_session(connector, now, "Local")
            return
        connector.meter_at = now + self.settings.meter_interval
        connector.stop_at = now + self.settings.length.sample(self.rng)

    def stop_session(self, connector: Connector, intended: float, reason: str) -> None:
        if connector.state is not ConnectorState.CHARGING:
            return
        if self.limit_reactions:  # no sample at the new limit will come
            self.limit_reactions.pop(connector.id, None)
        connector.move(SessionEvent.STOP_DUE)
        connector.meter_at = math.inf
        connector.stop_at = math.inf
        self._advance_meter(connector, intended)
        if self.smart_charging is not None:
            self.smart_charging.end_transaction(connector.id)  # its TxProfiles go with it
            self.apply_limits(intended)
        self.send_stop(connector, intended, reason)

    def stop_answered(self, connector: Connector, now: float, *, acknowledged: bool) -> None:
        """The stop was answered (or given up): the session is over here; only an
        acknowledged stop counts as stopped."""
        if connector.state is not ConnectorState.STOPPING:
            return
        connector.move(SessionEvent.STOPPED)
        if acknowledged:
            self.observer.session_stopped(now)
        self._scheduled_availability(connector)
        self.sync_reservations(now, connector)
        self.send_status(connector, now, finishing=True)
        self.send_status(connector, now)
        self._scheduled_done(connector, now)
        self._idle(connector, now)

    def _idle(self, connector: Connector, now: float) -> None:
        connector.transaction_id = None
        connector.reservation_id = None
        connector.local_id = None
        connector.suspended = False
        connector.held = False
        connector.remote_start_id = None  # a remote start refused by Authorize ends here
        if self.start_profiles:  # a start that never ran: its profile goes
            self.start_profiles.pop(connector.id, None)
        scheduled = self.reset_scheduled
        if scheduled is not None:
            if not any(c.in_session for c in self.connectors):  # the last one ended
                reason, reaction = scheduled
                self.request_reboot(now, reason)
                self.reset_reaction = reaction
            return
        if (
            not self.stopping
            and not self.reboot_requested
            and connector.state is ConnectorState.AVAILABLE  # not made Unavailable
        ):
            connector.wake_at = now + self.settings.idle.sample(self.rng)

    def _advance_meter(self, connector: Connector, now: float) -> None:
        # Power wanders a little around the session's level; energy follows it, always up.
        elapsed = max(0.0, now - connector.metered_at)
        connector.metered_at = now
        power = connector.power_w * self.rng.uniform(0.97, 1.03)
        connector.energy_wh += power * elapsed / 3600.0

    # -- smart charging ----------------------------------------------------------------------

    def new_charging_profiles(self) -> ChargingProfiles:
        """A store configured from this station's configuration (each version says how)."""
        raise NotImplementedError

    def charging_profiles(self) -> ChargingProfiles:
        """The station's charging profiles, made on first use, knowing its running
        transactions (relative profiles start with them; TxProfiles need them)."""
        store = self.smart_charging
        if store is None:
            store = self.smart_charging = self.new_charging_profiles()
            for connector in self.connectors:
                if connector.state is ConnectorState.CHARGING:
                    store.start_transaction(
                        connector.id,
                        str(connector.transaction_id),
                        self.wall(connector.started_at),
                    )
        return store

    def hold_start_profile(self, connector: Connector, profile: Profile) -> None:
        """Keep the TxProfile of a remote start for its transaction (installed when it
        runs: 1.6 5.11, 2.0.1 F01; it carries no transactionId, F01.FR.11)."""
        self.charging_profiles()
        if self.start_profiles is None:
            self.start_profiles = {}
        self.start_profiles[connector.id] = profile

    def apply_limits(self, now: float) -> None:
        """Set every charging session's power to min(the EV's, the limit at `now`), the
        register advanced to `now` at the old power first, and time the next change.

        Sessions on several EVSEs share the station's limit (EVSE 0: the
        ChargingStationMaxProfile / 1.6 ChargePointMaxProfile is for the whole station, 1.6
        3.13.1, 2.0.1 K01): when their sum is above it, it is split evenly, no session
        getting more than it would alone (the smaller ones' leftovers go to the others)."""
        store = self.smart_charging
        if store is None:
            return
        at = self.wall(now)
        changes: list[dt.datetime | None] = []
        charging: list[tuple[Connector, float]] = []
        for connector in self.connectors:
            if connector.state is not ConnectorState.CHARGING or connector.stop_at < now:
                continue
            limit = store.limit_at(connector.id, at)
            # A limit's numberPhases is what the EV may draw on (1.6 3.13.4, 2.0.1 K01).
            connector.phases = EV_PHASES if limit is None else min(EV_PHASES, limit.phases)
            charging.append((connector, _capped(limit, connector.ev_power_w, store.voltage)))
            changes.append(store.next_change_after(connector.id, at))
        if len(charging) > 1:
            grid = store.limit_at(0, at)
            changes.append(store.next_change_after(0, at))
            if grid is not None:
                charging = _share(charging, grid.cap_watts(EV_PHASES, store.voltage) / _UNDER_LIMIT)
        calling = self.calling
        for connector, power in charging:
            if power != connector.power_w:
                self._advance_meter(connector, now)
                connector.power_w = power
                if calling is not None:  # a CSMS's profile did it: its reaction is due
                    if self.limit_reactions is None:
                        self.limit_reactions = {}
                    self.limit_reactions[connector.id] = calling
                if now > connector.started_at:  # not the session's first level
                    self.charging_rate_changed(connector, now)
        soonest = math.inf
        for change in changes:
            if change is not None:
                # On the trio clock, a little after the instant (wall() rounds to microseconds).
                soonest = min(soonest, change.timestamp() - self.settings.wall_offset + 2e-6)
        self.limit_change_at = max(soonest, now + 2e-6)

    def charging_rate_changed(self, connector: Connector, now: float) -> None:
        """A limit changed the power of `connector`'s running session (2.0.1 sends a
        TransactionEvent; 1.6 has nothing for it but the samples)."""

    def _limits_due(self, now: float) -> None:
        """A limit changes at or before `now`: the samples due before the change are taken at
        the old power (several, after an outage), then the power follows the limit."""
        while self.limit_change_at <= now:
            at = self.limit_change_at
            for connector in self.connectors:
                while connector.meter_at < at and connector.meter_at <= connector.stop_at:
                    intended = connector.meter_at
                    connector.meter_at = intended + self.settings.meter_interval
                    self._advance_meter(connector, intended)
                    self.send_meter_values(connector, intended)
            self.apply_limits(at)

    # -- reservations ------------------------------------------------------------------------

    def new_reservation_book(self) -> ReservationBook:
        """A book configured from this station's configuration (each version says how)."""
        raise NotImplementedError

    def reservation_book(self) -> ReservationBook:
        """The station's reservations, made on first use."""
        book = self.reservations
        if book is None:
            book = self.reservations = self.new_reservation_book()
        return book

    def reservation_conditions(self) -> dict[int, Condition]:
        """Each connector as reservations see it."""
        out = {}
        for c in self.connectors:
            state = c.state
            if state is ConnectorState.AVAILABLE:
                out[c.id] = Condition.AVAILABLE
            elif state is ConnectorState.UNAVAILABLE:
                out[c.id] = Condition.UNAVAILABLE
            else:
                out[c.id] = Condition.OCCUPIED
        return out

    def is_reserved(self, connector: Connector) -> bool:
        """The connector shows Reserved (it is Available and a reservation holds it)."""
        book = self.reservations
        return (
            book is not None
            and connector.state is ConnectorState.AVAILABLE
            and connector.id in book.reserved()
        )

    def may_start(self, connector: Connector, id_tag: str) -> bool:
        """May `id_tag` start a session on `connector`? Notes the reservation it would use."""
        connector.reservation_id = None
        book = self.reservations
        if book is None or not len(book):
            return True
        check: Check = book.check(connector.id, id_tag, None, self.reservation_conditions())
        connector.reservation_id = check.reservation_id
        return check.allowed

    def use_reservation(self, connector: Connector, now: float) -> None:
        """The session's start message is produced: its reservation (if any) ends."""
        reservation_id = connector.reservation_id
        book = self.reservations
        if reservation_id is None or book is None:
            return
        effects = book.use(reservation_id, self.reservation_conditions())
        self.reservation_effects(effects, now, skip=connector.id)

    def sync_reservations(self, now: float, own: Connector | None = None) -> None:
        """A connector changed: the book re-derives what shows Reserved (and drops the
        reservations of a connector now Unavailable). `own` sends its status itself."""
        book = self.reservations
        if book is None or (not len(book) and not book.reserved()):
            return
        effects = book.conditions_changed(self.reservation_conditions())
        self.reservation_effects(effects, now, skip=own.id if own is not None else None)

    def reservation_effects(
        self,
        effects: tuple[Effect, ...],
        now: float,
        *,
        skip: int | Collection[int] | None = None,
    ) -> None:
        """Send what the book's effects say (but the statuses of the connectors `skip`
        names: they send their own), and time its next expiry."""
        skipped = (skip,) if isinstance(skip, int) else skip or ()
        for effect in effects:
            if isinstance(effect, StatusChange):
                connector = self.connector(effect.connector_id)
                if connector is not None and effect.connector_id not in skipped:
                    self.send_status(connector, now)
            elif isinstance(effect, ReservationUpdate):
                self.send_reservation_update(effect.reservation_id, effect.status, now)
        book = self.reservations
        expiry = book.next_expiry() if book is not None else None
        self.reservation_expiry_at = math.inf if expiry is None else expiry

    def send_reservation_update(self, reservation_id: int, status: str, now: float) -> None:
        """A 2.0.1 ReservationStatusUpdate (1.6 has none)."""

    def connector(self, connector_id: int) -> Connector | None:
        if 1 <= connector_id <= len(self.connectors):
            return self.connectors[connector_id - 1]
        return None

    def idle_connector(self, id_tag: str | None = None) -> Connector | None:
        """An Available connector (where `id_tag` may start, when given)."""
        return next(
            (
                c
                for c in self.connectors
                if c.state is ConnectorState.AVAILABLE
                and (id_tag is None or self.may_start(c, id_tag))
            ),
            None,
        )

    def remote_start(self, connector: Connector, id_tag: str, now: float) -> None:
        """Start a session the CSMS asked for (`may_start` said yes). With
        AuthorizeRemoteTxRequests / AuthCtrlr.AuthorizeRemoteStart its token is authorized
        first, as a local one (Authorize, or LocalPreAuthorize's list and cache: 1.6 5.11,
        2.0.1 F01/F02)."""
        connector.wake_at = math.inf
        connector.held = False
        connector.id_tag = id_tag
        if self.authorize_remote_start():
            connector.move(SessionEvent.START_DUE)
            self.sync_reservations(now, connector)
            self.send_status(connector, now, preparing=True)
            authorizer = self.authorizer
            if (
                authorizer is not None
                and authorizer.settings.local_pre_authorize
                and authorizer.decide(id_tag, True, now).decision is Decision.START
            ):
                connector.move(SessionEvent.AUTHORIZED)
                self.send_start(connector, now)
            else:
                self.send_authorize(connector, now)
            return
        connector.move(SessionEvent.REMOTE_START)
        self.sync_reservations(now, connector)
        self.send_status(connector, now, preparing=True)
        self.send_start(connector, now)

    def change_availability(
        self, targets: Sequence[Connector], available: bool, now: float, *, station: bool
    ) -> bool:
        """A CSMS's ChangeAvailability (`available`: Operative) for `targets` (`station`: the
        station as a whole, 1.6 connector 0, 2.0.1 no EVSE or EVSE 0); True if done now
        (Accepted), False if Scheduled (1.6 5.2, 2.0.1 G03.FR.05, G04.FR.06).

        Idle connectors change now, in one step: all move, the reservation book derives
        what shows Reserved once, then each changed connector's status goes out (applied one
        at a time, a connector-0 reservation flapped Reserved across them). A connector in
        a session is Operative already: Operative only cancels a change pending there;
        Inoperative is pending until the session ends (`_scheduled_availability`), no new
        session starting on it then. This request replaces any pending on its targets (and,
        station-wide, the station's). The station's own availability (`inoperative`) follows
        once every target has changed, with `station_availability_changed`; the reaction
        (a status) is then the one that completes the change."""
        reaction = self.calling
        if station:
            self.station_pending = None
        scheduled = False
        disabled: list[Connector] = []
        for connector in targets:
            connector.pending_available = None
            connector.pending_reaction = None
            if connector.in_session:
                if not available:
                    connector.pending_available = False
                    connector.pending_reaction = None if station else reaction
                    scheduled = True
            elif available:
                self.set_available(connector, True, now)
            elif connector.state is ConnectorState.AVAILABLE:
                connector.move(SessionEvent.DISABLE)
                connector.wake_at = math.inf
                connector.held = False
                disabled.append(connector)
        if disabled:
            book = self.reservations
            if book is not None and (len(book) or book.reserved()):
                effects = book.conditions_changed(self.reservation_conditions())
                self.reservation_effects(effects, now, skip={c.id for c in disabled})
            for connector in disabled:
                self.send_status(connector, now)
        if (
            not station
            and self.station_pending is not None
            and not any(c.pending_available is not None for c in self.connectors)
        ):
            # This one replaced the last change a station-wide request waited for there: that
            # request is over, the station as a whole unchanged (its connectors are not all
            # as it asked).
            self.station_pending = None
        if scheduled:
            self.reaction_deferred = True
            if station:
                self.station_pending = (available, reaction)
            return False
        if station and self.inoperative == available:
            self.inoperative = not available
            self.station_availability_changed(now, None)
        return True

    def station_availability_changed(self, now: float, reaction: tuple[str, float] | None) -> None:
        """The station as a whole became Operative or Inoperative (`inoperative`): 1.6 reports
        connector 0; 2.0.1's last connector status says it (G04). `reaction`: the request's,
        when its change was scheduled, for the status that shows it done."""
        self._tag_last_status(reaction)

    def _tag_last_status(self, reaction: tuple[str, float] | None) -> None:
        """Give the status just made `reaction` (a scheduled ChangeAvailability's)."""
        if reaction is None or not self.outbox:
            return
        item = self.outbox[-1]
        if item.action == "StatusNotification" and item.reaction is None:
            item.reaction = reaction

    def _scheduled_availability(self, connector: Connector) -> None:
        """A session left `connector` (now Available): the change a ChangeAvailability
        scheduled there is made, before its status goes out (`_scheduled_done` after)."""
        pending = connector.pending_available
        if pending is None:
            return
        connector.pending_available = None
        if not pending and connector.state is ConnectorState.AVAILABLE:
            connector.move(SessionEvent.DISABLE)
            connector.wake_at = math.inf
            connector.held = False

    def _scheduled_done(self, connector: Connector, now: float) -> None:
        """`connector`'s status went out after its session: it carries the reaction of the
        ChangeAvailability scheduled there; a station-wide one done on every connector now
        makes the station's availability (`station_availability_changed`)."""
        reaction, connector.pending_reaction = connector.pending_reaction, None
        self._tag_last_status(reaction)
        pending = self.station_pending
        if pending is None or any(c.pending_available is not None for c in self.connectors):
            return
        self.station_pending = None
        available, station_reaction = pending
        self.inoperative = not available
        self.station_availability_changed(now, station_reaction)

    def set_available(self, connector: Connector, available: bool, now: float) -> bool:
        """Make an idle connector Operative or Inoperative now, its status sent; False if it
        is in a session (nothing done: see `change_availability`)."""
        if connector.in_session:
            return False
        if available and connector.state is ConnectorState.UNAVAILABLE:
            connector.move(SessionEvent.ENABLE)
            self._idle(connector, now)
            self.sync_reservations(now, connector)
            self.send_status(connector, now)
        elif not available and connector.state is ConnectorState.AVAILABLE:
            connector.move(SessionEvent.DISABLE)
            connector.wake_at = math.inf
            connector.held = False
            self.sync_reservations(now, connector)
            self.send_status(connector, now)
        return True

    def request_reboot(self, now: float, reason: str) -> None:
        """Reboot (`reason`: "soft" or "hard" after a Reset, "firmware" after an install):
        stop sessions now, with the stop reason of that reboot (`_STOP_REASONS`); the actor
        reconnects once they are sent. A reset scheduled for idle is done with it."""
        self.reboot_requested = True
        self.reset_scheduled = None
        self.boot_reason = reason
        stop_reason = _STOP_REASONS.get(reason, "Reboot")
        for connector in self.connectors:
            self.stop_session(connector, now, stop_reason)

    def reset_when_idle(self, now: float, reason: str) -> bool:
        """A Reset to be done once no transaction runs (2.0.1 OnIdle, B12): at once if none
        runs (False), else scheduled (True): no new session starts meanwhile, and the reboot
        comes when the last one ends (`_idle`), its reaction time counted from the Reset."""
        if not any(c.in_session for c in self.connectors):
            self.request_reboot(now, reason)
            return False
        self.reset_scheduled = (reason, self.calling)
        for connector in self.connectors:
            if not connector.in_session:
                connector.wake_at = math.inf  # no driver starts a session meanwhile
                connector.held = False
        return True

    # Set by each version: action -> answer_<action> method name.
    answer_methods: ClassVar[dict[str, str]] = {}
    # Set by each version: CSMS action -> the station actions that show it done (`REACTIONS`).
    reactions: ClassVar[dict[str, frozenset[str]]] = {}

    def on_call(self, action: str, request: Any, now: float) -> Payload:
        """Answer a CALL from the CSMS. Raises `CallError` to answer with a CALLERROR.

        A profile's answer override for the action (`StationSettings.answer_overrides`)
        answers instead, when its share is drawn. The message that shows the request done
        (`reactions`) is tagged with the request's action and `now`, for its reaction time."""
        method = self.answer_methods.get(action)
        if method is None:
            raise CallError(ErrorCode.NOT_SUPPORTED, f"{action} is not supported by this station")
        overrides = self.settings.answer_overrides
        if overrides and action in overrides:
            draw = self.rng.random()
            for share, answer in overrides[action]:
                if draw < share:
                    return answer(request)
        handler: Callable[[Any, float], Payload] = getattr(self, method)
        awaited = self.reactions.get(action)
        if awaited is None:
            return handler(request, now)
        queues = (self.requested, self.outbox, self.transaction_queue)
        before = [len(queue) for queue in queues]
        boot = self.boot_pending
        self.calling = (action, now)
        self.reaction_deferred = False
        try:
            response = handler(request, now)
        finally:
            self.calling = None
        if self.reaction_deferred:  # a later message carries it
            self.reaction_deferred = False
            return response
        if action == "Reset" and self.reboot_requested:
            self.reset_reaction = (action, now)
            return response
        made: list[Outgoing] = []
        if self.boot_pending is not boot and self.boot_pending is not None:
            made.append(self.boot_pending)
        for queue, length in zip(queues, before, strict=True):
            if len(queue) > length:
                made.extend(list(queue)[length:])
        for item in made:
            if REACTION_ANY in awaited or item.action in awaited:
                item.reaction = (action, now)
                break
        return response

    def firmware_due(self, now: float) -> None:
        """`firmware_at` has come (the firmware block's timer; `_firmware.py`)."""
        self.firmware_at = math.inf

    # -- what each version fills in ----------------------------------------------------------

    def boot_request(self) -> Payload:
        raise NotImplementedError

    def triggered_boot_request(self) -> Payload:
        """The BootNotification a TriggerMessage asks for (2.0.1 says why: Triggered)."""
        return self.boot_request()

    def heartbeat_request(self) -> Payload:
        raise NotImplementedError

    def answered(self, item: Outgoing, response: Any, error: str | None, now: float) -> None:
        raise NotImplementedError

    def send_status(
        self, connector: Connector, now: float, *, preparing: bool = False, finishing: bool = False
    ) -> None:
        raise NotImplementedError

    def send_authorize(self, connector: Connector, now: float) -> None:
        raise NotImplementedError

    def send_start(self, connector: Connector, now: float) -> None:
        raise NotImplementedError

    def send_meter_values(self, connector: Connector, now: float) -> None:
        raise NotImplementedError

    def send_stop(self, connector: Connector, now: float, reason: str) -> None:
        raise NotImplementedError


def _capped(limit: Limit | None, power: float, voltage: float) -> float:
    """What an EV wanting `power` W takes under `limit` (just under it: see _UNDER_LIMIT)."""
    if limit is not None:
        cap = limit.cap_watts(EV_PHASES, voltage)
        if cap < power * _UNDER_LIMIT:
            return cap / _UNDER_LIMIT
    return power


def _share(sessions: list[tuple[Connector, float]], total: float) -> list[tuple[Connector, float]]:
    """Split `total` W among sessions wanting the given powers: evenly, none above what it
    wants, what the smaller ones leave going to the others."""
    if sum(want for _, want in sessions) <= total:
        return sessions
    out: dict[int, float] = {}
    left, n = total, len(sessions)
    for connector, want in sorted(sessions, key=lambda s: s[1]):
        got = min(want, left / n)
        out[connector.id] = got
        left -= got
        n -= 1
    return [(connector, out[connector.id]) for connector, _ in sessions]


def answer_methods(cls: type, actions: Sequence[str]) -> dict[str, str]:
    """Action -> name of the ``answer_<action>`` method `cls` has for it (built once per class)."""
    import re

    methods = {}
    for action in actions:
        snake = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", action)
        snake = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", snake).lower()
        if hasattr(cls, "answer_" + snake):
            methods[action] = "answer_" + snake
    return methods
