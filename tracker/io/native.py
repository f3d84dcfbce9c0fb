"""The native RepTrack recording (``.rtrk``): self-describing, lossless, append-only, crash-safe.

docs/recording.md specifies the format byte by byte. In short: a 12-byte file header (magic and
format version), then framed records ``A5 5A | type u8 | flags u8 | length u32 | payload | crc32``.
The first record is the header (JSON :class:`RecordingMeta`); then come packet records (raw sensor
packets byte for byte, with the host receive time, so replay runs the same
:class:`tracker.protocol.StreamDecoder` as live), float-sample records (imported data, lossless)
and note records (disconnect, reconnect, calibration, ...). Every write call appends whole records
and flushes, so a file cut at any byte reads up to its last complete record.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, NamedTuple, cast

import numpy as np
import numpy.typing as npt

from tracker.errors import InputFileError
from tracker.io.session import RecordingMeta, Session, dumps_json, loads_json
from tracker.protocol import StreamDecoder, StreamNotice
from tracker.samples import Samples

# --- Native format -----------------------------------------------------------------------------

MAGIC = b"\x89RTRK\r\n\x1a"
"""First 8 bytes of every native recording (docs/recording.md "File header")."""
FORMAT_VERSION = 1
FILE_HEADER = struct.Struct("<8sHH")  # magic, format version, minor version
FILE_HEADER_SIZE = FILE_HEADER.size  # 12
RECORD_MARKER = b"\xa5\x5a"
RECORD_HEAD = struct.Struct("<2sBBI")  # marker, type, flags, payload length
RECORD_HEAD_SIZE = RECORD_HEAD.size  # 8
RECORD_CRC_SIZE = 4
MAX_PAYLOAD = 64 << 20  # a longer declared length is corruption

REC_HEADER = 0x01
REC_PACKETS = 0x02
REC_SAMPLES = 0x03
REC_NOTE = 0x04
REC_END = 0x05
RECORD_NAMES = {
    REC_HEADER: "header",
    REC_PACKETS: "packets",
    REC_SAMPLES: "samples",
    REC_NOTE: "note",
    REC_END: "end",
}

RECORD_SPAN_S = 2.0
"""Longest stretch of samples one record holds: a file cut anywhere (a crash, a full disk, a
partial copy) loses at most its incomplete last record, so at most this much of the session."""
SAMPLES_PER_RECORD = 1000  # and never more than this many float samples per record
PACKETS_PER_RECORD = 4096  # nor this many packets
_SAMPLES_HEAD = struct.Struct("<IB3x")  # count, flags (bit0 gyro), reserved


def _frame(rec_type: int, payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:  # pragma: no cover - writers split long blocks
        raise ValueError(f"record payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    head = RECORD_HEAD.pack(RECORD_MARKER, rec_type, 0, len(payload))
    crc = zlib.crc32(payload, zlib.crc32(head[2:]))
    return head + payload + struct.pack("<I", crc)


def encode_packets_payload(packets: Sequence[bytes], host_times_s: Sequence[float] | None) -> bytes:
    count = len(packets)
    host = (
        np.full(count, np.nan, dtype="<f8")
        if host_times_s is None
        else np.asarray(host_times_s, dtype="<f8").reshape(-1)
    )
    if host.shape[0] != count:
        raise ValueError(f"{count} packets but {host.shape[0]} host times")
    lengths = np.fromiter((len(p) for p in packets), dtype=np.int64, count=count)
    if count and (lengths.max() > 0xFFFF):
        raise ValueError("a packet longer than 65535 bytes cannot be recorded")
    return struct.pack("<I", count) + host.tobytes() + lengths.astype("<u2").tobytes() + b"".join(packets)


def encode_samples_payload(samples: Samples) -> bytes:
    n = len(samples)
    gyro = samples.gyro_dps
    parts = [
        _SAMPLES_HEAD.pack(n, 1 if gyro is not None else 0),
        np.ascontiguousarray(samples.t_s, dtype="<f8").tobytes(),
        np.ascontiguousarray(samples.accel_g, dtype="<f8").tobytes(),
    ]
    if gyro is not None:
        parts.append(np.ascontiguousarray(gyro, dtype="<f8").tobytes())
    return b"".join(parts)


OTHER_PACKETS_PER_RECORD = 16
"""Packets of another codec (Polar, MetaWear) per record when their arrival times are unknown."""


def _reptrack_packet_us(packet: bytes) -> int | None:
    """Samples x period of a packet in RepTrack's layout (docs/protocol.md), None for another codec."""
    if len(packet) < 14 or packet[0] != 1:
        return None
    n = packet[10]
    width = 12 if packet[1] & 1 else 6
    if len(packet) != 14 + n * width:
        return None
    return n * (packet[8] | packet[9] << 8)


def _packet_spans(
    packets: Sequence[bytes], host_times_s: Sequence[float] | None
) -> Iterator[tuple[int, int]]:
    """Index ranges of packets holding at most ``RECORD_SPAN_S`` each: by the sample count and
    period in a RepTrack packet's header, else by the host's arrival times, else
    ``OTHER_PACKETS_PER_RECORD`` packets."""
    limit_us = RECORD_SPAN_S * 1e6
    start = 0
    span_us = 0.0
    for i, packet in enumerate(packets):
        own_us = _reptrack_packet_us(packet)
        if own_us is None:
            arrived = math.nan if host_times_s is None else host_times_s[i] - host_times_s[start]
            own_us = 0
            full = (
                arrived > RECORD_SPAN_S if math.isfinite(arrived) else i - start >= OTHER_PACKETS_PER_RECORD
            )
        else:
            full = span_us + own_us > limit_us
        if i > start and (full or i - start >= PACKETS_PER_RECORD):
            yield start, i
            start, span_us = i, 0.0
        span_us += own_us
    if start < len(packets):
        yield start, len(packets)


class RecordingWriter:
    """Appends records to a native recording; every write call ends with a flush.

    Each call writes whole records in one ``write``, so a crash (or a pulled plug) leaves at most
    one incomplete record at the end, which readers skip with a warning. Use :meth:`create` for a
    new file and :meth:`append` to continue one after a crash or a reconnect.
    """

    def __init__(
        self, file: BinaryIO, path: Path, *, fsync: bool = False, content: str | None = None
    ) -> None:
        self._file = file
        self.path = path
        self.fsync = fsync
        self._content = content  # "packets" | "samples" | None (not decided yet)

    @classmethod
    def create(
        cls, path: str | Path, meta: RecordingMeta, *, overwrite: bool = False, fsync: bool = False
    ) -> RecordingWriter:
        """Start a new recording with ``meta`` as its header (``start_time`` defaults to now).

        Refuses to replace an existing non-empty file unless ``overwrite``: a recording is data
        that cannot be made again. With ``fsync`` every write call also syncs to disk (power loss),
        not only to the operating system (process crash).
        """
        p = Path(path)
        if not overwrite and p.exists() and p.stat().st_size > 0:
            raise InputFileError(p, "already exists; choose another name or continue it with append")
        if not meta.start_time:
            from datetime import UTC, datetime

            meta = dataclasses.replace(meta, start_time=datetime.now(UTC).isoformat(timespec="milliseconds"))
        try:
            f = p.open("wb")
        except OSError as exc:
            raise InputFileError(p, f"cannot create: {exc.strerror or exc}") from None
        writer = cls(f, p, fsync=fsync)
        writer._write(
            FILE_HEADER.pack(MAGIC, FORMAT_VERSION, 0)
            + _frame(REC_HEADER, dumps_json(meta.to_dict()).encode())
        )
        return writer

    @classmethod
    def append(
        cls, path: str | Path, meta: RecordingMeta | None = None, *, fsync: bool = False
    ) -> RecordingWriter:
        """Continue an existing recording. An incomplete record at its end (a crash) is cut off.

        With ``meta``, a file that does not exist yet (or is empty) is created instead, so a
        recorder that restarts can always call ``append``.
        """
        p = Path(path)
        if meta is not None and (not p.exists() or p.stat().st_size == 0):
            return cls.create(p, meta, overwrite=True, fsync=fsync)
        try:
            f = p.open("r+b")
        except FileNotFoundError:
            raise InputFileError(p, "no such file to append to") from None
        except OSError as exc:
            raise InputFileError(p, f"cannot open for appending: {exc.strerror or exc}") from None
        try:
            data = f.read()
            scan = RecordingReader.from_bytes(data, p)
            if scan.meta is None:
                raise InputFileError(p, "has no complete header record; cannot continue it")
            content = "packets" if scan.has_packets else "samples" if scan.has_samples else None
            f.seek(scan.end_offset)
            f.truncate()
        except BaseException:
            f.close()
            raise
        return cls(f, p, fsync=fsync, content=content)

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self.flush()

    def _claim(self, content: str) -> None:
        if self._content is None:
            self._content = content
        elif self._content != content:
            raise ValueError(f"{self.path}: this recording holds {self._content}; cannot add {content} to it")

    def write_packets(self, packets: Sequence[bytes], host_times_s: Sequence[float] | None = None) -> None:
        """Record raw sensor packets byte for byte, with the host clock (s) when each arrived."""
        if host_times_s is not None and len(host_times_s) != len(packets):
            raise ValueError(f"{len(packets)} packets but {len(host_times_s)} host times")
        if not len(packets):
            return
        self._claim("packets")
        out = []
        for i, j in _packet_spans(packets, host_times_s):
            chunk = packets[i:j]
            times = None if host_times_s is None else host_times_s[i:j]
            out.append(_frame(REC_PACKETS, encode_packets_payload([bytes(p) for p in chunk], times)))
        self._write(b"".join(out))

    def write_samples(self, samples: Samples) -> None:
        """Record float samples exactly (imported data)."""
        if not len(samples):
            return
        self._claim("samples")
        rate = samples.estimated_rate_hz() if len(samples) > 1 else 0.0
        per_record = SAMPLES_PER_RECORD
        if math.isfinite(rate) and rate > 0:
            per_record = max(1, min(SAMPLES_PER_RECORD, int(RECORD_SPAN_S * rate)))
        out = [_frame(REC_SAMPLES, encode_samples_payload(b)) for b in samples.chunks(per_record)]
        self._write(b"".join(out))

    def write_note(self, kind: str, t_s: float | None = None, **fields: Any) -> None:
        """Record an event of the session (disconnect, reconnect, calibration, ...) as JSON."""
        note: dict[str, Any] = {"kind": str(kind), "t_s": t_s}
        note.update(fields)
        self.write_note_dict(note)

    def write_note_dict(self, note: dict[str, Any]) -> None:
        """Record a note exactly as given (used when converting recordings)."""
        self._write(_frame(REC_NOTE, dumps_json(note).encode()))

    def flush(self) -> None:
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Mark the recording as cleanly ended (an end record), flush, fsync and close."""
        if self._file.closed:
            return
        try:
            self._file.write(_frame(REC_END, b""))
            self._file.flush()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --- Reading -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PacketsRecord:
    offset: int  # byte offset of the record in the file
    packets: list[bytes]
    host_times_s: Sequence[float]  # NaN where the host time is unknown


@dataclass(frozen=True, slots=True)
class SamplesRecord:
    offset: int
    samples: Samples


@dataclass(frozen=True, slots=True)
class NoteRecord:
    offset: int
    note: dict[str, Any]


Record = PacketsRecord | SamplesRecord | NoteRecord


class RecordingReader:
    """Parses a native recording held in memory: header, then records in file order.

    Never raises for damage after the file header: a cut or corrupt record becomes a warning
    naming its byte offset, and reading goes on with the next valid record.
    """

    def __init__(self, data: bytes, path: Path) -> None:
        self.path = path
        self.data = data
        self.meta: RecordingMeta | None = None
        self.records: list[Record] = []
        self.warnings: list[str] = []
        self.end_offset = 0  # just after the last complete record (where an append continues)
        self.complete_records = 0
        self.closed_cleanly = False  # the last record is an end record
        self._parse()

    @classmethod
    def open(cls, path: str | Path) -> RecordingReader:
        p = Path(path)
        try:
            data = p.read_bytes()
        except IsADirectoryError:
            raise InputFileError(p, "is a folder, expected a recording file") from None
        except FileNotFoundError:
            raise InputFileError(p, "no such file") from None
        except OSError as exc:
            raise InputFileError(p, f"cannot read: {exc.strerror or exc}") from None
        return cls(data, p)

    @classmethod
    def from_bytes(cls, data: bytes, path: Path) -> RecordingReader:
        return cls(data, path)

    @property
    def has_packets(self) -> bool:
        return any(isinstance(r, PacketsRecord) for r in self.records)

    @property
    def has_samples(self) -> bool:
        return any(isinstance(r, SamplesRecord) for r in self.records)

    def _parse(self) -> None:
        data = self.data
        size = len(data)
        if size < FILE_HEADER_SIZE:
            if data != MAGIC[:size] and not (size > len(MAGIC) and data.startswith(MAGIC)):
                raise InputFileError(
                    self.path, "not a RepTrack recording (the file does not start with its magic)"
                )
            self.warnings.append(
                f"truncated after byte {size}: the file ends inside its {FILE_HEADER_SIZE}-byte file header; "
                "read 0 complete records"
            )
            return
        magic, version, _minor = FILE_HEADER.unpack_from(data)
        if magic != MAGIC:
            raise InputFileError(
                self.path, "not a RepTrack recording (the file does not start with its magic)"
            )
        if version != FORMAT_VERSION:
            raise InputFileError(
                self.path,
                f"recording format version {version}; this RepTrack reads version {FORMAT_VERSION} (update RepTrack)",
            )
        for _ in self._walk(memoryview(data), size):
            pass

    def _walk(self, view: memoryview, size: int) -> Iterator[int]:
        """Parse the records after the file header in order, accepting each (``_accept``); yields
        the offset after each complete record. Damage becomes a warning, as do a missing end or
        header record once the walk is over."""
        pos = FILE_HEADER_SIZE
        self.end_offset = pos
        while pos < size:
            parsed = _parse_record(self.data, view, pos)
            if not isinstance(parsed, _Damage):
                rec_type, start, end = parsed
                self._accept(rec_type, view[start:end], pos)
                self.closed_cleanly = rec_type == REC_END
                pos = end + RECORD_CRC_SIZE
                self.end_offset = pos
                self.complete_records += 1
                yield pos
                continue
            nxt = self._damage_warning(parsed, pos, size, view)
            if nxt is None:
                break
            pos = nxt
        if pos >= size and not self.closed_cleanly and self.meta is not None:
            self.warnings.append(
                f"truncated after byte {self.end_offset}: no end record (the writer crashed or is still "
                f"recording); read {self.complete_records} complete records"
            )
        if self.meta is None and size == FILE_HEADER_SIZE:
            self.warnings.append(
                f"truncated after byte {size}: the file ends before its header record; read 0 complete records"
            )
        elif self.meta is None and size > FILE_HEADER_SIZE:
            self.warnings.append("no header record: the recording's metadata is unknown")

    def _damage_warning(self, damage: _Damage, pos: int, size: int, view: memoryview) -> int | None:
        """Word the damage at ``pos`` as a warning; the next record's offset, or None at the end."""
        nxt = _resync(self.data, view, pos + 1)
        if nxt is None:
            if damage.incomplete:
                self.warnings.append(
                    f"truncated after byte {pos}: read {self.complete_records} complete records "
                    f"({size - pos} bytes of an incomplete record dropped)"
                )
            else:
                self.warnings.append(
                    f"corrupt data from byte {pos} to the end of the file ({size - pos} bytes: {damage.reason}); "
                    f"read {self.complete_records} complete records"
                )
            return None
        self.warnings.append(
            f"corrupt record at byte {pos} ({damage.reason}); skipped {nxt - pos} bytes to the next record at byte {nxt}"
        )
        return nxt

    def _accept(self, rec_type: int, payload: memoryview, offset: int) -> None:
        if rec_type == REC_HEADER:
            if self.meta is not None:
                self.warnings.append(f"byte {offset}: a second header record; ignored")
                return
            try:
                obj = loads_json(bytes(payload))
            except (UnicodeDecodeError, ValueError) as exc:
                self.meta = RecordingMeta()
                self.warnings.append(
                    f"byte {offset}: header record is not valid JSON ({exc}); metadata unknown"
                )
                return
            if not isinstance(obj, dict):
                self.meta = RecordingMeta()
                self.warnings.append(f"byte {offset}: header record is not a JSON object; metadata unknown")
                return
            self.meta, problems = RecordingMeta.from_dict(obj)
            self.warnings.extend(f"byte {offset}: {p}" for p in problems)
        elif rec_type == REC_PACKETS:
            record = _decode_packets(payload, offset)
            if record is None:
                self.warnings.append(
                    f"byte {offset}: packets record is inconsistent (lengths do not add up); skipped"
                )
            else:
                self.records.append(record)
        elif rec_type == REC_SAMPLES:
            samples = _decode_samples(payload)
            if samples is None:
                self.warnings.append(f"byte {offset}: samples record is inconsistent (wrong size); skipped")
            else:
                self.records.append(SamplesRecord(offset, samples))
        elif rec_type == REC_NOTE:
            try:
                note = loads_json(bytes(payload))
            except ValueError as exc:
                self.warnings.append(f"byte {offset}: note record is not valid JSON ({exc}); skipped")
                return
            if isinstance(note, dict):
                self.records.append(NoteRecord(offset, note))
            else:
                self.warnings.append(f"byte {offset}: note record is not a JSON object; skipped")
        elif rec_type == REC_END:
            pass
        else:
            self.warnings.append(f"byte {offset}: unknown record type {rec_type} (newer RepTrack?); skipped")


class _Damage(NamedTuple):
    reason: str
    incomplete: bool  # the file ends inside this record (a cut), rather than bad bytes


def _parse_record(data: bytes, view: memoryview, pos: int) -> tuple[int, int, int] | _Damage:
    """A valid record at ``pos``: (type, payload start, payload end); else (reason, incomplete)."""
    size = len(data)
    left = size - pos
    if left < RECORD_HEAD_SIZE:
        if data[pos : pos + 2] == RECORD_MARKER[:left] or (
            left >= 2 and data[pos : pos + 2] == RECORD_MARKER
        ):
            return _Damage("the file ends inside a record header", True)
        return _Damage("no record marker A5 5A", False)
    marker, rec_type, _flags, length = RECORD_HEAD.unpack_from(data, pos)
    if marker != RECORD_MARKER:
        return _Damage(f"no record marker A5 5A (found {marker.hex(' ').upper()})", False)
    if length > MAX_PAYLOAD:
        return _Damage(f"record length {length} is over the limit of {MAX_PAYLOAD}", False)
    start = pos + RECORD_HEAD_SIZE
    end = start + length
    if end + RECORD_CRC_SIZE > size:
        return _Damage(
            f"the file ends inside a {length}-byte {RECORD_NAMES.get(rec_type, 'unknown')} record", True
        )
    (crc,) = struct.unpack_from("<I", data, end)
    actual = zlib.crc32(view[start:end], zlib.crc32(view[pos + 2 : start]))
    if crc != actual:
        return _Damage(f"checksum 0x{crc:08x} does not match the record's contents (0x{actual:08x})", False)
    return rec_type, start, end


def _resync(data: bytes, view: memoryview, pos: int) -> int | None:
    """The offset of the next valid record at or after ``pos``, or None."""
    while True:
        pos = data.find(RECORD_MARKER, pos)
        if pos < 0:
            return None
        if not isinstance(_parse_record(data, view, pos), _Damage):
            return pos
        pos += 1


_TABLE_STRUCTS: dict[int, struct.Struct] = {}


def _decode_packets(payload: memoryview, offset: int) -> PacketsRecord | None:
    if len(payload) < 4:
        return None
    (count,) = struct.unpack_from("<I", payload)
    table = 4 + count * 10
    if table > len(payload):
        return None
    layout = _TABLE_STRUCTS.get(count)
    if layout is None:
        layout = struct.Struct(f"<{count}d{count}H")
        if len(_TABLE_STRUCTS) < 256:
            _TABLE_STRUCTS[count] = layout
    fields = layout.unpack_from(payload, 4)
    host, lengths = fields[:count], fields[count:]
    if table + sum(lengths) != len(payload):
        return None
    body = bytes(payload[table:])
    packets = []
    start = 0
    for length in lengths:
        packets.append(body[start : start + length])
        start += length
    return PacketsRecord(offset, packets, host)


def _decode_samples(payload: memoryview) -> Samples | None:
    if len(payload) < _SAMPLES_HEAD.size:
        return None
    n, flags = _SAMPLES_HEAD.unpack_from(payload)
    with_gyro = bool(flags & 1)
    width = 7 if with_gyro else 4
    if len(payload) != _SAMPLES_HEAD.size + n * width * 8:
        return None
    values = np.frombuffer(payload, dtype="<f8", offset=_SAMPLES_HEAD.size).astype(np.float64)
    t = values[:n]
    accel = values[n : 4 * n].reshape(n, 3)
    gyro = values[4 * n : 7 * n].reshape(n, 3) if with_gyro else None
    return Samples(t, accel, gyro)


def iter_packet_runs(
    records: Sequence[Record],
) -> Iterator[tuple[list[bytes], npt.NDArray[np.float64] | None] | NoteRecord | SamplesRecord]:
    """Packets in large batches for :meth:`StreamDecoder.feed`, in file order with the other records.

    A batch has host times for all its packets or for none (NaN means unknown). Notes and sample
    records come where they were written, between batches.
    """
    packets: list[bytes] = []
    host: list[float] = []

    def flush() -> Iterator[tuple[list[bytes], npt.NDArray[np.float64] | None]]:
        if not packets:
            return
        times = np.asarray(host, dtype=np.float64)
        known = ~np.isnan(times)
        if known.all():
            yield packets.copy(), times
        elif not known.any():
            yield packets.copy(), None
        else:  # split into runs with and without host times
            edges = np.flatnonzero(np.diff(known.astype(np.int8))) + 1
            bounds = [0, *edges.tolist(), len(packets)]
            for a, b in itertools.pairwise(bounds):
                yield packets[a:b], (times[a:b] if known[a] else None)
        packets.clear()
        host.clear()

    for rec in records:
        if isinstance(rec, PacketsRecord):
            packets.extend(rec.packets)
            host.extend(rec.host_times_s)
        else:
            yield from flush()
            yield rec
    yield from flush()


def packet_decoder(codec: str, records: Sequence[Record]) -> Any:
    """The decoder of the sensor's packets: the header's codec, else the first ``codec`` note
    (a live run learns the codec after the header is written), else RepTrack's (docs/sensors.md)."""
    if not codec:
        codec = next(
            (
                str(r.note.get("detail", ""))
                for r in records
                if isinstance(r, NoteRecord) and r.note.get("kind") == "codec"
            ),
            "",
        )
    if not codec or codec == "reptrack":
        return StreamDecoder()
    from tracker.codecs import decoder_for_codec  # the vendor codecs load only for their recordings

    return decoder_for_codec(codec)


def read_recording(path: str | Path) -> Session:
    """Read a native recording into a :class:`~tracker.io.session.Session`.

    Packets are decoded by the same :class:`StreamDecoder` as a live stream (in large batches),
    so gaps, duplicates, restarts and corrupt packets show up as ``notices`` just as they did live.
    A note without a time gets the session time of the last sample before it.
    """
    reader = RecordingReader.open(path)
    meta = reader.meta or RecordingMeta()
    warnings = list(reader.warnings)
    decoder = packet_decoder(meta.codec, reader.records)
    blocks: list[Samples] = []
    notices: list[StreamNotice] = []
    notes: list[dict[str, Any]] = []
    last_t = 0.0
    if reader.has_packets and reader.has_samples:
        warnings.append("the recording holds both packets and float samples; they are joined in file order")
    for item in iter_packet_runs(reader.records):
        if isinstance(item, NoteRecord):
            note = dict(item.note)
            if note.get("t_s") is None:
                note["t_s"] = last_t
            notes.append(note)
            continue
        if isinstance(item, SamplesRecord):
            samples = item.samples
        else:
            packets, host = item
            samples, found = decoder.feed(packets, cast("Sequence[float] | None", host))
            notices.extend(found)
        if len(samples):
            blocks.append(samples)
            last_t = float(samples.t_s[-1])
    if len({b.has_gyro for b in blocks}) > 1:
        warnings.append("some records carry gyroscope data and some do not; gyroscope dropped")
        blocks = [Samples(b.t_s, b.accel_g, None) for b in blocks]
    samples = Samples.concat(blocks)
    return Session(str(path), meta, samples, notices, notes, warnings)


# --- Streamed reading (an iterator API for replays of long recordings) ---------------------------

RELEASE_BYTES = 8 << 20
"""The streamed reader hands back the mapped pages it has read every this many bytes, so its
resident memory stays flat in the file's length."""


class RecordingStreamReader(RecordingReader):
    """Reads a native recording record by record from a memory map, in file order.

    Same parsing, damage handling and warnings as :class:`RecordingReader` (it reuses its record
    checks), but :meth:`iter_records` yields each record as it is parsed instead of keeping them,
    and the pages already read are released. ``meta`` and ``warnings`` fill in as records go by;
    the warnings about the file's end are there once the iterator is exhausted.
    """

    def __init__(self, path: Path) -> None:  # no super().__init__: it would parse the whole file
        import mmap

        self.path = path
        self.meta = None
        self.records = []
        self.warnings = []
        self.end_offset = 0
        self.complete_records = 0
        self.closed_cleanly = False
        self.header_offset = -1  # where the header record was (once read)
        try:
            with path.open("rb") as f:
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:  # ValueError: an empty file cannot be mapped
            raise InputFileError(path, f"cannot map for streaming: {exc}") from None
        self.data = cast("bytes", self._map)  # find/slicing/unpack_from work alike on a map
        self._view = memoryview(self._map)

    def close(self) -> None:
        try:
            self._view.release()
            self._map.close()
        except BufferError:  # a record still refers to the map; it closes when that is collected
            pass

    def _accept(self, rec_type: int, payload: memoryview, offset: int) -> None:
        if rec_type == REC_HEADER and self.meta is None:
            self.header_offset = offset
        super()._accept(rec_type, payload, offset)

    def iter_records(self) -> Iterator[Record]:
        """Each complete record in file order (the header record fills ``meta`` instead)."""
        return self._records_from(self._view, len(self.data))

    def _records_from(self, view: memoryview, size: int) -> Iterator[Record]:
        released = 0
        for pos in self._walk(view, size):
            if self.records:
                yield from self.records
                self.records.clear()
            if pos - released >= RELEASE_BYTES:
                released = self._release(released, pos)

    def _release(self, released: int, pos: int) -> int:
        """Drop the read pages below ``pos`` from resident memory (they are still on disk)."""
        import mmap

        page = mmap.PAGESIZE
        upto = pos // page * page
        if upto > released and hasattr(self._map, "madvise"):
            self._map.madvise(mmap.MADV_DONTNEED, released, upto - released)
        return upto


def first_codec_note(path: Path) -> str:
    """The detail of the recording's first ``codec`` note, or "" (a streamed pass over the file)."""
    reader = RecordingStreamReader(path)
    try:
        for rec in reader.iter_records():
            if isinstance(rec, NoteRecord) and rec.note.get("kind") == "codec":
                return str(rec.note.get("detail", ""))
    finally:
        reader.close()
    return ""
