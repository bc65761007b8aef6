"""`fleet profile check | docs | schema`."""

from __future__ import annotations

import argparse
import json
import sys

from fleet.profile._load import load_profile
from fleet.profile._model import ProfileError

__all__ = ["add_parser"]

# Exit codes, as `fleet run`'s: 0 every file is a good profile; 2 one is not.
EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("profile", help="check profiles; their reference and schema")
    commands = parser.add_subparsers(dest="profile_command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        help="validate profiles without running anything",
        description="Read and check each profile as `fleet run` would, and run nothing: one "
        "line per good file; a bad one is one line on stderr naming the file, the field and "
        "why, and the exit code is 2.",
    )
    check.add_argument("profiles", nargs="+", metavar="FILE")
    check.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    # Imported here: fleet.report reads reports, which `docs` and `schema` never need.
    from fleet.report import parse_thresholds

    code = EXIT_OK
    for path in args.profiles:
        try:
            profile = load_profile(path)
            parse_thresholds(profile.thresholds)
        except ProfileError as exc:
            print(f"fleet profile check: {exc}", file=sys.stderr)
            code = EXIT_BAD_INPUT
        except ValueError as exc:  # a threshold that does not parse, as `fleet run` says it
            print(f"fleet profile check: {path}: {exc}", file=sys.stderr)
            code = EXIT_BAD_INPUT
        else:
            stations = profile.stations.count
            print(
                f"{path}: ok: {json.dumps(profile.name)}, "
                f"{stations:,} station{'s' * (stations != 1)} for {profile.duration:g} s"
            )
    return code
