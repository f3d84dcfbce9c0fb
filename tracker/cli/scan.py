"""`reptrack scan`: list the sensors in range that RepTrack can stream from, with their kind (docs/sensors.md)."""

from __future__ import annotations

import argparse
import asyncio
import json

from tracker.ble.link import LinkConfig, bluetooth_stack_hint, scan
from tracker.ble.options import add_link_arguments
from tracker.errors import UserError

HELP = "list the sensors RepTrack can stream from (RepTrack, Polar, MetaWear) in Bluetooth range"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="listen for S seconds (default 5)"
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="list every BLE device heard, not only sensors RepTrack can stream from",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per device")
    add_link_arguments(parser)


async def scan_async(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise UserError(f"--timeout must be positive, got {args.timeout}")
    config = LinkConfig(device="", backend=args.backend, transport=args.transport)
    try:
        found = await scan(config, timeout_s=args.timeout, all_devices=args.all)
    except UserError:
        raise
    except Exception as exc:  # the platform's Bluetooth stack is missing or refuses
        hint = bluetooth_stack_hint(exc) if config.resolved_backend() == "bleak" else ""
        raise UserError(f"cannot scan with the {config.resolved_backend()} backend: {exc}{hint}") from exc
    if args.json:
        for d in found:
            print(
                json.dumps(
                    {
                        "address": d.address,
                        "name": d.name,
                        "rssi": d.rssi,
                        "kind": d.kind,
                        "reptrack": d.is_reptrack,
                    }
                )
            )
        return 0
    if not found:
        print(f"no {'devices' if args.all else 'sensors RepTrack knows'} heard in {args.timeout:g} s")
        return 0
    print(f"{'address':<20} {'rssi':>5}  {'kind':<9} name")
    for d in found:
        print(f"{d.address:<20} {d.rssi:>5}  {d.kind or '-':<9} {d.name or '?'}")
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(scan_async(args))
