"""Gyroscope bias from still periods, and refusing periods that were not still."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.flows import GyroFlow
from calibration.gyro import fit_gyro_bias
from calibration.stillness import StillnessThresholds, detect_still_periods
from calibration.synthetic import apply_errors, pose_session, still_session
from tracker.samples import Samples


def run_flow(samples: Samples, still_s: float = 10.0) -> GyroFlow:
    flow = GyroFlow(still_s=still_s)
    for chunk in samples.chunks(30):
        flow.feed(chunk)
        if flow.done:
            break
    return flow


@pytest.mark.parametrize("seed", range(6))
def test_bias_within_0_2_dps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    bias = rng.uniform(-5, 5, 3)
    up = rng.normal(size=3)
    measured = apply_errors(still_session(12.0, up), np.eye(3) * 1.03, np.full(3, 0.05), bias, rng)
    flow = run_flow(measured)
    assert flow.done
    cal = flow.finish()
    assert cal.quality is not None and cal.quality.verdict == "good", cal.quality
    assert np.max(np.abs(cal.bias_dps - bias)) < 0.2
    assert 9.5 < cal.quality.still_s < 12.5


def test_too_little_stillness_is_redo() -> None:
    rng = np.random.default_rng(1)
    cal = run_flow(apply_errors(still_session(3.0), np.eye(3), np.zeros(3), np.ones(3), rng)).finish()
    assert cal.quality is not None and cal.quality.verdict == "redo"
    assert any("at least 5 s" in r for r in cal.quality.reasons)


def test_slow_turn_is_caught_by_the_gravity_direction() -> None:
    # 0.5 deg/s steady turn about x: the gyro looks perfectly steady, but gravity turns by 5 deg.
    t = np.arange(0, 10, 0.01)
    ang = np.radians(0.5 * t)
    accel = np.stack([np.zeros_like(t), np.sin(ang), np.cos(ang)], axis=1)
    gyro = np.tile([0.5 + 1.0, 0.0, 0.0], (t.size, 1))
    periods = detect_still_periods(Samples.from_arrays(t, accel, gyro), StillnessThresholds())
    cal = fit_gyro_bias(periods)
    assert cal.quality is not None and cal.quality.verdict == "redo"
    assert any("turned by" in r for r in cal.quality.reasons)


def test_bias_agrees_across_poses_of_an_accel_session() -> None:
    rng = np.random.default_rng(3)
    bias = np.array([4.0, -2.5, 1.0])
    periods = detect_still_periods(apply_errors(pose_session(), np.eye(3), np.zeros(3), bias, rng))
    cal = fit_gyro_bias(periods)
    assert cal.quality is not None and cal.quality.verdict == "good"
    assert cal.quality.periods_used == 12
    assert np.max(np.abs(cal.bias_dps - bias)) < 0.2


def test_stream_without_gyro_is_refused() -> None:
    s = still_session(2.0)
    with pytest.raises(ValueError, match="no gyroscope"):
        GyroFlow().feed(Samples(s.t_s, s.accel_g, None))


def test_no_still_period_is_redo_with_advice() -> None:
    cal = fit_gyro_bias([])
    assert cal.quality is not None and cal.quality.verdict == "redo"
    assert "put the sensor down" in cal.quality.reasons[0]
