"""Counting from any start (issue 11): sets done from a chair, sets without a quiet two-leg stance
before the first rep, shallow reps that repeat as a set. Simulated sessions (docs/simulator.md)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.accuracy import real_variant, run_pipeline, start_workout
from firmware_sim.session import simulate
from firmware_sim.workout import BUILTIN_DIR, Workout
from tests import workouts
from tracker.errors import InputFileError
from tracker.events import RepEvent, SetEvent


def _sets(events: list[object]) -> list[tuple[str, int]]:
    return [(e.exercise, len(e.reps)) for e in events if isinstance(e, SetEvent)]


# -- sets that start seated ---------------------------------------------------------------------

CHAIR_STAND = (BUILTIN_DIR / "chair-stand.toml").read_text()


@pytest.mark.parametrize(("seed", "leg"), [(0, "left"), (3, "right")])
def test_chair_stand_sets_from_the_session_start_count_every_stand(seed: int, leg: str) -> None:
    """builtin:chair-stand starts seated (no standing first): a 30-second chair-stand test of 12
    stands, then 8 box squats from the seat; then a walk and an ordinary sit, which are no set.
    Each stand is one squat rep, announced when the athlete is up. Before: the first still moment
    (seated) was taken for standing, so each rep ran seat -> stand -> seat and was announced back
    on the seat (about 1 s late), and seed 3 counted 11 of the 12 stands."""
    session = workouts.simulated(CHAIR_STAND, seed=seed, leg=leg)
    events = run_pipeline(session.samples())
    truth = session.truth.to_json()
    assert _sets(events) == [("squat", s["reps"]) for s in truth["sets"]]
    # every rep event comes when the athlete is up again (the truth's end of that stand)
    ends = [r["t_end_s"] for s in truth["sets"] for r in s["reps_detail"]]
    got = [e.rep.t_end_s for e in events if isinstance(e, RepEvent)]
    assert got == pytest.approx(ends, abs=0.5)


@pytest.mark.parametrize("seed", [0, 1])
def test_chair_stand_sets_from_the_session_start_count_every_stand_without_a_gyroscope(seed: int) -> None:
    """The same sessions from an accelerometer-only sensor. The still pose is the seat when the
    first movement turned the thigh 70 deg while the sensor rose 5 cm; without a gyroscope that
    rise is read from |specific force| (g plus the vertical acceleration, to first order). Before:
    the rise was not measured, the seat was taken for standing and the first set counted 9 (seed
    0) and 11 (seed 1) of 12 stands, named `deadlift`."""
    session = workouts.simulated(CHAIR_STAND, seed=seed, leg="left")
    events = run_pipeline(real_variant(session.samples(), "no-gyro"))
    truth = session.truth.to_json()
    assert _sets(events) == [("squat", s["reps"]) for s in truth["sets"]]


@pytest.mark.parametrize(("seed", "leg"), [(0, "left"), (7, "right")])
def test_seated_sets_after_a_standing_rest_count_without_a_gyroscope(seed: int, leg: str) -> None:
    """bench/accuracy.py's seated-start sessions (a chair-stand set, a standing rest, box squats
    from the seat, a walk, a sit), accelerometer only. Before, the seat was taken for standing:
    the first sets counted 4 of 14 (seed 0) and 5 of 10 (seed 7). Two more things had to hold
    once the seat was found. Seed 0: the standing rest stood 11 deg from the standing angle the
    quick stands had left, so after the sit the detector waited for that angle for the rest of
    the session (0 of 8 box squats); now the first quiet upright moment after a sit re-learns
    it. Seed 7: the first sit back down after the rise read as a knee lift (the leaky height
    still carried the rise), so the set lost its first two stands."""
    start = start_workout(np.random.default_rng([11, seed, int(leg == "right")]))
    session = simulate(start, seed=seed, leg=leg, mounting="random")
    events = run_pipeline(real_variant(session.samples(), "no-gyro"))
    truth = session.truth.to_json()
    assert _sets(events) == [("squat", s["reps"]) for s in truth["sets"]]


def test_a_seated_start_is_a_squat_option_and_its_truth_counts_stands() -> None:
    """``start = "seated"`` (docs/simulator.md) applies to squat sets only, with an error naming
    the step and field; the truth counts stands, rep 1 being the first rise from the seat."""
    with pytest.raises(InputFileError, match=r"step 1: field 'start' = seated applies to squat sets only"):
        Workout.from_toml_str(workouts.step("deadlift", reps=3, start="seated"))
    with pytest.raises(
        InputFileError, match=r"step 1: field 'start' is 'sofa'; expected standing, moving or seated"
    ):
        Workout.from_toml_str(workouts.step("squat", reps=3, start="sofa"))
    truth = workouts.simulated(CHAIR_STAND, seed=0).truth.to_json()
    first = truth["sets"][0]["reps_detail"]
    assert len(first) == 12
    assert first[0]["t_bottom_s"] == first[0]["t_start_s"]  # it starts on the seat
    assert all(75 < r["depth_deg"] < 95 for r in first)  # seated thigh ~85 deg from standing


# -- no quiet stance before the first rep ---------------------------------------------------------


@pytest.mark.parametrize(
    ("exercise", "seed"), [("squat", 0), ("squat", 1), ("single_leg_squat", 0), ("single_leg_squat", 2)]
)
def test_a_set_straight_from_a_walk_is_counted(exercise: str, seed: int) -> None:
    """The session starts mid-stride, the set starts straight from the walk and the athlete walks
    on (2 minutes): no quiet moment of 0.8 s anywhere near the set. The thigh axis now comes from
    the short still moments at the top of the reps (0.8 s in all, in one pose). Before: it came
    from the first quiet moment, at the end of the session, and the set was lost (0 reps)."""
    extra = {"leg": "left"} if exercise == "single_leg_squat" else {}
    text = workouts.script(
        workouts.step("walk", duration_s=12),
        workouts.step(exercise, start="moving", reps=8, **extra),
        workouts.step("walk", duration_s=130),
    )
    session = workouts.simulated(text, seed=seed, leg="left")
    assert _sets(run_pipeline(session.samples())) == [(exercise, 8)]


@pytest.mark.parametrize("seed", [4, 7])
def test_deadlifts_straight_from_a_walk_are_measured_from_the_top(seed: int) -> None:
    """Deadlifts straight from a walk pause about as long at the bottom as at the top, and the
    bottom's first pause may be the first 0.8 s of stillness: the thigh axis was then the bottom
    pose (about 30 deg off), and seed 4 counted 7 of 8, seed 7 named the set `squat`. Now, after
    3 s of movement, a still pose nearer the mean direction of that movement (walking swings about
    standing) by 4 deg is standing instead."""
    text = workouts.script(
        workouts.step("walk", duration_s=12),
        workouts.step("deadlift", start="moving", reps=8),
        workouts.step("walk", duration_s=40),
    )
    session = workouts.simulated(text, seed=seed, leg="left")
    assert _sets(run_pipeline(session.samples())) == [("deadlift", 8)]


# -- shallow reps that repeat as a set ------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 2, 3, 5])
def test_shallow_standing_leg_hinges_count_as_a_set(seed: int) -> None:
    """Single-leg deadlifts with the sensor on the standing leg, whose thigh travels only 10 deg
    (real standing legs travel 10-30 deg), after a warm-up: a slow flexion of 7-10 deg from the
    standing angle is a rep when three such reps come in a row (announced together). Before:
    the reps under 10 deg were `shallow`, so the set of 10 counted 5 (seed 0) or 7 (seed 3); and
    the standing angle crept up the slow way down of rep after rep, so seed 2 counted 4 of 10.
    Seed 5 counted 9: its last pause, 0.6 s with 2 deg of sway, has no quiet moment, so the last
    rep was measured from where the rep before ended, on its way up, and that tail lay in the
    bottom band of a 10-deg rep: one 4.7-s `hold`."""
    text = workouts.script(
        *workouts.WARM_UP,
        workouts.SHALLOW_STANDING_LEG_HINGES,
    )
    sets = _sets(run_pipeline(workouts.simulated(text, seed=seed).samples()))
    assert [n for _, n in sets] == [3, 10]


@pytest.mark.parametrize(("seed", "depth"), [(1, 12), (3, 15)])
def test_slow_shallow_squats_count_as_one_set(seed: int, depth: int) -> None:
    """Slow shallow squats (2.5 s down, 2.5 s up, 12-15 deg) after a warm-up: one set of 8. The
    thigh turns slower than a quiet stance on its way down and up, so the standing angle must not
    be re-learnt there. Before: it was (near the old angle, or held for half a second), climbed a
    few degrees a rep, and reps were lost: 4 sets of 1, 1, 1 and 2 (seed 1, 12 deg), 5
    of 8 (seed 3, 15 deg)."""
    text = workouts.script(
        *workouts.WARM_UP, workouts.step("squat", reps=8, depth_deg=depth, tempo_s=[2.5, 0.5, 2.5])
    )
    sets = _sets(run_pipeline(workouts.simulated(text, seed=seed).samples()))
    assert [n for _, n in sets] == [3, 8]
