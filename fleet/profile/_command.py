"""`fleet profile check | docs | schema`."""

from __future__ import annotations

import argparse
import json
import sys

import msgspec

from fleet.profile._docs import format_duration, json_schema, reference
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

    docs = commands.add_parser(
        "docs",
        help="print the profile reference (Markdown): every table and key",
        description="Print the reference of every table and key of a profile (TOML path, "
        "type, default, unit, meaning) as Markdown, generated from the model; "
        "profiles/REFERENCE.md is its output.",
    )
    docs.set_defaults(run=_docs)

    schema = commands.add_parser(
        "schema",
        help="print a JSON Schema of profiles, for editors",
        description="Print a JSON Schema (2020-12) of a profile, for editors that complete "
        "and check TOML (Taplo, Even Better TOML): save it and start a profile with "
        "`#:schema ./profile.schema.json`.",
    )
    schema.set_defaults(run=_schema)


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
                f"{stations:,} station{'s' * (stations != 1)} for "
                f"{format_duration(profile.duration)}"
            )
    return code


def _docs(args: argparse.Namespace) -> int:
    sys.stdout.write(reference())
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(json_schema())).decode() + "\n")
    return EXIT_OK
