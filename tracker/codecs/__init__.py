"""The vendor sensors' byte codecs, pure (no radio, no files), and which decoder reads a stream.

``polar_pmd`` (Polar PMD), ``metawear`` (MbientLab MetaWear) and their shared two-channel clock
(``paired_stream``) sit in the core beside ``tracker.protocol`` (RepTrack's own), so the BLE
profiles (tracker.ble) and the recording reader (tracker.io.native) both use them and neither
depends on the other. ``decoder_for_codec`` picks the decoder a recording names (RecordingMeta.codec,
docs/sensors.md).

A codec spec is the codec's name and the parameters its data do not carry, e.g.
``polar-pmd rate_hz=104 acc_factor=0.244140625 gyro_factor=0.06103515625 gyro=1``. The empty spec
and ``reptrack`` are RepTrack's own wire protocol (docs/protocol.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tracker.errors import UserError
from tracker.protocol import StreamDecoder, StreamNotice, StreamStats
from tracker.samples import Samples

REPTRACK_CODEC = "reptrack"
CODEC_NAMES = (REPTRACK_CODEC, "polar-pmd", "metawear")


class PacketDecoder(Protocol):
    """Notifications of one sensor, in arrival order -> samples on the session clock and notices."""

    stats: StreamStats

    def feed(
        self, packets: Sequence[bytes], host_times_s: Sequence[float] | None = None
    ) -> tuple[Samples, list[StreamNotice]]: ...


def decoder_for_codec(spec: str | None) -> PacketDecoder:
    """A fresh decoder for ``spec``; UserError naming the spec when it is unknown or malformed."""
    from tracker.codecs.paired_stream import parse_codec_spec

    if not spec or not spec.strip():
        return StreamDecoder()
    try:
        name, params = parse_codec_spec(spec)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if name == REPTRACK_CODEC:
        return StreamDecoder()
    try:
        if name == "polar-pmd":
            from tracker.codecs.polar_pmd import PmdDecoder

            return PmdDecoder.from_params(params)
        if name == "metawear":
            from tracker.codecs.metawear import MetaWearDecoder

            return MetaWearDecoder.from_params(params)
    except (KeyError, ValueError) as exc:
        raise UserError(f"codec {spec!r}: unsupported parameter value ({exc})") from None
    raise UserError(f"unknown codec {name!r} in {spec!r}; expected one of {', '.join(CODEC_NAMES)}")
