"""Load a session from any supported file, and export one as generic CSV (docs/recording.md).

:func:`load_session` is the one entry point: it detects the format from the file's content (not
only its name) and returns a :class:`Session` in the project's units (session time from 0 s,
acceleration in g with gravity, angular rate in deg/s, sensor axes). Formats:

- ``native``: RepTrack's own ``.rtrk`` recording (:mod:`tracker.io.native`);
- ``csv``: the generic CSV of docs/recording.md (``t,ax,ay,az[,gx,gy,gz]``);
- ``metamotion``: MbientLab MetaMotion / MetaBase exports (separate Accelerometer and Gyroscope
  files, or their folder);
- ``phyphox``: phyphox exports (``Raw Data.csv``, or the folder with ``Accelerometer.csv`` and
  ``Gyroscope.csv``);
- ``sensorlogger``: Sensor Logger app exports (``TotalAcceleration.csv`` or ``Accelerometer.csv``
  with ``Gravity.csv``, and ``Gyroscope.csv``).

A zip file of any export folder (as phyphox and Sensor Logger share them) loads as that folder.

Every problem with the input is an :class:`~tracker.errors.InputFileError` naming the file, line
and column.
"""

from __future__ import annotations

from pathlib import Path

from tracker.errors import InputFileError
from tracker.io.generic_csv import load_generic_csv
from tracker.io.metamotion import is_metamotion_header, load_metamotion
from tracker.io.native import MAGIC, read_recording
from tracker.io.phyphox import load_phyphox
from tracker.io.sensorlogger import is_sensorlogger_header, load_sensorlogger
from tracker.io.session import Session
from tracker.io.text import csv_files, first_header, read_bytes
from tracker.io.units import ACCEL_UNITS, GYRO_UNITS, check_sample_units

FORMATS = ("native", "csv", "metamotion", "phyphox", "sensorlogger")


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
    if p.is_file() and read_bytes(p, limit=4) == ZIP_MAGIC:
        return load_zip(p, accel_unit=accel_unit, gyro_unit=gyro_unit, fmt=fmt, check_units=check_units)
    kind = fmt or detect_format(p)
    if kind == "native":
        session = read_recording(p)
        session.source = str(path)
        return session
    if kind == "metamotion":
        session = load_metamotion(p)
    elif kind == "phyphox":
        session = load_phyphox(p)
    elif kind == "sensorlogger":
        session = load_sensorlogger(p)
    else:
        session = load_generic_csv(p, accel_unit=accel_unit, gyro_unit=gyro_unit)
    session.source = str(path)
    if check_units:
        session.warnings += check_sample_units(
            session.samples, path, accel_unit=accel_unit, gyro_unit=gyro_unit, fmt=kind
        )
    return session


def detect_format(path: Path) -> str:
    """Tell the format from the content: native magic, a zip, vendor CSV headers, else generic CSV."""
    if path.is_dir():
        return detect_folder(path)
    head = read_bytes(path, limit=4096)
    if head.startswith(ZIP_MAGIC):
        return "zip"  # an export folder, zipped: load_session unpacks it
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
        if is_metamotion_header(low):
            return "metamotion"
        if low.lstrip("\"'").startswith("time (s)"):
            return "phyphox"
        if is_sensorlogger_header(low):
            return "sensorlogger"
        break
    return "csv"


def detect_folder(path: Path) -> str:
    """A folder is a MetaMotion export (``..._Accelerometer_...csv``) or a phyphox export."""
    headers = {p: first_header(p) for p in csv_files(path)}
    if any(is_metamotion_header(h) for h in headers.values()):
        return "metamotion"
    if any(h.lstrip("\"'").startswith("time (s)") for h in headers.values()):
        return "phyphox"
    if any(is_sensorlogger_header(h) for h in headers.values()):
        return "sensorlogger"
    raise InputFileError(
        path,
        "no supported export in this folder: expected MetaMotion/MetaBase CSV files "
        "(..._Accelerometer_...csv), a phyphox export (Accelerometer.csv, Gyroscope.csv or Raw Data.csv) "
        "or a Sensor Logger export (TotalAcceleration.csv or Accelerometer.csv, Gyroscope.csv)",
    )


ZIP_MAGIC = b"PK\x03\x04"
MAX_UNZIPPED_BYTES = 2 << 30
"""A zip that unpacks to more than this is refused (a zip bomb, or not an IMU export)."""


def load_zip(path: Path, *, accel_unit: str, gyro_unit: str, fmt: str | None, check_units: bool) -> Session:
    """An export folder shared as a zip (phyphox, Sensor Logger): its CSV files are unpacked into a
    temporary folder and loaded as that folder; errors name ``export.zip: member.csv``."""
    import tempfile
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                m
                for m in archive.infolist()
                if not m.is_dir()
                and m.filename.lower().endswith(".csv")
                and not m.filename.startswith("__MACOSX/")
                and "/meta/" not in f"/{m.filename}"
            ]
            if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
                raise InputFileError(path, f"unpacks to more than {MAX_UNZIPPED_BYTES >> 30} GiB of CSV")
            if not members:
                raise InputFileError(path, "a zip file without any CSV file in it")
            with tempfile.TemporaryDirectory(prefix="reptrack-zip-") as tmp:
                folder = Path(tmp) / path.stem
                folder.mkdir()
                for m in members:
                    name = Path(m.filename).name
                    if not (folder / name).exists():  # the shallowest copy of a name wins
                        (folder / name).write_bytes(archive.read(m))
                try:
                    session = load_session(
                        folder, accel_unit=accel_unit, gyro_unit=gyro_unit, fmt=fmt, check_units=check_units
                    )
                except InputFileError as exc:
                    raise InputFileError(
                        path, str(exc).replace(f"{folder}/", "").replace(str(folder), "")
                    ) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise InputFileError(path, f"cannot unpack the zip file: {exc}") from None
    session.source = str(path)
    return session
