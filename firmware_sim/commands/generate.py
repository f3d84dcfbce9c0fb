"""`firmware-sim generate`: simulate a workout into a recording plus its ground truth (docs/simulator.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from firmware_sim.session import MOUNTINGS, simulate
from firmware_sim.workout import load_workout
from tracker.errors import InputFileError, UserError
from tracker.io import Session, export_csv
from tracker.io.native import RecordingWriter
from tracker.io.session import RecordingMeta
from tracker.protocol import ACCEL_RANGES_G, GYRO_RANGES_DPS, SUPPORTED_RATES_HZ

HELP = "simulate a workout into a recording (native or CSV) with ground truth beside it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workout", required=True, metavar="FILE|builtin:NAME", help="workout script (TOML)")
    parser.add_argument("--out", required=True, metavar="REC", help="recording to write (.csv: generic CSV)")
    parser.add_argument("--seed", type=int, default=0, help="random seed: same seed, same bytes (default 0)")
    parser.add_argument(
        "--rate",
        type=int,
        default=100,
        choices=SUPPORTED_RATES_HZ,
        metavar="HZ",
        help="sample rate (default 100)",
    )
    parser.add_argument("--leg", choices=("left", "right"), default="left", help="thigh wearing the sensor")
    parser.add_argument(
        "--mounting",
        default="random",
        choices=MOUNTINGS,
        help="how the sensor sits on the thigh (default random: any rotation)",
    )
    parser.add_argument(
        "--imu", choices=("default", "ideal"), default="default", help="ideal: no sensor errors"
    )
    parser.add_argument("--accel-range", type=float, default=8.0, choices=ACCEL_RANGES_G, metavar="G")
    parser.add_argument("--gyro-range", type=float, default=1000.0, choices=GYRO_RANGES_DPS, metavar="DPS")
    parser.add_argument("--samples-per-packet", type=int, default=10, metavar="N")
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")


def truth_path(out: Path) -> Path:
    return out.with_suffix("").with_name(out.with_suffix("").name + ".truth.json")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    truth_file = truth_path(out)
    if not args.force:
        for p in (out, truth_file):
            if p.exists() and p.stat().st_size > 0:
                raise InputFileError(p, "already exists; choose another name or pass --force")
    if not 1 <= args.samples_per_packet <= 40:
        raise UserError(f"--samples-per-packet must be 1..40, got {args.samples_per_packet}")
    workout = load_workout(args.workout)
    session = simulate(
        workout, seed=args.seed, rate_hz=float(args.rate), leg=args.leg, mounting=args.mounting, imu=args.imu
    )
    source = f"firmware-sim generate --workout {args.workout} --seed {args.seed}"
    meta = RecordingMeta(
        device_id="sim-0",
        device_name="RepTrack simulated sensor",
        firmware="firmware_sim",
        rate_hz=float(args.rate),
        accel_range_g=args.accel_range,
        gyro_range_dps=args.gyro_range,
        samples_per_packet=args.samples_per_packet,
        start_time="2026-01-01T00:00:00.000+00:00",  # fixed: same seed, same bytes
        sensor_leg=args.leg,
        source=source,
        extra={"workout": workout.name, "seed": args.seed, "mounting": args.mounting},
    )
    if out.suffix.lower() == ".csv":
        samples = session.samples(args.samples_per_packet, args.accel_range, args.gyro_range)
        export_csv(Session(source=str(out), meta=meta, samples=samples), out)
    else:
        packets = session.packets(args.samples_per_packet, args.accel_range, args.gyro_range)
        with RecordingWriter.create(out, meta, overwrite=True) as writer:
            writer.write_packets(packets)
    try:
        truth_file.write_text(json.dumps(session.truth.to_json(), indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputFileError(truth_file, f"cannot write: {exc.strerror or exc}") from None
    t = session.truth
    print(
        f"{out}: {t.duration_s:.1f} s at {args.rate} Hz, {len(t.sets)} sets, {t.total_reps} reps "
        f"(sensor on the {args.leg} thigh, mounting {args.mounting}); truth in {truth_file}"
    )
    return 0
