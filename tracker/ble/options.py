"""Command-line options shared by every command that talks to a sensor (scan, record, run)."""

from __future__ import annotations

import argparse

from tracker.ble.link import BACKEND_ENV, BACKENDS, LinkConfig
from tracker.ble.transports import TRANSPORT_ENV


def add_link_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Bluetooth")
    group.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help=f"bleak: the platform's Bluetooth stack (BlueZ on Linux); bumble: our Bumble host on a raw "
        f"HCI controller or a virtual radio (default: ${BACKEND_ENV}, else bumble when a transport is "
        "given, else bleak)",
    )
    group.add_argument(
        "--transport",
        default=None,
        metavar="SPEC",
        help=f"HCI controller for the bumble backend: usb:0, serial:/dev/ttyACM0, tcp-client:HOST:PORT "
        f"(default: ${TRANSPORT_ENV})",
    )
    group.add_argument(
        "--scan-timeout", type=float, default=10.0, metavar="S", help="give up finding the sensor after S s"
    )
    group.add_argument(
        "--connect-timeout", type=float, default=10.0, metavar="S", help="each connection attempt"
    )


def link_config_from_args(args: argparse.Namespace, device: str) -> LinkConfig:
    return LinkConfig(
        device=device,
        backend=getattr(args, "backend", None),
        transport=getattr(args, "transport", None),
        scan_timeout_s=float(getattr(args, "scan_timeout", 10.0)),
        connect_timeout_s=float(getattr(args, "connect_timeout", 10.0)),
    )
