"""`reptrack report FILE`: a self-contained HTML report of a recording (docs/report.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "an HTML report of a recording: thigh angle, every set and rep, depth, tempo, wobble, the plan"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE", help="a recording: native .rtrk or a CSV export")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="HTML",
        help="the report to write (default: FILE's name + .report.html, here)",
    )
    parser.add_argument(
        "--png", type=Path, metavar="DIR", help="also write each figure as a PNG file into DIR"
    )
    parser.add_argument(
        "--plan",
        metavar="PLAN",
        help="compare with a workout plan (builtin:NAME or TOML; default: the plan the recording names)",
    )
    parser.add_argument(
        "--accel-unit", default="g", choices=("g", "m/s2"), help="accelerometer unit of a generic CSV"
    )
    parser.add_argument(
        "--gyro-unit", default="deg/s", choices=("deg/s", "rad/s"), help="gyroscope unit of a generic CSV"
    )
    parser.add_argument("--calibration", type=Path, metavar="FILE", help="a calibration file to apply")


def run(args: argparse.Namespace) -> int:
    from tracker.ui.report import analyse, write_report

    analysis = analyse(
        args.file,
        plan=args.plan,
        calibration=args.calibration,
        accel_unit=args.accel_unit,
        gyro_unit=args.gyro_unit,
    )
    out = args.out or Path(args.file.stem + ".report.html")
    written = write_report(analysis, out, args.png)
    print(f"{out}: {analysis.total_reps} reps in {len(analysis.sets)} sets", end="")
    if analysis.plan_progress is not None:
        p = analysis.plan_progress
        print(f", {p['sets_done']} of {p['sets_total']} planned sets done", end="")
    print()
    for path in written[1:]:
        print(f"  figure: {path}")
    return 0
