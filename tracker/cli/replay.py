"""`reptrack replay FILE`: run the pipeline over a recording and print what it found."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.errors import UserError

if TYPE_CHECKING:
    from tracker.events import Event
    from tracker.samples import Samples

HELP = "count reps, sets and wobble in a recording (native or CSV); --json for the summary"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="a recording: native .rtrk, generic CSV, or a MetaMotion, phyphox or Sensor Logger export "
        "(file, folder or zip)",
    )
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
    """Stream ``path`` through the pipeline in bounded blocks; return the PRODUCT.md summary.

    Memory stays flat in the recording's length (tracker/io/stream.py). ``chunk`` > 0 feeds the
    pipeline ``chunk`` samples at a time across block boundaries, as live packets would.
    """
    from tracker.io.stream import RestartWithSession, open_stream
    from tracker.summary import summarize

    if not path.exists():
        raise UserError(f"{path}: no such file")
    stream = open_stream(path, accel_unit=accel_unit, gyro_unit=gyro_unit)
    cal, note = calibration_for(stream.meta, calibration)
    try:
        events, replaced = _run_pipeline(stream.blocks(), cal, stream.meta.sensor_leg, chunk)
        duration_s, warnings = stream.duration_s, list(stream.warnings)
    except RestartWithSession as restart:  # something only the whole-file reader handles
        session = restart.session
        events, replaced = _run_pipeline(iter([session.samples]), cal, session.meta.sensor_leg, chunk)
        duration_s, warnings = session.samples.duration_s, list(session.warnings)
    summary = summarize(str(path), duration_s, events)
    summary["calibration_id"] = None if cal is None else cal.id
    warnings += [note] if note else []
    if replaced:
        warnings.append(replaced)
    if warnings:
        summary["warnings"] = warnings
    return summary


def _run_pipeline(
    blocks: Iterator[Samples], cal: Any, sensor_leg: str, chunk: int
) -> tuple[list[Event], str | None]:
    """Feed the blocks (re-cut into ``chunk``-sample packets when ``chunk`` > 0), then finish.

    Returns the events and the pipeline's note on corrupt samples it replaced (None if none)."""
    from tracker.pipeline import Pipeline
    from tracker.samples import rechunk

    pipeline = Pipeline(calibration=cal, sensor_leg=sensor_leg)
    events: list[Event] = []
    if chunk <= 0:
        for block in blocks:
            events += pipeline.feed(block)
    else:
        for packet in rechunk(blocks, chunk):
            events += pipeline.feed(packet)
    events += pipeline.finish()
    return events, pipeline.replaced_samples()


def calibration_for(meta: Any, override: Path | None) -> tuple[Any, str | None]:
    """What a replay applies (docs/calibration.md): ``--calibration FILE``; else the calibration the
    recording names, when it is still in the store; else the device's current one; else none."""
    if override is None and not meta.calibration_id and meta.device_id in ("", "unknown"):
        return None, None  # nothing to look up (and the calibration package, 60 ms, not imported)
    from calibration import find_calibration_by_id, resolve_calibration

    if override is not None:
        return resolve_calibration(meta.device_id, override), None
    if meta.calibration_id:
        used = find_calibration_by_id(meta.calibration_id)
        if used is not None:
            return used, None
        current = resolve_calibration(meta.device_id)
        return current, (
            f"recorded with calibration {meta.calibration_id}, which is not in the store; "
            + (
                "replayed uncalibrated"
                if current is None
                else f"replayed with the device's current {current.id}"
            )
        )
    return resolve_calibration(meta.device_id), None


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
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    summary = replay_file(
        args.file,
        accel_unit=args.accel_unit,
        gyro_unit=args.gyro_unit,
        calibration=args.calibration,
        chunk=args.chunk,
    )
    for warning in summary.get("warnings", []):  # on stderr, whatever was found and printed
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")  # one write: json.dump writes each token
    else:
        print(_table(summary))
    return 0
