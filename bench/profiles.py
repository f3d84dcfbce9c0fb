"""The seed session through every sensor profile: the same sets, reps and depths (docs/sensors.md).

The simulated sensor on the left thigh runs the seed session (``builtin:runner-strength``, 642 s)
as a RepTrack, a Polar and a MetaWear sensor, over Bumble's virtual radio into the service at the
simulator's fastest speed (what ``reptrack run --sim builtin:runner-strength --sim-profile P
--speed 0`` does). For each profile: whether its sets (exercise, leg, reps) equal the ones the
simulator's own 100 Hz samples give without any radio (what a RepTrack sensor gives), the largest
difference of a rep's depth from the one the sensor's own samples give (Polar: 104 Hz) and from a
RepTrack sensor's, samples lost, and the CPU and wall time of the run. Exits 1 when a profile's
sets differ. Writes bench/results/profiles.json.

    python bench/profiles.py [--workout SPEC] [--profiles reptrack,polar,metawear]

The tests run the whole seed session on the RepTrack profile only, and a shorter workout on the
vendor profiles (tests/test_ble_profiles.py): the MetaWear's seed session alone takes about 55 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from firmware_sim.peripheral import NATIVE_RATE_HZ, PROFILES
from firmware_sim.session import simulate
from firmware_sim.source import simulated_source
from firmware_sim.workout import load_workout
from tracker.events import SetEvent
from tracker.pipeline import Pipeline
from tracker.service import run_sensor

Sets = list[tuple[str, str, list[float]]]


def sets_without_radio(spec: str, rate_hz: float) -> Sets:
    """(exercise, leg, rep depths) of each set from the simulator's own samples."""
    session = simulate(load_workout(spec), seed=1, rate_hz=rate_hz)
    pipeline = Pipeline(sensor_leg=session.leg)
    events = [e for chunk in session.samples().chunks(10) for e in pipeline.feed(chunk)] + pipeline.finish()
    return [(e.exercise, e.leg, [r.depth_deg for r in e.reps]) for e in events if isinstance(e, SetEvent)]


async def sets_over_the_radio(spec: str, profile: str) -> tuple[Sets, dict[str, float]]:
    source = simulated_source(spec, seed=1, sensor_id="bench", speed=0, profile=profile)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = await run_sensor(source, None, Pipeline(sensor_leg=source.sensor_leg))
    cost = {
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.perf_counter() - wall0,
        "session_s": source.duration_s,
        "packets": source.stats.packets,
        "lost_samples": source.stats.lost_samples,
        "corrupt": source.stats.corrupt,
    }
    return [(s.exercise, s.leg, [r.depth_deg for r in s.reps]) for s in result.sets], cost


def counts(sets: Sets) -> list[tuple[str, str, int]]:
    return [(exercise, leg, len(depths)) for exercise, leg, depths in sets]


def largest_depth_difference(a: Sets, b: Sets) -> float | None:
    """Largest |depth difference| of corresponding reps; None when the sets differ."""
    if counts(a) != counts(b):
        return None
    diffs = [
        abs(x - y) for (_, _, da), (_, _, db) in zip(a, b, strict=True) for x, y in zip(da, db, strict=True)
    ]
    return max(diffs, default=0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--workout", default="builtin:runner-strength", help="workout spec (builtin:NAME or a TOML)"
    )
    ap.add_argument("--profiles", default=",".join(PROFILES), help="comma-separated sensor profiles")
    args = ap.parse_args()
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    reference = sets_without_radio(args.workout, 100.0)
    print(f"{args.workout}: {len(reference)} sets without radio at 100 Hz: {counts(reference)}")
    rows: dict[str, dict[str, Any]] = {}
    reptrack: Sets | None = None
    for profile in profiles:
        got, cost = asyncio.run(sets_over_the_radio(args.workout, profile))
        own = sets_without_radio(args.workout, NATIVE_RATE_HZ[profile])
        if profile == "reptrack":
            reptrack = got
        rows[profile] = {
            "same_sets": counts(got) == counts(reference),
            "sets": counts(got),
            "reps": sum(len(d) for _, _, d in got),
            "depth_vs_own_samples_max_deg": largest_depth_difference(got, own),
            "depth_vs_reptrack_max_deg": None
            if reptrack is None
            else largest_depth_difference(got, reptrack),
            **cost,
        }
    print(
        f"{'profile':<9} {'sets':>5} {'reps':>5} {'same':>5} {'d own':>7} {'d rt':>7} "
        f"{'packets':>8} {'lost':>5} {'cpu':>7} {'wall':>7}"
    )
    for profile, r in rows.items():
        own_d, rt_d = r["depth_vs_own_samples_max_deg"], r["depth_vs_reptrack_max_deg"]
        print(
            f"{profile:<9} {len(r['sets']):>5} {r['reps']:>5} {'yes' if r['same_sets'] else 'NO':>5} "
            f"{'-' if own_d is None else f'{own_d:.2f}':>7} {'-' if rt_d is None else f'{rt_d:.2f}':>7} "
            f"{r['packets']:>8} {r['lost_samples']:>5} {r['cpu_s']:>6.1f}s {r['wall_s']:>6.1f}s"
        )
    print("d own: largest rep depth difference (deg) from the sensor's own samples without radio;")
    print("d rt: from the RepTrack sensor's (a Polar samples at 104 Hz, so its samples differ)")
    path = write_results(
        "profiles", {"workout": args.workout, "reference": counts(reference), "profiles": rows}
    )
    print(f"wrote {path}")
    return 0 if all(r["same_sets"] for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
