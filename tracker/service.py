"""The live service: source -> calibration -> pipeline -> MQTT, for one or many sensors (asyncio).

A *source* yields chunks of decoded samples (with the raw packets when there are any, stream
notices and battery readings): a BLE sensor, the simulated sensor, or a recording replayed at a
given speed. :func:`run_sensor` drives one source through the pipeline into its publisher;
:func:`run_service` runs several at once and stops them all cleanly on request (Ctrl-C): the
pipeline is finished (the last set is closed), queued events are delivered, ``offline`` is
published and recordings are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tracker.events import Event, RepEvent, SetEvent
from tracker.mqtt.publisher import SensorPublisher
from tracker.protocol import StreamNotice, StreamStats
from tracker.samples import Samples

log = logging.getLogger(__name__)

CHUNK_SAMPLES = 10  # what one BLE notification carries at 100 Hz: replay feeds the same sizes
TELEMETRY_INTERVAL_S = 1.0


@dataclass
class SourceChunk:
    """What a source delivers at a time."""

    samples: Samples
    packets: Sequence[bytes] = ()  # the raw packets the samples came from (kept by --record)
    host_times_s: Sequence[float] | None = None
    notices: Sequence[StreamNotice] = ()
    battery_pct: float | None = None


class Source(Protocol):
    """A stream of one sensor's samples. ``sensor_id`` names it in topics; ``wall_t0`` is the
    host's Unix time of session time 0 (set once streaming starts; used to measure latency)."""

    sensor_id: str
    name: str
    wall_t0: float | None
    stats: StreamStats

    def chunks(self) -> AsyncIterator[SourceChunk]: ...


async def _pace(wall_t0: float, t_s: float, speed: float) -> None:
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
            await _pace(self.wall_t0, t_end, self.speed)
            due = [n for n in notices if n.t_s <= t_end]
            notices = notices[len(due) :]
            self.stats.samples += len(block)
            self.stats.packets += 1
            yield SourceChunk(block, notices=due)


@dataclass
class SensorResult:
    """What one sensor did during the run."""

    sensor_id: str
    events: list[Event] = field(default_factory=list)
    duration_s: float = 0.0
    undelivered: int = 0
    dropped: int = 0
    stats: StreamStats | None = None
    replaced_samples: str | None = None  # the pipeline's note on corrupt samples it replaced, if any

    @property
    def reps(self) -> list[RepEvent]:
        return [e for e in self.events if isinstance(e, RepEvent)]

    @property
    def sets(self) -> list[SetEvent]:
        return [e for e in self.events if isinstance(e, SetEvent)]


async def run_sensor(
    source: Source,
    publisher: SensorPublisher | None,
    pipeline: Any,
    *,
    stop: asyncio.Event | None = None,
    recorder: Any = None,
    on_event: Callable[[str, Event], None] | None = None,
    telemetry_interval_s: float = TELEMETRY_INTERVAL_S,
) -> SensorResult:
    """Feed one source through ``pipeline`` into ``publisher`` until the source ends or ``stop``.

    The pipeline is finished at the end (so the last set is reported), then the publisher is
    closed: queued events are delivered and ``offline`` published. ``recorder`` (a
    :class:`tracker.io.native.RecordingWriter`) gets the raw packets (or samples) and notices.
    """
    result = SensorResult(source.sensor_id, stats=source.stats)
    last_telemetry = 0.0
    last_t = 0.0
    battery: float | None = None

    def emit(events: Sequence[Event]) -> None:
        for ev in events:
            result.events.append(ev)
            if publisher is not None:
                publisher.publish(ev)
            if on_event is not None:
                on_event(source.sensor_id, ev)

    def state() -> Any:
        return getattr(pipeline, "state", None)

    iterator = source.chunks().__aiter__()
    try:
        if publisher is not None:
            publisher.publish_state(state())
        while stop is None or not stop.is_set():
            chunk = await _next_or_stop(iterator, stop)
            if chunk is None:
                break
            if recorder is not None:
                _record(recorder, chunk)
            for notice in chunk.notices:
                log.info("%s: %s at %.2f s %s", source.sensor_id, notice.kind, notice.t_s, notice.detail)
            if chunk.battery_pct is not None:
                battery = chunk.battery_pct
            if len(chunk.samples):
                last_t = float(chunk.samples.t_s[-1])
                emit(pipeline.feed(chunk.samples))
            if publisher is not None:
                publisher.publish_state(state())
                now = time.monotonic()
                if now - last_telemetry >= telemetry_interval_s:
                    last_telemetry = now
                    _telemetry(publisher, source, last_t, battery)
        emit(pipeline.finish())
    finally:
        result.duration_s = last_t
        sanitizer = getattr(pipeline, "sanitizer", None)
        result.replaced_samples = None if sanitizer is None else sanitizer.summary()
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:  # stop the source (disconnect the sensor) before anything else
            with contextlib.suppress(Exception):
                await aclose()
        if publisher is not None:
            with contextlib.suppress(Exception):
                publisher.publish_state(state())
                _telemetry(publisher, source, last_t, battery, link="ended")
            result.undelivered = await asyncio.to_thread(publisher.close)
            result.dropped = int(getattr(publisher, "dropped_events", 0))
        if recorder is not None:
            with contextlib.suppress(Exception):
                recorder.write_note(
                    "end", t_s=last_t, reason="stopped" if stop and stop.is_set() else "finished"
                )
            recorder.close()
    return result


async def _next_or_stop(
    iterator: AsyncIterator[SourceChunk], stop: asyncio.Event | None
) -> SourceChunk | None:
    if stop is None:
        try:
            return await iterator.__anext__()
        except StopAsyncIteration:
            return None
    next_task = asyncio.ensure_future(iterator.__anext__())
    stop_task = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({next_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    if next_task not in done:
        next_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await next_task
        return None
    stop_task.cancel()
    try:
        return next_task.result()
    except StopAsyncIteration:
        return None


def _telemetry(
    publisher: SensorPublisher, source: Source, t_s: float, battery: float | None, link: str = "streaming"
) -> None:
    st = source.stats
    publisher.publish_telemetry(
        t_s=t_s,
        battery_pct=battery,
        packet_loss=st.loss_ratio,
        lost_packets=st.lost_packets,
        packets=st.packets,
        rate_hz=st.samples / t_s if t_s > 0 else 0.0,
        link=link,
    )


def _record(recorder: Any, chunk: SourceChunk) -> None:
    if chunk.packets:
        recorder.write_packets(
            list(chunk.packets), None if chunk.host_times_s is None else list(chunk.host_times_s)
        )
    elif len(chunk.samples):
        recorder.write_samples(chunk.samples)
    for n in chunk.notices:
        recorder.write_note(n.kind, t_s=n.t_s, packets=n.packets, samples=n.samples, detail=n.detail)


async def run_service(
    runs: Sequence[tuple[Source, SensorPublisher | None, Any, Any]],
    *,
    stop: asyncio.Event | None = None,
    on_event: Callable[[str, Event], None] | None = None,
) -> list[SensorResult]:
    """Run several (source, publisher, pipeline, recorder) at once until all end or ``stop``."""
    stop = stop or asyncio.Event()
    tasks = [
        asyncio.create_task(run_sensor(src, pub, pipe, stop=stop, recorder=rec, on_event=on_event))
        for src, pub, pipe, rec in runs
    ]
    return list(await asyncio.gather(*tasks))
