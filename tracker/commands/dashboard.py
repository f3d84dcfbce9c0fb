"""`reptrack dashboard`: not built yet (see the open issues)."""

from __future__ import annotations

import argparse

from tracker.errors import UserError

HELP = "(dashboard: not available yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise UserError("'reptrack dashboard' is not available in this version yet")
