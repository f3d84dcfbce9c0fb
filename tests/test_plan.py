"""Workout plans: reading them, following a session against one, and the retained plan topic."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import workouts
from tests.brokers import RealBroker, validate, wait_until
from tracker.cli import main as reptrack
from tracker.errors import UserError
from tracker.events import Rep, RepEvent, SetEvent, WobbleEvent
from tracker.mqtt import BrokerURL, MqttSettings
from tracker.mqtt import payloads as pl
from tracker.mqtt.subscriber import Watcher
from tracker.pipeline import Pipeline
from tracker.plan import PlanFollower, PlannedPipeline, load_plan, parse_reps, plan_from_toml

pytestmark = pytest.mark.timeout(120)

SHORT_PLAN = """
name = "two-sets"
[[set]]
exercise = "single_leg_squat"
leg = "left"
reps = 6
[[set]]
exercise = "squat"
reps = "5-8"
[[set]]
exercise = "single_leg_deadlift"
leg = "right"
reps = 8
"""


def rep_ev(set_index: int, n: int, exercise: str, leg: str) -> RepEvent:
    t_end = 100.0 * set_index + 4.0 * n
    rep = Rep(n, t_end - 3.0, t_end - 1.5, t_end, 50.0, 1.2, 0.3, 1.5, 80.0, {"rms_deg": 2.0})
    return RepEvent(t_end + 0.1, set_index, exercise, leg, rep)  # type: ignore[arg-type]


def set_ev(set_index: int, reps: int, exercise: str, leg: str) -> SetEvent:
    rs = tuple(rep_ev(set_index, n, exercise, leg).rep for n in range(1, reps + 1))
    return SetEvent(rs[-1].t_end_s + 10, set_index, exercise, leg, rs[0].t_start_s, rs[-1].t_end_s, rs)  # type: ignore[arg-type]


def run_set(follower: PlanFollower, index: int, reps: int, exercise: str, leg: str) -> list[str]:
    """Feed one detected set; return the announcements."""
    lines = [follower.follow(rep_ev(index, n, exercise, leg))[1] for n in range(1, reps + 1)]
    lines.append(follower.follow(set_ev(index, reps, exercise, leg))[1])
    return [line for line in lines if line]


# --- reading plans ---------------------------------------------------------------------------


def test_the_seed_session_ships_as_a_builtin_plan() -> None:
    plan = load_plan("builtin:runner-strength")
    assert [(s.exercise, s.leg, s.target) for s in plan.tracked] == [
        ("single_leg_squat", "left", "8-12"),
        ("single_leg_squat", "right", "8-12"),
        ("single_leg_deadlift", "left", "8-12"),
        ("single_leg_deadlift", "right", "8-12"),
        ("squat", "both", "8-12"),
        ("squat", "both", "8-12"),
    ]
    assert [s.exercise for s in plan.untracked] == ["plank", "crunch", "bicycle"]


@given(st.integers(1, 1000), st.integers(0, 999))
def test_rep_targets_read_as_numbers_ranges_and_pairs(lo: int, extra: int) -> None:
    hi = min(1000, lo + extra)
    assert parse_reps(lo, "x") == (lo, lo)
    assert parse_reps(f"{lo}-{hi}", "x") == (lo, hi)
    assert parse_reps(f" {lo} - {hi} ", "x") == (lo, hi)
    assert parse_reps([lo, hi], "x") == (lo, hi)
    if hi > lo:
        with pytest.raises(UserError, match="min <= max"):
            parse_reps(f"{hi}-{lo}", "x")


@given(st.one_of(st.text(max_size=12), st.floats(), st.booleans(), st.lists(st.integers(), max_size=3)))
def test_anything_else_as_a_target_is_one_clear_error(value: Any) -> None:
    try:
        lo, hi = parse_reps(value, "plan.toml: set 2: field 'reps'")
    except UserError as exc:
        assert str(exc).startswith("plan.toml: set 2: field 'reps': expected")
    else:
        assert 1 <= lo <= hi <= 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[set]]\nexercise = 'burpee'\nreps = 3\n", "plan.toml: set 1: field 'exercise': expected one of"),
        ("[[set]]\nexercise = 'squat'\n", "plan.toml: set 1: field 'reps' is missing"),
        (
            "[[set]]\nexercise = 'squat'\nreps = 5\n[[set]]\nexercise = 'single_leg_squat'\nreps = 5\n",
            "plan.toml: set 2: field 'leg': single_leg_squat takes left or right, got 'both'",
        ),
        ("[[set]]\nexercise = 'squat'\nreps = 5\nrest_s = -1\n", "plan.toml: set 1: field 'rest_s'"),
        ("[[set]]\nexercise = 'squat'\nreps = 5\ntempo = 3\n", "plan.toml: set 1: unknown field 'tempo'"),
        ("[[set]]\nexercise = 'plank'\nduration_s = 30\n", "plan.toml: no set the sensor can count"),
        ("[[set]\n", "plan.toml: not valid TOML"),
        ("name = 'x'\n", "plan.toml: expected at least one [[set]] table"),
    ],
)
def test_a_broken_plan_names_the_file_set_and_field(text: str, message: str) -> None:
    with pytest.raises(UserError) as err:
        plan_from_toml(text, "plan.toml")
    assert str(err.value).startswith(message)


def test_a_missing_plan_lists_the_builtin_ones(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no built-in plan 'nope'; built-in plans: runner-strength"):
        load_plan("builtin:nope")
    with pytest.raises(UserError, match="no such plan file"):
        load_plan(tmp_path / "missing.toml")


# --- following a session ---------------------------------------------------------------------


def test_follower_announces_set_of_plan_and_notes_sets_off_plan() -> None:
    follower = PlanFollower(load_plan("builtin:runner-strength"))
    run_set(follower, 1, 10, "single_leg_squat", "left")
    run_set(follower, 2, 9, "single_leg_squat", "right")
    lines = run_set(follower, 3, 7, "single_leg_deadlift", "left")
    assert lines[-2] == "set 3 of 6: single-leg deadlift (left) 7/8-12"
    assert lines[-1] == (
        "set 3 of 6 done: single-leg deadlift (left) 7/8-12, below target; "
        "next: set 4 of 6, single-leg deadlift (right) 8-12"
    )
    # a set of lunges: nothing planned is like it, the detector is sure -> off plan
    lines = run_set(follower, 4, 6, "lunge", "both")
    assert lines[0] == "off plan: lunge 1 reps"
    assert lines[-1] == "set done off plan: 6 x lunge; next: set 4 of 6, single-leg deadlift (right) 8-12"
    progress = follower.progress()
    assert progress["off_plan"] == [
        {"set_index": 4, "exercise": "lunge", "leg": "both", "reps": 6, "done": True, "balance_losses": 0}
    ]
    assert [s["status"] for s in progress["sets"]][:4] == ["done", "done", "done", "pending"]
    assert [s["on_target"] for s in progress["sets"]][:3] == [True, True, False]
    follower.finish()
    assert [s["status"] for s in follower.progress()["sets"]][3:] == ["missed"] * 3


def test_plan_names_the_set_when_the_detector_is_unsure() -> None:
    follower = PlanFollower(load_plan("builtin:runner-strength"))
    # the sensor's thigh is unknown: the detector cannot tell the working leg
    ev, line = follower.follow(rep_ev(1, 1, "single_leg_squat", "unknown"))
    assert (ev.exercise, ev.leg) == ("single_leg_squat", "left")  # type: ignore[union-attr]
    assert line == "set 1 of 6: single-leg squat (left) 1/8-12"
    # its running vote changed within the set: torn, the plan names it
    follower.follow(set_ev(1, 1, "single_leg_squat", "unknown"))
    ev, line = follower.follow(rep_ev(2, 1, "lunge", "both"))
    assert (ev.exercise, line) == ("lunge", "off plan: lunge 1 reps")  # type: ignore[union-attr]
    ev, line = follower.follow(rep_ev(2, 2, "deadlift", "both"))
    assert (ev.exercise, ev.leg) == ("single_leg_squat", "right")  # type: ignore[union-attr]
    ev, _ = follower.follow(set_ev(2, 2, "deadlift", "both"))
    assert isinstance(ev, SetEvent) and (ev.exercise, ev.leg) == ("single_leg_squat", "right")
    entry = follower.progress()["sets"][1]
    assert (entry["named_by"], entry["detected_exercise"], entry["detected_leg"]) == (
        "plan",
        "deadlift",
        "both",
    )
    assert follower.progress()["off_plan"] == []
    # single-legged vs two-legged form of the next planned exercise: the plan's name
    ev, line = follower.follow(rep_ev(3, 1, "deadlift", "both"))
    assert (ev.exercise, ev.leg) == ("single_leg_deadlift", "left")  # type: ignore[union-attr]


def test_sets_done_in_another_order_find_their_planned_set() -> None:
    follower = PlanFollower(load_plan("builtin:runner-strength"))
    lines = run_set(follower, 1, 10, "single_leg_squat", "right")
    assert lines[0] == "set 2 of 6: single-leg squat (right) 1/8-12"
    assert lines[-1].endswith("next: set 1 of 6, single-leg squat (left) 8-12")
    run_set(follower, 2, 12, "squat", "both")
    assert [s["status"] for s in follower.progress()["sets"]] == [
        "pending",
        "done",
        "pending",
        "pending",
        "done",
        "pending",
    ]


def test_balance_losses_count_in_their_planned_set_and_progress_follows_the_schema() -> None:
    follower = PlanFollower(load_plan("builtin:runner-strength"))
    follower.follow(rep_ev(1, 1, "single_leg_squat", "left"))
    follower.follow(WobbleEvent(105.0, 1, 0.9, 2.0, balance_loss=True))
    progress = follower.progress()
    assert progress["sets"][0]["balance_losses"] == 1 and progress["current"] == 1
    validate("plan", pl.plan_payload("s1", "today", progress))
    run_set(follower, 2, 3, "lunge", "both")
    follower.finish()
    validate("plan", pl.plan_payload("s1", "today", follower.progress()))


@functools.cache
def _seed_session() -> Any:
    from firmware_sim.session import simulate
    from firmware_sim.workout import load_workout

    return simulate(load_workout("builtin:runner-strength"), seed=3)


def _follow_sim(sensor_leg: str | None) -> tuple[PlanFollower, list[str], list[Any]]:
    from tracker.samples import Samples

    sim = _seed_session()
    t_s = (sim.clock_us - sim.clock_us[0]) / 1e6
    samples = Samples(t_s, sim.accel_g, sim.gyro_dps)
    lines: list[str] = []
    planned = PlannedPipeline(
        Pipeline(sensor_leg=sensor_leg),
        PlanFollower(load_plan("builtin:runner-strength")),
        on_announce=lines.append,
    )
    events = []
    for chunk in samples.chunks(1000):
        events += planned.feed(chunk)
    events += planned.finish()
    return planned.follower, lines, events


def test_the_simulated_seed_session_follows_its_plan() -> None:
    follower, lines, events = _follow_sim("left")
    progress = follower.progress()
    assert progress["complete"] and progress["off_plan"] == []
    assert [(s["reps"], s["named_by"]) for s in progress["sets"]] == [
        (10, "detector"),
        (10, "detector"),
        (8, "detector"),
        (8, "detector"),
        (12, "detector"),
        (10, "detector"),
    ]
    assert "set 3 of 6: single-leg deadlift (left) 7/8-12" in lines
    assert lines[-1].startswith("set 6 of 6 done: squat 10/8-12; plan done; then plank 30 s")
    # without knowing the sensor's thigh, the plan names the legs
    follower, _, events = _follow_sim(None)
    sets = [e for e in events if isinstance(e, SetEvent)]
    assert [(s.exercise, s.leg) for s in sets[:4]] == [
        ("single_leg_squat", "left"),
        ("single_leg_squat", "right"),
        ("single_leg_deadlift", "left"),
        ("single_leg_deadlift", "right"),
    ]
    assert [s["named_by"] for s in follower.progress()["sets"]] == ["plan"] * 4 + ["detector"] * 2


# --- the live service ------------------------------------------------------------------------


def short_recording(tmp_path: Path) -> Path:
    from firmware_sim.cli import main as firmware_sim

    workout = tmp_path / "two-sets.toml"
    workout.write_text(workouts.TWO_SETS)
    out = tmp_path / "two-sets.rtrk"
    assert firmware_sim(["generate", "--workout", str(workout), "--out", str(out), "--seed", "2"]) == 0
    return out


@pytest.mark.integration
def test_run_with_a_plan_publishes_retained_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = short_recording(tmp_path)
    plan = tmp_path / "plan.toml"
    plan.write_text(SHORT_PLAN)
    with RealBroker() as broker:
        argv = [
            "run",
            "--replay",
            str(recording),
            "--speed",
            "0",
            "--plan",
            str(plan),
            "--broker",
            broker.url,
        ]
        assert reptrack(argv) == 0
        out = capsys.readouterr().out
        assert (
            "set 1 of 3 done: single-leg squat (left) 5/6, below target; next: set 2 of 3, squat 5-8" in out
        )
        assert "set 2 of 3 done: squat 6/5-8; next: set 3 of 3, single-leg deadlift (right) 8" in out
        # a page opened afterwards still gets the plan: it is retained
        with Watcher(MqttSettings(BrokerURL.parse(broker.url))) as watcher:
            wait_until(lambda: any(v.plan for v in watcher.facts.snapshot()), what="the retained plan")
            view = watcher.facts.snapshot()[0]
    body = view.plan
    validate("plan", body)
    assert body["session"] == view.session and body["finished"]
    assert [(s["status"], s["reps"]) for s in body["sets"]] == [("done", 5), ("done", 6), ("missed", 0)]
    assert json.loads(json.dumps(body))["plan"]["name"] == "two-sets"
