"""Sources the service needs itself: a recording replayed as if live."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

from tracker.protocol import StreamStats
from tracker.service.seams import SourceChunk

CHUNK_SAMPLES = 10  # what one BLE notification carries at 100 Hz: replay feeds the same sizes


async def pace(wall_t0: float, t_s: float, speed: float) -> None:
    """Sleep until session time ``t_s`` is due at ``speed`` x real time (0: just yield)."""
    if speed > 0:
        delay = wall_t0 + t_s / speed - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
            return
    await asyncio.sleep(0)


class ReplaySource:
    """A recording (native or CSV) played back in 10-sample chunks at ``speed`` x real time
    (``speed`` 0 means as fast as possible)."""

    def __init__(self, path: str | Path, speed: float = 1.0, sensor_id: str | None = None) -> None:
        from tracker.io.load import load_session

        self.session = load_session(path)
        self.path = Path(path)
        device = self.session.meta.device_id
        self.sensor_id = sensor_id or (device if device and device != "unknown" else self.path.stem)
        self.name = self.session.meta.device_name or self.sensor_id
        leg = self.session.meta.sensor_leg
        self.sensor_leg = leg if leg in ("left", "right") else None
        self.speed = speed
        self.wall_t0: float | None = None
        self.stats = StreamStats()
        self.duration_s = self.session.samples.duration_s

    async def chunks(self) -> AsyncIterator[SourceChunk]:
        samples = self.session.samples
        notices = sorted(self.session.notices, key=lambda n: n.t_s)
        self.wall_t0 = time.time()
        for block in samples.chunks(CHUNK_SAMPLES):
            t_end = float(block.t_s[-1])
            await pace(self.wall_t0, t_end, self.speed)
            due = [n for n in notices if n.t_s <= t_end]
            notices = notices[len(due) :]
            self.stats.samples += len(block)
            self.stats.packets += 1
            yield SourceChunk(block, notices=due)


class PacketReplaySource:
    """A native recording's raw packets, re-sent as they were received, at ``speed`` x real time.

    For a gateway (which forwards packets, not samples) and for tests of the worker pool. The
    packets are decoded only to pace them and to keep the stream's statistics.
    """

    def __init__(self, path: str | Path, speed: float = 1.0, sensor_id: str | None = None) -> None:
        from tracker.errors import InputFileError
        from tracker.io.native import PacketsRecord, RecordingReader

        reader = RecordingReader.open(path)
        self.packets = [p for r in reader.records if isinstance(r, PacketsRecord) for p in r.packets]
        if not self.packets:
            raise InputFileError(
                path, "holds no raw packets (a gateway forwards packets; record with reptrack record)"
            )
        meta = reader.meta
        device = meta.device_id if meta is not None else ""
        self.path = Path(path)
        self.sensor_id = sensor_id or (device if device and device != "unknown" else self.path.stem)
        self.name = self.sensor_id
        self.speed = speed
        self.wall_t0: float | None = None
        self.stats = StreamStats()

    async def chunks(self) -> AsyncIterator[SourceChunk]:
        from tracker.protocol import StreamDecoder

        decoder = StreamDecoder()
        self.stats = decoder.stats
        self.wall_t0 = time.time()
        for packet in self.packets:
            samples, notices = decoder.feed([packet])
            if len(samples):
                await pace(self.wall_t0, float(samples.t_s[-1]), self.speed)
            yield SourceChunk(samples, (packet,), [time.time()], notices)
