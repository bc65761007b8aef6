"""Reservations of one station, both OCPP versions, sans-IO (1.6 section 5.13 and 6.37;
2.0.1 functional block H, use cases H01-H04).

A `ReservationBook` holds the station's reservations and answers ReserveNow and
CancelReservation. It never sends: each call returns its status and the *effects* the station
machine then turns into messages:

- `StatusChange(connector_id, reserved)`: the connector now shows Reserved (True) or is back to
  what its own state says (False; Available unless something else changed it meanwhile).
- `ReservationUpdate(reservation_id, "Expired" | "Removed")`: a 2.0.1 ReservationStatusUpdate
  (only when the book was made with `status_updates=True`).

What the book knows of the connectors comes in on every call as a mapping connector id ->
`Condition` (Available, Occupied, Faulted, Unavailable), so it never drifts from the machine's
own connector states. Time is the station's clock (plain float seconds, as the machines use);
`to_clock` turns an OCPP date-time into it with the station's wall offset.

Rules (1.6 quotes are from section 5.13 "Reserve Now"; 2.0.1 from H01-H04):

- Reservations off (1.6: no Reservation feature profile; 2.0.1 ReservationCtrlr.Enabled false)
  -> Rejected. A reservation for connector 0 / without evseId when not supported (1.6
  ReserveConnectorZeroSupported, 2.0.1 ReservationCtrlr.NonEvseSpecific) -> Rejected.
- A reservation id the book already holds is replaced by the new request (1.6: "the Charge
  Point SHALL replace the reservation"; 2.0.1 H01.FR.02). The old one is judged as absent; if
  the new one is refused the old one stays.
- A given connector: Faulted -> Faulted, Unavailable -> Unavailable, in a session or reserved by
  another reservation -> Occupied (1.6: "also Occupied when the ... connector has been reserved
  for the same or another idTag"); also Occupied when reservations for any connector need it
  (it shows Reserved for them: taking it would break their guarantee); else Accepted and the
  connector shows Reserved.
- Any connector (1.6 connector 0, 2.0.1 no evseId, optionally of a connectorType): Accepted if
  one connector (of that type) stays free for every such reservation (1.6: "one connector
  remains available for the reserved idTag", 2.0.1 H01.FR.07); while the reservations of a
  kind use up every free connector of it, all those connectors show Reserved (2.0.1 H01.FR.11;
  the OCTT's TC_049 for 1.6 expects the same). Else Occupied if any is in a session or
  reserved, Faulted if all are Faulted, Unavailable otherwise.
- Only the reserved token, or one whose parent / group id matches the reservation's parent /
  group id, may start on a reserved connector; every other token is refused there (1.6: "it
  SHALL refuse charging for all incoming idTags on the reserved connector, except when the
  incoming idTag or the parent idTag match the idTag or parent idTag of the reservation";
  2.0.1 H03.FR.03-05). Tokens compare case-insensitively (1.6 CiString20, 2.0.1 IdToken).
- A reservation ends when used (`use`), at its expiry (`expire`; 2.0.1 H04.FR.01-02 sends
  Expired), when cancelled (Accepted; an unknown id is Rejected, 1.6 section 5.2, 2.0.1
  H02.FR.01-02), and when its connector becomes Faulted or Unavailable (1.6 condition (3);
  2.0.1 sends Removed then). Used and cancelled reservations send no ReservationStatusUpdate:
  the CSMS knows (the transaction carries the reservationId, 1.6 StartTransaction and 2.0.1
  TransactionEvent; the CSMS asked for the cancel). `removed_on_use=True` sends Removed on use
  too, for CSMSs that want it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import msgspec

__all__ = [
    "CancelOutcome",
    "Check",
    "Condition",
    "Effect",
    "ReservationBook",
    "ReservationUpdate",
    "ReserveOutcome",
    "ReserveRequest",
    "StatusChange",
    "request_from_v16",
    "request_from_v201",
    "to_clock",
]


class Condition(enum.Enum):
    """What a connector is, as far as reservations care."""

    AVAILABLE = "Available"
    OCCUPIED = "Occupied"  # in a session, or preparing / finishing one
    FAULTED = "Faulted"
    UNAVAILABLE = "Unavailable"


class StatusChange(NamedTuple):
    connector_id: int
    reserved: bool


class ReservationUpdate(NamedTuple):
    """A 2.0.1 ReservationStatusUpdate to send."""

    reservation_id: int
    status: str  # "Expired" or "Removed"


Effect = StatusChange | ReservationUpdate


class ReserveRequest(NamedTuple):
    """A ReserveNow of either version, version-neutral.

    connector_id: the connector (1.6) or EVSE (2.0.1) to reserve; 0 for any.
    parent: 1.6 parentIdTag, 2.0.1 groupIdToken's idToken.
    connector_type: 2.0.1 connectorType (any connector of that type).
    expiry: on the station clock (see `to_clock`).
    """

    reservation_id: int
    connector_id: int
    id_token: str
    expiry: float
    parent: str | None = None
    connector_type: str | None = None


class ReserveOutcome(NamedTuple):
    status: str  # Accepted / Faulted / Occupied / Rejected / Unavailable
    effects: tuple[Effect, ...]


class CancelOutcome(NamedTuple):
    status: str  # Accepted / Rejected
    effects: tuple[Effect, ...]


class Check(NamedTuple):
    """May this token start on this connector?"""

    allowed: bool
    reservation_id: int | None  # the reservation it would use, if any


def _fold(token: str | None) -> str | None:
    return None if token is None else token.casefold()


def to_clock(when: dt.datetime, wall_offset: float) -> float:
    """An OCPP date-time on the station clock, whose wall time is clock + `wall_offset`."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp() - wall_offset


def request_from_v16(request: Any, wall_offset: float) -> ReserveRequest:
    """A 1.6 ReserveNowRequest."""
    parent = request.parent_id_tag
    return ReserveRequest(
        reservation_id=request.reservation_id,
        connector_id=request.connector_id,
        id_token=request.id_tag,
        expiry=to_clock(request.expiry_date, wall_offset),
        parent=None if parent is msgspec.UNSET else parent,
    )


def request_from_v201(request: Any, wall_offset: float) -> ReserveRequest:
    """A 2.0.1 ReserveNowRequest (evseId absent -> 0, any EVSE)."""
    group = request.group_id_token
    evse = request.evse_id
    connector_type = request.connector_type
    return ReserveRequest(
        reservation_id=request.id,
        connector_id=0 if evse is msgspec.UNSET else evse,
        id_token=request.id_token.id_token,
        expiry=to_clock(request.expiry_date_time, wall_offset),
        parent=None if group is msgspec.UNSET else group.id_token,
        connector_type=None if connector_type is msgspec.UNSET else str(connector_type),
    )


class _Reservation(NamedTuple):
    id: int
    connector_id: int  # 0: any
    token: str  # casefolded
    parent: str | None  # casefolded
    expiry: float
    connector_type: str | None


class ReservationBook:
    """One station's reservations.

    Args:
        enabled: the station takes reservations at all.
        any_connector: reservations for connector 0 / without evseId are supported.
        status_updates: emit 2.0.1 ReservationStatusUpdate effects.
        connector_types: connector id -> its connector type (2.0.1 connectorType); connectors
            not named have none, and only match reservations without a type.
        removed_on_use: also emit Removed when a reservation is used (see the module doc).
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        any_connector: bool = False,
        status_updates: bool = False,
        connector_types: Mapping[int, str] | None = None,
        removed_on_use: bool = False,
    ) -> None:
        self.enabled = enabled
        self.any_connector = any_connector
        self.status_updates = status_updates
        self.connector_types = dict(connector_types or {})
        self.removed_on_use = removed_on_use
        self._reservations: dict[int, _Reservation] = {}
        self._shown: frozenset[int] = frozenset()  # connectors last reported Reserved

    # -- queries -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._reservations)

    def __contains__(self, reservation_id: object) -> bool:
        return reservation_id in self._reservations

    def next_expiry(self) -> float | None:
        """When the next reservation expires (station clock), or None: the actor sleeps until
        then and calls `expire`."""
        return min((r.expiry for r in self._reservations.values()), default=None)

    def reserved(self) -> frozenset[int]:
        """The connectors currently shown as Reserved."""
        return self._shown

    def reserved_connectors(self, conditions: Mapping[int, Condition]) -> frozenset[int]:
        """The connectors that show Reserved under these conditions."""
        return self._derive(self._reservations.values(), conditions)

    def check(
        self, connector_id: int, token: str, parent: str | None, conditions: Mapping[int, Condition]
    ) -> Check:
        """May `token` (whose parent / group id is `parent`, as the list, cache or Authorize
        said) start a session on `connector_id`? Pure: nothing changes until `use`."""
        token_f, parent_f = _fold(token), _fold(parent)

        def matches(r: _Reservation) -> bool:
            return r.token == token_f or (
                r.parent is not None and (r.parent == parent_f or r.parent == token_f)
            )

        reservations = list(self._reservations.values())
        for r in reservations:
            if r.connector_id == connector_id:
                return Check(matches(r), r.id if matches(r) else None)
        ctype = self.connector_types.get(connector_id)
        for r in reservations:
            if r.connector_id == 0 and r.connector_type in (None, ctype) and matches(r):
                return Check(True, r.id)
        if connector_id in self._derive(reservations, conditions):
            return Check(False, None)  # every free connector is held for someone else
        return Check(True, None)

    # -- changes -------------------------------------------------------------------------------

    def reserve(
        self, request: ReserveRequest, conditions: Mapping[int, Condition], now: float
    ) -> ReserveOutcome:
        """Answer a ReserveNow: its status, and the status changes it implies."""
        status = self._judge(request, conditions, now)
        if status != "Accepted":
            return ReserveOutcome(status, ())
        self._reservations[request.reservation_id] = _Reservation(
            request.reservation_id,
            request.connector_id,
            request.id_token.casefold(),
            _fold(request.parent),
            request.expiry,
            request.connector_type,
        )
        return ReserveOutcome(status, self._sync(conditions))

    def cancel(self, reservation_id: int, conditions: Mapping[int, Condition]) -> CancelOutcome:
        """Answer a CancelReservation."""
        if self._reservations.pop(reservation_id, None) is None:
            return CancelOutcome("Rejected", ())
        return CancelOutcome("Accepted", self._sync(conditions))

    def use(self, reservation_id: int, conditions: Mapping[int, Condition]) -> tuple[Effect, ...]:
        """A session started with the reservation `check` gave: it ends. Call it when the
        transaction starts (1.6: a StartTransaction with this reservationId; 2.0.1 H03.FR.09
        consumes it when the token is presented: call it then), with the conditions as they
        now are (the connector Occupied)."""
        if self._reservations.pop(reservation_id, None) is None:
            return ()
        effects = self._sync(conditions)
        if self.status_updates and self.removed_on_use:
            effects += (ReservationUpdate(reservation_id, "Removed"),)
        return effects

    def expire(self, now: float, conditions: Mapping[int, Condition]) -> tuple[Effect, ...]:
        """End every reservation whose expiry has come."""
        gone = sorted(r.id for r in self._reservations.values() if r.expiry <= now)
        return self._drop(gone, "Expired", conditions)

    def conditions_changed(self, conditions: Mapping[int, Condition]) -> tuple[Effect, ...]:
        """The machine changed a connector (a session started or ended, ChangeAvailability,
        a fault): reservations on a connector now Faulted or Unavailable end (2.0.1: Removed),
        and which connectors show Reserved is derived again."""
        gone = sorted(
            r.id
            for r in self._reservations.values()
            if r.connector_id
            and conditions.get(r.connector_id) in (Condition.FAULTED, Condition.UNAVAILABLE)
        )
        return self._drop(gone, "Removed", conditions)

    def clear(self, conditions: Mapping[int, Condition]) -> tuple[Effect, ...]:
        """Forget every reservation (a reboot: reservations are not kept, a choice)."""
        self._reservations.clear()
        return self._sync(conditions)

    # -- inside --------------------------------------------------------------------------------

    def _drop(
        self, ids: Iterable[int], why: str, conditions: Mapping[int, Condition]
    ) -> tuple[Effect, ...]:
        ids = list(ids)
        for reservation_id in ids:
            del self._reservations[reservation_id]
        effects = self._sync(conditions)
        if self.status_updates:
            effects += tuple(ReservationUpdate(i, why) for i in ids)
        return effects

    def _judge(
        self, request: ReserveRequest, conditions: Mapping[int, Condition], now: float
    ) -> str:
        if not self.enabled or request.expiry <= now:
            return "Rejected"
        others = [r for r in self._reservations.values() if r.id != request.reservation_id]
        if request.connector_id == 0:
            if not self.any_connector:
                return "Rejected"
            kind = [
                c
                for c in conditions
                if request.connector_type is None
                or self.connector_types.get(c) == request.connector_type
            ]
            if not kind:
                return "Rejected"  # no connector of that type here
            held = {r.connector_id for r in others if r.connector_id}
            free = [c for c in kind if conditions[c] is Condition.AVAILABLE and c not in held]
            claims = sum(
                1
                for r in others
                if r.connector_id == 0
                and (
                    request.connector_type is None
                    or r.connector_type in (None, request.connector_type)
                )
            )
            if len(free) > claims:
                return "Accepted"
            states = [conditions[c] for c in kind]
            if Condition.OCCUPIED in states or free or any(c in held for c in kind):
                return "Occupied"
            if all(s is Condition.FAULTED for s in states):
                return "Faulted"
            return "Unavailable"
        condition = conditions.get(request.connector_id)
        if condition is None:
            return "Rejected"  # no such connector
        if condition is Condition.FAULTED:
            return "Faulted"
        if condition is Condition.UNAVAILABLE:
            return "Unavailable"
        if condition is Condition.OCCUPIED or request.connector_id in self._derive(
            others, conditions
        ):
            return "Occupied"  # in a session, reserved, or held for reservations of any
        return "Accepted"

    def _derive(
        self, reservations: Iterable[_Reservation], conditions: Mapping[int, Condition]
    ) -> frozenset[int]:
        reservations = list(reservations)
        shown = {
            r.connector_id
            for r in reservations
            if r.connector_id and conditions.get(r.connector_id) is Condition.AVAILABLE
        }
        # Reservations for any connector, by type: while they need every free connector of
        # their kind, all of those show Reserved.
        by_type: dict[str | None, int] = {}
        for r in reservations:
            if r.connector_id == 0:
                by_type[r.connector_type] = by_type.get(r.connector_type, 0) + 1
        untyped = by_type.pop(None, 0)
        for ctype, count in by_type.items():
            free = [
                c
                for c, s in conditions.items()
                if s is Condition.AVAILABLE
                and c not in shown
                and self.connector_types.get(c) == ctype
            ]
            if count >= len(free):
                shown.update(free)
        if untyped:
            free = [c for c, s in conditions.items() if s is Condition.AVAILABLE and c not in shown]
            if untyped >= len(free):
                shown.update(free)
        return frozenset(shown)

    def _sync(self, conditions: Mapping[int, Condition]) -> tuple[Effect, ...]:
        shown = self._derive(self._reservations.values(), conditions)
        before, self._shown = self._shown, shown
        # A connector no longer Available left Reserved by its own status change: no effect.
        changes = [StatusChange(c, True) for c in sorted(shown - before)]
        changes += [
            StatusChange(c, False)
            for c in sorted(before - shown)
            if conditions.get(c) is Condition.AVAILABLE
        ]
        return tuple(sorted(changes))
