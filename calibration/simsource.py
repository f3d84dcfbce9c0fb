"""Calibration sessions on the simulated sensor, for ``reptrack calibrate ... --sim``.

Accelerometer and gyroscope: the sensor is turned by hand between poses on a table (or left
still), with the simulated sensor's IMU errors applied (:mod:`calibration.synthetic`).
Mounting: a workout from the simulator (quiet standing and slow squats unless a WORKOUT file is
given), worn with a random mounting on a random thigh. The simulator's truth is shown next to the
estimate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from calibration.flows import Stream
from calibration.imu import scale_and_axis_angles
from calibration.synthetic import apply_errors, pose_session, squat_session, still_session
from tracker.errors import UserError
from tracker.samples import Samples

SIM_DEVICE_PREFIX = "sim-"


def _fmt(v: Any, digits: int = 4) -> str:
    return "[" + ", ".join(f"{x:+.{digits}f}" for x in np.asarray(v, dtype=np.float64).ravel()) + "]"


def random_imu_errors(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sensitivity matrix, accel bias (g) and gyro bias (deg/s) within the issue's bounds."""
    mis = np.eye(3)
    mis[~np.eye(3, dtype=bool)] = np.radians(rng.uniform(-3, 3, 6))
    sens = np.diag(1 + rng.uniform(-0.05, 0.05, 3)) @ mis
    return sens, rng.uniform(-0.1, 0.1, 3), rng.uniform(-5, 5, 3)


def open_sim(kind: str, workout: str | None, seed: int, chunk: int) -> Stream:
    rng = np.random.default_rng(seed)
    device_id = f"{SIM_DEVICE_PREFIX}{seed}"
    if kind in ("accel", "gyro"):
        sens, bias, gbias = random_imu_errors(rng)
        ideal = pose_session() if kind == "accel" else still_session(15.0, rng.normal(size=3))
        samples = apply_errors(ideal, sens, bias, gbias, rng)
        scale, angles = scale_and_axis_angles(sens)
        truth = (
            {
                "bias": f"{_fmt(bias)} g",
                "scale": f"{_fmt((scale - 1) * 100, 2)} %",
                "axis angles": f"{_fmt(angles - 90, 2)} deg from square",
            }
            if kind == "accel"
            else {"bias": f"{_fmt(gbias, 3)} deg/s"}
        )
        return Stream(device_id, samples.chunks(chunk), 100.0, truth)
    if workout:
        raise UserError("a WORKOUT file needs the full simulator (firmware_sim.session), not in this build")
    # Without a workout: quiet standing and three slow squats, the sensor strapped on at random.
    sens, bias, gbias = random_imu_errors(rng)
    r = Rotation.random(random_state=rng.integers(2**31)).as_matrix()
    leg = "left" if rng.random() < 0.5 else "right"
    thigh = squat_session(reps=4, depth_deg=float(rng.uniform(60, 95)), rep_s=float(rng.uniform(2.5, 4.0)))
    assert thigh.gyro_dps is not None
    sensor = Samples(thigh.t_s, thigh.accel_g @ r, thigh.gyro_dps @ r)
    truth = {
        "leg": leg,
        **{
            f"thigh {name:7s} = sensor": _fmt(row, 3)
            for name, row in zip(("forward", "left", "up"), r, strict=True)
        },
    }
    return Stream(device_id, apply_errors(sensor, sens, bias, gbias, rng).chunks(chunk), 100.0, truth, r)
