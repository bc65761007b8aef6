"""Command-line values read as profiles read them, for every `fleet` command.

A duration has one grammar, `fleet.profile.parse_duration`: ``--duration 20s`` means what
``duration = "20s"`` means in a profile. What the command line adds is only that everything
typed is text, so a plain number is read as a number of seconds first (as TOML would).
"""

from __future__ import annotations

from fleet.profile import parse_duration

__all__ = ["DURATION_FORMS", "duration_option"]

# For --help, after the flag's own words: what every flag that takes seconds accepts.
DURATION_FORMS = "250ms, 30s, 5m, 1m30s or seconds"


def duration_option(flag: str, text: str) -> float:
    """Seconds from what was typed after `flag`: "250ms", "30s", "5m", "1m30s" or seconds.

    Raises:
        ValueError: one line naming the flag, e.g. ``--duration: expected a duration
            (...), got "20x"``.
    """
    value: float | str
    try:
        value = float(text)
    except ValueError:
        value = text
    try:
        return parse_duration(value)
    except ValueError as problem:
        raise ValueError(f"{flag}: {problem}") from None
