"""Slow shallow reps, set by set: what each seed counts (issue 11, the standing angle on slow reps).

For each seed, a warm-up of 3 squats, then one set of the chosen movement; prints the reps of
every set found after the warm-up (several numbers: the set was split, a missed rep having left
more than 10 s between counted ones). Movements: single-leg deadlifts on the standing leg whose
thigh travels ``hinge_deg`` 10 deg (10 reps, 2 deg of sway at 0.8 Hz, as in
``tests/test_counting_starts.py``), and slow squats of 12, 15 and 18 deg (8 reps, 2.5 s down,
0.5 s at the bottom, 2.5 s up; and 18 deg at 3 / 1 / 3 s). Run:
``.venv/bin/python bench/slow_shallow.py [--seeds N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.accuracy import run_pipeline
from tests import workouts
from tracker.events import SetEvent

CASES: dict[str, str] = {
    "hinge 10 deg (standing leg), 10 reps": workouts.SHALLOW_STANDING_LEG_HINGES,
    **{
        f"squat {d} deg, 2.5/0.5/2.5 s, 8 reps": workouts.step(
            "squat", reps=8, depth_deg=d, tempo_s=[2.5, 0.5, 2.5]
        )
        for d in (12, 15, 18)
    },
    "squat 18 deg, 3/1/3 s, 8 reps": workouts.step("squat", reps=8, depth_deg=18, tempo_s=[3.0, 1.0, 3.0]),
}


def counted(step: str, seed: int) -> list[int]:
    """The reps of each set after the warm-up's."""
    session = workouts.simulated(workouts.script(*workouts.WARM_UP, step), seed=seed)
    sets = [len(e.reps) for e in run_pipeline(session.samples()) if isinstance(e, SetEvent)]
    return sets[1:]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8, help="seeds 0..N-1")
    args = ap.parse_args()
    cpu = time.process_time()
    for name, step in CASES.items():
        got = [counted(step, seed) for seed in range(args.seeds)]
        cells = " ".join("+".join(map(str, g)) or "0" for g in got)
        print(f"{name:40s} {cells}")
    print(f"({time.process_time() - cpu:.0f} s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
