"""Reservations, sans-IO, on virtual time: ReserveNow's answers, Reserved on and off, expiry,
cancel, use, the reserved token's exclusivity, and 2.0.1 ReservationStatusUpdate."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.ocpp import v16, v201
from fleet.station._reservations import (
    Check,
    Condition,
    ReservationBook,
    ReservationUpdate,
    ReserveRequest,
    StatusChange,
    request_from_v16,
    request_from_v201,
    to_clock,
)

A, OCC, F, U = Condition.AVAILABLE, Condition.OCCUPIED, Condition.FAULTED, Condition.UNAVAILABLE


def free(n: int = 2) -> dict[int, Condition]:
    return dict.fromkeys(range(1, n + 1), A)


def req(rid: int = 1, connector: int = 1, token: str = "TAG", expiry: float = 100.0, **kw):
    return ReserveRequest(rid, connector, token, expiry, **kw)


def test_accepted_reserves_the_connector_and_expiry_frees_it() -> None:
    book = ReservationBook()
    out = book.reserve(req(expiry=100.0), free(), now=0.0)
    assert out == ("Accepted", (StatusChange(1, True),))
    assert book.reserved() == {1}
    assert book.next_expiry() == 100.0
    assert book.expire(99.9, free()) == ()
    assert book.expire(100.0, free()) == (StatusChange(1, False),)
    assert len(book) == 0 and book.next_expiry() is None


def test_v201_expiry_sends_expired() -> None:
    book = ReservationBook(status_updates=True)
    book.reserve(req(rid=7), free(), 0.0)
    assert book.expire(100.0, free()) == (StatusChange(1, False), ReservationUpdate(7, "Expired"))


def test_refusals_follow_the_connector() -> None:
    book = ReservationBook()
    assert book.reserve(req(), {1: F}, 0.0).status == "Faulted"
    assert book.reserve(req(), {1: U}, 0.0).status == "Unavailable"
    assert book.reserve(req(), {1: OCC}, 0.0).status == "Occupied"
    assert book.reserve(req(connector=9), free(), 0.0).status == "Rejected"  # no such connector
    assert book.reserve(req(expiry=0.0), free(), 0.0).status == "Rejected"  # already expired
    assert ReservationBook(enabled=False).reserve(req(), free(), 0.0).status == "Rejected"
    assert len(book) == 0


def test_reserved_by_another_reservation_is_occupied() -> None:
    book = ReservationBook()
    book.reserve(req(rid=1), free(), 0.0)
    assert book.reserve(req(rid=2, token="OTHER"), free(), 0.0).status == "Occupied"
    assert book.reserve(req(rid=3), free(), 0.0).status == "Occupied"  # same idTag: 1.6 too


def test_same_id_replaces_and_a_refused_replacement_keeps_the_old() -> None:
    book = ReservationBook()
    book.reserve(req(rid=1, connector=1), free(), 0.0)
    out = book.reserve(req(rid=1, connector=2, expiry=50.0), free(), 0.0)
    assert out == ("Accepted", (StatusChange(1, False), StatusChange(2, True)))
    assert book.next_expiry() == 50.0
    # replaced on the same connector: still Accepted (the old one does not block it)
    assert book.reserve(req(rid=1, connector=2, expiry=60.0), free(), 0.0) == ("Accepted", ())
    assert book.reserve(req(rid=1, connector=1), {1: F, 2: A}, 0.0).status == "Faulted"
    assert book.reserved() == {2} and book.next_expiry() == 60.0


def test_cancel() -> None:
    book = ReservationBook(status_updates=True)
    book.reserve(req(rid=4), free(), 0.0)
    assert book.cancel(5, free()) == ("Rejected", ())
    assert book.cancel(4, free()) == ("Accepted", (StatusChange(1, False),))  # no update sent
    assert book.cancel(4, free()).status == "Rejected"


def test_only_the_reserved_token_or_its_parent_starts_there() -> None:
    book = ReservationBook()
    book.reserve(req(rid=3, token="Tag-A", parent="GROUP"), free(), 0.0)
    assert book.check(1, "tag-a", None, free()) == Check(True, 3)  # case-insensitive
    assert book.check(1, "TAG-B", "group", free()) == Check(True, 3)  # same parent
    assert book.check(1, "GROUP", None, free()) == Check(True, 3)  # the parent itself
    assert book.check(1, "TAG-B", None, free()) == Check(False, None)
    assert book.check(2, "TAG-B", None, free()) == Check(True, None)  # elsewhere: free
    assert book.check(2, "TAG-A", None, free()) == Check(True, None)  # does not use it


def test_use_ends_the_reservation() -> None:
    book = ReservationBook(status_updates=True)
    book.reserve(req(rid=3), free(), 0.0)
    # the session's connector is Occupied: its own status change replaces Reserved
    assert book.use(3, {1: OCC, 2: A}) == ()
    assert len(book) == 0 and book.reserved() == frozenset()
    assert book.use(3, free()) == ()
    loud = ReservationBook(status_updates=True, removed_on_use=True)
    loud.reserve(req(rid=3), free(), 0.0)
    assert loud.use(3, {1: OCC, 2: A}) == (ReservationUpdate(3, "Removed"),)


def test_connector_faulted_or_unavailable_removes_the_reservation() -> None:
    book = ReservationBook(status_updates=True)
    book.reserve(req(rid=1, connector=1), free(), 0.0)
    book.reserve(req(rid=2, connector=2), free(), 0.0)
    assert book.conditions_changed({1: U, 2: A}) == (ReservationUpdate(1, "Removed"),)
    assert book.conditions_changed({1: U, 2: F}) == (ReservationUpdate(2, "Removed"),)
    assert len(book) == 0
    v16_book = ReservationBook()
    v16_book.reserve(req(rid=1), free(), 0.0)
    assert v16_book.conditions_changed({1: F, 2: A}) == ()  # 1.6: no message, connector Faulted


def test_connector_zero_needs_support() -> None:
    assert ReservationBook().reserve(req(connector=0), free(), 0.0).status == "Rejected"


def test_connector_zero_keeps_one_connector_free() -> None:
    book = ReservationBook(any_connector=True)
    # two free connectors, one reservation for any: nothing shows Reserved
    assert book.reserve(req(rid=1, connector=0, token="A"), free(), 0.0) == ("Accepted", ())
    assert book.check(1, "B", None, free()) == Check(True, None)
    assert book.check(2, "a", None, free()) == Check(True, 1)
    # a second one uses up both: both show Reserved, others are refused
    out = book.reserve(req(rid=2, connector=0, token="B"), free(), 0.0)
    assert out == ("Accepted", (StatusChange(1, True), StatusChange(2, True)))
    assert book.check(1, "C", None, free()) == Check(False, None)
    assert book.reserve(req(rid=3, connector=0, token="C"), free(), 0.0).status == "Occupied"
    # one connector goes away (the OCTT's TC_049 case): the other still shows Reserved
    book2 = ReservationBook(any_connector=True)
    out = book2.reserve(req(rid=1, connector=0), {1: A, 2: U}, 0.0)
    assert out == ("Accepted", (StatusChange(1, True),))
    # B's session starts on connector 2: A's reservation still needs connector 1
    assert book.use(2, {1: A, 2: OCC}) == ()
    assert book.reserved() == {1}
    # it ends: two free connectors for one reservation, nothing shows Reserved
    assert book.conditions_changed(free()) == (StatusChange(1, False),)


def test_a_connector_held_for_any_cannot_be_reserved_specifically() -> None:
    book = ReservationBook(any_connector=True)
    book.reserve(req(rid=1, connector=0, token="A"), free(), 0.0)
    assert book.reserve(req(rid=2, connector=1, token="B"), free(), 0.0).status == "Accepted"
    # connector 2 is now the only one left for reservation 1
    assert book.reserve(req(rid=3, connector=2, token="C"), free(), 0.0).status == "Occupied"
    assert book.reserved() == {1, 2}


def test_connector_zero_refusals() -> None:
    book = ReservationBook(any_connector=True)
    assert book.reserve(req(connector=0), {1: F, 2: F}, 0.0).status == "Faulted"
    assert book.reserve(req(connector=0), {1: U, 2: F}, 0.0).status == "Unavailable"
    assert book.reserve(req(connector=0), {1: OCC, 2: F}, 0.0).status == "Occupied"


def test_connector_type() -> None:
    book = ReservationBook(any_connector=True, connector_types={1: "cType2", 2: "cCCS2"})
    out = book.reserve(req(rid=1, connector=0, connector_type="cCCS2"), free(), 0.0)
    assert out == ("Accepted", (StatusChange(2, True),))
    assert book.check(2, "X", None, free()) == Check(False, None)
    assert book.check(1, "X", None, free()) == Check(True, None)
    assert book.reserve(req(rid=2, connector=0, connector_type="sType3"), free(), 0.0).status == (
        "Rejected"
    )


def test_converters() -> None:
    wall_offset = 1_000_000.0
    expiry = dt.datetime.fromtimestamp(wall_offset + 300.0, dt.UTC)
    r16 = v16.ReserveNowRequest(
        connector_id=0, expiry_date=expiry, id_tag="T", reservation_id=5, parent_id_tag="P"
    )
    assert request_from_v16(r16, wall_offset) == ReserveRequest(5, 0, "T", 300.0, "P")
    r201 = v201.ReserveNowRequest(
        id=6,
        expiry_date_time=expiry,
        id_token=v201.IdToken(id_token="T", type=v201.IdTokenEnum.ISO14443),
        group_id_token=v201.IdToken(id_token="G", type=v201.IdTokenEnum.CENTRAL),
        evse_id=2,
    )
    assert request_from_v201(r201, wall_offset) == ReserveRequest(6, 2, "T", 300.0, "G")
    bare = v201.ReserveNowRequest(
        id=6, expiry_date_time=expiry, id_token=v201.IdToken(id_token="T", type="Central")
    )
    assert request_from_v201(bare, wall_offset).connector_id == 0
    assert to_clock(dt.datetime(1970, 1, 1, 0, 0, 10), 4.0) == 6.0  # naive taken as UTC


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["reserve", "cancel", "expire", "change"]),
            st.integers(1, 4),  # reservation id
            st.integers(0, 3),  # connector
            st.lists(st.sampled_from(list(Condition)), min_size=3, max_size=3),
            st.floats(0, 100),
        ),
        max_size=30,
    )
)
def test_reserved_shown_is_always_what_the_reservations_imply(ops) -> None:
    """Whatever happens, the Reserved set the effects describe is the one derived, only free
    connectors show it, and every expiry is in the future of what was expired."""
    book = ReservationBook(any_connector=True, status_updates=True)
    shown: set[int] = set()
    now = 0.0
    conditions = free(3)
    for op, rid, connector, states, dt_ in ops:
        now += dt_
        if op == "reserve":
            effects = book.reserve(req(rid, connector, expiry=now + 50), conditions, now).effects
        elif op == "cancel":
            effects = book.cancel(rid, conditions).effects
        elif op == "expire":
            effects = book.expire(now, conditions)
            assert (book.next_expiry() or now + 1) > now
        else:
            conditions = dict(zip((1, 2, 3), states, strict=True))
            effects = book.conditions_changed(conditions)
        for e in effects:
            if isinstance(e, StatusChange):
                (shown.add if e.reserved else shown.discard)(e.connector_id)
        # connectors that left Available drop Reserved by their own status
        shown &= {c for c, s in conditions.items() if s is A}
        assert book.reserved() <= {c for c, s in conditions.items() if s is A}
        assert shown == set(book.reserved())
        if op == "reserve":
            # accepted or not, reservations for any connector never outnumber the free
            # connectors no specific reservation holds, as long as nothing broke down since
            held = {r.connector_id for r in book._reservations.values() if r.connector_id}
            anys = sum(1 for r in book._reservations.values() if r.connector_id == 0)
            unheld = [c for c, s in conditions.items() if s is A and c not in held]
            if all(s is A for s in conditions.values()):
                assert anys <= len(unheld)
