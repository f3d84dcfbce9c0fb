"""`reptrack calibrate accel|gyro|mounting`: guided calibration of one sensor (docs/calibration.md).

The flow tells the user what to do, shows progress as the sensor's stream arrives, and ends with
a verdict. A good result is merged into the device's calibration file; a failed one ("redo") is
never saved, so the previous good calibration stays in place.
"""

from __future__ import annotations

import argparse
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
from tracker.errors import InputFileError, UserError

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


# --- sources ---------------------------------------------------------------------------------


def _replay_source(path: str) -> Stream:
    from tracker.importers import load_session

    session = load_session(path)
    samples = session.samples
    if len(samples) == 0:
        raise InputFileError(path, "the recording holds no samples")
    rate = samples.estimated_rate_hz() or None
    return Stream(session.meta.device_id, samples.chunks(CHUNK), rate)


def _sim_source(kind: str, workout: str, seed: int) -> Stream:
    from calibration import simsource

    return simsource.open_sim(kind, workout or None, seed, CHUNK)


def _device_source(address: str) -> Stream:
    try:
        from tracker.ble import stream_samples  # type: ignore[attr-defined]
    except ImportError:
        raise UserError("live sensors are not supported yet in this version: use --sim or --replay") from None
    device_id, chunks = stream_samples(address)
    return Stream(device_id, chunks, None)


def _open_source(args: argparse.Namespace) -> Stream:
    if args.replay is not None:
        return _replay_source(args.replay)
    if args.sim is not None:
        return _sim_source(args.kind, args.sim, args.seed)
    return _device_source(args.device)


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


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.poses < 6:
        raise UserError("--poses must be at least 6")
    if args.seconds <= 0:
        raise UserError("--seconds must be positive")
    source = _open_source(args)
    device_id = args.device_id or source.device_id
    if not device_id or device_id == "unknown":
        raise UserError("the source does not say which sensor it is: give --device-id")
    path = Path(args.calibration) if args.calibration else calibration_path(device_id)
    current = _existing(path, device_id, out)

    flow: flows.AccelFlow | flows.GyroFlow | flows.MountingFlow
    if args.kind == "accel":
        flow = flows.AccelFlow(target_poses=args.poses, rate_hz=source.rate_hz)
    elif args.kind == "gyro":
        flow = flows.GyroFlow(still_s=args.seconds, rate_hz=source.rate_hz)
    else:
        flow = flows.MountingFlow(imu=current.imu, leg=args.leg, rate_hz=source.rate_hz)
        if current.imu.accel is None:
            _print(
                ["note: no accelerometer calibration for this sensor; mounting may be off by a few deg"], out
            )

    _print([f"sensor: {device_id}", *flow.intro()], out)
    for chunk in source.chunks:
        try:
            _print(flow.feed(chunk), out)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if flow.done:
            break
    result = flow.finish()

    updated: DeviceCalibration
    if isinstance(result, AccelCalibration):
        _print(["", "Result:", *flows.describe_accel(result)], out)
        quality: Any = result.quality
        updated = current.with_accel(result)
    elif isinstance(result, GyroCalibration):
        _print(["", "Result:", *flows.describe_gyro(result)], out)
        quality = result.quality
        updated = current.with_gyro(result)
    else:
        assert isinstance(result, MountingEstimate)
        _print(["", "Result:", *flows.describe_mounting(result)], out)
        quality = result.mounting.quality
        updated = current.with_mounting(result.mounting)
    if source.truth:
        _print(["Simulator truth:", *(f"  {k}: {v}" for k, v in source.truth.items())], out)

    verdict = quality.verdict if quality is not None else "redo"
    reasons = list(quality.reasons) if quality is not None else []
    if verdict != "good":
        _print(["", "Verdict: REDO", *(f"  - {r}" for r in reasons), "Nothing was saved."], out)
        return 1
    _print(["", "Verdict: GOOD", *(f"  note: {r}" for r in reasons)], out)
    if args.no_save:
        _print(["(not saved: --no-save)"], out)
        return 0
    saved = save_calibration(updated, path)
    _print([f"Saved calibration {updated.id} for {device_id} to {saved}"], out)
    return 0
