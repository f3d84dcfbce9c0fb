"""`reptrack gateway`: forward the raw packets of nearby sensors to a worker pool via the broker."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

HELP = "BLE gateway: forward sensors' raw packets to the broker for a pool of `reptrack worker`s"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tracker.ble.options import add_link_arguments
    from tracker.mqtt.options import add_mqtt_arguments

    src = parser.add_argument_group("sources (one or more)")
    src.add_argument("--device", action="append", default=[], metavar="ADDR|NAME", help="a BLE sensor")
    src.add_argument(
        "--replay",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a native recording's packets",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed, x real time (default 1)")
    parser.add_argument("--id", dest="gateway_id", metavar="NAME", help="gateway id (default: random)")
    add_mqtt_arguments(parser)
    add_link_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from tracker.cli.run import device_source
    from tracker.errors import UserError
    from tracker.mqtt.options import broker_from_args
    from tracker.scaleout.gateway import Gateway
    from tracker.service import Source
    from tracker.service.sources import PacketReplaySource

    if args.speed <= 0:
        raise UserError(f"--speed must be positive, got {args.speed}")
    sources: list[Source] = [PacketReplaySource(p, args.speed) for p in args.replay]
    sources += [device_source(address, args) for address in args.device]
    if not sources:
        raise UserError("no source: give --device ADDR or --replay FILE")
    settings, embedded = broker_from_args(args)
    gateway = Gateway(settings, args.gateway_id)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await asyncio.to_thread(gateway.connect)
        names = ", ".join(s.sensor_id for s in sources)
        print(
            f"gateway {gateway.gateway_id}: forwarding {names} to {settings.broker}",
            file=sys.stderr,
            flush=True,
        )
        await gateway.serve(sources, stop)

    try:
        asyncio.run(main())
    finally:
        gateway.close()
        if embedded is not None:
            embedded.stop()
    print(
        f"gateway {gateway.gateway_id}: done ({gateway.handovers} hand-overs, "
        f"{gateway.handovers_with_state} with the pipeline's state)",
        flush=True,
    )
    return 0
