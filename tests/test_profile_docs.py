"""`fleet profile check | docs | schema`: profiles checked without a run, a reference generated
from the model (and committed), and a JSON Schema that the shipped profiles satisfy."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.profile import ProfileError, parse_duration, parse_profile
from fleet.profile._docs import (
    DURATION_PATTERN,
    REGENERATE,
    fields,
    format_duration,
    json_schema,
    reference,
    tables,
)
from fleet.profile._model import (
    _PARAMETERS,
    DurationDistribution,
    NumberDistribution,
    decode_hook,
)
from tests.test_profile import MINIMAL

ROOT = Path(__file__).resolve().parent.parent
PROFILES = sorted((ROOT / "profiles").glob("*.toml"))
FLEET = [sys.executable, "-m", "fleet"]


def fleet(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FLEET, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


# --- fleet profile check --------------------------------------------------------------------


def test_check_accepts_every_shipped_profile_one_line_each_and_runs_nothing(
    tmp_path: Path,
) -> None:
    result = fleet("profile", "check", *map(str, PROFILES), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.split(": ok: ")[0] for line in lines] == [str(path) for path in PROFILES]
    smoke = lines[[path.name for path in PROFILES].index("smoke.toml")]
    assert smoke.endswith(': ok: "smoke", 100 stations for 30s')
    assert list(tmp_path.iterdir()) == []  # no report, no log: nothing ran


def test_check_names_the_bad_file_and_field_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace("count = 10", "count = 0"))
    threshold = tmp_path / "threshold.toml"
    threshold.write_text(MINIMAL + '[thresholds]\np99 = "< 5"\n')
    smoke = ROOT / "profiles/smoke.toml"
    missing = tmp_path / "missing.toml"
    result = fleet("profile", "check", str(bad), str(smoke), str(threshold), str(missing))
    assert result.returncode == 2
    assert result.stdout.splitlines() == [f'{smoke}: ok: "smoke", 100 stations for 30s']
    assert result.stderr.splitlines() == [
        f"fleet profile check: {bad}: stations.count: expected an integer >= 1, got 0",
        f"fleet profile check: {threshold}: thresholds.p99: a latency needs a unit, ms or s",
        f"fleet profile check: {missing}: no such file",
    ]


# --- fleet profile docs: profiles/REFERENCE.md ------------------------------------------------

REFERENCE = ROOT / "profiles/REFERENCE.md"
ROW = re.compile(
    r"\| `(?P<key>[^`]+)` \| (?P<type>.*?) \| (?P<default>.*?) \| (?P<unit>.*?) \| (?P<meaning>.*) \|"
)


def rows(text: str) -> dict[str, dict[str, str]]:
    """The reference's key rows: TOML path -> cells."""
    found = {}
    for line in text.splitlines():
        if match := ROW.fullmatch(line):
            assert match["key"] not in found, f"{match['key']} twice"
            found[match["key"]] = match.groupdict()
    return found


def all_fields() -> list[tuple[str, Any]]:
    return [(table.key(f.name), f) for table in tables() for f in fields(table.struct)]


def test_the_committed_reference_is_what_fleet_profile_docs_prints() -> None:
    result = fleet("profile", "docs")
    assert result.returncode == 0, result.stderr
    assert result.stdout == reference()
    assert REFERENCE.read_text(encoding="utf-8") == result.stdout, (
        f"profiles/REFERENCE.md is stale: the profile model changed. Regenerate it: {REGENERATE}"
    )


def test_every_key_of_the_model_has_a_meaning_and_exactly_one_row() -> None:
    table = rows(reference())
    keys = [key for key, _ in all_fields()]
    assert list(table) == keys  # every field, in the model's order, and nothing else
    for key, field in all_fields():
        assert field.description, f"{key} has no about(...) in fleet/profile/_model.py"
        assert table[key]["meaning"].startswith(field.description[:20].replace("<", "&lt;"))
    # the tables, the lead developer's [end] among them, and arrays of tables
    headings = re.findall(r"^## (.+)$", reference(), flags=re.MULTILINE)
    for heading in ("`[stations]`", "`[session]`", "`[end]`", "`[[embedded.faults]]`"):
        assert heading in headings
    assert "`[[ramp.steps]]`" in headings


def test_rows_say_type_default_unit_and_meaning_as_a_profile_writes_them() -> None:
    table = rows(reference())
    assert table["[session] length"] == {
        "key": "[session] length",
        "type": "duration or [distribution](#distributions)",
        "default": '`{ distribution = "uniform", min = "1m", max = "5m" }`',
        "unit": "s",
        "meaning": "charging time of a session",
    }
    assert table["[stations] count"]["type"] == "integer 1..1,000,000"
    assert table["[stations] count"]["default"] == "**required**"
    assert table["duration"]["type"] == "[duration](#durations)"
    assert table["[session] meter_interval"]["default"] == '`"1m"`'
    assert table["[session] power_kw"]["unit"] == "kW"
    assert table["[ramp] rate"]["unit"] == "stations/s"
    assert table["[ramp] rate"]["default"] == "not set"
    assert table["[embedded] error_share"]["type"] == "[share](#shares) 0..1"
    assert table["[end] mode"]["type"] == '`"stop-sessions"` or `"disconnect"`'
    assert table["[end] window"]["default"] == "not set"
    assert table["[stations] vendor"]["type"] == "string of 1..20 characters"
    assert table["[[embedded.faults]] at"]["default"] == "**required**"
    assert table["ramp"]["default"] == "`{ rate = 50 }`"
    assert table["embedded"]["type"] == "table [`[embedded]`](#embedded)"
    # the secret markers speak for themselves
    assert table["[auth] password"]["meaning"].endswith(
        'Secret: `"***"` in reports, messages and logs'
    )
    assert '`"***"`' in table["csms"]["meaning"]
    assert "***" not in table["[auth] username"]["meaning"]
    assert "Without a `[ramp]` table: `rate = 50`." in reference()


def test_every_documented_default_reads_back_as_the_models_default() -> None:
    table = rows(reference())
    annotations = {
        table_.key(spec.encode_name): spec.type
        for table_ in tables()
        for spec in msgspec.structs.fields(table_.struct)
    }
    for key, field in all_fields():
        default = table[key]["default"]
        if default in ("**required**", "not set"):
            assert field.default in (msgspec.NODEFAULT, None), key
            continue
        text = "{}" if default == "its keys' defaults" else default.strip("`")
        value = tomllib.loads(f"value = {text}")["value"]
        read = msgspec.convert(value, type=annotations[key], dec_hook=decode_hook)
        assert read == field.default, key


@pytest.mark.parametrize(
    ("seconds", "written"),
    [(0, 0), (0.25, "250ms"), (1.5, "1.5s"), (30, "30s"), (90, "1m30s"), (3600, "1h"),
     (5430.5, "1h30m30.5s"), (0.0001, 0.0001)],
)  # fmt: skip
def test_durations_are_written_as_a_profile_would(seconds: float, written: object) -> None:
    assert format_duration(seconds) == written
    assert parse_duration(written) == pytest.approx(seconds)


@given(st.integers(min_value=0, max_value=10**9))
def test_every_written_duration_reads_back(millis: int) -> None:
    assert parse_duration(format_duration(millis / 1000)) == pytest.approx(millis / 1000)


# --- fleet profile schema -------------------------------------------------------------------

SCHEMA = json_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def schema_accepts(document: Any) -> bool:
    return VALIDATOR.is_valid(document)


def test_fleet_profile_schema_prints_a_valid_2020_12_schema() -> None:
    result = fleet("profile", "schema")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == SCHEMA
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", PROFILES, ids=lambda path: path.name)
def test_every_shipped_profile_satisfies_the_schema(path: Path) -> None:
    errors = [error.message for error in VALIDATOR.iter_errors(tomllib.loads(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize(
    ("change", "wrong"),
    [
        (("count = 10", 'count = "ten"'), "a string for an integer"),
        (("count = 10", "count = 10\nconnectors = 17"), "above the maximum"),
        (('duration = "30s"', 'duration = "5 minutes"'), "not a duration"),
        (('duration = "30s"', "duration = -1"), "a negative duration"),
        (('duration = "30s"', "duration = true"), "a boolean for a duration"),
        (("count = 10", "count = 10\ncolor = 1"), "an unknown key"),
        (("[stations]\ncount = 10\n", ""), "no [stations] table"),
        (("", '[session]\nlength = { distribution = "uniform", min = "1m" }\n'), "no max"),
        (("", '[session]\nlength = { distribution = "gamma", mean = "1m" }\n'), "no such kind"),
        (
            ("", '[session]\nlength = { distribution = "exponential", mean = "1m", max = 2 }\n'),
            "a parameter of another kind",
        ),
        (("", '[session]\npower_kw = "7kW"\n'), "a string for a number distribution"),
        (("", '[embedded]\nboot_status = "Maybe"\n'), "not one of the choices"),
        (("", "[embedded]\nerror_share = 1.5\n"), "a share above 1"),
        (
            ("", '[embedded]\naction_delay = { Authorize = "soon" }\n'),
            "a table value of the wrong type",
        ),
        (("", "[[embedded.faults]]\nat = 5\ndrop = 2\n"), "an array table's key"),
        (("", "[auth]\npassword = 1234\n"), "an integer for a secret string"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_the_schema_rejects_what_the_loader_rejects(change: tuple[str, str], wrong: str) -> None:
    old, new = change
    text = MINIMAL.replace(old, new) if old else MINIMAL + new
    assert text != MINIMAL
    assert schema_accepts(tomllib.loads(MINIMAL))
    assert not schema_accepts(tomllib.loads(text)), wrong
    with pytest.raises(ProfileError):
        parse_profile(text, "x.toml")


def test_the_duration_pattern_accepts_exactly_what_parse_duration_reads() -> None:
    tokens = ["1", "2.5", "0", "h", "m", "s", "ms", ".", "-", " ", "x"]
    tried = 0
    for length in range(5):
        for parts in itertools.product(tokens, repeat=length):
            text = "".join(parts)
            try:
                parse_duration(text)
                parsed = True
            except ValueError:
                parsed = False
            assert bool(re.search(DURATION_PATTERN, text)) == parsed, text
            assert schema_accepts({"name": "t", "duration": text, "stations": {"count": 1}}) == (
                parsed
            ), text
            tried += 1
    assert tried > 10_000


@given(st.text(alphabet="0123456789.hms", max_size=12))
def test_the_duration_pattern_agrees_with_parse_duration_on_any_text(text: str) -> None:
    try:
        parse_duration(text)
        parsed = True
    except ValueError:
        parsed = False
    assert bool(re.search(DURATION_PATTERN, text)) == parsed


@pytest.mark.parametrize("marker", [DurationDistribution, NumberDistribution])
@pytest.mark.parametrize("amount", [0, -1, 1])
def test_distribution_tables_agree_with_the_decoder(marker: type, amount: int) -> None:
    # Each parameter of each kind at 0, below 0 and above 0 (the others at a valid value):
    # the schema accepts the table exactly when decoding does.
    definition = {"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{marker.__name__}"}
    validator = jsonschema.Draft202012Validator(definition)
    for kind, names in _PARAMETERS.items():
        for name in names:
            table = {"distribution": kind} | {
                other: 0 if kind == "uniform" else 1 for other in names
            }
            table[name] = amount
            if kind == "uniform" and name == "min" and amount > 0:
                table["max"] = amount
            try:
                msgspec.convert(table, type=marker, dec_hook=decode_hook)
                decoded = True
            except msgspec.ValidationError:
                decoded = False
            assert validator.is_valid(table) == decoded, table
            assert validator.is_valid(amount) == (amount >= 0)  # a constant


def test_schema_descriptions_and_defaults_are_the_models() -> None:
    definitions = SCHEMA["$defs"]
    for table in tables():
        properties = definitions[table.struct.__name__]["properties"]
        assert list(properties) == [field.name for field in fields(table.struct)]
        for field in fields(table.struct):
            prop = properties[field.name]
            assert prop["description"].startswith(field.description), field.name
            assert "null" not in json.dumps(prop)  # TOML has no null: such a key is left out
            if "default" in prop:  # a default satisfies its own key's schema
                own = {k: v for k, v in prop.items() if k != "default"}
                check = jsonschema.Draft202012Validator({"$defs": definitions, **own})
                assert check.is_valid(prop["default"]), field.name
    session = definitions["SessionSection"]["properties"]
    assert session["length"]["description"] == "charging time of a session"
    assert session["length"]["default"] == {"distribution": "uniform", "min": "1m", "max": "5m"}
    assert session["power_kw"]["description"] == "charging power of a session (kW)"
    assert definitions["Profile"]["properties"]["ramp"]["default"] == {"rate": 50}
    assert definitions["Profile"]["required"] == ["name", "duration", "stations"]
    assert definitions["AuthSection"]["properties"]["password"]["description"].endswith(
        'Secret: "***" in reports, messages and logs'
    )
