"""Polar Measurement Data (PMD): the BLE streaming protocol of Polar Verity Sense and OH1.

Codec only (no radio): the simulated Polar sensor encodes with it, the client and the recording
reader decode with it. Every byte follows the public Polar BLE SDK (polarofficial/polar-ble-sdk):
technical_documentation/Polar_Measurement_Data_Specification.pdf and the Android parsers under
sources/Android/android-communications/.../gatt/client/pmd/ (PmdControlPointCommand.kt,
PmdControlPointResponse.kt, PmdSetting.kt, PmdFeature.kt, PmdDataFrame.kt, model/AccData.kt,
model/GyrData.kt, BlePMDClient.kt ``parseDeltaFrame``, model/PmdTimeStampUtils.kt).

Control point (write, indications): ``[op, measurement type, settings...]``; the answer is
``[0xF0, op, type, status, more, parameters...]``; reading it gives ``[0x0F, feature bits...]``.
Settings are ``[setting type, count, values...]`` (u16 sample rate / resolution / range, u32
range in milli-units, u8 channels, float32 factor). Data frames (notifications):
``[measurement type, u64 timestamp ns since 2000-01-01 of the frame's last sample, frame type,
content]``; bit 7 of the frame type marks a delta-compressed frame.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from tracker.codecs.paired_stream import ChannelBlock, PairedStreamDecoder, format_codec_spec
from tracker.protocol import ProtocolError

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

RESPONSE_CODE = 0xF0  # first byte of a control point answer (PmdControlPointResponse.kt)
FEATURES_CODE = 0x0F  # first byte of the control point's read value (the feature bits)
COMPRESSED = 0x80  # frame type bit 7: delta frame (PmdDataFrame.kt DELTA_FRAME_BIT_MASK)
FRAME_HEADER_SIZE = 10  # type u8, timestamp u64, frame type u8
POLAR_EPOCH_UNIX_S = 946684800  # 2000-01-01T00:00:00Z, the PMD timestamp's zero


class PmdOp(IntEnum):
    """Control point commands (PmdControlPointCommandClientToService)."""

    GET_MEASUREMENT_SETTINGS = 0x01
    REQUEST_MEASUREMENT_START = 0x02
    STOP_MEASUREMENT = 0x03


class PmdType(IntEnum):
    """Measurement types (PmdMeasurementType.kt); the feature bit of each is ``1 << value``."""

    ACC = 0x02
    GYRO = 0x05


class PmdSetting(IntEnum):
    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5


SETTING_SIZES = {
    PmdSetting.SAMPLE_RATE: 2,
    PmdSetting.RESOLUTION: 2,
    PmdSetting.RANGE: 2,
    PmdSetting.RANGE_MILLIUNIT: 4,
    PmdSetting.CHANNELS: 1,
    PmdSetting.FACTOR: 4,
}


class PmdStatus(IntEnum):
    """Control point result codes (PmdControlPointResponseCode)."""

    SUCCESS = 0
    ERROR_INVALID_OP_CODE = 1
    ERROR_INVALID_MEASUREMENT_TYPE = 2
    ERROR_NOT_SUPPORTED = 3
    ERROR_INVALID_LENGTH = 4
    ERROR_INVALID_PARAMETER = 5
    ERROR_ALREADY_IN_STATE = 6
    ERROR_INVALID_RESOLUTION = 7
    ERROR_INVALID_SAMPLE_RATE = 8
    ERROR_INVALID_RANGE = 9
    ERROR_INVALID_MTU = 10
    ERROR_INVALID_NUMBER_OF_CHANNELS = 11
    ERROR_INVALID_STATE = 12
    ERROR_DEVICE_IN_CHARGER = 13


Settings = dict[PmdSetting, list[float]]


# -- settings and the control point ----------------------------------------------------------------


def encode_settings(settings: Settings) -> bytes:
    out = bytearray()
    for kind, values in settings.items():
        out += bytes([kind, len(values)])
        for v in values:
            if kind == PmdSetting.FACTOR:
                out += struct.pack("<f", v)
            else:
                out += int(v).to_bytes(SETTING_SIZES[kind], "little", signed=False)
    return bytes(out)


def decode_settings(data: bytes) -> Settings:
    """``[type, count, values...]...``; ProtocolError naming the byte when it does not add up."""
    out: Settings = {}
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ProtocolError(f"setting at byte {pos} has no count", pos)
        try:
            kind = PmdSetting(data[pos])
        except ValueError:
            raise ProtocolError(f"unknown setting type 0x{data[pos]:02x} at byte {pos}", pos) from None
        count = data[pos + 1]
        size = SETTING_SIZES[kind]
        pos += 2
        if pos + count * size > len(data):
            raise ProtocolError(f"{kind.name} needs {count * size} bytes at byte {pos}", pos)
        values: list[float] = []
        for _ in range(count):
            chunk = data[pos : pos + size]
            values.append(
                struct.unpack("<f", chunk)[0]
                if kind == PmdSetting.FACTOR
                else int.from_bytes(chunk, "little")
            )
            pos += size
        out[kind] = values
    return out


def encode_command(op: PmdOp, measurement: PmdType, settings: Settings | None = None) -> bytes:
    return bytes([op, measurement]) + (encode_settings(settings) if settings else b"")


@dataclass(frozen=True)
class PmdResponse:
    op: int
    measurement: int
    status: int
    more: bool
    parameters: bytes


def encode_response(
    op: int, measurement: int, status: int, parameters: bytes = b"", more: bool = False
) -> bytes:
    return bytes([RESPONSE_CODE, op, measurement, status, int(more)]) + parameters


def decode_response(data: bytes) -> PmdResponse:
    if len(data) < 4:
        raise ProtocolError(f"control point answer is {len(data)} bytes, expected at least 4", len(data))
    if data[0] != RESPONSE_CODE:
        raise ProtocolError(f"control point answer starts 0x{data[0]:02x}, expected 0xf0", 0)
    ok = data[3] == PmdStatus.SUCCESS
    return PmdResponse(
        data[1], data[2], data[3], ok and len(data) > 4 and data[4] != 0, data[5:] if ok else b""
    )


def encode_features(types: set[PmdType]) -> bytes:
    bits = sum(1 << int(t) for t in types)
    return bytes([FEATURES_CODE, bits & 0xFF, (bits >> 8) & 0xFF])


def decode_features(data: bytes) -> set[PmdType]:
    if len(data) < 2 or data[0] != FEATURES_CODE:
        raise ProtocolError(f"PMD feature read {data.hex()} does not start with 0x0f", 0)
    bits = int.from_bytes(data[1:], "little")
    return {t for t in PmdType if bits & (1 << int(t))}


# -- delta frames ------------------------------------------------------------------------------------


def _bits_needed(deltas: npt.NDArray[np.int64]) -> int:
    """Smallest two's-complement width that holds every delta (at least 2 bits)."""
    lo, hi = int(deltas.min(initial=0)), int(deltas.max(initial=0))
    width = 2
    while not (-(1 << (width - 1)) <= lo and hi <= (1 << (width - 1)) - 1):
        width += 1
    return width


def delta_encode(samples: npt.ArrayLike, resolution_bits: int = 16, block: int = 255) -> bytes:
    """A reference sample, then blocks of ``[bit width u8, count u8, packed deltas]``."""
    values = np.asarray(samples, dtype=np.int64)
    n, channels = values.shape
    ref_bytes = resolution_bits // 8
    out = bytearray()
    for c in range(channels):
        out += int(values[0, c]).to_bytes(ref_bytes, "little", signed=True)
    deltas = np.diff(values, axis=0)
    for start in range(0, n - 1, block):
        part = deltas[start : start + block]
        width = _bits_needed(part)
        flat = part.reshape(-1) & ((1 << width) - 1)
        bits = ((flat[:, None] >> np.arange(width)) & 1).astype(np.uint8).reshape(-1)
        out += bytes([width, part.shape[0]]) + np.packbits(bits, bitorder="little").tobytes()
    return bytes(out)


def delta_decode(content: bytes, channels: int, resolution_bits: int) -> npt.NDArray[np.int64]:
    """The samples of a delta frame's content (reference first); ProtocolError when cut short."""
    ref_bytes = resolution_bits // 8
    if len(content) < channels * ref_bytes:
        raise ProtocolError(
            f"delta frame of {len(content)} bytes is shorter than its reference sample "
            f"({channels * ref_bytes} bytes)",
            len(content),
        )
    ref = [
        int.from_bytes(content[c * ref_bytes : (c + 1) * ref_bytes], "little", signed=True)
        for c in range(channels)
    ]
    rows = [np.asarray([ref], dtype=np.int64)]
    pos = channels * ref_bytes
    last = rows[0][0]
    while pos < len(content):
        if pos + 2 > len(content):
            raise ProtocolError(f"delta block header cut at byte {pos}", pos)
        width, count = content[pos], content[pos + 1]
        if width == 0 or width > 32:
            raise ProtocolError(f"delta width {width} bits at byte {pos}, expected 1..32", pos)
        nbytes = (width * count * channels + 7) // 8
        if pos + 2 + nbytes > len(content):
            raise ProtocolError(
                f"delta block at byte {pos} needs {nbytes} bytes, {len(content) - pos - 2} left", pos
            )
        raw = np.frombuffer(content, dtype=np.uint8, count=nbytes, offset=pos + 2)
        bits = np.unpackbits(raw, bitorder="little")[: width * count * channels].reshape(-1, width)
        unsigned = bits.astype(np.int64) @ (np.int64(1) << np.arange(width, dtype=np.int64))
        signed = np.where(unsigned >= (1 << (width - 1)), unsigned - (1 << width), unsigned)
        absolute = last + np.cumsum(signed.reshape(count, channels), axis=0)
        if count:
            rows.append(absolute)
            last = absolute[-1]
        pos += 2 + nbytes
    return np.concatenate(rows)


# -- data frames --------------------------------------------------------------------------------------


def encode_frame(measurement: PmdType, timestamp_ns: int, frame_type: int, content: bytes) -> bytes:
    return struct.pack("<BQB", measurement, timestamp_ns, frame_type) + content


@dataclass(frozen=True)
class PmdFrame:
    measurement: int
    timestamp_ns: int
    frame_type: int  # without the compression bit
    compressed: bool
    content: bytes


def decode_frame(data: bytes) -> PmdFrame:
    if len(data) < FRAME_HEADER_SIZE:
        raise ProtocolError(
            f"PMD frame of {len(data)} bytes, the header alone is {FRAME_HEADER_SIZE}", len(data)
        )
    measurement, ts, ftype = struct.unpack_from("<BQB", data)
    return PmdFrame(measurement & 0x3F, ts, ftype & 0x7F, bool(ftype & COMPRESSED), bytes(data[10:]))


def frame_values(frame: PmdFrame, acc_factor: float, gyro_factor: float) -> npt.NDArray[np.float64]:
    """A frame's samples in g (ACC) or deg/s (GYRO), per AccData.kt and GyrData.kt."""
    if frame.measurement == PmdType.ACC:
        if not frame.compressed:
            size = {0: 1, 1: 2, 2: 3}.get(frame.frame_type)
            if size is None:
                raise ProtocolError(f"ACC raw frame type {frame.frame_type} is not 0, 1 or 2", 9)
            if not frame.content or len(frame.content) % (3 * size):
                raise ProtocolError(f"ACC raw frame of {len(frame.content)} bytes is not whole samples", 10)
            ints = _ints_le(frame.content, size).reshape(-1, 3)
            return np.asarray(ints / 1000.0, dtype=np.float64)  # raw frames are in milli-g
        if frame.frame_type == 0:  # values x factor are g (AccData.kt dataFromCompressedType0)
            return np.asarray(delta_decode(frame.content, 3, 16) * float(acc_factor), dtype=np.float64)
        if frame.frame_type == 1:  # values x factor are milli-g
            return np.asarray(
                delta_decode(frame.content, 3, 16) * float(acc_factor) / 1000.0, dtype=np.float64
            )
        raise ProtocolError(f"ACC delta frame type {frame.frame_type} is not 0 or 1", 9)
    if frame.measurement == PmdType.GYRO:
        if frame.compressed and frame.frame_type == 0:  # values x factor are deg/s
            return np.asarray(delta_decode(frame.content, 3, 16) * float(gyro_factor), dtype=np.float64)
        raise ProtocolError(
            f"GYRO frame type 0x{frame.frame_type | (COMPRESSED if frame.compressed else 0):02x} "
            "is not supported (expected 0x80)",
            9,
        )
    raise ProtocolError(f"measurement type 0x{frame.measurement:02x} is neither ACC (2) nor GYRO (5)", 0)


def _ints_le(data: bytes, size: int) -> npt.NDArray[np.int64]:
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, size).astype(np.int64)
    value = raw @ (np.int64(1) << (8 * np.arange(size, dtype=np.int64)))
    return np.where(value >= (1 << (8 * size - 1)), value - (1 << (8 * size)), value)


class PmdDecoder(PairedStreamDecoder):
    """PMD data frames (ACC and GYRO notifications) -> samples on the session clock.

    The factors are the ones the sensor returned in its start answers; ``rate_hz`` the sample
    rate it was started with. The frame timestamp (ns, the last sample's) is the sensor time.
    """

    codec_name = "polar-pmd"

    def __init__(
        self, rate_hz: float, acc_factor: float = 1.0, gyro_factor: float = 1.0, has_gyro: bool = True
    ):
        super().__init__(rate_hz, has_gyro)
        self.acc_factor = acc_factor
        self.gyro_factor = gyro_factor

    def parse(self, notification: bytes) -> list[ChannelBlock]:
        frame = decode_frame(notification)
        values = frame_values(frame, self.acc_factor, self.gyro_factor)
        channel = "acc" if frame.measurement == PmdType.ACC else "gyro"
        return [ChannelBlock(channel, values, frame.timestamp_ns / 1e9)]

    def codec_spec(self) -> str:
        return format_codec_spec(
            self.codec_name,
            {
                "rate_hz": self.rate_hz,
                "acc_factor": self.acc_factor,
                "gyro_factor": self.gyro_factor,
                "gyro": float(self.has_gyro),
            },
        )

    @classmethod
    def from_params(cls, params: dict[str, float]) -> PmdDecoder:
        return cls(
            params.get("rate_hz", 52.0),
            params.get("acc_factor", 1.0),
            params.get("gyro_factor", 1.0),
            bool(params.get("gyro", 1.0)),
        )
