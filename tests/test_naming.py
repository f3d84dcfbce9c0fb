"""Exercise names that hold on real bodies, at any sample rate, with or without a gyroscope
(issue 11). Real recordings are read in place from ../shared/data."""

from __future__ import annotations

import numpy as np
import pytest

from bench.accuracy import real_variant, run_pipeline
from firmware_sim.session import simulate
from firmware_sim.workout import Workout
from tests.paths import CMU_THIGH_DIR
from tracker.events import SetEvent
from tracker.io.load import load_session
from tracker.pipeline.config import PipelineConfig
from tracker.pipeline.orientation import OrientationFilter
from tracker.samples import Samples

CMU = CMU_THIGH_DIR
needs_cmu = pytest.mark.skipif(not CMU.is_dir(), reason=f"real recordings not found at {CMU}")


def _sets(samples: Samples) -> list[tuple[str, int]]:
    return [(e.exercise, len(e.reps)) for e in run_pipeline(samples) if isinstance(e, SetEvent)]


@needs_cmu
@pytest.mark.parametrize("name", ["SqDL_LeftThigh", "SqDL_RightThigh"])
def test_real_squats_without_gyro_are_squats(name: str) -> None:
    """Without a gyroscope the forward side comes from the specific force's tilt; a quick squat's
    start tilts it backward first (the sensor accelerates forward), which made the left thigh's
    squats backward swings: 5 x single_leg_deadlift (free leg) before."""
    samples = load_session(CMU / f"{name}.csv").samples
    assert _sets(real_variant(samples, "no-gyro")) == [("squat", 5)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simulated_squats_without_gyro_find_forward(seed: int) -> None:
    """Any mounting, accelerometer only: squats are squats, not backward swings. (The simulator
    does not reproduce the real backward tilt at the start; at 0.7-s descents seed 2 counts 7 of 8
    without gyro, before and after the change: a limit in docs/pipeline.md.)"""
    steps = [
        {"activity": "stand", "duration_s": 4.0},
        {"activity": "squat", "leg": "both", "reps": 8, "rest_s": 3.0},
    ]
    session = simulate(Workout.from_dict({"name": "q", "step": steps}, "t"), seed=seed, leg="left")
    s = session.samples()
    assert _sets(Samples.from_arrays(s.t_s, s.accel_g, None)) == [("squat", 8)]


@needs_cmu
@pytest.mark.parametrize(
    ("name", "variant", "expected"),
    [
        ("SqDL_RightThigh", "25Hz", [("squat", 5)]),  # was 5 x lunge: a 25-Hz jump read twice the jolt
        ("Lunge_LeftThigh", "200Hz", [("lunge", 5)]),  # was 5 x single_leg_deadlift: half the jolt
    ],
)
def test_real_names_hold_at_other_sample_rates(
    name: str, variant: str, expected: list[tuple[str, int]]
) -> None:
    """The jolt that tells a lunge's foot strike from a squat is measured over a fixed bandwidth
    and time, so a file resampled to 25 or 200 Hz keeps its name."""
    samples = load_session(CMU / f"{name}.csv").samples
    assert _sets(real_variant(samples, variant)) == expected


def test_jolt_reads_the_same_at_25_and_200_hz() -> None:
    """A smooth 0.5-g bump of |f| lasting 0.2 s: its jolt is within 15 % at 25 and 200 Hz (a
    sample-to-sample jump read 8 times more at 25 Hz)."""
    peaks = []
    for rate in (25.0, 200.0):
        t = np.arange(0.0, 3.0, 1.0 / rate)
        bump = 0.5 * np.exp(-0.5 * ((t - 1.5) / 0.05) ** 2)
        accel = np.column_stack([np.zeros_like(t), np.zeros_like(t), 1.0 + bump])
        angles = OrientationFilter(PipelineConfig(), rate).feed(Samples.from_arrays(t, accel, None))
        peaks.append(float(angles.impact_g.max()))
    assert peaks[0] == pytest.approx(peaks[1], rel=0.15)
    assert peaks[1] > 0.2


def test_accuracy_bench_scores_real_names_per_exercise_and_thigh() -> None:
    """bench/accuracy.py gives name accuracy beside count accuracy per exercise and sensor thigh
    for the real files (a half squat named single_leg_squat shows in its row)."""
    from bench.accuracy import real_by_exercise

    def row(expected: str, thigh: str, exact: bool, named: bool) -> dict[str, object]:
        return {"expected": expected, "thigh": thigh, "native": {"exact": exact, "named": named}}

    real = [
        row("squat", "left", True, True),
        row("squat", "left", True, False),
        row("lunge", "right", False, True),
        {"expected": None, "thigh": "left", "native": {"exact": True, "false_set": False}},
    ]
    assert real_by_exercise(real, ("native",)) == {
        "lunge (sensor on right thigh)": {"native": "0/1, 1/1"},
        "squat (sensor on left thigh)": {"native": "2/2, 1/2"},
    }
