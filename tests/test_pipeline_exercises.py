"""The exercise registry: one entry per exercise, read by the set tracker, the simulator and the
bench, and documented in docs/pipeline.md."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_sim import workout
from tracker.pipeline import PipelineConfig
from tracker.pipeline.exercises import BY_NAME, EXERCISES, SINGLE_LEG, RepShape, display_name, name_rep
from tracker.pipeline.naming import RepPhysics
from tracker.pipeline.sets import working_leg

CONFIG = PipelineConfig()
DOC = Path(__file__).resolve().parents[1] / "docs" / "pipeline.md"


def phys(fall_m: float, sway_deg: float) -> RepPhysics:
    """A rep's physics with the same frontal sway smoothed over 0.33 s and 0.6 s (slow sway)."""
    return RepPhysics(fall_m=fall_m, drop_ratio_m=0.0, frontal_sway_deg=sway_deg, slow_sway_deg=sway_deg)


def shape(**kw: float | bool | RepPhysics) -> RepShape:
    base = RepShape(
        depth_deg=60.0,
        signed_depth_deg=60.0,
        ml_sway_deg=0.5,
        max_impact_g=0.05,
        rise_height_m=-0.1,
        parked=False,
    )
    return dataclasses.replace(base, **kw)


def test_every_exercise_is_documented_with_its_json_name() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(), re.MULTILINE))
    assert {e.name for e in EXERCISES} <= documented
    assert len(BY_NAME) == len(EXERCISES)  # one entry per name


def test_registry_entries_name_real_thresholds() -> None:
    fields = {f.name for f in dataclasses.fields(PipelineConfig)}
    for exercise in EXERCISES:
        assert set(exercise.thresholds) <= fields, exercise.name
        assert exercise.display_name and exercise.looks_like


def test_the_simulator_takes_its_exercises_and_defaults_from_the_registry() -> None:
    simulated = {e.name for e in EXERCISES if e.sim is not None}
    assert set(workout.EXERCISES) | set(workout.CORE) >= simulated
    assert set(workout.SINGLE_LEG) == set(SINGLE_LEG) == {"single_leg_squat", "single_leg_deadlift"}
    for name in simulated:
        raw = {"activity": name, "reps": 3, **({"leg": "left"} if name in SINGLE_LEG else {})}
        step = workout.Workout.from_dict({"name": "t", "step": [raw]}, "test").steps[0]
        sim = BY_NAME[name].sim
        assert sim is not None
        assert step.resolved_depth() == sim.depth_deg
        assert tuple(step.resolved_tempo()) == sim.tempo_s


@pytest.mark.parametrize(
    ("rep", "named"),
    [
        (shape(parked=True), ("single_leg_squat", "free")),
        (shape(max_impact_g=0.9), ("lunge", "both")),
        (shape(max_impact_g=0.6, rise_height_m=0.02), ("lunge", "both")),
        (shape(max_impact_g=0.6), ("squat", "both")),  # a small jolt while the sensor went down
        (shape(signed_depth_deg=-60.0), ("single_leg_deadlift", "free")),
        (
            shape(depth_deg=25.0, signed_depth_deg=25.0, physics=phys(0.005, 1.5)),
            ("single_leg_deadlift", "standing"),
        ),
        (shape(depth_deg=25.0, signed_depth_deg=25.0, physics=phys(0.005, 0.1)), ("deadlift", "both")),
        # the same 33-deg flexion: the sensor barely came down (a hinge) or came down 12 cm (a squat)
        (shape(depth_deg=33.0, signed_depth_deg=33.0, physics=phys(0.0, 0.1)), ("deadlift", "both")),
        (shape(depth_deg=33.0, signed_depth_deg=33.0, physics=phys(0.12, 0.1)), ("squat", "both")),
        (shape(depth_deg=90.0, signed_depth_deg=90.0, physics=phys(0.25, 0.2)), ("squat", "both")),
        (shape(physics=phys(0.15, 1.5)), ("single_leg_squat", "standing")),
        # without a gyroscope the frontal sway says nothing: the two-leg name
        (shape(physics=phys(0.15, 1.5), accel_only=True), ("squat", "both")),
        (shape(), ("squat", "both")),
    ],
)
def test_reps_are_named_by_the_first_matching_rule(rep: RepShape, named: tuple[str, str]) -> None:
    assert name_rep(rep, CONFIG) == named


@given(
    st.builds(
        RepShape,
        depth_deg=st.floats(0, 180),
        signed_depth_deg=st.floats(-180, 180),
        ml_sway_deg=st.floats(0, 20),
        max_impact_g=st.floats(0, 5),
        rise_height_m=st.floats(-1, 1),
        parked=st.booleans(),
        physics=st.builds(
            RepPhysics,
            fall_m=st.floats(-1, 1),
            drop_ratio_m=st.floats(-5, 5),
            frontal_sway_deg=st.floats(0, 20),
        ),
        accel_only=st.booleans(),
    )
)
def test_every_rep_gets_a_registry_name(rep: RepShape) -> None:
    name, sensor_on = name_rep(rep, CONFIG)
    assert name in BY_NAME
    assert BY_NAME[name].single_leg or sensor_on == "both"


def test_working_leg_follows_the_registry() -> None:
    assert working_leg("single_leg_squat", "free", "left") == "right"
    assert working_leg("single_leg_deadlift", "standing", "left") == "left"
    assert working_leg("single_leg_squat", "standing", "unknown") == "unknown"
    assert working_leg("lunge", "both", "left") == "both"
    assert display_name("single_leg_deadlift") == "Single-leg deadlift"
    assert display_name("split_squat") == "split_squat"
