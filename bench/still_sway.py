"""The sway while the thigh stands still before its reps, per set (issue 11; docs/pipeline.md,
"Third pass: sway while the thigh stands still").

For every set of the accuracy bench's random workouts with the sensor on a standing leg or on
both, the still sway the set tracker pools (``naming.still_sway_score``: the roll's RMS deviation
over the still stretches before the set's model-named reps but its first) and how long those were,
as p10 / median / p90 and min / max per class; then the same for the real CMU squat files in
every variant. It shows where the single-leg line (``STILL_LINE_DEG``, ``STILL_LINE_ACCEL_DEG``)
falls between two-leg and single-leg sets, and that the figure does not move with the rate.

Run: ``.venv/bin/python bench/still_sway.py [--seeds N] [--first-seed K] [--variant V]`` (V: native,
25Hz, 200Hz or no-gyro for the simulated sessions; about 10 s of CPU per seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import write_results  # noqa: E402
from bench.accuracy import expected_name, random_session, real_files, real_variant, run_pipeline  # noqa: E402
from tracker.events import SetEvent  # noqa: E402
from tracker.io.load import load_session  # noqa: E402
from tracker.pipeline import sets  # noqa: E402
from tracker.pipeline.config import PipelineConfig  # noqa: E402
from tracker.pipeline.exercises import MODEL_NAMES, SINGLE_LEG  # noqa: E402
from tracker.pipeline.reps import Excursion  # noqa: E402
from tracker.samples import Samples  # noqa: E402


def still_per_set(samples: Samples) -> list[tuple[float, float, float, float]]:
    """(start, end, still sway in deg, still seconds) of every set the pipeline makes."""
    seen: list[tuple[float, float, float]] = []
    original = sets.classify

    def classify(ex: Excursion, config: PipelineConfig, accel_only: bool = False) -> tuple[str, str]:
        label = original(ex, config, accel_only)
        if label in MODEL_NAMES:
            seen.append((ex.rep.t_start_s, ex.physics.still_sq_s, ex.physics.still_s))
        return label

    name = "classify"  # bench instrumentation, as bench/naming_features.py does
    setattr(sets, name, classify)
    try:
        events = run_pipeline(samples)
    finally:
        setattr(sets, name, original)
    out = []
    for e in events:
        if isinstance(e, SetEvent):
            # the set's reps but its first, as the set tracker pools them
            mine = [s for s in seen if e.reps[0].t_start_s < s[0] <= e.end_s]
            sq, secs = sum(s[1] for s in mine), sum(s[2] for s in mine)
            out.append((e.start_s, e.end_s, float(np.sqrt(sq / secs)) if secs > 0 else float("nan"), secs))
    return out


def simulated(seeds: range, variant: str) -> dict[str, list[float]]:
    by_class: dict[str, list[float]] = defaultdict(list)
    for seed in seeds:
        for leg in ("left", "right"):
            session = random_session(seed, leg)
            truth = session.truth.to_json()
            samples = session.samples() if variant == "native" else real_variant(session.samples(), variant)
            found = still_per_set(samples)
            for ts in truth["sets"]:
                if ts["sensor_on"] == "free" or ts["exercise"] not in (*SINGLE_LEG, "squat", "deadlift"):
                    continue
                mine = [f for f in found if f[0] < ts["end_s"] + 1.0 and f[1] > ts["start_s"] - 1.0]
                for f in mine:
                    by_class[f"sim {ts['exercise']} ({ts['sensor_on']})"].append(f[2])
    return by_class


def real() -> dict[str, list[float]]:
    by_class: dict[str, list[float]] = defaultdict(list)
    for path in real_files():
        truth = json.loads(path.with_suffix(".truth.json").read_text())
        if expected_name(truth) != "squat":
            continue
        samples = load_session(path).samples
        for variant in ("native", "25Hz", "50Hz", "200Hz", "no-gyro"):
            for f in still_per_set(real_variant(samples, variant)):
                by_class[f"real {path.stem} {variant}"].append(f[2])
    return by_class


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4, help="random workouts per thigh")
    ap.add_argument("--first-seed", type=int, default=0, help="first seed")
    ap.add_argument("--variant", default="native", choices=("native", "25Hz", "200Hz", "no-gyro"))
    args = ap.parse_args()
    t0 = time.process_time()
    table = {**simulated(range(args.first_seed, args.first_seed + args.seeds), args.variant), **real()}
    out: dict[str, Any] = {}
    print(f"{'class':<44} {'sets':>4}  still sway, deg: p10 / median / p90 (min - max)")
    for key in sorted(table):
        v = np.asarray(table[key])
        v = v[np.isfinite(v)]
        if not v.size:
            print(f"{key:<44} {len(table[key]):>4}  (no still stretch)")
            continue
        p10, med, p90 = np.percentile(v, [10, 50, 90])
        print(f"{key:<44} {len(v):>4}  {p10:.3f} / {med:.3f} / {p90:.3f} ({v.min():.3f} - {v.max():.3f})")
        out[key] = {"sets": int(v.size), "p10_50_90": [p10, med, p90], "min": v.min(), "max": v.max()}
    print(f"({time.process_time() - t0:.0f} s CPU)")
    write_results(
        f"still_sway-{args.variant}", {"seeds": args.seeds, "first_seed": args.first_seed, "per_class": out}
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
