"""The live service: source -> calibration -> pipeline -> sink, for one or many sensors (asyncio).

A *source* yields chunks of decoded samples (with the raw packets when there are any, stream
notices and battery readings): a BLE sensor, the simulated sensor, a recording replayed at a
given speed, or a gateway's raw packets taken from the broker by a worker. A *sink* takes the
live facts: MQTT (:class:`tracker.mqtt.SensorPublisher`), a JSON-lines file or a list in memory
(:mod:`tracker.service.sinks`). The seams are typed in :mod:`tracker.service.seams`.
"""

from tracker.service.runner import TELEMETRY_INTERVAL_S, SensorResult, run_sensor, run_service
from tracker.service.seams import EventPipeline, Recorder, Sink, Source, SourceChunk, Telemetry
from tracker.service.sources import CHUNK_SAMPLES, ReplaySource

__all__ = [
    "CHUNK_SAMPLES",
    "TELEMETRY_INTERVAL_S",
    "EventPipeline",
    "Recorder",
    "ReplaySource",
    "SensorResult",
    "Sink",
    "Source",
    "SourceChunk",
    "Telemetry",
    "run_sensor",
    "run_service",
]
