"""Mounting from quiet standing and slow squats: synthetic thighs, and real recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from calibration.flows import MountingFlow
from calibration.mounting import Leg, LiveMountingEstimator, Mounting, estimate_mounting, rotation_angle_deg
from calibration.synthetic import squat_session
from tracker.samples import Samples


def to_sensor(thigh: Samples, r: np.ndarray, rng: np.random.Generator) -> Samples:
    """Readings of a sensor mounted with ``v_thigh = r @ v_sensor``, with a little noise."""
    a = thigh.accel_g @ r + rng.normal(0, 0.004, thigh.accel_g.shape)
    assert thigh.gyro_dps is not None
    g = thigh.gyro_dps @ r + rng.normal(0, 0.1, thigh.gyro_dps.shape)
    return Samples(thigh.t_s, a, g)


@pytest.mark.parametrize("seed", range(10))
def test_random_mounting_recovered_within_1_deg(seed: int) -> None:
    rng = np.random.default_rng(seed)
    r = Rotation.random(random_state=seed).as_matrix()
    est = estimate_mounting(to_sensor(squat_session(reps=2), r, rng), leg="right")
    q = est.mounting.quality
    assert q is not None and q.verdict == "good", q
    assert q.reps_seen == 2
    assert rotation_angle_deg(est.mounting.R_thigh_from_sensor, r) < 1.0
    assert est.mounting.leg == "right"
    assert 75 < q.max_flexion_deg < 85


def test_knees_out_during_squats_costs_under_3_deg() -> None:
    # The knee drifting out by 1 deg per 20 deg of flexion tilts the turn axis by about as much.
    rng = np.random.default_rng(2)
    r = Rotation.random(random_state=2).as_matrix()
    est = estimate_mounting(to_sensor(squat_session(reps=2, roll_deg=4.0), r, rng))
    assert rotation_angle_deg(est.mounting.R_thigh_from_sensor, r) < 3.0


def test_accelerometer_alone_is_enough() -> None:
    rng = np.random.default_rng(3)
    r = Rotation.random(random_state=3).as_matrix()
    s = to_sensor(squat_session(reps=2), r, rng)
    est = estimate_mounting(Samples(s.t_s, s.accel_g, None))
    assert est.mounting.quality is not None and est.mounting.quality.verdict == "good"
    assert rotation_angle_deg(est.mounting.R_thigh_from_sensor, r) < 1.5


def test_mounted_readings_give_flexion_as_positive_pitch() -> None:
    rng = np.random.default_rng(4)
    r = Rotation.random(random_state=4).as_matrix()
    est = estimate_mounting(to_sensor(squat_session(reps=3, depth_deg=60), r, rng))
    thigh = est.mounting.apply(to_sensor(squat_session(reps=3, depth_deg=60), r, rng))
    pitch = np.degrees(np.arctan2(thigh.accel_g[:, 0], thigh.accel_g[:, 2]))
    assert abs(np.median(pitch[:200])) < 1.0
    assert 57 < pitch.max() < 63


def test_no_standing_is_redo_with_advice() -> None:
    s = squat_session(reps=3, stand_s=0.2).slice(20, -250)  # moving from start to end
    est = estimate_mounting(Samples(s.t_s, s.accel_g, None))
    q = est.mounting.quality
    assert q is not None and q.verdict == "redo"
    assert "stand still first" in q.reasons[0]


def test_too_little_movement_is_redo() -> None:
    est = estimate_mounting(squat_session(reps=2, depth_deg=10))
    q = est.mounting.quality
    assert q is not None and q.verdict == "redo"
    assert "moved only" in q.reasons[0]


def test_leg_circles_are_redo() -> None:
    # Forward-back and side to side out of phase: no single plane of movement.
    t = np.arange(0, 12, 0.01)
    moving = t > 3
    pitch = np.where(moving, 35 * np.sin(2 * np.pi * (t - 3) / 3), 0.0)
    roll = np.where(moving, 35 * (1 - np.cos(2 * np.pi * (t - 3) / 3)), 0.0)
    p, r = np.radians(pitch), np.radians(roll)
    up = np.stack([np.sin(p), np.cos(p) * np.sin(r), np.cos(p) * np.cos(r)], axis=1)
    gyro = np.stack([-np.gradient(roll, 0.01), -np.gradient(pitch, 0.01), np.zeros_like(t)], axis=1)
    est = estimate_mounting(Samples.from_arrays(t, up, gyro))
    q = est.mounting.quality
    assert q is not None and q.verdict == "redo"
    assert any("forward bend" in r for r in q.reasons)


def test_flow_reports_progress_and_stops_after_the_reps() -> None:
    rng = np.random.default_rng(8)
    r = Rotation.random(random_state=8).as_matrix()
    flow = MountingFlow(reps=3)
    lines: list[str] = []
    fed = 0
    stream = to_sensor(squat_session(reps=5), r, rng)
    for chunk in stream.chunks(20):
        lines += flow.feed(chunk)
        fed += len(chunk)
        if flow.done:
            break
    assert fed < len(stream)
    assert any("standing captured" in line for line in lines)
    assert [line.strip() for line in lines if "movement" in line] == [f"movement {i}/3" for i in (1, 2, 3)]
    est = flow.finish()
    assert rotation_angle_deg(est.mounting.R_thigh_from_sensor, r) < 1.0


def test_live_estimator_finds_mounting_from_the_first_reps() -> None:
    rng = np.random.default_rng(5)
    r = Rotation.random(random_state=5).as_matrix()
    live = LiveMountingEstimator()
    found_at = None
    for chunk in to_sensor(squat_session(reps=4), r, rng).chunks(10):
        m = live.update(chunk)
        if m is not None and found_at is None:
            found_at = float(chunk.t_s[-1])
            assert m.source == "auto"
            assert rotation_angle_deg(m.R_thigh_from_sensor, r) < 1.0
    assert found_at is not None and found_at < 3.0 + 3 * 3.0 + 1.5  # within the third rep or so


def test_mounting_must_be_a_rotation() -> None:
    with pytest.raises(ValueError, match="rotation"):
        Mounting(np.diag([1.0, 1.0, -1.0]))


def test_real_recording_squats_read_as_flexion(real_data_dir: Path) -> None:
    from tracker.io.load import load_session

    session = load_session(real_data_dir / "SqDL_LeftThigh.csv")
    s = session.samples
    first = s.slice(0, int(np.searchsorted(s.t_s, 40.0)))
    est = estimate_mounting(first)
    q = est.mounting.quality
    assert q is not None and q.verdict == "good", q
    thigh = est.mounting.apply(first)
    pitch = np.degrees(np.arctan2(thigh.accel_g[:, 0], thigh.accel_g[:, 2]))
    pitch = np.convolve(pitch, np.ones(20) / 20, mode="valid")  # 0.2 s: rep-scale movement only
    # Five fast squats: the thigh goes well forward every time and hardly ever backward (the dip
    # at the start of each descent is the push of the hips, not the thigh's angle).
    assert q.reps_seen >= 5
    assert 70 < pitch.max() < 110
    assert np.percentile(pitch, 5) > -5


@pytest.mark.parametrize("seed", range(8))
def test_simulator_random_mounting_on_either_thigh_within_3_deg(seed: int) -> None:
    """The whole procedure on the simulator: accel poses, gyro still, then standing and squats."""
    from calibration import ImuCalibration
    from calibration.flows import AccelFlow, GyroFlow
    from calibration.synthetic import pose_session, still_session
    from firmware_sim.calibration_source import MOUNTING_WORKOUT, measure, run_flow, sim_imu_errors
    from firmware_sim.session import simulate
    from firmware_sim.workout import Workout

    errors = sim_imu_errors(seed)
    rng = np.random.default_rng(seed)
    accel = run_flow(AccelFlow(), measure(errors, pose_session(), rng))
    gyro = run_flow(GyroFlow(), measure(errors, still_session(12.0, rng.normal(size=3)), rng))
    leg: Leg = "left" if seed % 2 else "right"
    session = simulate(
        Workout.from_toml_str(MOUNTING_WORKOUT), seed=seed, leg=leg, mounting="random", imu=errors
    )
    est = run_flow(MountingFlow(imu=ImuCalibration(accel, gyro), leg=leg), session.samples())
    q = est.mounting.quality
    assert q is not None and q.verdict == "good", q
    assert q.reps_seen == 3
    assert est.mounting.leg == leg
    r_true, r_est = session.R_thigh_from_sensor, est.mounting.R_thigh_from_sensor
    assert rotation_angle_deg(r_est, r_true) < 3.0  # against the package axes
    # The thigh angles go through r_est applied to corrected readings: with the axes' unobservable
    # rotation h taken out, both the accelerometer's and the gyroscope's path are within 2 deg.
    for corrected in (accel.correction @ errors.accel_matrix, accel.gyro_correction @ errors.gyro_matrix):
        u, _, vt = np.linalg.svd(corrected)
        assert rotation_angle_deg(r_est @ (u @ vt), r_true) < 2.0
