"""`reptrack worker`: one member of a worker pool counting reps for sensors behind gateways."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

HELP = "worker pool member: claim sensors announced by gateways (MQTT 5 shared subscription), count reps"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tracker.mqtt.options import add_mqtt_arguments

    parser.add_argument("--id", dest="worker_id", metavar="NAME", help="worker id (default: random)")
    parser.add_argument(
        "--group",
        default="reptrack-workers",
        help="shared-subscription group of the pool (default: %(default)s)",
    )
    add_mqtt_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from tracker.mqtt.options import broker_from_args
    from tracker.scaleout.worker import Worker

    settings, embedded = broker_from_args(args)
    if settings.protocol == "3.1.1":
        from tracker.errors import UserError

        raise UserError(
            "a worker pool needs MQTT 5 shared subscriptions: use an MQTT 5 broker (--mqtt-protocol 5)"
        )
    worker = Worker(settings, args.worker_id, args.group)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        print(
            f"worker {worker.worker_id}: waiting for sensors on {settings.broker}",
            file=sys.stderr,
            flush=True,
        )
        await worker.run(stop)

    try:
        asyncio.run(main())
    finally:
        if embedded is not None:
            embedded.stop()
    for result in worker.results:
        print(f"{result.sensor_id}: {len(result.reps)} reps in {len(result.sets)} sets", flush=True)
    return 0
