"""`reptrack convert IN OUT`: turn a recording or export into a native recording or generic CSV.

The output format follows OUT's extension: ``.rtrk`` (native recording, docs/recording.md) or
``.csv`` (generic CSV). A native recording converted to native keeps its raw packets byte for
byte; everything else is converted through samples, exactly (CSV -> native -> CSV is identical).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tracker.errors import UserError
from tracker.io.generic_csv import export_csv
from tracker.io.load import FORMATS, detect_format, load_session
from tracker.io.native import (
    NoteRecord,
    PacketsRecord,
    RecordingReader,
    RecordingWriter,
    SamplesRecord,
    read_recording,
)
from tracker.io.session import Session
from tracker.io.units import ACCEL_UNITS, GYRO_UNITS

HELP = (
    "convert a recording or export (native, CSV, MetaMotion, phyphox, Sensor Logger; a file, folder or zip) "
    "to a native .rtrk or a generic .csv"
)

OUTPUT_FORMATS = {".rtrk": "native recording", ".csv": "generic CSV"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN", help="recording file, CSV export, export folder or zip")
    parser.add_argument(
        "output", metavar="OUT", help="file to write: .rtrk (native recording) or .csv (generic CSV)"
    )
    parser.add_argument(
        "--accel-unit",
        choices=ACCEL_UNITS,
        default="g",
        help="accelerometer unit of a generic CSV (default: g)",
    )
    parser.add_argument(
        "--gyro-unit",
        choices=GYRO_UNITS,
        default="deg/s",
        help="gyroscope unit of a generic CSV (default: deg/s)",
    )
    parser.add_argument(
        "--from",
        dest="fmt",
        choices=FORMATS,
        default=None,
        help="input format (default: detected from the content)",
    )
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")


def run(args: argparse.Namespace) -> int:
    src = Path(args.input)
    dst = Path(args.output)
    kind = OUTPUT_FORMATS.get(dst.suffix.lower())
    if kind is None:
        raise UserError(f"{dst}: the output must end in .rtrk (native recording) or .csv (generic CSV)")
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise UserError(f"{dst}: the output is the input; choose another name")
    if dst.exists() and not args.force:
        raise UserError(f"{dst}: already exists; use --force to replace it")
    fmt = args.fmt or detect_format(src)
    if fmt == "native" and dst.suffix.lower() == ".rtrk":
        session, warnings = _copy_native(src, dst)
    else:
        session = load_session(src, accel_unit=args.accel_unit, gyro_unit=args.gyro_unit, fmt=args.fmt)
        warnings = session.warnings
        if dst.suffix.lower() == ".csv":
            export_csv(session, dst)
        else:
            with RecordingWriter.create(dst, session.meta, overwrite=True) as writer:
                writer.write_samples(session.samples)
                for note in session.notes:
                    writer.write_note_dict(note)
    for warning in warnings:
        print(f"reptrack convert: warning: {src}: {warning}", file=sys.stderr)
    s = session.samples
    gyro = "accel+gyro" if s.has_gyro else "accel only"
    print(f"wrote {dst} ({kind}): {len(s)} samples, {s.duration_s:.2f} s, {gyro}, from {fmt} {src}")
    return 0


def _copy_native(src: Path, dst: Path) -> tuple[Session, list[str]]:
    """Native to native: copy every readable record as it is (raw packets stay byte for byte)."""
    reader = RecordingReader.open(src)
    if reader.meta is None:
        raise UserError(f"{src}: has no readable header record; nothing to convert")
    if reader.has_packets and reader.has_samples:
        raise UserError(f"{src}: holds both packets and float samples; convert it to .csv instead")
    with RecordingWriter.create(dst, reader.meta, overwrite=True) as writer:
        for record in reader.records:
            if isinstance(record, PacketsRecord):
                writer.write_packets(record.packets, record.host_times_s)
            elif isinstance(record, SamplesRecord):
                writer.write_samples(record.samples)
            elif isinstance(record, NoteRecord):
                writer.write_note_dict(record.note)
    return read_recording(dst), reader.warnings
