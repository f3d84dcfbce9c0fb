"""The ``firmware-sim`` command line: ``generate`` (offline recording + truth), ``serve`` (BLE)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tracker.cli import build_parser, dispatch

COMMANDS = ("generate", "serve")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(
        "firmware-sim",
        "firmware_sim.commands",
        COMMANDS,
        "Simulated RepTrack sensor: a thigh model, IMU errors and a BLE peripheral.",
    )
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
