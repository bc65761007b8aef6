"""CSMS-initiated campaigns on the embedded CSMS (issue 15 item 8): the profile's
``[[embedded.campaigns]]``, checked at load against both OCPP versions, and run through the
generic API to 1.6 and 2.0.1 stations alike, counted by answer."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

import fleet.toolkit as tk
from fleet.csms import CampaignRecord, open_csms, run_campaigns
from fleet.metrics import read_report
from fleet.ocpp import CallError, ErrorCode, v201
from fleet.profile import ProfileError, campaign_payload, load_profile, parse_profile
from fleet.run import FleetRun

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = 'name = "t"\nduration = "30s"\n[stations]\ncount = 10\n'
TX_DEFAULT_7KW = (
    "{ evseId = 0, chargingProfile = { id = 1, stackLevel = 0, "
    'chargingProfilePurpose = "TxDefaultProfile", chargingProfileKind = "Absolute", '
    'chargingSchedule = [{ id = 1, START chargingRateUnit = "W"SALES, '
    "chargingSchedulePeriod = [{ startPeriod = 0, limit = 7000 }] }] } }"
)
SALES_TARIFF = (
    ", salesTariff = { id = 1, salesTariffEntry = [{ relativeTimeInterval = { start = 0 } }] }"
)


def tx_default_7kw(*, start: bool = True, sales: bool = False) -> str:
    """A TxDefaultProfile of 7 kW for every EVSE, in TOML: Absolute, from a past start (or
    without one, which 2.0.1 refuses: K01.FR.40), with a sales tariff 1.6 cannot carry."""
    return TX_DEFAULT_7KW.replace(
        "START", 'startSchedule = "2025-01-01T00:00:00Z",' if start else ""
    ).replace("SALES", SALES_TARIFF if sales else "")


def campaign(**keys: str) -> str:
    """MINIMAL with one ``[[embedded.campaigns]]`` of these keys (TOML values as written)."""
    lines = "\n".join(f"{key} = {value}" for key, value in keys.items())
    return f"{MINIMAL}[[embedded.campaigns]]\n{lines}\n"


def problem(text: str) -> str:
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, "x.toml")
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- the profile ----------------------------------------------------------------------------


def test_a_campaign_loads_with_its_durations_share_and_pace() -> None:
    profile = parse_profile(
        campaign(
            at='"1m"',
            every='"2m"',
            action='"SetChargingProfile"',
            payload=tx_default_7kw(),
            share="0.3",
            rate="50",
        ).replace('duration = "30s"', 'duration = "5m"')
    )
    (loaded,) = profile.embedded.campaigns
    assert (loaded.at, loaded.every, loaded.share, loaded.rate) == (60.0, 120.0, 0.3, 50.0)
    assert loaded.action == "SetChargingProfile"
    schedule = loaded.payload["chargingProfile"]["chargingSchedule"][0]
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 7000}]


def test_a_campaign_defaults_to_all_stations_at_once_and_once() -> None:
    text = campaign(
        at="15", action='"TriggerMessage"', payload='{ requestedMessage = "Heartbeat" }'
    )
    (loaded,) = parse_profile(text).embedded.campaigns
    assert (loaded.every, loaded.share, loaded.rate) == (None, None, None)


def test_a_payload_1_6_cannot_carry_is_refused_at_load_with_the_field_named() -> None:
    text = campaign(
        at='"10s"',
        action='"SetChargingProfile"',
        payload=tx_default_7kw(sales=True),
    )
    message = problem(text)
    assert message.startswith("x.toml: embedded.campaigns[0].payload: OCPP 1.6 stations cannot")
    assert "chargingProfile.chargingSchedule[0].salesTariff" in message
    assert "sales tariffs" in message


def test_an_action_1_6_does_not_have_is_refused_at_load() -> None:
    text = campaign(
        at="1",
        action='"SetMonitoringLevel"',
        payload="{ severity = 5 }",
    )
    message = problem(text)
    assert message == (
        "x.toml: embedded.campaigns[0].action: OCPP 1.6 stations cannot get "
        "SetMonitoringLevel: OCPP 1.6 has no such action"
    )


NOT_IN_1_6 = [
    ("GetBaseReport", '{ requestId = 1, reportBase = "FullInventory" }'),
    (
        "SetNetworkProfile",
        '{ configurationSlot = 1, connectionData = { ocppVersion = "OCPP20", ocppTransport = '
        '"JSON", ocppCsmsUrl = "ws://csms.example.com/ocpp", messageTimeout = 30, '
        'securityProfile = 1, ocppInterface = "Wired0" } }',
    ),
    ("TriggerMessage", '{ requestedMessage = "SignV2GCertificate" }'),
]


@pytest.mark.parametrize(("action", "payload"), NOT_IN_1_6)
def test_a_campaign_is_checked_against_the_versions_the_stations_use(
    action: str, payload: str
) -> None:
    # A 2.0.1-only fleet may get what 1.6 cannot carry ...
    only_201 = MINIMAL + 'versions = { "2.0.1" = 1, "1.6" = 0 }\n'
    text = f'{only_201}[[embedded.campaigns]]\nat = 1\naction = "{action}"\npayload = {payload}\n'
    (loaded,) = parse_profile(text).embedded.campaigns
    assert loaded.action == action
    # ... a fleet with any 1.6 stations may not.
    mixed = text.replace('"1.6" = 0', '"1.6" = 0.01')
    assert problem(mixed).startswith("x.toml: embedded.campaigns[0].")
    assert "OCPP 1.6 stations cannot get" in problem(mixed)


def test_a_campaign_after_the_run_is_refused_at_load() -> None:
    text = campaign(at="30", action='"Reset"', payload='{ type = "Immediate" }')
    assert problem(text) == (
        "x.toml: embedded.campaigns[0].at: expected less than duration (30), got 30: the "
        "campaign would never be sent"
    )
    assert parse_profile(text.replace("at = 30", "at = 29")).embedded.campaigns[0].at == 29
    with pytest.raises(ProfileError, match=r"embedded\.campaigns\[0\]\.at: expected less"):
        parse_profile(text.replace("at = 30", "at = 29")).with_overrides(duration="10s")


@pytest.mark.parametrize(
    ("keys", "where", "words"),
    [
        ({"action": '"Heartbeat"'}, "embedded.campaigns[0].action", "an OCPP 2.0.1 action a CSMS"),
        ({"action": '"Nonsense"'}, "embedded.campaigns[0].action", "an OCPP 2.0.1 action a CSMS"),
        (
            {"action": '"TriggerMessage"', "payload": '{ requestedMessage = "Bogus" }'},
            "embedded.campaigns[0].payload",
            "not a valid OCPP 2.0.1 TriggerMessage request: Invalid enum value 'Bogus' at "
            "requestedMessage",
        ),
        (
            {"action": '"TriggerMessage"', "payload": "{}"},
            "embedded.campaigns[0].payload",
            "requestedMessage",
        ),
        (
            {"action": '"Reset"', "payload": '{ type = "Immediate" }', "rate": "0"},
            "embedded.campaigns[0].rate",
            "> 0",
        ),
        (
            {"action": '"Reset"', "payload": '{ type = "Immediate" }', "share": "1.5"},
            "embedded.campaigns[0].share",
            "<= 1",
        ),
        (
            {"action": '"Reset"', "payload": '{ type = "Immediate" }', "every": "0"},
            "embedded.campaigns[0].every",
            "> 0",
        ),
        ({"action": '"Reset"', "payload": '{ type = "Immediate" }', "ta": "1"}, "ta", ""),
    ],
)
def test_bad_campaigns_are_one_line_naming_the_field(
    keys: dict[str, str], where: str, words: str
) -> None:
    message = problem(campaign(at='"5s"', **keys))
    assert where in message
    assert words in message


def test_a_campaign_needs_a_time_and_an_action() -> None:
    assert "at" in problem(campaign(action='"Reset"', payload='{ type = "Immediate" }'))
    assert "action" in problem(campaign(at="1"))


def test_the_station_placeholder_is_replaced_in_every_string() -> None:
    payload = {"vendorId": "x-{station}", "data": ["{station}", 3], "n": {"m": "{station}!"}}
    assert campaign_payload(payload, "CP-7") == {
        "vendorId": "x-CP-7",
        "data": ["CP-7", 3],
        "n": {"m": "CP-7!"},
    }
    text = campaign(at="1", action='"DataTransfer"', payload='{ vendorId = "{station}" }')
    assert parse_profile(text).embedded.campaigns[0].payload == {"vendorId": "{station}"}


def test_the_example_profile_has_both_campaigns() -> None:
    profile = load_profile(ROOT / "profiles" / "campaign.toml")
    assert profile.stations.count == 20
    assert profile.stations.versions == {"1.6": 0.5, "2.0.1": 0.5}
    charging, trigger = profile.embedded.campaigns
    assert (charging.action, charging.at, charging.share) == ("SetChargingProfile", 10.0, 0.3)
    period = charging.payload["chargingProfile"]["chargingSchedule"][0]
    assert period["chargingRateUnit"] == "W"
    assert period["chargingSchedulePeriod"][0]["limit"] == 7000
    assert (trigger.action, trigger.at, trigger.share) == ("TriggerMessage", 15.0, None)
    assert profile.duration + profile.timeouts.drain < 60


def test_campaigns_are_in_the_json_schema() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fleet", "profile", "schema"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"CampaignSection"' in result.stdout
    assert "OCPP 2.0.1 wire form" in result.stdout


# --- a run ----------------------------------------------------------------------------------


def run_profile(campaigns: str, *, count: int = 10, duration: str = "4s") -> str:
    return (
        f'name = "t"\nduration = "{duration}"\nseed = 7\n'
        f'[stations]\ncount = {count}\nversions = {{ "1.6" = 0.5, "2.0.1" = 0.5 }}\n'
        "[ramp]\nrate = 100\n"
        '[session]\nfirst_start = "0s"\nlength = "1h"\nmeter_interval = "1s"\n'
        '[timeouts]\ndrain = "5s"\n' + campaigns
    )


def answered_everything(record: CampaignRecord) -> None:
    assert record.answered == record.sent
    assert record.timeouts == record.lost == record.not_expressible == 0
    assert len(record.answer_times) == record.sent
    assert all(0 <= seconds < 5 for seconds in record.answer_times)


@pytest.mark.deadline(60)
async def test_campaigns_reach_stations_of_both_versions_and_count_their_answers() -> None:
    text = run_profile(
        "[[embedded.campaigns]]\n"
        'at = "1s"\naction = "TriggerMessage"\n'
        'payload = { requestedMessage = "StatusNotification" }\n'
        "[[embedded.campaigns]]\n"
        'at = "1.5s"\naction = "SetChargingProfile"\nshare = 0.6\nrate = 20\n'
        f"payload = {tx_default_7kw()}\n"
        # Absolute without a start: 1.6 takes it, 2.0.1 refuses it (K01.FR.40).
        "[[embedded.campaigns]]\n"
        'at = "2.5s"\naction = "SetChargingProfile"\n'
        f"payload = {tx_default_7kw(start=False)}\n"
    )
    run = FleetRun(parse_profile(text))
    await run.run()
    trigger, charging, unstarted = run.campaigns
    assert (trigger.name, trigger.action) == ("campaign-1", "TriggerMessage")
    assert trigger.rounds == 1
    assert trigger.sent == 10
    assert trigger.sent_by_version == {"1.6": 5, "2.0.1": 5}
    answered_everything(trigger)
    # Both versions' stations send a StatusNotification when asked.
    assert trigger.statuses == {"Accepted": 10}
    assert not trigger.errors

    assert (charging.name, charging.action, charging.rounds) == (
        "campaign-2",
        "SetChargingProfile",
        1,
    )
    assert charging.sent == 6  # 60 % of 10, a seeded choice
    assert sum(charging.sent_by_version.values()) == 6
    answered_everything(charging)
    assert charging.statuses == {"Accepted": 6}

    # Each answer counted once, by its status, whatever the version.
    assert unstarted.sent_by_version == {"1.6": 5, "2.0.1": 5}
    answered_everything(unstarted)
    assert unstarted.statuses == {"Accepted": 5, "Rejected": 5}

    notes = run.campaign_notes()
    assert notes[0].startswith("campaign-1 TriggerMessage: 10 sent in 1 round(s) (1.6 5, 2.0.1 5)")
    assert "answers: Accepted 10" in notes[0]
    assert "answer time p50" in notes[0]
    assert notes[1].startswith("campaign-2 SetChargingProfile: 6 sent in 1 round(s)")
    assert "answers: Accepted 5, Rejected 5;" in notes[2]


@pytest.mark.deadline(60)
async def test_a_campaign_repeats_and_keeps_its_pace() -> None:
    text = run_profile(
        "[[embedded.campaigns]]\n"
        'at = "1s"\nevery = "1.5s"\naction = "TriggerMessage"\nrate = 10\n'
        'payload = { requestedMessage = "Heartbeat" }\n',
        duration="4s",
    )
    run = FleetRun(parse_profile(text))
    await run.run()
    (record,) = run.campaigns
    # At 1 s and 2.5 s; the one due at 4 s is cut by the end of the hold (or just made).
    assert record.rounds in (2, 3)
    assert record.sent >= 20
    assert record.sent % 10 == 0 or record.rounds == 3
    assert record.statuses["Accepted"] >= 20
    assert record.timeouts == 0


@pytest.mark.deadline(60)
async def test_the_same_seed_chooses_the_same_stations() -> None:
    text = run_profile(
        "[[embedded.campaigns]]\n"
        'at = "0.5s"\naction = "TriggerMessage"\nshare = 0.4\n'
        'payload = { requestedMessage = "Heartbeat" }\n',
        duration="1.5s",
    )
    chosen = []
    for _ in range(2):
        run = FleetRun(parse_profile(text))
        await run.run()
        (record,) = run.campaigns
        assert record.sent == 4
        chosen.append(dict(record.sent_by_version))
    assert chosen[0] == chosen[1]


def test_fleet_run_prints_each_campaign_in_its_summary(tmp_path: Path) -> None:
    profile = tmp_path / "c.toml"
    profile.write_text(
        run_profile(
            "[[embedded.campaigns]]\n"
            'at = "0.5s"\naction = "TriggerMessage"\n'
            'payload = { requestedMessage = "StatusNotification" }\n',
            count=4,
            duration="2s",
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fleet",
            "run",
            str(profile),
            "--quiet",
            "--out",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "note: campaign-1 TriggerMessage: 4 sent in 1 round(s) (1.6 2, 2.0.1 2)" in (
        result.stdout
    )
    assert "answers: Accepted 4" in result.stdout


def test_with_workers_the_parent_runs_the_campaigns(tmp_path: Path) -> None:
    profile = tmp_path / "c.toml"
    profile.write_text(
        run_profile(
            "[[embedded.campaigns]]\n"
            'at = "1s"\naction = "TriggerMessage"\n'
            'payload = { requestedMessage = "StatusNotification" }\n',
            count=6,
            duration="3s",
        ),
        encoding="utf-8",
    )
    out = tmp_path / "r.json"
    command = [sys.executable, "-m", "fleet", "run", str(profile), "--quiet", "--workers", "2"]
    result = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, timeout=90, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    line = "campaign-1 TriggerMessage: 6 sent in 1 round(s) (1.6 3, 2.0.1 3); answers: Accepted 6"
    assert f"note: {line}" in result.stdout
    assert any(note.startswith(line) for note in read_report(out).notes)


# --- the campaign runner on its own ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Campaign:
    """A campaign as `run_campaigns` takes it (a profile's `CampaignSection` is one)."""

    at: float
    action: str
    payload: dict[str, Any]
    every: float | None = None
    share: float | None = None
    rate: float | None = None


class Answers(tk.GenericChargePointHandlers):
    """One way of answering a Reset per station; DataTransfers noted."""

    def __init__(self, how: str, seen: list[str]) -> None:
        self.how = how
        self.seen = seen

    async def on_reset(self, request: v201.ResetRequest) -> v201.ResetResponse:
        if self.how == "error":
            raise CallError(ErrorCode.NOT_SUPPORTED, "no resets here")
        if self.how == "silent":
            await trio.sleep_forever()
        return v201.ResetResponse(status=v201.ResetStatusEnum(self.how))

    def on_data_transfer(self, request: v201.DataTransferRequest) -> v201.DataTransferResponse:
        self.seen.append(request.vendor_id)
        return v201.DataTransferResponse(status=v201.DataTransferStatusEnum.ACCEPTED)


async def test_answers_errors_and_timeouts_are_counted_apart_and_placeholders_filled() -> None:
    stations = {
        "A16": ("1.6", "Accepted"),
        "B201": ("2.0.1", "Accepted"),
        "C201": ("2.0.1", "Rejected"),
        "D16": ("1.6", "error"),
        "E201": ("2.0.1", "silent"),
    }
    seen: list[str] = []
    records: list[CampaignRecord] = []
    campaigns = [
        Campaign(at=0.0, action="Reset", payload={"type": "Immediate"}, rate=50),
        Campaign(at=0.0, action="DataTransfer", payload={"vendorId": "v-{station}"}, share=0.4),
        # 253 characters and the id: too long for a vendorId (255) on every station.
        Campaign(at=0.0, action="DataTransfer", payload={"vendorId": "x" * 253 + "{station}"}),
    ]
    async with open_csms(call_timeout=0.5) as csms, contextlib.AsyncExitStack() as stack:
        for station_id, (version, how) in stations.items():
            handlers = Answers(how, seen)
            await stack.enter_async_context(
                tk.connect(csms.url, station_id, version=version, handlers=handlers)
            )
        await run_campaigns(csms, campaigns, records, seed=3, payload_for=campaign_payload)
    reset, data, too_long = records
    assert reset.sent == 5
    assert reset.sent_by_version == {"1.6": 2, "2.0.1": 3}
    assert reset.statuses == {"Accepted": 2, "Rejected": 1}
    assert reset.errors == {"NotSupported": 1}
    assert reset.timeouts == 1
    assert reset.answered == 4 and len(reset.answer_times) == 4
    assert "CALLERROR NotSupported 1; timeouts 1" in reset.summary()
    # 40 % of 5: two stations, each got its own id.
    assert data.sent == 2 and data.statuses == {"Accepted": 2}
    assert len(seen) == 2
    assert set(seen) <= {f"v-{station}" for station in stations}
    # Refused before sending, on either version: counted, not sent, and the run goes on.
    assert (too_long.sent, too_long.invalid, too_long.answered) == (0, 5, 0)
    assert "invalid 5" in too_long.summary()
