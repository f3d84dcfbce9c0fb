"""Still-period and static-pose detection, streamed and batch."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration.stillness import StillDetector, StillnessThresholds, detect_still_periods, group_poses
from calibration.synthetic import apply_errors, default_pose_directions, pose_session
from tracker.samples import Samples

RNG_SEED = 11


def _noisy_poses(seed: int = RNG_SEED) -> Samples:
    rng = np.random.default_rng(seed)
    # A 5 deg/s gyro bias and a 0.1 g accel bias must not stop the sensor counting as still.
    return apply_errors(pose_session(), np.eye(3), np.full(3, 0.1), np.array([5.0, -5.0, 3.0]), rng)


def test_each_held_pose_is_one_still_period_with_its_gravity_direction() -> None:
    samples = _noisy_poses()
    periods = detect_still_periods(samples)
    dirs = default_pose_directions()
    assert len(periods) == len(dirs)
    for p, u in zip(periods, dirs, strict=True):
        assert 2.0 <= p.duration_s <= 2.6
        assert np.allclose(p.accel_mean_g - 0.1, u, atol=0.01)
        assert p.gyro_mean_dps is not None
        assert np.allclose(p.gyro_mean_dps, [5.0, -5.0, 3.0], atol=0.1)
        assert p.accel_drift_deg < 1.0


def test_turning_sensor_is_not_still() -> None:
    t = np.arange(0, 10, 0.01)
    ang = np.radians(10 * t)  # 10 deg/s turn about y
    accel = np.stack([np.sin(ang), np.zeros_like(t), np.cos(ang)], axis=1)
    gyro = np.tile([0.0, -10.0, 0.0], (t.size, 1))
    assert detect_still_periods(Samples.from_arrays(t, accel, gyro)) == []


def test_short_pauses_are_not_reported() -> None:
    samples = pose_session(hold_s=0.6)
    assert detect_still_periods(samples, StillnessThresholds(min_duration_s=1.0)) == []


@settings(max_examples=25, deadline=None)
@given(chunk=st.integers(min_value=1, max_value=400))
def test_streaming_in_any_chunks_finds_the_same_periods(chunk: int) -> None:
    samples = _noisy_poses()
    whole = detect_still_periods(samples, rate_hz=100.0)
    det = StillDetector(rate_hz=100.0)
    streamed = [p for c in samples.chunks(chunk) for p in det.update(c)] + det.finish()
    assert len(streamed) == len(whole)
    for a, b in zip(streamed, whole, strict=True):
        assert a.start_s == b.start_s and a.end_s == b.end_s and a.n == b.n
        assert np.allclose(a.accel_mean_g, b.accel_mean_g, atol=1e-9)


def test_rate_is_learned_from_the_stream_when_not_given() -> None:
    samples = _noisy_poses()
    det = StillDetector()
    streamed = [p for c in samples.chunks(1) for p in det.update(c)] + det.finish()
    assert len(streamed) == len(default_pose_directions())


def test_repeated_orientation_counts_as_one_pose() -> None:
    dirs = default_pose_directions()[[0, 1, 0, 2]]
    periods = detect_still_periods(pose_session(dirs))
    poses = group_poses(periods, 10.0)
    assert len(periods) == 4
    assert len(poses) == 3
    assert len(poses[0].periods) == 2


def test_accel_only_stream_works() -> None:
    s = _noisy_poses()
    periods = detect_still_periods(Samples(s.t_s, s.accel_g, None))
    assert len(periods) == len(default_pose_directions())
    assert periods[0].gyro_mean_dps is None
