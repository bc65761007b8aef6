"""A campaign cut short by the end of the run says what it never did: the stations a paced
round had yet to reach (not sent) and the calls still waiting for their answer (unanswered).
Issue 15: SIGTERM 9 s into a campaign to 200 stations at 10 per second reported "77 sent in
1 round(s)" and nothing of the 123 never sent."""

from __future__ import annotations

import dataclasses
from typing import Any

import trio

import fleet.toolkit as tk
from fleet.csms import CampaignRecord, open_csms, run_campaigns
from fleet.ocpp import v16
from tests.peers import wait_for


@dataclasses.dataclass(frozen=True)
class Campaign:
    """A campaign as `run_campaigns` takes it (a profile's `CampaignSection` is one)."""

    action: str
    at: float = 0.0
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)
    every: float | None = None
    share: float | None = None
    rate: float | None = None


class ListVersion(tk.ChargePointHandlers16):
    """Answers GetLocalListVersion at once, or (`hang`) never."""

    def __init__(self, hang: bool = False) -> None:
        self.hang = hang

    async def on_get_local_list_version(
        self, request: v16.GetLocalListVersionRequest
    ) -> v16.GetLocalListVersionResponse:
        if self.hang:
            await trio.sleep_forever()
        return v16.GetLocalListVersionResponse(list_version=1)


async def run_cut_short(
    stations: int, campaign: Campaign, sent: int, hang: bool = False
) -> CampaignRecord:
    """`campaign` to `stations` stations, its run cancelled once `sent` calls went."""
    records: list[CampaignRecord] = []
    async with open_csms() as csms, trio.open_nursery() as nursery:

        async def station(name: str) -> None:
            async with tk.connect(csms.url, name, handlers=ListVersion(hang)) as cp:
                await cp.wait_closed()

        for i in range(stations):
            nursery.start_soon(station, f"cp-{i}")
        await wait_for(lambda: len(csms.stations) == stations)
        with trio.CancelScope() as run:

            async def end_the_run() -> None:
                await wait_for(lambda: records and records[0].sent >= sent)
                run.cancel()

            nursery.start_soon(end_the_run)
            await run_campaigns(csms, [campaign], records)
        nursery.cancel_scope.cancel()
    return records[0]


async def test_a_paced_round_cut_short_counts_the_stations_it_never_reached() -> None:
    record = await run_cut_short(6, Campaign("GetLocalListVersion", rate=5), sent=2)
    assert 2 <= record.sent < 6
    assert record.not_sent == 6 - record.sent
    assert record.sent + record.not_sent == 6  # every chosen station is accounted for
    assert f"; {record.not_sent} not sent: the run ended" in record.summary()


async def test_calls_in_flight_when_the_run_ends_are_unanswered() -> None:
    record = await run_cut_short(3, Campaign("GetLocalListVersion"), sent=3, hang=True)
    assert (record.sent, record.unanswered, record.not_sent, record.answered) == (3, 3, 0, 0)
    assert record.summary().endswith("; 3 unanswered: the run ended")


async def test_a_campaign_that_ran_to_its_end_says_nothing_of_the_kind() -> None:
    records: list[CampaignRecord] = []
    async with open_csms() as csms, tk.connect(csms.url, "cp", handlers=ListVersion()):
        await csms.wait_for_station("cp")
        await run_campaigns(csms, [Campaign("GetLocalListVersion", rate=5)], records)
    (record,) = records
    assert (record.sent, record.not_sent, record.unanswered) == (1, 0, 0)
    assert "the run ended" not in record.summary()
