"""`reptrack calibrate accel|gyro|mounting`: guided calibration of one sensor (docs/calibration.md).

The flow tells the user what to do, shows progress as the sensor's stream arrives, and ends with
a verdict. A good result is merged into the device's calibration file; a failed one ("redo") is
never saved, so the previous good calibration stays in place.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from calibration import flows
from calibration.flows import Stream
from calibration.imu import AccelCalibration, GyroCalibration
from calibration.mounting import MountingEstimate
from calibration.store import (
    DeviceCalibration,
    calibration_path,
    load_calibration,
    save_calibration,
)
from tracker.ble.options import add_link_arguments
from tracker.errors import InputFileError, UserError
from tracker.samples import Samples

HELP = "calibrate a sensor: accelerometer errors, gyroscope bias, or its mounting on the thigh"
KINDS = ("accel", "gyro", "mounting")
CHUNK = 20  # samples per chunk fed to the flow when replaying or simulating


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=KINDS, help="what to calibrate")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--device", metavar="ADDR|NAME", help="a live sensor over Bluetooth LE")
    src.add_argument(
        "--sim",
        metavar="WORKOUT",
        nargs="?",
        const="",
        help="the simulated sensor (accel/gyro: turned by hand on a table; mounting: a workout "
        "TOML file, default quiet standing and three slow squats)",
    )
    src.add_argument("--replay", metavar="FILE", help="a recording of the calibration movements")
    parser.add_argument(
        "--device-id", help="store the result under this device id (default: the sensor's own id)"
    )
    parser.add_argument(
        "--calibration",
        metavar="FILE",
        help="read and write this calibration file instead of the device's file in the config directory",
    )
    parser.add_argument("--leg", choices=("left", "right"), help="mounting: the thigh the sensor is on")
    parser.add_argument("--poses", type=int, default=12, help="accel: orientations to capture (default 12)")
    parser.add_argument("--seconds", type=float, default=10.0, help="gyro: seconds of stillness (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="--sim: random seed of the simulated sensor")
    parser.add_argument("--no-save", action="store_true", help="show the result without saving it")
    add_link_arguments(parser)


# --- sources ---------------------------------------------------------------------------------


def _replay_source(path: str) -> Stream:
    from tracker.io.load import load_session

    session = load_session(path)
    samples = session.samples
    if len(samples) == 0:
        raise InputFileError(path, "the recording holds no samples")
    rate = samples.estimated_rate_hz() or None
    return Stream(session.meta.device_id, samples.chunks(CHUNK), rate)


def _sim_source(kind: str, workout: str, seed: int) -> Stream:
    """The simulator's calibration sessions, registered as the ``sim`` calibration source."""
    from tracker.plugins import CALIBRATION_SOURCES_GROUP, load_plugin

    stream: Stream = load_plugin(CALIBRATION_SOURCES_GROUP, "sim")(kind, workout or None, seed, CHUNK)
    return stream


def _open_source(args: argparse.Namespace) -> Stream:
    if args.replay is not None:
        return _replay_source(args.replay)
    return _sim_source(args.kind, args.sim, args.seed)


# --- the command -----------------------------------------------------------------------------


def _existing(path: Path, device_id: str, out: Any) -> DeviceCalibration:
    if not path.exists():
        return DeviceCalibration(device_id)
    try:
        return load_calibration(path, device_id)
    except InputFileError as exc:
        print(f"warning: the existing calibration cannot be read ({exc}); it will be set aside", file=out)
        return DeviceCalibration(device_id)


def _print(lines: list[str], out: Any) -> None:
    for line in lines:
        print(line, file=out, flush=True)


class _Session:
    """One flow for one sensor: prints the instructions, feeds chunks, concludes with the verdict."""

    def __init__(self, args: argparse.Namespace, device_id: str, rate_hz: float | None, out: Any) -> None:
        device_id = args.device_id or device_id
        if not device_id or device_id == "unknown":
            raise UserError("the source does not say which sensor it is: give --device-id")
        self.args, self.device_id, self.out = args, device_id, out
        self.path = Path(args.calibration) if args.calibration else calibration_path(device_id)
        self.current = _existing(self.path, device_id, out)
        self.flow: flows.AccelFlow | flows.GyroFlow | flows.MountingFlow
        if args.kind == "accel":
            self.flow = flows.AccelFlow(target_poses=args.poses, rate_hz=rate_hz)
        elif args.kind == "gyro":
            self.flow = flows.GyroFlow(still_s=args.seconds, rate_hz=rate_hz)
        else:
            self.flow = flows.MountingFlow(imu=self.current.imu, leg=args.leg, rate_hz=rate_hz)
            if self.current.imu.accel is None:
                _print(
                    ["note: no accelerometer calibration for this sensor; mounting may be off by a few deg"],
                    out,
                )
        _print([f"sensor: {device_id}", *self.flow.intro()], out)

    def feed(self, chunk: Samples) -> bool:
        """Returns True once the flow has what it needs."""
        if len(chunk) == 0:
            return self.flow.done
        try:
            _print(self.flow.feed(chunk), self.out)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return self.flow.done

    def conclude(self, truth: dict[str, str] | None) -> int:
        out = self.out
        result = self.flow.finish()
        updated: DeviceCalibration
        if isinstance(result, AccelCalibration):
            _print(["", "Result:", *flows.describe_accel(result)], out)
            quality: Any = result.quality
            updated = self.current.with_accel(result)
        elif isinstance(result, GyroCalibration):
            _print(["", "Result:", *flows.describe_gyro(result)], out)
            quality = result.quality
            updated = self.current.with_gyro(result)
        else:
            assert isinstance(result, MountingEstimate)
            _print(["", "Result:", *flows.describe_mounting(result)], out)
            quality = result.mounting.quality
            updated = self.current.with_mounting(result.mounting)
        if truth:
            _print(["Simulator truth:", *(f"  {k}: {v}" for k, v in truth.items())], out)

        verdict = quality.verdict if quality is not None else "redo"
        reasons = list(quality.reasons) if quality is not None else []
        if verdict != "good":
            _print(["", "Verdict: REDO", *(f"  - {r}" for r in reasons), "Nothing was saved."], out)
            return 1
        _print(["", "Verdict: GOOD", *(f"  note: {r}" for r in reasons)], out)
        if self.args.no_save:
            _print(["(not saved: --no-save)"], out)
            return 0
        saved = save_calibration(updated, self.path)
        _print([f"Saved calibration {updated.id} for {self.device_id} to {saved}"], out)
        return 0


async def _run_live(args: argparse.Namespace, out: Any) -> int:
    """The flow on a live sensor over BLE (tracker.ble): stops as soon as the flow has enough."""
    from tracker.ble import SensorLink
    from tracker.ble.options import link_config_from_args

    async with SensorLink(link_config_from_args(args, args.device)) as link:
        info = link.device_info
        device_id = info.address if info is not None else args.device
        rate = float(info.config.rate_hz) if info is not None else None
        session = _Session(args, device_id, rate, out)
        async for chunk in link.stream():
            if session.feed(chunk.samples):
                break
    return session.conclude(None)


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.poses < 6:
        raise UserError("--poses must be at least 6")
    if args.seconds <= 0:
        raise UserError("--seconds must be positive")
    if args.device is not None:
        return asyncio.run(_run_live(args, out))
    source = _open_source(args)
    session = _Session(args, source.device_id, source.rate_hz, out)
    for chunk in source.chunks:
        if session.feed(chunk):
            break
    return session.conclude(source.truth)
