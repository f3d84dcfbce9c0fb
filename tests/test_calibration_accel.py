"""Accelerometer calibration: estimates against known errors, and the verdict's reasons."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from calibration.accel import fit_accelerometer
from calibration.flows import AccelFlow
from calibration.imu import scale_and_axis_angles
from calibration.mounting import rotation_angle_deg
from calibration.synthetic import apply_errors, default_pose_directions, pose_session
from firmware_sim.imu import ImuErrors
from tracker.samples import Samples


def random_sensitivity(rng: np.random.Generator, scale_max: float = 0.05, mis_deg: float = 3.0) -> np.ndarray:
    """Scale error per axis and a small random tilt of each axis (off-diagonal terms)."""
    mis = np.eye(3)
    off = ~np.eye(3, dtype=bool)
    mis[off] = np.radians(rng.uniform(-mis_deg, mis_deg, 6))
    return np.diag(1 + rng.uniform(-scale_max, scale_max, 3)) @ mis


def run_flow(samples: Samples, target: int = 12) -> AccelFlow:
    flow = AccelFlow(target_poses=target)
    for chunk in samples.chunks(25):
        flow.feed(chunk)
        if flow.done:
            break
    return flow


def issue_errors(rng: np.random.Generator) -> ImuErrors:
    """The simulator's error model at the issue's bounds."""
    return ImuErrors.random(
        rng, bias_g_max=0.1, scale_max=0.05, misalignment_deg_max=3.0, gyro_bias_dps_max=5.0
    )


def measure(errors: ImuErrors, ideal: Samples, rng: np.random.Generator) -> Samples:
    assert ideal.gyro_dps is not None
    accel, gyro = errors.apply(ideal.accel_g, ideal.gyro_dps, 100.0, rng)
    return Samples(ideal.t_s, accel, gyro)


def rotation_part(m: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(m)
    return np.asarray(u @ vt)


@pytest.mark.parametrize("seed", range(8))
def test_flow_recovers_the_simulators_errors_within_tolerance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    errors = issue_errors(rng)
    cal = run_flow(measure(errors, pose_session(), rng)).finish()

    assert cal.quality is not None and cal.quality.verdict == "good", cal.quality
    assert cal.quality.misalignment_estimated
    scale_true, angles_true = scale_and_axis_angles(errors.accel_matrix)
    assert np.max(np.abs(cal.bias_g - errors.accel_bias_g)) < 0.01
    assert np.max(np.abs(cal.scale / scale_true - 1)) < 0.005
    assert np.max(np.abs(cal.axis_angles_deg - angles_true)) < 0.5
    assert cal.quality.residual_rms_g < 0.002 < cal.quality.raw_residual_rms_g
    # The turns between poses calibrate the gyroscope's scale and axes onto the same axes: after
    # correction both sensors read in one frame, turned from the sensor's true axes by no more than
    # the two misalignments' rotating parts (half-way between them).
    assert cal.quality.gyro_axes_calibrated and cal.quality.turn_residual_deg < 0.3
    accel_axes = cal.correction @ errors.accel_matrix
    gyro_axes = cal.gyro_correction @ errors.gyro_matrix
    assert rotation_angle_deg(rotation_part(accel_axes), rotation_part(gyro_axes)) < 0.3
    assert np.allclose(accel_axes @ accel_axes.T, np.eye(3), atol=2e-3)
    assert np.allclose(gyro_axes @ gyro_axes.T, np.eye(3), atol=2e-2)
    half_way = Rotation.from_rotvec(
        (
            Rotation.from_matrix(rotation_part(np.linalg.inv(errors.accel_matrix))).as_rotvec()
            + Rotation.from_matrix(rotation_part(np.linalg.inv(errors.gyro_matrix))).as_rotvec()
        )
        / 2
    ).as_matrix()
    assert rotation_angle_deg(rotation_part(accel_axes), half_way.T) < 0.5


def test_without_gyro_the_axes_stay_symmetric_with_a_note() -> None:
    rng = np.random.default_rng(7)
    a_true = random_sensitivity(rng)
    s = apply_errors(pose_session(), a_true, np.zeros(3), np.zeros(3), rng)
    cal = run_flow(Samples(s.t_s, s.accel_g, None)).finish()
    assert cal.quality is not None and cal.quality.verdict == "good"
    assert not cal.quality.gyro_axes_calibrated
    assert any("gyroscope axes not calibrated" in r for r in cal.quality.reasons)
    assert np.allclose(cal.correction, cal.correction.T)
    q = cal.correction @ a_true  # only a rotation is left
    assert np.allclose(q @ q.T, np.eye(3), atol=2e-3)


def test_too_few_poses_is_redo_and_says_so() -> None:
    cal = fit_accelerometer(default_pose_directions()[:4])
    assert cal.quality is not None and cal.quality.verdict == "redo"
    assert "at least 6" in cal.quality.reasons[0]


def test_missing_direction_is_named() -> None:
    dirs = np.array([d for d in default_pose_directions() if d[2] > -0.5])  # never z down
    cal = fit_accelerometer(dirs * 1.01 + 0.02)
    assert cal.quality is not None and cal.quality.verdict == "redo"
    assert any("z axis pointing down" in r for r in cal.quality.reasons)


def test_six_axis_poses_give_bias_and_scale_but_not_misalignment() -> None:
    rng = np.random.default_rng(5)
    a_true = np.diag([1.03, 0.98, 1.01])
    bias = np.array([0.05, -0.02, 0.08])
    dirs = default_pose_directions()[:6]
    cal = fit_accelerometer(dirs @ a_true.T + bias + rng.normal(0, 1e-4, (6, 3)))
    assert cal.quality is not None and cal.quality.verdict == "good"
    assert not cal.quality.misalignment_estimated
    assert any("misalignment not estimated" in r for r in cal.quality.reasons)
    assert np.allclose(cal.bias_g, bias, atol=1e-3)
    assert np.allclose(cal.scale, [1.03, 0.98, 1.01], atol=1e-3)


def test_a_pose_that_moved_is_dropped_and_named() -> None:
    rng = np.random.default_rng(2)
    a_true = random_sensitivity(rng)
    bias = rng.uniform(-0.1, 0.1, 3)
    dirs = default_pose_directions()
    m = dirs @ a_true.T + bias + rng.normal(0, 2e-4, dirs.shape)
    m[7] *= 1.08  # someone pressed on the sensor during pose 8
    cal = fit_accelerometer(m, pose_times_s=[3.0 * i for i in range(len(m))])
    assert cal.quality is not None and cal.quality.verdict == "good"
    assert any(r.startswith("pose 8 (at 21.0 s) ignored") for r in cal.quality.reasons)
    assert np.max(np.abs(cal.bias_g - bias)) < 0.01


def test_unsteady_poses_are_redo() -> None:
    rng = np.random.default_rng(4)
    dirs = rng.normal(size=(20, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    cal = fit_accelerometer(np.vstack([default_pose_directions(), dirs]) * (1 + rng.normal(0, 0.03, (32, 1))))
    assert cal.quality is not None and cal.quality.verdict == "redo"
    assert any("disagree with 1 g" in r for r in cal.quality.reasons)


def test_hand_held_sensor_gives_no_poses() -> None:
    rng = np.random.default_rng(6)
    ideal = pose_session()
    shaky = Samples(ideal.t_s, ideal.accel_g + rng.normal(0, 0.03, ideal.accel_g.shape), ideal.gyro_dps)
    cal = run_flow(shaky).finish()
    assert cal.quality is not None and cal.quality.verdict == "redo"
    assert cal.quality.reasons[0].startswith("only 0 distinct pose(s) found")


def test_readings_in_the_wrong_unit_are_refused() -> None:
    cal = fit_accelerometer(default_pose_directions() * 9.81)
    assert cal.quality is not None and cal.quality.verdict == "redo"
    assert any("reporting in g" in r for r in cal.quality.reasons)
