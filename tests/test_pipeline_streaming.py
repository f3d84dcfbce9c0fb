"""Streaming equals batch: the same events whatever the packet sizes, gaps included."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from tests import workouts
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


@functools.cache
def _session(name: str) -> Samples:
    """The module's sessions, built on first use (not at import) and once."""
    if name == "squats":
        return squat_session(3)
    if name == "squats, no gyro, a gap":
        return squat_session(4, with_gyro=False, gap=True)
    return _free_leg()


@functools.cache
def _batch(name: str) -> list[object]:
    """The events of a whole session in one chunk: the reference every example compares with."""
    return run(_session(name))


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
    batch = _batch("squats")
    assert sum(isinstance(e, RepEvent) for e in batch) == 4
    assert run(_session("squats"), sizes) == batch


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=8))
def test_streaming_equals_batch_without_gyro_and_with_a_gap(sizes: list[int]) -> None:
    batch = _batch("squats, no gyro, a gap")
    assert sum(isinstance(e, RepEvent) for e in batch) == 4
    assert run(_session("squats, no gyro, a gap"), sizes) == batch


def test_one_sample_at_a_time_equals_batch() -> None:
    assert run(_session("squats"), [1]) == _batch("squats")


def test_state_follows_the_session() -> None:
    p = Pipeline()
    assert p.state["total_reps"] == 0 and p.state["phase"] == "idle"
    session = _session("squats")
    p.feed(session.slice(0, 900))
    assert p.state["reps_in_set"] >= 2 and p.state["set_index"] == 1
    p.feed(session.slice(900, len(session)))
    p.finish()
    assert p.state["total_reps"] == 4
    assert p.state["set_index"] is None  # set closed after the rest


# squats to find the mounting, then single-leg squats with the sensor on the free leg (held in
# the air: the parked-leg rule) with a balance loss, then single-leg deadlifts on the free leg
def _free_leg() -> Samples:
    return workouts.simulated(workouts.FREE_LEG_SINGLE_LEG_WORK, 7, "right").samples()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=10))
def test_streaming_equals_batch_for_free_leg_single_leg_work(sizes: list[int]) -> None:
    batch = _batch("free leg")
    sets = [e for e in batch if isinstance(e, SetEvent)]
    assert [len(s.reps) for s in sets] == [2, 5, 3]
    assert any(isinstance(e, WobbleEvent) and e.balance_loss for e in batch)
    assert run(_free_leg(), sizes) == batch
