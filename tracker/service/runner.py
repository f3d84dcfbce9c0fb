"""Driving sources through pipelines into sinks (asyncio), for one or many sensors.

:func:`run_sensor` drives one source through its pipeline into its sink; :func:`run_service`
runs several at once and stops them all cleanly on request (Ctrl-C): the pipeline is finished
(the last set is closed), queued events are delivered, ``offline`` is published and recordings
are closed.

Per chunk the service does as little as it can, so one process keeps up with hundreds of
sensors: the sink is asked to publish the state when events came (the fields it publishes change
with them) and, as a backstop, when the pipeline's state dict changed at the once-a-second
telemetry; a stop request is watched by one task per sensor, not raced against every chunk.

A pipeline's feed costs mostly the same for 10 samples as for 100, so a loaded process must feed
what waited for it together. Sources that queue what arrives (the BLE link, a worker's packets)
hand all of it over in one chunk themselves. For sources that yield one chunk at a time, when the
process falls behind a real-time one (its chunks arrive more than ``BEHIND_S`` late), the chunks
already waiting are fed together (up to ``MAX_COALESCED_SAMPLES``). Either way a process that keeps
up feeds each packet as it comes, and one that is late catches up instead of falling further
behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker.events import Event, RepEvent, SetEvent
from tracker.protocol import StreamStats
from tracker.samples import Samples
from tracker.service.seams import EventPipeline, Recorder, Sink, Source, SourceChunk, Telemetry

log = logging.getLogger(__name__)

TELEMETRY_INTERVAL_S = 1.0
BEHIND_S = 0.15  # a real-time source's chunk this late means the next one is already waiting ...
MAX_COALESCED_SAMPLES = 100  # ... so up to this many samples are fed to the pipeline at once


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


class _SensorRun:
    """One sensor's loop: chunks in, events to the sink, state and telemetry when due."""

    def __init__(
        self,
        source: Source,
        sink: Sink | None,
        pipeline: EventPipeline,
        recorder: Recorder | None,
        on_event: Callable[[str, Event], None] | None,
        telemetry_interval_s: float,
    ) -> None:
        self.source = source
        self.sink = sink
        self.pipeline = pipeline
        self.recorder = recorder
        self.on_event = on_event
        self.telemetry_interval_s = telemetry_interval_s
        self.result = SensorResult(source.sensor_id, stats=source.stats)
        self.last_t = 0.0
        self.battery: float | None = None
        self._last_state: Mapping[str, Any] | None = None
        self._last_telemetry = 0.0
        self.pending: list[SourceChunk] = []
        self._pending_samples = 0
        self._real_time = float(getattr(source, "speed", 1.0)) == 1.0  # replays at other speeds: never

    def emit(self, events: Sequence[Event]) -> None:
        for ev in events:
            self.result.events.append(ev)
            if self.sink is not None:
                self.sink.publish(ev)
            if self.on_event is not None:
                self.on_event(self.source.sensor_id, ev)

    def publish_state(self, force: bool = False) -> None:
        """The retained state, when the pipeline's state or the events changed it."""
        if self.sink is None:
            return
        state = self.pipeline.state
        if force or state != self._last_state:
            self._last_state = state
            self.sink.publish_state(state)

    def handle(self, chunks: Sequence[SourceChunk]) -> None:
        """Record and log each chunk, feed their samples to the pipeline at once, publish."""
        battery_changed = False
        for chunk in chunks:
            if self.recorder is not None:
                record_chunk(self.recorder, chunk)
            for notice in chunk.notices:
                log.info("%s: %s at %.2f s %s", self.source.sensor_id, notice.kind, notice.t_s, notice.detail)
            if chunk.battery_pct is not None and chunk.battery_pct != self.battery:
                self.battery = chunk.battery_pct
                battery_changed = True
        parts = [c.samples for c in chunks if len(c.samples)]
        events: list[Event] = []
        if parts:
            samples = parts[0] if len(parts) == 1 else Samples.concat(parts)
            self.last_t = float(samples.t_s[-1])
            events = self.pipeline.feed(samples)
            self.emit(events)
        if self.sink is None:
            return
        if events or battery_changed:
            self.publish_state(force=True)
        now = time.monotonic()
        if now - self._last_telemetry >= self.telemetry_interval_s:
            self._last_telemetry = now
            self.publish_state()  # (the published fields change with events; this is a backstop)
            send_telemetry(self.sink, self.source, self.last_t, self.battery)

    def _behind(self, chunk: SourceChunk, waiting: int) -> bool:
        """Is a real-time source's chunk late enough that the next one is surely waiting?"""
        wall_t0 = self.source.wall_t0
        if wall_t0 is None or not self._real_time or not len(chunk.samples):
            return False
        late_s = time.time() - (wall_t0 + float(chunk.samples.t_s[-1]))
        return late_s > BEHIND_S and waiting < MAX_COALESCED_SAMPLES

    async def consume(self, iterator: AsyncIterator[SourceChunk]) -> None:
        async for chunk in iterator:
            self.pending.append(chunk)
            self._pending_samples += len(chunk.samples)
            if not self._behind(chunk, self._pending_samples):
                self.flush()

    def flush(self) -> None:
        """Handle the chunks taken from the source and not yet fed (also when stopped)."""
        if self.pending:
            chunks, self.pending, self._pending_samples = self.pending, [], 0
            self.handle(chunks)

    async def close(self, iterator: AsyncIterator[SourceChunk], stopped: bool) -> None:
        """Stop the source (disconnect the sensor) first, then flush the sink and the recorder."""
        self.result.duration_s = self.last_t
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
        if self.sink is not None:
            with contextlib.suppress(Exception):
                self.publish_state(force=True)
                send_telemetry(self.sink, self.source, self.last_t, self.battery, link="ended")
            self.result.undelivered = await asyncio.to_thread(self.sink.close)
            self.result.dropped = int(getattr(self.sink, "dropped_events", 0))
        if self.recorder is not None:
            with contextlib.suppress(Exception):
                self.recorder.write_note("end", t_s=self.last_t, reason="stopped" if stopped else "finished")
            self.recorder.close()


async def run_sensor(
    source: Source,
    sink: Sink | None,
    pipeline: EventPipeline,
    *,
    stop: asyncio.Event | None = None,
    recorder: Recorder | None = None,
    on_event: Callable[[str, Event], None] | None = None,
    telemetry_interval_s: float = TELEMETRY_INTERVAL_S,
) -> SensorResult:
    """Feed one source through ``pipeline`` into ``sink`` until the source ends or ``stop``.

    The pipeline is finished at the end (so the last set is reported), then the sink is closed:
    queued events are delivered and ``offline`` published. ``recorder`` gets the raw packets (or
    samples) and notices.
    """
    run = _SensorRun(source, sink, pipeline, recorder, on_event, telemetry_interval_s)
    iterator = source.chunks().__aiter__()
    stopped = False
    try:
        run.publish_state(force=True)
        if stop is None:
            await run.consume(iterator)
        else:
            stopped = await _until_stopped(run.consume(iterator), stop)
        run.flush()
        run.emit(pipeline.finish())
    finally:
        run.result.replaced_samples = pipeline.replaced_samples()
        await run.close(iterator, stopped or (stop is not None and stop.is_set()))
    return run.result


async def _until_stopped(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Run ``work`` until it ends or ``stop`` is set (then cancel it); True if stopped."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if task.done():
        task.result()  # raise what the loop raised
        return False
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
        await task
    return True


def send_telemetry(
    sink: Sink, source: Source, t_s: float, battery: float | None, link: str = "streaming"
) -> None:
    st = source.stats
    rate_hz = st.samples / t_s if t_s > 0 else 0.0
    sink.publish_telemetry(Telemetry(t_s, battery, st.loss_ratio, st.lost_packets, st.packets, rate_hz, link))


def record_chunk(recorder: Recorder, chunk: SourceChunk) -> None:
    if chunk.packets:
        recorder.write_packets(
            list(chunk.packets), None if chunk.host_times_s is None else list(chunk.host_times_s)
        )
    elif len(chunk.samples):
        recorder.write_samples(chunk.samples)
    for n in chunk.notices:
        recorder.write_note(n.kind, t_s=n.t_s, packets=n.packets, samples=n.samples, detail=n.detail)


async def run_service(
    runs: Sequence[tuple[Source, Sink | None, EventPipeline, Recorder | None]],
    *,
    stop: asyncio.Event | None = None,
    on_event: Callable[[str, Event], None] | None = None,
) -> list[SensorResult]:
    """Run several (source, sink, pipeline, recorder) at once until all end or ``stop``."""
    stop = stop or asyncio.Event()
    tasks = [
        asyncio.create_task(run_sensor(src, sink, pipe, stop=stop, recorder=rec, on_event=on_event))
        for src, sink, pipe, rec in runs
    ]
    return list(await asyncio.gather(*tasks))
