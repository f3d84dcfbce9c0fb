"""`reptrack record`: stream a sensor into a native recording, through drops (docs/ble.md).

The raw packets are kept byte for byte with their arrival times, plus a note for every link event
(disconnect, reconnect), so replaying the file runs the same decoder as live and shows the same
gaps, restarts and corrupt packets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path

from tracker.ble.link import SensorLink
from tracker.ble.options import add_link_arguments, link_config_from_args
from tracker.errors import UserError
from tracker.io.native import RecordingWriter
from tracker.io.session import RecordingMeta

HELP = "record a live sensor into a recording file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", required=True, metavar="ADDR|NAME", help="the sensor's address or name")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="recording to write (.rtrk)")
    parser.add_argument(
        "--duration", type=float, default=None, metavar="S", help="stop after S seconds (default: Ctrl-C)"
    )
    parser.add_argument("--append", action="store_true", help="continue FILE if it exists")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    add_link_arguments(parser)


async def record_async(args: argparse.Namespace) -> int:
    if args.duration is not None and args.duration <= 0:
        raise UserError(f"--duration must be positive, got {args.duration}")
    out: Path = args.out
    if out.exists() and out.stat().st_size > 0 and not (args.append or args.force):
        raise UserError(f"{out} already exists; use --append to continue it or --force to replace it")
    config = link_config_from_args(args, args.device)
    say = (lambda _msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    started = time.monotonic()
    link = SensorLink(config)
    await link.connect()
    info = link.device_info
    assert info is not None
    say(
        f"recording {info.name} ({info.address}, {info.profile}, {info.config.rate_hz} Hz, "
        f"battery {info.battery_pct}%) to {out}"
    )
    if args.append and out.exists() and out.stat().st_size > 0:
        writer = RecordingWriter.append(out)
    else:
        meta = RecordingMeta(
            device_id=info.address,
            device_name=info.name,
            firmware=info.firmware or "",
            rate_hz=float(info.config.rate_hz),
            accel_range_g=info.config.accel_range_g,
            gyro_range_dps=info.config.gyro_range_dps,
            samples_per_packet=info.config.samples_per_packet,
            source="reptrack record",
            codec=info.codec,  # how replay decodes the packets (docs/sensors.md)
            extra={
                "serial": info.serial,
                "manufacturer": info.manufacturer,
                "model": info.model,
                "backend": info.backend,
                "mtu": info.mtu,
            },
        )
        writer = RecordingWriter.create(out, meta, overwrite=True)
    packets = samples = 0

    async def stop_after(seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
        await link.close()

    stopper = asyncio.create_task(stop_after(args.duration)) if args.duration is not None else None
    try:
        writer.write_note(
            "connected", None, host_time_s=time.time(), address=info.address, battery_pct=info.battery_pct
        )
        async for chunk in link.stream():
            writer.write_packets(chunk.packets, chunk.host_times_s)
            packets += len(chunk.packets)
            samples += len(chunk.samples)
            for event in chunk.events:
                if event.kind in ("disconnected", "reconnected"):
                    writer.write_note(event.kind, None, host_time_s=event.host_time_s, detail=event.detail)
                    say(f"{event.kind} {event.detail}".rstrip())
            for notice in chunk.notices:
                say(f"{notice.kind} at {notice.t_s:.2f} s: {notice.detail}")
    finally:
        if stopper is not None:
            stopper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopper
        await link.close()
        writer.close()
    t = link.telemetry
    say(
        f"recorded {packets} packets, {samples} samples; lost {t['lost_packets']} packets, "
        f"{t['corrupt']} corrupt, {t['duplicates']} duplicates, {t['reconnects']} reconnects"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(record_async(args))
