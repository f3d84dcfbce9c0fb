"""A worker's checkpoint: size and CPU time of the sensor's state (stream decoder and pipeline)
written and read back at points through a simulated session, and the check that a sensor restored
there gives the uninterrupted run's events.

    .venv/bin/python bench/checkpoint.py [--workout builtin:runner-strength] [--seconds 300] [--points 8]

CPU times are medians of 3 (process time). Writes bench/results/checkpoint.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from firmware_sim.session import simulate
from firmware_sim.workout import load_workout
from tracker.events import Event
from tracker.pipeline import Pipeline
from tracker.protocol import StreamDecoder
from tracker.scaleout import snapshot


def median_cpu(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return float(np.median(times)), out


def run(packets: list[bytes], cut: int | None, figures: list[dict[str, Any]]) -> list[Event]:
    decoder, pipeline = StreamDecoder(), Pipeline()
    events: list[Event] = []
    for i, packet in enumerate(packets):
        if i == cut:
            state = (decoder, pipeline)
            write_s, text = median_cpu(lambda state=state: snapshot.dumps(state))
            read_s, (decoder, pipeline) = median_cpu(lambda text=text: snapshot.loads(text))
            figures.append(
                {
                    "packet": i,
                    "t_s": i / 10,
                    "chars": len(text),
                    "write_ms": 1e3 * write_s,
                    "read_ms": 1e3 * read_s,
                }
            )
        samples, _ = decoder.feed([packet])
        events += pipeline.feed(samples)
    return events + pipeline.finish()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workout", default="builtin:runner-strength")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=300.0, help="of the workout, from its start")
    ap.add_argument("--points", type=int, default=8, help="checkpoints spread over the session")
    args = ap.parse_args()
    packets = simulate(load_workout(args.workout), seed=args.seed).packets()[: int(args.seconds * 10)]
    whole = run(packets, None, [])
    figures: list[dict[str, Any]] = []
    identical = 0
    for cut in np.linspace(50, len(packets) - 50, args.points).astype(int):
        identical += run(packets, int(cut), figures) == whole
    chars = [f["chars"] for f in figures]
    write = [f["write_ms"] for f in figures]
    read = [f["read_ms"] for f in figures]
    print(f"checkpoint state over {len(packets) / 10:.0f} s of {args.workout}, {len(figures)} points:")
    print(f"  size {min(chars) / 1e3:.0f}-{max(chars) / 1e3:.0f} kB (median {np.median(chars) / 1e3:.0f} kB)")
    print(
        f"  write {min(write):.1f}-{max(write):.1f} ms of CPU (median {np.median(write):.1f}), read {min(read):.1f}-{max(read):.1f} ms (median {np.median(read):.1f})"
    )
    print(f"  restored runs with the uninterrupted run's events: {identical} of {len(figures)}")
    write_results("checkpoint", {"workout": args.workout, "points": figures, "identical": identical})
    return 0 if identical == len(figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
