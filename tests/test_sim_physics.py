"""The simulator's physics: gravity, orientation, angular rate, lever arm, IMU errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim.imu import ImuErrors
from firmware_sim.physics import (
    body_rates_dps,
    integrate_gyro,
    pitch_from_gravity_deg,
    random_rotation,
    rotation_world_from_thigh,
    specific_force_thigh_g,
)
from firmware_sim.session import MOUNTINGS, simulate
from tests import workouts

STILL = workouts.workout(workouts.STILL_4S)
SQUATS = workouts.workout(workouts.THREE_SQUATS)


@settings(max_examples=40, deadline=None)
@given(
    pitch=st.floats(-120, 170),
    roll=st.floats(-60, 60),
    yaw=st.floats(-180, 180),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_still_sensor_reads_one_g_up_in_any_pose_and_mounting(
    pitch: float, roll: float, yaw: float, seed: int
) -> None:
    n = 50
    r_wt = rotation_world_from_thigh(np.full(n, pitch), np.full(n, roll), np.full(n, yaw))
    r_ts = random_rotation(np.random.default_rng(seed))
    acc_thigh = specific_force_thigh_g(r_wt, np.zeros((n, 3)), np.array([0.07, 0.0, -0.2]), 0.01)
    acc_sensor = acc_thigh @ r_ts
    assert np.allclose(np.linalg.norm(acc_sensor, axis=1), 1.0, atol=1e-9)
    # Rotated back with the true mounting, gravity lies along the thigh as the architecture defines.
    back = acc_sensor[0] @ r_ts.T
    expected = np.degrees(
        np.arctan2(np.sin(np.radians(pitch)), np.cos(np.radians(pitch)) * np.cos(np.radians(roll)))
    )
    assert pitch_from_gravity_deg(back) == pytest.approx(expected, abs=1e-6)
    unrolled = specific_force_thigh_g(
        rotation_world_from_thigh(np.full(n, pitch), np.zeros(n), np.full(n, yaw)),
        np.zeros((n, 3)),
        np.zeros(3),
        0.01,
    )
    assert pitch_from_gravity_deg(unrolled[0]) == pytest.approx(((pitch + 180) % 360) - 180, abs=1e-6)
    assert np.allclose(body_rates_dps(np.full(n, pitch), np.full(n, roll), np.full(n, yaw), 0.01), 0.0)


@pytest.mark.parametrize("mounting", MOUNTINGS)
def test_standing_still_in_every_mounting_reads_one_g(mounting: str) -> None:
    s = simulate(STILL, seed=4, mounting=mounting, imu="ideal", leg="right")
    mag = np.linalg.norm(s.accel_g, axis=1)
    assert np.mean(mag) == pytest.approx(1.0, abs=0.003)
    # Gravity in the thigh frame points up along the thigh: pitch near 0.
    thigh = s.accel_g.mean(axis=0) @ s.R_thigh_from_sensor.T
    assert abs(pitch_from_gravity_deg(thigh)) < 2.0


def test_integrating_the_gyro_reproduces_the_model_orientation() -> None:
    s = simulate(SQUATS, seed=7, imu="ideal")
    r_ws = s.R_world_from_thigh @ s.R_thigh_from_sensor
    end = len(s) - 1
    r = integrate_gyro(r_ws[0], s.gyro_dps, 1.0 / (s.rate_hz))
    err_deg = np.degrees(np.arccos(np.clip((np.trace(r.T @ r_ws[end]) - 1) / 2, -1, 1)))
    assert err_deg < 0.5
    # And the gyro is not trivially zero: the thigh really moved (3 squats, ~85 deg each).
    assert np.max(np.abs(s.gyro_dps)) > 60


def test_flexion_rate_is_minus_gyro_y_in_the_thigh_frame() -> None:
    s = simulate(SQUATS, seed=1, imu="ideal", mounting="aligned")
    flex_rate = np.gradient(s.thigh_pitch_deg, 1.0 / s.rate_hz)
    gyro_thigh = s.gyro_dps @ s.R_thigh_from_sensor.T
    assert np.corrcoef(flex_rate, -gyro_thigh[:, 1])[0, 1] > 0.98


def test_accelerometer_pitch_follows_the_thigh_between_moves() -> None:
    s = simulate(SQUATS, seed=2, imu="ideal", mounting="random")
    thigh = s.accel_g @ s.R_thigh_from_sensor.T
    slow = np.abs(np.gradient(s.thigh_pitch_deg, 0.01)) < 5
    err = pitch_from_gravity_deg(thigh[slow]) - s.thigh_pitch_deg[slow]
    assert np.median(np.abs(err)) < 1.5


def test_the_lever_arm_adds_centripetal_acceleration() -> None:
    n = 400
    t = np.arange(n) * 0.01
    pitch = 40 * np.sin(2 * np.pi * 1.0 * t)
    r = rotation_world_from_thigh(pitch, np.zeros(n), np.zeros(n))
    near = specific_force_thigh_g(r, np.zeros((n, 3)), np.array([0.0, 0.0, -0.01]), 0.01)
    far = specific_force_thigh_g(r, np.zeros((n, 3)), np.array([0.0, 0.0, -0.40]), 0.01)
    # Swinging about the hip, a sensor further down feels more than gravity at the bottom of the swing.
    mid = slice(50, 350)
    assert np.max(np.linalg.norm(far[mid], axis=1)) > np.max(np.linalg.norm(near[mid], axis=1)) + 0.1


def test_imu_errors_bias_scale_and_noise_are_what_they_say() -> None:
    rng = np.random.default_rng(5)
    e = ImuErrors.random(
        rng, bias_g_max=0.05, scale_max=0.03, misalignment_deg_max=1.0, gyro_bias_dps_max=3.0
    )
    assert np.all(np.abs(e.accel_bias_g) <= 0.05) and np.all(np.abs(e.gyro_bias_dps) <= 3.0)
    n = 20000
    true_acc = np.tile([0.0, 0.0, 1.0], (n, 1))
    acc, gyr = e.apply(true_acc, np.zeros((n, 3)), 100.0, np.random.default_rng(1))
    expected = e.accel_matrix @ np.array([0.0, 0.0, 1.0]) + e.accel_bias_g
    assert np.allclose(acc.mean(axis=0), expected, atol=0.003)
    assert np.allclose(gyr.mean(axis=0), e.gyro_bias_dps, atol=0.3)
    assert acc[:, 0].std() == pytest.approx(250e-6 * np.sqrt(50), rel=0.2)


def test_ideal_imu_and_clock_error_change_the_timeline_as_a_sensor_would() -> None:
    fast = ImuErrors(clock_error_ppm=1000.0)  # a grossly fast clock: 0.1 % more samples
    s = simulate(SQUATS, seed=0, imu=fast)
    ref = simulate(SQUATS, seed=0, imu="ideal")
    assert len(s) > len(ref)
    # Session time (sensor clock) runs 0.1 % ahead of true time.
    assert s.session_t_s[-1] / s.t_true_s[-1] == pytest.approx(1.001, rel=1e-5)
