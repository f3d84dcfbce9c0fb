"""Sensor Logger (the phone app) exports: a folder (or zip) of one CSV per sensor.

Each file has the header ``time,seconds_elapsed,z,y,x``: ``time`` in Unix epoch nanoseconds,
``seconds_elapsed`` since the recording started, and the axes in reverse order. The app writes
acceleration in m/s^2 and angular rate in rad/s. ``Accelerometer.csv`` has gravity removed;
``TotalAcceleration.csv`` (or ``Accelerometer.csv`` plus ``Gravity.csv``) has it, which is what
RepTrack needs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tracker.errors import InputFileError
from tracker.io.session import RecordingMeta, Session
from tracker.io.text import check_increasing_time, csv_files, first_header, read_table
from tracker.io.units import DEG_PER_RAD, STANDARD_GRAVITY_MS2, merge_accel_gyro
from tracker.samples import Samples

HEADER_COLUMNS = ("time", "seconds_elapsed", "z", "y", "x")


def is_sensorlogger_header(header: str) -> bool:
    names = [c.strip().strip("\"'").lower() for c in header.split(",")]
    return tuple(names[:5]) == HEADER_COLUMNS


def _table(path: Path) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """(seconds_elapsed, x-y-z values, first epoch time in s) of one Sensor Logger file."""
    table = read_table(path)
    index = {name.strip().lower(): i for i, name in enumerate(table.names)}
    missing = [c for c in HEADER_COLUMNS if c not in index]
    if missing:
        raise InputFileError(
            path,
            f"missing column {missing[0]!r}; expected time,seconds_elapsed,z,y,x",
            line=table.header_line,
        )
    values = table.values([index["seconds_elapsed"], index["x"], index["y"], index["z"], index["time"]])
    t = values[:, 0]
    check_increasing_time(path, t, table.lines, "seconds_elapsed")
    return t, values[:, 1:4], float(values[0, 4]) / 1e9


def _folder_files(path: Path) -> tuple[Path, dict[str, Path]]:
    folder = path if path.is_dir() else path.parent
    files = {p.stem.lower(): p for p in csv_files(folder) if is_sensorlogger_header(first_header(p))}
    if not files:
        raise InputFileError(path, "no Sensor Logger CSV (header time,seconds_elapsed,z,y,x) here")
    return folder, files


def _acceleration_with_gravity(
    folder: Path, files: dict[str, Path], warnings: list[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float, str]:
    """Acceleration in m/s^2 with gravity: TotalAcceleration, else Accelerometer + Gravity."""
    if "totalacceleration" in files:
        t, acc, epoch_s = _table(files["totalacceleration"])
        return t, acc, epoch_s, files["totalacceleration"].name
    if "accelerometer" not in files:
        raise InputFileError(
            folder,
            "no Sensor Logger TotalAcceleration.csv or Accelerometer.csv: RepTrack needs the accelerometer",
        )
    t, acc, epoch_s = _table(files["accelerometer"])
    if "gravity" in files:
        t_g, gravity, _ = _table(files["gravity"])
        grav = np.column_stack([np.interp(t, t_g, gravity[:, i]) for i in range(3)])
        warnings.append("acceleration = Accelerometer.csv + Gravity.csv (interpolated onto its times)")
        return t, acc + grav, epoch_s, files["accelerometer"].name
    return t, acc, epoch_s, files["accelerometer"].name


def load_sensorlogger(path: Path) -> Session:
    """A Sensor Logger export: its folder, or any of its CSV files (the others are found beside it)."""
    warnings: list[str] = []
    folder, files = _folder_files(path)
    t_acc, acc_ms2, epoch_s, accel_name = _acceleration_with_gravity(folder, files, warnings)
    magnitude = float(np.median(np.linalg.norm(acc_ms2, axis=1))) if len(acc_ms2) else 0.0
    if magnitude < 0.3 * STANDARD_GRAVITY_MS2:
        raise InputFileError(
            folder / accel_name,
            f"reads {magnitude:.2g} m/s^2 at the median: Sensor Logger's Accelerometer has gravity removed; "
            "RepTrack needs acceleration with gravity: turn on TotalAcceleration (or Gravity) in Sensor Logger "
            "and export it too",
        )
    t_gyr = gyro = None
    if "gyroscope" in files:
        t_gyr, gyro_rads, _ = _table(files["gyroscope"])
        gyro = gyro_rads * DEG_PER_RAD
    else:
        warnings.append("no Sensor Logger Gyroscope.csv found: accelerometer only")
    t, accel, gyro = merge_accel_gyro(path, t_acc, acc_ms2 / STANDARD_GRAVITY_MS2, t_gyr, gyro, warnings)
    meta = RecordingMeta(device_name="Sensor Logger", source=f"Sensor Logger export {folder.name}")
    meta.extra["accelerometer_file"] = accel_name
    try:
        meta.start_time = datetime.fromtimestamp(epoch_s + float(t[0] - t_acc[0]), UTC).isoformat(
            timespec="milliseconds"
        )
    except (OverflowError, OSError, ValueError):
        warnings.append(f"time {epoch_s!r} s is not a valid date; start time unknown")
    samples = Samples.from_arrays(t - t[0], accel, gyro)
    meta.rate_hz = round(samples.estimated_rate_hz(), 3)
    return Session(str(path), meta, samples, [], [], warnings)
