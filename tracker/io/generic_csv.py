"""The generic CSV of docs/recording.md: ``# key: value`` comments, header ``t,ax,ay,az[,gx,gy,gz]``."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracker.errors import InputFileError
from tracker.io.session import RecordingMeta, Session, dumps_json, loads_json
from tracker.io.text import check_increasing_time, parse_numeric_rows, read_text_lines
from tracker.io.units import DEG_PER_RAD, STANDARD_GRAVITY_MS2
from tracker.samples import Samples

CSV_COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")
EXPORT_BANNER = "# RepTrack generic CSV:"
_META_LINE = re.compile(r"^#\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*:\s?(.*?)\s*$")


def load_generic_csv(path: Path, *, accel_unit: str = "g", gyro_unit: str = "deg/s") -> Session:
    """The project's generic CSV: ``# key: value`` comments, header ``t,ax,ay,az[,gx,gy,gz]``."""
    lines = read_text_lines(path)
    meta_items: dict[str, Any] = {}
    notes: list[dict[str, Any]] = []
    warnings: list[str] = []
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    body_start = len(lines)
    for number, line in enumerate(lines, start=1):
        header = header_cells(line, number, meta_items, notes, warnings)
        if header is not None:
            header_line = number
            body_start = number
            break
    if header is None:
        raise InputFileError(path, "no header line; expected 't,ax,ay,az' or 't,ax,ay,az,gx,gy,gz'")
    columns = _generic_columns(path, header, header_line, warnings)
    values = _fast_rows(lines, body_start, len(header))
    if values is None:  # comments, blank lines or ragged rows in the body: go line by line
        for number in range(body_start + 1, len(lines) + 1):
            stripped = lines[number - 1].strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                _comment(stripped, number, meta_items, notes, warnings)
                continue
            rows.append((number, stripped.split(",")))
        if not rows:
            raise InputFileError(path, "no data rows after the header", line=header_line)
        ignored = [i for i, name in enumerate(header) if name not in CSV_COLUMNS]
        for _, cells in rows:  # ignored columns may hold anything (labels, ...)
            if len(cells) == len(header):
                for i in ignored:
                    cells[i] = "0"
        values = parse_numeric_rows(path, rows, header)
        row_lines = [n for n, _ in rows]
    else:
        row_lines = list(range(body_start + 1, body_start + 1 + values.shape[0]))
    t = values[:, columns["t"]]
    check_increasing_time(path, t, row_lines, header[columns["t"]])
    if not lines[0].startswith(EXPORT_BANNER):  # RepTrack's own export says its time is in s
        t = _time_in_seconds(t, header[columns["t"]], meta_items.get("rate_hz"), warnings)
    accel = values[:, [columns["ax"], columns["ay"], columns["az"]]]
    gyro = values[:, [columns["gx"], columns["gy"], columns["gz"]]] if "gx" in columns else None
    if accel_unit == "m/s2":
        accel = accel / STANDARD_GRAVITY_MS2
    if gyro is not None and gyro_unit == "rad/s":
        gyro = gyro * DEG_PER_RAD
    meta, problems = RecordingMeta.from_dict(meta_items)
    warnings.extend(problems)
    if t[0] != 0.0:
        meta.extra.setdefault("time_offset_s", repr(float(t[0])))
    samples = Samples.from_arrays(t - t[0], accel, gyro)
    if not meta.rate_hz:
        meta.rate_hz = round(samples.estimated_rate_hz(), 3)
    return Session(str(path), meta, samples, [], notes, warnings)


def header_cells(
    line: str, number: int, meta: dict[str, Any], notes: list[dict[str, Any]], warnings: list[str]
) -> list[str] | None:
    """A line before the data: the header's column names (lower case, unquoted), or None for a
    blank line or a ``#`` comment (whose metadata or note is kept)."""
    stripped = line.strip()
    if not stripped:
        return None
    if stripped.startswith("#"):
        _comment(stripped, number, meta, notes, warnings)
        return None
    return [c.strip().strip("\"'").strip().lower() for c in stripped.split(",")]


def _comment(
    text: str, number: int, meta: dict[str, Any], notes: list[dict[str, Any]], warnings: list[str]
) -> None:
    """A ``#`` line: ``# key: value`` metadata, ``# note: {json}``, or free text."""
    m = _META_LINE.match(text)
    if not m:
        return
    key, value = m.group(1).strip(), m.group(2)
    if key != "note":
        meta[key] = value
        return
    try:
        note = loads_json(value)
    except ValueError as exc:
        warnings.append(f"line {number}: note is not valid JSON ({exc}); ignored")
        return
    if isinstance(note, dict):
        notes.append(note)
    else:
        warnings.append(f"line {number}: note is not a JSON object; ignored")


# (unit, seconds per unit, median step range in that unit for an IMU at 5..2000 Hz)
_TIME_UNITS = (
    ("milliseconds", 1e-3, 0.5, 200.0),
    ("microseconds", 1e-6, 500.0, 2e5),
    ("nanoseconds", 1e-9, 5e5, 2e8),
)


def _time_in_seconds(
    t: npt.NDArray[np.float64], column: str, stated_rate_hz: object, warnings: list[str]
) -> npt.NDArray[np.float64]:
    """Times in s, as the format says; a column whose steps only make sense in ms, us or ns (an IMU
    sampled below 2 Hz is no IMU: typically Unix epoch milliseconds) is converted, with a warning,
    unless the file's own ``# rate_hz:`` agrees with seconds."""
    if t.size < 2:
        return t
    step = float(np.median(np.diff(t)))
    if step < 0.5:
        return t
    try:
        stated = float(str(stated_rate_hz))
    except ValueError:
        stated = math.nan
    if math.isfinite(stated) and stated > 0 and 0.5 <= stated * step <= 2.0:
        return t
    for unit, scale, low, high in _TIME_UNITS:
        if low <= step <= high:
            warnings.append(
                f"column {column!r} steps by {step:g} per sample, which is no sample rate in seconds: "
                f"read as {unit} ({1.0 / (step * scale):.4g} Hz)"
            )
            return (t - t[0]) * scale + t[0] * scale
    return t


def _fast_rows(lines: list[str], body_start: int, width: int) -> npt.NDArray[np.float64] | None:
    """All rows after the header at once, when the body is plain rows of ``width`` numbers.

    Returns None (the caller then goes line by line and names any bad cell) for anything else.
    """
    body = lines[body_start:]
    while body and not body[-1].strip():
        body.pop()
    if not body:
        return None
    if any(ln.count(",") != width - 1 for ln in body):
        return None
    joined = ",".join(body)
    if "#" in joined:
        return None
    try:
        values = np.fromiter(map(float, joined.split(",")), dtype=np.float64, count=len(body) * width)
    except ValueError:
        return None
    if not np.all(np.isfinite(values)):
        return None
    return values.reshape(len(body), width)


def _generic_columns(path: Path, header: list[str], line: int, warnings: list[str]) -> dict[str, int]:
    expected = "header must be t,ax,ay,az or t,ax,ay,az,gx,gy,gz"
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        raise InputFileError(path, f"columns must be separated by commas; {expected}", line=line)
    if not {"t", "ax", "ay", "az"} & set(header):
        shown = ",".join(header)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise InputFileError(
            path, f"expected the header line 't,ax,ay,az[,gx,gy,gz]', found {shown!r}", line=line
        )
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in columns:
            raise InputFileError(path, f"column {name!r} appears twice", line=line, column=name)
        columns[name] = i
    for name in ("t", "ax", "ay", "az"):
        if name not in columns:
            raise InputFileError(path, f"missing column {name!r}; {expected}", line=line, column=name)
    gyro = [g for g in ("gx", "gy", "gz") if g in columns]
    if gyro and len(gyro) != 3:
        missing = next(g for g in ("gx", "gy", "gz") if g not in columns)
        raise InputFileError(
            path,
            f"missing column {missing!r}: gyro columns come as gx,gy,gz or not at all",
            line=line,
            column=missing,
        )
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        warnings.append(f"line {line}: ignored unknown columns {', '.join(map(repr, unknown))}")
    return columns


def _meta_text(value: Any) -> str:
    text = value if isinstance(value, str) else dumps_json(value)
    return text.replace("\r", " ").replace("\n", " ")


def export_csv(session: Session, path: str | Path) -> None:
    """Write the generic CSV: metadata and notes as ``# key: value`` lines, then the samples.

    Floats are written in Python's shortest round-trip form, so reading the file back gives
    exactly the same samples.
    """
    p = Path(path)
    out: list[str] = [f"{EXPORT_BANNER} t in s, accel in g (with gravity), gyro in deg/s, sensor axes"]
    meta = session.meta.to_dict()
    extra = meta.pop("extra") or {}
    for key, value in meta.items():
        if value is None or value == "":
            continue
        out.append(f"# {key}: {_meta_text(repr(value) if isinstance(value, float) else value)}")
    for key, value in extra.items():
        if key in meta or key == "note" or not _META_LINE.match(f"# {key}: x"):
            continue
        out.append(f"# {key}: {_meta_text(value)}")
    for note in session.notes:
        out.append(f"# note: {dumps_json(note)}")
    s = session.samples
    if s.gyro_dps is not None:
        out.append(",".join(CSV_COLUMNS))
        table = np.column_stack([s.t_s, s.accel_g, s.gyro_dps])
    else:
        out.append(",".join(CSV_COLUMNS[:4]))
        table = np.column_stack([s.t_s, s.accel_g])
    body = "\n".join(",".join(map(repr, row)) for row in table.tolist())
    text = "\n".join(out) + "\n" + body + ("\n" if body else "")
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputFileError(p, f"cannot write: {exc.strerror or exc}") from None
