"""`firmware-sim serve`: the simulated sensor as a BLE peripheral (docs/ble.md).

By default it runs its own virtual radio and exposes a second controller of that radio as HCI
over TCP, so a tracker in another process connects with
``--backend bumble --transport tcp-client:HOST:PORT``. With ``--transport usb:0`` (or any Bumble
transport) it runs on that HCI controller instead, and real Bluetooth clients can connect.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from firmware_sim.peripheral import (
    NATIVE_RATE_HZ,
    PROFILES,
    Faults,
    SensorData,
    load_sensor_data,
)
from firmware_sim.radio import VirtualRadio, parse_listen, serve_hci_over_tcp
from firmware_sim.sensors import sensor_class
from tracker.ble.transports import open_hci_transport
from tracker.errors import UserError

HELP = "run the simulated sensor as a BLE peripheral (virtual radio or real controller)"


def _times(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds separated by commas, got {text!r}") from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"times must be >= 0, got {text!r}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workout",
        default="builtin:runner-strength",
        help="builtin:NAME, a workout TOML file, or synthetic:SECONDS (default builtin:runner-strength)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the simulation and of the faults")
    parser.add_argument("--speed", type=float, default=1.0, help="stream at X times real time (default 1)")
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="reptrack",
        help="which sensor to play: reptrack (RepTrack-<serial>), polar (a Verity Sense: Polar Sense "
        "<id>) or metawear (a MetaMotion: MetaWear-<serial>); docs/sensors.md",
    )
    parser.add_argument("--serial", default="SIM00001", help="serial number; the name ends with its last 4")
    parser.add_argument(
        "--transport",
        default="virtual:127.0.0.1:9001",
        metavar="SPEC",
        help="virtual[:HOST:PORT]: own virtual radio, client controller exposed as HCI over TCP on HOST:PORT "
        "(port 0 picks a free one); or a Bumble transport (usb:0, serial:DEV, tcp-client:HOST:PORT) to "
        "run on that controller (default virtual:127.0.0.1:9001)",
    )
    parser.add_argument(
        "--untimed", action="store_true", help="virtual radio without the connection-event timing"
    )
    faults = parser.add_argument_group("fault injection (times in workout seconds)")
    faults.add_argument(
        "--loss", type=float, default=0.0, metavar="P", help="drop each packet with probability P"
    )
    faults.add_argument(
        "--corrupt", type=float, default=0.0, metavar="P", help="corrupt each packet with probability P"
    )
    faults.add_argument("--latency", type=float, default=0.0, metavar="MS", help="hold each packet MS ms")
    faults.add_argument("--jitter", type=float, default=0.0, metavar="MS", help="plus 0..MS ms at random")
    faults.add_argument(
        "--disconnect-at", type=_times, default=(), metavar="S[,S...]", help="drop the link at these times"
    )
    faults.add_argument(
        "--disconnect-every", type=float, default=None, metavar="S", help="drop the link every S seconds"
    )
    faults.add_argument(
        "--brownout-at",
        type=_times,
        default=(),
        metavar="S[,S...]",
        help="power loss and reboot at these times",
    )
    faults.add_argument(
        "--brownout-off",
        type=float,
        default=0.5,
        metavar="S",
        help="how long a brown-out lasts (default 0.5)",
    )


def faults_from_args(args: argparse.Namespace) -> Faults:
    try:
        return Faults(
            loss=args.loss,
            corrupt=args.corrupt,
            latency_s=args.latency / 1000.0,
            jitter_s=args.jitter / 1000.0,
            disconnect_at_s=tuple(args.disconnect_at),
            disconnect_every_s=args.disconnect_every,
            brownout_at_s=tuple(args.brownout_at),
            brownout_off_s=args.brownout_off,
            seed=args.seed,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None


async def serve_async(args: argparse.Namespace) -> int:
    if args.speed <= 0:
        raise UserError(f"--speed must be positive, got {args.speed}")
    profile = getattr(args, "profile", "reptrack")
    data: SensorData = load_sensor_data(args.workout, seed=args.seed, rate_hz=NATIVE_RATE_HZ[profile])
    sensor = sensor_class(profile)(
        data,
        serial=args.serial,
        speed=args.speed,
        faults=faults_from_args(args),
        report=lambda line: print(line, flush=True),
    )
    scheme, _, rest = str(args.transport).partition(":")
    radio = None
    server = None
    if scheme == "virtual":
        try:
            host, port = parse_listen(rest or "127.0.0.1:9001")
        except ValueError as exc:
            raise UserError(f"--transport {args.transport}: {exc}") from None
        radio = VirtualRadio(timed=not args.untimed)
        try:
            server = await serve_hci_over_tcp(radio.add_controller(), host, port)
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        await sensor.start(await radio.open_transport())
        where = f"a virtual radio; clients use --backend bumble --transport {server.transport_spec}"
    else:
        await sensor.start(await open_hci_transport(args.transport))
        where = f"HCI controller {args.transport}"
    print(f"{sensor.name} ({sensor.address}, {profile} profile) advertising on {where}", flush=True)
    if server is not None:
        print(f"transport: {server.transport_spec}", flush=True)
    print(
        f"workout: {args.workout}, {data.duration_s:.1f} s at {data.rate_hz:g} Hz, speed x{args.speed:g}",
        flush=True,
    )
    try:
        await sensor.finished.wait()
        print("workout finished; still connected (Ctrl-C to stop)", flush=True)
        await asyncio.Event().wait()
    finally:
        await sensor.stop()
        if server is not None:
            server.close()
        if radio is not None:
            radio.close()
    return 0


def run(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(serve_async(args))
    print("stopped", file=sys.stderr)
    return 0
