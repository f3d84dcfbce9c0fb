"""Gyroscope bias from still periods, and the check that the sensor really was still.

A still gyroscope reads its bias. The catch is "still": a sensor turning slowly reads a rate that
looks just like a bias. Two checks guard against that: the gyro readings themselves must be steady
(a hand-held sensor wobbles), and the gravity direction seen by the accelerometer must not turn
during the period (a slow rotation about any horizontal axis would turn it). Only a perfectly
steady spin about the vertical escapes both, and the bias is also bounded by what MEMS gyros show.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from calibration.imu import GyroCalibration, GyroQuality, Verdict
from calibration.stillness import StillPeriod

MIN_STILL_S = 5.0
MAX_DRIFT_DEG = 1.0  # gravity direction turn allowed within one still period
MAX_NOISE_DPS = 1.0  # per-axis standard deviation allowed while still
MAX_PLAUSIBLE_BIAS_DPS = 20.0


def fit_gyro_bias(periods: Sequence[StillPeriod], min_still_s: float = MIN_STILL_S) -> GyroCalibration:
    """Average the gyro over still periods (weighted by length) and judge whether it can be trusted."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    usable = [p for p in periods if p.gyro_mean_dps is not None and p.n > 0]
    reasons: list[str] = []
    if not usable:
        reasons.append(
            "no still period with gyroscope data was found: put the sensor down and do not touch it"
        )
        quality = GyroQuality(0.0, 0, float("nan"), float("nan"), "redo", tuple(reasons))
        return GyroCalibration(np.zeros(3), quality, now)
    n = np.array([p.n for p in usable], dtype=np.float64)
    means = np.array([p.gyro_mean_dps for p in usable])
    bias = (means * n[:, None]).sum(axis=0) / n.sum()
    still_s = float(sum(p.duration_s for p in usable))
    noise = float(max(float(np.max(p.gyro_std_dps)) for p in usable if p.gyro_std_dps is not None))
    drift = float(max(p.accel_drift_deg for p in usable))
    # Bias is one number: still periods that disagree mean one of them was not still.
    spread = float(np.max(np.linalg.norm(means - bias, axis=1)))

    verdict: Verdict = "good"
    if still_s < min_still_s:
        verdict = "redo"
        reasons.append(f"only {still_s:.1f} s of stillness, at least {min_still_s:.0f} s are needed")
    if drift > MAX_DRIFT_DEG:
        verdict = "redo"
        reasons.append(f"the sensor turned by {drift:.1f} deg while it should have been still")
    if noise > MAX_NOISE_DPS:
        verdict = "redo"
        reasons.append(
            f"the gyroscope varied by {noise:.2f} deg/s: the sensor was not resting on something firm"
        )
    if len(usable) > 1 and spread > max(0.2, 3 * noise / np.sqrt(min(n))):
        verdict = "redo"
        reasons.append(f"still periods disagree by {spread:.2f} deg/s: one of them was a slow turn")
    if float(np.linalg.norm(bias)) > MAX_PLAUSIBLE_BIAS_DPS:
        verdict = "redo"
        reasons.append(
            f"bias of {np.linalg.norm(bias):.1f} deg/s is implausible for a MEMS gyro: "
            "was the sensor turning (or reporting in rad/s)?"
        )
    quality = GyroQuality(still_s, len(usable), noise, drift, verdict, tuple(reasons))
    return GyroCalibration(bias, quality, now)
