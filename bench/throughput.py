"""Pipeline throughput (best of three runs each for decoding and processing the hour): one hour of 100 Hz data on one core, and 200 live sensors in 10-sample packets.

Prints samples per second (decode + pipeline), the speed-up over real time, the per-packet cost,
the CPU share of 200 live sensors, and the memory of one sensor's pipeline over a simulated
8-hour session. Writes bench/results/throughput.json. Run: ``.venv/bin/python bench/throughput.py``.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.pipeline import Pipeline  # noqa: E402
from tracker.protocol import Packetizer, StreamDecoder  # noqa: E402
from tracker.samples import Samples  # noqa: E402


def workout_hour(rate_hz: float = 100.0, hours: float = 1.0, seed: int = 0) -> Samples:
    """Synthetic thigh data: standing, squat sets of 10 reps, rests, walking-like swings."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 * rate_hz)
    t = np.arange(n) / rate_hz
    pitch = np.zeros(n)
    cycle = 120.0  # a 30 s set then 90 s of rest/walk, repeated
    ph = t % cycle
    in_set = (ph > 5) & (ph < 35)
    pitch[in_set] = 40 * (1 - np.cos(2 * np.pi * (ph[in_set] - 5) / 3.0))
    walking = (ph > 60) & (ph < 90)
    pitch[walking] = 25 * np.sin(2 * np.pi * (ph[walking] - 60) / 1.1)
    th = np.radians(pitch)
    accel = np.stack([np.sin(th), np.zeros(n), np.cos(th)], axis=1) + rng.normal(0, 0.01, (n, 3))
    gyro = np.zeros((n, 3))
    gyro[:, 1] = -np.gradient(pitch, t)
    gyro += rng.normal(0, 0.5, (n, 3))
    return Samples.from_arrays(t, accel, gyro)


def bench_hour(samples: Samples) -> dict[str, float]:
    clock_us = np.round(samples.t_s * 1e6).astype(np.int64)
    packets = Packetizer().encode(clock_us, samples.accel_g, samples.gyro_dps)
    decode_s = float("inf")
    for _ in range(3):  # best of three: the machine is shared (each run decodes a fresh stream)
        t_a = time.process_time()
        decoded, _notices = StreamDecoder().feed(packets)
        decode_s = min(decode_s, time.process_time() - t_a)
    best = float("inf")
    events: list[Any] = []
    for _ in range(3):  # best of three: the machine is shared
        t_a = time.process_time()
        p = Pipeline()
        events = p.feed(decoded) + p.finish()
        best = min(best, time.process_time() - t_a)
    total = decode_s + best
    n = len(samples)
    dur = samples.duration_s
    return {
        "samples": n,
        "decode_s": decode_s,
        "pipeline_s": best,
        "samples_per_s": n / total,
        "realtime_factor": dur / total,
        "reps": sum(1 for e in events if e.kind == "rep"),
    }


def bench_live(
    samples: Samples, sensors: int = 200, packet: int = 10, seconds: float = 60.0
) -> dict[str, float]:
    """Feed ``sensors`` pipelines ``seconds`` of data each, in ``packet``-sample chunks."""
    rate = samples.estimated_rate_hz()
    n = int(seconds * rate)
    part = samples.slice(0, n)
    chunks = list(part.chunks(packet))
    pipes = [Pipeline() for _ in range(sensors)]
    t0 = time.process_time()
    for c in chunks:
        for p in pipes:
            p.feed(c)
    cpu = time.process_time() - t0
    calls = len(chunks) * sensors
    return {
        "sensors": sensors,
        "packet_samples": packet,
        "cpu_share_of_one_core": cpu / seconds,
        "us_per_packet": cpu / calls * 1e6,
    }


def bench_memory(hours: float = 8.0) -> dict[str, float]:
    day = workout_hour(hours=0.25, seed=2)  # 15 minutes, fed again and again with shifted time
    p = Pipeline()
    tracemalloc.start()
    sizes = []
    offset = 0.0
    rounds = int(hours * 4)
    for k in range(rounds):
        shifted = Samples(day.t_s + offset, day.accel_g, day.gyro_dps)
        for c in shifted.chunks(1000):
            p.feed(c)
        offset = float(shifted.t_s[-1]) + 0.01
        if k in (1, rounds // 2, rounds - 1):
            sizes.append(tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    return {
        "hours": hours,
        "bytes_after_30min": sizes[0],
        "bytes_at_half": sizes[1],
        "bytes_at_end": sizes[2],
    }


def main() -> int:
    hour = workout_hour()
    Pipeline().feed(hour.slice(0, 5000))  # warm up imports and caches
    res_hour = bench_hour(hour)
    res_live = bench_live(hour)
    res_mem = bench_memory()
    print(
        f"one hour of 100 Hz data: {res_hour['samples']} samples, decode {res_hour['decode_s']:.3f} s, "
        f"pipeline {res_hour['pipeline_s']:.3f} s -> {res_hour['samples_per_s']:.3g} samples/s, "
        f"{res_hour['realtime_factor']:.0f}x real time ({res_hour['reps']} reps)"
    )
    print(
        f"{res_live['sensors']} live sensors, {res_live['packet_samples']}-sample packets: "
        f"{res_live['us_per_packet']:.1f} us per packet, {100 * res_live['cpu_share_of_one_core']:.1f} % of one core"
    )
    print(
        f"memory of one pipeline over {res_mem['hours']:.0f} h: {res_mem['bytes_after_30min'] / 1024:.0f} KiB after 30 min, "
        f"{res_mem['bytes_at_half'] / 1024:.0f} KiB at half time, {res_mem['bytes_at_end'] / 1024:.0f} KiB at the end"
    )
    out = ROOT / "bench" / "results" / "throughput.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"hour": res_hour, "live": res_live, "memory": res_mem}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
