"""MbientLab MetaMotion / MetaBase exports: an accelerometer file, its gyroscope file, or their folder."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tracker.errors import InputFileError
from tracker.io.session import RecordingMeta, Session
from tracker.io.text import axis_columns, check_increasing_time, csv_files, first_header, read_table
from tracker.io.units import accel_scale, gyro_scale, merge_accel_gyro
from tracker.samples import Samples

_METAWEAR_NAME = re.compile(
    r"(?P<prefix>.*?)_(?P<kind>Accelerometer|Gyroscope)(?:_(?P<rate>[\d.]+)Hz)?(?:_(?P<fw>[\d.]+))?$",
    re.IGNORECASE,
)
_METAWEAR_MAC = re.compile(r"_([0-9A-Fa-f]{12})(?:_|$)")


def is_metamotion_header(header: str) -> bool:
    """MetaBase writes ``epoch (ms)``; older MetaWear apps and MetaBase versions wrote ``epoc (ms)``."""
    low = header.lower()
    return ("epoch (ms)" in low or "epoc (ms)" in low) and "axis" in low


def _metamotion_kind(path: Path) -> str:
    header = first_header(path)
    if not is_metamotion_header(header):
        return ""
    if re.search(r"x-axis \((g|m/s\^?2)\)", header):
        return "accel"
    if re.search(r"x-axis \((deg/s|°/s|dps|rad/s)\)", header):
        return "gyro"
    return "other"


def _metamotion_prefix(path: Path) -> str:
    m = _METAWEAR_NAME.match(path.stem)
    return m.group("prefix") if m else path.stem


def _metamotion_pair(path: Path) -> tuple[Path, Path | None, list[str]]:
    notes: list[str] = []
    if path.is_dir():
        files = {p: _metamotion_kind(p) for p in csv_files(path)}
        accels = [p for p, k in files.items() if k == "accel"]
        if not accels:
            raise InputFileError(path, "no MetaMotion accelerometer CSV (x-axis (g) columns) in this folder")
        if len(accels) > 1:
            names = ", ".join(p.name for p in accels)
            raise InputFileError(
                path, f"{len(accels)} accelerometer recordings in this folder ({names}); pass one file"
            )
        accel_path = accels[0]
        gyros = [p for p, k in files.items() if k == "gyro"]
    else:
        kind = _metamotion_kind(path)
        folder = path.parent
        others = {p: _metamotion_kind(p) for p in csv_files(folder) if p != path}
        if kind == "gyro":
            prefix = _metamotion_prefix(path)
            partners = [p for p, k in others.items() if k == "accel" and _metamotion_prefix(p) == prefix]
            if len(partners) != 1:
                raise InputFileError(
                    path,
                    "this is a MetaMotion gyroscope file; RepTrack needs the accelerometer: pass the matching "
                    "..._Accelerometer_...csv (or the folder)",
                )
            accel_path = partners[0]
            return accel_path, path, notes
        if kind != "accel":
            raise InputFileError(
                path,
                "not a MetaMotion accelerometer or gyroscope export (expected x-axis (g) or x-axis (deg/s))",
            )
        accel_path = path
        gyros = [p for p, k in others.items() if k == "gyro"]
    prefix = _metamotion_prefix(accel_path)
    same = [g for g in gyros if _metamotion_prefix(g) == prefix]
    gyro_path = same[0] if len(same) == 1 else (gyros[0] if len(gyros) == 1 and path.is_dir() else None)
    if gyro_path is None:
        notes.append("no matching MetaMotion gyroscope file found: accelerometer only")
    return accel_path, gyro_path, notes


def _metamotion_table(
    path: Path, kind: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    table = read_table(path)
    epoch = table.find("epoc")  # "epoch (ms)", or "epoc (ms)" in older exports
    if epoch is None:
        raise InputFileError(path, "missing column 'epoch (ms)'", line=table.header_line, column="epoch (ms)")
    cols = axis_columns(table, "{a}-axis")
    if cols is None:
        missing = next(
            (f"{a}-axis" for a in "xyz" if not any(n.lower().startswith(f"{a}-axis") for n in table.names)),
            "x-axis",
        )
        raise InputFileError(path, f"missing column {missing!r}", line=table.header_line, column=missing)
    indices, unit = cols
    scale = (accel_scale if kind == "accel" else gyro_scale)(path, unit, table.names[indices[0]])
    values = table.values([epoch, *indices])
    t_ms = values[:, 0]
    check_increasing_time(path, t_ms, table.lines, table.names[epoch])
    return t_ms, values[:, 1:] * scale, float(t_ms[0])


def load_metamotion(path: Path) -> Session:
    """MbientLab MetaMotion/MetaBase export: an accelerometer file, its gyroscope file, or their folder."""
    from datetime import UTC, datetime

    accel_path, gyro_path, warnings = _metamotion_pair(path)
    t_acc_ms, accel, epoch0 = _metamotion_table(accel_path, "accel")
    t_gyr_ms = gyro = None
    if gyro_path is not None:
        t_gyr_ms, gyro, _ = _metamotion_table(gyro_path, "gyro")
    t, accel, gyro = merge_accel_gyro(
        path,
        (t_acc_ms - epoch0) / 1000.0,
        accel,
        None if t_gyr_ms is None else (t_gyr_ms - epoch0) / 1000.0,
        gyro,
        warnings,
    )
    meta = RecordingMeta(device_name="MetaMotion", source=f"MetaMotion export {accel_path.name}")
    m = _METAWEAR_NAME.match(accel_path.stem)
    if m and m.group("rate"):
        meta.rate_hz = float(m.group("rate"))
    if m and m.group("fw"):
        meta.firmware = m.group("fw")
    mac = _METAWEAR_MAC.search(accel_path.stem)
    if mac:
        meta.device_id = ":".join(mac.group(1).upper()[i : i + 2] for i in range(0, 12, 2))
    try:  # the time of the first sample kept (the accelerometer may start before the gyroscope)
        first_ms = epoch0 + round(float(t[0]) * 1000.0, 3)
        meta.start_time = datetime.fromtimestamp(first_ms / 1000.0, UTC).isoformat(timespec="milliseconds")
    except (OverflowError, OSError, ValueError):
        warnings.append(f"epoch {epoch0!r} ms is not a valid date; start time unknown")
    meta.extra["accelerometer_file"] = accel_path.name
    if gyro_path is not None:
        meta.extra["gyroscope_file"] = gyro_path.name
    samples = Samples.from_arrays(t - t[0], accel, gyro)
    if not meta.rate_hz:
        meta.rate_hz = round(samples.estimated_rate_hz(), 3)
    return Session(str(path), meta, samples, [], [], warnings)
