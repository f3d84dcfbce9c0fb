"""Why sets of the independent thigh model fail: what the pipeline saw (issue 11).

Replays the same sessions as ``bench/independent_model.py --sets N --seed S`` and, for every set of
the four seed exercises and half squats that is not counted exactly, prints the mounting the
pipeline found (when; the angle between its thigh axis and the model's; the cosine between its
forward axis and the model's: -1 is forward read backwards), every rep candidate inside the set
with its rejection rule, depth and duration, and the rep candidates accepted during walks. Then it
groups the failures by a first cause, in this order: forward read backwards (cosine < -0.5), the
mounting's axes off (thigh axis over 15 deg off, or |cosine| < 0.9), a set merged with another
over a walk (more reps than the truth while at most the truth was accepted inside), no candidate
at all, else the rejection rule most often met inside.

Run: ``.venv/bin/python bench/independent_diagnose.py [--sets 132] [--seed 0] [--all]`` (132 sets:
about 30 s of CPU). A validation set: do not tune the pipeline on it (docs/pipeline.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import independent_model as im  # noqa: E402
from tracker.events import SetEvent  # noqa: E402
from tracker.io.load import load_session  # noqa: E402
from tracker.pipeline import Pipeline  # noqa: E402
from tracker.pipeline import reps as reps_module  # noqa: E402

Cand = tuple[float, float, bool, str, float, float]  # start, end, valid, rule, depth, duration


def candidates_seen() -> list[Cand]:
    """Every rep candidate the detector judges from now on (a wrapper round ``_judge``)."""
    seen: list[Cand] = []
    original = reps_module.RepDetector._judge

    def judge(self: Any, ex: Any, candidate: Any) -> Any:
        out = original(self, ex, candidate)
        seen.append(
            (
                ex.rep.t_start_s,
                ex.rep.t_end_s,
                ex.valid,
                ex.reject_reason,
                candidate.depth_deg,
                candidate.duration_s,
            )
        )
        return out

    reps_module.RepDetector._judge = judge  # type: ignore[method-assign]
    return seen


def cause(ts: dict[str, Any], got: int, inside: list[Cand], z_err: float, fwd_cos: float) -> str:
    rules = Counter(c[3] for c in inside if not c[2])
    valid = sum(c[2] for c in inside)
    if fwd_cos < -0.5:
        return "forward read backwards"
    if z_err > 15 or abs(fwd_cos) < 0.9:
        return "mounting axes off"
    if got > ts["reps"] and valid <= ts["reps"]:
        return "merged with another set over a walk"
    if not inside:
        return "no candidate"
    return "rejected: " + (rules.most_common(1)[0][0] if rules else "(all accepted, split or merged)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, default=132)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--all", action="store_true", help="print the sets counted exactly too")
    args = ap.parse_args()
    seen = candidates_seen()
    rng = np.random.default_rng([args.seed, 11])
    causes: Counter[str] = Counter()
    n_sets = n_sessions = flipped = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, plan in enumerate(im.plans(rng, args.sets)):
            session = im.make_session(rng, plan, i)
            path = Path(tmp) / f"s{i}.csv"
            im.write_csv(session, path)
            seen.clear()
            p = Pipeline()
            events = []
            for c in load_session(path).samples.chunks(10):
                events += p.feed(c)
            events += p.finish()
            found_sets = [e for e in events if isinstance(e, SetEvent)]
            truth = session.truth
            res = None if p._finder is None else p._finder.result
            model = session.body.mounting  # the model's thigh-from-sensor rotation
            if res is None:
                z_err, fwd_cos, head = 180.0, 0.0, "no mounting found"
            else:
                r = res.R_thigh_from_sensor
                z_err = float(np.degrees(np.arccos(np.clip(r[2] @ model[2], -1, 1))))
                fwd_cos = float(r[0] @ model[0])
                head = f"mounting at {res.decided_at_s:.1f} s: thigh axis {z_err:.1f} deg off, forward cos {fwd_cos:+.2f}"
            n_sessions += 1
            flipped += fwd_cos < -0.5
            first = truth["sets"][0]
            lines = [
                f"session {i}: {truth['rate_hz']:g} Hz, {'gyro' if truth['gyro'] else 'no gyro'}, "
                f"{truth['thigh']} thigh, {head}; first set {first['exercise']} ({first['sensor_on']})"
            ]
            for ts in truth["sets"]:
                if ts["exercise"] in ("lunge", "split_squat"):
                    continue
                n_sets += 1
                over = [s for s in found_sets if s.start_s < ts["end_s"] + 1 and s.end_s > ts["start_s"] - 1]
                got = sum(len(s.reps) for s in over)
                inside = [c for c in seen if ts["start_s"] - 1 <= c[0] <= ts["end_s"] + 1]
                exact = got == ts["reps"]
                why = "" if exact else cause(ts, got, inside, z_err, fwd_cos)
                if not exact:
                    causes[why] += 1
                if exact and not args.all:
                    continue
                per_rep = (ts["end_s"] - ts["start_s"]) / ts["reps"]
                lines.append(
                    f"  {ts['exercise']} ({ts['sensor_on']}) {ts['start_s']:.1f}-{ts['end_s']:.1f} s:"
                    f" {got} of {ts['reps']} {'exact' if exact else 'FAIL: ' + why};"
                    f" named {[s.exercise for s in over]}; {per_rep:.2f} s a rep,"
                    f" thigh travel {ts['travel_deg']:.0f} deg"
                )
                for c in inside:
                    lines.append(
                        f"    {c[0]:8.2f}-{c[1]:8.2f} {'rep' if c[2] else c[3]:<18} depth {c[4]:5.1f} deg, {c[5]:.2f} s"
                    )
                lines.append("    true bottoms: " + " ".join(f"{b:.1f}" for b in ts["t_bottom_s"]))
            walking = [
                c for c in seen if c[2] and any(w["start_s"] <= c[0] <= w["end_s"] for w in truth["walks"])
            ]
            for c in walking:
                lines.append(
                    f"  rep accepted while walking: {c[0]:.2f}-{c[1]:.2f} s, depth {c[4]:.1f} deg, {c[5]:.2f} s"
                )
            print("\n".join(lines))
    bad = sum(causes.values())
    print(
        f"seed {args.seed}: {n_sets} sets of the four exercises and half squats, {bad} not counted exactly;"
        f" forward read backwards in {flipped} of {n_sessions} sessions"
    )
    for why, k in causes.most_common():
        print(f"  {k:3d}  {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
