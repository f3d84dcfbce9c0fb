"""Calibration sessions on the simulated sensor, for ``reptrack calibrate ... --sim``.

Sensor ``sim-<seed>`` has its own IMU errors, drawn with the simulator's model
(``firmware_sim.imu.ImuErrors.random``) at the issue's bounds, the same in every flow.
Accelerometer and gyroscope: the sensor is turned by hand between poses on a table (or left
still; :mod:`calibration.synthetic` makes that motion) and the errors are applied on top.
Mounting: the simulator's session (``firmware_sim.session.simulate``) of quiet standing and three
slow squats, or of any WORKOUT, worn with a random mounting on a random thigh. The truth is shown next
to the estimate.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, overload

import numpy as np
from scipy.spatial.transform import Rotation

from calibration.flows import AccelFlow, GyroFlow, MountingFlow, Stream
from calibration.imu import AccelCalibration, GyroCalibration, ImuCalibration, scale_and_axis_angles
from calibration.mounting import Leg, MountingEstimate
from calibration.store import DeviceCalibration
from calibration.synthetic import pose_session, still_session
from firmware_sim.imu import ImuErrors
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
    sensor = _workout_session(workout or None, seed, r, leg, errors)
    truth = {
        "leg": leg,
        **{
            f"thigh {name:7s} = sensor": _fmt(row, 3)
            for name, row in zip(("forward", "left", "up"), r, strict=True)
        },
    }
    return Stream(device_id, sensor.chunks(chunk), RATE_HZ, truth, r)


MOUNTING_WORKOUT = """
name = "mounting-calibration"
description = "Quiet standing, then three slow squats: what reptrack calibrate mounting asks for"

[[step]]
activity = "stand"
duration_s = 4

[[step]]
activity = "squat"
reps = 3
tempo_s = [2.0, 0.3, 2.0]
rest_s = 3
"""


def _workout_session(workout: str | None, seed: int, r: np.ndarray, leg: str, errors: ImuErrors) -> Samples:
    """The simulator's session of ``workout`` (default :data:`MOUNTING_WORKOUT`), as a decoder sees it."""
    from firmware_sim.session import simulate
    from firmware_sim.workout import Workout, load_workout

    plan = (
        load_workout(workout) if workout else Workout.from_toml_str(MOUNTING_WORKOUT, "mounting-calibration")
    )
    return simulate(plan, seed=seed, leg=leg, mounting=r, imu=errors).samples()


def ideal_twin(errors: ImuErrors) -> ImuErrors:
    """The same sensor without the errors calibration is about: noise, drift and clock stay.

    The simulator draws noise and drift in the same order whatever the other terms, so the twin
    even has the same noise realisation. Noise-free samples are not a fair reference: the
    pipeline's depths move with the noise level, which no calibration can remove.
    """
    return replace(
        errors,
        accel_bias_g=np.zeros(3),
        gyro_bias_dps=np.zeros(3),
        accel_scale=np.zeros(3),
        gyro_scale=np.zeros(3),
        accel_misalignment=np.zeros((3, 3)),
        gyro_misalignment=np.zeros((3, 3)),
    )


@overload
def run_flow(flow: AccelFlow, samples: Samples) -> AccelCalibration: ...
@overload
def run_flow(flow: GyroFlow, samples: Samples) -> GyroCalibration: ...
@overload
def run_flow(flow: MountingFlow, samples: Samples) -> MountingEstimate: ...
def run_flow(flow: AccelFlow | GyroFlow | MountingFlow, samples: Samples) -> Any:
    """Feed ``samples`` to a calibration flow in 20-sample packets until it is done; its result."""
    for chunk in samples.chunks(20):
        flow.feed(chunk)
        if flow.done:
            break
    return flow.finish()


def calibrate_simulated(
    device_id: str, errors: ImuErrors, r_thigh_from_sensor: np.ndarray, leg: Leg, seed: int
) -> DeviceCalibration:
    """What a user's ``reptrack calibrate accel``, ``gyro`` and ``mounting --leg LEG`` give for a
    simulated sensor with ``errors`` strapped on with ``r_thigh_from_sensor`` (verdicts unchecked)."""
    rng = np.random.default_rng([seed, 3])
    accel = run_flow(AccelFlow(), measure(errors, pose_session(), rng))
    gyro = run_flow(GyroFlow(), measure(errors, still_session(12.0, rng.normal(size=3)), rng))
    strap = _workout_session(None, seed + 100, r_thigh_from_sensor, leg, errors)
    mounting = run_flow(MountingFlow(imu=ImuCalibration(accel, gyro), leg=leg), strap).mounting
    return DeviceCalibration(device_id, ImuCalibration(accel, gyro), mounting)
