"""The ``reptrack`` command line. Each subcommand lives in ``tracker/cli/<name>.py``.

A command module provides ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit code). Errors meant for the user are raised as
:class:`tracker.errors.UserError` and printed without a traceback.

Start-up is lazy: ``reptrack --help`` reads each command's ``HELP`` line from its source without
importing it, and ``reptrack CMD ...`` imports only ``CMD``'s module (the others pull in bleak,
Bumble, paho, SciPy: about 2 s of CPU together).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from tracker import __version__
from tracker.errors import UserError

COMMANDS = (
    "scan",
    "run",
    "replay",
    "report",
    "record",
    "dashboard",
    "web",
    "forget",
    "calibrate",
    "convert",
    "demo",
    "worker",
    "gateway",
)


def _load(package: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


def command_help(package: str, name: str) -> str:
    """A command's one-line ``HELP``, read from its source when it is a literal string (no import)."""
    spec = importlib.util.find_spec(f"{package}.{name}")
    if spec is not None and spec.origin and spec.origin.endswith(".py"):
        with open(spec.origin, encoding="utf-8") as f:
            tree = ast.parse(f.read(), spec.origin)
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "HELP" for target in node.targets
            ):
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    break
                if isinstance(value, str):
                    return value
    return str(_load(package, name).HELP)


def chosen_command(argv: Sequence[str], commands: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (its first word that is a command), if any."""
    return next((word for word in argv if word in commands), None)


def build_parser(
    prog: str,
    package: str,
    commands: Sequence[str],
    description: str,
    *,
    load: Sequence[str] | None = None,
) -> argparse.ArgumentParser:
    """The parser with one subcommand per module. Only the modules named in ``load`` (default:
    all) are imported and get their arguments; the others are listed with their help line."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in commands:
        if load is None or name in load:
            module = _load(package, name)
            p = sub.add_parser(name, help=module.HELP, description=module.HELP)
            module.add_arguments(p)
            p.set_defaults(_module=module)
        else:
            text = command_help(package, name)
            sub.add_parser(name, help=text, description=text)
    return parser


def dispatch(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code = int(args._module.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except UserError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_went_away()


BROKEN_PIPE_EXIT = 128 + 13  # what a shell reports for a tool stopped by SIGPIPE


def _reader_went_away() -> int:
    """``reptrack replay x | head -1``: the reader closed the pipe. Stop quietly, like any Unix
    tool, with nothing left to flush into the closed pipe at exit."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return BROKEN_PIPE_EXIT


def run_cli(
    prog: str, package: str, commands: Sequence[str], description: str, argv: Sequence[str] | None
) -> int:
    """Build the parser for the command in ``argv`` only, then run it."""
    words = list(sys.argv[1:] if argv is None else argv)
    name = chosen_command(words, commands)
    parser = build_parser(prog, package, commands, description, load=() if name is None else (name,))
    return dispatch(parser, words)


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(
        "reptrack",
        "tracker.cli",
        COMMANDS,
        "RepTrack: count squat and deadlift reps from a thigh-worn IMU and publish them over MQTT.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
