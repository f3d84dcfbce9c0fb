"""The ``reptrack`` command line. Each subcommand lives in ``tracker/cli/<name>.py``.

A command module provides ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit code). Errors meant for the user are raised as
:class:`tracker.errors.UserError` and printed without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from tracker import __version__
from tracker.errors import UserError

COMMANDS = ("scan", "run", "replay", "record", "dashboard", "calibrate", "convert", "demo")


def _load(package: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


def build_parser(
    prog: str, package: str, commands: Sequence[str], description: str
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in commands:
        module = _load(package, name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def dispatch(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args._module.run(args) or 0)
    except UserError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(
        "reptrack",
        "tracker.cli",
        COMMANDS,
        "RepTrack: count squat and deadlift reps from a thigh-worn IMU and publish them over MQTT.",
    )
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
