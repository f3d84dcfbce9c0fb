"""Simulated sessions: workouts, ground truth, determinism, packets and the generate command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from firmware_sim.cli import main as sim_main
from firmware_sim.session import SimulatedSession, simulate
from firmware_sim.workout import Workout, builtin_names, load_workout
from tracker.errors import InputFileError, UserError
from tracker.io.load import load_session
from tracker.protocol import StreamDecoder

SHORT = """
name = "short"
[[step]]
activity = "stand"
duration_s = 3
[[step]]
activity = "squat"
reps = 4
rest_s = 5
[[step]]
activity = "single_leg_squat"
leg = "right"
reps = 3
balance_losses = 1
[[step]]
activity = "single_leg_deadlift"
leg = "left"
reps = 3
[[step]]
activity = "walk"
duration_s = 8
[[step]]
activity = "plank"
duration_s = 5
"""


@pytest.fixture(scope="module")
def short() -> Workout:
    return Workout.from_toml_str(SHORT)


def test_truth_rep_count_equals_the_script(short: Workout) -> None:
    s = simulate(short, seed=3)
    t = s.truth
    assert t.total_reps == short.total_reps == 10
    assert [x["reps"] for x in t.sets] == [4, 3, 3, 0]
    assert [x["exercise"] for x in t.sets] == ["squat", "single_leg_squat", "single_leg_deadlift", "plank"]


def test_builtin_runner_strength_follows_the_seed_article() -> None:
    w = load_workout("builtin:runner-strength")
    s = simulate(w, seed=1, leg="left")
    t = s.truth
    assert t.total_reps == w.total_reps
    by_ex: dict[str, list[dict]] = {}
    for st in t.sets:
        by_ex.setdefault(st["exercise"], []).append(st)
    for ex in ("single_leg_squat", "single_leg_deadlift"):
        assert {st["leg"] for st in by_ex[ex]} == {"left", "right"}
        assert {st["sensor_on"] for st in by_ex[ex]} == {"standing", "free"}
        assert all(8 <= st["reps"] <= 12 for st in by_ex[ex])
    assert "squat" in by_ex and "plank" in by_ex
    assert any(a["kind"] == "walking" for a in t.activities)
    assert any(a["kind"] == "rest" for a in t.activities)
    assert "runner-strength" in builtin_names()


def test_truth_times_and_depths_describe_the_signal(short: Workout) -> None:
    s = simulate(short, seed=5, leg="left")
    t = s.truth
    sets = {st["exercise"]: st for st in t.sets}
    for st in t.sets:
        for r in st["reps_detail"]:
            assert st["start_s"] <= r["t_start_s"] < r["t_bottom_s"] < r["t_end_s"] <= st["end_s"]
    for r in sets["squat"]["reps_detail"]:
        assert 60 <= r["depth_deg"] <= 110
        i = int(np.argmin(np.abs(s.session_t_s - r["t_bottom_s"])))
        assert s.thigh_pitch_deg[i] == pytest.approx(r["depth_deg"], abs=6)
    # Sensor on the left thigh: the right-leg single-leg squat sees the free leg, the left-leg
    # deadlift the standing leg (near vertical, small positive depth).
    assert sets["single_leg_squat"]["sensor_on"] == "free"
    assert sets["single_leg_deadlift"]["sensor_on"] == "standing"
    assert all(5 < r["depth_deg"] < 35 for r in sets["single_leg_deadlift"]["reps_detail"])
    assert len(t.balance_losses) == 1 and t.balance_losses[0]["set_index"] == 2
    assert t.duration_s == pytest.approx(s.session_t_s[-1], abs=0.01)


def test_free_leg_single_leg_deadlift_has_negative_depth() -> None:
    w = Workout.from_toml_str('name="x"\n[[step]]\nactivity="single_leg_deadlift"\nleg="right"\nreps=3\n')
    s = simulate(w, seed=2, leg="left")
    (st,) = s.truth.sets
    assert st["sensor_on"] == "free"
    assert all(-95 < r["depth_deg"] < -45 for r in st["reps_detail"])


def _squat_drop_m(s: SimulatedSession) -> float:
    """How far the sensor comes down in the first squat: the true vertical specific force
    integrated twice from standing still to the bottom."""
    (st,) = s.truth.sets
    rep = st["reps_detail"][0]
    m = (s.t_true_s >= rep["t_start_s"] - 0.3) & (s.t_true_s <= rep["t_bottom_s"])
    a_thigh = s.accel_true_g[m] @ s.R_thigh_from_sensor.T
    a_up = np.einsum("nj,nj->n", s.R_world_from_thigh[m][:, 2, :], a_thigh) - 1.0
    dt = 1.0 / s.rate_hz
    return float(-np.min(np.cumsum(np.cumsum(a_up) * 9.80665 * dt) * dt))


def test_a_longer_body_lowers_the_sensor_further_in_a_squat() -> None:
    """The workout's [body] sets the segments: a squat to the same depth lowers the hip (and the
    sensor) further on long legs than on short ones."""
    drops = []
    for thigh in (0.38, 0.50):
        text = (
            f'name="x"\n[body]\nthigh_m={thigh}\nshank_m={thigh}\n'
            '[[step]]\nactivity="squat"\nreps=2\ndepth_deg=80\nvariability=0\nfatigue=0\n'
        )
        drops.append(_squat_drop_m(simulate(Workout.from_toml_str(text), seed=1, imu="ideal")))
    assert drops[1] > drops[0] * 1.2


def test_hinge_deg_sets_the_standing_thighs_travel_in_a_single_leg_deadlift() -> None:
    for hinge in (10.0, 30.0):
        text = (
            'name="x"\n[[step]]\nactivity="single_leg_deadlift"\nsensor_on="standing"\nreps=3\n'
            f"hinge_deg={hinge}\nvariability=0\nfatigue=0\n"
        )
        (st,) = simulate(Workout.from_toml_str(text), seed=1, imu="ideal").truth.sets
        assert all(abs(r["depth_deg"] - hinge) < 3.0 for r in st["reps_detail"])


def test_same_seed_same_bytes_other_seed_other_bytes(short: Workout) -> None:
    a = simulate(short, seed=11).packets()
    b = simulate(short, seed=11).packets()
    c = simulate(short, seed=12).packets()
    assert a == b
    assert a != c
    assert simulate(short, seed=11).truth.to_json() == simulate(short, seed=11).truth.to_json()


def test_packets_decode_to_the_same_samples(short: Workout) -> None:
    s = simulate(short, seed=8)
    decoded, notices = StreamDecoder().feed(s.packets())
    expected = s.samples()
    assert not notices
    assert np.array_equal(decoded.accel_g, expected.accel_g)
    assert decoded.gyro_dps is not None and expected.gyro_dps is not None
    assert np.array_equal(decoded.gyro_dps, expected.gyro_dps)
    assert np.allclose(decoded.t_s, expected.t_s, atol=1e-9)
    # Quantised like the wire but close to the unquantised measurement.
    assert np.max(np.abs(expected.accel_g - s.accel_g)) < 8.0 / 32768


def test_clipping_at_full_scale(short: Workout) -> None:
    s = simulate(load_workout("builtin:daily-life"), seed=1)
    samples = s.samples(accel_range_g=2.0, gyro_range_dps=250.0)
    assert np.max(samples.accel_g) <= 2.0 and np.max(np.abs(s.accel_g)) > 2.0  # running impacts exceed 2 g


def test_daily_life_has_no_reps_but_moves_a_lot() -> None:
    s = simulate(load_workout("builtin:daily-life"), seed=2)
    assert s.truth.total_reps == 0 and not s.truth.sets
    kinds = {a["kind"] for a in s.truth.activities}
    assert {"walking", "running", "stairs", "sit_stand", "fidget"} <= kinds
    assert np.percentile(np.linalg.norm(s.gyro_dps, axis=1), 99) > 100


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('name="x"\n[[step]]\nactivity="squatt"\nreps=3\n', "step 1: field 'activity'"),
        ('name="x"\n[[step]]\nactivity="squat"\nreps="ten"\n', "field 'reps'"),
        ('name="x"\n[[step]]\nactivity="squat"\nreps=3\ntempo_s=[1,2]\n', "tempo_s"),
        ('name="x"\n[[step]]\nactivity="single_leg_squat"\nreps=3\n', "'leg' = left or right"),
        ('name="x"\n[[step]]\nactivity="walk"\n', "duration_s"),
        ('name="x"\n[[step]]\nactivity="squat"\nreps=3\ncolour="red"\n', "unknown field 'colour'"),
        ("name = \n", "not valid TOML"),
        ('name="x"\n[body]\nthigh_m=2\n[[step]]\nactivity="squat"\nreps=3\n', "[body]: field 'thigh_m'"),
        ('name="x"\n[body]\nshin=0.4\n[[step]]\nactivity="squat"\nreps=3\n', "unknown field 'shin'"),
        ('name="x"\n[body]\nsensor_m=0.5\n[[step]]\nactivity="squat"\nreps=3\n', "sensor_m must be less"),
    ],
)
def test_bad_workout_scripts_name_the_field(text: str, needle: str) -> None:
    with pytest.raises(InputFileError, match=r"my\.toml") as exc:
        Workout.from_toml_str(text, source="my.toml")
    assert needle in str(exc.value)


def test_unknown_builtin_lists_the_builtins() -> None:
    with pytest.raises(UserError, match="runner-strength"):
        load_workout("builtin:nope")


def test_generate_writes_recording_and_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "w.toml"
    script.write_text(SHORT)
    out = tmp_path / "rec.rtrk"
    assert (
        sim_main(["generate", "--workout", str(script), "--out", str(out), "--seed", "4", "--leg", "right"])
        == 0
    )
    truth = json.loads((tmp_path / "rec.truth.json").read_text())
    assert truth["total_reps"] == 10 and truth["leg"] == "right" and truth["seed"] == 4
    for key in (
        "workout",
        "duration_s",
        "rate_hz",
        "mounting",
        "imu_errors",
        "sets",
        "activities",
        "wobble_events",
        "balance_losses",
    ):
        assert key in truth
    session = load_session(out)
    assert session.samples.duration_s == pytest.approx(truth["duration_s"], abs=0.05)
    first = out.read_bytes()
    # Same seed, same bytes; an existing file is refused without --force.
    assert (
        sim_main(["generate", "--workout", str(script), "--out", str(out), "--seed", "4", "--leg", "right"])
        == 2
    )
    assert "already exists" in capsys.readouterr().err
    assert (
        sim_main(
            [
                "generate",
                "--workout",
                str(script),
                "--out",
                str(out),
                "--seed",
                "4",
                "--leg",
                "right",
                "--force",
            ]
        )
        == 0
    )
    assert out.read_bytes() == first


def test_generate_csv(tmp_path: Path) -> None:
    script = tmp_path / "w.toml"
    script.write_text(SHORT)
    out = tmp_path / "rec.csv"
    assert (
        sim_main(
            ["generate", "--workout", str(script), "--out", str(out), "--rate", "50", "--mounting", "front"]
        )
        == 0
    )
    session = load_session(out)
    assert session.samples.estimated_rate_hz() == pytest.approx(50, rel=0.01)
    truth = json.loads((tmp_path / "rec.truth.json").read_text())
    assert truth["rate_hz"] == 50 and truth["mounting"]["name"] == "front"


def _one_set(extra: str) -> Workout:
    return Workout.from_toml_str(
        f'name = "x"\n[[step]]\nactivity = "stand"\nduration_s = 2\n[[step]]\n{extra}\n'
    )


@pytest.mark.parametrize("leg", ["left", "right"])
def test_sensor_on_picks_the_working_leg_from_the_sensor_thigh(leg: str) -> None:
    free = simulate(_one_set('activity = "single_leg_squat"\nsensor_on = "free"\nreps = 2'), seed=1, leg=leg)
    standing = simulate(
        _one_set('activity = "single_leg_squat"\nsensor_on = "standing"\nreps = 2'), seed=1, leg=leg
    )
    assert free.truth.sets[0]["sensor_on"] == "free" and free.truth.sets[0]["leg"] != leg
    assert standing.truth.sets[0]["sensor_on"] == "standing" and standing.truth.sets[0]["leg"] == leg
    # The standing thigh flexes much more than the free one, whose foot rests on the standing knee.
    assert np.mean([r["depth_deg"] for r in standing.truth.sets[0]["reps_detail"]]) > 45
    assert np.mean([r["depth_deg"] for r in free.truth.sets[0]["reps_detail"]]) < 40


def _sway_dps(s: SimulatedSession) -> float:
    """RMS angular rate about the thigh's forward axis (side-to-side sway) during the set."""
    st = s.truth.sets[0]
    inside = (s.session_t_s > st["start_s"]) & (s.session_t_s < st["end_s"])
    gyro_thigh = s.gyro_true_dps @ s.R_thigh_from_sensor.T
    return float(np.sqrt(np.mean(gyro_thigh[inside, 0] ** 2)))


def test_wobble_amplitude_shows_in_the_sideways_rotation() -> None:
    calm = simulate(
        _one_set('activity = "single_leg_squat"\nleg = "left"\nreps = 4\nwobble_deg = 0.5'), seed=3
    )
    shaky = simulate(
        _one_set('activity = "single_leg_squat"\nleg = "left"\nreps = 4\nwobble_deg = 5.0'), seed=3
    )
    assert shaky.truth.sets[0]["wobble"]["amplitude_deg"] == 5.0
    assert _sway_dps(shaky) > 2 * _sway_dps(calm)


def test_fatigue_makes_late_reps_slower_and_shallower() -> None:
    s = simulate(_one_set('activity = "squat"\nreps = 12\nfatigue = 0.4\nvariability = 0.02'), seed=4)
    reps = s.truth.sets[0]["reps_detail"]
    early, late = reps[:3], reps[-3:]
    assert np.mean([r["duration_s"] for r in late]) > 1.2 * np.mean([r["duration_s"] for r in early])
    assert np.mean([r["depth_deg"] for r in late]) < 0.9 * np.mean([r["depth_deg"] for r in early])


def test_balance_loss_puts_the_free_foot_down() -> None:
    s = simulate(
        _one_set('activity = "single_leg_squat"\nsensor_on = "free"\nreps = 4\nbalance_losses = 1'), seed=6
    )
    (loss,) = s.truth.balance_losses
    at = (s.session_t_s > loss["t_s"]) & (s.session_t_s < loss["t_s"] + 0.5)
    pose = s.truth.sets[0]["reps_detail"][0]["t_start_s"]
    before = int(np.searchsorted(s.session_t_s, pose))
    # The free thigh drops from its raised pose (~40 deg) to near vertical when the foot touches down.
    assert s.thigh_pitch_deg[before] > 25
    assert np.min(s.thigh_pitch_deg[at]) < 12
    assert any(w["balance_loss"] for w in s.truth.wobble_events)


@settings(max_examples=60, deadline=None)
@given(
    hst.dictionaries(
        hst.sampled_from(
            [
                "activity",
                "reps",
                "duration_s",
                "leg",
                "sensor_on",
                "tempo_s",
                "depth_deg",
                "fatigue",
                "free_leg",
                "balance_losses",
                "rest_s",
                "bogus",
            ]
        ),
        hst.one_of(
            hst.sampled_from(["squat", "walk", "single_leg_squat", "plank", "left", "free", "knee", "x"]),
            hst.integers(-3, 30),
            hst.floats(-5, 50, allow_nan=False),
            hst.lists(hst.floats(0, 3), max_size=4),
            hst.booleans(),
        ),
    )
)
def test_any_step_table_parses_or_names_the_problem(step: dict[str, object]) -> None:
    try:
        w = Workout.from_dict({"name": "h", "step": [step]}, source="h.toml")
    except InputFileError as exc:
        assert "h.toml" in str(exc) and "step 1" in str(exc)
        return
    assert len(w.steps) == 1
    if w.steps[0].duration_s <= 60 and w.steps[0].reps <= 30:
        s = simulate(w, seed=0, imu="ideal")
        assert s.truth.total_reps == w.total_reps
