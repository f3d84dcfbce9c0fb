"""Failure modes found by bench/accuracy.py, each pinned by a simulated case that used to miscount."""

from __future__ import annotations

import numpy as np
import pytest

from calibration import DeviceCalibration, Mounting
from firmware_sim.session import SimulatedSession, simulate
from firmware_sim.workout import load_workout
from tests import workouts
from tracker.events import Event, RepEvent, SetEvent
from tracker.pipeline import Pipeline
from tracker.samples import Samples


def _live(session: SimulatedSession, pipeline: Pipeline | None = None) -> list[Event]:
    """The pipeline's events for a simulated session, fed in 10-sample packets as a live sensor's."""
    p = pipeline or Pipeline()
    return [e for chunk in session.samples().chunks(10) for e in p.feed(chunk)] + p.finish()


def _events(workout: str, seed: int, leg: str) -> list[Event]:
    return _live(workouts.simulated(workout, seed, leg))


def _sets(workout: str, seed: int, leg: str) -> list[tuple[str, int]]:
    return [(e.exercise, len(e.reps)) for e in _events(workout, seed, leg) if isinstance(e, SetEvent)]


@pytest.mark.parametrize(("seed", "leg"), [(1, "left"), (3, "right")])
def test_slow_single_leg_deadlift_on_the_standing_leg_counts_every_rep(seed: int, leg: str) -> None:
    """The standing thigh of a slow single-leg deadlift bends only ~17 deg, so slowly that it is
    "quiet" on its way down. The standing angle used to be re-learnt there, a little deeper each
    rep, until the reps looked too shallow (these sets counted 5 and 7 of 9)."""
    assert _sets(workouts.slow_single_leg_deadlifts(leg), seed, leg) == [
        ("squat", 3),
        ("single_leg_deadlift", 9),
    ]


BENCH_CASES = [
    (18, "left", "single_leg_squat", "free"),
    (17, "right", "single_leg_squat", "free"),
    (29, "left", "single_leg_deadlift", "free"),
    (1, "left", "single_leg_deadlift", "free"),
]


@pytest.mark.parametrize(("seed", "leg", "exercise", "sensor_on"), BENCH_CASES)
def test_bench_workout_set_counted_and_no_rep_outside_sets(
    seed: int, leg: str, exercise: str, sensor_on: str
) -> None:
    """Random workouts of bench/accuracy.py that went wrong. Single-leg squat, sensor on the free
    leg: seed 18, the held leg's reference used to be taken part of the way up the slow first rep,
    so every rep looked half as deep (9 of 12 counted); seed 17, the leg never held still after its
    lift, its first rep merged with the lift and, measured from standing, made the others look too
    shallow (9 of 12, in two sets). Single-leg deadlift, sensor on the free leg: a first version
    of the standing-angle guard (see the slow hinge above) read the leg coming back to vertical from
    behind after the set as a slow flexion (seed 29: two reps too many; seed 1: a rep in the rest)."""
    from bench.accuracy import random_workout

    rng = np.random.default_rng(1000 * seed + (leg == "right"))
    session = simulate(random_workout(rng, leg), seed=seed, leg=leg, mounting="random")
    truth = session.truth.to_json()
    (true_set,) = [s for s in truth["sets"] if s["exercise"] == exercise and s["sensor_on"] == sensor_on]
    events = _live(session)
    found = [
        e
        for e in events
        if isinstance(e, SetEvent) and e.start_s < true_set["end_s"] and e.end_s > true_set["start_s"]
    ]
    assert [(s.exercise, len(s.reps)) for s in found] == [(exercise, true_set["reps"])]
    stray = [
        e.rep.t_bottom_s
        for e in events
        if isinstance(e, RepEvent)
        and not any(s["start_s"] - 1 <= e.rep.t_bottom_s <= s["end_s"] + 1 for s in truth["sets"])
    ]
    assert stray == []


@pytest.mark.parametrize(
    ("seed", "leg"), [(1, "right"), (11, "left"), (12, "left"), (26, "left"), (26, "right"), (32, "left")]
)
def test_daily_life_makes_no_reps(seed: int, leg: str) -> None:
    """The built-in daily-life script (walking, stairs, sitting, running, fidgeting, step-ups).
    Seed 11: sitting down with a bouncing leg passed as a lone, at-once rep; seed 12: the first
    step up right after standing up from the chair did (the height estimate still falling from
    standing up hid the knee lift); seed 1: that step up and the step down made a two-rep set;
    seed 32: two stair strides 9 s apart made a two-rep lunge set (see the stairs below); seed 26:
    the first step up (a 59-deg knee lift in 1.45 s) was a one-rep `squat` set, announced at once:
    the leaky height read a 1-cm rise, the rep's own drift-free fall a 6-cm rise."""
    session = simulate(load_workout("builtin:daily-life"), seed=seed, leg=leg, mounting="random")
    events = _live(session)
    assert [e for e in events if isinstance(e, RepEvent | SetEvent)] == []


@pytest.mark.parametrize(("seed", "leg"), [(4, "left"), (6, "right")])
def test_daily_life_without_gyroscope_makes_no_reps(seed: int, leg: str) -> None:
    """The daily-life script on a sensor with no gyroscope. Standing up from the chair, then the
    step-ups: the stand-up waited as a lone rep, a slow 10-deg flexion of a step (a shallow rep,
    which counts only when three reps repeat) and any next flexion joined it, and the three
    opened a set that counted every step-up after them (6 false reps in each of these sessions).
    A rep under 55 % of the lone rep waiting before it is no rep of its set, shallow or not."""
    full = simulate(load_workout("builtin:daily-life"), seed=seed, leg=leg, mounting="random").samples()
    p = Pipeline()
    accel_only = Samples.from_arrays(full.t_s, full.accel_g, None)
    events = [e for chunk in accel_only.chunks(10) for e in p.feed(chunk)] + p.finish()
    assert [e for e in events if isinstance(e, RepEvent | SetEvent)] == []


@pytest.mark.parametrize(("seed", "leg"), [(4, "left"), (5, "left"), (6, "right"), (7, "right")])
def test_stairs_without_gyroscope_make_no_reps(seed: int, leg: str) -> None:
    """Stairs on a sensor with no gyroscope: the sensor's rise, which the `stride` rule reads, is
    not measured well enough, and strides with a foot strike that followed each other without a
    still moment paired into `lunge` sets (3-4 false reps in each of these sessions). Two such
    flexions in a row open no set."""
    full = workouts.simulated(workouts.STAIRS, seed, leg).samples()
    p = Pipeline()
    accel_only = Samples.from_arrays(full.t_s, full.accel_g, None)
    events = [e for chunk in accel_only.chunks(10) for e in p.feed(chunk)] + p.finish()
    assert [e for e in events if isinstance(e, RepEvent | SetEvent)] == []


@pytest.mark.parametrize(("seed", "leg"), [(6, "right"), (41, "left")])
def test_stairs_make_no_reps(seed: int, leg: str) -> None:
    """Going up stairs, some strides dip the sensor a few cm at the top of the knee lift, as a
    lunge's step does, and passed the knee-lift gate; two of them within 10 s made a two-rep
    lunge set (these sessions did). A lunge starts from standing still; stair strides follow each
    other without a pause, so a knee lift with no still moment before it is a stride."""
    events = _events(workouts.STAIRS, seed, leg)
    assert [e for e in events if isinstance(e, RepEvent | SetEvent)] == []


@pytest.mark.parametrize(("seed", "leg"), [(16, "left"), (24, "right")])
def test_first_rep_from_a_held_free_leg_is_announced_at_once(seed: int, leg: str) -> None:
    """Bench workouts (bench/accuracy.py), single-leg squat with the sensor on the free leg: the
    first rep measured from the held leg used to wait for the second (shallow and quick, it looked
    like a hinge too short to trust), about 3 s late."""
    from bench.accuracy import random_workout

    rng = np.random.default_rng(1000 * seed + (leg == "right"))
    session = simulate(random_workout(rng, leg), seed=seed, leg=leg, mounting="random")
    truth = session.truth.to_json()
    (true_set,) = [
        s for s in truth["sets"] if s["exercise"] == "single_leg_squat" and s["sensor_on"] == "free"
    ]
    events = _live(session)
    first = true_set["reps_detail"][0]
    (rep,) = [
        e for e in events if isinstance(e, RepEvent) and abs(e.rep.t_bottom_s - first["t_bottom_s"]) < 1.0
    ]
    assert rep.rep.n == 1
    assert rep.t_s - first["t_end_s"] < 0.15


@pytest.mark.parametrize("seed", [0, 4])
def test_a_free_legs_swing_is_measured_from_where_it_hangs(seed: int) -> None:
    """The free leg of a single-leg deadlift hangs a few degrees back between its swings. Each
    swing's depth is measured from there (the simulator's truth: from the rep's start); it used
    to be measured from quiet standing before the set, 7-9 deg too deep on these seeds."""
    session = simulate(
        workouts.workout(workouts.FREE_LEG_DEADLIFT), seed=seed, leg="left", mounting=np.eye(3)
    )
    truth = session.truth.to_json()
    aligned = DeviceCalibration("thigh-aligned", mounting=Mounting(np.eye(3), "left"))
    events = _live(session, Pipeline(calibration=aligned))
    reps = [e.rep for e in events if isinstance(e, RepEvent)]
    true_reps = [r for s in truth["sets"] for r in s["reps_detail"]]
    assert truth["sets"][0]["sensor_on"] == "free" and len(reps) == len(true_reps) == 8
    err = [abs(r.depth_deg - abs(tr["depth_deg"])) for r, tr in zip(reps, true_reps, strict=True)]
    assert float(np.mean(err)) < 3.0 and max(err) < 5.0
