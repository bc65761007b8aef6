"""Campaigns: CSMS-initiated actions the embedded CSMS sends to its stations on a schedule, for
profiles (``[[embedded.campaigns]]``): at a time, to a share of the connected stations or all,
at a pace, once or repeatedly.

Each call goes through the generic API (``session.generic.call``): written once in OCPP 2.0.1
terms, it reaches 1.6 and 2.0.1 stations alike. What came back is counted per campaign: the
answers by their ``status``, CALLERRORs by code, timeouts, and the answer times.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import msgspec
import trio

from fleet.csms._server import EmbeddedCsms
from fleet.generic import NotExpressible
from fleet.ocpp import CallError, LocalProtocolError, OcppError
from fleet.toolkit import CallTimeout, ConnectionLost

__all__ = ["CampaignRecord", "ScheduledCampaign", "run_campaigns"]

_VERSIONS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1"}
# Latency figures reported, as (name, percentile).
_PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0))


class ScheduledCampaign(Protocol):
    """One campaign of a schedule (a profile's `CampaignSection` is one)."""

    @property
    def at(self) -> float: ...  # seconds after the schedule's start
    @property
    def every(self) -> float | None: ...  # then again every so often; None: once
    @property
    def action(self) -> str: ...  # the OCPP 2.0.1 action
    @property
    def payload(self) -> Mapping[str, Any]: ...  # its request, 2.0.1 wire form
    @property
    def share(self) -> float | None: ...  # of the connected stations; None: all
    @property
    def rate(self) -> float | None: ...  # calls per second; None: all at once


class CampaignRecord:
    """What one campaign's calls came to, over all its rounds.

    Attributes:
        name: "campaign-N" (N from 1, the schedule's order).
        action: the 2.0.1 action sent.
        rounds: how many times it started.
        sent: calls sent (one per chosen station and round).
        sent_by_version: of those, by the station's OCPP version ("1.6", "2.0.1").
        statuses: answers by their ``status`` field ("Accepted", "Rejected",
            "NotSupported"...; "Answered" for a response without one, as the stations' side
            counts it).
        errors: CALLERROR answers by error code.
        timeouts: calls not answered within the CSMS's call timeout.
        lost: calls cut short by the connection closing.
        not_expressible: calls the station's version could not carry (nothing sent).
        invalid: calls whose payload, placeholders filled, was no valid request (a
            ``{station}`` too long for its field, say; nothing sent).
        not_sent: stations chosen for a round but never sent to, because the run ended
            first (a paced round cut short).
        unanswered: calls sent but neither answered nor given up when the run ended.
        answer_times: seconds from each call to its answer (CALLRESULT or CALLERROR).
    """

    def __init__(self, name: str, action: str) -> None:
        self.name = name
        self.action = action
        self.rounds = 0
        self.sent = 0
        self.sent_by_version: collections.Counter[str] = collections.Counter()
        self.statuses: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.timeouts = 0
        self.lost = 0
        self.not_expressible = 0
        self.invalid = 0
        self.not_sent = 0
        self.unanswered = 0
        self.answer_times: list[float] = []

    @property
    def answered(self) -> int:
        """Calls answered, with a CALLRESULT or a CALLERROR."""
        return sum(self.statuses.values()) + sum(self.errors.values())

    def percentile(self, percentile: float) -> float:
        """An answer time (seconds) at `percentile` (nearest rank); 0 with no answers."""
        times = sorted(self.answer_times)
        if not times:
            return 0.0
        rank = max(-(-len(times) * percentile // 100) - 1, 0)
        return times[int(rank)]

    def summary(self) -> str:
        """One line: ``campaign-1 SetChargingProfile: 6 sent in 1 round; Accepted 3, ...``."""
        versions = ", ".join(f"{v} {n}" for v, n in sorted(self.sent_by_version.items()))
        parts = [
            f"{self.name} {self.action}: {self.sent} sent in {self.rounds} round(s)"
            + (f" ({versions})" if versions else "")
        ]
        answers = [f"{status} {count}" for status, count in sorted(self.statuses.items())]
        answers += [f"CALLERROR {code} {count}" for code, count in sorted(self.errors.items())]
        if answers:
            parts.append("answers: " + ", ".join(answers))
        for label, count in (
            ("timeouts", self.timeouts),
            ("lost", self.lost),
            ("not expressible", self.not_expressible),
            ("invalid", self.invalid),
        ):
            if count:
                parts.append(f"{label} {count}")
        for label, count in (("not sent", self.not_sent), ("unanswered", self.unanswered)):
            if count:
                parts.append(f"{count} {label}: the run ended")
        if self.answer_times:
            times = ", ".join(
                f"{name} {self.percentile(p) * 1000:.1f} ms" for name, p in _PERCENTILES
            )
            parts.append(f"answer time {times}")
        return "; ".join(parts)


async def run_campaigns(
    csms: EmbeddedCsms,
    campaigns: Sequence[ScheduledCampaign],
    records: list[CampaignRecord],
    *,
    start: float | None = None,
    seed: int | None = None,
    payload_for: Callable[[Mapping[str, Any], str], Any] | None = None,
) -> None:
    """Run `campaigns` on `csms`, timed from `start` (trio clock; default now), until
    cancelled or every campaign is done; one `CampaignRecord` per campaign is appended to
    `records` at once (the caller reads them as they fill). `payload_for(payload, station
    id)` makes each station's payload (placeholders); by default the payload as it is.
    Stations are chosen with a `random.Random(seed)` of the campaigns' own.

    Cancellation: safe at any point; calls in flight are given up, counted as `unanswered`,
    and the stations a paced round had yet to reach as `not_sent`.
    """
    if start is None:
        start = trio.current_time()
    rng = random.Random(seed)
    mine = [CampaignRecord(f"campaign-{n}", each.action) for n, each in enumerate(campaigns, 1)]
    records.extend(mine)
    async with trio.open_nursery() as nursery:
        for campaign, record in zip(campaigns, mine, strict=True):
            nursery.start_soon(_repeat, csms, campaign, record, start, rng, payload_for)


async def _repeat(
    csms: EmbeddedCsms,
    campaign: ScheduledCampaign,
    record: CampaignRecord,
    start: float,
    rng: random.Random,
    payload_for: Callable[[Mapping[str, Any], str], Any] | None,
) -> None:
    due = start + campaign.at
    async with trio.open_nursery() as calls:
        while True:
            await trio.sleep_until(due)
            record.rounds += 1
            chosen = sorted(csms.stations)
            if campaign.share is not None:
                chosen = sorted(rng.sample(chosen, round(len(chosen) * campaign.share)))
            began = trio.current_time()
            left = len(chosen)  # not yet sent to (or found gone)
            for i, station_id in enumerate(chosen):
                if campaign.rate is not None:
                    try:
                        await trio.sleep_until(began + i / campaign.rate)
                    except trio.Cancelled:  # the run ended before their turn
                        record.not_sent += left
                        raise
                left -= 1
                session = csms.stations.get(station_id)
                if session is None:  # gone since the choice
                    continue
                payload = (
                    payload_for(campaign.payload, station_id)
                    if payload_for is not None
                    else dict(campaign.payload)
                )
                record.sent += 1
                record.sent_by_version[_VERSIONS[session.version]] += 1
                calls.start_soon(_send, session, campaign.action, payload, record)
            if campaign.every is None:
                return
            due += campaign.every


async def _send(session: Any, action: str, payload: Any, record: CampaignRecord) -> None:
    sent_at = trio.current_time()
    try:
        answer = await session.generic.call(action, payload)
    except (LocalProtocolError, msgspec.ValidationError) as problem:
        # Nothing was sent after all: a mapping that needs state the link lacks, or a
        # payload the placeholders made invalid.
        record.sent -= 1
        record.sent_by_version[_VERSIONS[session.version]] -= 1
        if isinstance(problem, NotExpressible):
            record.not_expressible += 1
        else:
            record.invalid += 1
        return
    except CallError as error:
        record.errors[str(error.code)] += 1
    except CallTimeout:
        record.timeouts += 1
        return
    except ConnectionLost:
        record.lost += 1
        return
    except trio.Cancelled:  # the run ended first
        record.unanswered += 1
        raise
    except OcppError as error:  # a malformed answer, say: counted by its kind
        record.errors[type(error).__name__] += 1
    else:
        status = getattr(answer, "status", None)
        record.statuses[str(status) if status is not None else "Answered"] += 1
    record.answer_times.append(trio.current_time() - sent_at)
