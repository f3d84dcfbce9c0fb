"""Streaming equals batch: the same events whatever the packet sizes, gaps included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from tracker.events import RepEvent, SetEvent, WobbleEvent
from tracker.pipeline import Pipeline
from tracker.samples import Samples


def squat_session(seed: int, reps: int = 4, with_gyro: bool = True, gap: bool = False) -> Samples:
    """A small synthetic squat set in a random mounting: quiet standing, reps, quiet standing."""
    rng = np.random.default_rng(seed)
    rate = 100.0
    rep_s = 2.4
    t = np.arange(0, 3.0 + reps * rep_s + 14.0, 1 / rate)
    pitch = np.zeros_like(t)
    active = (t >= 3.0) & (t < 3.0 + reps * rep_s)
    phase = (t[active] - 3.0) / rep_s
    pitch[active] = 85.0 * 0.5 * (1 - np.cos(2 * np.pi * phase))
    th = np.radians(pitch)
    up_thigh = np.stack([np.sin(th), np.zeros_like(th), np.cos(th)], axis=1)
    gyro_thigh = np.zeros((len(t), 3))
    gyro_thigh[:, 1] = -np.gradient(pitch, t)
    rot = Rotation.random(random_state=seed).as_matrix()  # R_thigh_from_sensor
    accel = up_thigh @ rot + rng.normal(0, 0.01, (len(t), 3))
    gyro = gyro_thigh @ rot + rng.normal(0, 0.5, (len(t), 3))
    if gap:
        keep = (t < 10.0) | (t > 10.3)
        t, accel, gyro = t[keep], accel[keep], gyro[keep]
    return Samples.from_arrays(t, accel, gyro if with_gyro else None)


def run(samples: Samples, sizes: list[int] | None = None) -> list[object]:
    p = Pipeline()
    events: list[object] = []
    if sizes is None:
        events += p.feed(samples)
    else:
        i = 0
        k = 0
        while i < len(samples):
            n = sizes[k % len(sizes)]
            events += p.feed(samples.slice(i, i + n))
            i += n
            k += 1
    events += p.finish()
    return events


SESSION = squat_session(3)
SESSION_GAP_NO_GYRO = squat_session(4, with_gyro=False, gap=True)


def test_synthetic_squats_are_counted_in_any_mounting() -> None:
    for seed in range(4):
        events = run(squat_session(seed, reps=3 + seed))
        reps = [e for e in events if isinstance(e, RepEvent)]
        sets = [e for e in events if isinstance(e, SetEvent)]
        assert len(reps) == 3 + seed
        assert len(sets) == 1 and len(sets[0].reps) == 3 + seed
        assert all(abs(r.rep.depth_deg - 85.0) < 5.0 for r in reps)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=12))
def test_streaming_equals_batch(sizes: list[int]) -> None:
    batch = run(SESSION)
    assert sum(isinstance(e, RepEvent) for e in batch) == 4
    assert run(SESSION, sizes) == batch


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=8))
def test_streaming_equals_batch_without_gyro_and_with_a_gap(sizes: list[int]) -> None:
    batch = run(SESSION_GAP_NO_GYRO)
    assert sum(isinstance(e, RepEvent) for e in batch) == 4
    assert run(SESSION_GAP_NO_GYRO, sizes) == batch


def test_one_sample_at_a_time_equals_batch() -> None:
    assert run(SESSION, [1]) == run(SESSION)


def test_state_follows_the_session() -> None:
    p = Pipeline()
    assert p.state["total_reps"] == 0 and p.state["phase"] == "idle"
    p.feed(SESSION.slice(0, 900))
    assert p.state["reps_in_set"] >= 2 and p.state["set_index"] == 1
    p.feed(SESSION.slice(900, len(SESSION)))
    p.finish()
    assert p.state["total_reps"] == 4
    assert p.state["set_index"] is None  # set closed after the rest


def _simulated(workout_toml: str, seed: int, leg: str) -> Samples | None:
    try:
        from firmware_sim.session import simulate
        from firmware_sim.workout import Workout
    except ImportError:  # pragma: no cover - the simulator is part of the repository
        return None
    return simulate(Workout.from_toml_str(workout_toml), seed=seed, leg=leg, mounting="random").samples()


# squats to find the mounting, then single-leg squats with the sensor on the free leg (held in
# the air: the parked-leg rule) with a balance loss, then single-leg deadlifts on the free leg
FREE_LEG = _simulated(
    """
[[step]]
activity = "stand"
duration_s = 4
[[step]]
activity = "squat"
reps = 2
rest_s = 12
[[step]]
activity = "single_leg_squat"
leg = "left"
reps = 5
free_leg = "knee"
balance_losses = 1
rest_s = 12
[[step]]
activity = "single_leg_deadlift"
leg = "left"
reps = 3
rest_s = 12
""",
    seed=7,
    leg="right",
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=10))
def test_streaming_equals_batch_for_free_leg_single_leg_work(sizes: list[int]) -> None:
    if FREE_LEG is None:  # pragma: no cover
        pytest.skip("firmware_sim is not importable")
    batch = run(FREE_LEG)
    sets = [e for e in batch if isinstance(e, SetEvent)]
    assert [len(s.reps) for s in sets] == [2, 5, 3]
    assert any(isinstance(e, WobbleEvent) and e.balance_loss for e in batch)
    assert run(FREE_LEG, sizes) == batch
