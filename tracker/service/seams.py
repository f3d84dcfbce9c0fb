"""The seams of the live service: what a source, a pipeline, a recorder and a sink must offer.

The service (tracker/service/runner.py) is typed on these protocols only, so a BLE sensor, the
simulator, a recording or a gateway's raw packets can feed it, and MQTT, a JSON-lines file or a
list in memory can receive its facts. :class:`tracker.pipeline.Pipeline`,
:class:`tracker.io.native.RecordingWriter` and :class:`tracker.mqtt.SensorPublisher` fit them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tracker.events import Event
from tracker.protocol import StreamNotice, StreamStats
from tracker.samples import Samples


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


class EventPipeline(Protocol):
    """Samples in, events out, with its live state (tracker.pipeline.Pipeline)."""

    def feed(self, chunk: Samples) -> list[Event]: ...

    def finish(self) -> list[Event]: ...

    @property
    def state(self) -> Mapping[str, Any]: ...

    def replaced_samples(self) -> str | None:
        """What the pipeline said of corrupt samples it replaced, or None when there were none."""
        ...


class Recorder(Protocol):
    """Keeps the raw session (tracker.io.native.RecordingWriter)."""

    def write_packets(
        self, packets: Sequence[bytes], host_times_s: Sequence[float] | None = None
    ) -> None: ...

    def write_samples(self, samples: Samples) -> None: ...

    def write_note(self, kind: str, t_s: float | None = None, **fields: Any) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Telemetry:
    """One sensor's link health at session time ``t_s``, as every sink publishes it (the MQTT
    ``telemetry`` topic, docs/mqtt.md): battery, packets received and lost, sample rate, link."""

    t_s: float
    battery_pct: float | None = None
    packet_loss: float = 0.0  # lost / (received + lost) packets
    lost_packets: int = 0
    packets: int = 0
    rate_hz: float = 0.0  # samples per second of session time
    link: str = "streaming"  # "streaming" while the source runs, "ended" at the end


class Sink(Protocol):
    """Where one sensor's live facts go: events, the retained state, telemetry.

    ``close`` delivers what is queued and returns how many events could not be delivered;
    ``dropped_events`` counts events refused because a bounded buffer was full.
    """

    dropped_events: int

    def publish(self, event: Event) -> None: ...

    def publish_state(self, pipeline_state: Mapping[str, Any] | None = None) -> None: ...

    def publish_telemetry(self, telemetry: Telemetry) -> None: ...

    def close(self, timeout_s: float = 5.0) -> int: ...
