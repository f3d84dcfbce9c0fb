"""The naming model's inputs per set, on both simulators and the real files (issue 11).

For every session it replays, the sets the pipeline found, each rep the set tracker named in them
with the rep's naming features and the label the registry's rules gave it, and the true sets
(exercise, sensor leg, reps). ``bench/naming_fit.py`` fits the naming model on these and names the
sets again offline with it, as ``SetTracker.current`` does, so a model can be judged on sets, not
only on reps.

Sources: ``sim:S`` firmware_sim's random workout of seed S, both thighs (the accuracy bench's
sessions; ``sim-nogyro:S``, ``sim-25Hz:S``, ``sim-200Hz:S`` the same sessions without a gyroscope
or resampled), ``ind:S`` the independent thigh model's 132 sets of seed S
(``bench/independent_model.py --sets 132 --seed S``; a validation set: seeds 0-5 only, the
others are hold-outs), ``real`` the real exercise files of ../shared/data in their five variants.

The features are read by wrapping the set tracker's ``classify`` (bench instrumentation, not an
interface); a session of the independent model also records the cosine of the mounting's forward
axis with the model's (-1: forward read backwards, a mounting failure, not a naming one).

Run: ``.venv/bin/python bench/naming_sets.py sim:0 sim:1 ind:0 real`` (about a minute of CPU per
simulator seed, 30 s per independent seed); writes bench/results/naming_sets-<source>.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import RESULTS_DIR  # noqa: E402
from tracker.events import RepEvent, SetEvent  # noqa: E402
from tracker.io.load import load_session  # noqa: E402
from tracker.pipeline import Pipeline, sets  # noqa: E402
from tracker.pipeline.config import PipelineConfig  # noqa: E402
from tracker.pipeline.reps import Excursion  # noqa: E402
from tracker.samples import Samples  # noqa: E402


def rep_record(ex: Excursion, label: tuple[str, str], accel_only: bool) -> dict[str, Any]:
    p = ex.physics
    r = ex.rep
    return {
        "t_bottom_s": r.t_bottom_s,
        "t_start_s": r.t_start_s,
        "t_end_s": r.t_end_s,
        "depth_deg": r.depth_deg,
        "signed_depth_deg": ex.signed_depth_deg,
        "descent_s": r.descent_s,
        "bottom_s": r.bottom_s,
        "ascent_s": r.ascent_s,
        "peak_velocity_dps": r.peak_velocity_dps,
        "impact_g": ex.max_impact_g,
        "rise_m": ex.rise_height_m,
        "parked": ex.parked,
        "accel_only": accel_only,
        "label": list(label),
        **{f: getattr(p, f) for f in p.__dataclass_fields__},
    }


TRACES = False  # also keep each rep's trace (pitch, roll, height; the samples before it): --traces


@contextmanager
def recorded() -> Iterator[list[dict[str, Any]]]:
    """Every rep the set tracker names while the block runs, with its features and label (and,
    with ``TRACES``, the trace ``naming.rep_physics`` was given)."""
    from tracker.pipeline import naming
    from tracker.pipeline import reps as reps_module

    seen: list[dict[str, Any]] = []
    traces: dict[int, tuple[Any, Any]] = {}
    pre: list[Any] = [None]
    original: Callable[[Excursion, PipelineConfig, bool], tuple[str, str]] = sets.classify
    original_physics = reps_module.rep_physics
    original_still = naming.still_roll_stats

    def classify(ex: Excursion, config: PipelineConfig, accel_only: bool = False) -> tuple[str, str]:
        label = original(ex, config, accel_only)
        rec = rep_record(ex, label, accel_only)
        if TRACES:
            rec["trace"] = traces.get(id(ex.physics), (None, None))[1]
        seen.append(rec)
        return label

    def still_roll_stats(t: Any, pitch: Any, roll: Any, standing: float, t_start: float) -> Any:
        pre[0] = (np.array(t), np.array(pitch), np.array(roll), standing, t_start)
        return original_still(t, pitch, roll, standing, t_start)

    def rep_physics(
        t: Any, pitch: Any, roll: Any, height: Any, k: int, depth: float, tau: float, still: Any = (0.0, 0.0)
    ) -> Any:
        out = original_physics(t, pitch, roll, height, k, depth, tau, still)
        traces[id(out)] = (
            out,
            {
                "t": np.array(t),
                "pitch": np.array(pitch),
                "roll": np.array(roll),
                "height": np.array(height),
                "k": k,
                "depth": depth,
                "pre": pre[0],
            },
        )
        return out

    patches = ((sets, "classify", classify, original),)
    if TRACES:
        patches += (
            (reps_module, "rep_physics", rep_physics, original_physics),
            (naming, "still_roll_stats", still_roll_stats, original_still),
        )
    for mod, name, new, _ in patches:
        setattr(mod, name, new)
    try:
        yield seen
    finally:
        for mod, name, _, old in patches:
            setattr(mod, name, old)


def replay(samples: Samples) -> tuple[list[Any], Pipeline, list[dict[str, Any]]]:
    with recorded() as reps:
        p = Pipeline()
        events: list[Any] = []
        for c in samples.chunks(10):
            events += p.feed(c)
        events += p.finish()
    return events, p, reps


def found_sets(events: list[Any], reps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sets found, each with the records of its reps (matched by their bottom's time)."""
    by_set: dict[int, list[float]] = {}
    for e in events:
        if isinstance(e, RepEvent):
            by_set.setdefault(e.set_index, []).append(e.rep.t_bottom_s)
    out = []
    for e in events:
        if not isinstance(e, SetEvent):
            continue
        bottoms = by_set.get(e.index, [])
        mine = [r for r in reps if r["t_bottom_s"] in bottoms]
        out.append(
            {
                "exercise": e.exercise,
                "leg": e.leg,
                "start_s": e.start_s,
                "end_s": e.end_s,
                "n": len(e.reps),
                "reps": mine,
            }
        )
    return out


def sim_sessions(seed: int, variant: str) -> Iterator[dict[str, Any]]:
    from bench.accuracy import random_session, real_variant

    for leg in ("left", "right"):
        session = random_session(seed, leg)
        truth = session.truth.to_json()
        samples = session.samples()
        if variant != "native":
            samples = real_variant(samples, variant)
        events, _, reps = replay(samples)
        yield {
            "source": f"sim {seed} {leg}",
            "variant": variant,
            "gyro": samples.gyro_dps is not None,
            "truth": [
                {
                    "exercise": ts["exercise"],
                    "sensor_on": ts["sensor_on"],
                    "start_s": ts["start_s"],
                    "end_s": ts["end_s"],
                    "reps": ts["reps"],
                }
                for ts in truth["sets"]
            ],
            "found": found_sets(events, reps),
        }


def ind_sessions(seed: int, n_sets: int = 132) -> Iterator[dict[str, Any]]:
    from bench import independent_model as im

    rng = np.random.default_rng([seed, 11])
    with tempfile.TemporaryDirectory() as tmp:
        for i, plan in enumerate(im.plans(rng, n_sets)):
            session = im.make_session(rng, plan, i)
            path = Path(tmp) / f"s{i}.csv"
            im.write_csv(session, path)
            events, p, reps = replay(load_session(path).samples)
            res = None if p._finder is None else p._finder.result
            fwd = 0.0 if res is None else float(res.R_thigh_from_sensor[0] @ session.body.mounting[0])
            truth = session.truth
            yield {
                "source": f"ind {seed} {i}",
                "variant": f"{truth['rate_hz']:g}Hz",
                "gyro": bool(truth["gyro"]),
                "forward_cos": fwd,
                "truth": [
                    {
                        "exercise": ts["exercise"],
                        "sensor_on": ts["sensor_on"],
                        "start_s": ts["start_s"],
                        "end_s": ts["end_s"],
                        "reps": ts["reps"],
                    }
                    for ts in truth["sets"]
                ],
                "found": found_sets(events, reps),
            }


def real_sessions() -> Iterator[dict[str, Any]]:
    from bench.accuracy import expected_name, real_files, real_variant

    for path in real_files():
        truth = json.loads(path.with_suffix(".truth.json").read_text())
        want = expected_name(truth)
        if want is None:
            continue
        samples = load_session(path).samples
        for variant in ("native", "25Hz", "50Hz", "200Hz", "no-gyro"):
            v = real_variant(samples, variant)
            events, _, reps = replay(v)
            yield {
                "source": f"real {path.stem}",
                "variant": variant,
                "gyro": v.gyro_dps is not None,
                "truth": [
                    {
                        "exercise": want,
                        "sensor_on": "both",
                        "start_s": 0.0,
                        "end_s": 1e9,
                        "reps": truth["reps"],
                    }
                ],
                "found": found_sets(events, reps),
            }


def collect(source: str) -> list[dict[str, Any]]:
    kind, _, arg = source.partition(":")
    if kind == "real":
        return list(real_sessions())
    if kind == "ind":
        return list(ind_sessions(int(arg)))
    if kind.startswith("sim"):
        variant = kind.removeprefix("sim").removeprefix("-").replace("nogyro", "no-gyro") or "native"
        return list(sim_sessions(int(arg), variant))
    raise SystemExit(f"unknown source {source!r}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sources", nargs="+", help="sim:S, sim-nogyro:S, sim-25Hz:S, sim-200Hz:S, ind:S, real")
    ap.add_argument("--traces", action="store_true", help="also pickle each rep's trace (exploration)")
    args = ap.parse_args()
    global TRACES
    TRACES = args.traces
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for source in args.sources:
        t0 = time.process_time()
        sessions = collect(source)
        path = RESULTS_DIR / f"naming_sets-{source.replace(':', '-')}.json"
        if TRACES:
            with (RESULTS_DIR / f"naming_traces-{source.replace(':', '-')}.pkl").open("wb") as fh:
                pickle.dump(sessions, fh)
            for sess in sessions:
                for fs in sess["found"]:
                    for r in fs["reps"]:
                        r.pop("trace", None)
        path.write_text(json.dumps(sessions) + "\n")
        print(f"{source}: {len(sessions)} sessions -> {path.name} ({time.process_time() - t0:.0f} s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
