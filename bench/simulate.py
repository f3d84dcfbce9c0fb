"""How fast the simulator generates data: one hour of 100 Hz samples (target: under 2 s).

Builds a one-hour workout (the built-in runner-strength session repeated, about 11 minutes each),
runs the whole chain (motion model, physics, IMU errors, clock) and, separately, the packet
encoding. Prints the median of a few runs and writes bench/results/simulate.json.

    python bench/simulate.py [--hours H] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from firmware_sim.session import simulate
from firmware_sim.workout import Workout, load_workout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    base = load_workout("builtin:runner-strength")
    one = simulate(base, seed=0).truth.duration_s
    copies = max(1, round(args.hours * 3600 / one))
    workout = Workout(name="bench-hour", steps=base.steps * copies)
    times, pack_times = [], []
    session = None
    for seed in range(args.repeat):
        t0 = time.perf_counter()
        session = simulate(workout, seed=seed)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        session.packets()
        pack_times.append(time.perf_counter() - t0)
    assert session is not None
    hours = session.truth.duration_s / 3600
    sim_s = statistics.median(times)
    figures = {
        "simulated_hours": round(hours, 3),
        "samples": len(session),
        "rate_hz": session.rate_hz,
        "simulate_s": round(sim_s, 3),
        "simulate_s_per_hour": round(sim_s / hours, 3),
        "packets_s": round(statistics.median(pack_times), 3),
        "reps": session.truth.total_reps,
        "target_s_per_hour": 2.0,
    }
    print(
        f"simulate: {hours:.2f} h of {session.rate_hz:.0f} Hz data ({len(session)} samples, "
        f"{session.truth.total_reps} reps) in {sim_s:.2f} s = {sim_s / hours:.2f} s per hour (target < 2 s); "
        f"packet encoding {figures['packets_s']:.2f} s"
    )
    print(f"wrote {write_results('simulate', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
