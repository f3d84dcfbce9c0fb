"""Fit the naming model's two small logistic regressions on simulated reps (issue 11).

Reads bench/results/naming_features_reps.json (written by ``bench/naming_features.py``; run it on
the tuning seeds only, e.g. ``--seeds 4`` for seeds 0-3, and keep later seeds as the hold-out),
takes the simulated reps with the sensor on a standing leg or on both (the reps the physics
rule names: not a held free leg, not a backward swing, not a lunge) and fits by Newton's method:

* ``hinge``: deadlift family (deadlift, single-leg deadlift) against squat family, from the
  depth and how far the sensor came down in the rep (``fall_m``, read no lower than
  ``naming.FALL_FLOOR_M`` as the model reads it: ``naming.features``);
* ``single``: single-leg against two-leg work, from the slow frontal sway (``slow_sway_deg``,
  smoothed over 0.6 s) and the depth.

The coefficients in naming.py: ``hinge`` from ``naming_features.py --seeds 4`` (seeds 0-3; a refit
on seeds 0-11 named fewer sets), ``single`` from ``--seeds 12`` (seeds 0-11); seeds 12-19 are the
hold-out.

It prints the coefficients (copied by hand into tracker/pipeline/naming.py: no training at run
time) and each model's share of reps right, on the simulated classes and on the real files.

Run: ``.venv/bin/python bench/naming_fit.py [--no-gyro]`` (``--no-gyro``: on the reps of
``bench/naming_features.py --no-gyro``, for sensors without a gyroscope).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.pipeline.naming import FEATURE_NAMES, HINGE_FEATURES, SINGLE_FEATURES, features  # noqa: E402

CLASSES = {
    "sim squat (both)": (False, False),
    "sim deadlift (both)": (True, False),
    "sim single_leg_squat (standing)": (False, True),
    "sim single_leg_deadlift (standing)": (True, True),
}


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """Weights (bias first) of ``P(y) = 1 / (1 + exp(-(w0 + x @ w)))`` by Newton's method."""
    a = np.column_stack([np.ones(len(x)), x])
    w = np.zeros(a.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(a @ w)))
        grad = a.T @ (p - y) + ridge * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + ridge * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-9:
            break
    return w


def main() -> int:
    no_gyro = "--no-gyro" in sys.argv[1:]
    name = f"naming_features_reps{'-no-gyro' if no_gyro else ''}.json"
    data = json.loads((ROOT / "bench" / "results" / name).read_text())
    reps = data["reps"]
    rows, hinge, single = [], [], []
    for key, (h, s) in CLASSES.items():
        for r in reps.get(key, []):
            rows.append(features(r["depth_deg"], r["fall_m"], r["frontal_sway_deg"], r["slow_sway_deg"]))
            hinge.append(h)
            single.append(s)
    x = np.asarray(rows)
    for name, cols, y in (("hinge", HINGE_FEATURES, hinge), ("single", SINGLE_FEATURES, single)):
        xs = x[:, list(cols)]
        w = fit_logistic(xs, np.asarray(y, dtype=float))
        pred = (np.column_stack([np.ones(len(xs)), xs]) @ w) > 0
        names = ", ".join(FEATURE_NAMES[c] for c in cols)
        print(f"{name}: weights (bias, {names}) = {np.round(w, 3).tolist()}")
        print(f"  simulated reps right: {100 * np.mean(pred == np.asarray(y)):.1f} % of {len(y)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
