"""Wire protocol of the RepTrack sensor (docs/protocol.md is the specification).

One codec for everyone: the simulated sensor encodes with it, the BLE client and the recording
reader decode with it. Decoding is vectorised with numpy: a batch of packets of equal length is
one ``np.frombuffer`` call, so replay and live share the same, fast path.

Packet layout (little-endian), docs/protocol.md section "IMU data":

======  ====  ==========================================================
offset  type  field
======  ====  ==========================================================
0       u8    format version (1)
1       u8    flags: bit0 GYRO, bit1 CLIPPED, bit2 RESTART, others 0
2       u16   sequence number, +1 per packet, wraps 65535 -> 0
4       u32   sensor clock at the first sample, microseconds, wraps
8       u16   nominal sample period, microseconds
10      u8    sample count n (1..MAX_SAMPLES_PER_PACKET)
11      u8    ranges: bits0-3 accel range code, bits4-7 gyro range code
12      ...   n samples of int16: ax ay az [gx gy gz]
end-2   u16   CRC-16/CCITT (XMODEM: poly 0x1021, init 0) of all bytes before it
======  ====  ==========================================================
"""

from __future__ import annotations

import binascii
import itertools
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag

import numpy as np
import numpy.typing as npt

from tracker.samples import Samples

# --- GATT profile (docs/protocol.md "GATT profile") -------------------------------------------

SERVICE_UUID = "52455054-0001-4b1e-9a3c-6d2f8e1b7c40"
IMU_DATA_UUID = "52455054-0002-4b1e-9a3c-6d2f8e1b7c40"
CONTROL_POINT_UUID = "52455054-0003-4b1e-9a3c-6d2f8e1b7c40"
CONFIGURATION_UUID = "52455054-0004-4b1e-9a3c-6d2f8e1b7c40"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFORMATION_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
MANUFACTURER_NAME_UUID = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL_NUMBER_UUID = "00002a24-0000-1000-8000-00805f9b34fb"
SERIAL_NUMBER_UUID = "00002a25-0000-1000-8000-00805f9b34fb"
FIRMWARE_REVISION_UUID = "00002a26-0000-1000-8000-00805f9b34fb"

FORMAT_VERSION = 1
HEADER_SIZE = 12
CRC_SIZE = 2
MAX_SAMPLES_PER_PACKET = 40
SEQ_MODULO = 1 << 16
SCALAR_MAX_PACKETS = 16  # a live stream's few waiting packets decode one by one on the scalar path
CLOCK_MODULO_US = 1 << 32

ACCEL_RANGES_G: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0)
GYRO_RANGES_DPS: tuple[float, ...] = (250.0, 500.0, 1000.0, 2000.0)
SUPPORTED_RATES_HZ: tuple[int, ...] = (25, 50, 100, 200)

_HEADER = struct.Struct("<BBHIHBB")


class Flags(IntFlag):
    GYRO = 0x01  # samples carry gyroscope values
    CLIPPED = 0x02  # at least one value sits at full scale
    RESTART = 0x04  # first packet after the sensor (re)started streaming: sequence restarts


NO_FLAGS = Flags(0)
_GYRO_BIT = int(Flags.GYRO)  # plain ints for the per-packet checks: IntFlag operators cost ~10 us
_RESTART_BIT = int(Flags.RESTART)
_RESERVED_FLAGS = 0xFF & ~int(Flags.GYRO | Flags.CLIPPED | Flags.RESTART)
RESTART_CLOCK_SLACK_US = 500_000
"""A sensor clock this far behind where the sequence number puts it means the sensor restarted."""
MAX_RESTART_GAP_S = 86_400.0
"""A host clock that puts a restart further than this after the last packet is not believed."""


class ProtocolError(ValueError):
    """A packet that does not follow docs/protocol.md.

    ``offset`` is the byte offset inside the packet where the problem is; ``packet_index`` the
    packet's position in a batch when decoding many at once.
    """

    def __init__(self, message: str, offset: int, packet_index: int | None = None) -> None:
        where = f"byte {offset}" if packet_index is None else f"packet {packet_index}, byte {offset}"
        super().__init__(f"{where}: {message}")
        self.offset = offset
        self.packet_index = packet_index
        self.reason = message


def accel_range_code(range_g: float) -> int:
    try:
        return ACCEL_RANGES_G.index(float(range_g))
    except ValueError:
        raise ValueError(f"accelerometer range must be one of {ACCEL_RANGES_G} g, got {range_g}") from None


def gyro_range_code(range_dps: float) -> int:
    try:
        return GYRO_RANGES_DPS.index(float(range_dps))
    except ValueError:
        raise ValueError(f"gyroscope range must be one of {GYRO_RANGES_DPS} deg/s, got {range_dps}") from None


def sample_size(with_gyro: bool) -> int:
    return 12 if with_gyro else 6


def samples_per_packet_for_mtu(mtu: int, with_gyro: bool = True) -> int:
    """How many samples fit one notification at this ATT MTU (3 bytes of ATT header)."""
    room = mtu - 3 - HEADER_SIZE - CRC_SIZE
    return max(0, min(MAX_SAMPLES_PER_PACKET, room // sample_size(with_gyro)))


# --- Encoding ------------------------------------------------------------------------------------


def quantize(values: npt.ArrayLike, full_scale: float) -> tuple[npt.NDArray[np.int16], bool]:
    """Physical values to int16 counts at this full scale, clipping. Returns (counts, clipped)."""
    counts = np.rint(np.asarray(values, dtype=np.float64) * (32768.0 / full_scale))
    clipped = bool(np.any(counts > 32767) or np.any(counts < -32768))
    return np.clip(counts, -32768, 32767).astype(np.int16), clipped


@dataclass(frozen=True, slots=True)
class Packet:
    """One decoded IMU data packet: raw counts plus what is needed to scale them."""

    seq: int
    t0_us: int
    period_us: int
    accel_range_g: float
    gyro_range_dps: float
    accel_counts: npt.NDArray[np.int16]  # (n, 3)
    gyro_counts: npt.NDArray[np.int16] | None  # (n, 3) or None without GYRO flag
    flags: Flags = NO_FLAGS

    @property
    def n(self) -> int:
        return int(self.accel_counts.shape[0])

    def accel_g(self) -> npt.NDArray[np.float64]:
        return self.accel_counts.astype(np.float64) * (self.accel_range_g / 32768.0)

    def gyro_dps(self) -> npt.NDArray[np.float64] | None:
        if self.gyro_counts is None:
            return None
        return self.gyro_counts.astype(np.float64) * (self.gyro_range_dps / 32768.0)


def encode_packet(
    seq: int,
    t0_us: int,
    period_us: int,
    accel_counts: npt.ArrayLike,
    gyro_counts: npt.ArrayLike | None,
    accel_range_g: float = 8.0,
    gyro_range_dps: float = 1000.0,
    flags: Flags = NO_FLAGS,
) -> bytes:
    """Encode one packet. Counts are int16 arrays of shape (n, 3)."""
    acc = np.asarray(accel_counts, dtype=np.int16).reshape(-1, 3)
    n = acc.shape[0]
    if not 1 <= n <= MAX_SAMPLES_PER_PACKET:
        raise ValueError(f"a packet carries 1..{MAX_SAMPLES_PER_PACKET} samples, got {n}")
    if not 0 < period_us < 1 << 16:
        raise ValueError(f"sample period must be 1..65535 us, got {period_us}")
    flags = Flags(int(flags) & ~int(Flags.GYRO))
    if gyro_counts is not None:
        gyr = np.asarray(gyro_counts, dtype=np.int16).reshape(-1, 3)
        if gyr.shape[0] != n:
            raise ValueError(f"gyro has {gyr.shape[0]} samples, accel has {n}")
        body = np.concatenate([acc, gyr], axis=1).astype("<i2").tobytes()
        flags |= Flags.GYRO
    else:
        body = acc.astype("<i2").tobytes()
    ranges = accel_range_code(accel_range_g) | (gyro_range_code(gyro_range_dps) << 4)
    head = _HEADER.pack(
        FORMAT_VERSION, int(flags), seq % SEQ_MODULO, t0_us % CLOCK_MODULO_US, period_us, n, ranges
    )
    data = head + body
    return data + struct.pack("<H", binascii.crc_hqx(data, 0))


# --- Decoding ------------------------------------------------------------------------------------

# CRC-16/XMODEM one byte at a time: crc' = (crc << 8 ^ _CRC_TABLE[crc >> 8 ^ byte]) & 0xFFFF
_CRC_TABLE = np.array([binascii.crc_hqx(bytes([b]), 0) for b in range(256)], dtype=np.int64)


def _crc_through(crc: npt.NDArray[np.int64], byte: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[((crc >> 8) ^ byte) & 0xFF]


def _check_header(data: bytes, index: int | None) -> tuple[int, int, int, int, int, int, int]:
    if len(data) < HEADER_SIZE + CRC_SIZE:
        raise ProtocolError(
            f"packet is {len(data)} bytes, expected at least {HEADER_SIZE + CRC_SIZE} "
            "(12-byte header + 2-byte CRC)",
            len(data),
            index,
        )
    version, flags, seq, t0_us, period_us, n, ranges = _HEADER.unpack_from(data)
    if version != FORMAT_VERSION:
        raise ProtocolError(f"format version {version}, expected {FORMAT_VERSION}", 0, index)
    if flags & _RESERVED_FLAGS:
        raise ProtocolError(f"reserved flag bits set (flags=0x{flags:02x}), expected 0", 1, index)
    if period_us == 0:
        raise ProtocolError("sample period 0 us, expected 1..65535", 8, index)
    if not 1 <= n <= MAX_SAMPLES_PER_PACKET:
        raise ProtocolError(f"sample count {n}, expected 1..{MAX_SAMPLES_PER_PACKET}", 10, index)
    if (ranges & 0x0F) >= len(ACCEL_RANGES_G):
        raise ProtocolError(f"accel range code {ranges & 0x0F}, expected 0..3", 11, index)
    if (ranges >> 4) >= len(GYRO_RANGES_DPS):
        raise ProtocolError(f"gyro range code {ranges >> 4}, expected 0..3", 11, index)
    expected = HEADER_SIZE + n * sample_size(bool(flags & _GYRO_BIT)) + CRC_SIZE
    if len(data) != expected:
        raise ProtocolError(
            f"packet is {len(data)} bytes, expected {expected} for {n} samples"
            f"{' with' if flags & _GYRO_BIT else ' without'} gyro",
            min(len(data), expected),
            index,
        )
    (crc,) = struct.unpack_from("<H", data, expected - CRC_SIZE)
    actual = binascii.crc_hqx(data[: expected - CRC_SIZE], 0)
    if crc != actual:
        raise ProtocolError(
            f"CRC 0x{crc:04x} does not match the packet's contents (expected 0x{actual:04x})",
            expected - CRC_SIZE,
            index,
        )
    return version, flags, seq, t0_us, period_us, n, ranges


def decode_packet(data: bytes | bytearray | memoryview, index: int | None = None) -> Packet:
    """Decode and validate one packet; raise :class:`ProtocolError` naming the offending byte."""
    data = bytes(data)
    _, flags, seq, t0_us, period_us, n, ranges = _check_header(data, index)
    width = 6 if flags & Flags.GYRO else 3
    counts = np.frombuffer(data, dtype="<i2", count=n * width, offset=HEADER_SIZE).reshape(n, width)
    counts = counts.astype(np.int16)
    return Packet(
        seq=seq,
        t0_us=t0_us,
        period_us=period_us,
        accel_range_g=ACCEL_RANGES_G[ranges & 0x0F],
        gyro_range_dps=GYRO_RANGES_DPS[ranges >> 4],
        accel_counts=counts[:, :3],
        gyro_counts=counts[:, 3:] if width == 6 else None,
        flags=Flags(flags),
    )


@dataclass(frozen=True, slots=True)
class PacketBatch:
    """Many decoded packets as flat arrays (structure of arrays), in arrival order.

    Sample arrays are concatenated over packets; ``first_sample[i]`` is where packet i starts.
    ``gyro_dps`` is None when no packet in the batch carries gyroscope data; when only some do,
    the others' gyro rows are NaN.
    """

    seq: npt.NDArray[np.int64]
    t0_us: npt.NDArray[np.int64]
    period_us: npt.NDArray[np.int64]
    flags: npt.NDArray[np.int64]
    n: npt.NDArray[np.int64]
    first_sample: npt.NDArray[np.int64]
    accel_g: npt.NDArray[np.float64]
    gyro_dps: npt.NDArray[np.float64] | None
    errors: tuple[ProtocolError, ...] = field(default=())

    def __len__(self) -> int:
        return int(self.seq.shape[0])


@dataclass(slots=True)
class _Headers:
    """Header columns of a batch being decoded, one entry per packet (rejected ones included)."""

    seq: npt.NDArray[np.int64]
    t0_us: npt.NDArray[np.int64]
    period_us: npt.NDArray[np.int64]
    flags: npt.NDArray[np.int64]
    n: npt.NDArray[np.int64]
    accel_code: npt.NDArray[np.int64]
    gyro_code: npt.NDArray[np.int64]
    ok: npt.NDArray[np.bool_]

    @classmethod
    def zeros(cls, count: int) -> _Headers:
        def z() -> npt.NDArray[np.int64]:
            return np.zeros(count, np.int64)

        return cls(z(), z(), z(), z(), z(), z(), z(), np.ones(count, dtype=bool))


def decode_batch(packets: Sequence[bytes], strict: bool = True) -> PacketBatch:
    """Decode many packets at once (vectorised per packet length).

    With ``strict`` a malformed packet raises :class:`ProtocolError` naming its index and byte;
    otherwise it is dropped and reported in ``errors`` (a live stream goes on).
    """
    count = len(packets)
    lengths = np.fromiter(map(len, packets), dtype=np.int64, count=count)
    heads = _Headers.zeros(count)
    errors: list[ProtocolError] = []
    per_len = {length: np.flatnonzero(lengths == length) for length in np.unique(lengths).tolist()}
    raw_by_len: dict[int, npt.NDArray[np.uint8]] = {}
    for length, idx in per_len.items():
        if length < HEADER_SIZE + CRC_SIZE:
            for i in idx.tolist():
                _flag_error(packets, i, heads.ok, errors, strict)
            continue
        group = packets if idx.size == count else [packets[i] for i in idx.tolist()]  # usually all
        raw_by_len[length] = _check_headers(packets, group, idx, length, heads, errors, strict)
    return _scale_samples(heads, per_len, raw_by_len, errors)


def _check_headers(
    packets: Sequence[bytes],
    group: Sequence[bytes],
    idx: npt.NDArray[np.int64],
    length: int,
    heads: _Headers,
    errors: list[ProtocolError],
    strict: bool,
) -> npt.NDArray[np.uint8]:
    """Validate and read the headers of the packets ``idx`` (all ``length`` bytes long) at once."""
    rows = np.frombuffer(b"".join(group), dtype=np.uint8).reshape(-1, length)
    head = rows[:, :HEADER_SIZE]
    h_flags = head[:, 1].astype(np.int64)
    h_n = head[:, 10].astype(np.int64)
    h_ranges = head[:, 11].astype(np.int64)
    widths = np.where(h_flags & Flags.GYRO, 12, 6)
    period_col = head[:, 8].astype(np.int64) | (head[:, 9].astype(np.int64) << 8)
    good = (
        (head[:, 0] == FORMAT_VERSION)
        & ((h_flags & _RESERVED_FLAGS) == 0)
        & (h_n >= 1)
        & (h_n <= MAX_SAMPLES_PER_PACKET)
        & ((h_ranges & 0x0F) < len(ACCEL_RANGES_G))
        & ((h_ranges >> 4) < len(GYRO_RANGES_DPS))
        & (HEADER_SIZE + h_n * widths + CRC_SIZE == length)
        & (period_col > 0)
    )
    crc_lo = rows[:, -2].astype(np.int64)
    crc_hi = rows[:, -1].astype(np.int64)
    crc_col = crc_lo | (crc_hi << 8)
    # The CRC of a whole packet (no slice to copy) is the CRC of its contents run on through
    # its two CRC bytes; that step is one-to-one, so the contents' CRC is the stored one exactly
    # when the whole packet's CRC is the stored one run on through those two bytes.
    whole = np.fromiter(
        map(binascii.crc_hqx, group, itertools.repeat(0)),
        dtype=np.int64,
        count=idx.size,
    )
    good &= whole == _crc_through(_crc_through(crc_col, crc_lo), crc_hi)
    for j in np.flatnonzero(~good).tolist():
        _flag_error(packets, int(idx[j]), heads.ok, errors, strict)
    heads.seq[idx] = head[:, 2].astype(np.int64) | (head[:, 3].astype(np.int64) << 8)
    heads.t0_us[idx] = (
        head[:, 4].astype(np.int64)
        | (head[:, 5].astype(np.int64) << 8)
        | (head[:, 6].astype(np.int64) << 16)
        | (head[:, 7].astype(np.int64) << 24)
    )
    heads.period_us[idx] = period_col
    heads.flags[idx] = h_flags
    heads.n[idx] = h_n
    heads.accel_code[idx] = h_ranges & 0x0F
    heads.gyro_code[idx] = h_ranges >> 4
    return rows


def _scale_samples(
    heads: _Headers,
    per_len: dict[int, npt.NDArray[np.int64]],
    raw_by_len: dict[int, npt.NDArray[np.uint8]],
    errors: list[ProtocolError],
) -> PacketBatch:
    """The kept packets' samples in physical units, in arrival order."""
    ok, n, flags = heads.ok, heads.n, heads.flags
    keep = np.flatnonzero(ok)
    n_kept = n[keep]
    first = np.zeros(keep.size, np.int64)
    if keep.size:
        first[1:] = np.cumsum(n_kept)[:-1]
    total = int(n_kept.sum())
    accel = np.empty((total, 3), np.float64)
    with_gyro = (flags[keep] & Flags.GYRO) != 0
    gyro = None
    if with_gyro.all() and keep.size:  # every row is written below
        gyro = np.empty((total, 3), np.float64)
    elif with_gyro.any():
        gyro = np.full((total, 3), np.nan, np.float64)
    # Range codes of rejected packets may be out of bounds; they are never used, so clamp them.
    a_scale = np.asarray(ACCEL_RANGES_G)[np.minimum(heads.accel_code, len(ACCEL_RANGES_G) - 1)] / 32768.0
    g_scale = np.asarray(GYRO_RANGES_DPS)[np.minimum(heads.gyro_code, len(GYRO_RANGES_DPS) - 1)] / 32768.0
    pos = np.full(ok.size, -1, np.int64)
    pos[keep] = np.arange(keep.size)
    for length, rows in raw_by_len.items():
        idx = per_len[length]
        sel = ok[idx]
        if not sel.any():
            continue
        every = bool(sel.all())
        idx_all = idx if every else idx[sel]
        rows_all = rows if every else rows[sel]
        # One length can hold two layouts (2 samples without gyro = 1 sample with): split by layout.
        has_gyro = (flags[idx_all] & Flags.GYRO) != 0
        for layout in (has_gyro, ~has_gyro):
            if not layout.any():
                continue
            one_layout = bool(layout.all())
            idx = idx_all if one_layout else idx_all[layout]
            k = int(n[idx[0]])
            width = 6 if flags[idx[0]] & Flags.GYRO else 3
            body = rows_all if one_layout else rows_all[layout]
            counts = (
                np.ascontiguousarray(body[:, HEADER_SIZE : HEADER_SIZE + k * width * 2])
                .view("<i2")
                .reshape(idx.size, k, width)
            )
            if idx.size == keep.size:  # these are all the kept packets, in order: no scatter
                np.multiply(counts[:, :, :3], a_scale[idx][:, None, None], out=accel.reshape(idx.size, k, 3))
                if width == 6 and gyro is not None:
                    g_out = gyro.reshape(idx.size, k, 3)
                    np.multiply(counts[:, :, 3:], g_scale[idx][:, None, None], out=g_out)
                continue
            starts = first[pos[idx]]
            target = (starts[:, None] + np.arange(k)[None, :]).ravel()
            accel[target] = (counts[:, :, :3] * a_scale[idx][:, None, None]).reshape(-1, 3)
            if width == 6 and gyro is not None:
                gyro[target] = (counts[:, :, 3:] * g_scale[idx][:, None, None]).reshape(-1, 3)
    return PacketBatch(
        seq=heads.seq[keep],
        t0_us=heads.t0_us[keep],
        period_us=heads.period_us[keep],
        flags=flags[keep],
        n=n_kept,
        first_sample=first,
        accel_g=accel,
        gyro_dps=gyro,
        errors=tuple(errors),
    )


def _flag_error(
    packets: Sequence[bytes], i: int, ok: npt.NDArray[np.bool_], errors: list[ProtocolError], strict: bool
) -> None:
    try:
        _check_header(bytes(packets[i]), i)
    except ProtocolError as exc:
        if strict:
            raise
        errors.append(exc)
    else:  # pragma: no cover - the vectorised checks and _check_header agree
        raise AssertionError(f"packet {i} rejected by the batch checks but valid alone")
    ok[i] = False


# --- Streams: sequence numbers, gaps, timestamps ----------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamNotice:
    """Something a stream consumer should know about (shown in telemetry, kept in recordings)."""

    kind: str  # "gap" | "duplicate" | "restart" | "corrupt"
    t_s: float  # session time where it happened
    packets: int = 0  # packets missing (gap) or dropped (duplicate/corrupt)
    samples: int = 0  # samples missing (gap)
    detail: str = ""


@dataclass(slots=True)
class StreamStats:
    packets: int = 0
    samples: int = 0
    lost_packets: int = 0
    lost_samples: int = 0
    duplicates: int = 0
    corrupt: int = 0
    restarts: int = 0

    @property
    def loss_ratio(self) -> float:
        expected = self.packets + self.lost_packets
        return self.lost_packets / expected if expected else 0.0


class StreamDecoder:
    """Turns a sensor's packet stream into continuous session time and samples.

    Tracks the 16-bit sequence number across wrap-around (a jump forward is a gap, a step back a
    duplicate or late packet, which is dropped), unwraps the 32-bit microsecond clock, and keeps
    session time running across sensor restarts (RESTART flag), using the host's arrival time to
    place the new clock. Session time 0 is the first sample of the first packet.
    """

    def __init__(self) -> None:
        self.stats = StreamStats()
        self._last_seq: int | None = None
        self._clock_base_us = 0  # added to the sensor clock after unwrapping
        self._last_raw_us: int | None = None
        self._origin_us: int | None = None
        self._last_end_s = 0.0  # session time just after the last sample
        self._last_host_s: float | None = None
        self._last_packet_us = 0  # how far the sensor clock moves per packet, lately

    def feed(
        self, packets: Sequence[bytes], host_times_s: Sequence[float] | None = None
    ) -> tuple[Samples, list[StreamNotice]]:
        """Decode packets in arrival order. Corrupt packets are dropped and reported.

        A host time that is not a finite number (NaN, inf) counts as unknown.
        """
        if len(packets) <= SCALAR_MAX_PACKETS:
            k, run = self._feed_run(packets, host_times_s)
            if k == len(packets) and run is not None:
                return run, []
            if run is not None:  # the rest starts with a packet the run leaves to the batch path
                rest, rest_notices = self.feed(
                    packets[k:], None if host_times_s is None else host_times_s[k:]
                )
                return Samples.concat([run, rest]), rest_notices
        batch = decode_batch(packets, strict=False)
        notices: list[StreamNotice] = [
            StreamNotice("corrupt", self._last_end_s, packets=1, detail=str(e)) for e in batch.errors
        ]
        self.stats.corrupt += len(batch.errors)
        if not len(batch):
            return Samples.empty(with_gyro=True), notices
        host: npt.NDArray[np.float64] | None = None
        if host_times_s is not None:
            host = np.asarray(host_times_s, dtype=np.float64)
            if batch.errors:
                host = host[_kept_indices(len(packets), batch.errors)]
        if self._last_seq is None and len(batch) > 1:
            # The first packet sets the clock origin; the rest can then take the vectorised path.
            t_head, keep_head, head_notes = self._times(
                _batch_head(batch, 1), None if host is None else host[:1]
            )
            t_tail, keep_tail, tail_notes = self._times(
                _batch_tail(batch, 1), None if host is None else host[1:]
            )
            t_first = np.concatenate([t_head, t_tail])
            keep = np.concatenate([keep_head, keep_tail])
            return self._samples(batch, t_first, keep), notices + head_notes + tail_notes
        t_first, keep, more = self._times(batch, host)
        return self._samples(batch, t_first, keep), notices + more

    @property
    def next_t_s(self) -> float:
        """Session time just after the last sample decoded (where the next packet should start)."""
        return self._last_end_s

    def _feed_run(
        self, packets: Sequence[bytes], host_times_s: Sequence[float] | None
    ) -> tuple[int, Samples | None]:
        """The packets of a running stream that come next in sequence, from the first, with one
        layout (samples, period, gyro, ranges): what live notifications are. Returns how many it
        took and their samples (None for none: the first packet, a gap, a duplicate, a restart or
        a corrupt packet are left to the batch path).

        Scalar checks per packet and one numpy conversion for the run (a numpy batch costs ~20
        calls of overhead per packet); the same samples, bit for bit, as the batch path."""
        last_raw, last_seq = self._last_raw_us, self._last_seq
        if last_seq is None or last_raw is None or self._origin_us is None:
            return 0, None
        base_us = self._clock_base_us
        layout: tuple[int, int, int, int] | None = None
        firsts: list[float] = []
        bodies: list[bytes] = []
        step_us = 0
        for data in packets:
            try:
                _, flags, seq, raw_us, period_us, n, ranges = _check_header(bytes(data), None)
            except ProtocolError:
                break
            if flags & _RESTART_BIT or (seq - last_seq) % SEQ_MODULO != 1:
                break
            if layout is not None and layout != (flags, period_us, n, ranges):
                break
            step = raw_us - last_raw
            wrapped = step < -(CLOCK_MODULO_US // 2)
            if step < 0 and not wrapped:  # the clock went back: a restart, or a late packet
                break
            step_us = step
            base_us += CLOCK_MODULO_US if wrapped else 0
            layout = (flags, period_us, n, ranges)
            firsts.append((raw_us + base_us - self._origin_us) / 1e6)
            width = 6 if flags & _GYRO_BIT else 3
            bodies.append(bytes(data[HEADER_SIZE : HEADER_SIZE + n * width * 2]))
            last_raw, last_seq = raw_us, seq
        if layout is None:
            return 0, None
        flags, period_us, n, ranges = layout
        k = len(firsts)
        width = 6 if flags & _GYRO_BIT else 3
        counts = np.frombuffer(b"".join(bodies), dtype="<i2").reshape(k * n, width)
        accel = counts[:, :3] * (ACCEL_RANGES_G[ranges & 0x0F] / 32768.0)
        gyro = counts[:, 3:] * (GYRO_RANGES_DPS[ranges >> 4] / 32768.0) if width == 6 else None
        offsets = np.arange(n) * period_us / 1e6  # as each packet's own: offsets + its first time
        t = (offsets[None, :] + np.asarray(firsts)[:, None]).reshape(-1) if k > 1 else offsets + firsts[0]
        self._clock_base_us = base_us
        self._last_raw_us = last_raw
        self._last_packet_us = max(1, step_us % CLOCK_MODULO_US)
        self._last_seq = last_seq
        self._last_end_s = firsts[-1] + n * period_us / 1e6
        if host_times_s is not None:
            finite = [float(h) for h in host_times_s[:k] if math.isfinite(float(h))]
            if finite:
                self._last_host_s = finite[-1]
        self.stats.packets += k
        self.stats.samples += k * n
        return k, Samples(t, accel, gyro)

    def _times(
        self, batch: PacketBatch, host: npt.NDArray[np.float64] | None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], list[StreamNotice]]:
        """Session time of each packet's first sample, which packets to keep, and the notices.
        Slow path: scalar bookkeeping per packet (gaps, duplicates, restarts)."""
        notices: list[StreamNotice] = []
        keep = np.ones(len(batch), dtype=bool)
        fast = self._fast_times(batch)
        if fast is not None and host is not None and math.isfinite(float(host[-1])):
            self._last_host_s = float(host[-1])
        t_first = np.empty(len(batch), np.float64) if fast is None else fast
        for i in range(0 if fast is None else len(batch), len(batch)):
            seq = int(batch.seq[i])
            raw_us = int(batch.t0_us[i])
            period = int(batch.period_us[i])
            h = None if host is None or not math.isfinite(float(host[i])) else float(host[i])
            if self._last_seq is None:
                self._origin_us = raw_us
                self._last_raw_us = raw_us
                self._clock_base_us = 0
                self._last_packet_us = int(batch.n[i]) * period
            elif batch.flags[i] & Flags.RESTART or self._clock_went_back(seq, raw_us):
                how = "" if batch.flags[i] & Flags.RESTART else " (its clock went back; RESTART packet lost)"
                notices.append(self._restart(seq, raw_us, int(batch.n[i]) * period, h, how))
            else:
                step = (seq - self._last_seq) % SEQ_MODULO
                if step == 0 or step >= SEQ_MODULO // 2:
                    keep[i] = False
                    self.stats.duplicates += 1
                    notices.append(
                        StreamNotice("duplicate", self._last_end_s, packets=1, detail=f"seq {seq} again")
                    )
                    continue
                notices.extend(self._advance(seq, raw_us, step, period))
            assert self._origin_us is not None
            t_first[i] = (raw_us + self._clock_base_us - self._origin_us) / 1e6
            self._last_seq = seq
            self._last_end_s = t_first[i] + int(batch.n[i]) * period / 1e6
            if h is not None:
                self._last_host_s = h
            self.stats.packets += 1
            self.stats.samples += int(batch.n[i])

        return t_first, keep, notices

    def _clock_went_back(self, seq: int, raw_us: int) -> bool:
        """A restart whose RESTART packet was lost. A sensor's sequence and clock both start again
        near 0, so its new packets look like old ones; but a duplicate or late packet is a recent
        one, sent with the clock its sequence number implies. A clock more than
        ``RESTART_CLOCK_SLACK_US`` behind the last packet's, or a step back in sequence that does
        not match the clock's, is a restart. Both counters wrap; steps are read as signed."""
        assert self._last_seq is not None and self._last_raw_us is not None
        seq_step = (seq - self._last_seq) % SEQ_MODULO
        if seq_step >= SEQ_MODULO // 2:
            seq_step -= SEQ_MODULO
        clock_step = (raw_us - self._last_raw_us) % CLOCK_MODULO_US
        if clock_step >= CLOCK_MODULO_US // 2:
            clock_step -= CLOCK_MODULO_US
        if clock_step < -RESTART_CLOCK_SLACK_US:
            return True
        expected = seq_step * self._last_packet_us
        return seq_step <= 0 and abs(clock_step - expected) > RESTART_CLOCK_SLACK_US

    def _restart(self, seq: int, raw_us: int, packet_us: int, h: float | None, how: str) -> StreamNotice:
        """Sensor rebooted: its clock and sequence start again. Place the new clock where the
        host says we are (or right after the last sample when we cannot tell). A packet leaves
        the sensor when full, so its arrival marks the end of its samples."""
        offset_s = self._last_end_s
        host_gap_s = None if h is None or self._last_host_s is None else h - self._last_host_s
        if host_gap_s is not None and host_gap_s <= MAX_RESTART_GAP_S:  # a wilder host clock is ignored
            offset_s = max(self._last_end_s, self._last_end_s + host_gap_s - packet_us / 1e6)
        self._origin_us = raw_us - round(offset_s * 1e6)
        self._clock_base_us = 0
        self._last_raw_us = raw_us
        self._last_packet_us = packet_us
        self.stats.restarts += 1
        return StreamNotice("restart", offset_s, detail=f"sensor restarted at seq {seq}{how}")

    def _advance(self, seq: int, raw_us: int, step: int, period: int) -> list[StreamNotice]:
        """The next packet of the same run: unwrap the clock, report lost packets before it."""
        assert self._last_seq is not None and self._last_raw_us is not None
        if raw_us < self._last_raw_us and self._last_raw_us - raw_us > CLOCK_MODULO_US // 2:
            self._clock_base_us += CLOCK_MODULO_US
        if step > 1:  # the clock moved by this many packets' worth
            self._last_packet_us = max(1, ((raw_us - self._last_raw_us) % CLOCK_MODULO_US) // step)
        else:
            self._last_packet_us = max(1, (raw_us - self._last_raw_us) % CLOCK_MODULO_US)
        self._last_raw_us = raw_us
        if step == 1:
            return []
        missing = step - 1
        assert self._origin_us is not None
        t_here = (raw_us + self._clock_base_us - self._origin_us) / 1e6
        lost = max(0, round((t_here - self._last_end_s) / (period / 1e6)))
        self.stats.lost_packets += missing
        self.stats.lost_samples += lost
        return [
            StreamNotice(
                "gap",
                self._last_end_s,
                packets=missing,
                samples=lost,
                detail=f"seq {(self._last_seq + 1) % SEQ_MODULO}..{(seq - 1) % SEQ_MODULO} lost",
            )
        ]

    def _samples(
        self, batch: PacketBatch, t_first: npt.NDArray[np.float64], keep: npt.NDArray[np.bool_]
    ) -> Samples:
        kept = np.flatnonzero(keep)
        n = batch.n[kept]
        if not kept.size:
            return Samples.empty(with_gyro=batch.gyro_dps is not None)
        offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        t = np.repeat(t_first[kept], n) + offsets * np.repeat(batch.period_us[kept], n) / 1e6
        if kept.size == len(batch):
            return Samples(t, batch.accel_g, batch.gyro_dps)
        sample_idx = np.repeat(batch.first_sample[kept], n) + offsets
        gyro = None if batch.gyro_dps is None else batch.gyro_dps[sample_idx]
        return Samples(t, batch.accel_g[sample_idx], gyro)

    def _fast_times(self, batch: PacketBatch) -> npt.NDArray[np.float64] | None:
        """Vectorised session times for the common case: consecutive sequence, no restart.

        Returns None when the batch needs the per-packet path (gaps, duplicates, restarts).
        """
        if self._last_seq is None or self._last_raw_us is None or self._origin_us is None:
            return None
        if np.any(batch.flags & Flags.RESTART):
            return None
        seqs = np.concatenate(([self._last_seq], batch.seq))
        if not np.all(np.diff(seqs) % SEQ_MODULO == 1):
            return None
        steps = np.diff(np.concatenate(([self._last_raw_us], batch.t0_us)))
        wrapped = steps < -(CLOCK_MODULO_US // 2)
        if np.any((steps < 0) & ~wrapped):  # the clock went back: a restart, or a late packet
            return None
        wraps = np.cumsum(wrapped.astype(np.int64)) * CLOCK_MODULO_US
        unwrapped = batch.t0_us + self._clock_base_us + wraps
        t_first = (unwrapped - self._origin_us) / 1e6
        self._clock_base_us += int(wraps[-1])
        self._last_raw_us = int(batch.t0_us[-1])
        self._last_packet_us = max(1, int(steps[-1]) % CLOCK_MODULO_US)
        self._last_seq = int(batch.seq[-1])
        self._last_end_s = float(t_first[-1] + batch.n[-1] * batch.period_us[-1] / 1e6)
        self.stats.packets += len(batch)
        self.stats.samples += int(batch.n.sum())
        return t_first


def _batch_head(batch: PacketBatch, k: int) -> PacketBatch:
    """The first ``k`` packets' header columns (the bookkeeping needs no samples)."""
    return PacketBatch(
        batch.seq[:k],
        batch.t0_us[:k],
        batch.period_us[:k],
        batch.flags[:k],
        batch.n[:k],
        batch.first_sample[:k],
        batch.accel_g[:0],
        None,
    )


def _batch_tail(batch: PacketBatch, k: int) -> PacketBatch:
    """The header columns of the packets after the first ``k``."""
    return PacketBatch(
        batch.seq[k:],
        batch.t0_us[k:],
        batch.period_us[k:],
        batch.flags[k:],
        batch.n[k:],
        batch.first_sample[k:],
        batch.accel_g[:0],
        None,
    )


def _kept_indices(count: int, errors: Sequence[ProtocolError]) -> npt.NDArray[np.int64]:
    bad = {e.packet_index for e in errors}
    return np.fromiter((i for i in range(count) if i not in bad), dtype=np.int64)


# --- Control point and configuration (docs/protocol.md) -------------------------------------


class Opcode(IntEnum):
    START = 0x01
    STOP = 0x02
    SET_RATE = 0x03  # u16 rate in Hz, one of SUPPORTED_RATES_HZ
    SET_RANGES = 0x04  # u8 accel range code, u8 gyro range code
    RESPONSE = 0x80  # sensor -> client: u8 request opcode, u8 result


class Result(IntEnum):
    SUCCESS = 0x01
    OPCODE_NOT_SUPPORTED = 0x02
    INVALID_PARAMETER = 0x03
    OPERATION_FAILED = 0x04


def encode_command(opcode: Opcode, *params: int) -> bytes:
    if opcode == Opcode.SET_RATE:
        (rate,) = params
        return struct.pack("<BH", opcode, rate)
    if opcode == Opcode.SET_RANGES:
        a, g = params
        return struct.pack("<BBB", opcode, a, g)
    if params:
        raise ValueError(f"{opcode.name} takes no parameters")
    return bytes([opcode])


def encode_response(request: int, result: Result) -> bytes:
    return bytes([Opcode.RESPONSE, request & 0xFF, result])


def decode_response(data: bytes) -> tuple[int, Result]:
    if len(data) != 3:
        raise ProtocolError(f"control point response is {len(data)} bytes, expected 3", min(len(data), 3))
    if data[0] != Opcode.RESPONSE:
        raise ProtocolError(f"response opcode 0x{data[0]:02x}, expected 0x80", 0)
    try:
        return data[1], Result(data[2])
    except ValueError:
        raise ProtocolError(f"result code 0x{data[2]:02x}, expected 0x01..0x04", 2) from None


@dataclass(frozen=True, slots=True)
class SensorConfig:
    """The read-only configuration characteristic (8 bytes)."""

    rate_hz: int = 100
    accel_range_g: float = 8.0
    gyro_range_dps: float = 1000.0
    samples_per_packet: int = 10
    streaming: bool = False
    has_gyro: bool = True

    _STRUCT = struct.Struct("<BHBBBBB")

    def encode(self) -> bytes:
        return self._STRUCT.pack(
            FORMAT_VERSION,
            self.rate_hz,
            accel_range_code(self.accel_range_g),
            gyro_range_code(self.gyro_range_dps),
            self.samples_per_packet,
            int(self.streaming),
            int(self.has_gyro),
        )

    @classmethod
    def decode(cls, data: bytes) -> SensorConfig:
        if len(data) != cls._STRUCT.size:
            raise ProtocolError(
                f"configuration is {len(data)} bytes, expected {cls._STRUCT.size}",
                min(len(data), cls._STRUCT.size),
            )
        version, rate, a, g, spp, streaming, has_gyro = cls._STRUCT.unpack(data)
        if version != FORMAT_VERSION:
            raise ProtocolError(f"configuration version {version}, expected {FORMAT_VERSION}", 0)
        if a >= len(ACCEL_RANGES_G):
            raise ProtocolError(f"accel range code {a}, expected 0..3", 3)
        if g >= len(GYRO_RANGES_DPS):
            raise ProtocolError(f"gyro range code {g}, expected 0..3", 4)
        return cls(rate, ACCEL_RANGES_G[a], GYRO_RANGES_DPS[g], spp, bool(streaming), bool(has_gyro))


# --- Sensor side: turning samples into packets ---------------------------------------------


class Packetizer:
    """Sensor-side encoder: physical samples in, wire packets out (used by the simulator)."""

    def __init__(
        self,
        rate_hz: float = 100.0,
        samples_per_packet: int = 10,
        accel_range_g: float = 8.0,
        gyro_range_dps: float = 1000.0,
        with_gyro: bool = True,
    ) -> None:
        self.period_us = round(1e6 / rate_hz)
        self.samples_per_packet = samples_per_packet
        self.accel_range_g = accel_range_g
        self.gyro_range_dps = gyro_range_dps
        self.with_gyro = with_gyro
        self.seq = 0
        self._restart_pending = True

    def restart(self) -> None:
        """The sensor rebooted: sequence numbers start again at 0 with the RESTART flag."""
        self.seq = 0
        self._restart_pending = True

    def encode(
        self, clock_us: npt.ArrayLike, accel_g: npt.ArrayLike, gyro_dps: npt.ArrayLike | None
    ) -> list[bytes]:
        """Encode consecutive samples; ``clock_us`` is the sensor clock of each sample."""
        clock = np.asarray(clock_us, dtype=np.int64)
        acc, acc_clip = quantize(accel_g, self.accel_range_g)
        gyr, gyr_clip = (
            (None, False)
            if gyro_dps is None or not self.with_gyro
            else quantize(gyro_dps, self.gyro_range_dps)
        )
        out: list[bytes] = []
        k = self.samples_per_packet
        for s in range(0, clock.shape[0], k):
            a = acc[s : s + k]
            g = None if gyr is None else gyr[s : s + k]
            flags = Flags(0)
            if self._restart_pending:
                flags |= Flags.RESTART
                self._restart_pending = False
            if (acc_clip and (np.any(a == 32767) or np.any(a == -32768))) or (
                g is not None and gyr_clip and (np.any(g == 32767) or np.any(g == -32768))
            ):
                flags |= Flags.CLIPPED
            out.append(
                encode_packet(
                    self.seq,
                    int(clock[s]),
                    self.period_us,
                    a,
                    g,
                    self.accel_range_g,
                    self.gyro_range_dps,
                    flags,
                )
            )
            self.seq = (self.seq + 1) % SEQ_MODULO
        return out
