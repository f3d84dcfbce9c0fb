"""Failure modes found by bench/accuracy.py, each pinned by a case that used to go wrong."""

from __future__ import annotations

import numpy as np

from tracker.pipeline.config import PipelineConfig
from tracker.pipeline.orientation import OrientationFilter
from tracker.samples import Samples


def test_a_bouncing_bent_leg_keeps_its_pitch() -> None:
    """Seated with the thigh past horizontal, a bouncing leg's own acceleration can swing the
    accelerometer's pitch past 180 deg. That is still flexion: the fused pitch must not drop
    (it used to fall by 30 deg at once, and the drop was read as the end of a rep)."""
    rate = 100.0
    t = np.arange(0.0, 4.0, 1.0 / rate)
    pitch = np.radians(100.0)
    accel = np.column_stack(
        [np.full_like(t, np.sin(pitch)), np.zeros_like(t), np.full_like(t, np.cos(pitch))]
    )
    accel[:, 0] += 1.02 * np.sin(2 * np.pi * 4.5 * t) * (t > 1.0)  # the leg bouncing
    f = OrientationFilter(PipelineConfig(), rate)
    ang = f.feed(Samples(t, accel, np.zeros((len(t), 3))))
    acc_pitch = np.degrees(np.arctan2(accel[:, 0], accel[:, 2]))
    assert np.any(acc_pitch < -170.0)  # the case: the accelerometer alone reads "far back"
    assert np.all(np.abs(ang.pitch_deg[t > 1.0] - 100.0) < 25.0)
