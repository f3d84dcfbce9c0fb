"""phyphox exports: ``Raw Data.csv``, ``Accelerometer.csv`` (+ ``Gyroscope.csv``), or their folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tracker.errors import InputFileError
from tracker.io.session import RecordingMeta, Session
from tracker.io.text import axis_columns, check_increasing_time, csv_files, read_table
from tracker.io.units import accel_scale, gyro_scale, merge_accel_gyro
from tracker.samples import Samples


@dataclass
class _PhyphoxPart:
    path: Path
    t: npt.NDArray[np.float64]
    accel: npt.NDArray[np.float64] | None
    gyro: npt.NDArray[np.float64] | None


def _phyphox_part(path: Path) -> _PhyphoxPart:
    table = read_table(path)
    time_col = table.find("time (s)")
    if time_col is None:
        raise InputFileError(path, "missing column 'Time (s)'", line=table.header_line, column="Time (s)")
    if table.find("linear acceleration") is not None:
        raise InputFileError(
            path,
            "phyphox 'Linear Acceleration' has gravity removed; RepTrack needs acceleration with gravity: "
            "record with the 'Acceleration (with g)' experiment (Accelerometer.csv)",
            line=table.header_line,
            column=table.names[table.find("linear acceleration") or 0],
        )
    acc = axis_columns(table, "acceleration {a}")
    gyr = axis_columns(table, "gyroscope {a}")
    if acc is None and gyr is None:  # phyphox 1.1.16 and later: "X (m/s^2)" or "X (rad/s)"
        acc, gyr = _by_unit(axis_columns(table, "{a} ("))
    if acc is None and gyr is None:
        raise InputFileError(
            path,
            "no 'Acceleration x (m/s^2)', 'X (m/s^2)', 'Gyroscope x (rad/s)' or 'X (rad/s)' columns (is this "
            "a phyphox accelerometer or gyroscope export?)",
            line=table.header_line,
        )
    indices = [time_col]
    if acc is not None:
        indices += acc[0]
    if gyr is not None:
        indices += gyr[0]
    values = table.values(indices)
    t = values[:, 0]
    check_increasing_time(path, t, table.lines, table.names[time_col])
    col = 1
    accel = gyro = None
    if acc is not None:
        accel = values[:, col : col + 3] * accel_scale(path, acc[1], table.names[acc[0][0]])
        col += 3
    if gyr is not None:
        gyro = values[:, col : col + 3] * gyro_scale(path, gyr[1], table.names[gyr[0][0]])
    return _PhyphoxPart(path, t, accel, gyro)


_ACCEL_UNIT_WORDS = ("m/s", "g")


def _by_unit(
    found: tuple[list[int], str] | None,
) -> tuple[tuple[list[int], str] | None, tuple[list[int], str] | None]:
    """``X (unit)`` columns are the accelerometer's or the gyroscope's according to their unit."""
    if found is None:
        return None, None
    unit = found[1].replace(" ", "")
    if unit.endswith("/s") and ("rad" in unit or "deg" in unit or "°" in unit):
        return None, found
    if unit.startswith(_ACCEL_UNIT_WORDS):
        return found, None
    return None, None


def load_phyphox(path: Path) -> Session:
    """phyphox export: ``Raw Data.csv``, ``Accelerometer.csv`` (+ ``Gyroscope.csv``), or the folder."""
    warnings: list[str] = []
    if path.is_dir():
        folder = path
        names = {p.name.lower(): p for p in csv_files(folder)}
        candidates = [names[n] for n in ("accelerometer.csv", "raw data.csv") if n in names]
        if not candidates:
            if "linear accelerometer.csv" in names:
                _phyphox_part(names["linear accelerometer.csv"])  # raises the gravity error
            raise InputFileError(
                folder,
                "no phyphox Accelerometer.csv or Raw Data.csv in this folder (export 'Acceleration (with g)')",
            )
        first = _phyphox_part(candidates[0])
    else:
        folder = path.parent
        names = {p.name.lower(): p for p in csv_files(folder)}
        first = _phyphox_part(path)
    parts = [first]
    if first.accel is None or first.gyro is None:
        wanted = "gyroscope.csv" if first.accel is not None else "accelerometer.csv"
        partner = names.get(wanted)
        if partner is not None and partner != first.path:
            parts.append(_phyphox_part(partner))
    accel_part = next((p for p in parts if p.accel is not None), None)
    gyro_part = next((p for p in parts if p.gyro is not None), None)
    if accel_part is None or accel_part.accel is None:
        raise InputFileError(
            first.path,
            "has only gyroscope data; RepTrack needs the accelerometer: export 'Acceleration (with g)' "
            "(Accelerometer.csv) too",
        )
    if gyro_part is None:
        warnings.append("no phyphox gyroscope data found: accelerometer only")
    t, accel, gyro = merge_accel_gyro(
        path,
        accel_part.t,
        accel_part.accel,
        None if gyro_part is None else gyro_part.t,
        None if gyro_part is None else gyro_part.gyro,
        warnings,
    )
    meta = RecordingMeta(device_name="phyphox", source=f"phyphox export {accel_part.path.name}")
    meta.extra["accelerometer_file"] = accel_part.path.name
    if gyro_part is not None:
        meta.extra["gyroscope_file"] = gyro_part.path.name
    if t[0] != 0.0:
        meta.extra["time_offset_s"] = repr(float(t[0]))
    samples = Samples.from_arrays(t - t[0], accel, gyro)
    meta.rate_hz = round(samples.estimated_rate_hz(), 3)
    return Session(str(path), meta, samples, [], [], warnings)
