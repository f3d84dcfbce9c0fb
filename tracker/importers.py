"""Load a session from any supported file, and export one as generic CSV (docs/recording.md).

:func:`load_session` is the one entry point: it detects the format from the file's content (not
only its name) and returns a :class:`Session` in the project's units (session time from 0 s,
acceleration in g with gravity, angular rate in deg/s, sensor axes). Formats:

- ``native``: RepTrack's own ``.rtrk`` recording (:mod:`tracker.recording`);
- ``csv``: the generic CSV of docs/recording.md (``t,ax,ay,az[,gx,gy,gz]``);
- ``metamotion``: MbientLab MetaMotion / MetaBase exports (separate Accelerometer and Gyroscope
  files, or their folder);
- ``phyphox``: phyphox exports (``Raw Data.csv``, or the folder with ``Accelerometer.csv`` and
  ``Gyroscope.csv``).

Every problem with the input is an :class:`~tracker.errors.InputFileError` naming the file, line
and column.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracker.errors import InputFileError
from tracker.protocol import StreamNotice
from tracker.recording import MAGIC, RecordingMeta, dumps_json, read_recording
from tracker.samples import Samples

STANDARD_GRAVITY_MS2 = 9.80665
DEG_PER_RAD = 180.0 / math.pi
ACCEL_UNITS = ("g", "m/s2")
GYRO_UNITS = ("deg/s", "rad/s")
FORMATS = ("native", "csv", "metamotion", "phyphox")

CSV_COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")
_META_LINE = re.compile(r"^#\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*:\s?(.*?)\s*$")


@dataclass
class Session:
    """A whole recorded session, in the project's units, ready for the pipeline."""

    source: str  # the path as given
    meta: RecordingMeta
    samples: Samples  # session time from 0, sensor axes, g and deg/s
    notices: list[StreamNotice] = field(default_factory=list)  # gaps, duplicates, restarts, corrupt packets
    notes: list[dict[str, Any]] = field(default_factory=list)  # recorded notes
    warnings: list[str] = field(default_factory=list)  # e.g. "truncated after byte 1234: ..."


# --- Entry point -------------------------------------------------------------------------------


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
    about 1 g at rest, or whose gyroscope looks like it is in the other unit, is refused with an
    error that says which option to use.
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
        check_sample_units(session.samples, path, accel_unit=accel_unit, gyro_unit=gyro_unit, fmt=kind)
    return session


def detect_format(path: Path) -> str:
    """Tell the format from the content: native magic, vendor CSV headers, else generic CSV."""
    if path.is_dir():
        return detect_folder(path)
    head = _read_bytes(path, limit=4096)
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


# --- Reading text files ------------------------------------------------------------------------


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read() if limit is None else f.read(limit)
    except IsADirectoryError:
        raise InputFileError(path, "is a folder, expected a file") from None
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None


def read_text_lines(path: Path) -> list[str]:
    """The file's lines (without line ends), decoded as UTF-8 (a byte-order mark is dropped)."""
    raw = _read_bytes(path)
    if not raw:
        raise InputFileError(path, "the file is empty")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise InputFileError(
            path, f"not a text file (NUL byte at byte {nul})", line=raw.count(b"\n", 0, nul) + 1
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputFileError(path, f"not UTF-8 text (byte {exc.start})", line=line) from None
    lines = text.split("\n")
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _parse_float(path: Path, cell: str, line: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        shown = cell if len(cell) <= 40 else cell[:37] + "..."
        raise InputFileError(path, f"expected a number, found {shown!r}", line=line, column=column) from None
    if not math.isfinite(value):
        raise InputFileError(
            path, f"expected a finite number, found {cell.strip()!r}", line=line, column=column
        )
    return value


def parse_numeric_rows(
    path: Path,
    rows: Sequence[tuple[int, list[str]]],
    names: Sequence[str],
) -> npt.NDArray[np.float64]:
    """Convert split rows to an (n, len(names)) float array, naming line and column on errors."""
    width = len(names)
    flat: list[str] = []
    for line_no, cells in rows:
        if len(cells) != width:
            if len(cells) < width:
                raise InputFileError(
                    path,
                    f"expected {width} values ({','.join(names)}), found {len(cells)}",
                    line=line_no,
                    column=names[len(cells)],
                )
            raise InputFileError(
                path, f"expected {width} values ({','.join(names)}), found {len(cells)}", line=line_no
            )
        flat.extend(cells)
    try:
        values = np.fromiter(map(float, flat), dtype=np.float64, count=len(flat))
    except ValueError:
        values = None
    if values is not None and bool(np.all(np.isfinite(values))):
        return values.reshape(len(rows), width)
    # Slow path, only to name the offending cell.
    for line_no, cells in rows:
        for name, cell in zip(names, cells, strict=True):
            _parse_float(path, cell, line_no, name)
    raise AssertionError("unreachable: a cell failed to parse but none was found")  # pragma: no cover


def check_increasing_time(path: Path, t: npt.NDArray[np.float64], lines: Sequence[int], column: str) -> None:
    if t.size < 2:
        return
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise InputFileError(
            path,
            f"time {t[i]!r} is not after the previous row's {t[i - 1]!r} (line {lines[i - 1]}); "
            "time must increase from row to row",
            line=lines[i],
            column=column,
        )


# --- Generic CSV -------------------------------------------------------------------------------


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
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            _comment(stripped, number, meta_items, notes, warnings)
            continue
        header = [c.strip().strip("\"'").strip().lower() for c in stripped.split(",")]
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
        note = json.loads(value)
    except ValueError:
        note = None
    if isinstance(note, dict):
        notes.append(note)
    else:
        warnings.append(f"line {number}: note is not a JSON object; ignored")


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


# --- Vendor exports: shared table reading ------------------------------------------------------


@dataclass
class _Table:
    """A delimited text table: header names and the data rows with their line numbers."""

    path: Path
    names: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]

    def find(self, *needles: str) -> int | None:
        """Index of the first column whose name contains all the (lower-case) needles."""
        for i, name in enumerate(self.names):
            low = name.lower()
            if all(n in low for n in needles):
                return i
        return None

    def values(self, indices: Sequence[int]) -> npt.NDArray[np.float64]:
        """The chosen columns as floats, naming line and column of a bad cell."""
        names = [self.names[i] for i in indices]
        picked: list[tuple[int, list[str]]] = []
        width = len(self.names)
        for line_no, cells in self.rows:
            if len(cells) < width:
                raise InputFileError(
                    self.path,
                    f"expected {width} values, found {len(cells)}",
                    line=line_no,
                    column=self.names[len(cells)],
                )
            picked.append((line_no, [cells[i] for i in indices]))
        return parse_numeric_rows(self.path, picked, names)

    @property
    def lines(self) -> list[int]:
        return [n for n, _ in self.rows]


def read_table(path: Path) -> _Table:
    """Read a vendor CSV: comma, semicolon or tab separated, quoted names, optional decimal comma."""
    import csv

    lines = read_text_lines(path)
    header_idx = next(
        (i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")), None
    )
    if header_idx is None:
        raise InputFileError(path, "no header line")
    header_text = lines[header_idx]

    def split(text: str, delimiter: str, line: int) -> list[str]:
        try:
            return next(csv.reader([text], delimiter=delimiter), [])
        except csv.Error as exc:
            raise InputFileError(path, f"cannot split the line into columns: {exc}", line=line) from None

    delimiter = max((",", ";", "\t"), key=lambda d: len(split(header_text, d, header_idx + 1)))
    names = [c.strip() for c in split(header_text, delimiter, header_idx + 1)]
    decimal_comma = delimiter != ","
    rows: list[tuple[int, list[str]]] = []
    for i in range(header_idx + 1, len(lines)):
        text = lines[i]
        if not text.strip():
            continue
        cells = text.split(delimiter) if '"' not in text else split(text, delimiter, i + 1)
        cells = [c.strip().strip('"') for c in cells]
        if decimal_comma:
            cells = [c.replace(",", ".") for c in cells]
        rows.append((i + 1, cells))
    if not rows:
        raise InputFileError(path, "no data rows after the header", line=header_idx + 1)
    return _Table(path, names, header_idx + 1, rows)


def _axis_columns(table: _Table, label: str) -> tuple[list[int], str] | None:
    """Columns for x, y, z whose names start with ``label`` (e.g. "x-axis", "acceleration x").

    Returns the indices and the unit text found in parentheses (lower case), or None.
    """
    found: list[int] = []
    units: set[str] = set()
    for axis in "xyz":
        want = label.replace("{a}", axis)
        idx = next((i for i, n in enumerate(table.names) if n.lower().startswith(want)), None)
        if idx is None:
            return None
        found.append(idx)
        m = re.search(r"\(([^)]*)\)", table.names[idx])
        units.add(m.group(1).strip().lower() if m else "")
    return found, units.pop() if len(units) == 1 else ""


def _accel_scale(path: Path, unit: str, column: str) -> float:
    u = unit.replace(" ", "").replace("²", "^2")
    if u == "g":
        return 1.0
    if u in ("m/s^2", "m/s2", "ms^-2", "m/s/s"):
        return 1.0 / STANDARD_GRAVITY_MS2
    raise InputFileError(path, f"unknown acceleration unit {unit!r}; expected g or m/s^2", column=column)


def _gyro_scale(path: Path, unit: str, column: str) -> float:
    u = unit.replace(" ", "").replace("°", "deg")
    if u in ("deg/s", "dps", "degs^-1"):
        return 1.0
    if u in ("rad/s", "rads^-1"):
        return DEG_PER_RAD
    raise InputFileError(path, f"unknown angular rate unit {unit!r}; expected deg/s or rad/s", column=column)


def merge_accel_gyro(
    path: Path,
    t_acc: npt.NDArray[np.float64],
    accel: npt.NDArray[np.float64],
    t_gyr: npt.NDArray[np.float64] | None,
    gyro: npt.NDArray[np.float64] | None,
    warnings: list[str],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64] | None]:
    """Put the gyroscope on the accelerometer's times (linear interpolation) when clocks differ.

    Accelerometer samples outside the gyroscope's time span are dropped (with a warning), so every
    sample has both.
    """
    if t_gyr is None or gyro is None:
        return t_acc, accel, None
    if t_gyr.shape == t_acc.shape and np.allclose(t_gyr, t_acc, rtol=0.0, atol=5e-4):
        return t_acc, accel, gyro
    inside = (t_acc >= t_gyr[0]) & (t_acc <= t_gyr[-1])
    if not inside.any():
        raise InputFileError(
            path,
            f"the gyroscope's time span {t_gyr[0]:.3f}..{t_gyr[-1]:.3f} s does not overlap the "
            f"accelerometer's {t_acc[0]:.3f}..{t_acc[-1]:.3f} s",
        )
    dropped = int((~inside).sum())
    if dropped:
        warnings.append(f"dropped {dropped} accelerometer samples outside the gyroscope's time span")
    t = t_acc[inside]
    resampled = np.column_stack([np.interp(t, t_gyr, gyro[:, i]) for i in range(3)])
    rate_a = 1.0 / float(np.median(np.diff(t_acc))) if t_acc.size > 1 else 0.0
    rate_g = 1.0 / float(np.median(np.diff(t_gyr))) if t_gyr.size > 1 else 0.0
    warnings.append(
        f"gyroscope ({rate_g:.4g} Hz) resampled onto the accelerometer's times ({rate_a:.4g} Hz) by linear interpolation"
    )
    return t, accel[inside], resampled


def _csv_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    except OSError as exc:
        raise InputFileError(folder, f"cannot list the folder: {exc.strerror or exc}") from None


def _first_header(path: Path) -> str:
    try:
        text = _read_bytes(path, limit=4096).decode("utf-8", errors="replace").lstrip("\ufeff")
    except InputFileError:
        return ""
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.lower()
    return ""


def detect_folder(path: Path) -> str:
    """A folder is a MetaMotion export (``..._Accelerometer_...csv``) or a phyphox export."""
    headers = {p: _first_header(p) for p in _csv_files(path)}
    if any("epoch (ms)" in h for h in headers.values()):
        return "metamotion"
    if any(h.lstrip("\"'").startswith("time (s)") for h in headers.values()):
        return "phyphox"
    raise InputFileError(
        path,
        "no supported export in this folder: expected MetaMotion/MetaBase CSV files "
        "(..._Accelerometer_...csv) or a phyphox export (Accelerometer.csv, Gyroscope.csv or Raw Data.csv)",
    )


# --- MetaMotion / MetaBase ---------------------------------------------------------------------

_METAWEAR_NAME = re.compile(
    r"(?P<prefix>.*?)_(?P<kind>Accelerometer|Gyroscope)(?:_(?P<rate>[\d.]+)Hz)?(?:_(?P<fw>[\d.]+))?$",
    re.IGNORECASE,
)
_METAWEAR_MAC = re.compile(r"_([0-9A-Fa-f]{12})(?:_|$)")


def _metamotion_kind(path: Path) -> str:
    header = _first_header(path)
    if "epoch (ms)" not in header:
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
        files = {p: _metamotion_kind(p) for p in _csv_files(path)}
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
        others = {p: _metamotion_kind(p) for p in _csv_files(folder) if p != path}
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
    epoch = table.find("epoch")
    if epoch is None:
        raise InputFileError(path, "missing column 'epoch (ms)'", line=table.header_line, column="epoch (ms)")
    cols = _axis_columns(table, "{a}-axis")
    if cols is None:
        missing = next(
            (f"{a}-axis" for a in "xyz" if not any(n.lower().startswith(f"{a}-axis") for n in table.names)),
            "x-axis",
        )
        raise InputFileError(path, f"missing column {missing!r}", line=table.header_line, column=missing)
    indices, unit = cols
    scale = (_accel_scale if kind == "accel" else _gyro_scale)(path, unit, table.names[indices[0]])
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


# --- phyphox -----------------------------------------------------------------------------------


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
    acc = _axis_columns(table, "acceleration {a}")
    gyr = _axis_columns(table, "gyroscope {a}")
    if acc is None and gyr is None:
        raise InputFileError(
            path,
            "no 'Acceleration x (m/s^2)' or 'Gyroscope x (rad/s)' columns (is this a phyphox accelerometer "
            "or gyroscope export?)",
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
        accel = values[:, col : col + 3] * _accel_scale(path, acc[1], table.names[acc[0][0]])
        col += 3
    if gyr is not None:
        gyro = values[:, col : col + 3] * _gyro_scale(path, gyr[1], table.names[gyr[0][0]])
    return _PhyphoxPart(path, t, accel, gyro)


def load_phyphox(path: Path) -> Session:
    """phyphox export: ``Raw Data.csv``, ``Accelerometer.csv`` (+ ``Gyroscope.csv``), or the folder."""
    warnings: list[str] = []
    if path.is_dir():
        folder = path
        names = {p.name.lower(): p for p in _csv_files(folder)}
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
        names = {p.name.lower(): p for p in _csv_files(folder)}
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


# --- Export ------------------------------------------------------------------------------------


def _meta_text(value: Any) -> str:
    text = value if isinstance(value, str) else dumps_json(value)
    return text.replace("\r", " ").replace("\n", " ")


def export_csv(session: Session, path: str | Path) -> None:
    """Write the generic CSV: metadata and notes as ``# key: value`` lines, then the samples.

    Floats are written in Python's shortest round-trip form, so reading the file back gives
    exactly the same samples.
    """
    p = Path(path)
    out: list[str] = ["# RepTrack generic CSV: t in s, accel in g (with gravity), gyro in deg/s, sensor axes"]
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


# --- Unit checks -------------------------------------------------------------------------------


def rest_accel_magnitude(samples: Samples) -> float | None:
    """Median |a| over the stillest half-second windows; None when the data are too short."""
    n = len(samples)
    rate = samples.estimated_rate_hz()
    w = max(5, round(0.5 * rate)) if rate > 0 else 5
    if n < w:
        return None
    k = n // w
    acc = samples.accel_g[: k * w].reshape(k, w, 3)
    mag = np.linalg.norm(acc, axis=2)
    mean_mag = mag.mean(axis=1)
    spread = acc.std(axis=1).max(axis=1)
    scale = float(np.median(mean_mag))
    if not math.isfinite(scale) or scale <= 0:
        return 0.0
    still = spread <= 0.05 * np.maximum(mean_mag, 1e-12)
    if not still.any():
        still = spread <= np.quantile(spread, 0.25)
    return float(np.median(mean_mag[still]))


def gyro_to_tilt_ratio(samples: Samples) -> tuple[float, int] | None:
    """How fast the accelerometer says the sensor tilts, over what the gyroscope says it turns.

    Measured over 0.1 s steps while the accelerometer reads near 1 g (little linear acceleration)
    and tilts faster than 30 deg/s. A gyroscope can never turn slower than the tilt it causes, so
    a median ratio far above 1 means the gyro values are too small (rad/s read as deg/s). Returns
    (median ratio, number of steps used), or None when there is too little motion to tell.
    """
    if samples.gyro_dps is None or len(samples) < 20:
        return None
    rate = samples.estimated_rate_hz()
    if rate <= 0:
        return None
    m = max(1, round(0.1 * rate))
    kernel = np.ones(m) / m
    acc = np.column_stack([np.convolve(samples.accel_g[:, i], kernel, mode="valid") for i in range(3)])
    gyr_mag = np.convolve(np.linalg.norm(samples.gyro_dps, axis=1), kernel, mode="valid")
    t = np.convolve(samples.t_s, kernel, mode="valid")
    if acc.shape[0] <= m:
        return None
    norm = np.linalg.norm(acc, axis=1)
    ok = norm > 1e-9
    u = acc / np.where(ok, norm, 1.0)[:, None]
    a, b = u[:-m], u[m:]
    dt = t[m:] - t[:-m]
    cos = np.clip(np.einsum("ij,ij->i", a, b), -1.0, 1.0)
    tilt_dps = np.degrees(np.arccos(cos)) / np.where(dt > 0, dt, np.inf)
    turn_dps = gyr_mag[m // 2 : m // 2 + tilt_dps.shape[0]]
    near_1g = (np.abs(norm[:-m] - 1.0) < 0.25) & (np.abs(norm[m:] - 1.0) < 0.25) & ok[:-m] & ok[m:]
    use = near_1g & (tilt_dps > 30.0) & (dt < 3.0 * m / rate)
    count = int(use.sum())
    if count < 10:
        return None
    ratio = tilt_dps[use] / np.maximum(turn_dps[use], 1e-9)
    return float(np.median(ratio)), count


def check_sample_units(
    samples: Samples, path: str | Path, *, accel_unit: str = "g", gyro_unit: str = "deg/s", fmt: str = "csv"
) -> None:
    """Refuse data whose magnitudes say the units are not what the reader assumed."""
    rest = rest_accel_magnitude(samples)
    option = fmt == "csv"
    accel_as = f"as {accel_unit}" if option else "in the unit its header names"
    gyro_as = f"as {gyro_unit}" if option else "in the unit its header names"
    if rest is not None and not 0.5 <= rest <= 2.0:
        shown = f"{rest:.3g} g"
        if 6.0 <= rest <= 14.0:
            hint = " It looks like m/s^2" + (": use --accel-unit m/s2." if option else ".")
        elif 0.06 <= rest <= 0.14 and accel_unit == "m/s2":
            hint = " It looks like g: use --accel-unit g."
        elif rest < 0.3:
            hint = " It looks like gravity was removed (linear acceleration); RepTrack needs acceleration with gravity."
        else:
            hint = ""
        raise InputFileError(
            path, f"the accelerometer reads {shown} at rest (read {accel_as}), expected about 1 g.{hint}"
        )
    if rest is None or not 0.5 <= rest <= 2.0:
        return
    measured = gyro_to_tilt_ratio(samples)
    if measured is None:
        return
    ratio, _ = measured
    assert samples.gyro_dps is not None
    gyro_p99 = float(np.quantile(np.linalg.norm(samples.gyro_dps, axis=1), 0.99))
    if ratio > 15.0 and gyro_p99 > 0.2:
        hint = " Use --gyro-unit rad/s." if option and gyro_unit == "deg/s" else ""
        raise InputFileError(
            path,
            f"the gyroscope turns about {ratio:.0f} times slower than the accelerometer tilts "
            f"(read {gyro_as}); it looks like rad/s.{hint}",
        )
    if ratio < 0.1 or gyro_p99 > 5000.0:
        hint = " Use --gyro-unit deg/s." if option and gyro_unit == "rad/s" else ""
        raise InputFileError(
            path,
            f"the gyroscope turns about {1 / ratio:.0f} times faster than the accelerometer tilts "
            f"(read {gyro_as}); it looks like deg/s read as rad/s.{hint}",
        )
