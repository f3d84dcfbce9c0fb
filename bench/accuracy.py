"""Counting accuracy on simulated workouts and on the real recordings.

Simulated: for each seed and each thigh, a workout with every exercise (the sensor on the
standing and on the free leg for single-leg work) with random reps, depth, tempo and wobble, in a
random mounting with the default IMU errors, separated by walking; plus the built-in
``daily-life`` script (walking, running, stairs, sitting, fidgeting, step-ups: zero reps).
Per exercise it prints the share of sets counted exactly and within +-1, the mean absolute count
error, the depth error of matched reps, and the rep event delay against the simulator's
``t_end_s`` (all reps, and first reps of sets on their own), the share of sets given the right
exercise; then false reps per hour of non-exercise movement, balance-loss events against the
truth of the ``runner-strength`` script (on the simulator's clock and resampled to 25, 50 and
200 Hz).
Real: every recording with a truth file under the shared data folder (cmu-thigh exercises and
walking, daily/ negatives), replayed on its own clock, resampled to 25, 50 and 200 Hz and with the
gyroscope dropped: counted exactly and named right (exercise files), or any squat or deadlift set
(negatives: none is allowed).
Writes bench/results/accuracy.json (``--real-only``: accuracy-real.json). Run:
``.venv/bin/python bench/accuracy.py [--seeds N] [--first-seed K] [--real-only] [--variants ...] [--no-gyro]`` (``--no-gyro``: the simulated
workouts without their gyroscope).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import butter, sosfiltfilt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import run_pipeline, write_results  # noqa: E402
from firmware_sim.session import simulate  # noqa: E402
from firmware_sim.workout import Workout, load_workout  # noqa: E402
from tracker.events import RepEvent, SetEvent, WobbleEvent  # noqa: E402
from tracker.io.load import load_session  # noqa: E402
from tracker.pipeline.exercises import BY_NAME, SimulatorDefaults  # noqa: E402
from tracker.pipeline.exercises import EXERCISES as REGISTRY  # noqa: E402
from tracker.samples import Samples  # noqa: E402

# the shared recordings sit next to the main checkout (../shared/data), also seen from a worktree
DATA = next(
    (d for d in (ROOT.parent / "shared" / "data", Path("/work/shared/data")) if d.is_dir()),
    ROOT.parent / "shared" / "data",
)
EXERCISES = tuple(e.name for e in REGISTRY if e.seed)  # the seed article's four
NON_EXERCISE = ("walking", "running", "stairs", "sit_stand", "fidget", "step_up")


def sim_defaults(name: str) -> SimulatorDefaults:
    sim = BY_NAME[name].sim
    assert sim is not None, f"{name}: the simulator has no motion for it"
    return sim


def random_workout(
    rng: np.random.Generator, sensor_leg: str, widen_rng: np.random.Generator | None = None
) -> Workout:
    """Every seed exercise once, sensor on the standing and on the free leg, with random reps,
    depth, tempo and rest. With ``widen_rng`` (issue 11), drawn from it: single-leg balance sway as
    measured on real single-leg stance (1-3 deg at 0.3-1.5 Hz), squat and single-leg squat depths
    from 45 to 115 % of the default (half squats, shallow single-leg squats), deadlift depths 70-130
    %, the standing thigh's travel in a single-leg deadlift 10-30 deg, tempos 0.6-1.8 times the
    default, a free leg on the knee, hovering or held out in front, and the athlete's body (thigh
    and shank 0.38-0.50 m, the sensor 0.12-0.26 m below the hip); without, the
    sway (0.5-4 deg at the simulator's 1.5 Hz) and depths (85-115 %) of the first benches, so the
    workouts pinned by regression tests stay the same."""
    other = "right" if sensor_leg == "left" else "left"
    steps: list[dict[str, Any]] = [{"activity": "stand", "duration_s": 5.0}]
    plan = [
        ("squat", "both", {}),
        ("deadlift", "both", {}),
        ("single_leg_squat", sensor_leg, {}),
        ("single_leg_squat", other, {"free_leg": str(rng.choice(["knee", "hover"]))}),
        ("single_leg_deadlift", sensor_leg, {}),
        ("single_leg_deadlift", other, {}),
    ]
    if widen_rng is not None:
        plan[3] = (plan[3][0], plan[3][1], {"free_leg": str(widen_rng.choice(["knee", "hover", "front"]))})
    for activity, leg, extra in plan:
        scale = float(rng.uniform(0.75, 1.35))
        if widen_rng is not None:
            scale = float(widen_rng.uniform(0.6, 1.8))
        step: dict[str, Any] = {
            "activity": activity,
            "leg": leg,
            "reps": int(rng.integers(8, 13)),
            "depth_deg": round(sim_defaults(activity).depth_deg * float(rng.uniform(0.85, 1.15)), 1),
            "tempo_s": [round(x * scale, 3) for x in sim_defaults(activity).tempo_s],
            "rest_s": float(rng.uniform(20, 40)),
            **extra,
        }
        if BY_NAME[activity].single_leg:
            step["wobble_deg"] = round(float(rng.uniform(0.5, 4.0)), 2)
            if widen_rng is not None:
                step["wobble_deg"] = round(float(widen_rng.uniform(1.0, 3.0)), 2)
                step["wobble_hz"] = round(float(widen_rng.uniform(0.3, 1.5)), 2)
        if widen_rng is not None:
            widen_step(step, widen_rng, standing=leg == sensor_leg)
        steps.append(step)
        steps.append({"activity": "walk", "duration_s": float(rng.uniform(8, 20)), "rest_s": 5.0})
    data: dict[str, Any] = {"name": "bench-random", "step": steps}
    if widen_rng is not None:
        thigh = round(float(widen_rng.uniform(0.38, 0.50)), 3)
        data["body"] = {
            "thigh_m": thigh,
            "shank_m": round(float(widen_rng.uniform(0.38, 0.50)), 3),
            "sensor_m": round(float(widen_rng.uniform(0.12, 0.26)), 3),
        }
    return Workout.from_dict(data, "bench")


def widen_step(step: dict[str, Any], widen_rng: np.random.Generator, standing: bool) -> None:
    """Issue 11's wider technique for one set: depths and the standing leg's hinge travel."""
    activity = step["activity"]
    default = sim_defaults(activity).depth_deg
    if BY_NAME[activity].family == "squat":
        step["depth_deg"] = round(default * float(widen_rng.uniform(0.45, 1.15)), 1)
    elif activity == "deadlift":
        step["depth_deg"] = round(default * float(widen_rng.uniform(0.7, 1.3)), 1)
    elif activity == "single_leg_deadlift" and standing:
        step["hinge_deg"] = round(float(widen_rng.uniform(10.0, 30.0)), 1)


def start_workout(rng: np.random.Generator) -> Workout:
    """Sets with no quiet standing before them (issue 11), random per seed: the session starts
    seated with a chair-stand set (30-second chair-stand test pace), then box squats from the seat
    after a standing rest, then a walk and an ordinary sit (no set). Scored in rows of their own."""
    seat = float(rng.uniform(80, 100))
    steps: list[dict[str, Any]] = [
        {
            "activity": "squat",
            "start": "seated",
            "reps": int(rng.integers(8, 16)),
            "depth_deg": round(seat, 1),
            "tempo_s": [round(float(rng.uniform(0.8, 1.3)), 2), 0.15, round(float(rng.uniform(0.7, 1.2)), 2)],
            "rest_s": float(rng.uniform(15, 30)),
        },
        {
            "activity": "squat",
            "start": "seated",
            "reps": int(rng.integers(6, 11)),
            "depth_deg": round(seat + float(rng.uniform(0, 10)), 1),
            "tempo_s": [round(float(rng.uniform(1.3, 2.0)), 2), 0.5, round(float(rng.uniform(1.0, 1.6)), 2)],
            "rest_s": 5.0,
        },
        {"activity": "walk", "duration_s": float(rng.uniform(10, 20)), "rest_s": 5.0},
        {"activity": "sit", "duration_s": float(rng.uniform(15, 40)), "rest_s": 5.0},
    ]
    return Workout.from_dict({"name": "bench-start", "step": steps}, "bench")


def moving_workout(rng: np.random.Generator) -> Workout:
    """Sets with no quiet standing around them and shallow hinges (issue 11), random per seed: the
    session starts mid-stride, squats start straight from the walk and the athlete walks straight
    on; then, after a warm-up squat set, single-leg deadlifts on the sensor's (standing) leg whose
    thigh travels only 10-15 deg."""
    return Workout.from_dict(
        {
            "name": "bench-moving",
            "step": [
                {"activity": "walk", "duration_s": float(rng.uniform(8, 15))},
                {"activity": "squat", "start": "moving", "reps": int(rng.integers(6, 11))},
                {"activity": "walk", "duration_s": float(rng.uniform(20, 40)), "rest_s": 5.0},
                {"activity": "squat", "reps": 3, "rest_s": 15.0},
                {
                    "activity": "single_leg_deadlift",
                    "sensor_on": "standing",
                    "reps": int(rng.integers(7, 13)),
                    "hinge_deg": round(float(rng.uniform(10, 15)), 1),
                    "wobble_deg": round(float(rng.uniform(1.0, 3.0)), 2),
                    "wobble_hz": round(float(rng.uniform(0.3, 1.5)), 2),
                    "rest_s": float(rng.uniform(15, 30)),
                },
                {"activity": "walk", "duration_s": float(rng.uniform(8, 15))},
            ],
        },
        "bench",
    )


def walk_hinge_workout(rng: np.random.Generator) -> Workout:
    """A session that starts mid-stride with deadlifts straight from the walk and a walk straight
    after (issue 11): their pauses at the bottom are about as long as at the top, so the first
    still pose may be the bottom."""
    return Workout.from_dict(
        {
            "name": "bench-walk-hinge",
            "step": [
                {"activity": "walk", "duration_s": float(rng.uniform(8, 15))},
                {
                    "activity": "deadlift",
                    "start": "moving",
                    "reps": int(rng.integers(6, 11)),
                    "depth_deg": round(sim_defaults("deadlift").depth_deg * float(rng.uniform(0.7, 1.3)), 1),
                },
                {"activity": "walk", "duration_s": float(rng.uniform(20, 40))},
            ],
        },
        "bench",
    )


def tag_sets(truth: dict[str, Any], workout: Workout) -> None:
    """Give the truth's sets of a start workout their row: ``squat (from a seat)``, ``squat (from
    a walk)``, ``deadlift (from a walk)``, ``single_leg_deadlift (standing leg, hinge 10-15
    deg)``; the warm-up's squats ``warm-up``."""
    sets = [s for s in workout.steps if s.is_exercise]
    for ts, step in zip(truth["sets"], sets, strict=True):
        if step.start == "seated":
            ts["bench_row"] = "from a seat"
        elif step.start == "moving":
            ts["bench_row"] = "from a walk"
        elif step.hinge_deg > 0:
            ts["bench_row"] = "standing leg, hinge 10-15 deg"
        else:
            ts["bench_row"] = "warm-up"


def score_session(truth: dict[str, Any], events: list[Any], stats: dict[str, Any]) -> None:
    sets = [e for e in events if isinstance(e, SetEvent)]
    reps = [e for e in events if isinstance(e, RepEvent)]
    for ts in truth["sets"]:
        if ts["exercise"] not in EXERCISES:
            continue
        key = f"{ts['exercise']} (sensor on {ts['sensor_on']} leg)"
        if "bench_row" in ts:  # sets with no quiet standing first (start_workout)
            key = f"{ts['exercise']} ({ts['bench_row']})"
        found = [s for s in sets if s.start_s < ts["end_s"] + 1.0 and s.end_s > ts["start_s"] - 1.0]
        got = sum(len(s.reps) for s in found)
        st = stats[key]
        st["sets"] += 1
        st["exact"] += int(got == ts["reps"])
        st["within1"] += int(abs(got - ts["reps"]) <= 1)
        st["abs_err"] += abs(got - ts["reps"])
        st["label"] += int(bool(found) and all(s.exercise == ts["exercise"] for s in found))
        for s in found:
            if s.exercise != ts["exercise"]:
                st["misnamed"][s.exercise] += 1
        for tr in ts["reps_detail"]:
            near = [r for r in reps if abs(r.rep.t_bottom_s - tr["t_bottom_s"]) < 1.0]
            if near:
                r = min(near, key=lambda r: abs(r.rep.t_bottom_s - tr["t_bottom_s"]))
                st["depth_err"].append(abs(r.rep.depth_deg - abs(tr["depth_deg"])))
                st["delay"].append(r.t_s - tr["t_end_s"])
                if r.rep.n == 1:  # an ambiguous first rep waits for the second (docs/pipeline.md)
                    st["delay_first"].append(r.t_s - tr["t_end_s"])


def false_reps(truth: dict[str, Any], events: list[Any]) -> tuple[int, float]:
    spans = [(a["start_s"], a["end_s"]) for a in truth["activities"] if a["kind"] in NON_EXERCISE]
    hours = sum(b - a for a, b in spans) / 3600.0
    n = 0
    for e in events:
        if isinstance(e, RepEvent) and not any(
            s["start_s"] - 1 <= e.rep.t_bottom_s <= s["end_s"] + 1 for s in truth["sets"]
        ):
            n += 1
    return n, hours


# the sample rates the balance-loss count is repeated at (the simulator's own 100 Hz, resampled)
BALANCE_RATES: tuple[str, ...] = ("native", "25Hz", "50Hz", "200Hz")


def balance_losses(seeds: int, first_seed: int = 0) -> dict[str, dict[str, int]]:
    """Balance-loss events against the truth of the built-in runner-strength workout, on the
    simulator's own clock and resampled to 25, 50 and 200 Hz (``real_variant``, as the real files)."""
    out = {
        rate: {"sessions": 0, "free": 0, "free_found": 0, "standing": 0, "standing_found": 0, "false": 0}
        for rate in BALANCE_RATES
    }
    workout = load_workout("builtin:runner-strength")
    for seed in range(first_seed, first_seed + seeds):
        for leg in ("left", "right"):
            session = simulate(workout, seed=seed, leg=leg, mounting="random")
            truth = session.truth.to_json()
            for rate in BALANCE_RATES:
                events = run_pipeline(real_variant(session.samples(), rate))
                found = [e.t_s for e in events if isinstance(e, WobbleEvent) and e.balance_loss]
                o = out[rate]
                o["sessions"] += 1
                for b in truth["balance_losses"]:
                    (ts,) = [s for s in truth["sets"] if s["index"] == b["set_index"]]
                    where = "free" if ts["sensor_on"] == "free" else "standing"
                    o[where] += 1
                    o[f"{where}_found"] += int(any(abs(t - b["t_s"]) < 1.0 for t in found))
                o["false"] += sum(
                    not any(abs(t - b["t_s"]) < 1.0 for b in truth["balance_losses"]) for t in found
                )
    return out


# how each real recording is varied: its own clock, resampled, and with the gyroscope dropped
REAL_VARIANTS: tuple[str, ...] = ("native", "25Hz", "50Hz", "200Hz", "no-gyro")
SQUAT_OR_DEADLIFT = ("squat", "single_leg_squat", "deadlift", "single_leg_deadlift")


def resampled(samples: Samples, rate_hz: float) -> Samples:
    """The recording as a sensor at ``rate_hz`` would have sampled it: low-passed below the new
    Nyquist frequency (when that is lower than the old one), then interpolated onto a regular
    clock. Real clocks are irregular (phones), so the low-pass runs on a regular grid at the
    recording's median rate first."""
    t = samples.t_s
    native_hz = 1.0 / float(np.median(np.diff(t)))
    grid = np.arange(t[0], t[-1], 1.0 / native_hz)
    cols = [samples.accel_g] + ([] if samples.gyro_dps is None else [samples.gyro_dps])
    on_grid = [np.column_stack([np.interp(grid, t, c[:, k]) for k in range(3)]) for c in cols]
    if rate_hz < native_hz:
        sos = butter(4, 0.4 * rate_hz, fs=native_hz, output="sos")
        on_grid = [sosfiltfilt(sos, c, axis=0) for c in on_grid]
    new_t = np.arange(grid[0], grid[-1], 1.0 / rate_hz)
    out = [np.column_stack([np.interp(new_t, grid, c[:, k]) for k in range(3)]) for c in on_grid]
    return Samples.from_arrays(new_t, out[0], out[1] if len(out) > 1 else None)


def real_variant(samples: Samples, variant: str) -> Samples:
    if variant == "native":
        return samples
    if variant == "no-gyro":
        return Samples.from_arrays(samples.t_s, samples.accel_g, None)
    return resampled(samples, float(variant.removesuffix("Hz")))


def expected_name(truth: dict[str, Any]) -> str | None:
    """The exercise a real file's sets should be named: its truth's ``exercise`` when given, else
    its ``family`` (the CMU squat family is bodyweight squats); None for non-exercise movement."""
    name = truth.get("exercise") or truth.get("family")
    return str(name) if name else None


def score_real(truth: dict[str, Any], sets: list[SetEvent]) -> dict[str, Any]:
    """One replay of a real file against its truth. A recording with no exercise must give no
    squat or deadlift set (``false_set``); one with reps must count them all (``exact``) and name
    every set right (``named``)."""
    counted = sum(len(s.reps) for s in sets)
    names = sorted({s.exercise for s in sets})
    want = expected_name(truth)
    row: dict[str, Any] = {"counted": counted, "names": names, "exact": counted == truth["reps"]}
    if want is None:
        row["false_set"] = any(s.exercise in SQUAT_OR_DEADLIFT for s in sets)
    else:
        row["named"] = bool(sets) and all(s.exercise == want for s in sets)
    return row


def real_files() -> list[Path]:
    """Every real recording with its truth under the shared data folder (read in place)."""
    return sorted(p for p in DATA.glob("*/*.csv") if p.with_suffix(".truth.json").is_file())


def real_recordings(variants: tuple[str, ...] = REAL_VARIANTS) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for csv in real_files():
        truth = json.loads(csv.with_suffix(".truth.json").read_text())
        samples = load_session(csv).samples  # with the unit check: no valid recording is refused
        row: dict[str, Any] = {
            "file": f"{csv.parent.name}/{csv.name}",
            "truth": truth["reps"],
            "expected": expected_name(truth),
            "thigh": str(truth.get("thigh", "")).removesuffix("Thigh").lower() or "unknown",
        }
        for variant in variants:
            events = run_pipeline(real_variant(samples, variant))
            row[variant] = score_real(truth, [e for e in events if isinstance(e, SetEvent)])
        out.append(row)
    return out


def real_summary(real: list[dict[str, Any]], variants: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Per variant: sets counted exactly and named right on the exercise files, false squat or
    deadlift sets on the others."""
    out: dict[str, dict[str, Any]] = {}
    for v in variants:
        pos = [r[v] for r in real if r["expected"] is not None]
        neg = [r[v] for r in real if r["expected"] is None]
        out[v] = {
            "exercise_files": len(pos),
            "exact": sum(x["exact"] for x in pos),
            "named": sum(x["named"] for x in pos),
            "negative_files": len(neg),
            "false_sets": sum(x["false_set"] for x in neg),
        }
    return out


def real_by_exercise(real: list[dict[str, Any]], variants: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Per expected exercise and sensor thigh (both legs work in these files), per variant: files
    counted exactly and named right, as ``exact/files, named/files``."""
    out: dict[str, dict[str, str]] = {}
    keys = sorted({(r["expected"], r["thigh"]) for r in real if r["expected"] is not None})
    for name, thigh in keys:
        rows = [r for r in real if r["expected"] == name and r["thigh"] == thigh]
        out[f"{name} (sensor on {thigh} thigh)"] = {
            v: f"{sum(r[v]['exact'] for r in rows)}/{len(rows)}, {sum(r[v]['named'] for r in rows)}/{len(rows)}"
            for v in variants
        }
    return out


def print_real(real: list[dict[str, Any]], variants: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    print(f"real recordings ({DATA}, unknown mounting; cell: counted x name, * where wrong):")
    print(f"  {'file':<40} {'truth':<9}" + "".join(f" {v:<26}" for v in variants))
    for r in real:
        cells = []
        for v in variants:
            x = r[v]
            bad = not x["exact"] or not x.get("named", True) or x.get("false_set", False)
            cells.append(f"{x['counted']} x {','.join(x['names']) or '-'}{' *' if bad else ''}")
        want = f"{r['truth']} {r['expected'] or '-'}"
        print(f"  {r['file']:<40} {want:<9}" + "".join(f" {c:<26}" for c in cells))
    print("  per exercise and sensor thigh, files counted exactly, named right:")
    for key, cells in real_by_exercise(real, variants).items():
        print(f"  {key:<40} {'':<9}" + "".join(f" {c:<26}" for c in cells.values()))
    summary = real_summary(real, variants)
    for v, s in summary.items():
        print(
            f"  {v:<8} exercise files: {s['exact']}/{s['exercise_files']} counted exactly, "
            f"{s['named']}/{s['exercise_files']} named right; "
            f"negatives: {s['false_sets']}/{s['negative_files']} with a squat or deadlift set"
        )
    return summary


def sim_samples(samples: Samples, no_gyro: bool) -> Samples:
    """A simulated recording as the sensor gave it, or with its gyroscope dropped."""
    return real_variant(samples, "no-gyro") if no_gyro else samples


def simulated_stats(
    seeds: range, wide: bool = True, no_gyro: bool = False, starts: bool = True
) -> tuple[dict[str, Any], int, float]:
    """Per-exercise counts and errors over the random workouts (and, with ``starts``, the sets with
    no quiet standing first: :func:`start_workout`), and the false reps (count, hours) in their
    walking and sitting and in the daily-life script."""
    stats: dict[str, Any] = defaultdict(
        lambda: {
            "sets": 0,
            "exact": 0,
            "within1": 0,
            "abs_err": 0,
            "label": 0,
            "depth_err": [],
            "delay": [],
            "delay_first": [],
            "misnamed": Counter(),
        }
    )
    fr_n, fr_h = 0, 0.0
    daily = load_workout("builtin:daily-life")
    for seed in seeds:
        for leg in ("left", "right"):
            session = random_session(seed, leg, wide)
            truth = session.truth.to_json()
            events = run_pipeline(sim_samples(session.samples(), no_gyro))
            score_session(truth, events, stats)
            n, h = false_reps(truth, events)
            fr_n, fr_h = fr_n + n, fr_h + h
            session = simulate(daily, seed=seed, leg=leg, mounting="random")
            truth = session.truth.to_json()
            events = run_pipeline(sim_samples(session.samples(), no_gyro))
            n, h = false_reps(truth, events)
            fr_n, fr_h = fr_n + n, fr_h + h
            if starts:
                for make, key in ((start_workout, 11), (moving_workout, 12), (walk_hinge_workout, 13)):
                    start = make(np.random.default_rng([key, seed, int(leg == "right")]))
                    session = simulate(start, seed=seed, leg=leg, mounting="random")
                    truth = session.truth.to_json()
                    tag_sets(truth, start)
                    events = run_pipeline(sim_samples(session.samples(), no_gyro))
                    score_session(truth, events, stats)
                    n, h = false_reps(truth, events)
                    fr_n, fr_h = fr_n + n, fr_h + h
    return stats, fr_n, fr_h


def random_session(seed: int, leg: str, wide: bool = True) -> Any:
    """The bench's random workout for ``seed`` with the sensor on ``leg``, simulated in a random
    mounting: the same session for this bench, bench/naming_features.py and bench/still_sway.py."""
    rng = np.random.default_rng(1000 * seed + (leg == "right"))
    widen_rng = np.random.default_rng([7, seed, int(leg == "right")]) if wide else None
    return simulate(random_workout(rng, leg, widen_rng), seed=seed, leg=leg, mounting="random")


def print_simulated(args: argparse.Namespace) -> tuple[dict[str, Any], float, dict[str, dict[str, int]]]:
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    stats, fr_n, fr_h = simulated_stats(
        seeds, wide=not args.narrow, no_gyro=args.no_gyro, starts=not args.no_starts
    )
    table = {}
    print(
        f"simulated: {args.seeds} random workouts per thigh (seeds {seeds.start}..{seeds.stop - 1}),"
        f" random mounting, 10-sample packets, {'narrow (first benches)' if args.narrow else 'wide (issue 11)'} sway and depths{', no gyroscope' if args.no_gyro else ''}"
    )
    head = f"{'exercise':<46} {'sets':>4} {'exact%':>7} {'+-1%':>6} {'MAE':>5} {'label%':>6} {'depth err':>9} {'delay med/p95 s':>16} {'1st rep med/p95 s':>17} {'1st<=150ms':>10}  misnamed as"
    print(head)
    print("-" * len(head))
    for key in sorted(stats):
        st = stats[key]
        n = st["sets"]
        de = float(np.mean(st["depth_err"])) if st["depth_err"] else float("nan")
        dl = np.asarray(st["delay"])
        med = float(np.median(dl)) if dl.size else float("nan")
        p95 = float(np.percentile(dl, 95)) if dl.size else float("nan")
        f1 = np.asarray(st["delay_first"])
        row = {
            "sets": n,
            "exact_pct": 100.0 * st["exact"] / n,
            "within1_pct": 100.0 * st["within1"] / n,
            "mae_reps": st["abs_err"] / n,
            "label_pct": 100.0 * st["label"] / n,
            "misnamed_as": dict(st["misnamed"]),
            "depth_err_deg": de,
            "delay_median_s": med,
            "delay_p95_s": p95,
            "first_rep_delay_median_s": float(np.median(f1)) if f1.size else float("nan"),
            "first_rep_delay_p95_s": float(np.percentile(f1, 95)) if f1.size else float("nan"),
            "first_rep_on_time_pct": 100.0 * float(np.mean(f1 <= 0.15)) if f1.size else float("nan"),
        }
        table[key] = row
        wrong = ", ".join(f"{k} {v}" for k, v in st["misnamed"].most_common()) or "-"
        print(
            f"{key:<46} {n:>4} {row['exact_pct']:>7.1f} {row['within1_pct']:>6.1f} {row['mae_reps']:>5.2f} {row['label_pct']:>6.0f} "
            f"{de:>9.1f} {med:>7.3f}/{p95:<7.3f}  {row['first_rep_delay_median_s']:>7.2f}/{row['first_rep_delay_p95_s']:<7.2f}"
            f" {row['first_rep_on_time_pct']:>8.0f}%  {wrong}"
        )
    rate = fr_n / fr_h if fr_h > 0 else float("nan")
    print(f"false reps in non-exercise movement: {fr_n} in {fr_h:.2f} h -> {rate:.1f} per hour")
    bl = balance_losses(min(args.seeds, 5), args.first_seed)
    print(f"balance losses (builtin:runner-strength, {bl['native']['sessions']} sessions), found / false:")
    for name, b in bl.items():
        print(
            f"  {name:<7} free leg {b['free_found']}/{b['free']}, standing leg {b['standing_found']}/{b['standing']}, "
            f"{b['false']} false"
        )
    return table, rate, bl


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10, help="random workouts per thigh")
    ap.add_argument("--first-seed", type=int, default=0, help="first seed (e.g. 25 for a hold-out of 25)")
    ap.add_argument(
        "--no-starts",
        action="store_true",
        help="leave out the sets with no quiet standing first (seated starts: issue 11)",
    )
    ap.add_argument(
        "--narrow",
        action="store_true",
        help="the first benches' workouts: single-leg sway 0.5-4 deg at 1.5 Hz (not the real 1-3 deg at"
        " 0.3-1.5 Hz) and squat depths 85-115 %% of the default (not 45-115 %%)",
    )
    ap.add_argument("--real-only", action="store_true", help="only the real recordings (no simulation)")
    ap.add_argument("--no-gyro", action="store_true", help="simulated workouts with the gyroscope dropped")
    ap.add_argument(
        "--variants",
        default=",".join(REAL_VARIANTS),
        help=f"how each real file is replayed, comma-separated from {','.join(REAL_VARIANTS)}",
    )
    args = ap.parse_args()
    variants = tuple(v for v in args.variants.split(",") if v)
    for v in variants:
        if v not in REAL_VARIANTS:
            ap.error(f"--variants: unknown variant {v!r}; expected some of {','.join(REAL_VARIANTS)}")
    t0 = time.process_time()
    table: dict[str, Any] = {}
    rate = float("nan")
    bl: dict[str, dict[str, int]] = {}
    if not args.real_only:
        table, rate, bl = print_simulated(args)
    real = real_recordings(variants)
    real_sum = print_real(real, variants) if real else {}
    if not real:
        print(f"real recordings: {DATA} not found, skipped")
    print(f"({time.process_time() - t0:.0f} s CPU)")
    write_results(
        "accuracy-real" if args.real_only else "accuracy",
        {
            "seeds": 0 if args.real_only else args.seeds,
            "first_seed": args.first_seed,
            "per_exercise": table,
            "false_reps_per_hour": rate,
            "balance_losses": bl,
            "real": real,
            "real_summary": real_sum,
            "real_by_exercise": real_by_exercise(real, variants),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
