"""Calibration sessions on the simulated sensor, for ``reptrack calibrate ... --sim``.

Sensor ``sim-<seed>`` has its own IMU errors, drawn with the simulator's model
(``firmware_sim.imu.ImuErrors.random``) at the issue's bounds, the same in every flow.
Accelerometer and gyroscope: the sensor is turned by hand between poses on a table (or left
still; :mod:`calibration.synthetic` makes that motion) and the errors are applied on top.
Mounting: quiet standing and slow squats (or a WORKOUT from the simulator, when it provides
``firmware_sim.session``), worn with a random mounting on a random thigh. The truth is shown next
to the estimate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from calibration.flows import Stream
from calibration.imu import scale_and_axis_angles
from calibration.synthetic import pose_session, squat_session, still_session
from firmware_sim.imu import ImuErrors
from tracker.errors import UserError
from tracker.samples import Samples

SIM_DEVICE_PREFIX = "sim-"
RATE_HZ = 100.0


def _fmt(v: Any, digits: int = 4) -> str:
    return "[" + ", ".join(f"{x:+.{digits}f}" for x in np.asarray(v, dtype=np.float64).ravel()) + "]"


def sim_imu_errors(seed: int) -> ImuErrors:
    """The errors of simulated sensor ``sim-<seed>``: bias up to 0.1 g, scale 5%, axes 3 deg, gyro 5 deg/s."""
    return ImuErrors.random(
        np.random.default_rng([seed, 0]),
        bias_g_max=0.1,
        scale_max=0.05,
        misalignment_deg_max=3.0,
        gyro_bias_dps_max=5.0,
    )


def measure(errors: ImuErrors, ideal: Samples, rng: np.random.Generator) -> Samples:
    """What the sensor with ``errors`` reads for ideal (true, sensor-frame) samples."""
    assert ideal.gyro_dps is not None
    accel, gyro = errors.apply(ideal.accel_g, ideal.gyro_dps, RATE_HZ, rng)
    return Samples(ideal.t_s, accel, gyro)


def sim_mounting(seed: int) -> tuple[np.ndarray, str]:
    """The random ``R_thigh_from_sensor`` and leg of simulated sensor ``sim-<seed>``."""
    rng = np.random.default_rng([seed, 1])
    return Rotation.random(random_state=rng.integers(2**31)).as_matrix(), (
        "left" if rng.random() < 0.5 else "right"
    )


def open_sim(kind: str, workout: str | None, seed: int, chunk: int) -> Stream:
    errors = sim_imu_errors(seed)
    rng = np.random.default_rng([seed, 2])
    device_id = f"{SIM_DEVICE_PREFIX}{seed}"
    if kind in ("accel", "gyro"):
        ideal = pose_session() if kind == "accel" else still_session(15.0, rng.normal(size=3))
        scale, angles = scale_and_axis_angles(errors.accel_matrix)
        truth = (
            {
                "bias": f"{_fmt(errors.accel_bias_g)} g",
                "scale": f"{_fmt((scale - 1) * 100, 2)} %",
                "axis angles": f"{_fmt(angles - 90, 2)} deg from square",
            }
            if kind == "accel"
            else {"bias": f"{_fmt(errors.gyro_bias_dps, 3)} deg/s"}
        )
        return Stream(device_id, measure(errors, ideal, rng).chunks(chunk), RATE_HZ, truth)
    r, leg = sim_mounting(seed)
    if workout:
        sensor = _workout_session(workout, seed, r, leg, errors)
    else:
        thigh = squat_session(
            reps=4, depth_deg=float(rng.uniform(60, 95)), rep_s=float(rng.uniform(2.5, 4.0))
        )
        assert thigh.gyro_dps is not None
        sensor = measure(errors, Samples(thigh.t_s, thigh.accel_g @ r, thigh.gyro_dps @ r), rng)
    truth = {
        "leg": leg,
        **{
            f"thigh {name:7s} = sensor": _fmt(row, 3)
            for name, row in zip(("forward", "left", "up"), r, strict=True)
        },
    }
    return Stream(device_id, sensor.chunks(chunk), RATE_HZ, truth, r)


def _workout_session(workout: str, seed: int, r: np.ndarray, leg: str, errors: ImuErrors) -> Samples:
    try:
        from firmware_sim.session import simulate  # type: ignore[import-not-found,unused-ignore]
        from firmware_sim.workout import load_workout
    except ImportError:
        raise UserError(
            "a WORKOUT needs the full simulator (firmware_sim.session), not in this build"
        ) from None
    session = simulate(load_workout(workout), seed=seed, mounting=r, imu=errors)
    samples: Samples = session.samples()
    return samples
