"""`reptrack replay` on the real thigh recordings and on simulated sessions, against the truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests import workouts
from tests.paths import CMU_THIGH_DIR
from tracker.cli import main
from tracker.events import RepEvent, SetEvent, WobbleEvent
from tracker.pipeline import Pipeline
from tracker.samples import Samples

REAL = CMU_THIGH_DIR
REAL_FILES = sorted(REAL.glob("*.csv")) if REAL.is_dir() else []
needs_real = pytest.mark.skipif(not REAL_FILES, reason=f"real recordings not found at {REAL}")


def _replay_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["replay", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@needs_real
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem)
def test_real_recording_gives_its_true_count(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    summary = _replay_json(capsys, str(path))
    assert summary["total_reps"] == truth["reps"]
    assert summary["source"] == str(path)
    assert summary["duration_s"] == pytest.approx(
        float(np.loadtxt(path, delimiter=",", skiprows=2)[-1, 0]), abs=0.02
    )
    if truth["reps"]:
        (s,) = summary["sets"]
        assert s["reps"] == truth["reps"] == len(s["reps_detail"])
        assert [r["n"] for r in s["reps_detail"]] == list(range(1, truth["reps"] + 1))
        for r in s["reps_detail"]:
            assert r["t_start_s"] < r["t_bottom_s"] < r["t_end_s"]
            assert r["duration_s"] == pytest.approx(r["t_end_s"] - r["t_start_s"])
    else:
        assert summary["sets"] == []


@needs_real
def test_real_recording_in_live_packets_equals_whole_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = REAL / "SqDL_RightThigh.csv"
    whole = _replay_json(capsys, str(path))
    packets = _replay_json(capsys, str(path), "--chunk", "10")
    assert whole == packets


@needs_real
@pytest.mark.parametrize(
    "name", ["SqDL_LeftThigh", "SqDL_RightThigh", "SqHalfDL_LeftThigh", "SqHalfDL_RightThigh"]
)
def test_first_real_squat_is_announced_as_the_athlete_stands_up(name: str) -> None:
    """The first rep of a set does not wait for the second when it is clearly a squat."""
    d = np.loadtxt(REAL / f"{name}.csv", delimiter=",", comments="#", skiprows=2)
    p = Pipeline()
    events = []
    for chunk in Samples.from_arrays(d[:, 0], d[:, 1:4], d[:, 4:7]).chunks(10):
        events += p.feed(chunk)
    first = next(e for e in events if isinstance(e, RepEvent))
    assert first.rep.n == 1 and first.t_s <= first.rep.t_end_s + 0.15


@needs_real
@pytest.mark.parametrize("name", ["Lunge_LeftThigh", "Lunge_RightThigh"])
def test_real_lunges_are_named_lunges(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    (s,) = _replay_json(capsys, str(REAL / f"{name}.csv"))["sets"]
    assert (s["exercise"], s["reps"]) == ("lunge", 5)


@needs_real
def test_half_squat_depths_are_below_full_squat_depths(capsys: pytest.CaptureFixture[str]) -> None:
    full = _replay_json(capsys, str(REAL / "SqDL_LeftThigh.csv"))["sets"][0]["summary"]["mean_depth_deg"]
    half = _replay_json(capsys, str(REAL / "SqHalfDL_LeftThigh.csv"))["sets"][0]["summary"]["mean_depth_deg"]
    assert 70 < full < 110 and 30 < half < 65


@needs_real
def test_replay_without_json_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(REAL / "SqDL_LeftThigh.csv")]) == 0
    out = capsys.readouterr().out
    assert "5 reps" in out and "exercise" in out


def test_replay_of_a_missing_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert "nope.csv" in err and "Traceback" not in err


def test_replay_of_a_generic_csv_without_gyro(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Accelerometer-only CSV in m/s2: quiet standing, three slow squats, quiet standing."""
    rate = 50.0
    t = np.arange(0, 22.0, 1 / rate)
    pitch = np.zeros_like(t)
    active = (t >= 3.0) & (t < 3.0 + 3 * 3.0)
    pitch[active] = 45.0 * (1 - np.cos(2 * np.pi * (t[active] - 3.0) / 3.0))
    th = np.radians(pitch)
    accel = np.stack([np.zeros_like(th), np.sin(th), np.cos(th)], axis=1) * 9.80665  # sensor y forward
    path = tmp_path / "squats.csv"
    lines = ["# device: test", "t,ax,ay,az"] + [
        f"{a:.3f},{x:.5f},{y:.5f},{z:.5f}" for a, (x, y, z) in zip(t, accel, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    summary = _replay_json(capsys, str(path), "--accel-unit", "m/s2")
    assert summary["total_reps"] == 3
    assert summary["sets"][0]["reps_detail"][0]["depth_deg"] == pytest.approx(90, abs=6)


@pytest.mark.parametrize(("seed", "leg"), [(11, "left"), (12, "right")])
def test_simulated_session_counts_each_set(seed: int, leg: str) -> None:
    session = workouts.simulated(workouts.SQUATS_WALK_DEADLIFTS_SIT, seed, leg)
    truth = session.truth.to_json()
    p = Pipeline()
    events = []
    for chunk in session.samples().chunks(10):
        events += p.feed(chunk)
    events += p.finish()
    sets = [e for e in events if isinstance(e, SetEvent)]
    assert [len(s.reps) for s in sets] == [s["reps"] for s in truth["sets"]]
    assert [s.exercise for s in sets] == ["squat", "deadlift"]
    reps = [e for e in events if isinstance(e, RepEvent)]
    true_reps = [r for s in truth["sets"] for r in s["reps_detail"]]
    depth_err = [abs(r.rep.depth_deg - abs(tr["depth_deg"])) for r, tr in zip(reps, true_reps, strict=True)]
    assert float(np.mean(depth_err)) < 5.0
    # every rep, the first of a set included, is announced by the time the athlete is back up
    delays = [r.t_s - tr["t_end_s"] for r, tr in zip(reps, true_reps, strict=True)]
    assert max(delays) < 0.15


def test_walking_and_stairs_make_no_reps() -> None:
    for leg in ("left", "right"):
        session = workouts.simulated(workouts.WALK_STAIRS_SIT, 5, leg)
        p = Pipeline()
        events = p.feed(session.samples()) + p.finish()
        assert not [e for e in events if isinstance(e, RepEvent | SetEvent)]


def test_calibrated_mounting_is_used_as_given() -> None:
    """With a calibration that knows the mounting, the pipeline takes its thigh frame and leg."""
    session = workouts.simulated(workouts.SQUATS_WALK_DEADLIFTS_SIT, 3, "right")
    rot = session.R_thigh_from_sensor

    class Mounting:
        R_thigh_from_sensor = rot
        leg = "right"

    class Cal:
        mounting = Mounting()

        def __call__(self, s: Samples) -> Samples:
            return Samples(s.t_s, s.accel_g @ rot.T, None if s.gyro_dps is None else s.gyro_dps @ rot.T)

    p = Pipeline(calibration=Cal())
    events = p.feed(session.samples()) + p.finish()
    sets = [e for e in events if isinstance(e, SetEvent)]
    assert [len(s.reps) for s in sets] == [6, 5]
    assert p.state["sensor_leg"] == "right"


@pytest.mark.parametrize(("seed", "sensor_leg", "free_leg"), [(21, "left", "knee"), (22, "right", "hover")])
def test_single_leg_squat_counted_on_the_free_leg_and_announced_at_once(
    seed: int, sensor_leg: str, free_leg: str
) -> None:
    """The sensor on the free leg (held on the standing knee or hovering in front): every rep is
    counted, as a single-leg squat, as soon as the free thigh is back; packets change nothing."""
    working = "right" if sensor_leg == "left" else "left"
    session = workouts.simulated(workouts.free_leg_single_leg_squats(working, free_leg), seed, sensor_leg)
    truth = session.truth.to_json()
    true_set = truth["sets"][1]
    assert true_set["sensor_on"] == "free"
    p = Pipeline()
    events = []
    for chunk in session.samples().chunks(10):
        events += p.feed(chunk)
    events += p.finish()
    squats, s = [e for e in events if isinstance(e, SetEvent)]
    assert len(squats.reps) == 3 and len(s.reps) == true_set["reps"] == 7
    assert s.exercise == "single_leg_squat"
    reps = [e for e in events if isinstance(e, RepEvent) and e.set_index == s.index]
    delays = [r.t_s - tr["t_end_s"] for r, tr in zip(reps[1:], true_set["reps_detail"][1:], strict=True)]
    assert max(delays) < 0.15
    q = Pipeline()
    whole = q.feed(session.samples()) + q.finish()
    assert whole == events


def test_replay_names_the_working_leg_from_the_recordings_sensor_leg(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recording whose meta says the sensor is on the left thigh: the left-leg set is worked by
    the sensor's (standing) leg, the right-leg set by the other one (sensor on the free leg)."""
    from firmware_sim.cli import main as sim_main

    script = tmp_path / "w.toml"
    script.write_text(workouts.SINGLE_LEG_BOTH_SIDES)
    rec = tmp_path / "s.rtrk"
    assert (
        sim_main(["generate", "--workout", str(script), "--out", str(rec), "--seed", "4", "--leg", "left"])
        == 0
    )
    capsys.readouterr()
    summary = _replay_json(capsys, str(rec))
    got = [(s["exercise"], s["leg"], s["reps"]) for s in summary["sets"]]
    assert got == [("squat", "both", 3), ("single_leg_squat", "left", 5), ("single_leg_deadlift", "right", 5)]


def test_core_work_on_the_floor_is_never_a_squat() -> None:
    """A plank, crunches and bicycles between two squat sets: only the squat sets come out."""
    session = workouts.simulated(workouts.CORE_BETWEEN_SQUATS, 2, "left")
    p = Pipeline()
    events = p.feed(session.samples()) + p.finish()
    sets = [e for e in events if isinstance(e, SetEvent)]
    assert [(s.exercise, len(s.reps)) for s in sets] == [("squat", 4), ("squat", 4)]


def test_free_foot_touching_down_is_a_balance_loss_event() -> None:
    """The sensor on the free leg of a single-leg squat: the foot touching down mid-set is reported."""
    session = workouts.simulated(workouts.FREE_FOOT_TOUCHES_DOWN, 3, "right")
    truth = session.truth.to_json()
    (loss,) = truth["balance_losses"]
    p = Pipeline()
    events = []
    for chunk in session.samples().chunks(10):
        events += p.feed(chunk)
    events += p.finish()
    losses = [e for e in events if isinstance(e, WobbleEvent) and e.balance_loss]
    assert [round(e.t_s - loss["t_s"]) for e in losses] == [0]
    assert losses[0].set_index == 2
    sets = [e for e in events if isinstance(e, SetEvent)]
    assert [len(s.reps) for s in sets] == [3, 8]
