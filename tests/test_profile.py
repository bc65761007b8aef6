"""Profiles: the shipped files load, values decode as documented, and every mistake gets a
one-line message that names the field."""

from __future__ import annotations

import math
import random
import statistics
from pathlib import Path

import msgspec
import pytest

from fleet.profile import (
    Distribution,
    Profile,
    ProfileError,
    RampStep,
    load_profile,
    parse_duration,
    parse_profile,
)

PROFILES = Path(__file__).resolve().parent.parent / "profiles"

# The smallest valid profile; error cases append to it or replace a line of it.
MINIMAL = 'name = "t"\nduration = "30s"\n[stations]\ncount = 10\n'


def problem(text: str) -> str:
    """The message parse_profile gives for `text`, which must be invalid."""
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, "x.toml")
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_thresholds_of_actions_the_stations_produce_load() -> None:
    """Every threshold form of the grammar still loads when its action can be produced."""
    table = {
        "p99": "< 2s",
        "p99.9": "< 3s",
        "errors": "< 0.1%",
        "timeouts": "== 0",
        "reaction.p99": "< 5s",
        "answer.max": "< 1s",
        "response.p99": "< 1s",
        "BootNotification.p99": "< 500ms",
        "ramp:BootNotification.p99.9": "< 1s",
        "Authorize.response.p99": "< 200ms",
        "Heartbeat.errors": "== 0%",
        "StartTransaction.timeouts": "== 0",
        "TransactionEvent.p99": "< 1s",
        "run:SetChargingProfile.reaction.p99": "< 2s",
        "fault-1:ReserveNow.answer.p99": "< 50ms",
        "DataTransfer.p99": "< 1s",  # both ways
        "DataTransfer.answer.p99": "< 1s",
    }
    lines = "".join(f'"{key}" = "{value}"\n' for key, value in table.items())
    both = MINIMAL + 'versions = { "1.6" = 1, "2.0.1" = 1 }\n'
    profile = parse_profile(both + "[thresholds]\n" + lines, "x.toml")
    assert profile.thresholds == table


# --- the shipped profiles -------------------------------------------------------------------


def test_the_documented_profiles_are_shipped() -> None:
    names = {path.stem for path in PROFILES.glob("*.toml")}
    assert {"smoke", "ramp-1k", "soak-10k", "boot-storm", "mixed", "chaos"} <= names


@pytest.mark.parametrize("path", sorted(PROFILES.glob("*.toml")), ids=lambda path: path.name)
def test_every_shipped_profile_loads(path: Path) -> None:
    profile = load_profile(path)
    assert profile.name == path.stem
    assert profile.description
    assert math.isclose(sum(profile.stations.versions.values()), 1.0)


def test_smoke_profile_values() -> None:
    profile = load_profile(PROFILES / "smoke.toml")
    assert profile.csms == "embedded"
    assert profile.duration == 30.0
    assert profile.stations.count == 100
    assert profile.stations.versions == {"1.6": 0.5, "2.0.1": 0.5}
    assert profile.stations.connectors == 2
    assert profile.ramp.rate == 50.0
    assert profile.ramp.duration is None
    assert profile.ramp.steps == ()
    assert profile.session.first_start == Distribution.uniform(0.0, 5.0)
    assert profile.session.length == Distribution.uniform(5.0, 12.0)
    assert profile.session.idle == Distribution.exponential(5.0)
    assert profile.session.meter_interval == 3.0
    assert profile.embedded.heartbeat_interval == 10
    assert profile.timeouts.drain == 10.0
    # Untouched sections keep their defaults.
    assert profile.session.power_kw == Distribution.uniform(3.7, 22.0)
    assert profile.timeouts.call == 30.0
    assert profile.reconnect.repeat_times == 5
    assert profile.seed == 1


def test_ramp_1k_steps() -> None:
    profile = load_profile(PROFILES / "ramp-1k.toml")
    assert profile.ramp.steps == (
        RampStep(at=0.0, rate=50.0),
        RampStep(at=10.0, rate=100.0),
        RampStep(at=15.0, rate=200.0),
    )
    assert profile.duration == 120.0


def test_boot_storm_connects_everyone_at_once_and_never_charges() -> None:
    profile = load_profile(PROFILES / "boot-storm.toml")
    assert profile.ramp.duration == 0.0
    assert profile.session.first_start == Distribution.constant(3600.0)
    assert profile.session.first_start.mean > profile.duration


# --- defaults and decoded types -------------------------------------------------------------


def test_defaults() -> None:
    profile = parse_profile(MINIMAL)
    assert profile.csms == "embedded"
    assert profile.behaviour is None
    assert profile.ramp.rate == 50.0  # no [ramp] table
    assert profile.stations.id_pattern == "SIM-{index:06d}"
    assert profile.stations.station_id(7) == "SIM-000007"
    assert profile.stations.versions == {"1.6": 1.0}
    assert profile.session.idle == Distribution.exponential(120.0)
    assert profile.session.tag_pool()[:2] == ("TAG-0", "TAG-1")
    assert len(profile.session.tag_pool()) == 1000
    assert profile.embedded.boot_status == "Accepted"
    assert profile.thresholds == {}
    queue = profile.transaction_messages
    assert (queue.attempts, queue.retry_interval) == (3, 10.0)
    assert (queue.queue_limit, queue.overflow) == (1000, "drop-meter-values")


def test_decoded_durations_are_plain_floats() -> None:
    profile = parse_profile(MINIMAL)
    assert type(profile.duration) is float
    assert type(profile.timeouts.call) is float
    # ... so a profile encodes as is, e.g. into a run's report.
    encoded = msgspec.json.decode(msgspec.json.encode(profile))
    assert encoded["duration"] == 30.0
    assert encoded["session"]["length"] == {"kind": "uniform", "a": 60.0, "b": 300.0}


def test_version_shares_are_scaled_to_sum_1() -> None:
    text = MINIMAL + 'versions = { "1.6" = 3, "2.0.1" = 1 }\n'
    assert parse_profile(text).stations.versions == {"1.6": 0.75, "2.0.1": 0.25}


def test_auth_credentials_per_station() -> None:
    text = MINIMAL + '[auth]\npassword = "secret-{station}"\n'
    auth = parse_profile(text).auth
    assert auth.credentials("CP-1") == ("CP-1", "secret-CP-1")
    assert parse_profile(MINIMAL).auth.credentials("CP-1") is None


def test_tls_paths_are_relative_to_the_profile(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("not checked here")
    path = tmp_path / "tls.toml"
    path.write_text(MINIMAL.replace("duration", 'csms = "wss://h/ocpp"\nduration') + TLS_CA)
    assert load_profile(path).tls.ca_file == str(tmp_path / "certs" / "ca.pem")


TLS_CA = '[tls]\nca_file = "certs/ca.pem"\n'


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ('"250ms"', 0.25),
        ('"30s"', 30.0),
        ('"5m"', 300.0),
        ('"1h"', 3600.0),
        ('"1m30s"', 90.0),
        ('"1.5s"', 1.5),
        ("90", 90.0),
        ("1.5", 1.5),
    ],
)
def test_durations(written: str, seconds: float) -> None:
    text = MINIMAL.replace('duration = "30s"', f"duration = {written}")
    assert parse_profile(text).duration == seconds


def test_parse_duration_directly() -> None:
    assert parse_duration("2h30m") == 9000.0
    assert parse_duration(0) == 0.0
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration("30 sec")


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            '"30 sec"',
            'x.toml: duration: expected a duration (seconds, or a string like "250ms", "30s", "5m", "1m30s"), got "30 sec"',
        ),
        (
            '""',
            'x.toml: duration: expected a duration (seconds, or a string like "250ms", "30s", "5m", "1m30s"), got ""',
        ),
        ('"30s1m"', "x.toml: duration: expected a duration (seconds, or a string"),
        ("-1", "x.toml: duration: expected a duration >= 0, got -1"),
        ("0", "x.toml: duration: expected a duration > 0, got 0"),
        ("true", "x.toml: duration: expected a duration (seconds, or a string"),
        ("inf", "x.toml: duration: expected a finite duration, got inf"),
    ],
)
def test_bad_durations(written: str, message: str) -> None:
    assert problem(MINIMAL.replace('duration = "30s"', f"duration = {written}")).startswith(message)


# --- distributions --------------------------------------------------------------------------

SAMPLES = 2000


def draws(distribution: Distribution, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [distribution.sample(rng) for _ in range(SAMPLES)]


def test_constant() -> None:
    assert draws(Distribution.constant(4.0))[:3] == [4.0, 4.0, 4.0]
    assert Distribution.constant(4.0).mean == 4.0


def test_uniform_stays_within_bounds() -> None:
    samples = draws(Distribution.uniform(5.0, 12.0))
    assert all(5.0 <= sample <= 12.0 for sample in samples)
    # Spread over the range, not stuck at one end.
    assert min(samples) < 5.5 and max(samples) > 11.5
    assert Distribution.uniform(5.0, 12.0).mean == 8.5


def test_exponential_mean() -> None:
    samples = draws(Distribution.exponential(120.0))
    assert min(samples) >= 0
    # An exponential's standard deviation equals its mean, so the mean of 2000 draws has a
    # standard error of 120 / sqrt(2000) = 2.7 s; 10 % (12 s) is over 4 standard errors.
    assert statistics.fmean(samples) == pytest.approx(120.0, rel=0.10)


def test_normal_is_clipped_at_zero() -> None:
    distribution = Distribution.normal(1.0, 5.0)  # mostly below 0 before clipping
    samples = draws(distribution)
    assert min(samples) == 0.0
    # `mean` is the mean after clipping: 1 * Phi(0.2) + 5 * phi(0.2) = 2.53. Draws have a
    # standard deviation of about 3.4, so 2000 of them average within 0.08 (one standard
    # error); 0.4 is 5 of them.
    assert distribution.mean == pytest.approx(2.53, abs=0.01)
    assert statistics.fmean(samples) == pytest.approx(distribution.mean, abs=0.4)


def test_lognormal_median() -> None:
    distribution = Distribution.lognormal(60.0, 0.5)
    samples = draws(distribution)
    assert min(samples) > 0
    # The sample median of 2000 draws is within a few percent of the true median.
    assert statistics.median(samples) == pytest.approx(60.0, rel=0.10)
    assert distribution.mean == pytest.approx(60.0 * math.exp(0.125))


def test_sampling_is_reproducible() -> None:
    assert draws(Distribution.exponential(3.0), seed=1) == draws(
        Distribution.exponential(3.0), seed=1
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('"2m"', Distribution.constant(120.0)),
        ("45", Distribution.constant(45.0)),
        ('{ distribution = "constant", value = "1m" }', Distribution.constant(60.0)),
        ('{ distribution = "uniform", min = "1m", max = 90 }', Distribution.uniform(60.0, 90.0)),
        ('{ distribution = "exponential", mean = "250ms" }', Distribution.exponential(0.25)),
        ('{ distribution = "normal", mean = "5m", stddev = "30s" }', Distribution.normal(300, 30)),
        (
            '{ distribution = "lognormal", median = "2m", sigma = 0.5 }',
            Distribution.lognormal(120, 0.5),
        ),
    ],
)
def test_distributions_in_toml(written: str, expected: Distribution) -> None:
    profile = parse_profile(MINIMAL + f"[session]\nlength = {written}\n")
    assert profile.session.length == expected


def test_number_distributions_take_plain_numbers() -> None:
    text = MINIMAL + '[session]\npower_kw = { distribution = "normal", mean = 11, stddev = 2 }\n'
    assert parse_profile(text).session.power_kw == Distribution.normal(11.0, 2.0)


# --- error messages -------------------------------------------------------------------------

ERRORS = [
    # unknown fields, at the top and in a table
    ("statoins = 1\n" + MINIMAL, "x.toml: unknown field 'statoins'"),
    (MINIMAL + "cont = 1\n", "x.toml: stations: unknown field 'cont'"),
    (MINIMAL + "[ramp]\nrate = 5\nsteps = []\nburst = 1\n", "x.toml: ramp: unknown field 'burst'"),
    # missing and mistyped
    ('name = "t"\n[stations]\ncount = 1\n', "x.toml: missing required field 'duration'"),
    (
        MINIMAL.replace("count = 10", "connectors = 2"),
        "x.toml: stations: missing required field 'count'",
    ),
    (
        MINIMAL.replace("count = 10", 'count = "ten"'),
        'x.toml: stations.count: expected an integer, got "ten"',
    ),
    (
        MINIMAL.replace("count = 10", "count = 0"),
        "x.toml: stations.count: expected an integer >= 1, got 0",
    ),
    (
        MINIMAL.replace("count = 10", "count = 2_000_000"),
        "x.toml: stations.count: expected an integer <= 1000000, got 2000000",
    ),
    ('name = "t"\nduration = 1\nstations = 3\n', "x.toml: stations: expected a table, got 3"),
    (
        MINIMAL + "[session]\nauthorize = 1\n",
        "x.toml: session.authorize: expected true or false, got 1",
    ),
    (
        MINIMAL + "connectors = 17\n",
        "x.toml: stations.connectors: expected an integer <= 16, got 17",
    ),
    (
        MINIMAL + 'vendor = "a-vendor-name-too-long-for-ocpp"\n',
        'x.toml: stations.vendor: expected a string of at most 20 characters, got "a-vendor-name-too-long-for-ocpp"',
    ),
    (
        MINIMAL + '[embedded]\nboot_status = "Maybe"\n',
        'x.toml: embedded.boot_status: expected one of "Accepted", "Pending", "Rejected", got "Maybe"',
    ),
    (
        MINIMAL + "[thresholds]\np99_ms = 300\n",
        "x.toml: thresholds.p99_ms: expected a string, got 300",
    ),
    (
        MINIMAL + '[thresholds]\n"SetChargingProfil.reaction.p99" = "< 2s"\n',
        'x.toml: thresholds."SetChargingProfil.reaction.p99": unknown action '
        '"SetChargingProfil" (this profile\'s stations: OCPP 1.6)',
    ),
    (
        MINIMAL + '[thresholds]\n"ramp:Heartbeat.reaction.p99" = "< 2s"\n',
        'x.toml: thresholds."ramp:Heartbeat.reaction.p99": reaction. is for actions a CSMS '
        "sends; the stations send Heartbeat: use Heartbeat.p99 (or .response.p99) (this "
        "profile's stations: OCPP 1.6)",
    ),
    (
        MINIMAL + '[thresholds]\n"SetChargingProfile.errors" = "< 1%"\n',
        'x.toml: thresholds."SetChargingProfile.errors": the stations do not send '
        "SetChargingProfile, the CSMS does: use SetChargingProfile.answer.p99 or "
        "SetChargingProfile.reaction.p99 (this profile's stations: OCPP 1.6)",
    ),
    (
        MINIMAL + 'versions = { "1.6" = 1 }\n[thresholds]\n"TransactionEvent.p99" = "< 1s"\n',
        'x.toml: thresholds."TransactionEvent.p99": unknown action "TransactionEvent" (this '
        "profile's stations: OCPP 1.6)",
    ),
    (
        MINIMAL + '[session]\nid_tags = ["A", 2]\n',
        "x.toml: session.id_tags[1]: expected a string, got 2",
    ),
    (
        MINIMAL + "[session]\nprobability = 1.5\n",
        "x.toml: session.probability: expected a number <= 1, got 1.5",
    ),
    (MINIMAL + "[timeouts]\ncall = 0\n", "x.toml: timeouts.call: expected a duration > 0, got 0"),
    (
        MINIMAL + '[transaction_messages]\noverflow = "drop-all"\n',
        'x.toml: transaction_messages.overflow: expected one of "drop-meter-values", "drop-oldest", "drop-newest", got "drop-all"',
    ),
    (
        MINIMAL + "[transaction_messages]\nattempts = 0\n",
        "x.toml: transaction_messages.attempts: expected an integer >= 1, got 0",
    ),
    # ramp
    (
        MINIMAL + "[ramp]\nrate = 10\nduration = 5\n",
        "x.toml: ramp: give either rate or duration, not both",
    ),
    (
        MINIMAL + "[ramp]\nrate = 10\nsteps = [{ at = 0, rate = 5 }]\n",
        "x.toml: ramp: give either rate or steps, not both",
    ),
    (MINIMAL + "[ramp]\n", "x.toml: ramp: give one of rate, duration or steps"),
    (MINIMAL + "[ramp]\nrate = 0\n", "x.toml: ramp.rate: expected a number > 0, got 0"),
    (
        MINIMAL
        + '[ramp]\nsteps = [{ at = 0, rate = 5 }, { at = "10s", rate = 9 }, { at = "10s", rate = 20 }]\n',
        "x.toml: ramp.steps[2].at: expected a time after steps[1].at (10), got 10",
    ),
    (
        MINIMAL + "[ramp]\nsteps = [{ at = 5, rate = 5 }]\n",
        "x.toml: ramp.steps[0].at: the first step must be at 0, got 5",
    ),
    (
        MINIMAL + "[ramp]\nsteps = [{ at = 0, rate = -1 }]\n",
        "x.toml: ramp.steps[0].rate: expected a number > 0, got -1",
    ),
    # stations
    (
        MINIMAL + 'versions = { "2.0" = 1 }\n',
        'x.toml: stations.versions."2.0": unknown OCPP version, expected "1.6" or "2.0.1"',
    ),
    (
        MINIMAL + 'versions = { "1.6" = 0, "2.0.1" = 0 }\n',
        "x.toml: stations.versions: shares must add up to more than 0",
    ),
    (
        MINIMAL + 'versions = { "1.6" = -1, "2.0.1" = 2 }\n',
        'x.toml: stations.versions."1.6": expected a share >= 0, got -1',
    ),
    (
        MINIMAL + 'versions = { "1.6" = "most" }\n',
        'x.toml: stations.versions."1.6": expected a number, got "most"',
    ),
    (
        MINIMAL + 'id_pattern = "SIM-1"\n',
        "x.toml: stations.id_pattern: must contain {index}, or all stations share one id",
    ),
    (
        MINIMAL + 'id_pattern = "SIM-{index!s:.0}"\n',
        'x.toml: stations.id_pattern: gives stations 0 and 1 the same id "SIM-"',
    ),
    (
        MINIMAL + 'id_pattern = "{station}-{index}"\n',
        "x.toml: stations.id_pattern: unknown placeholder {station}; only {index} exists",
    ),
    (
        MINIMAL + 'id_pattern = "SIM-{index"\n',
        "x.toml: stations.id_pattern: not a valid str.format pattern: expected '}' before end of string",
    ),
    # top level
    (
        'csms = "http://localhost:9000"\n' + MINIMAL,
        'x.toml: csms: expected "embedded" or a ws:// or wss:// URL, got "http://localhost:9000"',
    ),
    (
        'csms = "ws://"\n' + MINIMAL,
        'x.toml: csms: expected "embedded" or a ws:// or wss:// URL, got "ws://"',
    ),
    (
        'behaviour = "mydrivers.run"\n' + MINIMAL,
        'x.toml: behaviour: expected "module:function", got "mydrivers.run"',
    ),
    # distributions
    (
        MINIMAL + '[session]\nlength = { distribution = "uniform", min = "5m", max = "1m" }\n',
        "x.toml: session.length: uniform needs min <= max",
    ),
    (
        MINIMAL + '[session]\nlength = { distribution = "uniform", min = "5m" }\n',
        "x.toml: session.length: missing required field 'max'",
    ),
    (
        MINIMAL + '[session]\nlength = { distribution = "uniform", min = 1, maximum = 2 }\n',
        "x.toml: session.length: unknown field 'maximum' (uniform takes min and max)",
    ),
    (
        MINIMAL + "[session]\nlength = { min = 1, max = 2 }\n",
        "x.toml: session.length: missing required field 'distribution'",
    ),
    (
        MINIMAL + '[session]\nlength = { distribution = "gamma" }\n',
        'x.toml: session.length.distribution: expected one of "constant", "uniform", "exponential", "normal", "lognormal", got "gamma"',
    ),
    (
        MINIMAL + '[session]\nidle = { distribution = "exponential", mean = 0 }\n',
        "x.toml: session.idle.mean: expected a value > 0, got 0",
    ),
    (
        MINIMAL + '[session]\nidle = { distribution = "normal", mean = "1m", stddev = "1 min" }\n',
        'x.toml: session.idle.stddev: expected a duration (seconds, or a string like "250ms", "30s", "5m", "1m30s"), got "1 min"',
    ),
    (MINIMAL + "[session]\nidle = -5\n", "x.toml: session.idle: expected a duration >= 0, got -5"),
    (
        MINIMAL + "[session]\nidle = true\n",
        "x.toml: session.idle: expected a duration or a distribution table, got true",
    ),
    (
        MINIMAL + '[session]\npower_kw = "11kW"\n',
        'x.toml: session.power_kw: expected a number or a distribution table, got "11kW"',
    ),
    (
        MINIMAL + '[session]\npower_kw = { distribution = "uniform", min = 0, max = 22 }\n',
        "x.toml: session.power_kw.min: expected kilowatts > 0, got 0",
    ),
    # TOML syntax
    (
        'name = "t"\nduration = 1\n[stations\ncount = 1\n',
        "x.toml: line 3: expected ']' at the end of a table declaration (column 10)",
    ),
    ('name = "t"\nname = "u"\n', "x.toml: line 2: cannot overwrite a value (column 11)"),
    ('name = "t"\nduration = [1,\n', "x.toml: end of file: invalid value"),
    # TLS
    (MINIMAL + '[tls]\nclient_key = "key.pem"\n', "x.toml: tls.client_key: needs client_cert"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS, ids=[message for _, message in ERRORS])
def test_error_messages(text: str, message: str) -> None:
    assert problem(text) == message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ProfileError, match=r"^.*nowhere\.toml: no such file$"):
        load_profile(path)
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    assert str(caught.value) == f"{path}: no such file"


def test_missing_tls_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "tls.toml"
    path.write_text(MINIMAL + TLS_CA)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    missing = tmp_path / "certs" / "ca.pem"
    assert str(caught.value) == f"{path}: tls.ca_file: no such file: {missing}"


def test_error_parts() -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(MINIMAL.replace("count = 10", "count = 0"), "x.toml")
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.source, error.location) == ("x.toml", "stations.count")
    assert error.reason == "expected an integer >= 1, got 0"


# --- overrides from the command line --------------------------------------------------------


def smoke() -> Profile:
    return load_profile(PROFILES / "smoke.toml")


def test_overrides() -> None:
    profile = smoke().with_overrides(csms="wss://csms.example/ocpp", stations=7, duration=90)
    assert profile.csms == "wss://csms.example/ocpp"
    assert profile.stations.count == 7
    assert profile.duration == 90.0 and type(profile.duration) is float
    # Everything else is kept.
    assert profile.stations.connectors == 2
    assert profile.session == smoke().session


def test_overrides_accept_duration_strings_and_none() -> None:
    assert smoke().with_overrides(duration="2m").duration == 120.0
    assert smoke().with_overrides() == smoke()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"csms": "localhost:9000"},
            'csms: expected "embedded" or a ws:// or wss:// URL, got "localhost:9000"',
        ),
        ({"stations": 0}, "stations.count: expected an integer >= 1, got 0"),
        ({"stations": 1.5}, "stations.count: expected an integer, got 1.5"),
        ({"duration": 0}, "duration: expected a duration > 0, got 0"),
        ({"duration": -3}, "duration: expected a duration >= 0, got -3"),
        (
            {"duration": "soon"},
            'duration: expected a duration (seconds, or a string like "250ms", "30s", "5m", "1m30s"), got "soon"',
        ),
    ],
)
def test_bad_overrides(override: dict[str, object], message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        smoke().with_overrides(**override)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_the_embedded_heartbeat_interval_is_a_duration_of_whole_seconds() -> None:
    # One duration parser for the command line and profiles: "5m" works in both.
    base = 'name = "x"\nduration = 5\n[stations]\ncount = 1\n[embedded]\n'
    assert parse_profile(base + 'heartbeat_interval = "5m"\n').embedded.heartbeat_interval == 300
    assert parse_profile(base + "heartbeat_interval = 30\n").embedded.heartbeat_interval == 30
    with pytest.raises(ProfileError, match=r"embedded.heartbeat_interval: expected whole seconds"):
        parse_profile(base + 'heartbeat_interval = "1.5s"\n')


def test_an_end_window_goes_with_stop_sessions_only() -> None:
    base = 'name = "x"\nduration = 5\n[stations]\ncount = 1\n[end]\nmode = "disconnect"\n'
    assert parse_profile(base).end.mode == "disconnect"
    with pytest.raises(ProfileError, match=r'end.window: only for mode = "stop-sessions"'):
        parse_profile(base + 'window = "3s"\n')
