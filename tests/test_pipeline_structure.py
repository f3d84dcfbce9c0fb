"""The pipeline's parts on their own: the rep detector's explicit state, its named rejection
rules, and the set's running median."""

from __future__ import annotations

import dataclasses
import logging
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim.session import simulate
from tests import workouts
from tracker.pipeline import PipelineConfig
from tracker.pipeline.orientation import OrientationFilter, ThighAngles
from tracker.pipeline.rejection import RULES, Candidate, first_rejection
from tracker.pipeline.reps import Excursion, RepDetector
from tracker.pipeline.sets import RunningMedian
from tracker.pipeline.wobble import SwayFilter
from tracker.samples import FloatArray

CONFIG = PipelineConfig()


@cache
def detector_input() -> tuple[ThighAngles, FloatArray, FloatArray]:
    """The detector's input for a simulated session worn in the thigh frame (no mounting to find)."""
    sim = simulate(workouts.workout(workouts.EVERY_PHASE), seed=11, leg="right", mounting=np.eye(3))
    samples = sim.samples()
    angles = OrientationFilter(CONFIG, sim.rate_hz, roll_sign=-1.0).feed(samples)
    ap, ml = SwayFilter(CONFIG, sim.rate_hz).feed(angles.pitch_deg, angles.roll_deg)
    return angles, ap, ml


def part(a: int, b: int) -> tuple[ThighAngles, FloatArray, FloatArray]:
    angles, ap, ml = detector_input()
    fields = {f.name: getattr(angles, f.name)[a:b] for f in dataclasses.fields(angles)}
    return ThighAngles(**fields), ap[a:b], ml[a:b]


def fresh() -> RepDetector:
    detector = RepDetector(CONFIG)
    detector.set_sample_rate(100.0)
    return detector


@cache
def whole() -> tuple[list[Excursion], list[tuple[float, str]]]:
    detector = fresh()
    out = detector.feed(*part(0, len(detector_input()[0].t_s)))
    return out, detector.phase_changes


def test_the_session_exercises_every_phase_and_rejections() -> None:
    excursions, phases = whole()
    assert {p for _, p in phases} == {"standing", "descent", "ascent", "hold"}
    assert sum(e.valid for e in excursions) == 11  # every rep of the script
    assert {e.reject_reason for e in excursions if not e.valid} >= {"short"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.floats(0.0, 1.0), rest_chunk=st.integers(5, 5000))
def test_state_saved_mid_session_and_restored_gives_the_same_events(cut: float, rest_chunk: int) -> None:
    n = len(detector_input()[0].t_s)
    k = int(cut * (n - 1)) + 1
    first = fresh()
    before = first.feed(*part(0, k))
    phases = list(first.phase_changes)
    saved = first.save_state()
    first.feed(*part(k, n))  # the original goes on: the saved copy must not change with it
    resumed = RepDetector(CONFIG, saved)
    after: list[Excursion] = []
    for a in range(k, n, rest_chunk):
        after += resumed.feed(*part(a, min(a + rest_chunk, n)))
        phases += resumed.phase_changes
    excursions, whole_phases = whole()
    assert before + after == excursions
    assert phases == whole_phases


def test_every_rejection_rule_has_a_name_and_a_reason() -> None:
    names = [rule.name for rule in RULES]
    assert len(set(names)) == len(names)
    assert all(rule.why for rule in RULES)


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (Candidate(depth_deg=6.0, signed_depth_deg=6.0, duration_s=2.0), "shallow"),
        (Candidate(depth_deg=40.0, signed_depth_deg=40.0, duration_s=0.8), "short"),
        (Candidate(depth_deg=90.0, signed_depth_deg=90.0, duration_s=9.0, bottom_s=6.0), "hold"),
        (Candidate(40.0, -40.0, 2.5, parked=True), "below_parked_leg"),
        (Candidate(20.0, -20.0, 2.5), "shallow_extension"),
        (Candidate(50.0, 50.0, 1.6, rise_height_m=0.05, drop_m=0.0), "knee_lift"),
        (Candidate(50.0, 50.0, 1.6, rise_height_m=0.05, drop_m=0.05, stood_before=False), "stride"),
        (Candidate(50.0, 50.0, 1.6, rise_height_m=0.05, drop_m=0.05, stood_before=True), None),
        (Candidate(80.0, 80.0, 2.4, from_standing=False), "not_from_standing"),
        (Candidate(80.0, 80.0, 2.4, max_impact_g=6.0), "impact"),
        (Candidate(80.0, 80.0, 2.4), None),
    ],
)
def test_rules_name_the_first_reason_that_applies(candidate: Candidate, reason: str | None) -> None:
    rule = first_rejection(candidate, CONFIG)
    assert (rule.name if rule else None) == reason


def test_rejections_are_logged_with_their_reason(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tracker.pipeline.reps")
    detector = fresh()
    excursions = detector.feed(*part(0, len(detector_input()[0].t_s)))
    rejected = [e for e in excursions if not e.valid]
    logged = [r.getMessage() for r in caplog.records if r.name == "tracker.pipeline.reps"]
    assert len(logged) == len(rejected)
    assert all(e.reject_reason in line for e, line in zip(rejected, logged, strict=True))


depths = st.floats(min_value=0.0, max_value=180.0, allow_nan=False)


@given(st.lists(depths, min_size=1, max_size=60))
def test_running_median_equals_the_median_of_all_values_at_every_step(values: list[float]) -> None:
    running = RunningMedian()
    for k, value in enumerate(values):
        running.add(value)
        assert len(running) == k + 1
        assert running.median() == float(np.median(values[: k + 1]))
