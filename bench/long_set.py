"""Pipeline CPU time per rep on a short and a very long set: it must not grow with the set's length.

A simulated bodyweight-squat set of 20 reps and one of 500 (same tempo, depth and seed), each fed
whole and in 10-sample live packets; CPU time (``time.process_time``, the machine is shared) of the
pipeline alone, median of three runs, divided by the reps counted. A cost per rep that grows with
the set (a median over all its reps recomputed at each rep was) shows as a ratio well above 1.

The set stage alone is also timed per rep for 20, 500 and 5,000 reps of one set (its share of a
rep's cost is small, so a cost growing with the set shows there first).

Run: ``.venv/bin/python bench/long_set.py [--reps 20 500]``. Writes bench/results/long_set.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import write_results  # noqa: E402
from firmware_sim.session import simulate  # noqa: E402
from firmware_sim.workout import Workout  # noqa: E402
from tracker.events import Rep, RepEvent  # noqa: E402
from tracker.pipeline import Pipeline, PipelineConfig  # noqa: E402
from tracker.pipeline.reps import Excursion  # noqa: E402
from tracker.pipeline.sets import SetTracker  # noqa: E402
from tracker.pipeline.wobble import SwayStats  # noqa: E402
from tracker.samples import Samples  # noqa: E402


def squat_set(reps: int) -> Samples:
    """Standing, one set of ``reps`` squats at a steady tempo, standing."""
    steps = [
        {"activity": "stand", "duration_s": 5.0},
        {"activity": "squat", "reps": reps, "depth_deg": 85.0, "tempo_s": [1.1, 0.15, 0.95], "rest_s": 12.0},
    ]
    return simulate(Workout.from_dict({"name": "long-set", "step": steps}, "bench"), seed=3).samples()


def cpu_per_rep(samples: Samples, packet: int | None) -> tuple[float, int]:
    """Median CPU seconds per counted rep over three runs, and the reps counted."""
    times = []
    counted = 0
    for _ in range(3):
        pipeline = Pipeline()
        t0 = time.process_time()
        events = []
        for part in [samples] if packet is None else samples.chunks(packet):
            events += pipeline.feed(part)
        events += pipeline.finish()
        times.append(time.process_time() - t0)
        counted = sum(isinstance(e, RepEvent) for e in events)
    return statistics.median(times) / max(counted, 1), counted


def set_stage_us_per_rep(reps: int) -> float:
    """Median CPU microseconds per rep of the set stage alone (grouping, naming, the depth check
    against the set's typical rep), fed ``reps`` accepted reps of one set."""
    excursions = []
    for k in range(reps):
        t0 = 5.0 + 2.5 * k
        depth = 80.0 + (k * 7919 % 11) - 5.0  # a little spread, as real reps have
        rep = Rep(0, t0, t0 + 1.0, t0 + 2.2, depth, 1.0, 0.1, 1.1, 120.0)
        excursions.append(Excursion(rep, depth, -0.2, 0.2, 0.05, SwayStats(), t0 + 2.2))
    times = []
    for _ in range(3):
        tracker = SetTracker(PipelineConfig())
        t0 = time.process_time()
        for ex in excursions:
            tracker.add(ex)
        times.append(time.process_time() - t0)
    return 1e6 * statistics.median(times) / reps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, nargs=2, default=[20, 500], metavar=("SHORT", "LONG"))
    args = ap.parse_args()
    figures: dict[str, dict[str, float]] = {}
    for label, packet in (("whole", None), ("packets10", 10)):
        row: dict[str, float] = {}
        for reps in args.reps:
            per_rep, counted = cpu_per_rep(squat_set(reps), packet)
            row[f"reps_{reps}_counted"] = counted
            row[f"reps_{reps}_cpu_ms_per_rep"] = round(1000 * per_rep, 3)
        short, long_ = (row[f"reps_{n}_cpu_ms_per_rep"] for n in args.reps)
        row["long_over_short"] = round(long_ / short, 2)
        figures[label] = row
        print(
            f"{label:<10} {args.reps[0]} reps: {short:.3f} ms CPU per rep   "
            f"{args.reps[1]} reps: {long_:.3f} ms per rep   ratio {row['long_over_short']:.2f}"
            f"   (counted {row[f'reps_{args.reps[0]}_counted']:.0f} and {row[f'reps_{args.reps[1]}_counted']:.0f})"
        )
    stage: dict[str, float] = {}
    for reps in (*args.reps, 10 * args.reps[1]):
        stage[f"reps_{reps}_us_per_rep"] = round(set_stage_us_per_rep(reps), 2)
    short_us, long_us = (
        stage[f"reps_{args.reps[0]}_us_per_rep"],
        stage[f"reps_{10 * args.reps[1]}_us_per_rep"],
    )
    stage["longest_over_short"] = round(long_us / short_us, 2)
    figures["set_stage"] = stage
    print("set stage alone: " + ", ".join(f"{k} {v}" for k, v in stage.items()))
    write_results("long_set", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
