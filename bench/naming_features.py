"""What the naming rules see: per-rep features by true exercise and sensor leg (issue 11).

For every accepted rep the set tracker names, the features of its ``RepShape`` (depth from
standing, side-to-side sway RMS, largest impact, the sensor's height change from the start to the
bottom) and its duration, as p10 / median / p90 per class: simulated reps by the truth of the
accuracy bench's random workouts (real single-leg sway), real reps by file and variant (own clock,
25 / 200 Hz, no gyro). It shows which features separate the exercises and which move with the
sample rate or without a gyroscope (docs/pipeline.md, "What separates the exercises").

The features are read by wrapping the set tracker's ``classify`` for the duration of the run:
bench instrumentation, not an interface.

Run: ``.venv/bin/python bench/naming_features.py [--seeds N]`` (N random workouts per thigh,
default 3; about 1 minute of CPU per seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import write_results  # noqa: E402
from bench.accuracy import expected_name, random_session, real_files, real_variant, run_pipeline  # noqa: E402
from tracker.io.load import load_session  # noqa: E402
from tracker.pipeline import sets  # noqa: E402
from tracker.pipeline.config import PipelineConfig  # noqa: E402
from tracker.pipeline.reps import Excursion  # noqa: E402

FEATURES = (
    "depth_deg",
    "ml_sway_deg",
    "frontal_sway_deg",
    "slow_sway_deg",
    "impact_g",
    "rise_cm",
    "drop_ratio_m",
    "duration_s",
)


@contextmanager
def recorded_reps() -> Iterator[list[dict[str, float]]]:
    """Every rep the set tracker names while the block runs, with its naming features."""
    seen: list[dict[str, float]] = []
    original: Callable[[Excursion, PipelineConfig, bool], tuple[str, str]] = sets.classify

    def classify(ex: Excursion, config: PipelineConfig, accel_only: bool = False) -> tuple[str, str]:
        sway = ex.sway.metrics()
        seen.append(
            {
                "t_bottom_s": ex.rep.t_bottom_s,
                "depth_deg": ex.rep.depth_deg,
                "ml_sway_deg": sway["ml_rms_deg"] if sway else 0.0,
                "impact_g": ex.max_impact_g,
                "rise_cm": 100.0 * ex.rise_height_m,
                "drop_ratio_m": ex.physics.drop_ratio_m,
                "fall_m": ex.physics.fall_m,
                "frontal_sway_deg": ex.physics.frontal_sway_deg,
                "slow_sway_deg": ex.physics.slow_sway_deg,
                "signed_depth_deg": ex.signed_depth_deg,
                "parked": float(ex.parked),
                "duration_s": ex.rep.t_end_s - ex.rep.t_start_s,
            }
        )
        return original(ex, config, accel_only)

    name = "classify"  # replaced through setattr: a module function is not meant to be reassigned
    setattr(sets, name, classify)
    try:
        yield seen
    finally:
        setattr(sets, name, original)


def simulated(seeds: range, no_gyro: bool = False) -> dict[str, list[dict[str, float]]]:
    by_class: dict[str, list[dict[str, float]]] = defaultdict(list)
    for seed in seeds:
        for leg in ("left", "right"):
            session = random_session(seed, leg)
            truth = session.truth.to_json()
            samples = session.samples()
            if no_gyro:
                samples = real_variant(samples, "no-gyro")
            with recorded_reps() as reps:
                run_pipeline(samples)
            for r in reps:
                for ts in truth["sets"]:
                    if ts["start_s"] - 1 <= r["t_bottom_s"] <= ts["end_s"] + 1:
                        by_class[f"sim {ts['exercise']} ({ts['sensor_on']})"].append(r)
                        break
    return by_class


def real(variants: tuple[str, ...]) -> dict[str, list[dict[str, float]]]:
    by_class: dict[str, list[dict[str, float]]] = defaultdict(list)
    for path in real_files():
        truth = json.loads(path.with_suffix(".truth.json").read_text())
        if expected_name(truth) is None:
            continue
        samples = load_session(path).samples
        for variant in variants:
            with recorded_reps() as reps:
                run_pipeline(real_variant(samples, variant))
            by_class[f"real {path.stem} {variant}"] += reps
    return by_class


def spread(values: list[float]) -> str:
    p10, med, p90 = np.percentile(values, [10, 50, 90])
    return f"{p10:6.2f} {med:6.2f} {p90:6.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="random workouts per thigh")
    ap.add_argument("--first-seed", type=int, default=0, help="first seed")
    ap.add_argument("--no-gyro", action="store_true", help="simulated sensors without a gyroscope")
    args = ap.parse_args()
    t0 = time.process_time()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    table = {**simulated(seeds, args.no_gyro), **real(("native", "25Hz", "50Hz", "200Hz", "no-gyro"))}
    print(f"{'class':<44} {'reps':>4}" + "".join(f" | {f:^20}" for f in FEATURES))
    print(f"{'':<44} {'':>4}" + " | p10 / median / p90 " * len(FEATURES))
    out: dict[str, Any] = {}
    for key in sorted(table):
        reps = table[key]
        print(f"{key:<44} {len(reps):>4}" + "".join(f" | {spread([r[f] for r in reps])}" for f in FEATURES))
        out[key] = {f: list(np.percentile([r[f] for r in reps], [10, 50, 90])) for f in FEATURES}
    print(f"({time.process_time() - t0:.0f} s CPU)")
    path = write_results("naming_features", {"seeds": args.seeds, "per_class": out})
    reps_path = path.parent / f"naming_features_reps{'-no-gyro' if args.no_gyro else ''}.json"
    reps_path.write_text(
        json.dumps({"first_seed": args.first_seed, "seeds": args.seeds, "reps": table}) + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
