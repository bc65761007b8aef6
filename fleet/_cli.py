"""The `fleet` command line."""

from __future__ import annotations

import argparse
import sys

import fleet
from fleet.csms import _command as csms_command
from fleet.profile import _command as profile_command
from fleet.report import _command as report_command
from fleet.run import _command as run_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleet",
        description="OCPP 1.6J / 2.0.1 charge point toolkit and fleet load tester.",
    )
    parser.add_argument("--version", action="version", version=f"ocpp-fleet {fleet.__version__}")
    # Required: no command is a usage error (usage on stderr, exit 2), as for every subcommand.
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run_command.add_parser(subparsers)
    report_command.add_parser(subparsers)
    csms_command.add_parser(subparsers)
    profile_command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # a usage error exits 2 here
    try:
        return args.run(args)
    except BrokenPipeError:  # `fleet report show ... | head`: the reader has what it wants
        sys.stderr.close()  # and no "Exception ignored ... BrokenPipeError" at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
