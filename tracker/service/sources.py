"""Sources the service needs itself: a recording replayed as if live."""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.protocol import StreamNotice, StreamStats
from tracker.service.seams import SourceChunk

if TYPE_CHECKING:
    from tracker.io.stream import SessionStream
    from tracker.samples import Samples

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
    (``speed`` 0 means as fast as possible).

    The file is read in bounded blocks as it plays (tracker/io/stream.py), so memory stays flat
    in the recording's length: its metadata is read when the source is made, its samples (and a
    native file's notices: gaps, restarts) as they are due. A damaged row deep in a long CSV is
    therefore reported when the replay reaches it, with the same one-line error as before.
    """

    def __init__(
        self, path: str | Path, speed: float = 1.0, sensor_id: str | None = None, *, block_samples: int = 0
    ) -> None:
        from tracker.io.stream import BLOCK_SAMPLES, open_stream

        self.stream = open_stream(path, block_samples=block_samples or BLOCK_SAMPLES)
        self.path = Path(path)
        meta = self.stream.meta
        device = meta.device_id
        self.sensor_id = sensor_id or (device if device and device != "unknown" else self.path.stem)
        self.name = meta.device_name or self.sensor_id
        leg = meta.sensor_leg
        self.sensor_leg = leg if leg in ("left", "right") else None
        self.speed = speed
        self.wall_t0: float | None = None
        self.stats = StreamStats()

    @property
    def duration_s(self) -> float:
        """The session time read so far (the recording's duration once it has played)."""
        return self.stream.duration_s

    async def chunks(self) -> AsyncIterator[SourceChunk]:
        from tracker.samples import rechunk

        pending: list[StreamNotice] = []  # read, not yet due
        self.wall_t0 = time.time()
        for chunk in rechunk(self._blocks_noting(pending), CHUNK_SAMPLES):
            t_end = float(chunk.t_s[-1])
            await pace(self.wall_t0, t_end, self.speed)
            n_due = bisect.bisect_right([n.t_s for n in pending], t_end) if pending else 0
            due = pending[:n_due]
            del pending[:n_due]
            self.stats.samples += len(chunk)
            self.stats.packets += 1
            yield SourceChunk(chunk, notices=due)

    def _blocks_noting(self, pending: list[StreamNotice]) -> Iterator[Samples]:
        """The blocks of :func:`_blocks`; the notices read with each go into ``pending`` (in time
        order) before its samples are played."""
        for block, found in _blocks(self.stream):
            if found:
                pending[:] = sorted([*pending, *found], key=lambda n: n.t_s)
            yield block


def _blocks(stream: SessionStream) -> Iterator[tuple[Samples, list[StreamNotice]]]:
    """The stream's blocks, each with the notices read with it. When the stream hands over to the
    whole-file reader after some blocks were played (:class:`tracker.io.stream.RestartWithSession`:
    something only that reader handles), the rest of the whole-file session: its samples after
    those played, its notices after the last sample played."""
    from tracker.io.stream import RestartWithSession

    seen = 0
    last_t = -math.inf
    try:
        for block in stream.blocks():
            found, seen = stream.notices[seen:], len(stream.notices)
            last_t = float(block.t_s[-1])
            yield block, found
    except RestartWithSession as restart:
        session = restart.session
        played = stream.samples_read
        stream.duration_s = session.samples.duration_s
        found = [n for n in session.notices if n.t_s > last_t]
        yield session.samples.slice(played, len(session.samples)), found


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
