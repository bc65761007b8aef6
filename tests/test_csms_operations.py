"""The report's section for CSMS-initiated operations (issue 15 item 7): per action the calls
the stations received, their answers by status, the stations' answer time and the reaction
time; per phase, merged exactly, shown, compared, checked by thresholds and drawn in HTML."""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import io
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from fleet.csms import CampaignRecord
from fleet.metrics import (
    REPORT_FORMAT,
    CampaignStats,
    Metrics,
    Report,
    build_report,
    decode_histogram,
    format_summary,
    latency_stats,
    new_histogram,
    read_report,
    write_report,
)
from fleet.metrics._report import campaign_note
from fleet.ocpp import CallError, v16, v201
from fleet.profile import Distribution, ProfileError, parse_profile
from fleet.report import check_thresholds, merge, parse_thresholds, render_html
from fleet.report._command import add_parser
from fleet.run import FleetRun
from fleet.run._orchestrator import campaign_stats
from fleet.station import StationMachine16, StationMachine201, StationSettings
from fleet.station._overrides import answer_overrides, answer_with
from tests.test_campaigns import tx_default_7kw

ROOT = Path(__file__).resolve().parent.parent
T0 = 1000.0
WALL = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def operations(metrics: Metrics, at: float, *, rejected: int = 0) -> None:
    """Ten SetChargingProfile calls arriving at `at`: answered in 2 ms, Accepted or (the
    first `rejected`) Rejected; each Accepted one's limit shows 1.5 s later. Two ReserveNow,
    one refused with a CALLERROR; the other's Reserved status 0.25 s after it came."""
    for i in range(10):
        answer = "Rejected" if i < rejected else "Accepted"
        metrics.csms_call_answered("SetChargingProfile", answer, 0.002, at)
        if answer == "Accepted":
            metrics.csms_reaction("SetChargingProfile", 1.5, at + 1.5)
    metrics.csms_call_answered("ReserveNow", "Accepted", 0.001, at)
    metrics.csms_reaction("ReserveNow", 0.25, at + 0.25)
    metrics.csms_call_answered("ReserveNow", "CALLERROR NotSupported", 0.001, at)


def report_of(metrics: Metrics, seconds: float = 10.0) -> Report:
    return build_report(
        metrics,
        name="unit",
        profile={"name": "unit"},
        started_at=WALL,
        ended_at=WALL + dt.timedelta(seconds=seconds),
        ended_monotonic=T0 + seconds,
    )


def recorded() -> Report:
    """A ramp with two Rejected answers, a hold without; the reactions of the ramp's calls
    come in the hold, and count in the ramp."""
    metrics = Metrics(T0)
    operations(metrics, T0 + 0.5, rejected=2)
    metrics.ramp_done(T0 + 1)
    operations(metrics, T0 + 2)
    return report_of(metrics)


# --- metrics and the JSON report ------------------------------------------------------------


def test_each_action_counts_calls_answers_and_times_by_phase() -> None:
    report = recorded()
    assert report.format == REPORT_FORMAT == "ocpp-fleet-report/3"
    charging = report.csms["SetChargingProfile"]
    assert charging.received == 20
    assert charging.answers == {"Accepted": 18, "Rejected": 2}
    assert charging.answer.count == 20
    assert charging.answer.p99_ms == pytest.approx(2, rel=1e-3)
    assert charging.reaction.count == 18
    assert charging.reaction.p50_ms == pytest.approx(1500, rel=1e-3)
    assert charging.reaction_to == "first meter value at the new limit"
    reserve = report.csms["ReserveNow"]
    assert reserve.answers == {"Accepted": 2, "CALLERROR NotSupported": 2}
    assert reserve.reaction.count == 2
    assert reserve.reaction.max_ms == pytest.approx(250, rel=1e-3)
    assert reserve.reaction_to == "StatusNotification Reserved"
    # A reaction counts in the phase its request came in, with its answer.
    ramp, hold = report.phases["ramp"].csms, report.phases["hold"].csms
    assert ramp["SetChargingProfile"].answers == {"Accepted": 8, "Rejected": 2}
    assert ramp["SetChargingProfile"].reaction.count == 8
    assert hold["SetChargingProfile"].answers == {"Accepted": 10}
    assert hold["SetChargingProfile"].reaction.count == 10
    assert report.phase_view("hold").csms == report.phases["hold"].csms


def test_the_section_keeps_every_sample_and_round_trips(tmp_path: Path) -> None:
    report = recorded()
    reaction = decode_histogram(report.csms["SetChargingProfile"].reaction.histogram)
    assert reaction.get_total_count() == 18
    write_report(report, tmp_path / "r.json")
    assert read_report(tmp_path / "r.json") == report
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["csms"]["ReserveNow"]["received"] == 4
    assert data["phases"]["hold"]["csms"]["ReserveNow"]["answers"]["Accepted"] == 1


def test_a_run_without_csms_calls_has_an_empty_section() -> None:
    report = report_of(Metrics(T0))
    assert report.csms == {}
    assert "CSMS-initiated" not in format_summary(report, "run")


@pytest.mark.parametrize("format", ["ocpp-fleet-report/2", "ocpp-fleet-report/1"])
def test_a_report_from_before_the_section_still_loads(tmp_path: Path, format: str) -> None:
    data = msgspec.to_builtins(recorded())
    data["format"] = format
    del data["csms"]
    for phase in data["phases"].values():
        del phase["csms"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = read_report(tmp_path / "old.json")
    assert old.csms == {} and old.phase_view("hold").csms == {}
    assert "CSMS-initiated" not in format_summary(old)


def test_the_summary_has_a_table_of_csms_operations() -> None:
    summary = format_summary(recorded(), "run")
    assert summary.splitlines()[0].startswith("unit: 10.0 s, 0 connects, 24 CSMS calls answered")
    (row,) = [line for line in summary.splitlines() if line.startswith("SetChargingProfile")]
    assert row.split()[:6] == ["SetChargingProfile", "20", "2.0", "2.0", "18", "1,500"]
    assert row.endswith("Accepted 18, Rejected 2 (first meter value at the new limit)")
    (row,) = [line for line in summary.splitlines() if line.startswith("ReserveNow")]
    assert "Accepted 2, CALLERROR NotSupported 2 (StatusNotification Reserved)" in row
    # The hold's own figures by default.
    (row,) = [line for line in format_summary(recorded()).splitlines() if "SetCh" in line]
    assert row.split()[:2] == ["SetChargingProfile", "10"]


# --- show, merge, compare, thresholds, HTML -------------------------------------------------


def report_command(*args: str) -> int:
    """`fleet report ...` in this process (its parser alone: no run, no stations)."""
    parser = argparse.ArgumentParser(prog="fleet")
    add_parser(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["report", *args])
    return parsed.run(parsed)


def shard(index: int, *, slower: float = 1.0) -> Report:
    """Shard `index` of 2 of one run: the ramp and hold of `recorded`, reactions `slower`."""
    metrics = Metrics(T0)
    operations(metrics, T0 + 0.5, rejected=index)
    metrics.ramp_done(T0 + 1)
    for _ in range(4):
        metrics.csms_call_answered("SetChargingProfile", "Accepted", 0.002, T0 + 2)
        metrics.csms_reaction("SetChargingProfile", 1.5 * slower, T0 + 2 + 1.5 * slower)
    report = report_of(metrics)
    return msgspec.structs.replace(report, notes=[f"shard {index}/2 of the stations"])


def test_show_prints_the_table_and_json_and_csv_carry_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_report(recorded(), tmp_path / "r.json")
    assert report_command("show", str(tmp_path / "r.json"), "--phase", "run") == 0
    out = capsys.readouterr().out
    assert "CSMS-initiated operations" in out
    assert "Accepted 18, Rejected 2 (first meter value at the new limit)" in out

    spectrum = ["--spectrum", "SetChargingProfile", "--reaction", "--phase", "run"]
    assert report_command("show", str(tmp_path / "r.json"), *spectrum) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    assert lines[2].split()[0] == "1500.159" and lines[2].split()[2] == "18"
    assert (
        report_command("show", str(tmp_path / "r.json"), "--spectrum", "Reset", "--reaction") == 2
    )
    assert report_command("show", str(tmp_path / "r.json"), "--json") == 0
    figures = json.loads(capsys.readouterr().out)
    charging = figures["csms"]["SetChargingProfile"]  # the hold's, by default
    assert (charging["received"], charging["answers"]) == (10, {"Accepted": 10})
    assert charging["reaction"]["count"] == 10 and "histogram" not in charging["reaction"]
    assert "histogram" not in charging["answer"]

    assert report_command("show", str(tmp_path / "r.json"), "--csv", "--phase", "run") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    csms = {row["action"]: row for row in rows if row["initiator"] == "csms"}
    assert set(csms) == {"ReserveNow", "SetChargingProfile"}
    charging = csms["SetChargingProfile"]
    assert (charging["sent"], charging["answers"]) == ("20", "Accepted 18; Rejected 2")
    assert charging["reaction_count"] == "18"
    assert float(charging["reaction_p99_ms"]) == pytest.approx(1500, rel=1e-3)
    assert charging["reaction_to"] == "first meter value at the new limit"


def campaign(sent: int, rejected: int, seconds: float) -> CampaignStats:
    histogram = new_histogram()
    for _ in range(sent):
        histogram.record_value(round(seconds * 1_000_000))
    return CampaignStats(
        name="campaign-1",
        action="SetChargingProfile",
        rounds=1,
        sent=sent,
        sent_by_version={"1.6": sent},
        answers={"Accepted": sent - rejected, "Rejected": rejected},
        timeouts=0,
        lost=0,
        not_expressible=0,
        invalid=0,
        answer=latency_stats(histogram),
    )


def test_merge_adds_the_campaigns_of_each_shards_csms() -> None:
    shards = [
        msgspec.structs.replace(shard(1), campaigns=[campaign(10, 2, 0.01)]),
        msgspec.structs.replace(shard(2), campaigns=[campaign(30, 0, 0.05)]),
    ]
    (merged,) = merge(shards).campaigns
    assert (merged.sent, merged.sent_by_version) == (40, {"1.6": 40})
    assert merged.answers == {"Accepted": 38, "Rejected": 2}
    assert merged.answer.count == 40
    assert merged.answer.p50_ms == pytest.approx(50, rel=1e-3)
    assert merged.answer.min_ms == pytest.approx(10, rel=1e-3)
    figures = msgspec.to_builtins(merged)
    assert figures["answer"]["count"] == 40


def test_merge_notes_each_campaign_once_with_the_merged_figures() -> None:
    """Each shard noted its own part of the campaign (as `fleet run` does): the merged
    report has one note of it, of the merged figures, and keeps the shards' other notes."""
    parts = [campaign(10, 2, 0.01), campaign(30, 0, 0.05)]
    shards = [shard(index) for index in (1, 2)]
    shards = [
        msgspec.structs.replace(s, campaigns=[part], notes=[*s.notes, campaign_note(part)])
        for s, part in zip(shards, parts, strict=True)
    ]
    assert shards[0].notes[1].startswith("campaign-1 SetChargingProfile: 10 sent in 1 round(s)")
    notes = merge(shards).notes
    (line,) = [note for note in notes if note.startswith("campaign-1 ")]
    assert line.startswith(
        "campaign-1 SetChargingProfile: 40 sent in 1 round(s) (1.6 40); "
        "answers: Accepted 38, Rejected 2; answer time p50 50.0 ms"
    )
    assert {"shard 1/2 of the stations", "shard 2/2 of the stations"} <= set(notes)


def test_a_campaign_note_reads_as_the_runs_own() -> None:
    record = CampaignRecord("campaign-2", "Reset")
    record.rounds, record.sent = 2, 7
    record.sent_by_version.update({"1.6": 3, "2.0.1": 4})
    record.statuses.update({"Accepted": 4, "Rejected": 1})
    record.errors.update({"NotSupported": 1})
    record.timeouts = record.not_expressible = 1
    stats = campaign_stats(record)
    assert stats.answers == {"Accepted": 4, "CALLERROR NotSupported": 1, "Rejected": 1}
    assert campaign_note(stats) == record.summary()
    # A run that ended mid-campaign: the report keeps what it never sent or heard back.
    record.not_sent, record.unanswered = 118, 1
    stats = campaign_stats(record)
    assert (stats.not_sent, stats.unanswered) == (118, 1)
    assert campaign_note(stats) == record.summary()
    assert "118 not sent: the run ended; 1 unanswered: the run ended" in campaign_note(stats)


def test_merge_adds_the_section_exactly_per_phase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for index in (1, 2):
        write_report(shard(index, slower=index), tmp_path / f"s{index}.json")
    paths = [str(tmp_path / "s1.json"), str(tmp_path / "s2.json")]
    assert report_command("merge", *paths, "-o", str(tmp_path / "m.json")) == 0
    capsys.readouterr()
    merged = read_report(tmp_path / "m.json")
    charging = merged.csms["SetChargingProfile"]
    assert charging.received == 28
    assert charging.answers == {"Accepted": 25, "Rejected": 3}
    assert charging.reaction.count == 25  # 9 + 8 in the ramp, 4 + 4 in the hold
    hold = merged.phases["hold"].csms["SetChargingProfile"]
    assert (hold.received, hold.reaction.count) == (8, 8)
    # Histograms added: the hold's p50 is shard 1's 1.5 s, its p99 shard 2's 3 s.
    assert hold.reaction.p50_ms == pytest.approx(1500, rel=1e-3)
    assert hold.reaction.p99_ms == pytest.approx(3000, rel=1e-3)
    assert merged.phases["ramp"].csms["ReserveNow"].answers == {
        "Accepted": 2,
        "CALLERROR NotSupported": 2,
    }


def test_compare_compares_answer_and_reaction_times_and_bounds_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_report(shard(1), tmp_path / "a.json")
    write_report(shard(1, slower=2), tmp_path / "b.json")
    a, b = str(tmp_path / "a.json"), str(tmp_path / "b.json")
    assert report_command("compare", a, b) == 0
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if "reaction.p99" in line]
    action, metric, old, new, *_ = row.split()
    assert (action, metric) == ("SetChargingProfile", "reaction.p99")
    # HdrHistogram's 3 significant digits: 1.5 s and 3 s read back as 1,500.159 and 3,000.319
    assert (old[:5], new[:5]) == ("1,500", "3,000")
    assert "answer.p99" in out
    assert report_command("compare", a, b, "--fail-on", "reaction.p99+50%") == 3
    assert "REGRESSION SetChargingProfile reaction.p99: 1500.16 -> 3000.32" in (
        capsys.readouterr().out
    )
    # The ramp's ReserveNow reacted as fast in both (and the hold had none).
    assert report_command("compare", a, b, "--fail-on", "ReserveNow.reaction.p99+1%") == 2
    bound = ["--fail-on", "ReserveNow.reaction.p99+1%"]
    assert report_command("compare", a, b, "--phase", "run", *bound) == 0
    assert report_command("compare", a, b, "--fail-on", "answer.p99+1%") == 0
    assert report_command("compare", a, b, "--fail-on", "Nope.reaction.p99+1%") == 2


def test_compare_fails_when_the_candidate_stopped_reacting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A candidate whose stations answer SetChargingProfile but never react (and send no
    MeterValues) breaks reaction and MeterValues bounds: 'no samples in candidate', exit 3;
    it passed with the rows dropped (helper L)."""
    write_report(shard(1), tmp_path / "a.json")
    metrics = Metrics(T0)
    metrics.ramp_done(T0 + 1)
    for _ in range(4):
        metrics.csms_call_answered("SetChargingProfile", "Accepted", 0.002, T0 + 2)
    write_report(report_of(metrics), tmp_path / "b.json")
    a, b = str(tmp_path / "a.json"), str(tmp_path / "b.json")
    for bound in ("reaction.p99+20%", "SetChargingProfile.reaction.p99+20%"):
        assert report_command("compare", a, b, "--fail-on", bound) == 3, bound
        out = capsys.readouterr().out
        (row,) = [line for line in out.splitlines() if line.startswith("SetChargingProfile  ")
                  and "reaction.p99" in line]  # fmt: skip
        assert "no samples in candidate" in row and "<-- regression" in row
        assert (
            f"REGRESSION SetChargingProfile reaction.p99: no samples in candidate breaks {bound}"
            in out
        )
    assert report_command("compare", a, b, "--fail-on", "answer.p99+1000%") == 0
    # The other way round: nothing to compare against, said and not failed.
    assert report_command("compare", b, a, "--fail-on", "reaction.p99+20%") == 0
    assert "no samples in baseline" in capsys.readouterr().out


def test_thresholds_name_answer_and_reaction_times() -> None:
    report = recorded()
    results = check_thresholds(
        parse_thresholds(
            {
                "SetChargingProfile.reaction.p99": "< 2s",
                "ReserveNow.reaction.max": "< 200ms",
                "run:reaction.p99": "< 1s",
                "answer.p99": "<= 2ms",
                "Reset.reaction.p99": "< 1s",
            }
        ),
        report,
    )
    assert [(r.actual, r.passed) for r in results] == [
        (pytest.approx(1500, rel=1e-3), True),
        (pytest.approx(250, rel=1e-3), False),
        (pytest.approx(1500, rel=1e-3), False),  # the worst action's
        (pytest.approx(2, rel=1e-3), True),
        (None, False),  # no such figure: fails
    ]
    with pytest.raises(ValueError, match=r"reaction\. goes with a latency figure"):
        parse_thresholds({"reaction.errors": "< 1%"})


def test_the_html_page_shows_the_section() -> None:
    page = render_html([recorded()], phase="all")
    assert "10.0 s, 0 connects, 24 CSMS calls answered, generator CPU" in page
    assert page.count('<table class="csms">') == 3  # ramp, hold, the whole run
    assert "<td>SetChargingProfile</td><td>20</td><td>Accepted 18, Rejected 2</td>" in page
    assert "StatusNotification Reserved" in page
    assert '<table class="csms">' not in render_html([report_of(Metrics(T0))])


# --- a run against the embedded CSMS --------------------------------------------------------


def run_profile(extra: str, *, count: int = 10, duration: str = "4s", sessions: bool = True) -> str:
    """Stations of both versions charging 11 kW from their boot, sampling every second (or
    with `sessions` False, none charging)."""
    return (
        f'name = "t"\nduration = "{duration}"\nseed = 7\n'
        f'[stations]\ncount = {count}\nversions = {{ "1.6" = 0.5, "2.0.1" = 0.5 }}\n'
        "[ramp]\nrate = 100\n"
        '[session]\nfirst_start = "0s"\nlength = "1h"\nmeter_interval = "1s"\npower_kw = 11\n'
        + ("" if sessions else "probability = 0\n")
        + '[timeouts]\ndrain = "5s"\n'
        + extra
    )


def run_report(run: FleetRun) -> Report:
    return build_report(
        run.metrics,
        name="t",
        profile={"name": "t"},
        started_at=WALL,
        ended_at=WALL,
        ended_monotonic=run.ended_at or 0.0,
        campaigns=run.campaign_stats(),
    )


@pytest.mark.deadline(60)
async def test_a_run_with_campaigns_has_the_section_with_answers_and_reactions() -> None:
    text = run_profile(
        "[[embedded.campaigns]]\n"
        'at = "1s"\naction = "TriggerMessage"\n'
        'payload = { requestedMessage = "StatusNotification" }\n'
        "[[embedded.campaigns]]\n"
        'at = "1.5s"\naction = "SetChargingProfile"\n'
        f"payload = {tx_default_7kw()}\n"
        # Absolute without a start: 1.6 takes it, 2.0.1 refuses it (K01.FR.40).
        "[[embedded.campaigns]]\n"
        'at = "2.5s"\naction = "SetChargingProfile"\n'
        f"payload = {tx_default_7kw(start=False)}\n"
    )
    run = FleetRun(parse_profile(text))
    await run.run()
    report = run_report(run)
    trigger = report.csms["TriggerMessage"]
    assert (trigger.received, trigger.answers) == (10, {"Accepted": 10})
    # Each station sent the StatusNotification asked for, at once.
    assert trigger.reaction.count == 10
    assert trigger.reaction.max_ms < 1000
    assert trigger.reaction_to == "the triggered message"
    charging = report.csms["SetChargingProfile"]
    assert charging.received == 20
    assert charging.answers == {"Accepted": 15, "Rejected": 5}
    # Each 11 kW session brought to 7 kW shows it in its next sampled meter value (1 s
    # apart): one reaction per station, within a sample interval or so.
    assert charging.reaction.count == 10
    assert 0 < charging.reaction.p50_ms <= 1500
    assert charging.reaction.max_ms <= 2500
    # The campaigns as the CSMS counted them, in the report too: what the stations counted
    # at their end.
    sent = [(c.name, c.action, c.sent, c.answers) for c in report.campaigns]
    assert sent == [
        ("campaign-1", "TriggerMessage", 10, {"Accepted": 10}),
        ("campaign-2", "SetChargingProfile", 10, {"Accepted": 10}),
        ("campaign-3", "SetChargingProfile", 10, {"Accepted": 5, "Rejected": 5}),
    ]
    assert all(c.answer.count == 10 and c.timeouts == c.lost == 0 for c in report.campaigns)
    assert report.campaigns[0].sent_by_version == {"1.6": 5, "2.0.1": 5}
    html = render_html([report])
    assert "campaigns of the embedded CSMS" in html
    assert "<td>campaign-3</td><td>SetChargingProfile</td>" in html


def test_fleet_run_with_workers_merges_the_section_and_prints_it(tmp_path: Path) -> None:
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
    assert "6 CSMS calls answered" in result.stdout.splitlines()[0]
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("TriggerMessage")]
    assert row.split()[:2] == ["TriggerMessage", "6"]
    assert row.endswith("Accepted 6 (the triggered message)")
    merged = read_report(out)
    (campaign,) = merged.campaigns  # the parent's CSMS ran it
    assert (campaign.sent, campaign.answers, campaign.answer.count) == (6, {"Accepted": 6}, 6)
    trigger = merged.csms["TriggerMessage"]
    assert (trigger.received, trigger.answers, trigger.reaction.count) == (6, {"Accepted": 6}, 6)
    assert merged.phases["hold"].csms["TriggerMessage"].received == 6


# --- answer overrides -----------------------------------------------------------------------


def machine_settings(**overrides: Any) -> StationSettings:
    return StationSettings(
        connectors=1,
        first_start=Distribution.constant(5),
        length=Distribution.constant(20),
        idle=Distribution.constant(10),
        power_kw=Distribution.constant(11),
        meter_interval=5.0,
        id_tags=["TAG-1"],
        **overrides,
    )


@pytest.mark.parametrize(
    ("machine_cls", "module"), [(StationMachine16, v16), (StationMachine201, v201)]
)
def test_overrides_answer_their_share_of_calls_drawn_per_call(
    machine_cls: Any, module: Any
) -> None:
    overrides = answer_overrides(
        [
            ("ClearCache", 0.2, answer_with("ClearCache", status="Rejected")),
            ("ClearCache", 0.1, answer_with("ClearCache", error="InternalError")),
        ]
    )
    assert [share for share, _ in overrides["ClearCache"]] == pytest.approx([0.2, 0.3])
    machine = machine_cls("ST-1", machine_settings(answer_overrides=overrides), random.Random(3))
    answers: collections.Counter[str] = collections.Counter()
    for _ in range(1000):
        try:
            response = machine.on_call("ClearCache", module.ClearCacheRequest(), 0.0)
            answers[response.status.value] += 1
        except CallError as exc:
            answers[f"CALLERROR {exc.code}"] += 1
    # One draw per call from the station's seeded generator: the counts are those draws'.
    draws = random.Random(3)
    expected = collections.Counter(
        "Rejected" if r < 0.2 else "CALLERROR InternalError" if r < 0.3 else "Accepted"
        for r in (draws.random() for _ in range(1000))
    )
    assert answers == expected
    assert 150 < answers["Rejected"] < 250 and 60 < answers["CALLERROR InternalError"] < 140


MINIMAL = 'name = "t"\nduration = "30s"\n[stations]\ncount = 10\n'
BOTH = MINIMAL + 'versions = { "1.6" = 0.5, "2.0.1" = 0.5 }\n'


def answers_problem(text: str) -> str:
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, "x.toml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MINIMAL + '[[answers]]\naction = "ReserveNow"\nshare = 0.2\nstatus = "Refused"\n',
            'x.toml: answers[0].status: "Refused" is not a ReserveNow status of OCPP 1.6; one '
            "of Accepted, Faulted, Occupied, Rejected, Unavailable",
        ),
        (  # a 2.0.1 status 1.6 lacks, with stations of both versions
            BOTH + '[[answers]]\naction = "Reset"\nshare = 0.2\nstatus = "Scheduled"\n',
            'x.toml: answers[0].status: "Scheduled" is not a Reset status of OCPP 1.6; one of '
            "Accepted, Rejected",
        ),
        (
            BOTH
            + '[[answers]]\naction = "ReserveNow"\nshare = 0.2\nerror = "FormationViolation"\n',
            'x.toml: answers[0].error: "FormationViolation" is not a CALLERROR code of OCPP '
            "2.0.1; one of FormatViolation, GenericError, InternalError, "
            "MessageTypeNotSupported, NotImplemented, NotSupported, OccurenceConstraintViolation, "
            "PropertyConstraintViolation, ProtocolError, RpcFrameworkError, SecurityError, "
            "TypeConstraintViolation",
        ),
        (
            MINIMAL + '[[answers]]\naction = "Heartbeat"\nshare = 0.2\nerror = "InternalError"\n',
            'x.toml: answers[0].action: expected an action a CSMS sends (OCPP 1.6 or 2.0.1), got "Heartbeat"',
        ),
        (
            MINIMAL
            + '[[answers]]\naction = "SetVariables"\nshare = 0.2\nerror = "InternalError"\n',
            "x.toml: answers[0].action: SetVariables is not an action a CSMS sends in OCPP 1.6, "
            "the versions of this profile's stations",
        ),
        (
            BOTH + '[[answers]]\naction = "GetVariables"\nshare = 0.2\nstatus = "Accepted"\n',
            "x.toml: answers[0].status: a GetVariables answer of OCPP 2.0.1 has no status; use "
            "error (a CALLERROR code)",
        ),
        (
            MINIMAL + '[[answers]]\naction = "Reset"\nshare = 0.2\n',
            "x.toml: answers[0].status: expected one of status or error",
        ),
        (
            MINIMAL + '[[answers]]\naction = "Reset"\nshare = 0.7\nstatus = "Rejected"\n'
            '[[answers]]\naction = "Reset"\nshare = 0.4\nerror = "InternalError"\n',
            "x.toml: answers[1].share: the shares of Reset's answers add up to more than 1",
        ),
        (
            MINIMAL + "[firmware]\ninstall_failed = 1.5\n",
            "x.toml: firmware.install_failed: expected a number <= 1, got 1.5",
        ),
        (
            MINIMAL + '[firmware]\ndownload = "soon"\n',
            "x.toml: firmware.download: expected a duration",
        ),
        (
            MINIMAL + "[firmware]\ndownload_failed = 0.6\ninstall_failed = 0.5\n",
            "x.toml: firmware.install_verification_failed: download_failed + invalid_signature "
            "+ install_failed + install_verification_failed must be <= 1 (shares of all "
            "updates), got 1.1",
        ),
    ],
)
def test_bad_answers_and_firmware_are_one_line_naming_the_field(text: str, message: str) -> None:
    assert answers_problem(text).startswith(message)


def test_the_profile_gives_the_stations_their_overrides_and_firmware_settings() -> None:
    profile = parse_profile(
        BOTH
        + '[[answers]]\naction = "ReserveNow"\nshare = 0.25\nstatus = "Occupied"\n'
        + '[[answers]]\naction = "ReserveNow"\nshare = 0.25\nerror = "InternalError"\n'
        + '[[answers]]\naction = "RemoteStartTransaction"\nshare = 1\nstatus = "Rejected"\n'
        + '[firmware]\ndownload = "5s"\n'
        + 'install = { distribution = "uniform", min = "1m", max = "2m" }\n'
        + "install_failed = 0.1\nupload_failed = 0.5\n"
    )
    settings = FleetRun(profile)._settings(0.0)
    (occupied_share, occupied), (error_share, error) = settings.answer_overrides["ReserveNow"]
    assert (occupied_share, error_share) == (0.25, 0.5)
    request = v201.ReserveNowRequest(
        id=1,
        expiry_date_time=WALL,
        id_token=v201.IdToken(id_token="T", type=v201.IdTokenEnum.ISO14443),
    )
    assert occupied(request) == v201.ReserveNowResponse(status=v201.ReserveNowStatusEnum.OCCUPIED)
    legacy = v16.ReserveNowRequest(connector_id=1, expiry_date=WALL, id_tag="T", reservation_id=1)
    assert occupied(legacy) == v16.ReserveNowResponse(status=v16.ReservationStatus.OCCUPIED)
    with pytest.raises(CallError) as caught:
        error(request)
    assert caught.value.code == "InternalError"
    firmware = settings.firmware
    assert firmware.download.sample(random.Random(1)) == 5.0
    assert 60 <= firmware.install.sample(random.Random(1)) <= 120
    assert (firmware.install_failed, firmware.upload_failed, firmware.download_failed) == (
        0.1,
        0.5,
        0.0,
    )


@pytest.mark.deadline(60)
async def test_a_run_with_overrides_refuses_its_share_and_counts_them_both_ends() -> None:
    # Four rounds to every station, well inside the hold (so none is cut by its end).
    rounds = "".join(
        f'[[embedded.campaigns]]\nat = "{at}s"\naction = "TriggerMessage"\n'
        'payload = { requestedMessage = "Heartbeat" }\n'
        for at in (0.6, 1.0, 1.4, 1.8)
    )
    text = run_profile(
        '[[answers]]\naction = "TriggerMessage"\nshare = 0.5\nstatus = "Rejected"\n' + rounds,
        count=10,
        duration="3s",
    )
    counts = []
    for _ in range(2):
        run = FleetRun(parse_profile(text))
        await run.run()
        trigger = run_report(run).csms["TriggerMessage"]
        # What the CSMS counted is what the stations answered; refusals send nothing.
        statuses: collections.Counter[str] = collections.Counter()
        for record in run.campaigns:
            statuses.update(record.statuses)
        assert statuses == trigger.answers
        assert trigger.received == sum(r.sent for r in run.campaigns) == 40
        assert trigger.reaction.count == trigger.answers["Accepted"]
        assert 0.3 < trigger.answers["Rejected"] / trigger.received < 0.7
        counts.append(trigger.answers)
    assert counts[0] == counts[1]  # seeded: the same draws, the same refusals


@pytest.mark.deadline(60)
async def test_a_firmware_campaign_reacts_with_the_profiles_times_and_failure_share() -> None:
    text = run_profile(
        '[reconnect]\nwait_minimum = "0.1s"\nrandom_range = "0.1s"\n'
        '[firmware]\ndownload = "0.5s"\ninstall = "0.5s"\ninstall_failed = 0.5\n'
        "[[embedded.campaigns]]\n"
        'at = "0.5s"\naction = "UpdateFirmware"\n'
        'payload = { requestId = 1, firmware = { location = "https://fw.example.com/2.bin", '
        'retrieveDateTime = "2025-01-01T00:00:00Z" } }\n',
        count=10,
        duration="5s",
        sessions=False,  # an install waits for the transactions to end
    )
    run = FleetRun(parse_profile(text))
    await run.run()
    report = run_report(run)
    update = report.csms["UpdateFirmware"]
    # 1.6's answer has no status; 2.0.1's is Accepted.
    assert update.received == 10
    assert update.answers == {"Accepted": 5, "Answered": 5}
    # The campaign's own record (the CSMS's side) reads answers in OCPP 2.0.1 terms, as it
    # sends them: the generic API reads 1.6's empty UpdateFirmware answer as Accepted.
    [campaign] = report.campaigns
    assert campaign.answers == {"Accepted": 10}
    # Each update ended within the run: a failed install after the download's 0.5 s and the
    # install's 0.5 s (virtually no time more), Installed after a reboot's reconnect and
    # boot besides (seeded: both happen).
    reaction = update.reaction
    assert reaction.count == 10
    assert 999 <= reaction.min_ms < 1100
    assert 1100 < reaction.max_ms < 4000
    assert update.reaction_to == "FirmwareStatusNotification Installed (or its failure)"
