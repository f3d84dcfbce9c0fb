"""The jolt every ``*_impact_g`` threshold reads, where it is measured (issue 11).

The jolt is the change of |specific force|, low-passed at ``jolt_lowpass_hz``, over the last
``jolt_window_s`` (tracker/pipeline/orientation.py); it does not depend on the mounting, so it is
computed here straight from the samples. Printed as p1 / p10 / median / p90 / p99 per class:

* simulated: the largest jolt of every true rep, by exercise and sensor leg (the accuracy bench's
  random workouts and ``builtin:runner-strength``); of every 1-s window of non-exercise movement
  (``~walking``, ``~stairs``, ...); around every true balance loss (``!balance_loss``);
* real: the largest jolt of every rep the pipeline finds on the file's own clock, in each
  variant (own clock, 25, 50, 200 Hz); for files without reps, of every 1-s window.

Run: ``.venv/bin/python bench/jolt_levels.py [--seeds N]`` (default 2; about 1 minute of CPU).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import write_results  # noqa: E402
from bench.accuracy import NON_EXERCISE, random_workout, real_files, real_variant, run_pipeline  # noqa: E402
from firmware_sim.session import simulate  # noqa: E402
from firmware_sim.workout import load_workout  # noqa: E402
from tracker.events import RepEvent  # noqa: E402
from tracker.io.load import load_session  # noqa: E402
from tracker.pipeline.config import PipelineConfig  # noqa: E402
from tracker.pipeline.orientation import OrientationFilter  # noqa: E402
from tracker.samples import Samples  # noqa: E402


def jolt(samples: Samples) -> np.ndarray:
    rate = 1.0 / float(np.median(np.diff(samples.t_s)))
    flt = OrientationFilter(PipelineConfig(), rate)
    return np.concatenate([flt.feed(c).impact_g for c in samples.chunks(10)])


def window_max(t: np.ndarray, x: np.ndarray, a: float, b: float) -> float | None:
    m = (t >= a) & (t <= b)
    return float(x[m].max()) if m.any() else None


def simulated(seeds: range) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for seed in seeds:
        for leg in ("left", "right"):
            rng = np.random.default_rng(1000 * seed + (leg == "right"))
            widen = np.random.default_rng([7, seed, int(leg == "right")])
            for workout in (
                random_workout(rng, leg, widen),
                load_workout("builtin:runner-strength"),
                load_workout("builtin:daily-life"),
            ):
                session = simulate(workout, seed=seed, leg=leg, mounting="random")
                truth, s = session.truth.to_json(), session.samples()
                t, j = s.t_s, jolt(s)
                for ts in truth["sets"]:
                    for r in ts["reps_detail"]:
                        v = window_max(t, j, r["t_start_s"], r["t_end_s"])
                        if v is not None:
                            out[f"sim {ts['exercise']} ({ts['sensor_on']})"].append(v)
                for a in truth["activities"]:
                    if a["kind"] in NON_EXERCISE:
                        for w0 in np.arange(a["start_s"], a["end_s"] - 1.0, 1.0):
                            v = window_max(t, j, w0, w0 + 1.0)
                            if v is not None:
                                out[f"sim ~{a['kind']}"].append(v)
                for b in truth["balance_losses"]:
                    (ts,) = [x for x in truth["sets"] if x["index"] == b["set_index"]]
                    v = window_max(t, j, b["t_s"] - 0.3, b["t_s"] + 0.3)
                    if v is not None:
                        out[f"sim !balance_loss ({ts['sensor_on']})"].append(v)
    return out


def real(variants: tuple[str, ...]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for path in real_files():
        native = load_session(path).samples
        reps = [e.rep for e in run_pipeline(native) if isinstance(e, RepEvent)]
        for variant in variants:
            s = real_variant(native, variant)
            t, j = s.t_s, jolt(s)
            if reps:
                vals = [window_max(t, j, r.t_start_s, r.t_end_s) for r in reps]
            else:
                vals = [window_max(t, j, w0, w0 + 1.0) for w0 in np.arange(t[0], t[-1] - 1.0, 1.0)]
            out[f"real {path.stem} {variant}"] += [v for v in vals if v is not None]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2, help="random workouts per thigh")
    args = ap.parse_args()
    t0 = time.process_time()
    table = {**simulated(range(args.seeds)), **real(("native", "25Hz", "50Hz", "200Hz"))}
    print(f"{'class':<48} {'n':>5}  jolt g: p1 / p10 / median / p90 / p99")
    result = {}
    for key in sorted(table):
        q = [round(float(x), 2) for x in np.percentile(table[key], [1, 10, 50, 90, 99])]
        result[key] = q
        print(f"{key:<48} {len(table[key]):>5}  " + " / ".join(f"{x:.2f}" for x in q))
    print(f"({time.process_time() - t0:.0f} s CPU)")
    write_results("jolt_levels", {"seeds": args.seeds, "per_class": result})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
