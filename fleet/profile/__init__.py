"""Load-test profiles: what a run does, read from a TOML file into frozen msgspec Structs.

`load_profile()` reads and checks a file; every problem is a `ProfileError` whose message is one
line, ``<file>: <field.path>: <reason>``. Durations (``"250ms"``, ``"1m30s"``, or seconds) decode
to plain floats of seconds; values drawn per station or session decode to `Distribution`.
`Profile.with_overrides()` applies the command line's ``--csms``, ``--stations`` and
``--duration`` with the same checks.

Secret fields are marked on the model (`Secret`, `SecretInUrl`); `redacted()` is how a profile
(or any Struct, or the builtins of one) becomes data fit to write or show, and `redact_text()`
hides `secret_values()` in messages and logs.

Each field's meaning is written once, as ``about("...")`` in its annotation (a msgspec `Meta`
description). `fleet profile docs` and `fleet profile schema` (`_docs.py`) generate
profiles/REFERENCE.md and a JSON Schema from the model; `fleet profile check` validates files.
"""

from fleet.profile._load import load_profile, parse_profile
from fleet.profile._model import (
    AnswerSection,
    AuthSection,
    CampaignSection,
    Distribution,
    Duration,
    EmbeddedSection,
    EndSection,
    FaultSection,
    FirmwareSection,
    Profile,
    ProfileError,
    RampSection,
    RampStep,
    ReconnectSection,
    SessionSection,
    StationsSection,
    TimeoutsSection,
    TlsSection,
    TransactionMessagesSection,
    campaign_payload,
    parse_duration,
    parse_fault_option,
    redacted,
    secret_values,
)
from fleet.profile._secrets import (
    REDACTED,
    Secret,
    SecretInUrl,
    redact_text,
    redact_url,
)

__all__ = [
    "REDACTED",
    "AnswerSection",
    "AuthSection",
    "CampaignSection",
    "Distribution",
    "Duration",
    "EmbeddedSection",
    "EndSection",
    "FaultSection",
    "FirmwareSection",
    "Profile",
    "ProfileError",
    "RampSection",
    "RampStep",
    "ReconnectSection",
    "Secret",
    "SecretInUrl",
    "SessionSection",
    "StationsSection",
    "TimeoutsSection",
    "TlsSection",
    "TransactionMessagesSection",
    "campaign_payload",
    "load_profile",
    "parse_duration",
    "parse_fault_option",
    "parse_profile",
    "redact_text",
    "redact_url",
    "redacted",
    "secret_values",
]
