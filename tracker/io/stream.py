"""A recording read in bounded blocks, so a replay's memory does not grow with its length.

:func:`open_stream` returns a :class:`SessionStream`: the recording's metadata, then its samples
block by block (``block_samples`` at a time; 60 000 is 10 minutes at 100 Hz, about 3.4 MB).
A generic CSV is read block by block: plain decimal cells (what loggers write) by whole-array
operations (:mod:`tracker.io.plain_numbers`, about twice as fast as numpy's C parser and bit for
bit the same numbers), any other block by ``np.loadtxt``. A native ``.rtrk`` recording is read record by record
from a memory map (:class:`tracker.io.native.RecordingStreamReader`), its packets decoded by the
same decoder as a whole-file read, in batches of bounded size. Other formats (vendor exports) are
loaded whole by :func:`tracker.io.load.load_session` and handed out in blocks.

The stream reads only well-formed files itself. At the first thing it does not expect (a ``#``
line or a quoted cell in the body, a ragged or non-numeric row, time not increasing, values
whose units look wrong) it hands the whole file to ``load_session``: that either raises the very
same error a whole-file load raises (naming file, line and column), or returns the session, and
:class:`RestartWithSession` tells the caller to start over from it.
"""

from __future__ import annotations

import io
import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker.errors import InputFileError
from tracker.io.generic_csv import _generic_columns, header_cells
from tracker.io.load import detect_format, load_session
from tracker.io.native import (
    FILE_HEADER,
    FILE_HEADER_SIZE,
    FORMAT_VERSION,
    MAGIC,
    NoteRecord,
    PacketsRecord,
    Record,
    RecordingStreamReader,
    SamplesRecord,
    first_codec_note,
    iter_packet_runs,
    packet_decoder,
)
from tracker.io.plain_numbers import parse_plain_rows
from tracker.io.session import RecordingMeta, Session
from tracker.io.units import DEG_PER_RAD, STANDARD_GRAVITY_MS2, check_sample_units
from tracker.protocol import StreamNotice
from tracker.samples import Samples

BLOCK_SAMPLES = 60_000
READ_BYTES = 1 << 20  # read at a time (a 60 000-row block of 7 columns is about 3.6 MB)
HEADER_SCAN_BYTES = 1 << 20  # comments and the header line must fit in the first MiB
MAX_PLAIN_STEP_S = 0.5  # a longer median time step is no IMU in seconds (see generic_csv._time_in_seconds)


class RestartWithSession(Exception):
    """The stream met something only the whole-file reader handles; start over from ``session``."""

    def __init__(self, session: Session) -> None:
        super().__init__("restart from the whole-file session")
        self.session = session


@dataclass
class SessionStream:
    """A recording's metadata now, its samples block by block (see the module docstring)."""

    path: Path
    meta: RecordingMeta
    warnings: list[str] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    notices: list[StreamNotice] = field(default_factory=list)  # native packets: gaps, restarts, ...
    duration_s: float = 0.0  # known once every block has been read
    samples_read: int = 0
    _session: Session | None = None
    _csv: _CsvBody | None = None
    _native: _NativeBody | None = None

    def blocks(self) -> Iterator[Samples]:
        """The samples in order, at most ``block_samples`` at a time (session time from 0 s)."""
        if self._session is not None:
            samples = self._session.samples
            for block in samples.chunks(BLOCK_SAMPLES):
                self.samples_read += len(block)
                yield block
            self.duration_s = samples.duration_s
            return
        if self._native is not None:
            yield from self._native.blocks(self)
            return
        assert self._csv is not None
        yield from self._csv.blocks(self)


def open_stream(
    path: str | Path, *, accel_unit: str = "g", gyro_unit: str = "deg/s", block_samples: int = BLOCK_SAMPLES
) -> SessionStream:
    """Open ``path`` for a streamed replay (raises the same errors as ``load_session``)."""
    p = Path(path)
    kind = detect_format(p) if p.is_file() else None
    if kind == "csv":
        body = _CsvBody.open(p, accel_unit, gyro_unit, block_samples)
        if body is not None:
            return SessionStream(p, body.meta, body.warnings, body.notes, _csv=body)
    if kind == "native":
        native = _NativeBody.open(p, block_samples)
        if native is not None:
            return SessionStream(
                p, native.meta, native.reader.warnings, native.notes, native.notices, _native=native
            )
    session = load_session(p, accel_unit=accel_unit, gyro_unit=gyro_unit)
    return SessionStream(
        p, session.meta, list(session.warnings), list(session.notes), list(session.notices), _session=session
    )


class _CsvBody:
    """The rows of a generic CSV after its header, parsed ``block_samples`` rows at a time."""

    def __init__(self, path: Path, handle: io.BufferedReader, columns: dict[str, int], width: int) -> None:
        self.path = path
        self.handle = handle
        self.columns = columns
        self.width = width
        self.meta = RecordingMeta()
        self.warnings: list[str] = []
        self.notes: list[dict[str, Any]] = []
        self.accel_scale = 1.0
        self.gyro_scale = 1.0
        self.accel_unit = "g"
        self.gyro_unit = "deg/s"
        self.block_samples = BLOCK_SAMPLES
        self._pending = b""  # read from the file, not yet parsed

    @classmethod
    def open(cls, path: Path, accel_unit: str, gyro_unit: str, block_samples: int) -> _CsvBody | None:
        """Read the comments and the header; None when the start of the file is not plain."""
        try:
            handle = path.open("rb")
        except OSError:
            return None  # load_session names the problem
        meta_items: dict[str, Any] = {}
        notes: list[dict[str, Any]] = []
        warnings: list[str] = []
        number = 0
        header: list[str] | None = None
        scanned = 0
        while header is None:
            raw = handle.readline()
            scanned += len(raw)
            if not raw or scanned > HEADER_SCAN_BYTES or b"\x00" in raw:
                handle.close()
                return None
            number += 1
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                handle.close()
                return None
            header = header_cells(line, number, meta_items, notes, warnings)
        try:
            columns = _generic_columns(path, header, number, warnings)
        except InputFileError:
            handle.close()
            return None
        if set(header) - {"t", "ax", "ay", "az", "gx", "gy", "gz"}:
            handle.close()
            return None  # extra columns may hold text: the whole-file reader handles them
        body = cls(path, handle, columns, len(header))
        body.meta, problems = RecordingMeta.from_dict(meta_items)
        body.warnings = warnings + problems
        body.notes = notes
        body.accel_unit, body.gyro_unit = accel_unit, gyro_unit
        body.accel_scale = 1.0 / STANDARD_GRAVITY_MS2 if accel_unit == "m/s2" else 1.0
        body.gyro_scale = DEG_PER_RAD if gyro_unit == "rad/s" else 1.0
        body.block_samples = block_samples
        return body

    def blocks(self, stream: SessionStream) -> Iterator[Samples]:
        t0: float | None = None
        last_t = -np.inf
        c = self.columns
        try:
            while True:
                values = self._next_rows()
                if values is None:
                    break
                t = values[:, c["t"]]
                if t0 is None:
                    if t.size > 1 and float(np.median(np.diff(t))) >= MAX_PLAIN_STEP_S:
                        raise _NotPlain  # time in ms, us or ns: the whole-file reader converts it
                    t0 = float(t[0])
                    if t0 != 0.0:
                        stream.meta.extra.setdefault("time_offset_s", repr(t0))
                if not (t[0] > last_t and bool(np.all(np.diff(t) > 0))):
                    raise _NotPlain
                last_t = float(t[-1])
                accel = values[:, [c["ax"], c["ay"], c["az"]]]
                gyro = values[:, [c["gx"], c["gy"], c["gz"]]] if "gx" in c else None
                if self.accel_scale != 1.0:
                    accel = accel * self.accel_scale
                if gyro is not None and self.gyro_scale != 1.0:
                    gyro = gyro * self.gyro_scale
                block = Samples.from_arrays(t - t0, accel, gyro)
                try:  # the whole-file reader checks the units over the whole file; we, per block
                    doubts = check_sample_units(
                        block, self.path, accel_unit=self.accel_unit, gyro_unit=self.gyro_unit, fmt="csv"
                    )
                except InputFileError:
                    raise _NotPlain from None
                if doubts:  # the whole-file reader words its warnings over the whole file
                    raise _NotPlain
                if not stream.meta.rate_hz:
                    stream.meta.rate_hz = round(block.estimated_rate_hz(), 3)
                stream.samples_read += len(block)
                stream.duration_s = float(block.t_s[-1])
                yield block
        except _NotPlain:
            self.handle.close()
            session = load_session(self.path, accel_unit=self.accel_unit, gyro_unit=self.gyro_unit)
            raise RestartWithSession(session) from None
        finally:
            self.handle.close()
        if t0 is None:  # no rows: the whole-file reader names the problem
            load_session(self.path, accel_unit=self.accel_unit, gyro_unit=self.gyro_unit)

    def _next_rows(self) -> np.ndarray[Any, np.dtype[np.float64]] | None:
        """The next ``block_samples`` rows; None at the end of the file."""
        while True:
            data = self._next_lines()
            if not data:
                return None
            values = parse_plain_rows(data, self.width)
            if values is not None:
                return values
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
                    values = np.loadtxt(
                        io.BytesIO(data),
                        delimiter=",",
                        comments=None,
                        dtype=np.float64,
                        ndmin=2,
                        quotechar=None,
                    )
            except ValueError:
                raise _NotPlain from None
            if values.shape[0] == 0:
                continue  # only blank lines
            if values.shape[1] != self.width or not bool(np.all(np.isfinite(values))):
                raise _NotPlain
            return values

    def _next_lines(self) -> bytes:
        """The bytes of the next ``block_samples`` lines, each ending in a newline (b"" at the end),
        read in pieces and joined once (no growing buffer copied over and over)."""
        need = self.block_samples
        pieces = [self._pending]
        have = self._pending.count(b"\n")
        while have < need:
            more = self.handle.read(min(READ_BYTES, max(1 << 16, 128 * need)))
            if not more:
                break
            pieces.append(more)
            have += more.count(b"\n")
        self._pending = b""
        if have >= need:
            last = pieces[-1]
            newlines = np.flatnonzero(np.frombuffer(last, np.uint8) == 0x0A)
            cut = int(newlines[need - (have - newlines.size) - 1]) + 1
            pieces[-1], self._pending = last[:cut], last[cut:]
            return b"".join(pieces)
        data = b"".join(pieces)
        return data + b"\n" if data and not data.endswith(b"\n") else data


class _NotPlain(Exception):
    """Something in the body that only the whole-file reader handles."""


PACKET_RECORDS_PER_BATCH = 64
"""Packet records decoded together (a whole-file read decodes a run of them in one batch; the
decoders give the same samples and notices whatever the batches, as they do live)."""


class _NativeBody:
    """The records of a native recording after its header, decoded into bounded blocks.

    Keeps :func:`tracker.io.native.read_recording`'s semantics: notices, notes with ``t_s`` (the
    last sample's time when the note has none), the reader's warnings, the codec from the header
    or else the first ``codec`` note. A recording whose records mix gyroscope layouts (rare: the
    whole-file reader drops the gyroscope from all of them) restarts from the whole-file session.
    """

    def __init__(self, path: Path, reader: RecordingStreamReader, block_samples: int) -> None:
        self.path = path
        self.reader = reader
        self.records = reader.iter_records()
        self.first: Record | None = None  # the record read while looking for the header
        self.meta = reader.meta or RecordingMeta()
        self.notes: list[dict[str, Any]] = []
        self.notices: list[StreamNotice] = []
        self.block_samples = block_samples
        self._decoder: Any = None

    @classmethod
    def open(cls, path: Path, block_samples: int) -> _NativeBody | None:
        """Read up to the header record; None when only the whole-file reader handles the start
        (a file cut inside its file header, a wrong magic or version, no header record first)."""
        try:
            with path.open("rb") as f:
                head = f.read(FILE_HEADER_SIZE + 1)
        except OSError:
            return None
        if len(head) <= FILE_HEADER_SIZE:
            return None
        magic, version, _minor = FILE_HEADER.unpack_from(head)
        if magic != MAGIC or version != FORMAT_VERSION:
            return None  # load_session raises the error
        try:
            reader = RecordingStreamReader(path)
        except InputFileError:
            return None
        body = cls(path, reader, block_samples)
        body.first = next(body.records, None)
        if reader.meta is None or reader.header_offset > (
            body.first.offset if body.first else reader.end_offset
        ):
            reader.close()
            return None  # a header after the data: a whole-file read decides what the metadata is
        body.meta = reader.meta
        return body

    def blocks(self, stream: SessionStream) -> Iterator[Samples]:
        pending: list[Samples] = []
        pending_n = 0
        gyro: bool | None = None
        kinds: set[type] = set()
        try:
            for samples in self._decoded(kinds):
                if gyro is None:
                    gyro = samples.has_gyro
                elif samples.has_gyro != gyro:
                    raise RestartWithSession(load_session(self.path))
                pending.append(samples)
                pending_n += len(samples)
                if pending_n >= self.block_samples:
                    yield self._emit(stream, pending)
                    pending, pending_n = [], 0
            if pending:
                yield self._emit(stream, pending)
        finally:
            self.reader.close()
        if PacketsRecord in kinds and SamplesRecord in kinds:
            stream.warnings.append(
                "the recording holds both packets and float samples; they are joined in file order"
            )

    def _emit(self, stream: SessionStream, pending: list[Samples]) -> Samples:
        """One block; the stream's duration so far as ``Samples.duration_s`` of the whole."""
        block = Samples.concat(pending)
        if not stream.samples_read:
            self.t_first_s = float(block.t_s[0])
        stream.samples_read += len(block)
        stream.duration_s = float(block.t_s[-1]) - self.t_first_s if stream.samples_read > 1 else 0.0
        return block

    t_first_s = 0.0

    def _decoded(self, kinds: set[type]) -> Iterator[Samples]:
        """The samples of each record run in file order; notes and notices collected on the way."""
        last_t = 0.0
        batch: list[Record] = []
        first = [self.first] if self.first is not None else []
        for rec in itertools.chain(first, self.records, [None]):
            if rec is not None:
                kinds.add(type(rec))
                batch.append(rec)
                if isinstance(rec, PacketsRecord) and len(batch) < PACKET_RECORDS_PER_BATCH:
                    continue
            for item in iter_packet_runs(batch):
                if isinstance(item, NoteRecord):
                    note = dict(item.note)
                    if note.get("t_s") is None:
                        note["t_s"] = last_t
                    self.notes.append(note)
                    continue
                if isinstance(item, SamplesRecord):
                    samples = item.samples
                else:
                    packets, host = item
                    samples, found = self._decoder_for_packets().feed(packets, host)
                    self.notices.extend(found)
                if len(samples):
                    last_t = float(samples.t_s[-1])
                    yield samples
            batch = []

    def _decoder_for_packets(self) -> Any:
        """The header's codec, else the file's first ``codec`` note (looked up once, when needed)."""
        if self._decoder is None:
            codec = self.meta.codec or first_codec_note(self.path)
            self._decoder = packet_decoder(codec, [])
        return self._decoder
