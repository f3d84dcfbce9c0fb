"""After calibration, a badly mounted, error-laden sensor counts like an ideal one.

The simulator renders the same motion for the same seed whatever the mounting and IMU errors, so
an ideal sensor (thigh-aligned, no errors) and a bad one (random mounting, errors at the issue's
bounds) see the same reps. The bad sensor is calibrated with the same flows a user runs
(accel poses, gyro still, mounting from standing and squats), then both go through the pipeline.
"""

from __future__ import annotations

import numpy as np
import pytest

from calibration import DeviceCalibration, Mounting
from calibration.mounting import Leg, rotation_angle_deg
from firmware_sim.calibration_source import calibrate_simulated, ideal_twin, sim_imu_errors, sim_mounting
from firmware_sim.session import simulate
from firmware_sim.workout import load_workout
from tests import workouts
from tracker.events import SetEvent
from tracker.pipeline import Pipeline
from tracker.samples import Samples


def _sets(samples: Samples, calibration: DeviceCalibration) -> list[SetEvent]:
    """The sets of a session fed in 10 s chunks: the events of any chunking are the same
    (tests/test_pipeline_chunking.py), and 10-sample packets cost 10 times the CPU here."""
    pipeline = Pipeline(calibration=calibration)
    events = [e for chunk in samples.chunks(1000) for e in pipeline.feed(chunk)] + pipeline.finish()
    return [e for e in events if isinstance(e, SetEvent)]


def _depths(sets: list[SetEvent]) -> np.ndarray:
    return np.array([r.depth_deg for s in sets for r in s.reps])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_calibrated_bad_sensor_counts_and_measures_like_an_ideal_one(seed: int) -> None:
    leg: Leg = "left" if seed % 2 else "right"
    workout = workouts.workout(workouts.CALIBRATION_CHECK)
    errors = sim_imu_errors(seed)
    r_true, _ = sim_mounting(seed)
    assert rotation_angle_deg(r_true, np.eye(3)) > 20  # really badly mounted
    ideal = simulate(workout, seed=seed, leg=leg, mounting=np.eye(3), imu=ideal_twin(errors))
    bad = simulate(workout, seed=seed, leg=leg, mounting=r_true, imu=errors)

    # The user's calibration of the bad sensor, with the same flows as `reptrack calibrate`.
    cal = calibrate_simulated("bad", errors, r_true, leg, seed)
    for part in (cal.imu.accel, cal.imu.gyro, cal.mounting):
        assert part is not None and part.quality is not None and part.quality.verdict == "good", part

    reference = _sets(ideal.samples(), DeviceCalibration("ideal", mounting=Mounting(np.eye(3), leg)))
    measured = _sets(bad.samples(), cal)
    assert sum(len(s.reps) for s in reference) >= 14  # the pipeline sees the squats and deadlifts
    assert [(s.exercise, len(s.reps)) for s in measured] == [(s.exercise, len(s.reps)) for s in reference]
    assert np.max(np.abs(_depths(measured) - _depths(reference))) < 2.0


def test_without_calibration_the_bad_sensor_is_measurably_off() -> None:
    """The check above can fail: uncorrected sensor errors move depths by more than its tolerance."""
    workout = workouts.workout(workouts.CALIBRATION_CHECK)
    errors = sim_imu_errors(1)
    r_true, _ = sim_mounting(1)
    ideal = simulate(workout, seed=1, leg="right", mounting=np.eye(3), imu=ideal_twin(errors))
    bad = simulate(workout, seed=1, leg="right", mounting=r_true, imu=errors)
    reference = _sets(ideal.samples(), DeviceCalibration("ideal", mounting=Mounting(np.eye(3), "right")))
    # The mounting known exactly, the sensor's own errors not corrected.
    raw = _sets(bad.samples(), DeviceCalibration("raw", mounting=Mounting(r_true, "right")))
    depth_ref, depth_raw = _depths(reference), _depths(raw)
    assert len(depth_raw) != len(depth_ref) or np.max(np.abs(depth_raw - depth_ref)) > 2.0


@pytest.mark.parametrize("seed", [16, 18])
def test_depths_do_not_jump_with_the_pipelines_discrete_decisions(seed: int) -> None:
    """Issue #6's bar over every exercise (builtin:everything): the calibrated sensor's reps have
    the ideal twin's counts and depths within 2 deg. These seeds used to differ by 7.7 deg (single-leg
    deadlift, sensor on the free leg held a little back) and 4.3 deg (single-leg squat, free leg
    hovering): depths were measured from a standing angle re-learnt only after quiet moments, and
    a 0.05 deg difference decided whether one came."""
    leg: Leg = ("left", "right")[seed % 2]
    errors = sim_imu_errors(seed)
    r_true, _ = sim_mounting(seed)
    workout = load_workout("builtin:everything")
    ideal = simulate(workout, seed=seed, leg=leg, mounting=np.eye(3), imu=ideal_twin(errors))
    bad = simulate(workout, seed=seed, leg=leg, mounting=r_true, imu=errors)
    cal = calibrate_simulated(f"sim-{seed}", errors, r_true, leg, seed)
    reference = _sets(ideal.samples(), DeviceCalibration("ideal", mounting=Mounting(np.eye(3), leg)))
    measured = _sets(bad.samples(), cal)
    assert [(s.exercise, len(s.reps)) for s in measured] == [(s.exercise, len(s.reps)) for s in reference]
    assert np.max(np.abs(_depths(measured) - _depths(reference))) < 2.0
