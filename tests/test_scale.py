"""Scaling out: shards of the stations, `--workers N` processes, and `--shard I/N` machines whose
reports merge into one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from fleet.csms import EmbeddedCsms, open_csms
from fleet.metrics import Interval, Report, read_report
from fleet.run import Shard
from fleet.run._workers import fault_from_timeline, worker_shards

ROOT = Path(__file__).resolve().parent.parent
FLEET = [sys.executable, "-m", "fleet"]
SMOKE = str(ROOT / "profiles/smoke.toml")
STATIONS = 40


def test_shards_split_the_stations_exactly() -> None:
    shards = [Shard.parse(f"{i}/3") for i in range(3)]
    owners = [[s for s in shards if index in s] for index in range(100)]
    assert all(len(found) == 1 for found in owners)
    assert [s.size(100) for s in shards] == [34, 33, 33]
    for text in ("3/3", "-1/3", "1", "a/b", "1/0"):
        with pytest.raises(ValueError, match=r"expected I/N with 0 <= I < N"):
            Shard.parse(text)


@pytest.mark.parametrize("machine", [None, Shard(1, 3)])
def test_workers_split_their_shard_exactly(machine: Shard | None) -> None:
    workers = worker_shards(4, machine)
    mine = [i for i in range(1000) if machine is None or i in machine]
    assert sorted(i for w in workers for i in range(1000) if i in w) == mine


def assert_csms_agrees(report: Report, csms: EmbeddedCsms, preflights: int) -> None:
    """Every station ran once (one id, one connection, one boot each), and both sides
    counted the same calls per action. (Each run checks the CSMS with one connection first.)"""
    assert len(csms.received_by_station) == STATIONS
    assert csms.connections_accepted == STATIONS + preflights
    assert all(counts["BootNotification"] == 1 for counts in csms.received_by_station.values())
    answered = {action: stats.answered for action, stats in report.actions.items()}
    assert answered == dict(csms.received)
    assert report.counters.connects == STATIONS


async def fleet(*args: str) -> subprocess.CompletedProcess[bytes]:
    return await trio.run_process(
        [*FLEET, "run", SMOKE, "--stations", str(STATIONS), "--quiet", *args],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )


@pytest.mark.deadline(90)
async def test_two_workers_one_report_equal_to_the_csms_counts(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    async with open_csms(heartbeat_interval=2) as csms:
        result = await fleet(
            "--csms", csms.url, "--workers", "2", "--duration", "6", "--out", str(out)
        )
        assert result.returncode == 0, result.stderr.decode()
        report = read_report(out)
        assert_csms_agrees(report, csms, preflights=1)  # by the parent only
    assert "run by 2 worker processes (shards 0/2, 1/2)" in report.notes
    assert report.counters.sessions_started > 0
    histogram_total = sum(s.latency.count for s in report.actions.values())
    assert histogram_total == sum(s.answered for s in report.actions.values())  # exact merge
    assert "report: " in result.stdout.decode()


@pytest.mark.deadline(90)
async def test_two_machines_shards_merge_into_one_report(tmp_path: Path) -> None:
    parts = [tmp_path / f"shard-{i}.json" for i in range(2)]
    async with open_csms(heartbeat_interval=2) as csms:
        async with trio.open_nursery() as nursery:
            for i, part in enumerate(parts):
                args = (
                    "--csms",
                    csms.url,
                    "--shard",
                    f"{i}/2",
                    "--duration",
                    "5",
                    "--out",
                    str(part),
                )
                nursery.start_soon(fleet, *args)
        merged = tmp_path / "merged.json"
        result = subprocess.run(
            [*FLEET, "report", "merge", *map(str, parts), "-o", str(merged)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        report = read_report(merged)
        assert_csms_agrees(report, csms, preflights=2)  # one per machine
    shards = [read_report(part) for part in parts]
    assert [r.counters.connects for r in shards] == [20, 20]
    assert "shard 0/2 of the stations" in shards[0].notes


@pytest.mark.deadline(90)
async def test_workers_with_the_embedded_csms_in_the_parent(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    result = await fleet("--workers", "2", "--duration", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    report = read_report(out)
    assert report.counters.connects == STATIONS
    assert report.profile["csms"] == "embedded"
    assert "the embedded CSMS ran in the parent process, the stations in the workers" in (
        report.notes
    )
    assert not any("same process as the fleet" in note for note in report.notes)


async def test_workers_inject_faults_on_the_workers_clock(tmp_path: Path) -> None:
    """The parent's fault schedule starts with the workers' runs, not a process start-up
    earlier: a drop at 2 s is at 2 s of the merged timeline, and its recovery is seen."""
    profile = tmp_path / "drop.toml"
    smoke = (ROOT / "profiles/smoke.toml").read_text()
    profile.write_text(
        smoke.split("[thresholds]")[0]  # calls lost in the drop would fail its error bound
        + '\n[[embedded.faults]]\nat = "2s"\ndrop = 0.5\n'
        + '\n[reconnect]\nwait_minimum = "0.1s"\nrandom_range = "0.2s"\n'
    )
    out = tmp_path / "run.json"
    result = await trio.run_process(
        [*FLEET, "run", str(profile), "--stations", str(STATIONS), "--quiet", "--workers", "2",
         "--duration", "6", "--out", str(out)],
        capture_stdout=True, capture_stderr=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    report = read_report(out)
    (fault,) = report.faults
    assert fault.kind == "drop" and 1.8 <= fault.at_s <= 2.6, fault
    assert fault.peak_connects_per_s > 0, fault  # the reconnections are on the timeline
    # The workers heard of it: its window is a phase of theirs, and the disconnects and
    # reconnects it caused are in it, not in the hold.
    assert list(report.phases) == ["ramp", "hold", "fault-1", "drain"]
    window = report.phases["fault-1"]
    (start, _), *_ = window.spans
    assert 1.8 <= start <= 2.6, window.spans
    assert window.counters.disconnects == report.counters.disconnects > 0
    assert window.counters.reconnects > 0
    for name, phase in report.phases.items():  # a reconnect is counted with its connect
        assert phase.counters.reconnects <= phase.counters.connects, name
    # Counted by the workers as it struck, not read off a one-second timeline.
    assert fault.connected_before == STATIONS, fault
    assert fault.recovery_s is not None and fault.recovery_s > 0, fault


def test_a_recovery_within_one_second_is_seen_from_the_reconnections() -> None:
    """At one-second resolution a drop and its recovery can fall in one interval: no dip in
    `connected`, but the reconnections tell."""

    def second(t: float, connected: int, connects: int) -> Interval:
        return Interval(t, 1.0, connected, 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, connects)

    timeline = [second(1, 40, 40), second(2, 40, 0), second(3, 40, 20), second(4, 40, 0)]
    fault = fault_from_timeline("drop", 0.5, 2.2, timeline)
    assert (fault.connected_before, fault.recovery_s, fault.peak_connects_per_s) == (40, 0.8, 20)
    too_few = [second(1, 40, 40), second(2, 40, 0), second(3, 40, 5), second(4, 40, 0)]
    assert fault_from_timeline("drop", 0.5, 2.2, too_few).recovery_s is None
    dipped = [second(1, 40, 40), second(2, 40, 0), second(3, 30, 10), second(4, 40, 10)]
    assert fault_from_timeline("drop", 0.5, 2.2, dipped).recovery_s == 1.8


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # after the name: state, then the parent's pid
            found.append(int(stat.parent.name))
    return found


@pytest.mark.deadline(90)
async def test_a_worker_that_dies_is_reported_and_the_others_finish(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    async with open_csms(heartbeat_interval=2) as csms:
        process = await trio.lowlevel.open_process(
            [*FLEET, "run", SMOKE, "--stations", str(STATIONS), "--quiet", "--csms", csms.url,
             "--workers", "2", "--duration", "8", "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            with trio.fail_after(30):  # both workers connected their stations
                while len(csms.stations) < STATIONS:
                    await trio.sleep(0.1)
            os.kill(max(children_of(process.pid)), signal.SIGKILL)  # the second worker
            stdout, stderr = b"", b""
            assert process.stdout is not None and process.stderr is not None
            with trio.fail_after(60):
                async for chunk in process.stdout:
                    stdout += chunk
                async for chunk in process.stderr:
                    stderr += chunk
                code = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert code == 5, stderr.decode()
    assert "killed by SIGKILL" in stderr.decode()
    report = read_report(out)
    assert report.counters.connects == STATIONS // 2  # the survivor's half
    assert any("killed by SIGKILL; its stations are missing" in note for note in report.notes)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--workers", "0"], "fleet run: --workers: expected a number >= 1 or \"auto\", got '0'"),
        (
            ["--shard", "2/2"],
            "fleet run: --shard: expected I/N with 0 <= I < N (e.g. 0/4), got '2/2'",
        ),
    ],
)
def test_bad_scaling_options_are_one_line(option: list[str], message: str) -> None:
    result = subprocess.run(
        [*FLEET, "run", SMOKE, *option], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.strip() == message


@pytest.mark.deadline(90)
async def test_ctrl_c_reaches_the_workers_once_and_the_merged_report_is_written(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run.json"
    async with open_csms(heartbeat_interval=2) as csms:
        process = await trio.lowlevel.open_process(
            [*FLEET, "run", SMOKE, "--stations", str(STATIONS), "--quiet", "--csms", csms.url,
             "--workers", "2", "--duration", "60", "--out", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            with trio.fail_after(30):
                while len(csms.stations) < STATIONS:
                    await trio.sleep(0.1)
            process.send_signal(signal.SIGINT)
            with trio.fail_after(30):  # the workers drain (well under the 60 s planned)
                code = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        report = read_report(out)
    assert code == 130  # interrupted by SIGINT, as shells report it
    assert report.interrupted
    assert report.counters.connects == STATIONS
    assert report.counters.sessions_started == report.counters.sessions_stopped  # drained


# -- many machines: the Kubernetes Indexed Job in deploy/ -----------------------------------


def test_the_kubernetes_job_runs_every_shard_of_one_run_and_its_profile_loads() -> None:
    import yaml

    from fleet._cli import build_parser
    from fleet.profile import parse_profile

    documents = list(yaml.safe_load_all((ROOT / "deploy/k8s-indexed-job.yaml").read_text()))
    kinds = {doc["kind"]: doc for doc in documents}
    profile = parse_profile(kinds["ConfigMap"]["data"]["profile.toml"], source="configmap")
    job = kinds["Job"]["spec"]
    shards = job["completions"]
    assert job["completionMode"] == "Indexed" and job["parallelism"] == shards
    container = job["template"]["spec"]["containers"][0]
    index = container["env"][0]
    assert index["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    )
    seen: list[int] = []
    for i in range(shards):  # what each pod runs, as Kubernetes expands $(SHARD)
        argv = [arg.replace(f"$({index['name']})", str(i)) for arg in container["args"]]
        args = build_parser().parse_args(argv)
        shard = Shard.parse(args.shard)
        assert shard.count == shards and args.workers == "auto"
        assert args.out == f"/reports/shard-{i}.json"
        seen += [n for n in range(profile.stations.count) if n in shard]
    assert sorted(seen) == list(range(profile.stations.count))  # every station, once
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/profile", "/reports"} <= mounts and args.profile.startswith("/profile/")
    merge = yaml.safe_load((ROOT / "deploy/k8s-merge-pod.yaml").read_text())
    script = " ".join(merge["spec"]["containers"][0]["args"])
    assert "fleet report merge /reports/shard-*.json -o /reports/run.json" in script
    for line in (ROOT / "deploy/Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            assert all((ROOT / source).exists() for source in line.split()[1:-1]), line
