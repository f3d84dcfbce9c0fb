"""`reptrack replay FILE`: run the pipeline over a recording and print what it found."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tracker.errors import UserError

HELP = "count reps, sets and wobble in a recording (native or CSV); --json for the summary"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE", help="a recording: native .rtrec or CSV export")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument(
        "--accel-unit", default="g", choices=("g", "m/s2"), help="accelerometer unit of a generic CSV"
    )
    parser.add_argument(
        "--gyro-unit", default="deg/s", choices=("deg/s", "rad/s"), help="gyroscope unit of a generic CSV"
    )
    parser.add_argument("--calibration", type=Path, metavar="FILE", help="a calibration file to apply")
    parser.add_argument(
        "--chunk",
        type=int,
        default=0,
        metavar="N",
        help="feed the pipeline N samples at a time, as live packets would (default: all at once)",
    )


def replay_file(
    path: Path,
    *,
    accel_unit: str = "g",
    gyro_unit: str = "deg/s",
    calibration: Path | None = None,
    chunk: int = 0,
) -> dict[str, Any]:
    """Load ``path``, run the pipeline, return the PRODUCT.md summary."""
    from tracker.importers import load_session
    from tracker.pipeline import Pipeline
    from tracker.summary import summarize

    if not path.exists():
        raise UserError(f"{path}: no such file")
    session = load_session(path, accel_unit=accel_unit, gyro_unit=gyro_unit)
    cal = None
    if calibration is not None:
        from calibration import load_calibration

        cal = load_calibration(calibration)
    pipeline = Pipeline(calibration=None if cal is None else cal.apply, sensor_leg=session.meta.sensor_leg)
    samples = session.samples
    events = []
    if chunk > 0:
        for block in samples.chunks(chunk):
            events += pipeline.feed(block)
    else:
        events += pipeline.feed(samples)
    events += pipeline.finish()
    summary = summarize(str(path), samples.duration_s, events)
    if session.warnings:
        summary["warnings"] = list(session.warnings)
    return summary


def _table(summary: dict[str, Any]) -> str:
    lines = [f"{summary['source']}: {summary['duration_s']:.1f} s, {summary['total_reps']} reps"]
    if not summary["sets"]:
        lines.append("no sets found")
        return "\n".join(lines)
    head = f"{'set':>3}  {'exercise':<20} {'leg':<7} {'reps':>4}  {'start':>7}  {'end':>7}  {'depth':>6}  {'rep s':>5}"
    lines += [head, "-" * len(head)]
    for s in summary["sets"]:
        detail = s["reps_detail"]
        depth = sum(r["depth_deg"] for r in detail) / len(detail) if detail else 0.0
        dur = sum(r["duration_s"] for r in detail) / len(detail) if detail else 0.0
        lines.append(
            f"{s['index']:>3}  {s['exercise']:<20} {s['leg']:<7} {s['reps']:>4}  {s['start_s']:>7.1f}  "
            f"{s['end_s']:>7.1f}  {depth:>6.1f}  {dur:>5.2f}"
        )
    lines.append("depth: mean thigh flexion at the bottom (deg); rep s: mean rep duration")
    for w in summary.get("wobble_events", []):
        lines.append(f"wobble at {w['t_s']:.1f} s in set {w['set_index']}: {w['level']:.1f} deg RMS")
    for w in summary.get("warnings", []):
        lines.append(f"warning: {w}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    summary = replay_file(
        args.file,
        accel_unit=args.accel_unit,
        gyro_unit=args.gyro_unit,
        calibration=args.calibration,
        chunk=args.chunk,
    )
    if args.json:
        json.dump(summary, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(_table(summary))
    return 0
