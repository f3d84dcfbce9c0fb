"""Reading text exports: bytes, lines, numeric rows, increasing time, delimited tables, folders."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tracker.errors import InputFileError


def read_bytes(path: Path, limit: int | None = None) -> bytes:
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
    raw = read_bytes(path)
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
            f"time {float(t[i])!r} is not after the previous row's {float(t[i - 1])!r} (line {lines[i - 1]}); "
            "time must increase from row to row",
            line=lines[i],
            column=column,
        )


@dataclass
class Table:
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


def read_table(path: Path) -> Table:
    """Read a vendor CSV: comma, semicolon or tab separated, quoted names, optional decimal comma."""

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
    return Table(path, names, header_idx + 1, rows)


def axis_columns(table: Table, label: str) -> tuple[list[int], str] | None:
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


def csv_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    except OSError as exc:
        raise InputFileError(folder, f"cannot list the folder: {exc.strerror or exc}") from None


def first_header(path: Path) -> str:
    try:
        text = read_bytes(path, limit=4096).decode("utf-8", errors="replace").lstrip("\ufeff")
    except InputFileError:
        return ""
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.lower()
    return ""
