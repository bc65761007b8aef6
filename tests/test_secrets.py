"""Secrets never land anywhere: reports, `fleet report` output, HTML, logs, messages.

The end-to-end test runs the fleet as a user would (subprocesses on loopback) with unique
passwords, then greps every file it left and everything it printed for them.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import msgspec
import pytest

from fleet.metrics import Metrics, Report, build_report, read_report, write_report
from fleet.profile import (
    REDACTED,
    ProfileError,
    Secret,
    parse_profile,
    redact_text,
    redact_url,
    redacted,
    secret_values,
)
from fleet.report import merge, render_html

FLEET = [sys.executable, "-m", "fleet"]
STATIONS = 10
WALL = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def _forms(user_password: list[tuple[str, str]]) -> set[str]:
    """Each password, and the Basic-auth token of each user:password."""
    forms = {password for _, password in user_password}
    for user, password in user_password:
        forms.add(base64.b64encode(f"{user}:{password}".encode()).decode("ascii"))
    return forms


class Transcript:
    """Commands run in `root`/work, and everything they printed. Their inputs (which hold
    the secrets) go in `root`/in: what is under work and what they print must not."""

    def __init__(self, root: Path) -> None:
        self.inputs = root / "in"
        self.cwd = root / "work"
        self.inputs.mkdir()
        self.cwd.mkdir()
        self.outputs: list[tuple[str, str]] = []
        # Temporary files of the run (workers' reports, a report saved as a fallback) go
        # here too, so they are grepped with the rest.
        self.env = {**os.environ, "TMPDIR": str(self.cwd / "tmp")}
        (self.cwd / "tmp").mkdir()

    def fleet(self, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*FLEET, *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.outputs.append((" ".join(args), result.stdout + result.stderr))
        if expect is not None:
            assert result.returncode == expect, (args, result.stdout, result.stderr)
        return result

    def assert_nowhere(self, secrets: set[str]) -> None:
        """No output and no file under `cwd` (read as bytes, any name) holds a secret."""
        files = [path for path in self.cwd.rglob("*") if path.is_file()]
        for path in files:
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"{secret} in {path}"
        for command, text in self.outputs:
            for secret in secrets:
                assert secret not in text, f"{secret} in the output of {command}:\n{text}"


class CsmsProcess:
    """`fleet csms` as a subprocess; `url` once it listens, `stop()` gives what it printed."""

    def __init__(self, transcript: Transcript, *options: str) -> None:
        self.transcript = transcript
        self.process = subprocess.Popen(
            [*FLEET, "csms", "--port", "0", *options],
            cwd=transcript.cwd,
            env=transcript.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,  # unbuffered: what readline() does not take, communicate() gets
        )
        assert self.process.stdout is not None
        # "" if it exited: then it fails below
        self.first_line = self.process.stdout.readline().decode()
        assert " listening on " in self.first_line, self.process.communicate(timeout=10)
        self.url = self.first_line.split(" listening on ")[1].split(" ")[0]
        self.port = str(urlsplit(self.url).port)

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        stdout, stderr = self.process.communicate(timeout=15)
        assert self.process.returncode == 0, stderr
        output = self.first_line + stdout.decode() + stderr.decode()
        self.transcript.outputs.append(("csms", output))
        return output


def _profile(path: Path, *, csms: str, password: str, duration: str = "1.5s") -> Path:
    path.write_text(
        f"""name = "secrets"
csms = "{csms}"
duration = "{duration}"

[stations]
count = {STATIONS}
id_pattern = "CP-{{index}}"
versions = {{ "1.6" = 0.5, "2.0.1" = 0.5 }}

[ramp]
duration = 0

[session]
first_start = 0
length = "1s"

[auth]
password = "{password}"

[timeouts]
drain = "2s"
""",
        encoding="utf-8",
    )
    return path


def test_no_file_or_output_of_a_run_and_its_reports_holds_a_password(tmp_path: Path) -> None:
    password = _unique("pw-")  # in the profile's [auth]: sent as Basic auth, accepted
    url_password = _unique("url-")  # in the --csms URL
    wrong_password = _unique("wrong-")  # refused by the CSMS
    station_ids = [f"CP-{index}" for index in range(STATIONS)]
    secrets = _forms(
        [(station, password) for station in station_ids]
        + [(station, wrong_password) for station in station_ids]
        + [("cpuser", url_password)]
    )
    run = Transcript(tmp_path)
    inputs, work = run.inputs, run.cwd
    csms = CsmsProcess(run, *[f"--basic-auth={station}:{password}" for station in station_ids])
    try:
        profile = _profile(inputs / "profile.toml", csms="embedded", password=password)
        # A run that authenticates, with a password in its URL too: every station connects.
        shown = run.fleet(
            "run", str(profile), "--quiet", "--csms", f"ws://cpuser:{url_password}@127.0.0.1:{csms.port}/ocpp",
            "--out", "out/run.json", "--html", "out/run.html",
        )  # fmt: skip
        report = read_report(work / "out/run.json")
        assert report.counters.connects == STATIONS, shown.stdout
        assert report.profile["auth"]["password"] == REDACTED
        assert report.profile["csms"] == f"ws://cpuser:{REDACTED}@127.0.0.1:{csms.port}/ocpp"
        # Refused credentials: the message says so and names the URL, not the password.
        wrong = _profile(inputs / "wrong.toml", csms=csms.url, password=wrong_password)
        refused = run.fleet("run", str(wrong), "--quiet", "--out", "out/wrong.json", expect=None)
        assert refused.returncode != 0
        assert "401" in refused.stderr
    finally:
        csms_output = csms.stop()
    assert "HTTP Basic auth required: 10 station(s)" in csms_output
    assert "refused" in csms_output  # the wrong password's handshake, counted
    # The same profile on the embedded CSMS, over two worker processes (merged reports).
    run.fleet(
        "run", str(profile), "--quiet", "--workers", "2", "--duration", "1",
        "--out", "out/workers.json", "--html", "out/workers.html",
    )  # fmt: skip
    assert read_report(work / "out/workers.json").profile["auth"]["password"] == REDACTED
    for form in ([], ["--json"], ["--csv"]):
        run.fleet("report", "show", "out/run.json", *form)
    run.fleet(
        "report", "merge", "out/run.json", "out/workers.json", "-o", "out/merged.json", "--force"
    )
    run.fleet("report", "compare", "out/run.json", "out/workers.json", "out/merged.json")
    run.fleet("report", "html", "out/run.json", "out/workers.json", "-o", "out/page.html")
    merged = json.loads(run.fleet("report", "show", "out/merged.json", "--json").stdout)
    assert merged["profile"]["auth"]["password"] == REDACTED
    run.assert_nowhere(secrets)


def test_fleet_csms_says_nothing_of_its_passwords(tmp_path: Path) -> None:
    password = _unique("pw-")
    transcript = Transcript(tmp_path)
    # A --basic-auth without a station: refused, without quoting it.
    transcript.fleet("csms", "--basic-auth", f":{password}", expect=2)
    # A port that is taken (by the first CSMS): one line, no password.
    first = CsmsProcess(transcript, "--basic-auth", f"CP-1:{password}")
    try:
        transcript.fleet("csms", "--port", first.port, "--basic-auth", f"CP-1:{password}", expect=1)
    finally:
        first.stop()
    transcript.assert_nowhere(_forms([("CP-1", password)]))


def test_profile_errors_quote_no_password(tmp_path: Path) -> None:
    password = _unique("")
    digits = str(int(password[:12], 16))  # a password TOML reads as an integer
    transcript = Transcript(tmp_path)
    cases = {
        f"[auth]\npassword = {digits}\n": "auth.password: expected a string, got an integer",
        f'auth = "{password}"\n': "auth: expected a table, got a string",
        f'csms = "http://cp:{password}@example.com/ocpp"\n': "http://cp:***@example.com/ocpp",
        f'csms = "ws://cp:{password}@example.com:99999/"\n': "ws://cp:***@example.com:99999/",
    }
    for index, (table, message) in enumerate(cases.items()):
        path = transcript.inputs / f"bad-{index}.toml"
        head, tables = ("", table) if table.startswith("[") else (table, "")
        path.write_text(
            f'name = "x"\nduration = 1\n{head}[stations]\ncount = 1\n{tables}', encoding="utf-8"
        )
        result = transcript.fleet("run", str(path), "--quiet", expect=2)
        assert message in result.stderr
    # The same checks on --csms.
    good = transcript.inputs / "good.toml"
    good.write_text('name = "x"\nduration = 1\n[stations]\ncount = 1\n', encoding="utf-8")
    result = transcript.fleet(
        "run", str(good), "--quiet", "--csms", f"ftp://cp:{password}@example.com/", expect=2
    )
    assert "ftp://cp:***@example.com/" in result.stderr
    transcript.assert_nowhere({password, digits})


def _old_report(path: Path, password: str) -> None:
    """A report as versions before redaction wrote it: the profile in clear."""
    metrics = Metrics(0.0)
    metrics.call_sent("Heartbeat", 0.0, 0.0)
    metrics.call_answered("Heartbeat", 0.0, 0.0, 0.01)
    metrics.tick(1.0)
    report = build_report(
        metrics, name="old", profile={}, started_at=WALL, ended_at=WALL, ended_monotonic=1.0
    )
    clear = msgspec.to_builtins(report)
    clear["profile"] = {
        "name": "old",
        "csms": f"wss://cp:{password}@csms.example.com/ocpp",
        "auth": {"password": password, "username": "cp"},
        "legacy": {"api_token": password},  # a field this version does not know
    }
    clear["notes"] = [f"connected to wss://cp:{password}@csms.example.com/ocpp"]
    path.write_bytes(msgspec.json.encode(clear))


def test_an_old_report_with_a_password_in_clear_is_shown_and_merged_without_it(
    tmp_path: Path,
) -> None:
    password = _unique("old-")
    transcript = Transcript(tmp_path)
    old = transcript.inputs / "old.json"
    _old_report(old, password)
    assert password in old.read_text()
    for form in ([], ["--json"], ["--csv"]):
        transcript.fleet("report", "show", str(old), *form)
    transcript.fleet("report", "merge", str(old), str(old), "-o", "merged.json", "--force")
    transcript.fleet("report", "compare", str(old), "merged.json")
    transcript.fleet("report", "html", str(old), "-o", "old.html")
    shown = json.loads(transcript.fleet("report", "show", str(old), "--json").stdout)
    assert shown["profile"]["auth"] == {"password": REDACTED, "username": "cp"}
    assert shown["profile"]["csms"] == f"wss://cp:{REDACTED}@csms.example.com/ocpp"
    assert shown["profile"]["legacy"] == {"api_token": REDACTED}
    transcript.assert_nowhere(_forms([("cp", password)]))


# --- the redaction functions ----------------------------------------------------------------


class _Vault(msgspec.Struct, frozen=True, kw_only=True):
    """A future section with a secret: declared once, by its marker."""

    token: Annotated[str | None, Secret] = None
    label: str = ""


class _Options(msgspec.Struct, frozen=True, kw_only=True):
    vaults: tuple[_Vault, ...] = ()
    by_name: dict[str, _Vault] = {}


def test_a_new_secret_field_is_redacted_by_its_marker_alone() -> None:
    options = _Options(
        vaults=(_Vault(token="t1", label="a"), _Vault()),
        by_name={"x": _Vault(token="t2")},
    )
    assert redacted(options) == {
        "vaults": ({"token": REDACTED, "label": "a"}, {"token": None, "label": ""}),
        "by_name": {"x": {"token": REDACTED, "label": ""}},
    }
    assert secret_values(options) == {"t1", "t2"}
    # On builtins, as a report holds them; and a second time changes nothing.
    data = msgspec.to_builtins(options)
    assert redacted(redacted(data, _Options), _Options) == redacted(options)


def test_a_profile_is_redacted_and_keeps_everything_else() -> None:
    text = (
        'name = "p"\nduration = 5\ncsms = "ws://cp:s3cr3t-url@csms.example.com:9000/ocpp"\n'
        '[stations]\ncount = 2\n[auth]\npassword = "s3cr3t-{station}"\nusername = "cp"\n'
    )
    profile = parse_profile(text)
    data = redacted(profile)
    assert data["auth"] == {"password": REDACTED, "username": "cp"}
    assert data["csms"] == f"ws://cp:{REDACTED}@csms.example.com:9000/ocpp"
    plain = msgspec.to_builtins(profile)
    for key in plain.keys() - {"auth", "csms"}:
        assert data[key] == plain[key]
    assert redacted(msgspec.to_builtins(profile)) == data
    without = parse_profile('name = "p"\nduration = 5\n[stations]\ncount = 2\n')
    assert redacted(without)["auth"] == {"password": None, "username": None}
    # In text: the per-station password, the URL's, and any Basic token.
    secrets = secret_values(profile)
    line = "CP-7 sent s3cr3t-CP-7; url ws://cp:s3cr3t-url@h/ocpp; Authorization: Basic Y3A6eA=="
    assert redact_text(line, secrets) == (
        "CP-7 sent ***; url ws://cp:***@h/ocpp; Authorization: Basic ***"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ws://cp:pw@h:9000/ocpp", "ws://cp:***@h:9000/ocpp"),
        ("wss://cp@h/ocpp", "wss://cp@h/ocpp"),  # a user name alone is no secret
        ("ws://h/ocpp", "ws://h/ocpp"),
        ("embedded", "embedded"),
        ("cp:pw@h", "cp:***@h"),  # not a URL, but what a URL's password would be is hidden
        ("ws://cp:pw@[::1/x", "ws://cp:***@[::1/x"),  # urlsplit refuses it
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_reports_are_redacted_however_they_are_made(tmp_path: Path) -> None:
    text = 'name = "p"\nduration = 1\n[stations]\ncount = 1\n[auth]\npassword = "in-memory-pw"\n'
    profile = msgspec.to_builtins(parse_profile(text))
    metrics = Metrics(0.0)
    built = build_report(
        metrics,
        name="p",
        profile=profile,
        started_at=WALL,
        ended_at=WALL,
        ended_monotonic=1.0,
        notes=["used in-memory-pw"],
    )
    assert built.profile["auth"]["password"] == REDACTED
    assert built.notes == ["used ***"]
    # A report given its profile afterwards (as a merge of workers' reports is) is still
    # written, merged and rendered without it.
    raw: Report = msgspec.structs.replace(built, profile=profile)
    write_report(raw, tmp_path / "r.json")
    assert "in-memory-pw" not in (tmp_path / "r.json").read_text()
    assert merge([raw]).profile["auth"]["password"] == REDACTED
    assert "in-memory-pw" not in render_html([raw])


def test_profile_error_messages_hide_secrets_in_process() -> None:
    base = 'name = "x"\nduration = 1\n[stations]\ncount = 1\n'
    with pytest.raises(ProfileError) as caught:
        parse_profile(base + "[auth]\npassword = true\n", "p.toml")
    assert str(caught.value) == "p.toml: auth.password: expected a string, got true or false"
    profile = parse_profile(base)
    with pytest.raises(ProfileError) as caught:
        profile.with_overrides(csms="ws://cp:hidden-pw@h:70000/")
    assert "hidden-pw" not in str(caught.value)


# --- secrets in a campaign's OCPP payload ---------------------------------------------------

_CAMPAIGNS = """
[[embedded.campaigns]]
at = "1s"
action = "SetVariables"
payload = {{ setVariableData = [{{ attributeValue = "{basic}", component = {{ name = "SecurityCtrlr" }}, variable = {{ name = "basicauthpassword" }} }}, {{ attributeValue = "visible-60", component = {{ name = "OCPPCommCtrlr" }}, variable = {{ name = "HeartbeatInterval" }} }}] }}
[[embedded.campaigns]]
at = "1s"
action = "SetVariables"
payload = {{ setVariableData = [{{ attributeValue = "{key}", component = {{ name = "SecurityCtrlr" }}, variable = {{ name = "AuthorizationKey" }} }}] }}
[[embedded.campaigns]]
at = "1s"
action = "SetNetworkProfile"
payload = {{ configurationSlot = 1, connectionData = {{ ocppVersion = "OCPP20", ocppTransport = "JSON", ocppCsmsUrl = "ws://csms.example.com/ocpp", messageTimeout = 30, securityProfile = 1, ocppInterface = "Wired0", apn = {{ apn = "internet", apnAuthentication = "AUTO", apnPassword = "{apn}" }}, vpn = {{ server = "vpn.example.com", user = "u", password = "{vpn}", key = "{vpn_key}", type = "IPSec" }} }} }}
"""


def _campaign_secrets() -> dict[str, str]:
    # Short: SetNetworkProfile's apnPassword and vpn password hold at most 20 characters.
    return {name: f"S{uuid.uuid4().hex[:15]}" for name in ("basic", "key", "apn", "vpn", "vpn_key")}


def _campaign_profile(secrets: dict[str, str], versions: str = '"2.0.1" = 1') -> str:
    return (
        f'name = "c"\nduration = 5\ncsms = "embedded"\n[stations]\ncount = 2\n'
        f"versions = {{ {versions} }}\n" + _CAMPAIGNS.format(**secrets)
    )


def test_secrets_in_campaign_payloads_never_land_in_reports_or_output(tmp_path: Path) -> None:
    secrets = _campaign_secrets()
    profile = parse_profile(_campaign_profile(secrets))
    data = redacted(profile)
    first = data["embedded"]["campaigns"][0]["payload"]["setVariableData"]
    assert [item["attributeValue"] for item in first] == [REDACTED, "visible-60"]
    connection = data["embedded"]["campaigns"][2]["payload"]["connectionData"]
    assert connection["apn"] == {
        "apn": "internet",
        "apnAuthentication": "AUTO",
        "apnPassword": REDACTED,
    }
    assert connection["vpn"]["password"] == connection["vpn"]["key"] == REDACTED
    assert connection["vpn"]["server"] == "vpn.example.com"
    assert secret_values(profile) == set(secrets.values())
    # A 1.6 ChangeConfiguration of the Security Whitepaper's AuthorizationKey, as builtins.
    change = {"key": "AuthorizationKey", "value": "0123456789abcdef"}
    assert redacted(change, dict) == {"key": "AuthorizationKey", "value": REDACTED}
    assert redacted({"key": "HeartbeatInterval", "value": "60"}, dict)["value"] == "60"

    transcript = Transcript(tmp_path)
    built = build_report(
        Metrics(0.0),
        name="c",
        profile=msgspec.to_builtins(profile),
        started_at=WALL,
        ended_at=WALL,
        ended_monotonic=1.0,
        notes=[f"a log line quoting {secrets['basic']}"],
    )
    assert json.dumps(msgspec.to_builtins(built)).count(REDACTED) >= 6
    write_report(built, transcript.cwd / "r.json")
    for form in ([], ["--json"], ["--csv"]):
        transcript.fleet("report", "show", "r.json", *form)
    transcript.fleet("report", "merge", "r.json", "r.json", "-o", "merged.json", "--force")
    transcript.fleet("report", "html", "r.json", "-o", "r.html")
    shown = json.loads(transcript.fleet("report", "show", "merged.json", "--json").stdout)
    assert (
        shown["profile"]["embedded"]["campaigns"][1]["payload"]["setVariableData"][0][
            "attributeValue"
        ]
        == REDACTED
    )
    transcript.assert_nowhere(set(secrets.values()))


def test_profile_errors_about_a_campaign_payload_quote_no_secret(tmp_path: Path) -> None:
    secrets = _campaign_secrets()
    secrets["basic"] = secrets["basic"] * 20  # over 1.6's 500 characters: refused for 1.6
    transcript = Transcript(tmp_path)
    path = transcript.cwd / "p.toml"
    path.write_text(_campaign_profile(secrets, '"1.6" = 1, "2.0.1" = 1'), encoding="utf-8")
    result = transcript.fleet("profile", "check", "p.toml", expect=2)
    assert "embedded.campaigns[0].payload: OCPP 1.6 stations cannot get this SetVariables" in (
        result.stderr
    )
    # An invalid 2.0.1 request whose message would quote the secret (an enumeration's value).
    wrong = _CAMPAIGNS.format(**secrets).replace('"OCPP20"', f'"{secrets["apn"]}"')
    path.write_text(_campaign_profile(secrets).split("[[embedded")[0] + wrong, encoding="utf-8")
    result = transcript.fleet("profile", "check", "p.toml", expect=2)
    assert "embedded.campaigns[2].payload: not a valid OCPP 2.0.1 SetNetworkProfile" in (
        result.stderr
    )
    path.unlink()
    transcript.assert_nowhere(set(secrets.values()))
