"""The service's seams: any Sink receives what MQTT would (schemas), state only when it changes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np

from tests.brokers import validate
from tracker.pipeline import Pipeline
from tracker.service import ReplaySource, run_sensor
from tracker.service.sinks import JsonLinesSink, MemorySink


def squats_csv(path: Path, reps: int = 6) -> Path:
    """Standing 4 s, ``reps`` slow squats to ~80 deg (3 s each, 1 s pauses), standing 12 s."""
    rate = 100.0
    pitch: list[np.ndarray] = [np.zeros(400)]
    for _ in range(reps):
        pitch.append(40 * (1 - np.cos(np.linspace(0, 2 * np.pi, 300))))
        pitch.append(np.zeros(100))
    pitch.append(np.zeros(1200))
    p = np.radians(np.concatenate(pitch))
    n = p.size
    t = np.arange(n) / rate
    rng = np.random.default_rng(5)
    acc = np.column_stack([np.sin(p), np.zeros(n), np.cos(p)]) + rng.normal(0, 0.003, (n, 3))
    gyro = np.zeros((n, 3))
    gyro[:, 1] = -np.gradient(np.degrees(p), t)
    rows = np.column_stack([t, acc, gyro])
    path.write_text("t,ax,ay,az,gx,gy,gz\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in rows) + "\n")
    return path


def test_a_memory_sink_gets_schema_valid_events_and_state_only_on_change(tmp_path: Path) -> None:
    source = ReplaySource(squats_csv(tmp_path / "squats.csv"), speed=0)
    sink = MemorySink(source.sensor_id)
    result = asyncio.run(run_sensor(source, sink, Pipeline(), telemetry_interval_s=0.0))
    reps = sink.of("event/rep")
    assert len(reps) == len(result.reps) == 6
    assert [r["rep"]["n"] for r in reps] == [1, 2, 3, 4, 5, 6]
    assert len(sink.of("event/set")) == 1 and sink.closed
    for leaf, body in sink.messages:
        validate(leaf, body)
    states = sink.of("state")
    chunks = source.stats.packets
    # one state per change (phase, reps, wobble), not one per chunk
    assert 6 < len(states) < chunks / 10
    assert states[-1]["total_reps"] == 6


def test_a_json_lines_sink_writes_one_message_per_line(tmp_path: Path) -> None:
    source = ReplaySource(squats_csv(tmp_path / "s.csv", reps=3), speed=0)
    out = tmp_path / "facts.jsonl"
    asyncio.run(run_sensor(source, JsonLinesSink(source.sensor_id, out), Pipeline()))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [m["payload"]["rep"]["n"] for m in lines if m["topic"] == "event/rep"] == [1, 2, 3]
    for m in lines:
        assert m["sensor"] == source.sensor_id
        validate(m["topic"], m["payload"])
