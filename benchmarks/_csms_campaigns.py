"""The embedded CSMS as its own process, running a profile's campaigns on demand (csms_ops).

The CSMS is the one a run of the profile would embed (`fleet.run.embedded_csms`: the
profile's ``[embedded]`` table). Each SIGUSR2 starts the profile's next
``[[embedded.campaigns]]`` at once (in the file's order, round and round; its `at` is
ignored, its share, rate and payload kept), through `fleet.csms.run_campaigns` as a run
would. When a campaign's calls are all answered (or timed out, or lost) the process prints
one JSON line, ``{"campaign": N, "action": ..., "sent": ..., ...}`` (see `record_line`), so
the benchmark lines each campaign up with the window the worker measured it in.

Run: ``python -m benchmarks._csms_campaigns PROFILE``; it prints its URL once it listens on
127.0.0.1 (a free port).
"""

from __future__ import annotations

import argparse
import gc
import signal
from typing import Any

import msgspec
import trio

from fleet.csms import CampaignRecord, EmbeddedCsms, run_campaigns
from fleet.profile import CampaignSection, campaign_payload, load_profile
from fleet.run._orchestrator import embedded_csms  # as a run builds it; not re-exported

# As `fleet csms`: the objects of this many more connections are frozen out of the cyclic
# garbage collector, checked this often (s); thousands of connections otherwise make each
# full collection a pause of its own in the middle of a campaign.
FREEZE_EVERY = 200
FREEZE_CHECK = 1.0


def record_line(number: int, record: CampaignRecord, seconds: float) -> dict[str, Any]:
    """One campaign's figures, as the CSMS saw them: calls sent (by the station's version),
    answers by status, CALLERRORs by code, timeouts, lost calls, the CSMS's answer times
    (ms, from each call's send to its answer: percentiles, and each in `answer_times_ms`) and
    `seconds` from the first send to the last answer."""
    return {
        "campaign": number,
        "action": record.action,
        "sent": record.sent,
        "sent_by_version": dict(record.sent_by_version),
        "statuses": dict(record.statuses),
        "errors": dict(record.errors),
        "timeouts": record.timeouts,
        "lost": record.lost,
        "not_expressible": record.not_expressible,
        "invalid": record.invalid,
        "answered": record.answered,
        "answer_ms": {
            name: round(record.percentile(p) * 1000, 3)
            for name, p in (("p50", 50.0), ("p99", 99.0), ("max", 100.0))
        },
        "seconds": round(seconds, 3),
        "answer_times_ms": [round(t * 1000, 3) for t in record.answer_times],
    }


async def run_one(
    csms: EmbeddedCsms, campaign: CampaignSection, number: int, seed: int | None
) -> None:
    """Run `campaign` from now to its last answer, then print its `record_line`."""
    records: list[CampaignRecord] = []
    began = trio.current_time()
    # `start` so that the campaign's own `at` falls now.
    await run_campaigns(
        csms,
        [campaign],
        records,
        start=began - campaign.at,
        seed=seed,
        payload_for=campaign_payload,
    )
    line = record_line(number, records[0], trio.current_time() - began)
    print(msgspec.json.encode(line).decode(), flush=True)


async def freeze_new_connections(csms: EmbeddedCsms) -> None:
    frozen = 0
    while True:
        await trio.sleep(FREEZE_CHECK)
        if len(csms.stations) >= frozen + FREEZE_EVERY:
            frozen = len(csms.stations)
            gc.freeze()


async def serve(path: str) -> None:
    profile = load_profile(path)
    campaigns = profile.embedded.campaigns
    if not campaigns:
        raise SystemExit(f"{path}: no [[embedded.campaigns]] to run")
    csms = embedded_csms(profile)
    with trio.open_signal_receiver(signal.SIGUSR2) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(csms.run)
            print(f"embedded CSMS listening on {csms.url}", flush=True)
            nursery.start_soon(freeze_new_connections, csms)
            number = 0
            async for _ in signals:
                campaign = campaigns[number % len(campaigns)]
                number += 1
                nursery.start_soon(run_one, csms, campaign, number, profile.seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", help="a profile with [[embedded.campaigns]]")
    args = parser.parse_args()
    trio.run(serve, args.profile)


if __name__ == "__main__":
    main()
