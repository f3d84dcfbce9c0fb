"""Load a session from any supported file, and export one as generic CSV (docs/recording.md).

:func:`load_session` is the one entry point: it detects the format from the file's content (not
only its name) and returns a :class:`Session` in the project's units (session time from 0 s,
acceleration in g with gravity, angular rate in deg/s, sensor axes). Formats:

- ``native``: RepTrack's own ``.rtrk`` recording (:mod:`tracker.io.native`);
- ``csv``: the generic CSV of docs/recording.md (``t,ax,ay,az[,gx,gy,gz]``);
- ``metamotion``: MbientLab MetaMotion / MetaBase exports (separate Accelerometer and Gyroscope
  files, or their folder);
- ``phyphox``: phyphox exports (``Raw Data.csv``, or the folder with ``Accelerometer.csv`` and
  ``Gyroscope.csv``).

Every problem with the input is an :class:`~tracker.errors.InputFileError` naming the file, line
and column.
"""

from __future__ import annotations

from pathlib import Path

from tracker.errors import InputFileError
from tracker.io.generic_csv import load_generic_csv
from tracker.io.metamotion import load_metamotion
from tracker.io.native import MAGIC, read_recording
from tracker.io.phyphox import load_phyphox
from tracker.io.session import Session
from tracker.io.text import csv_files, first_header, read_bytes
from tracker.io.units import ACCEL_UNITS, GYRO_UNITS, check_sample_units

FORMATS = ("native", "csv", "metamotion", "phyphox")


def load_session(
    path: str | Path,
    *,
    accel_unit: str = "g",
    gyro_unit: str = "deg/s",
    fmt: str | None = None,
    check_units: bool = True,
) -> Session:
    """Read a recording or export in any supported format (detected from content unless ``fmt``).

    ``accel_unit``/``gyro_unit`` say how a generic CSV stores its values (formats whose columns
    name their units ignore them). With ``check_units`` a CSV whose accelerometer does not read
    about 1 g at rest, or whose gyroscope clearly turns in the other unit during calm tilting, is
    refused with an error that says which option to use; when the calm stretches are too few to
    be sure, the session loads with a warning instead.
    """
    if accel_unit not in ACCEL_UNITS:
        raise InputFileError(
            path, f"unknown accelerometer unit {accel_unit!r}; expected one of {ACCEL_UNITS}"
        )
    if gyro_unit not in GYRO_UNITS:
        raise InputFileError(path, f"unknown gyroscope unit {gyro_unit!r}; expected one of {GYRO_UNITS}")
    if fmt is not None and fmt not in FORMATS:
        raise InputFileError(path, f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    p = Path(path)
    kind = fmt or detect_format(p)
    if kind == "native":
        session = read_recording(p)
        session.source = str(path)
        return session
    if kind == "metamotion":
        session = load_metamotion(p)
    elif kind == "phyphox":
        session = load_phyphox(p)
    else:
        session = load_generic_csv(p, accel_unit=accel_unit, gyro_unit=gyro_unit)
    session.source = str(path)
    if check_units:
        session.warnings += check_sample_units(
            session.samples, path, accel_unit=accel_unit, gyro_unit=gyro_unit, fmt=kind
        )
    return session


def detect_format(path: Path) -> str:
    """Tell the format from the content: native magic, vendor CSV headers, else generic CSV."""
    if path.is_dir():
        return detect_folder(path)
    head = read_bytes(path, limit=4096)
    if head.startswith(MAGIC):
        return "native"
    if MAGIC.startswith(head) and path.suffix.lower() == ".rtrk":  # cut inside the magic, or empty
        return "native"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        low = s.lower()
        if "epoch (ms)" in low and "axis" in low:
            return "metamotion"
        if low.lstrip("\"'").startswith("time (s)"):
            return "phyphox"
        break
    return "csv"


def detect_folder(path: Path) -> str:
    """A folder is a MetaMotion export (``..._Accelerometer_...csv``) or a phyphox export."""
    headers = {p: first_header(p) for p in csv_files(path)}
    if any("epoch (ms)" in h for h in headers.values()):
        return "metamotion"
    if any(h.lstrip("\"'").startswith("time (s)") for h in headers.values()):
        return "phyphox"
    raise InputFileError(
        path,
        "no supported export in this folder: expected MetaMotion/MetaBase CSV files "
        "(..._Accelerometer_...csv) or a phyphox export (Accelerometer.csv, Gyroscope.csv or Raw Data.csv)",
    )
